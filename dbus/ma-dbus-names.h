/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The names both sides of the bus use, written once. The interfaces
 * themselves are the XML files beside this header (the single source of
 * the generated proxies and skeletons); the contract is shared/DESIGN.md.
 */
#pragma once

/* memadvised on the system bus. */
#define MA_DBUS_NAME "org.memadvise.MemAdvise1"
#define MA_DBUS_OBJECT_PATH "/org/memadvise/MemAdvise1"
#define MA_DBUS_INTERFACE "org.memadvise.MemAdvise1"

/* memadvise-session on the session bus. */
#define MA_DBUS_SESSION_NAME "org.memadvise.Session1"
#define MA_DBUS_SESSION_OBJECT_PATH "/org/memadvise/Session1"

/* Plan and Reclaim take 1 to this many pids; a cgroup call takes a
 * subtree of at most this many processes. */
#define MA_DBUS_MAX_PIDS 1024

/* PlanPidfds and ReclaimPidfds take 1 to this many pidfds: dbus-daemon's
 * default max_message_unix_fds, the limit of Debian's (and upstream's)
 * system bus. A message with more is not delivered: the bus closes the
 * sender's connection. Clients split larger sets into several calls. */
#define MA_DBUS_MAX_PIDFDS 16

/* The cgroup paths of PlanCgroup and ReclaimCgroup are relative to the
 * first of these that is a cgroup2 file system (statfs(2) says
 * CGROUP2_SUPER_MAGIC): the whole hierarchy on pure cgroup2 systems, the
 * unified one on hybrid systems. memadvised(8) says why. */
#define MA_CGROUP2_ROOT "/sys/fs/cgroup"
#define MA_CGROUP2_ROOT_HYBRID "/sys/fs/cgroup/unified"
