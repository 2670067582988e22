/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * What a caller's /proc shows of a process, which is all the daemon tells
 * the caller of it without authorization (memadvised(8), THREAT MODEL).
 * The rules of the kernel's proc file system (hidepid=, gid=, the ptrace
 * access check), applied to facts: pure, so any case can be tried
 * without root.
 */
#pragma once

#include <glib.h>
#include <sys/types.h>

#include "classify.h"

G_BEGIN_DECLS

typedef enum
{
  MA_SEEN_NOTHING,  /* its /proc/PID is hidden: as if there were no such process */
  MA_SEEN_EXISTS,   /* /proc/PID is there, what is in it is not readable */
  MA_SEEN_READABLE, /* its status and comm are readable: uid and name */
} MaSeen;

/* The caller, as far as what its /proc shows goes. */
typedef struct
{
  uid_t uid;
  /* Of its process: the filesystem ids and effective capabilities the
   * kernel checks it with, and whether it is in the daemon's user
   * namespace (a caller in another one may ptrace nothing of this one). */
  uid_t fsuid;
  gid_t fsgid;
  guint64 cap_eff;
  gboolean in_daemon_userns;
  const guint32 *groups; /* the groups the bus says it has */
  guint n_groups;
  /* Its own /proc and the daemon's: it is told only what both show, so
   * that a proc file system it mounted for a pid namespace of its own
   * cannot widen what it sees of the daemon's. */
  MaProcMount mounts[2];
  guint n_mounts;
} MaCallerView;

/* The view of a caller that could not be read: it sees its own processes
 * only (as with hidepid=invisible). */
void ma_visibility_fallback (MaCallerView *view, uid_t uid, gid_t gid);

/* Whether the kernel lets the caller ptrace the process for reading
 * (PTRACE_MODE_READ_FSCREDS): its ids and dumpable, or in a user
 * namespace the caller created, or the caller holds CAP_SYS_PTRACE. */
gboolean ma_visibility_ptraceable (const MaTargetFacts *facts, const MaCallerView *caller);

/* What the caller's /proc shows of the process. Root sees everything. */
MaSeen ma_visibility_seen (const MaTargetFacts *facts, const MaCallerView *caller);

G_END_DECLS
