/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Parser of /proc/swaps: whether pageout of anonymous memory frees anything.
 *
 * Bounded by the buffer length (no NUL terminator), overflow-checked.
 * Semantics beyond ma-parse.h:
 * - The first line is the header and must start with "Filename"; an empty
 *   text is an error (the kernel always writes the header).
 * - Each row is "Filename Type Size Used Priority", read from the right
 *   because the file name may hold blanks: Priority (optionally negative),
 *   Used and Size in kB, a non-empty Type, and a non-empty name before it.
 *   Anything else, including a blank line, is an error.
 * - A last line without '\n' was cut short and is an error.
 * - On error the outputs are left untouched.
 */
#include "config.h"

#include <gio/gio.h>
#include <string.h>

#include "ma-parse.h"
#include "parse-util.h"

/* The last blank-separated token of [start, *end): sets *tok and moves *end
 * before it and the blanks that precede it. FALSE if there is none. */
static gboolean
pop_token (const char *start, const char **end, const char **tok, gsize *tok_len)
{
  const char *e = *end;
  const char *s;

  while (e > start && ma_is_blank (e[-1]))
    e--;
  s = e;
  while (s > start && !ma_is_blank (s[-1]))
    s--;
  if (s == e)
    return FALSE;
  *tok = s;
  *tok_len = (gsize) (e - s);
  while (s > start && ma_is_blank (s[-1]))
    s--;
  *end = s;
  return TRUE;
}

/* The whole token must be decimal digits; kB, returned in bytes. */
static gboolean
token_kb (const char *tok, gsize n, guint64 *out)
{
  const char *p = tok;
  guint64 kb;

  if (!ma_read_dec (&p, tok + n, G_MAXUINT64 / 1024, &kb) || p != tok + n)
    return FALSE;
  *out = kb * 1024;
  return TRUE;
}

static gboolean
token_is_integer (const char *tok, gsize n)
{
  gsize i = 0;

  if (n > 0 && tok[0] == '-')
    i++;
  if (i == n)
    return FALSE;
  for (; i < n; i++)
    if (tok[i] < '0' || tok[i] > '9')
      return FALSE;
  return TRUE;
}

static gboolean
parse_row (const char *p, const char *end, guint64 *size, guint64 *used)
{
  const char *tok;
  gsize n;

  if (!pop_token (p, &end, &tok, &n) || !token_is_integer (tok, n))
    return FALSE;
  if (!pop_token (p, &end, &tok, &n) || !token_kb (tok, n, used))
    return FALSE;
  if (!pop_token (p, &end, &tok, &n) || !token_kb (tok, n, size))
    return FALSE;
  if (!pop_token (p, &end, &tok, &n))
    return FALSE;
  /* What is left is the file name, which must not be empty. */
  while (p < end && ma_is_blank (*p))
    p++;
  return p < end;
}

gboolean
ma_swaps_parse (const char *buf, gsize len, guint64 *out_total, guint64 *out_used, GError **error)
{
  const char *p = buf;
  const char *end;
  guint64 total = 0;
  guint64 used = 0;
  guint64 line_no = 0;

  g_return_val_if_fail (buf != NULL || len == 0, FALSE);
  g_return_val_if_fail (out_total != NULL && out_used != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (len < 8 || memcmp (buf, "Filename", 8) != 0)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           "swaps line 1: missing the Filename header");
      return FALSE;
    }
  end = buf + len;

  while (p < end)
    {
      const char *nl = memchr (p, '\n', (gsize) (end - p));
      guint64 size, row_used;

      line_no++;
      if (nl == NULL)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       "swaps line %" G_GUINT64_FORMAT ": cut short (no newline at end of input)",
                       line_no);
          return FALSE;
        }
      if (line_no > 1)
        {
          if (!parse_row (p, nl, &size, &row_used) || size > G_MAXUINT64 - total
              || row_used > G_MAXUINT64 - used)
            {
              g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           "swaps line %" G_GUINT64_FORMAT ": malformed swap device row", line_no);
              return FALSE;
            }
          total += size;
          used += row_used;
        }
      p = nl + 1;
    }

  *out_total = total;
  *out_used = used;
  return TRUE;
}
