/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * libFuzzer target: ma_idmap_parse_maps on arbitrary bytes.
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
  static const guint32 ids[] = { 0, 1, 1000, 100000, G_MAXUINT32 };

  memcpy (buf, data, size);
  for (gsize i = 0; i < G_N_ELEMENTS (ids); i++)
    {
      g_autoptr (GError) error = NULL;
      gboolean maps = 99;

      if (ma_idmap_parse_maps (buf, size, ids[i], &maps, &error))
        {
          g_assert_no_error (error);
          g_assert_true (maps == TRUE || maps == FALSE);
          /* Nothing maps an id of an empty map. */
          if (size == 0)
            g_assert_false (maps);
        }
      else
        {
          g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
          g_assert_cmpint (maps, ==, 99);
        }
    }
  return 0;
}
