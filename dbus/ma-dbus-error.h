/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* memadvise's own D-Bus errors, org.memadvise.MemAdvise1.Error.*. The
 * domain is registered with GDBus, so an error the daemon returns arrives
 * at the client as the same GError: match it with g_error_matches().
 * InvalidArgs and AccessDenied are the standard G_DBUS_ERROR codes. */
typedef enum
{
  MA_DBUS_ERROR_NOT_SUPPORTED, /* NotSupported: the kernel lacks process_madvise */
  MA_DBUS_ERROR_BUSY,          /* Busy: a limit was reached; try later */
  MA_DBUS_ERROR_FAILED,        /* Failed: an internal error */
} MaDBusError;

/* Using the quark registers the domain: do so before the first reply can
 * carry one of its errors. */
#define MA_DBUS_ERROR (ma_dbus_error_quark ())
GQuark ma_dbus_error_quark (void);

G_END_DECLS
