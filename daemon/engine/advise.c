/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Applying a plan with process_madvise(2).
 *
 * Ranges go to the kernel in batches of at most IOV_MAX iovecs and
 * MAX_RW_COUNT bytes. The kernel advises iovecs in order and stops at the
 * first that fails, returning the bytes of the iovecs before it. The failed
 * iovec is then advised again in halves, MA_APPLY_SPLIT_DEPTH levels deep
 * at most, so that little more than what the kernel now refuses (a mapping
 * locked, unmapped or turned hugetlb since planning) is skipped; the rest
 * of the batch goes on. The calls a target's refusals cost are bounded
 * (MA_APPLY_MAX_REFUSAL_CALLS): past that, what a batch has left after a
 * refusal is skipped. Advised bytes are what the kernel accepted, nothing
 * else; skipped bytes the rest, so the two add up to the plan.
 *
 * Only MADV_COLD and MADV_PAGEOUT exist here: both keep the contents.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <sched.h>
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
  gint *refusal_calls; /* atomic, shared by the workers of one apply */
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

/* One more call because of a refusal, if the apply's budget allows it. */
static gboolean
take_refusal_call (Apply *apply)
{
  return g_atomic_int_add (apply->refusal_calls, 1) < MA_APPLY_MAX_REFUSAL_CALLS;
}

static void
skip (Apply *apply, guint64 length)
{
  apply->out->skipped_bytes += length;
  apply->out->n_skipped_ranges++;
}

static gboolean advise_piece (Apply *apply, guint64 start, guint64 length, guint depth,
                              GError **error);

/* [start, start + length) was refused as one iovec: its halves are tried
 * on their own, @depth levels down already; what is still refused at the
 * last level, at a single page or past the budget is skipped. */
static gboolean
advise_refused (Apply *apply, guint64 start, guint64 length, guint depth, GError **error)
{
  guint64 half;

  if (length <= apply->page_size || depth >= MA_APPLY_SPLIT_DEPTH)
    {
      skip (apply, length);
      return TRUE;
    }
  half = (length / apply->page_size / 2) * apply->page_size;
  return advise_piece (apply, start, half, depth + 1, error)
         && advise_piece (apply, start + half, length - half, depth + 1, error);
}

static gboolean
advise_piece (Apply *apply, guint64 start, guint64 length, guint depth, GError **error)
{
  struct iovec iov = { .iov_base = (void *) (uintptr_t) start, .iov_len = length };
  gssize r;

  if (!take_refusal_call (apply))
    {
      skip (apply, length);
      return TRUE;
    }
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
  return advise_refused (apply, start, length, depth, error);
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

      if (!advise_refused (apply, (uintptr_t) iov[pos].iov_base, iov[pos].iov_len, 0, error))
        return FALSE;
      pos++;
      /* Going on with the rest of the batch is one more call too. */
      if (pos < n && !take_refusal_call (apply))
        {
          for (; pos < n; pos++)
            skip (apply, iov[pos].iov_len);
          break;
        }
    }
  return TRUE;
}

/* The work of one apply, shared by its workers: each takes the next batch
 * when it is done with the last, so they all finish within one batch of
 * each other whatever else the machine is doing (a split in equal parts
 * fixed in advance ends when its slowest part does). */
typedef struct
{
  GMutex lock;
  MaBatchCursor cursor; /* under lock */
  guint64 max_bytes;
  gint stop;          /* atomic: set by the first worker that fails */
  gint refusal_calls; /* atomic: calls made because of refusals */
  guint64 done;       /* atomic: bytes advised or skipped by all workers */
  guint64 planned;
  GCancellable *cancellable;
} Queue;

typedef struct
{
  Apply apply;
  MaApplyResult result;
  GError *error;
  Queue *queue;
  MaProgressFunc progress; /* only for the worker in the caller's thread */
  gpointer progress_data;
} Worker;

static guint
queue_take (Queue *queue, MaSpan *spans)
{
  guint n;

  g_mutex_lock (&queue->lock);
  n = ma_batch_next (&queue->cursor, spans, MA_IOV_MAX, queue->max_bytes);
  g_mutex_unlock (&queue->lock);
  return n;
}

static gpointer
worker_run (gpointer data)
{
  Worker *w = data;
  Queue *q = w->queue;
  g_autofree MaSpan *spans = g_new (MaSpan, MA_IOV_MAX);
  guint n;

  while (!g_atomic_int_get (&q->stop) && (n = queue_take (q, spans)) > 0)
    {
      guint64 before = w->result.advised_bytes + w->result.skipped_bytes;

      if (g_cancellable_is_cancelled (q->cancellable))
        {
          g_set_error_literal (&w->error, MA_ERROR, MA_ERROR_CANCELLED, "Cancelled.");
          g_atomic_int_set (&q->stop, 1);
          break;
        }
      if (!advise_batch (&w->apply, spans, n, &w->error))
        {
          g_atomic_int_set (&q->stop, 1);
          break;
        }
      __atomic_add_fetch (&q->done, w->result.advised_bytes + w->result.skipped_bytes - before,
                          __ATOMIC_RELAXED);
      if (w->progress != NULL)
        w->progress (__atomic_load_n (&q->done, __ATOMIC_RELAXED), q->planned, w->progress_data);
    }
  return NULL;
}

/* Advising is CPU-bound batch work, and SCHED_BATCH tells the scheduler
 * so: the workers are mildly disfavoured against threads that wake up
 * (sched(7)), and still get every CPU nobody else wants. (The daemon's
 * Properties.Get latency during a 2 GiB pageout did not measurably change
 * with it on a 2-CPU machine.) Switching between SCHED_OTHER and
 * SCHED_BATCH needs no privilege; the nice value is kept. Returns the
 * policy to put back. */
static int
enter_batch (void)
{
  struct sched_param param = { 0 };
  int policy = sched_getscheduler (0);

  if (policy == SCHED_OTHER)
    sched_setscheduler (0, SCHED_BATCH, &param);
  return policy;
}

static void
leave_batch (int policy)
{
  struct sched_param param = { 0 };

  if (policy == SCHED_OTHER)
    sched_setscheduler (0, SCHED_OTHER, &param);
}

/* Below this much per thread, a thread costs more than it saves. */
#define MIN_BYTES_PER_THREAD (4 * 1024 * 1024)

gboolean
ma_target_apply (MaTarget *target, const MaPlan *plan, GCancellable *cancellable,
                 MaProgressFunc progress, gpointer progress_data, MaApplyResult *out,
                 GError **error)
{
  gsize page_size = ma_page_size ();
  guint n = MAX (1, MIN (plan->threads, plan->planned_bytes / MIN_BYTES_PER_THREAD));
  g_autofree Worker *workers = g_new0 (Worker, n);
  g_autofree GThread **threads = g_new0 (GThread *, n);
  Queue queue = {
    .cursor = { .ranges = (const MaRange *) plan->ranges->data, .n_ranges = plan->ranges->len },
    .max_bytes = MIN (ma_max_rw_count (page_size), MA_BATCH_MAX_BYTES),
    .planned = plan->planned_bytes,
    .cancellable = cancellable,
  };
  gint64 t0 = g_get_monotonic_time ();
  GError *first_error = NULL;
  int policy;
  guint i;

  memset (out, 0, sizeof *out);

  /* The pidfd holds the process the plan was made for; if it has exited,
   * no advice is given (process_madvise on its pidfd would fail anyway, but
   * say it plainly). */
  if (!ma_target_check_alive (target, error))
    return FALSE;

  g_mutex_init (&queue.lock);
  for (i = 0; i < n; i++)
    {
      Worker *w = &workers[i];

      w->apply = (Apply){
        .target = target,
        .advice = plan->mode == MA_MODE_PAGEOUT ? MADV_PAGEOUT : MADV_COLD,
        .page_size = page_size,
        .out = &w->result,
        .refusal_calls = &queue.refusal_calls,
      };
      w->queue = &queue;
    }

  /* Worker 0 is the calling thread, which also reports progress after each
   * of its batches; the others get threads of their own. */
  workers[0].progress = progress;
  workers[0].progress_data = progress_data;
  policy = enter_batch ();
  for (i = 1; i < n; i++)
    threads[i] = g_thread_new ("ma-advise", worker_run, &workers[i]); /* inherit the policy */
  worker_run (&workers[0]);
  for (i = 1; i < n; i++)
    g_thread_join (threads[i]);
  g_mutex_clear (&queue.lock);
  if (progress != NULL && n > 1)
    progress (queue.done, plan->planned_bytes, progress_data);
  leave_batch (policy);

  /* Totals over all workers; the first real error wins over the
   * cancellations and stops it caused in the others. */
  for (i = 0; i < n; i++)
    {
      Worker *w = &workers[i];

      out->advised_bytes += w->result.advised_bytes;
      out->skipped_bytes += w->result.skipped_bytes;
      out->n_calls += w->result.n_calls;
      out->n_skipped_ranges += w->result.n_skipped_ranges;
      if (w->error != NULL
          && (first_error == NULL || g_error_matches (first_error, MA_ERROR, MA_ERROR_CANCELLED)))
        {
          g_clear_error (&first_error);
          first_error = g_steal_pointer (&w->error);
        }
      g_clear_error (&w->error);
    }
  out->apply_usec = g_get_monotonic_time () - t0;

  if (first_error != NULL)
    {
      if (g_error_matches (first_error, MA_ERROR, MA_ERROR_CANCELLED))
        g_prefix_error (&first_error,
                        "After %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT " bytes: ",
                        out->advised_bytes, plan->planned_bytes);
      g_propagate_error (error, first_error);
      return FALSE;
    }
  return ma_target_read_memstat (target, &out->after, error);
}
