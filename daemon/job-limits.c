/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * What bounds a call, on the main thread: the rate per user, the places
 * the queue (queue.c) hands out, the Busy past its bounds and the
 * JobTimeout deadline. memadvised(8), LIMITS AND JOBS.
 */
#include "config.h"

#include "ma-dbus-error.h"
#include "jobs.h"

#define RATE_WINDOW_USEC (60 * G_USEC_PER_SEC)

/* A sliding window of call times per uid. Root is not limited: it is
 * already all-powerful, and scripts of administrators must not be Busy. */
gboolean
ma_job_rate_limit_allows (MaContext *context, uid_t uid)
{
  guint max = context->settings->max_calls_per_minute;
  gint64 now = g_get_monotonic_time ();
  GQueue *times;

  if (max == 0 || uid == 0)
    return TRUE;
  times = g_hash_table_lookup (context->calls_by_uid, GUINT_TO_POINTER (uid));
  if (times == NULL)
    {
      times = g_queue_new ();
      g_hash_table_insert (context->calls_by_uid, GUINT_TO_POINTER (uid), times);
    }
  while (!g_queue_is_empty (times)
         && now - *(gint64 *) g_queue_peek_head (times) >= RATE_WINDOW_USEC)
    g_free (g_queue_pop_head (times));
  if (g_queue_get_length (times) >= max)
    return FALSE;
  g_queue_push_tail (times, g_memdup2 (&now, sizeof now));
  return TRUE;
}

GError *
ma_job_busy_error (const MaSettings *settings, MaQueueAdmission admission)
{
  if (admission == MA_QUEUE_FULL_FOR_UID)
    return g_error_new (MA_DBUS_ERROR, MA_DBUS_ERROR_BUSY,
                        "As many calls of this user wait as MaxQueuedPerUser allows (%u); try "
                        "later.",
                        settings->max_queued_per_user);
  return g_error_new (MA_DBUS_ERROR, MA_DBUS_ERROR_BUSY,
                      "As many calls wait as MaxQueued allows (%u); try later.",
                      settings->max_queued);
}

/* Free places go out from an idle callback, never from inside the code
 * that freed them. */
static gboolean
dispatch_cb (gpointer user_data)
{
  MaContext *context = user_data;
  MaQueueItem *item;

  context->dispatch_id = 0;
  while ((item = ma_queue_next (context->queue)) != NULL)
    ma_job_got_place (ma_queue_item_get_data (item));
  return G_SOURCE_REMOVE;
}

void
ma_jobs_schedule_dispatch (MaContext *context)
{
  if (context->dispatch_id == 0)
    context->dispatch_id = g_idle_add (dispatch_cb, context);
}

void
ma_job_deadline_stop (MaJob *job)
{
  if (job->deadline_id == 0)
    return;
  g_source_remove (job->deadline_id);
  job->deadline_id = 0;
  job->deadline_left -= g_get_monotonic_time () - job->deadline_since;
}

static gboolean
deadline_cb (gpointer user_data)
{
  MaJob *job = user_data;

  g_autofree char *uid = g_strdup_printf ("%d", (int) job->uid);

  job->deadline_id = 0;
  job->deadline_left = 0;
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "MA_METHOD", job->method, "MA_CALLER_UID",
                    uid, "MESSAGE",
                    "%s from %s (uid %s) ran out of time (JobTimeout=%u): stopping its work",
                    job->method, job->sender, uid, job->context->settings->job_timeout);
  g_atomic_int_set (&job->timed_out, 1);
  g_cancellable_cancel (job->cancellable);
  return G_SOURCE_REMOVE;
}

void
ma_job_deadline_start (MaJob *job)
{
  if (job->deadline_id != 0 || g_atomic_int_get (&job->timed_out))
    return;
  job->deadline_since = g_get_monotonic_time ();
  job->deadline_id
      = g_timeout_add ((guint) MAX ((job->deadline_left + 999) / 1000, 1), deadline_cb, job);
}
