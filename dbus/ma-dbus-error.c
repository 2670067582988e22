/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "ma-dbus-error.h"

static const GDBusErrorEntry error_entries[] = {
  { MA_DBUS_ERROR_NOT_SUPPORTED, "org.memadvise.MemAdvise1.Error.NotSupported" },
  { MA_DBUS_ERROR_BUSY, "org.memadvise.MemAdvise1.Error.Busy" },
  { MA_DBUS_ERROR_FAILED, "org.memadvise.MemAdvise1.Error.Failed" },
};

GQuark
ma_dbus_error_quark (void)
{
  static gsize quark = 0;

  g_dbus_error_register_error_domain ("ma-dbus-error-quark", &quark, error_entries,
                                      G_N_ELEMENTS (error_entries));
  return (GQuark) quark;
}
