/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Screen lock: ActiveChanged(true) of org.freedesktop.ScreenSaver or
 * org.gnome.ScreenSaver on the session bus reclaims every background app.
 *
 * Only the current owner of each name is listened to (owner-signal.c).
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
  g_debug ("%s.ActiveChanged(%s) from %s", interface, active ? "true" : "false", sender);
  if (active)
    sess_reclaim_all (agent, SESS_TRIGGER_SCREEN_LOCK);
}

void
sess_screensaver_init (SessAgent *agent)
{
  static const char *const names[] = { "org.freedesktop.ScreenSaver", "org.gnome.ScreenSaver" };

  if (agent->session_bus == NULL || !agent->config->screen_lock)
    return;
  agent->screensavers = g_ptr_array_new_with_free_func ((GDestroyNotify) sess_owner_signal_free);
  /* Each name is also the interface of its ActiveChanged. */
  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    g_ptr_array_add (agent->screensavers,
                     sess_owner_signal_new (agent->session_bus, names[i], NULL, names[i],
                                            "ActiveChanged", on_active_changed, NULL, agent));
}

void
sess_screensaver_shutdown (SessAgent *agent)
{
  g_clear_pointer (&agent->screensavers, g_ptr_array_unref);
}
