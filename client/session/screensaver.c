/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Screen lock: ActiveChanged(true) of org.freedesktop.ScreenSaver or
 * org.gnome.ScreenSaver on the session bus reclaims every background app.
 *
 * Only the current owner of the name is listened to: each name is watched,
 * and while it has an owner, its signals are subscribed to with the
 * owner's unique name as the sender. A subscription without a sender, or
 * with the well-known name on a GLib that does not check unicast signals
 * against it, would take the same signal from any peer on the bus.
 */
#include "config.h"

#include "session.h"

typedef struct
{
  SessAgent *agent;
  const char *name; /* also the interface of its ActiveChanged */
  guint watch;
  guint subscription; /* 0 while the name has no owner */
} Watched;

static void
on_active_changed (GDBusConnection *connection, const char *sender, const char *path,
                   const char *interface, const char *signal, GVariant *parameters,
                   gpointer user_data)
{
  Watched *watched = user_data;
  gboolean active;

  if (!g_variant_is_of_type (parameters, G_VARIANT_TYPE ("(b)")))
    return;
  g_variant_get (parameters, "(b)", &active);
  g_debug ("%s.ActiveChanged(%s) from %s", interface, active ? "true" : "false", sender);
  if (active)
    sess_reclaim_all (watched->agent, SESS_TRIGGER_SCREEN_LOCK);
}

static void
unsubscribe (Watched *watched)
{
  if (watched->subscription == 0)
    return;
  g_dbus_connection_signal_unsubscribe (watched->agent->session_bus, watched->subscription);
  watched->subscription = 0;
}

static void
on_name_appeared (GDBusConnection *connection, const char *name, const char *owner,
                  gpointer user_data)
{
  Watched *watched = user_data;

  unsubscribe (watched);
  watched->subscription = g_dbus_connection_signal_subscribe (
      connection, owner, watched->name, "ActiveChanged", NULL, NULL, G_DBUS_SIGNAL_FLAGS_NONE,
      on_active_changed, watched, NULL);
  g_debug ("%s is %s: following its ActiveChanged", name, owner);
}

static void
on_name_vanished (GDBusConnection *connection, const char *name, gpointer user_data)
{
  unsubscribe (user_data);
}

void
sess_screensaver_init (SessAgent *agent)
{
  static const char *const names[] = { "org.freedesktop.ScreenSaver", "org.gnome.ScreenSaver" };

  if (agent->session_bus == NULL || !agent->config->screen_lock)
    return;
  agent->screensavers = g_ptr_array_new_with_free_func (g_free);
  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    {
      Watched *watched = g_new0 (Watched, 1);

      watched->agent = agent;
      watched->name = names[i];
      watched->watch = g_bus_watch_name_on_connection (
          agent->session_bus, names[i], G_BUS_NAME_WATCHER_FLAGS_NONE, on_name_appeared,
          on_name_vanished, watched, NULL);
      g_ptr_array_add (agent->screensavers, watched);
    }
}

void
sess_screensaver_shutdown (SessAgent *agent)
{
  for (guint i = 0; agent->screensavers != NULL && i < agent->screensavers->len; i++)
    {
      Watched *watched = g_ptr_array_index (agent->screensavers, i);

      g_bus_unwatch_name (watched->watch);
      unsubscribe (watched);
    }
  g_clear_pointer (&agent->screensavers, g_ptr_array_unref);
}
