/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Parser of /proc/PID/uid_map and gid_map: whether an id of the reader's
 * user namespace is mapped into the process's.
 *
 * Bounded by the buffer length (no NUL terminator). Semantics beyond
 * ma-parse.h:
 * - Lines are "INSIDE OUTSIDE COUNT", blank-padded decimal numbers of
 *   at most 32 bits, COUNT at least 1. As the reader is not in the
 *   process's namespace, OUTSIDE is an id of the reader's
 *   (user_namespaces(7)).
 * - A line of another shape and a last line without '\n' are errors. An
 *   empty map (nothing written yet) maps nothing.
 * - On error *out_maps is left untouched.
 */
#include "config.h"

#include <gio/gio.h>
#include <string.h>

#include "ma-parse.h"
#include "parse-util.h"

gboolean
ma_idmap_parse_maps (const char *buf, gsize len, guint32 id, gboolean *out_maps, GError **error)
{
  const char *p = buf;
  const char *end = buf + len;
  guint64 line_no = 0;
  gboolean maps = FALSE;

  g_return_val_if_fail (buf != NULL || len == 0, FALSE);
  g_return_val_if_fail (out_maps != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  while (p < end)
    {
      const char *nl = memchr (p, '\n', (gsize) (end - p));
      guint64 values[3];

      line_no++;
      if (nl == NULL)
        return ma_parse_fail (error, "id map", line_no, "cut short (no newline at end of input)");
      for (guint i = 0; i < 3; i++)
        {
          const char *before = p;

          p = ma_skip_blanks (p, nl);
          if (i > 0 && p == before)
            return ma_parse_fail (error, "id map", line_no, "malformed");
          if (!ma_read_dec (&p, nl, G_MAXUINT32, &values[i]))
            return ma_parse_fail (error, "id map", line_no, "malformed");
        }
      if (ma_skip_blanks (p, nl) != nl || values[2] == 0)
        return ma_parse_fail (error, "id map", line_no, "malformed");
      if (values[1] <= id && id - values[1] < values[2])
        maps = TRUE;
      p = nl + 1;
    }
  *out_maps = maps;
  return TRUE;
}
