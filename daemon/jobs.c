/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The life of one Plan or Reclaim call, on the main thread: limits, caller
 * identity, authorization, and the hand-off of engine work to GTask worker
 * threads (job-targets.c). Nothing here blocks.
 */
#include "config.h"

#include "authority.h"
#include "ma-dbus-error.h"
#include "jobs.h"

#define RATE_WINDOW_USEC (60 * G_USEC_PER_SEC)

enum
{
  NEED_RECLAIM_OWN = 1 << 0,
  NEED_RECLAIM_OTHER = 1 << 1,
  NEED_INSPECT_OTHER = 1 << 2,
};

/* The polkit action of each need, in the order of their bits. */
static const char *const need_actions[] = {
  MA_ACTION_RECLAIM_OWN,
  MA_ACTION_RECLAIM_OTHER,
  MA_ACTION_INSPECT_OTHER,
};

/* The one need of a target of @job, or 0: Plan on an own process needs no
 * action. */
static guint
target_need (const MaJob *job, const MaJobTarget *t)
{
  if (job->reclaim)
    return t->own ? NEED_RECLAIM_OWN : NEED_RECLAIM_OTHER;
  return t->own ? 0 : NEED_INSPECT_OTHER;
}

static const char *
need_action (guint need)
{
  return need_actions[__builtin_ctz (need)];
}

typedef struct
{
  MaJob *job;
  guint need;
} CheckClosure;

static void job_check_cb (GObject *source, GAsyncResult *result, gpointer user_data);

static const char *
method_name (MaJob *job)
{
  return job->reclaim ? "Reclaim" : "Plan";
}

static void
job_free (MaJob *job)
{
  g_assert (job->wait_id == 0);
  if (job->watch_id != 0)
    g_bus_unwatch_name (job->watch_id);
  for (guint i = 0; job->targets != NULL && i < job->targets->len; i++)
    {
      MaJobTarget *t = &g_array_index (job->targets, MaJobTarget, i);

      g_clear_pointer (&t->target, ma_target_free);
      g_clear_pointer (&t->plan, ma_plan_free);
      g_clear_pointer (&t->sample, ma_sample_free);
      g_free (t->comm);
      g_free (t->message);
      g_free (t->protected_message);
    }
  g_clear_pointer (&job->targets, g_array_unref);
  g_clear_pointer (&job->request, ma_request_free);
  g_clear_pointer (&job->caller, ma_caller_credentials_free);
  g_clear_error (&job->call_error);
  g_clear_object (&job->cancellable);
  g_clear_object (&job->invocation);
  g_free (job->sender);
  job->context->jobs_in_flight--;
  g_free (job);
}

/* Ends the call with a whole-call error, which it takes; @reason keys the
 * statistics. */
static void
job_fail (MaJob *job, const char *reason, GError *error)
{
  ma_stats_add_refused_call (job->context->stats, reason);
  g_dbus_method_invocation_take_error (job->invocation, error);
  job_free (job);
}

static void
log_refusal (MaJob *job, const char *what)
{
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "MESSAGE", "%s from %s (uid %d) refused: %s",
                    method_name (job), job->sender, (int) job->uid, what, "MA_METHOD", "%s",
                    method_name (job), "MA_CALLER", "%s", job->sender, "MA_CALLER_UID", "%d",
                    (int) job->uid);
}

static void start_engine (MaJob *job);

static void
name_vanished_cb (GDBusConnection *connection, const char *name, gpointer user_data)
{
  MaJob *job = user_data;

  g_debug ("%s left the bus: cancelling its %s", name, method_name (job));
  g_cancellable_cancel (job->cancellable);
  /* A min-idle wait ends now; the engine step then only records why. */
  if (job->wait_id != 0)
    {
      g_source_remove (job->wait_id);
      job->wait_id = 0;
      start_engine (job);
    }
}

static void
engine_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  MaJob *job = user_data;
  MaStats *stats = job->context->stats;
  GVariant *results;
  gint64 plan_usec = 0, apply_usec = 0;

  for (guint i = 0; i < job->targets->len; i++)
    {
      MaJobTarget *t = &g_array_index (job->targets, MaJobTarget, i);

      if (t->dropped)
        continue;
      ma_stats_add_target (stats, ma_job_target_status (t),
                           t->failed ? ma_error_to_string (t->error) : NULL);
      if (t->applied)
        {
          guint64 before = t->plan->before.rss, after = t->apply.after.rss;

          ma_stats_add_advised (stats, job->request->mode, ma_job_target_advised (t),
                                after < before && after != 0 ? before - after : 0);
          ma_stats_add_time (stats, t->apply.apply_usec);
          apply_usec += t->apply.apply_usec;
        }
      if (t->plan != NULL)
        {
          ma_stats_add_time (stats, t->plan->plan_usec);
          plan_usec += t->plan->plan_usec;
          if (job->reclaim)
            ma_stats_add_coldness (stats, t->plan->refaulted_bytes, t->plan->sampled_bytes);
        }
      if (t->failed && t->error != MA_ERROR_NOT_AUTHORIZED)
        g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "MESSAGE",
                          "%s of process %u for uid %d failed: %s", method_name (job), t->pid,
                          (int) job->uid, t->message, "MA_METHOD", "%s", method_name (job),
                          "MA_TARGET_ERROR", "%s", ma_error_to_string (t->error));
    }

  results = ma_job_build_results (job);
  g_debug ("%s from %s (uid %d) done in %.1f ms (planning %.1f ms, advice %.1f ms)",
           method_name (job), job->sender, (int) job->uid,
           (double) (g_get_monotonic_time () - job->started) / 1000, (double) plan_usec / 1000,
           (double) apply_usec / 1000);
  g_dbus_method_invocation_return_value (job->invocation, g_variant_new_tuple (&results, 1));
  job_free (job);
}

static void
engine_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  ma_job_run_engine (task_data);
  g_task_return_boolean (task, TRUE);
}

static void
start_engine (MaJob *job)
{
  g_autoptr (GTask) task = g_task_new (NULL, NULL, engine_done_cb, job);

  g_task_set_task_data (task, job, NULL);
  g_task_run_in_thread (task, engine_thread);
}

static gboolean
wait_done_cb (gpointer user_data)
{
  MaJob *job = user_data;

  job->wait_id = 0;
  start_engine (job);
  return G_SOURCE_REMOVE;
}

/* The wait runs on the main loop, not in a worker: a thread held for
 * minutes per call would starve the pool. */
static void
observe_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  MaJob *job = user_data;

  if (job->wait_usec <= 0 || g_cancellable_is_cancelled (job->cancellable))
    {
      start_engine (job);
      return;
    }
  g_debug ("%s from %s: waiting %" G_GINT64_FORMAT " ms for min-idle", method_name (job),
           job->sender, job->wait_usec / 1000);
  job->wait_id = g_timeout_add ((guint) ((job->wait_usec + 999) / 1000), wait_done_cb, job);
}

static void
observe_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  ma_job_observe (task_data);
  g_task_return_boolean (task, TRUE);
}

static void
job_authorized (MaJob *job)
{
  guint n_authorized = 0, n_refused = 0;

  for (guint i = 0; i < job->targets->len; i++)
    {
      MaJobTarget *t = &g_array_index (job->targets, MaJobTarget, i);
      guint need;

      if (t->failed)
        continue;
      need = target_need (job, t);
      if (need == 0 || (job->granted & need) != 0)
        {
          /* Only polkit's yes lets the caller learn what its /proc would
           * not show it; an own target it reads anyway. */
          t->authorized = need != 0;
          /* Only now may the caller learn why it is protected. */
          if (t->protected_message != NULL)
            {
              ma_job_target_fail (t, MA_ERROR_PROTECTED, t->protected_message);
              g_clear_pointer (&t->target, ma_target_free);
              continue;
            }
          n_authorized++;
          continue;
        }
      n_refused++;
      g_autofree char *message = g_strdup_printf (
          "You are not authorized to %s process %u (%s needed).",
          job->reclaim ? "reclaim memory of" : "inspect", t->pid, need_action (need));
      ma_job_target_fail (t, MA_ERROR_NOT_AUTHORIZED, message);
      g_clear_pointer (&t->target, ma_target_free);
    }

  if (n_refused > 0)
    {
      g_autofree char *what = g_strdup_printf ("%u of %u targets not authorized", n_refused,
                                               n_refused + n_authorized);
      log_refusal (job, what);
    }
  if (n_refused > 0 && n_authorized == 0 && job->request->access_denied)
    {
      g_autoptr (GError) error
          = g_error_new (G_DBUS_ERROR, G_DBUS_ERROR_ACCESS_DENIED,
                         "You are not authorized to %s any of the processes named.",
                         job->reclaim ? "reclaim memory of" : "inspect");
      job_fail (job, "access-denied", g_steal_pointer (&error));
      return;
    }

  if (job->request->min_idle > 0)
    {
      g_autoptr (GTask) task = g_task_new (NULL, NULL, observe_done_cb, job);

      g_task_set_task_data (task, job, NULL);
      g_task_run_in_thread (task, observe_thread);
      return;
    }
  start_engine (job);
}

static void
job_check (MaJob *job, guint need, const char *action_id)
{
  CheckClosure *closure = g_new0 (CheckClosure, 1);
  guint timeout = job->interactive ? job->context->settings->interactive_auth_timeout
                                   : job->context->settings->auth_timeout;

  closure->job = job;
  closure->need = need;
  ma_authority_check_async (job->sender, action_id, job->interactive, timeout, job->cancellable,
                            job_check_cb, closure);
}

static void
job_check_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autofree CheckClosure *closure = user_data;
  MaJob *job = closure->job;
  g_autoptr (GError) error = NULL;

  if (ma_authority_check_finish (result, &error))
    job->granted |= closure->need;
  else
    g_debug ("%s from %s: %s", method_name (job), job->sender, error->message);

  if (--job->pending_checks == 0)
    job_authorized (job);
}

static void
open_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  MaJob *job = user_data;
  guint needed = 0;

  if (job->call_error != NULL)
    {
      log_refusal (job, job->call_error->message);
      job_fail (job, "invalid-args", g_steal_pointer (&job->call_error));
      return;
    }

  for (guint i = 0; i < job->targets->len; i++)
    {
      MaJobTarget *t = &g_array_index (job->targets, MaJobTarget, i);

      if (!t->failed)
        needed |= target_need (job, t);
    }

  if (needed == 0)
    {
      job_authorized (job);
      return;
    }

  /* One check per action the call needs, not one per target; all are
   * counted before any is started, so none can finish the count early. */
  job->pending_checks = (guint) __builtin_popcount (needed);
  for (guint need = 1; need <= NEED_INSPECT_OTHER; need <<= 1)
    if (needed & need)
      job_check (job, need, need_action (need));
}

static void
open_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  ma_job_open_targets (task_data);
  g_task_return_boolean (task, TRUE);
}

static void
polkit_pid_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  MaJob *job = user_data;
  g_autoptr (GTask) task = NULL;

  job->protection.polkit_pid = ma_authority_get_name_pid_finish (result);
  task = g_task_new (NULL, NULL, open_done_cb, job);
  g_task_set_task_data (task, job, NULL);
  g_task_run_in_thread (task, open_thread);
}

/* A sliding window of call times per uid. Root is not limited: it is
 * already all-powerful, and scripts of administrators must not be Busy. */
static gboolean
rate_limit_allows (MaContext *context, uid_t uid)
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

static void
caller_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  MaJob *job = user_data;
  g_autoptr (GError) error = NULL;

  job->caller = ma_authority_get_caller_finish (result, &error);
  if (job->caller != NULL)
    job->uid = job->caller->uid;
  else
    {
      g_autoptr (GError) denied = g_error_new (G_DBUS_ERROR, G_DBUS_ERROR_ACCESS_DENIED,
                                               "Could not identify the caller: %s", error->message);
      job->uid = (uid_t) -1;
      log_refusal (job, denied->message);
      job_fail (job, "access-denied", g_steal_pointer (&denied));
      return;
    }

  if (!rate_limit_allows (job->context, job->uid))
    {
      log_refusal (job, "rate limit reached");
      job_fail (job, "busy",
                g_error_new (MA_DBUS_ERROR, MA_DBUS_ERROR_BUSY,
                             "Too many calls from this user in the last minute; try later."));
      return;
    }

  ma_stats_add_call (job->context->stats, job->reclaim);
  g_debug ("%s from %s (uid %d): %u targets, mode %s, percent %u, max-bytes %" G_GUINT64_FORMAT
           ", order %s, min-idle %u, threads %u",
           method_name (job), job->sender, (int) job->uid,
           job->request->pidfds != NULL ? job->request->pidfds->len : job->request->pids->len,
           ma_mode_to_string (job->request->mode), job->request->percent, job->request->max_bytes,
           job->request->order == MA_ORDER_ADDRESS ? "address" : "coldest", job->request->min_idle,
           job->request->threads);

  ma_authority_get_name_pid_async (job->context->connection, "org.freedesktop.PolicyKit1", NULL,
                                   polkit_pid_cb, job);
}

void
ma_job_start (MaContext *context, GDBusMethodInvocation *invocation, gboolean reclaim,
              MaRequest *request)
{
  MaJob *job;
  GDBusMessage *message = g_dbus_method_invocation_get_message (invocation);

  if (context->jobs_in_flight >= context->settings->max_jobs)
    {
      ma_request_free (request);
      ma_stats_add_refused_call (context->stats, "busy");
      g_dbus_method_invocation_return_error (invocation, MA_DBUS_ERROR, MA_DBUS_ERROR_BUSY,
                                             "%u calls are already running; try later.",
                                             context->jobs_in_flight);
      g_object_unref (invocation);
      return;
    }

  job = g_new0 (MaJob, 1);
  context->jobs_in_flight++;
  job->context = context;
  job->invocation = invocation;
  job->sender = g_strdup (g_dbus_method_invocation_get_sender (invocation));
  job->reclaim = reclaim;
  job->request = request;
  job->uid = (uid_t) -1;
  job->cancellable = g_cancellable_new ();
  job->started = g_get_monotonic_time ();
  job->interactive
      = (g_dbus_message_get_flags (message) & G_DBUS_MESSAGE_FLAGS_ALLOW_INTERACTIVE_AUTHORIZATION)
        != 0;
  job->protection.bus_pid = context->bus_pid;
  job->protection.names = (const char *const *) context->settings->protect_names;
  job->protection.cgroups = (const char *const *) context->settings->protect_cgroups;

  /* When the caller leaves the bus, its work stops at the next batch. */
  job->watch_id = g_bus_watch_name_on_connection (context->connection, job->sender,
                                                  G_BUS_NAME_WATCHER_FLAGS_NONE, NULL,
                                                  name_vanished_cb, job, NULL);

  ma_authority_get_caller_async (context->connection, job->sender, NULL, caller_cb, job);
}
