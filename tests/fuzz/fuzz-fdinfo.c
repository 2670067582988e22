/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * libFuzzer target: ma_fdinfo_parse on arbitrary bytes.
 */
#include "config.h"

#include <gio/gio.h>
#include <stdint.h>
#include <string.h>

#include "ma-parse.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  /* Exactly sized, no NUL after it: ASan flags any read past the end. */
  g_autofree char *buf = g_malloc (size > 0 ? size : 1);
  g_autoptr (GError) error = NULL;
  MaFdinfo info;

  memcpy (buf, data, size);
  if (ma_fdinfo_parse (buf, size, &info, &error))
    {
      g_assert_no_error (error);
      /* A pid is -1, 0 or a pid the kernel can give. */
      if (info.has_pid)
        g_assert_true (info.pid >= -1 && info.pid <= G_MAXINT32);
      else
        g_assert_cmpint (info.pid, ==, 0);
    }
  else
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  return 0;
}
