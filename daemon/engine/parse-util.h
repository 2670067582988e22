/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Bounded readers shared by the /proc parsers. The buffers are not
 * NUL-terminated and describe processes we do not trust: every read stops
 * at @end and every number is overflow-checked.
 */
#pragma once

#include <gio/gio.h>
#include <stdarg.h>

/* Each hex digit's value plus one; 0 for any other byte. A table keeps the
 * header loop (most of the cost of maps) free of range comparisons. */
static const guint8 ma_hex_table[256] = {
  ['0'] = 1,  ['1'] = 2,  ['2'] = 3,  ['3'] = 4,  ['4'] = 5,  ['5'] = 6,  ['6'] = 7,  ['7'] = 8,
  ['8'] = 9,  ['9'] = 10, ['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
  ['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16,
};

static inline gboolean
ma_is_digit (char c)
{
  return (guchar) (c - '0') < 10;
}

static inline gboolean
ma_is_blank (char c)
{
  return c == ' ' || c == '\t';
}

static inline const char *
ma_skip_blanks (const char *p, const char *end)
{
  while (p < end && ma_is_blank (*p))
    p++;
  return p;
}

/* Reads at least one hex digit at *p into *out, leaves *p after them.
 * FALSE on no digit, or more than @max_digits significant ones (16 fill a
 * guint64, 8 a guint32): counting digits is the overflow check. */
static inline gboolean
ma_read_hex (const char **p, const char *end, guint max_digits, guint64 *out)
{
  const char *s = *p;
  const char *first;
  guint64 v = 0;
  guint t;

  if (s >= end || ma_hex_table[(guchar) *s] == 0)
    return FALSE;
  while (s < end && *s == '0')
    s++;
  first = s;
  while (s < end && (t = ma_hex_table[(guchar) *s]) != 0)
    {
      v = (v << 4) | (t - 1);
      s++;
    }
  if ((gsize) (s - first) > max_digits)
    return FALSE;

  *p = s;
  *out = v;
  return TRUE;
}

/* Reads at least one decimal digit at *p into *out, at most @max. */
static inline gboolean
ma_read_dec (const char **p, const char *end, guint64 max, guint64 *out)
{
  const char *s = *p;
  guint64 v = 0;
  guint n = 0;

  if (s >= end || !ma_is_digit (*s))
    return FALSE;
  /* 19 digits always fit 64 bits: only longer numbers need checks. */
  for (; s < end && ma_is_digit (*s) && n < 19; s++, n++)
    v = v * 10 + (guint64) (*s - '0');
  for (; s < end && ma_is_digit (*s); s++)
    if (!g_uint64_checked_mul (&v, v, 10) || !g_uint64_checked_add (&v, v, (guint64) (*s - '0')))
      return FALSE;
  if (v > max)
    return FALSE;

  *p = s;
  *out = v;
  return TRUE;
}

/* Sets a G_IO_ERROR_INVALID_DATA naming the file and line; returns FALSE. */
G_GNUC_PRINTF (4, 5)
static inline gboolean
ma_parse_fail (GError **error, const char *file, guint64 line_no, const char *format, ...)
{
  g_autofree char *what = NULL;
  va_list args;

  va_start (args, format);
  what = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s line %" G_GUINT64_FORMAT ": %s",
               file, line_no, what);
  return FALSE;
}
