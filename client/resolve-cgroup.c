/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * --unit and --app: the cgroup paths PlanCgroup and ReclaimCgroup take,
 * relative to the cgroup2 root memadvised resolves them in (memadvised(8)).
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "memadvisectl.h"

#define SYSTEMD_NAME "org.freedesktop.systemd1"
#define SYSTEMD_PATH "/org/freedesktop/systemd1"

static gboolean
systemd_unreachable (const GError *error)
{
  return g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN)
         || g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_NAME_HAS_NO_OWNER)
         || g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_SPAWN_SERVICE_NOT_FOUND);
}

/* The D-Bus interface holding ControlGroup for a unit of this type. */
static const char *
unit_interface (const char *unit)
{
  static const char *const types[][2] = {
    { ".service", "org.freedesktop.systemd1.Service" },
    { ".scope", "org.freedesktop.systemd1.Scope" },
    { ".slice", "org.freedesktop.systemd1.Slice" },
    { ".socket", "org.freedesktop.systemd1.Socket" },
    { ".mount", "org.freedesktop.systemd1.Mount" },
    { ".swap", "org.freedesktop.systemd1.Swap" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (types); i++)
    if (g_str_has_suffix (unit, types[i][0]))
      return types[i][1];
  return NULL;
}

/* The unit --unit names (a service when untyped), and where its ControlGroup is read. */
static char *
unit_from_argument (const char *name, const char **interface, GError **error)
{
  g_autofree char *unit = NULL;

  if (*name == '\0' || strchr (name, '/') != NULL)
    {
      g_set_error (error, CTL_ERROR, CTL_EXIT_USAGE, "--unit takes a unit name, not “%s”.", name);
      return NULL;
    }
  /* As systemctl: a name without a type is a service. */
  unit = strchr (name, '.') != NULL ? g_strdup (name) : g_strconcat (name, ".service", NULL);
  *interface = unit_interface (unit);
  if (*interface == NULL)
    {
      g_set_error (error, CTL_ERROR, CTL_EXIT_USAGE,
                   "--unit takes a service, scope, slice, socket, mount or swap unit, not “%s”.",
                   unit);
      return NULL;
    }
  return g_steal_pointer (&unit);
}

/* The bus of the manager to ask: the system's, or with --user the session's. */
static GDBusConnection *
systemd_bus (gboolean user, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  GDBusConnection *bus;

  /* sd_booted(3): the system manager runs when this directory exists. */
  if (!user && !g_file_test ("/run/systemd/system", G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, CTL_ERROR, CTL_EXIT_UNAVAILABLE,
                   "This system does not run systemd, so --unit cannot be resolved; use "
                   "--cgroup PATH instead.");
      return NULL;
    }
  bus = g_bus_get_sync (user ? G_BUS_TYPE_SESSION : G_BUS_TYPE_SYSTEM, NULL, &local_error);
  if (bus == NULL)
    g_set_error (error, CTL_ERROR, CTL_EXIT_UNAVAILABLE,
                 "Cannot reach %s to resolve --unit: there is no %s bus.",
                 user ? "your systemd user manager" : "systemd", user ? "session" : "system");
  return bus;
}

/* The object path of a loaded @unit, from the manager's GetUnit. */
static char *
unit_object (GDBusConnection *bus, const char *unit, gboolean user, GError **error)
{
  g_autoptr (GVariant) reply = NULL;
  g_autoptr (GError) local_error = NULL;
  g_autofree char *remote = NULL;
  char *object;

  reply = g_dbus_connection_call_sync (bus, SYSTEMD_NAME, SYSTEMD_PATH,
                                       "org.freedesktop.systemd1.Manager", "GetUnit",
                                       g_variant_new ("(s)", unit), G_VARIANT_TYPE ("(o)"),
                                       G_DBUS_CALL_FLAGS_NONE, 10000, NULL, &local_error);
  if (reply != NULL)
    {
      g_variant_get (reply, "(o)", &object);
      return object;
    }
  remote = g_dbus_error_get_remote_error (local_error);
  if (systemd_unreachable (local_error))
    g_set_error (error, CTL_ERROR, CTL_EXIT_UNAVAILABLE,
                 "%s, so --unit cannot be resolved; use --cgroup PATH instead.",
                 user ? "No systemd user manager runs for this session"
                      : "This system does not run systemd");
  else if (g_strcmp0 (remote, "org.freedesktop.systemd1.NoSuchUnit") == 0)
    g_set_error (error, CTL_ERROR, CTL_EXIT_FAILED, "%s has no loaded unit “%s”.",
                 user ? "Your systemd user manager" : "systemd", unit);
  else
    {
      g_dbus_error_strip_remote_error (local_error);
      g_set_error (error, CTL_ERROR, CTL_EXIT_FAILED, "Cannot resolve unit “%s”: %s.", unit,
                   local_error->message);
    }
  return NULL;
}

/* The unit's cgroup path, its ControlGroup property: empty unless it runs. */
static char *
unit_control_group (GDBusConnection *bus, const char *object, const char *interface,
                    const char *unit, GError **error)
{
  g_autoptr (GVariant) reply = NULL;
  g_autoptr (GVariant) value = NULL;
  g_autoptr (GError) local_error = NULL;
  const char *path;

  reply = g_dbus_connection_call_sync (bus, SYSTEMD_NAME, object, "org.freedesktop.DBus.Properties",
                                       "Get", g_variant_new ("(ss)", interface, "ControlGroup"),
                                       G_VARIANT_TYPE ("(v)"), G_DBUS_CALL_FLAGS_NONE, 10000, NULL,
                                       &local_error);
  if (reply == NULL)
    {
      g_dbus_error_strip_remote_error (local_error);
      g_set_error (error, CTL_ERROR, CTL_EXIT_FAILED,
                   "Cannot read the control group of unit “%s”: %s.", unit, local_error->message);
      return NULL;
    }
  g_variant_get (reply, "(v)", &value);
  path = g_variant_is_of_type (value, G_VARIANT_TYPE_STRING) ? g_variant_get_string (value, NULL)
                                                             : "";
  if (*path == '\0')
    {
      g_set_error (error, CTL_ERROR, CTL_EXIT_FAILED,
                   "Unit “%s” has no control group: it is not running.", unit);
      return NULL;
    }
  return g_strdup (path);
}

char *
ctl_resolve_unit (const char *name, gboolean user, GError **error)
{
  g_autoptr (GDBusConnection) bus = NULL;
  g_autofree char *unit = NULL;
  g_autofree char *object = NULL;
  const char *interface;

  unit = unit_from_argument (name, &interface, error);
  if (unit == NULL)
    return NULL;
  bus = systemd_bus (user, error);
  if (bus == NULL)
    return NULL;
  object = unit_object (bus, unit, user, error);
  if (object == NULL)
    return NULL;
  return unit_control_group (bus, object, interface, unit, error);
}

/* Appends to @paths the units of @app_id in the slice @rel and the
 * slices below it. */
static void
scan_slice (const char *root, const char *rel, const char *app_id, GPtrArray *paths, guint depth)
{
  g_autofree char *dir_path = g_build_filename (root, rel, NULL);
  g_autoptr (GDir) dir = g_dir_open (dir_path, 0, NULL);
  const char *entry;

  if (dir == NULL)
    return;
  while ((entry = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (rel, entry, NULL);
      g_autofree char *full = g_build_filename (root, child, NULL);
      g_autofree char *entry_app_id = NULL;

      if (!g_file_test (full, G_FILE_TEST_IS_DIR) || g_file_test (full, G_FILE_TEST_IS_SYMLINK))
        continue;
      entry_app_id = ma_client_app_id_from_unit (entry);
      if (g_strcmp0 (entry_app_id, app_id) == 0)
        g_ptr_array_add (paths, g_steal_pointer (&child));
      else if (g_str_has_suffix (entry, ".slice") && depth < 8)
        scan_slice (root, child, app_id, paths, depth + 1);
    }
}

static int
compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

GPtrArray *
ctl_resolve_app (const char *app_id, GError **error)
{
  g_autoptr (GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GError) local_error = NULL;
  g_autofree char *own = NULL;
  g_autofree char *manager = NULL;
  g_autofree char *app_slice = NULL;
  const char *root;

  if (*app_id == '\0' || strchr (app_id, '/') != NULL)
    {
      g_set_error (error, CTL_ERROR, CTL_EXIT_USAGE,
                   "--app takes an application id such as org.gnome.Epiphany, not “%s”.", app_id);
      return NULL;
    }
  root = ma_client_cgroup2_root (&local_error);
  if (root == NULL)
    {
      g_set_error (error, CTL_ERROR, CTL_EXIT_FAILED, "Cannot look for app “%s”: %s.", app_id,
                   local_error->message);
      return NULL;
    }
  own = ma_client_own_cgroup ();
  manager = ma_client_user_manager_cgroup (own);
  app_slice = g_build_filename (manager, "app.slice", NULL);
  scan_slice (root, app_slice, app_id, paths, 0);
  if (paths->len == 0)
    {
      g_set_error (error, CTL_ERROR, CTL_EXIT_FAILED,
                   "No running app “%s” was found under your user manager (%s).", app_id,
                   app_slice);
      return NULL;
    }
  g_ptr_array_sort (paths, compare_strings);
  return g_steal_pointer (&paths);
}
