/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * A signal followed from the current owner of a well-known name only: the
 * name is watched and, while it has an owner, the signal is subscribed to
 * with the owner's unique name as the sender. A subscription without a
 * sender, or with the well-known name on a GLib that does not check
 * unicast signals against it, would take the same signal from any peer on
 * the bus. The screen lock (screensaver.c) and low-memory-monitor
 * (pressure.c) are followed so.
 */
#include "config.h"

#include "session.h"

struct _SessOwnerSignal
{
  GDBusConnection *bus;
  char *name;
  char *path;
  char *interface;
  char *signal;
  GDBusSignalCallback callback;
  SessOwnerChanged owner_changed;
  gpointer user_data;
  guint watch;
  guint subscription; /* 0 while the name has no owner */
};

static void
unsubscribe (SessOwnerSignal *follow)
{
  if (follow->subscription == 0)
    return;
  g_dbus_connection_signal_unsubscribe (follow->bus, follow->subscription);
  follow->subscription = 0;
}

static void
on_name_appeared (GDBusConnection *connection, const char *name, const char *owner,
                  gpointer user_data)
{
  SessOwnerSignal *follow = user_data;

  unsubscribe (follow);
  follow->subscription = g_dbus_connection_signal_subscribe (
      connection, owner, follow->interface, follow->signal, follow->path, NULL,
      G_DBUS_SIGNAL_FLAGS_NONE, follow->callback, follow->user_data, NULL);
  g_debug ("%s is %s: following its signals", name, owner);
  if (follow->owner_changed != NULL)
    follow->owner_changed (follow->user_data, TRUE);
}

static void
on_name_vanished (GDBusConnection *connection, const char *name, gpointer user_data)
{
  SessOwnerSignal *follow = user_data;

  unsubscribe (follow);
  if (follow->owner_changed != NULL)
    follow->owner_changed (follow->user_data, FALSE);
}

SessOwnerSignal *
sess_owner_signal_new (GDBusConnection *bus, const char *name, const char *path,
                       const char *interface, const char *signal, GDBusSignalCallback callback,
                       SessOwnerChanged owner_changed, gpointer user_data)
{
  SessOwnerSignal *follow = g_new0 (SessOwnerSignal, 1);

  follow->bus = g_object_ref (bus);
  follow->name = g_strdup (name);
  follow->path = g_strdup (path);
  follow->interface = g_strdup (interface);
  follow->signal = g_strdup (signal);
  follow->callback = callback;
  follow->owner_changed = owner_changed;
  follow->user_data = user_data;
  follow->watch = g_bus_watch_name_on_connection (bus, name, G_BUS_NAME_WATCHER_FLAGS_NONE,
                                                  on_name_appeared, on_name_vanished, follow, NULL);
  return follow;
}

void
sess_owner_signal_free (SessOwnerSignal *follow)
{
  if (follow == NULL)
    return;
  g_bus_unwatch_name (follow->watch);
  unsubscribe (follow);
  g_object_unref (follow->bus);
  g_free (follow->name);
  g_free (follow->path);
  g_free (follow->interface);
  g_free (follow->signal);
  g_free (follow);
}
