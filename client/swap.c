/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Swap configured and free, from /proc/swaps (sizes in KiB): pageout of
 * anonymous memory frees nothing without it.
 */
#include "config.h"

#include "swap.h"

gboolean
ctl_read_swap (guint64 *out_total, guint64 *out_free, GError **error)
{
  g_autofree char *contents = NULL;
  g_auto (GStrv) lines = NULL;
  guint64 total = 0;
  guint64 used = 0;

  if (!g_file_get_contents ("/proc/swaps", &contents, NULL, error))
    return FALSE;

  lines = g_strsplit (contents, "\n", -1);
  /* The first line is the header. */
  for (guint i = 1; lines[i] != NULL; i++)
    {
      g_auto (GStrv) fields = g_strsplit_set (lines[i], " \t", -1);
      guint64 values[2] = { 0, 0 };
      guint n = 0;
      guint column = 0;

      for (guint j = 0; fields[j] != NULL; j++)
        {
          if (*fields[j] == '\0')
            continue;
          /* Filename Type Size Used Priority */
          if ((column == 2 || column == 3) && n < 2)
            {
              if (!g_ascii_string_to_unsigned (fields[j], 10, 0, G_MAXUINT64 / 1024, &values[n],
                                               NULL))
                break;
              n++;
            }
          column++;
        }
      if (n == 2)
        {
          total += values[0] * 1024;
          used += values[1] * 1024;
        }
    }

  *out_total = total;
  *out_free = total > used ? total - used : 0;
  return TRUE;
}
