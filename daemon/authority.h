/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <gio/gio.h>
#include <sys/types.h>

G_BEGIN_DECLS

#define MA_ACTION_RECLAIM_OWN "org.memadvise.reclaim-own"
#define MA_ACTION_RECLAIM_OTHER "org.memadvise.reclaim-other"
#define MA_ACTION_INSPECT_OTHER "org.memadvise.inspect-other"

/* Who the caller is, as the bus daemon says (GetConnectionCredentials):
 * its uid, the process that connected and its groups, all as they were
 * when it connected. */
typedef struct
{
  uid_t uid;
  guint32 pid;    /* 0 when the bus did not say */
  GArray *groups; /* guint32; empty when the bus did not say */
} MaCallerCredentials;

void ma_caller_credentials_free (MaCallerCredentials *credentials);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MaCallerCredentials, ma_caller_credentials_free)

/* A connection without a UnixUserID is an error: no identity, no work. */
void ma_authority_get_caller_async (GDBusConnection *connection, const char *sender,
                                    GCancellable *cancellable, GAsyncReadyCallback callback,
                                    gpointer user_data);
MaCallerCredentials *ma_authority_get_caller_finish (GAsyncResult *result, GError **error);

/* The pid of the owner of @name on the bus, 0 when it has none. */
void ma_authority_get_name_pid_async (GDBusConnection *connection, const char *name,
                                      GCancellable *cancellable, GAsyncReadyCallback callback,
                                      gpointer user_data);
guint32 ma_authority_get_name_pid_finish (GAsyncResult *result);

/* polkit CheckAuthorization for the system-bus-name subject @sender.
 * Resolves TRUE only when polkit says authorized; FALSE with @error for
 * a denial, a polkit error or @timeout_sec passing (all are denials). */
void ma_authority_check_async (const char *sender, const char *action_id, gboolean interactive,
                               guint timeout_sec, GCancellable *cancellable,
                               GAsyncReadyCallback callback, gpointer user_data);
gboolean ma_authority_check_finish (GAsyncResult *result, GError **error);

G_END_DECLS
