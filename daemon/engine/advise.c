/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Applying a plan with process_madvise(2).
 *
 * Ranges go to the kernel in batches of at most IOV_MAX iovecs and
 * MAX_RW_COUNT bytes. The kernel advises iovecs in order and stops at the
 * first that fails, returning the bytes of the iovecs before it. The failed
 * iovec is then advised again in halves, down to single pages, so that only
 * what the kernel now refuses (a mapping locked, unmapped or turned hugetlb
 * since planning) is skipped; the rest of the batch goes on. Advised bytes
 * are what the kernel accepted, nothing else.
 *
 * Only MADV_COLD and MADV_PAGEOUT exist here: both keep the contents.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "ma-private.h"

gsize
ma_max_rw_count (gsize page_size)
{
  return (gsize) INT_MAX & ~(page_size - 1);
}

guint
ma_batch_next (MaBatchCursor *cursor, MaSpan *spans, guint max_iov, guint64 max_bytes)
{
  guint64 total = 0;
  guint n = 0;

  while (n < max_iov && cursor->index < cursor->n_ranges && total < max_bytes)
    {
      const MaRange *range = &cursor->ranges[cursor->index];
      guint64 left = range->length - cursor->consumed;
      guint64 take = MIN (left, max_bytes - total);

      if (take > 0)
        {
          spans[n].start = range->start + cursor->consumed;
          spans[n].length = take;
          n++;
          total += take;
          cursor->consumed += take;
        }
      if (cursor->consumed == range->length)
        {
          cursor->index++;
          cursor->consumed = 0;
        }
    }
  return n;
}

typedef struct
{
  MaTarget *target;
  int advice;
  gsize page_size;
  MaApplyResult *out;
} Apply;

/* One process_madvise call; returns bytes accepted or -errno. */
static gssize
advise_iov (Apply *apply, const struct iovec *iov, guint n)
{
  for (;;)
    {
      long r = syscall (SYS_process_madvise, ma_target_get_pidfd (apply->target), iov, (size_t) n,
                        apply->advice, 0u);
      apply->out->n_calls++;
      if (r >= 0)
        return (gssize) r;
      if (errno != EINTR && errno != EAGAIN)
        return -errno;
    }
}

/* Errors that mean the target or our access to it is gone: stop everything. */
static gboolean
is_fatal (int errsv)
{
  return errsv == ESRCH || errsv == EPERM || errsv == EACCES || errsv == ENOSYS || errsv == EBADF;
}

/* Advises [start, start + length) that the kernel refused as one iovec,
 * halving until what it refuses is single pages, which are skipped. */
static gboolean
advise_split (Apply *apply, guint64 start, guint64 length, GError **error)
{
  struct iovec iov = { .iov_base = (void *) (uintptr_t) start, .iov_len = length };
  gssize r;
  guint64 half;

  r = advise_iov (apply, &iov, 1);
  if (r == (gssize) length)
    {
      apply->out->advised_bytes += length;
      return TRUE;
    }
  if (r < 0 && is_fatal ((int) -r))
    {
      ma_set_error_from_errno (error, (int) -r, ma_target_get_pid (apply->target),
                               "process_madvise");
      return FALSE;
    }
  if (length <= apply->page_size)
    {
      apply->out->skipped_bytes += length;
      apply->out->n_skipped_ranges++;
      return TRUE;
    }
  half = (length / apply->page_size / 2) * apply->page_size;
  return advise_split (apply, start, half, error)
         && advise_split (apply, start + half, length - half, error);
}

static gboolean
advise_batch (Apply *apply, const MaSpan *spans, guint n, GError **error)
{
  struct iovec iov[MA_IOV_MAX];
  guint i, pos = 0;

  for (i = 0; i < n; i++)
    {
      iov[i].iov_base = (void *) (uintptr_t) spans[i].start;
      iov[i].iov_len = spans[i].length;
    }

  while (pos < n)
    {
      gssize r = advise_iov (apply, &iov[pos], n - pos);
      guint64 accepted;

      if (r < 0 && is_fatal ((int) -r))
        {
          ma_set_error_from_errno (error, (int) -r, ma_target_get_pid (apply->target),
                                   "process_madvise");
          return FALSE;
        }

      /* The kernel counts whole iovecs up to the one that failed. */
      accepted = r > 0 ? (guint64) r : 0;
      apply->out->advised_bytes += accepted;
      while (pos < n && accepted >= iov[pos].iov_len)
        accepted -= iov[pos++].iov_len;
      if (pos == n)
        break;

      if (!advise_split (apply, (uintptr_t) iov[pos].iov_base, iov[pos].iov_len, error))
        return FALSE;
      pos++;
    }
  return TRUE;
}

gboolean
ma_target_apply (MaTarget *target, const MaPlan *plan, GCancellable *cancellable,
                 MaProgressFunc progress, gpointer progress_data, MaApplyResult *out,
                 GError **error)
{
  g_autofree MaSpan *spans = g_new (MaSpan, MA_IOV_MAX);
  Apply apply = {
    .target = target,
    .advice = plan->mode == MA_MODE_PAGEOUT ? MADV_PAGEOUT : MADV_COLD,
    .page_size = ma_page_size (),
    .out = out,
  };
  MaBatchCursor cursor = {
    .ranges = (const MaRange *) plan->ranges->data,
    .n_ranges = plan->ranges->len,
  };
  guint64 max_bytes = ma_max_rw_count (apply.page_size);
  gint64 t0 = g_get_monotonic_time ();
  gboolean ok = TRUE;
  guint n;

  memset (out, 0, sizeof *out);

  /* The pidfd holds the process the plan was made for; if it has exited,
   * no advice is given (process_madvise on its pidfd would fail anyway, but
   * say it plainly). */
  if (!ma_target_check_alive (target, error))
    return FALSE;

  while ((n = ma_batch_next (&cursor, spans, MA_IOV_MAX, max_bytes)) > 0)
    {
      if (g_cancellable_is_cancelled (cancellable))
        {
          g_set_error (error, MA_ERROR, MA_ERROR_CANCELLED,
                       "Cancelled after %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT " bytes.",
                       out->advised_bytes, plan->planned_bytes);
          ok = FALSE;
          break;
        }
      if (!advise_batch (&apply, spans, n, error))
        {
          ok = FALSE;
          break;
        }
      if (progress != NULL)
        progress (out->advised_bytes + out->skipped_bytes, plan->planned_bytes, progress_data);
    }

  out->apply_usec = g_get_monotonic_time () - t0;
  if (!ok)
    return FALSE;
  return ma_target_read_memstat (target, &out->after, error);
}
