/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The registered error domain (dbus/ma-dbus-error.c): an error the daemon
 * returns travels as its D-Bus name and arrives as the same GError.
 */
#include "config.h"

#include <gio/gio.h>

#include "ma-dbus-error.h"

static void
test_dbus_error_names_round_trip (void)
{
  static const struct
  {
    MaDBusError code;
    const char *name;
  } errors[] = {
    { MA_DBUS_ERROR_NOT_SUPPORTED, "org.memadvise.MemAdvise1.Error.NotSupported" },
    { MA_DBUS_ERROR_BUSY, "org.memadvise.MemAdvise1.Error.Busy" },
    { MA_DBUS_ERROR_FAILED, "org.memadvise.MemAdvise1.Error.Failed" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (errors); i++)
    {
      g_autoptr (GError) sent = g_error_new_literal (MA_DBUS_ERROR, errors[i].code, "why");
      g_autofree char *name = g_dbus_error_encode_gerror (sent);
      g_autoptr (GError) received = g_dbus_error_new_for_dbus_error (errors[i].name, "why");

      g_assert_cmpstr (name, ==, errors[i].name);
      g_assert_error (received, MA_DBUS_ERROR, (gint) errors[i].code);
      g_assert_true (g_dbus_error_strip_remote_error (received));
      g_assert_cmpstr (received->message, ==, "why");
    }
}

static void
test_dbus_error_quark_name (void)
{
  g_assert_cmpstr (g_quark_to_string (MA_DBUS_ERROR), ==, "ma-dbus-error-quark");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/dbus-error/names-round-trip", test_dbus_error_names_round_trip);
  g_test_add_func ("/dbus-error/quark-name", test_dbus_error_quark_name);

  return g_test_run ();
}
