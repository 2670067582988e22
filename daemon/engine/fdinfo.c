/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Parser of /proc/self/fdinfo/FD for a pidfd: its flags and the pid of its
 * process.
 *
 * Bounded by the buffer length (no NUL terminator). Semantics beyond
 * ma-parse.h:
 * - Lines are "Key:<blanks>value"; only flags: (octal) and Pid: (decimal,
 *   -1 once the process has exited and been reaped, 0 when it is not in
 *   the pid namespace of the reader's /proc) are read; others are
 *   skipped. A known key given twice, a malformed value and a last line
 *   without '\n' are errors.
 * - On error *out is left untouched.
 */
#include "config.h"

#include <gio/gio.h>
#include <string.h>

#include "ma-parse.h"
#include "parse-util.h"

static gboolean
parse_octal (const char *p, const char *end, guint64 *out)
{
  guint64 v = 0;

  if (p >= end)
    return FALSE;
  for (; p < end; p++)
    {
      if (*p < '0' || *p > '7' || v > G_MAXUINT32 / 8)
        return FALSE;
      v = v * 8 + (guint64) (*p - '0');
    }
  *out = v;
  return TRUE;
}

static gboolean
parse_pid (const char *p, const char *end, gint64 *out)
{
  guint64 v;

  if (end - p == 2 && p[0] == '-' && p[1] == '1')
    {
      *out = -1;
      return TRUE;
    }
  if (!ma_read_dec (&p, end, G_MAXINT32, &v) || p != end)
    return FALSE;
  *out = (gint64) v;
  return TRUE;
}

gboolean
ma_fdinfo_parse (const char *buf, gsize len, MaFdinfo *out, GError **error)
{
  MaFdinfo info = { 0 };
  const char *p = buf;
  const char *end = buf + len;
  guint64 line_no = 0;

  g_return_val_if_fail (buf != NULL || len == 0, FALSE);
  g_return_val_if_fail (out != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  while (p < end)
    {
      const char *nl = memchr (p, '\n', (gsize) (end - p));
      const char *colon;
      const char *value;
      gboolean ok = TRUE;

      line_no++;
      if (nl == NULL)
        return ma_parse_fail (error, "fdinfo", line_no, "cut short (no newline at end of input)");
      colon = memchr (p, ':', (gsize) (nl - p));
      if (colon == NULL)
        {
          p = nl + 1;
          continue;
        }
      value = ma_skip_blanks (colon + 1, nl);
      if (colon - p == 5 && memcmp (p, "flags", 5) == 0)
        {
          guint64 flags;

          if (info.has_flags)
            return ma_parse_fail (error, "fdinfo", line_no, "flags given twice");
          ok = parse_octal (value, nl, &flags);
          info.flags = (guint32) flags;
          info.has_flags = ok;
        }
      else if (colon - p == 3 && memcmp (p, "Pid", 3) == 0)
        {
          if (info.has_pid)
            return ma_parse_fail (error, "fdinfo", line_no, "Pid given twice");
          ok = parse_pid (value, nl, &info.pid);
          info.has_pid = ok;
        }
      if (!ok)
        return ma_parse_fail (error, "fdinfo", line_no, "malformed value");
      p = nl + 1;
    }
  *out = info;
  return TRUE;
}
