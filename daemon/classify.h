/* SPDX-License-Identifier: GPL-2.0-or-later */
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

/* TRUE (with a sentence in @out_message) when @target is protected. */
gboolean ma_target_is_protected (MaTarget *target, const MaProtection *protection,
                                 char **out_message);

/* A target is the caller's own only if all four of its uids are the
 * caller's, /proc/PID is owned by the caller (it is dumpable) and it holds
 * no capabilities; anything else is another user's. */
gboolean ma_target_is_own (MaTarget *target, uid_t caller_uid);

G_END_DECLS
