/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * What memadvisectl and memadvise-session both need, written once: swap
 * figures, the cgroup2 root, the user manager's cgroup, the names of app
 * units, sizes and printable text. Nothing here reads files of the daemon
 * or the engine.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Swap configured and free on this machine, in bytes (sysinfo(2)):
 * pageout of anonymous memory frees nothing without it. */
gboolean ma_client_read_swap (guint64 *out_total, guint64 *out_free, GError **error);

/* The cgroup2 root memadvised resolves cgroup paths in: the first of
 * MA_CGROUP2_ROOT and MA_CGROUP2_ROOT_HYBRID that is a cgroup2 file system
 * (memadvised(8)). G_IO_ERROR_NOT_FOUND when neither is. */
const char *ma_client_cgroup2_root (GError **error);

/* This process's cgroup in the cgroup2 hierarchy, from the "0::" line of
 * /proc/self/cgroup, relative to the root ("" for the root); NULL when
 * unknown. */
char *ma_client_own_cgroup (void);

/* The cgroup of the calling user's systemd user manager, user@UID.service,
 * relative to the cgroup2 root: the one @own_cgroup (as
 * ma_client_own_cgroup() gives it, or NULL) runs under, else where systemd
 * puts it, user.slice/user-UID.slice/user@UID.service. */
char *ma_client_user_manager_cgroup (const char *own_cgroup);

/* The application id of an app unit, as the XDG desktop's systemd
 * integration names them: app[-LAUNCHER]-APPID-RANDOM.scope or
 * app[-LAUNCHER]-APPID[@RANDOM].service, with systemd's \xNN escapes
 * (such as \x2d for "-") undone; NULL when @unit is not an app unit. */
char *ma_client_app_id_from_unit (const char *unit);

/* @text made safe to print on a terminal, on one line: invalid UTF-8
 * becomes U+FFFD, and each control character (C0, tab and newline among
 * them, DEL and C1, so ESC and the escape sequences it starts), line and
 * paragraph separator and bidirectional formatting character becomes "?",
 * as ps(1) shows them. For whatever another process wrote: a comm, the
 * daemon's messages, unit names. NULL for NULL. */
char *ma_client_printable (const char *text);

/* Bytes: a number, alone or with K, M, G or T (powers of 1024, in either
 * case, optionally followed by "iB" or "B"): "4096", "512M", "2GiB".
 * G_IO_ERROR_INVALID_ARGUMENT with one sentence (no final period). */
gboolean ma_client_parse_size (const char *str, guint64 *out_bytes, GError **error);
/* "512 B", "1.5 GiB": one decimal in IEC units. */
char *ma_client_format_size (guint64 bytes);

G_END_DECLS
