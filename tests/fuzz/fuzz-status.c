/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * libFuzzer target: ma_status_parse, ma_stat_parse_flags and ma_stat_parse on arbitrary
 * bytes (seeded with both /proc/PID/status and /proc/PID/stat).
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
  g_autoptr (GError) status_error = NULL;
  g_autoptr (GError) stat_error = NULL;
  MaStatus st;
  guint64 flags;

  memcpy (buf, data, size);

  if (ma_status_parse (buf, size, &st, &status_error))
    {
      g_assert_no_error (status_error);
      /* The name is always a terminated string within its array. */
      g_assert_cmpuint (strnlen (st.name, sizeof st.name), <, sizeof st.name);
      g_assert_cmpint (st.kthread, >=, -1);
      g_assert_cmpint (st.kthread, <=, 1);
      if (!st.has_mm)
        g_assert_cmpuint (st.mem.rss, ==, 0);
    }
  else
    g_assert_error (status_error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);

  if (ma_stat_parse_flags (buf, size, &flags, &stat_error))
    g_assert_no_error (stat_error);
  else
    g_assert_error (stat_error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);

  {
    g_autoptr (GError) full_error = NULL;
    MaStat full;

    /* The full parse reads further: it may only succeed where flags did. */
    if (ma_stat_parse (buf, size, &full, &full_error))
      {
        g_assert_no_error (full_error);
        g_assert_no_error (stat_error);
        g_assert_cmpuint (full.flags, ==, flags);
      }
    else
      g_assert_error (full_error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  }
  return 0;
}
