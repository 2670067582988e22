/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * org.memadvise.Session1 on the session bus (dbus/org.memadvise.Session1.xml):
 * focus changes told by a window manager that sets no cgroup attribute,
 * such as KWin through the script in data/kde/.
 */
#include "config.h"

#include <string.h>

#include "session.h"
#include "ma-dbus-generated.h"

/* Every running unit of @app_id; a trailing ".desktop" is ignored. */
static GPtrArray *
units_of (SessAgent *agent, const char *app_id)
{
  g_autofree char *id = g_strdup (app_id);
  GPtrArray *found = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer value;

  if (g_str_has_suffix (id, ".desktop"))
    id[strlen (id) - strlen (".desktop")] = '\0';
  g_hash_table_iter_init (&iter, agent->apps);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (g_str_equal (((SessApp *) value)->app_id, id))
      g_ptr_array_add (found, value);
  return found;
}

static gboolean
check_id (GDBusMethodInvocation *invocation, const char *app_id)
{
  if (*app_id != '\0')
    return TRUE;
  g_dbus_method_invocation_return_error_literal (invocation, G_DBUS_ERROR,
                                                 G_DBUS_ERROR_INVALID_ARGS, "Empty app id");
  return FALSE;
}

static gboolean
handle_backgrounded (MaDBusSession1 *object, GDBusMethodInvocation *invocation, const char *app_id,
                     gpointer user_data)
{
  SessAgent *agent = user_data;
  g_autoptr (GPtrArray) units = NULL;
  gint64 now = g_get_monotonic_time ();

  if (!check_id (invocation, app_id))
    return G_DBUS_METHOD_INVOCATION_HANDLED;
  units = units_of (agent, app_id);
  g_debug ("AppBackgrounded(%s): %u units", app_id, units->len);
  for (guint i = 0; i < units->len; i++)
    {
      SessApp *app = units->pdata[i];
      /* Already in the background: keep the moment it went there. */
      if (app->focused || app->background_since < 0)
        sess_reclaim_to_background (agent, app, now);
    }
  ma_dbus_session1_complete_app_backgrounded (object, invocation);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
handle_foregrounded (MaDBusSession1 *object, GDBusMethodInvocation *invocation, const char *app_id,
                     gpointer user_data)
{
  SessAgent *agent = user_data;
  g_autoptr (GPtrArray) units = NULL;

  if (!check_id (invocation, app_id))
    return G_DBUS_METHOD_INVOCATION_HANDLED;
  units = units_of (agent, app_id);
  g_debug ("AppForegrounded(%s): %u units", app_id, units->len);
  for (guint i = 0; i < units->len; i++)
    sess_reclaim_to_front (agent, units->pdata[i]);
  ma_dbus_session1_complete_app_foregrounded (object, invocation);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static void
on_name_lost (GDBusConnection *connection, const char *name, gpointer user_data)
{
  SessAgent *agent = user_data;

  g_printerr ("Another memadvise-session owns %s on the session bus; exiting.\n", name);
  g_main_loop_quit (agent->loop);
}

void
sess_kde_init (SessAgent *agent)
{
  g_autoptr (GError) error = NULL;
  MaDBusSession1 *skeleton;

  if (agent->session_bus == NULL)
    return;
  skeleton = ma_dbus_session1_skeleton_new ();
  g_signal_connect (skeleton, "handle-app-backgrounded", G_CALLBACK (handle_backgrounded), agent);
  g_signal_connect (skeleton, "handle-app-foregrounded", G_CALLBACK (handle_foregrounded), agent);
  if (!g_dbus_interface_skeleton_export (G_DBUS_INTERFACE_SKELETON (skeleton), agent->session_bus,
                                         MA_DBUS_SESSION_OBJECT_PATH, &error))
    {
      g_warning ("Cannot export %s: %s", MA_DBUS_SESSION_OBJECT_PATH, error->message);
      g_object_unref (skeleton);
      return;
    }
  agent->session_skeleton = skeleton;
  agent->session_name
      = g_bus_own_name_on_connection (agent->session_bus, MA_DBUS_SESSION_NAME,
                                      G_BUS_NAME_OWNER_FLAGS_NONE, NULL, on_name_lost, agent, NULL);
}

void
sess_kde_shutdown (SessAgent *agent)
{
  g_clear_handle_id (&agent->session_name, g_bus_unown_name);
  if (agent->session_skeleton != NULL)
    {
      g_dbus_interface_skeleton_unexport (agent->session_skeleton);
      g_clear_object (&agent->session_skeleton);
    }
}
