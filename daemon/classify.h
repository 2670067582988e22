/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The daemon's rules about a target: whose it is, and whether it may be
 * touched at all. The facts come from the engine (ma_target_open() read
 * them through the pidfd-checked /proc/PID); the rules are pure.
 */
#pragma once

#include <glib.h>
#include <sys/types.h>

#include "ma-engine.h"

G_BEGIN_DECLS

/* What, besides pid 1, kernel threads and the daemon itself (which the
 * engine refuses), is never a target. */
typedef struct
{
  guint32 bus_pid;            /* the bus daemon */
  guint32 polkit_pid;         /* polkitd, when it runs */
  const char *const *names;   /* comm values, from the configuration */
  const char *const *cgroups; /* cgroup v2 paths (and everything below them) */
} MaProtection;

/* What the rules look at. */
typedef struct
{
  guint32 pid;
  const char *comm;
  uid_t uids[4]; /* real, effective, saved, filesystem */
  gid_t gids[4];
  uid_t proc_owner;
  guint64 cap_eff;
  guint64 cap_prm;
  const char *cgroup; /* its cgroup v2 path; NULL when unknown */
  /* Its user namespace is below the daemon's, and the level just below
   * the daemon's was created by the caller (visibility.h). */
  gboolean userns_nested;
  gboolean userns_caller_owned;
} MaTargetFacts;

/* A target is the caller's own only if all four of its uids are the
 * caller's, /proc/PID is owned by the caller (it is dumpable) and it holds
 * no capabilities; anything else is another user's. */
gboolean ma_classify_own_facts (const MaTargetFacts *facts, uid_t caller_uid);

/* TRUE (with a sentence in @out_message) when the target is protected:
 * the bus daemon, polkitd, a configured name (comm, compared on its 15
 * bytes) or a process in or below a configured cgroup. */
gboolean ma_classify_protected_facts (const MaTargetFacts *facts, const MaProtection *protection,
                                      char **out_message);

/* TRUE when the cgroup path @cgroup is @top or below it; either may
 * start with "/", and "/" (or "") is the root, which holds every cgroup. */
gboolean ma_classify_cgroup_is_below (const char *cgroup, const char *top);

/* The facts of an open target, without cgroup and user namespace. */
void ma_classify_facts_of (MaTarget *target, MaTargetFacts *facts);

/* The same rules for an open target. Its cgroup is read only when
 * protected cgroups are configured. */
gboolean ma_classify_own (MaTarget *target, uid_t caller_uid);
gboolean ma_classify_protected (MaTarget *target, const MaProtection *protection,
                                char **out_message);

G_END_DECLS
