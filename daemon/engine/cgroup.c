/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Parser of /proc/PID/cgroup: the target's cgroup v2 path.
 *
 * Bounded by the buffer length (no NUL terminator). Semantics beyond
 * ma-parse.h:
 * - Lines are "ID:CONTROLLERS:PATH". The cgroup2 line has ID 0 and no
 *   controllers ("0::/path"); the lines of cgroup v1 hierarchies are
 *   skipped, and so is any line of another shape.
 * - The cgroup2 path must start with '/' and hold no NUL byte (it would
 *   silently shorten the path a protection rule is matched against); it
 *   is kept as the kernel wrote it, " (deleted)" included.
 * - A second cgroup2 line is an error, and so is a last line without
 *   '\n' (the kernel ends every line with one): it was cut short.
 * - No cgroup2 line at all (a system with cgroup v1 only) is no error:
 *   the path is NULL.
 * - On error *out_path is left untouched.
 */
#include "config.h"

#include <gio/gio.h>
#include <string.h>

#include "ma-parse.h"
#include "parse-util.h"

gboolean
ma_cgroup_parse (const char *buf, gsize len, char **out_path, GError **error)
{
  const char *p = buf;
  const char *end = buf + len;
  g_autofree char *path = NULL;
  guint64 line_no = 0;

  g_return_val_if_fail (buf != NULL || len == 0, FALSE);
  g_return_val_if_fail (out_path != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  while (p < end)
    {
      const char *nl = memchr (p, '\n', (gsize) (end - p));
      const char *value;

      line_no++;
      if (nl == NULL)
        return ma_parse_fail (error, "cgroup", line_no, "cut short (no newline at end of input)");
      if (nl - p < 3 || memcmp (p, "0::", 3) != 0)
        {
          p = nl + 1;
          continue;
        }
      value = p + 3;
      if (path != NULL)
        return ma_parse_fail (error, "cgroup", line_no, "a second cgroup2 line");
      if (value == nl || *value != '/')
        return ma_parse_fail (error, "cgroup", line_no, "the cgroup2 path is not absolute");
      if (memchr (value, '\0', (gsize) (nl - value)) != NULL)
        return ma_parse_fail (error, "cgroup", line_no, "a NUL byte in the cgroup2 path");
      path = g_strndup (value, (gsize) (nl - value));
      p = nl + 1;
    }

  *out_path = g_steal_pointer (&path);
  return TRUE;
}
