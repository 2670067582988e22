/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "ma-dbus-error.h"

static const GDBusErrorEntry daemon_error_entries[] = {
  { MA_DAEMON_ERROR_NOT_SUPPORTED, "org.memadvise.MemAdvise1.Error.NotSupported" },
  { MA_DAEMON_ERROR_BUSY, "org.memadvise.MemAdvise1.Error.Busy" },
  { MA_DAEMON_ERROR_FAILED, "org.memadvise.MemAdvise1.Error.Failed" },
};

GQuark
ma_daemon_error_quark (void)
{
  static gsize quark = 0;

  g_dbus_error_register_error_domain ("ma-daemon-error-quark", &quark, daemon_error_entries,
                                      G_N_ELEMENTS (daemon_error_entries));
  return (GQuark) quark;
}
