/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * libFuzzer target: ma_smaps_parse on arbitrary bytes.
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
  g_autoptr (GArray) vmas = g_array_new (FALSE, TRUE, sizeof (MaVma));
  g_autoptr (GError) error = NULL;
  gboolean ok;

  memcpy (buf, data, size);
  ok = ma_smaps_parse (buf, size, vmas, &error);

  /* What callers rely on, whatever the input. */
  if (ok)
    g_assert_no_error (error);
  else
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  for (guint i = 0; i < vmas->len; i++)
    {
      const MaVma *v = &g_array_index (vmas, MaVma, i);

      g_assert_cmpuint (v->start, <, v->end);
      g_assert_cmpuint (v->perms & ~0xfu, ==, 0);
      g_assert_cmpint (v->name_kind, >=, MA_NAME_NONE);
      g_assert_cmpint (v->name_kind, <=, MA_NAME_PATH);
      g_assert_cmpuint (v->vmflags & ~0x7ffu, ==, 0);
      if (!v->has_vmflags)
        g_assert_cmpuint (v->vmflags, ==, 0);
      if (!v->has_counters)
        g_assert_cmpuint (v->rss, ==, 0);
    }
  return 0;
}
