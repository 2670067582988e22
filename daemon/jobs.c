/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The life of one Plan or Reclaim call, on the main thread: caller
 * identity, limits, its turn in the queue, authorization, and the
 * hand-off of engine work to GTask worker threads (job-targets.c).
 * Nothing here blocks.
 *
 * A call is admitted to the queue (queue.c) or refused Busy; with a place
 * it lists its cgroup and opens and classifies its targets. If polkit
 * must be asked, it closes them, gives its place back and waits for the
 * answer holding neither; authorized, it waits for a place again, opens
 * the targets again and does the work. memadvised(8), LIMITS AND JOBS.
 */
#include "config.h"

#include "authority.h"
#include "cgroups.h"
#include "ma-dbus-error.h"
#include "jobs.h"

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

static void job_check_next (MaJob *job);

/* A step of a job that blocks (work.c): run on a GTask worker thread,
 * @done then runs on the main thread. */
typedef struct
{
  MaJob *job;
  void (*step) (MaJob *job);
} Step;

static void
step_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  Step *s = task_data;

  s->step (s->job);
  g_task_return_boolean (task, TRUE);
}

static void
run_step (MaJob *job, void (*step) (MaJob *job), GAsyncReadyCallback done)
{
  g_autoptr (GTask) task = g_task_new (NULL, NULL, done, job);
  Step *s = g_new (Step, 1);

  s->job = job;
  s->step = step;
  g_task_set_task_data (task, s, g_free);
  g_task_run_in_thread (task, step_thread);
}

static void
job_free (MaJob *job)
{
  g_assert (job->wait_id == 0);
  ma_job_deadline_stop (job);
  if (job->item != NULL)
    {
      ma_queue_remove (job->context->queue, job->item);
      ma_jobs_schedule_dispatch (job->context);
    }
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
  g_clear_pointer (&job->results, g_variant_unref);
  g_clear_error (&job->prepare_error);
  g_clear_pointer (&job->caller, ma_caller_credentials_free);
  g_clear_error (&job->call_error);
  g_clear_object (&job->cancellable);
  g_clear_object (&job->invocation);
  g_free (job->cgroup);
  g_free (job->sender);
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

static gboolean
caller_left (MaJob *job)
{
  return g_cancellable_is_cancelled (job->cancellable) && !g_atomic_int_get (&job->timed_out);
}

/* The caller left before the work began: nothing is done and nobody is
 * answered. */
static void
job_drop (MaJob *job)
{
  g_debug ("%s from %s (uid %d): the caller left before its work began; dropped", job->method,
           job->sender, (int) job->uid);
  ma_stats_add_cancelled_call (job->context->stats);
  /* The reference to the invocation that a reply would have taken over:
   * the method call hands it to its handler, the job keeps one more. */
  g_object_unref (job->invocation);
  job_free (job);
}

/* g_log_structured() takes the other fields as plain strings and MESSAGE
 * last: whatever follows MESSAGE is read as arguments of its format. */
static void
log_refusal (MaJob *job, const char *what)
{
  g_autofree char *uid = g_strdup_printf ("%d", (int) job->uid);

  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "MA_METHOD", job->method, "MA_CALLER",
                    job->sender, "MA_CALLER_UID", uid, "MESSAGE", "%s from %s (uid %s) refused: %s",
                    job->method, job->sender, uid, what);
}

static void
log_target_failure (MaJob *job, const MaJobTarget *t)
{
  g_autofree char *uid = g_strdup_printf ("%d", (int) job->uid);

  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "MA_METHOD", job->method, "MA_CALLER_UID",
                    uid, "MA_TARGET_ERROR", ma_error_to_string (t->error), "MESSAGE",
                    "%s of process %u for uid %s failed: %s", job->method, t->pid, uid, t->message);
}

static void wait_more (MaJob *job);

static void
end_wait (MaJob *job)
{
  g_source_remove (job->wait_id);
  job->wait_id = 0;
  wait_more (job);
}

static void
name_vanished_cb (GDBusConnection *connection, const char *name, gpointer user_data)
{
  MaJob *job = user_data;

  g_debug ("%s left the bus: cancelling its %s", name, job->method);
  g_cancellable_cancel (job->cancellable);
  /* A call waiting for its turn goes at once; one waiting for polkit goes
   * when the cancelled checks return; one at work stops at its next
   * batch or target. */
  if (job->state == MA_JOB_WAITING)
    job_drop (job);
  /* A min-idle wait ends now; the engine step then only records why. */
  else if (job->wait_id != 0)
    end_wait (job);
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
      /* Pages of the min-idle wait still out count when the advice did not
       * follow (the caller left). */
      if (ma_job_target_advised (t) > 0)
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
        log_target_failure (job, t);
    }
  if (g_atomic_int_get (&job->timed_out))
    ma_stats_add_timed_out_call (stats);

  results = g_steal_pointer (&job->results);
  g_debug ("%s from %s (uid %d) done in %.1f ms (planning %.1f ms, advice %.1f ms)", job->method,
           job->sender, (int) job->uid, (double) (g_get_monotonic_time () - job->started) / 1000,
           (double) plan_usec / 1000, (double) apply_usec / 1000);
  g_dbus_method_invocation_return_value (job->invocation, g_variant_new_tuple (&results, 1));
  g_variant_unref (results);
  job_free (job);
}

/* The results too are built here: with thousands of ranges, building
 * them on the main loop would hold up every other caller. */
static void
engine_step (MaJob *job)
{
  ma_job_run_engine (job);
  job->results = g_variant_ref_sink (ma_job_build_results (job));
}

static void
start_engine (MaJob *job)
{
  run_step (job, engine_step, engine_done_cb);
}

static gboolean
wait_done_cb (gpointer user_data)
{
  MaJob *job = user_data;

  job->wait_id = 0;
  wait_more (job);
  return G_SOURCE_REMOVE;
}

static void
trial_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  MaJob *job = user_data;

  job->trials_done++;
  wait_more (job);
}

/* The min-idle wait, in parts on the main loop, never in a worker: a
 * thread held for minutes per call would starve the pool. With a sample,
 * trials run during it (memadvised(8), COLDNESS); planning at the end.
 * It keeps the call's place, but not its JobTimeout: the caller asked for
 * it, bounded by MaxMinIdle. */
static void
wait_more (MaJob *job)
{
  gint64 now = g_get_monotonic_time ();
  gboolean trial_next = job->trials_done < job->trials;
  gint64 due
      = job->wait_start
        + (trial_next ? ma_trial_due_usec (job->trials_done, job->wait_usec) : job->wait_usec);

  if (g_cancellable_is_cancelled (job->cancellable))
    {
      ma_job_deadline_start (job);
      start_engine (job);
      return;
    }
  if (due > now)
    {
      g_debug ("%s from %s: waiting %" G_GINT64_FORMAT " ms for min-idle%s", job->method,
               job->sender, (due - now) / 1000, trial_next ? ", then a trial pageout" : "");
      job->wait_id = g_timeout_add ((guint) ((due - now + 999) / 1000), wait_done_cb, job);
      return;
    }
  if (trial_next)
    run_step (job, ma_job_trial, trial_done_cb);
  else
    {
      ma_job_deadline_start (job);
      start_engine (job);
    }
}

static void
observe_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  MaJob *job = user_data;

  job->wait_start = g_get_monotonic_time ();
  ma_job_deadline_stop (job);
  wait_more (job);
}

/* The targets are open and authorized: the work itself. */
static void
job_run (MaJob *job)
{
  job->state = MA_JOB_RUNNING;
  if (job->request->min_idle > 0 && !g_cancellable_is_cancelled (job->cancellable))
    {
      run_step (job, ma_job_observe, observe_done_cb);
      return;
    }
  start_engine (job);
}

/* Fails each target whose need polkit did not grant, closing it at once;
 * counts the targets authorized and refused. */
static void
apply_grants (MaJob *job, guint *out_authorized, guint *out_refused)
{
  *out_authorized = *out_refused = 0;
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
          (*out_authorized)++;
          continue;
        }
      (*out_refused)++;
      t->authorized = FALSE;
      g_autofree char *message = g_strdup_printf (
          "You are not authorized to %s process %u (%s needed).",
          job->reclaim ? "reclaim memory of" : "inspect", t->pid, need_action (need));
      ma_job_target_fail (t, MA_ERROR_NOT_AUTHORIZED, message);
      g_clear_pointer (&t->target, ma_target_free);
    }
}

static void
reopen_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  MaJob *job = user_data;
  guint n_authorized, n_refused;

  /* A target that is someone else's now needs what may not be granted. */
  apply_grants (job, &n_authorized, &n_refused);
  job_run (job);
}

/* Every check has answered: the call waits for a place again, unless
 * nothing it asked for was granted. */
static void
job_authorized (MaJob *job)
{
  guint n_authorized, n_refused;

  if (caller_left (job))
    {
      job_drop (job);
      return;
    }
  apply_grants (job, &n_authorized, &n_refused);
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
  job->state = MA_JOB_WAITING;
  ma_queue_resume (job->context->queue, job->item);
  ma_jobs_schedule_dispatch (job->context);
}

static void
job_check_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  MaJob *job = user_data;
  guint need = job->checks_left & -job->checks_left;
  g_autoptr (GError) error = NULL;

  if (ma_authority_check_finish (result, &error))
    job->granted |= need;
  else
    g_debug ("%s from %s: %s", job->method, job->sender, error->message);
  job->checks_left &= ~need;
  job_check_next (job);
}

/* One check at a time: a call has at most one polkit call in flight, so
 * the daemon's pending calls on the bus stay within MaQueued + MaxJobs
 * (the bus limits them per connection). */
static void
job_check_next (MaJob *job)
{
  guint need = job->checks_left & -job->checks_left;
  guint timeout = job->interactive ? job->context->settings->interactive_auth_timeout
                                   : job->context->settings->auth_timeout;

  if (need == 0 || caller_left (job))
    {
      job_authorized (job);
      return;
    }
  g_debug ("%s from %s: asking polkit for %s", job->method, job->sender, need_action (need));
  ma_authority_check_async (job->sender, need_action (need), job->interactive, timeout,
                            job->cancellable, job_check_cb, job);
}

static void
prepare_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  MaJob *job = user_data;
  guint needed = 0;

  job->prepared = TRUE;
  if (caller_left (job))
    {
      job_drop (job);
      return;
    }
  if (job->prepare_error != NULL)
    {
      g_debug ("%s from %s: %s", job->method, job->sender, job->prepare_error->message);
      job_fail (job, "invalid-args", g_steal_pointer (&job->prepare_error));
      return;
    }
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
  /* Nothing to ask (or no time left to ask it in: the engine step then
   * fails the targets, saying why): the work goes on in this place. */
  if (needed == 0 || g_atomic_int_get (&job->timed_out))
    {
      job_run (job);
      return;
    }

  /* Polkit may take minutes (a person typing a password): meanwhile the
   * call holds no place, no file descriptor of its targets (a pidfd call
   * keeps the pidfds it was given) and no JobTimeout. */
  ma_job_close_targets (job);
  ma_job_deadline_stop (job);
  job->state = MA_JOB_AUTHORIZING;
  ma_queue_suspend (job->context->queue, job->item);
  ma_jobs_schedule_dispatch (job->context);
  job->checks_left = needed;
  job_check_next (job);
}

/* The first work of a call: its cgroup's members, then its targets
 * opened and classified. */
static void
prepare_step (MaJob *job)
{
  if (job->cgroup != NULL)
    {
      g_autoptr (GArray) pids
          = ma_cgroup_list_members (job->cgroup, MA_DBUS_MAX_PIDS, &job->prepare_error);

      if (pids == NULL)
        return;
      g_array_append_vals (job->request->pids, pids->data, pids->len);
      job->request->cgroup = g_strdup (job->cgroup);
    }
  ma_job_open_targets (job);
}

static void
polkit_pid_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  MaJob *job = user_data;

  job->protection.polkit_pid = ma_authority_get_name_pid_finish (result);
  run_step (job, prepare_step, prepare_done_cb);
}

/* The queue gave @job a place: its first work, or, authorized, the rest. */
void
ma_job_got_place (MaJob *job)
{
  if (caller_left (job))
    {
      job_drop (job);
      return;
    }
  ma_job_deadline_start (job);
  if (!job->prepared)
    {
      job->state = MA_JOB_PREPARING;
      ma_authority_get_name_pid_async (job->context->connection, "org.freedesktop.PolicyKit1", NULL,
                                       polkit_pid_cb, job);
      return;
    }
  job->state = MA_JOB_RUNNING;
  run_step (job, ma_job_reopen_targets, reopen_done_cb);
}

static void
caller_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  MaJob *job = user_data;
  g_autoptr (GError) error = NULL;
  MaQueueAdmission admission;

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
  if (caller_left (job))
    {
      job_drop (job);
      return;
    }

  if (!ma_job_rate_limit_allows (job->context, job->uid))
    {
      log_refusal (job, "rate limit reached");
      job_fail (job, "busy",
                g_error_new (MA_DBUS_ERROR, MA_DBUS_ERROR_BUSY,
                             "Too many calls from this user in the last minute; try later."));
      return;
    }

  admission = ma_queue_admit (job->context->queue, job->uid, job, &job->item);
  if (admission == MA_QUEUE_FULL_FOR_UID || admission == MA_QUEUE_FULL)
    {
      g_autoptr (GError) busy = ma_job_busy_error (job->context->settings, admission);

      log_refusal (job, busy->message);
      job_fail (job, "busy", g_steal_pointer (&busy));
      return;
    }

  ma_stats_add_call (job->context->stats, job->reclaim);
  g_debug ("%s from %s (uid %d): %u targets%s%s, mode %s, percent %u, max-bytes %" G_GUINT64_FORMAT
           ", order %s, min-idle %u, threads %u",
           job->method, job->sender, (int) job->uid,
           job->request->pidfds != NULL ? job->request->pidfds->len : job->request->pids->len,
           job->cgroup != NULL ? " of cgroup " : "", job->cgroup != NULL ? job->cgroup : "",
           ma_mode_to_string (job->request->mode), job->request->percent, job->request->max_bytes,
           job->request->order == MA_ORDER_ADDRESS ? "address" : "coldest", job->request->min_idle,
           job->request->threads);
  job->state = MA_JOB_WAITING;
  if (admission == MA_QUEUE_RUN)
    ma_job_got_place (job);
  else
    g_debug ("%s from %s (uid %d) waits its turn", job->method, job->sender, (int) job->uid);
}

void
ma_job_start (MaContext *context, GDBusMethodInvocation *invocation, gboolean reclaim,
              MaRequest *request, const char *cgroup)
{
  MaJob *job;
  GDBusMessage *message = g_dbus_method_invocation_get_message (invocation);

  job = g_new0 (MaJob, 1);
  job->context = context;
  job->invocation = invocation;
  job->sender = g_strdup (g_dbus_method_invocation_get_sender (invocation));
  job->reclaim = reclaim;
  job->method = cgroup != NULL ? (reclaim ? "ReclaimCgroup" : "PlanCgroup")
                               : (reclaim ? "Reclaim" : "Plan");
  job->request = request;
  job->cgroup = g_strdup (cgroup);
  job->uid = (uid_t) -1;
  job->state = MA_JOB_STARTING;
  job->cancellable = g_cancellable_new ();
  job->started = g_get_monotonic_time ();
  job->map_left = MA_RESULTS_MAX_MAP_PER_CALL;
  job->deadline_left = (gint64) context->settings->job_timeout * G_USEC_PER_SEC;
  job->interactive
      = (g_dbus_message_get_flags (message) & G_DBUS_MESSAGE_FLAGS_ALLOW_INTERACTIVE_AUTHORIZATION)
        != 0;
  job->protection.bus_pid = context->bus_pid;
  job->protection.names = (const char *const *) context->settings->protect_names;
  job->protection.cgroups = (const char *const *) context->settings->protect_cgroups;

  /* When the caller leaves the bus, a waiting call goes and a running one
   * stops at the next batch. */
  job->watch_id = g_bus_watch_name_on_connection (context->connection, job->sender,
                                                  G_BUS_NAME_WATCHER_FLAGS_NONE, NULL,
                                                  name_vanished_cb, job, NULL);

  ma_authority_get_caller_async (context->connection, job->sender, NULL, caller_cb, job);
}
