/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * libFuzzer target: ma_swaps_parse on arbitrary bytes.
 */
#include "config.h"

#include <gio/gio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ma-parse.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  /* Exactly sized, no NUL after it: ASan flags any read past the end. */
  g_autofree char *buf = g_malloc (size > 0 ? size : 1);
  g_autoptr (GError) error = NULL;
  guint64 total, used;

  memcpy (buf, data, size);
  if (ma_swaps_parse (buf, size, &total, &used, &error))
    {
      g_assert_no_error (error);
      /* Sizes are whole kB. */
      g_assert_cmpuint (total % 1024, ==, 0);
      g_assert_cmpuint (used % 1024, ==, 0);
    }
  else
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  return 0;
}
