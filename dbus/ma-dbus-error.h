/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Errors of the daemon's own domain, org.memadvise.MemAdvise1.Error.*.
 * InvalidArgs and AccessDenied use the standard G_DBUS_ERROR codes. */
typedef enum
{
  MA_DAEMON_ERROR_NOT_SUPPORTED, /* NotSupported: kernel lacks process_madvise */
  MA_DAEMON_ERROR_BUSY,          /* Busy: a limit was reached; try later */
  MA_DAEMON_ERROR_FAILED,        /* Failed: an internal error */
} MaDaemonError;

#define MA_DAEMON_ERROR (ma_daemon_error_quark ())
GQuark ma_daemon_error_quark (void);

G_END_DECLS
