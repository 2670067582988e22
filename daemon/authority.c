/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <polkit/polkit.h>

#include "authority.h"

void
ma_caller_credentials_free (MaCallerCredentials *credentials)
{
  if (credentials == NULL)
    return;
  g_clear_pointer (&credentials->groups, g_array_unref);
  g_free (credentials);
}

static void
credentials_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  g_autoptr (GVariant) reply = NULL;
  g_autoptr (GVariant) creds = NULL;
  g_autoptr (GVariant) groups = NULL;
  g_autoptr (MaCallerCredentials) caller = g_new0 (MaCallerCredentials, 1);
  GError *error = NULL;
  guint32 uid;

  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &error);
  if (reply == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  g_variant_get (reply, "(@a{sv})", &creds);
  if (!g_variant_lookup (creds, "UnixUserID", "u", &uid))
    {
      g_task_return_new_error (task, G_DBUS_ERROR, G_DBUS_ERROR_ACCESS_DENIED,
                               "The bus did not tell the caller's user id.");
      return;
    }
  caller->uid = uid;
  if (!g_variant_lookup (creds, "ProcessID", "u", &caller->pid))
    caller->pid = 0;
  caller->groups = g_array_new (FALSE, FALSE, sizeof (guint32));
  groups = g_variant_lookup_value (creds, "UnixGroupIDs", G_VARIANT_TYPE ("au"));
  if (groups != NULL)
    {
      gsize n;
      const guint32 *values = g_variant_get_fixed_array (groups, &n, sizeof (guint32));

      g_array_append_vals (caller->groups, values, (guint) n);
    }
  g_task_return_pointer (task, g_steal_pointer (&caller),
                         (GDestroyNotify) ma_caller_credentials_free);
}

void
ma_authority_get_caller_async (GDBusConnection *connection, const char *sender,
                               GCancellable *cancellable, GAsyncReadyCallback callback,
                               gpointer user_data)
{
  GTask *task = g_task_new (connection, cancellable, callback, user_data);

  g_dbus_connection_call (connection, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                          "org.freedesktop.DBus", "GetConnectionCredentials",
                          g_variant_new ("(s)", sender), G_VARIANT_TYPE ("(a{sv})"),
                          G_DBUS_CALL_FLAGS_NONE, -1, cancellable, credentials_cb, task);
}

MaCallerCredentials *
ma_authority_get_caller_finish (GAsyncResult *result, GError **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
name_pid_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  g_autoptr (GVariant) reply = NULL;
  guint32 pid = 0;

  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, NULL);
  if (reply != NULL)
    g_variant_get (reply, "(u)", &pid);
  g_task_return_int (task, pid);
}

void
ma_authority_get_name_pid_async (GDBusConnection *connection, const char *name,
                                 GCancellable *cancellable, GAsyncReadyCallback callback,
                                 gpointer user_data)
{
  GTask *task = g_task_new (connection, cancellable, callback, user_data);

  g_dbus_connection_call (connection, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                          "org.freedesktop.DBus", "GetConnectionUnixProcessID",
                          g_variant_new ("(s)", name), G_VARIANT_TYPE ("(u)"),
                          G_DBUS_CALL_FLAGS_NONE, -1, cancellable, name_pid_cb, task);
}

guint32
ma_authority_get_name_pid_finish (GAsyncResult *result)
{
  gssize pid = g_task_propagate_int (G_TASK (result), NULL);

  return pid > 0 ? (guint32) pid : 0;
}

typedef struct
{
  char *sender;
  char *action_id;
  PolkitCheckAuthorizationFlags flags;
  GCancellable *check_cancellable; /* cancelled by the timeout or the caller's */
  guint timeout_id;
  gulong cancelled_id;
  gboolean timed_out;
} CheckData;

static void
check_data_free (CheckData *data)
{
  g_clear_handle_id (&data->timeout_id, g_source_remove);
  g_free (data->sender);
  g_free (data->action_id);
  g_clear_object (&data->check_cancellable);
  g_free (data);
}

static void
check_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  CheckData *data = g_task_get_task_data (task);
  g_autoptr (PolkitAuthorizationResult) auth = NULL;
  g_autoptr (GError) error = NULL;

  g_clear_handle_id (&data->timeout_id, g_source_remove);
  g_cancellable_disconnect (g_task_get_cancellable (task), data->cancelled_id);
  data->cancelled_id = 0;

  auth = polkit_authority_check_authorization_finish (POLKIT_AUTHORITY (source), result, &error);
  if (auth == NULL)
    {
      if (data->timed_out)
        g_task_return_new_error (task, G_DBUS_ERROR, G_DBUS_ERROR_ACCESS_DENIED,
                                 "The authority did not answer in time for %s.", data->action_id);
      else
        g_task_return_new_error (task, G_DBUS_ERROR, G_DBUS_ERROR_ACCESS_DENIED,
                                 "The authority could not check %s: %s", data->action_id,
                                 error->message);
      return;
    }
  if (!polkit_authorization_result_get_is_authorized (auth))
    {
      g_task_return_new_error (task, G_DBUS_ERROR, G_DBUS_ERROR_ACCESS_DENIED,
                               "Not authorized for %s.", data->action_id);
      return;
    }
  g_task_return_boolean (task, TRUE);
}

static gboolean
check_timeout_cb (gpointer user_data)
{
  CheckData *data = user_data;

  data->timeout_id = 0;
  data->timed_out = TRUE;
  g_cancellable_cancel (data->check_cancellable);
  return G_SOURCE_REMOVE;
}

static void
outer_cancelled_cb (GCancellable *cancellable, gpointer user_data)
{
  g_cancellable_cancel (G_CANCELLABLE (user_data));
}

static void
authority_ready_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  CheckData *data = g_task_get_task_data (task);
  g_autoptr (PolkitAuthority) authority = NULL;
  g_autoptr (PolkitSubject) subject = NULL;
  g_autoptr (GError) error = NULL;

  authority = polkit_authority_get_finish (result, &error);
  if (authority == NULL)
    {
      g_task_return_new_error (task, G_DBUS_ERROR, G_DBUS_ERROR_ACCESS_DENIED,
                               "The authority is not available: %s", error->message);
      return;
    }

  subject = polkit_system_bus_name_new (data->sender);
  polkit_authority_check_authorization (authority, subject, data->action_id, NULL, data->flags,
                                        data->check_cancellable, check_done_cb,
                                        g_steal_pointer (&task));
}

void
ma_authority_check_async (const char *sender, const char *action_id, gboolean interactive,
                          guint timeout_sec, GCancellable *cancellable,
                          GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = g_task_new (NULL, cancellable, callback, user_data);
  CheckData *data = g_new0 (CheckData, 1);

  data->sender = g_strdup (sender);
  data->action_id = g_strdup (action_id);
  data->flags = interactive ? POLKIT_CHECK_AUTHORIZATION_FLAGS_ALLOW_USER_INTERACTION
                            : POLKIT_CHECK_AUTHORIZATION_FLAGS_NONE;
  data->check_cancellable = g_cancellable_new ();
  g_task_set_task_data (task, data, (GDestroyNotify) check_data_free);

  /* A hung authority must not hold the call forever: the timeout cancels
   * the check, and a cancelled check is a denial. */
  data->timeout_id = g_timeout_add_seconds (timeout_sec, check_timeout_cb, data);
  if (cancellable != NULL)
    data->cancelled_id
        = g_cancellable_connect (cancellable, G_CALLBACK (outer_cancelled_cb),
                                 g_object_ref (data->check_cancellable), g_object_unref);

  polkit_authority_get_async (NULL, authority_ready_cb, task);
}

gboolean
ma_authority_check_finish (GAsyncResult *result, GError **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}
