/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * memadvisectl session enable|disable|status: turns the session agent
 * memadvise-session(1) on or off for the calling user. Where a systemd
 * user manager runs, through its user unit; elsewhere through an XDG
 * autostart entry in ~/.config/autostart that overrides the installed
 * one, which is off (Hidden=true).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>

#include <glib/gstdio.h>

#include "memadvisectl.h"

#define UNIT "memadvise-session.service"
#define DESKTOP "memadvise-session.desktop"

static const char usage[] = "Usage: memadvisectl session enable|disable|status\n\n"
                            "Turn the session agent memadvise-session(1) on or off for this user.";

static char *
override_path (void)
{
  return g_build_filename (g_get_user_config_dir (), "autostart", DESKTOP, NULL);
}

/* A systemd user manager answers on $XDG_RUNTIME_DIR/systemd/private. */
static gboolean
have_systemd_user (void)
{
  const char *runtime = g_getenv ("XDG_RUNTIME_DIR");
  g_autofree char *socket = NULL;

  if (runtime == NULL)
    return FALSE;
  socket = g_build_filename (runtime, "systemd", "private", NULL);
  return g_file_test (socket, G_FILE_TEST_EXISTS);
}

static gboolean
systemctl (const char *const *args, GError **error)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  int status;

  g_ptr_array_add (argv, (char *) "systemctl");
  g_ptr_array_add (argv, (char *) "--user");
  for (gsize i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (char *) args[i]);
  g_ptr_array_add (argv, NULL);
  if (!g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL,
                     &status, error))
    return FALSE;
  return g_spawn_check_wait_status (status, error);
}

static gboolean
autostart_enabled (void)
{
  g_autofree char *path = override_path ();
  g_autoptr (GKeyFile) kf = g_key_file_new ();

  if (!g_key_file_load_from_file (kf, path, G_KEY_FILE_NONE, NULL))
    return FALSE;
  return !g_key_file_get_boolean (kf, G_KEY_FILE_DESKTOP_GROUP, G_KEY_FILE_DESKTOP_KEY_HIDDEN, NULL)
         && g_key_file_get_boolean (kf, G_KEY_FILE_DESKTOP_GROUP, "X-GNOME-Autostart-enabled",
                                    NULL);
}

static CtlExit
enable_autostart (GError **error)
{
  g_autofree char *path = override_path ();
  g_autofree char *dir = g_path_get_dirname (path);
  /* The installed entry with Hidden=true; systemd sessions start the user
   * unit instead (X-systemd-skip). */
  static const char entry[] = "[Desktop Entry]\n"
                              "Type=Application\n"
                              "Name=Memory reclaim of background apps\n"
                              "Comment=Give memory of apps in the background back to the system\n"
                              "Exec=memadvise-session\n"
                              "NoDisplay=true\n"
                              "Hidden=false\n"
                              "X-GNOME-Autostart-enabled=true\n"
                              "X-systemd-skip=true\n";

  if (g_mkdir_with_parents (dir, 0755) < 0)
    {
      g_set_error (error, CTL_ERROR, CTL_EXIT_FAILED, "Cannot create %s: %s", dir,
                   g_strerror (errno));
      return CTL_EXIT_FAILED;
    }
  if (!g_file_set_contents (path, entry, -1, error))
    return CTL_EXIT_FAILED;
  printf ("Enabled: %s\nThe agent starts with the next login; run memadvise-session to start "
          "it now.\n",
          path);
  return CTL_EXIT_OK;
}

static CtlExit
disable_autostart (GError **error)
{
  g_autofree char *path = override_path ();

  if (g_unlink (path) < 0 && errno != ENOENT)
    {
      g_set_error (error, CTL_ERROR, CTL_EXIT_FAILED, "Cannot remove %s: %s", path,
                   g_strerror (errno));
      return CTL_EXIT_FAILED;
    }
  printf ("Disabled: %s removed.\n", path);
  return CTL_EXIT_OK;
}

static gboolean
agent_running (void)
{
  g_autoptr (GDBusConnection) bus = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, NULL);
  g_autoptr (GVariant) reply = NULL;
  gboolean has_owner = FALSE;

  if (bus == NULL)
    return FALSE;
  reply = g_dbus_connection_call_sync (
      bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "NameHasOwner",
      g_variant_new ("(s)", MA_DBUS_SESSION_NAME), G_VARIANT_TYPE ("(b)"), G_DBUS_CALL_FLAGS_NONE,
      5000, NULL, NULL);
  if (reply != NULL)
    g_variant_get (reply, "(b)", &has_owner);
  return has_owner;
}

static CtlExit
status (void)
{
  g_autofree char *override = override_path ();
  g_autofree char *config
      = g_build_filename (g_get_user_config_dir (), "memadvise", "session.conf", NULL);

  if (have_systemd_user ())
    {
      const char *const args[] = { "is-enabled", "--quiet", UNIT, NULL };
      printf ("User unit:     %s %s\n", UNIT, systemctl (args, NULL) ? "enabled" : "disabled");
    }
  else
    printf ("User unit:     no systemd user manager\n");
  printf ("Autostart:     %s (%s)\n", autostart_enabled () ? "enabled" : "disabled", override);
  printf ("Running:       %s\n", agent_running () ? "yes" : "no");
  printf ("Configuration: %s%s\n", config,
          g_file_test (config, G_FILE_TEST_EXISTS) ? "" : " (absent: the defaults)");
  return CTL_EXIT_OK;
}

CtlExit
ctl_run_session (int argc, char **argv, GError **error)
{
  gboolean systemd = have_systemd_user ();

  if (argc == 2 && (g_str_equal (argv[1], "--help") || g_str_equal (argv[1], "-h")))
    {
      printf ("%s\n", usage);
      return CTL_EXIT_OK;
    }
  if (argc != 2)
    {
      g_set_error (error, CTL_ERROR, CTL_EXIT_USAGE, "%s", usage);
      return CTL_EXIT_USAGE;
    }

  if (g_str_equal (argv[1], "status"))
    return status ();
  if (g_str_equal (argv[1], "enable"))
    {
      if (systemd)
        {
          const char *const args[] = { "enable", "--now", UNIT, NULL };
          return systemctl (args, error) ? CTL_EXIT_OK : CTL_EXIT_FAILED;
        }
      return enable_autostart (error);
    }
  if (g_str_equal (argv[1], "disable"))
    {
      if (systemd)
        {
          const char *const args[] = { "disable", "--now", UNIT, NULL };
          if (!systemctl (args, error))
            return CTL_EXIT_FAILED;
        }
      return disable_autostart (error);
    }
  g_set_error (error, CTL_ERROR, CTL_EXIT_USAGE, "Unknown session command “%s”.\n%s", argv[1],
               usage);
  return CTL_EXIT_USAGE;
}
