/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Swap configured and free: the kernel keeps both figures and sysinfo(2)
 * gives them without parsing any file.
 */
#include "config.h"

#include <errno.h>
#include <sys/sysinfo.h>

#include "ma-client.h"

gboolean
ma_client_read_swap (guint64 *out_total, guint64 *out_free, GError **error)
{
  struct sysinfo info;

  if (sysinfo (&info) < 0)
    {
      int errsv = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv), "sysinfo: %s",
                   g_strerror (errsv));
      return FALSE;
    }
  *out_total = (guint64) info.totalswap * info.mem_unit;
  *out_free = (guint64) info.freeswap * info.mem_unit;
  return TRUE;
}
