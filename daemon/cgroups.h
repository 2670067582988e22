/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Checks the shape of a cgroup path argument: relative to the hierarchy
 * root, an optional leading "/", no empty, "." or ".." components. Errors
 * are G_DBUS_ERROR_INVALID_ARGS. "/" alone names the root cgroup. */
gboolean ma_cgroup_path_check (const char *path, GError **error);

/* The pids (guint32, distinct, ascending) of the processes in the cgroup
 * @path (checked with ma_cgroup_path_check) and every cgroup below it, at
 * most @max of them. The path is resolved beneath the cgroup2 root without
 * following symbolic links or crossing mounts; every failure is
 * G_DBUS_ERROR_INVALID_ARGS except an unreadable hierarchy
 * (G_DBUS_ERROR_FAILED). */
GArray *ma_cgroup_list_members (const char *path, guint max, GError **error);

G_END_DECLS
