/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>
#include <sys/types.h>

G_BEGIN_DECLS

/* Capabilities of the daemon's own threads, and the per-thread credential
 * switch used for own-process work (see memadvised(8), "Own processes"). */

gboolean ma_credentials_has_cap (int cap);

/* Logs which capabilities are missing and what that costs. Returns FALSE
 * when the daemon cannot work at all (no CAP_SYS_NICE). Sets
 * @out_can_switch when the calling thread can take a caller's fsuid. */
gboolean ma_credentials_check_startup (gboolean *out_can_switch);

typedef struct
{
  gboolean active;
  gboolean was_active; /* stays TRUE after restore: the step ran switched */
  uid_t old_fsuid;
  gid_t old_fsgid;
  guint32 old_effective[2];
} MaCredentialsSwitch;

/* On the calling thread only: sets fsuid/fsgid to the caller's and keeps
 * only CAP_SYS_NICE in the effective set, so that the kernel's own ptrace
 * access checks (PTRACE_MODE_READ_FSCREDS in /proc/PID/smaps, pagemap and
 * process_madvise) decide whether the caller may touch the target.
 * @keep_ptrace keeps CAP_SYS_PTRACE too, for a target in a user namespace
 * the caller created: the kernel would let the caller itself, but checks
 * the owner of the namespace against the euid, which the switch leaves
 * the daemon's. */
gboolean ma_credentials_switch_to (uid_t uid, gid_t gid, gboolean keep_ptrace,
                                   MaCredentialsSwitch *sw, GError **error);
/* Restores the thread (it goes back to a shared pool); aborts if it cannot. */
void ma_credentials_restore (MaCredentialsSwitch *sw);

G_END_DECLS
