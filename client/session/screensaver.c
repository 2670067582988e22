/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Screen lock: ActiveChanged(true) of org.freedesktop.ScreenSaver or
 * org.gnome.ScreenSaver on the session bus reclaims every background app.
 */
#include "config.h"

#include "session.h"

static void
on_active_changed (GDBusConnection *connection, const char *sender, const char *path,
                   const char *interface, const char *signal, GVariant *parameters,
                   gpointer user_data)
{
  SessAgent *agent = user_data;
  gboolean active;

  if (!g_variant_is_of_type (parameters, G_VARIANT_TYPE ("(b)")))
    return;
  g_variant_get (parameters, "(b)", &active);
  g_debug ("%s.ActiveChanged(%s)", interface, active ? "true" : "false");
  if (active)
    sess_reclaim_all (agent, SESS_TRIGGER_SCREEN_LOCK);
}

void
sess_screensaver_init (SessAgent *agent)
{
  static const char *const interfaces[]
      = { "org.freedesktop.ScreenSaver", "org.gnome.ScreenSaver" };

  if (agent->session_bus == NULL || !agent->config->screen_lock)
    return;
  agent->subscriptions = g_array_new (FALSE, FALSE, sizeof (guint));
  for (gsize i = 0; i < G_N_ELEMENTS (interfaces); i++)
    {
      guint id = g_dbus_connection_signal_subscribe (
          agent->session_bus, NULL, interfaces[i], "ActiveChanged", NULL, NULL,
          G_DBUS_SIGNAL_FLAGS_NONE, on_active_changed, agent, NULL);
      g_array_append_val (agent->subscriptions, id);
    }
}

void
sess_screensaver_shutdown (SessAgent *agent)
{
  for (guint i = 0; agent->subscriptions != NULL && i < agent->subscriptions->len; i++)
    g_dbus_connection_signal_unsubscribe (agent->session_bus,
                                          g_array_index (agent->subscriptions, guint, i));
  g_clear_pointer (&agent->subscriptions, g_array_unref);
}
