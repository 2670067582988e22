/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Swap configured and free: pageout of anonymous memory frees nothing
 * without it. /proc/swaps is read by the engine's reader, whose parser is
 * tested and fuzzed.
 */
#include "config.h"

#include "ma-engine.h"
#include "swap.h"

gboolean
ctl_read_swap (guint64 *out_total, guint64 *out_free, GError **error)
{
  guint64 total = 0, used = 0;

  if (!ma_probe_swap (&total, &used, error))
    return FALSE;
  *out_total = total;
  *out_free = total > used ? total - used : 0;
  return TRUE;
}
