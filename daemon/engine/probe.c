/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * What the running kernel and system offer. Each probe is cheap and its
 * answer cannot change while we run, except swap, which is read anew.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ma-private.h"

gsize
ma_page_size (void)
{
  static gsize page_size;

  if (g_once_init_enter (&page_size))
    g_once_init_leave (&page_size, (gsize) sysconf (_SC_PAGESIZE));
  return page_size;
}

gboolean
ma_probe_process_madvise (void)
{
  static gsize result;

  if (g_once_init_enter (&result))
    {
      long r;

      /* An invalid pidfd: EBADF means the syscall exists, ENOSYS that it
       * does not. No advice can reach anything. */
      r = syscall (SYS_process_madvise, -1, NULL, 0, MADV_COLD, 0);
      g_once_init_leave (&result, (r < 0 && errno == ENOSYS) ? 1 : 2);
    }
  return result == 2;
}

gboolean
ma_probe_swap (guint64 *out_total, guint64 *out_used, GError **error)
{
  g_autofree char *buf = NULL;
  gsize len;
  int dir_fd;

  dir_fd = open ("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0)
    {
      int errsv = errno;
      g_set_error (error, MA_ERROR, MA_ERROR_FAILED, "Could not open /proc: %s.",
                   g_strerror (errsv));
      return FALSE;
    }
  buf = ma_read_file_at (dir_fd, "swaps", &len, error);
  close (dir_fd);
  if (buf == NULL)
    return FALSE;
  return ma_swaps_parse (buf, len, out_total, out_used, error);
}
