/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The parts of a call that touch processes, run on GTask worker threads,
 * after they were opened (job-open.c): observing, planning and applying
 * advice.
 */
#include "config.h"

#include "credentials.h"
#include "jobs.h"
#include "ma-dbus-names.h"

#define PROGRESS_INTERVAL_USEC (G_USEC_PER_SEC / 10)

void
ma_job_target_fail (MaJobTarget *t, MaError code, const char *message)
{
  t->failed = TRUE;
  t->error = code;
  g_free (t->message);
  t->message = g_strdup (message);
}

void
ma_job_target_fail_error (MaJobTarget *t, const GError *error)
{
  MaError code = MA_ERROR_FAILED;

  if (error->domain == MA_ERROR)
    code = (MaError) error->code;
  /* Codes without a result nick of their own. */
  if (code == MA_ERROR_INVALID_ARGUMENT)
    code = MA_ERROR_NO_SUCH_PROCESS;
  else if (code == MA_ERROR_CANCELLED)
    code = MA_ERROR_FAILED;
  ma_job_target_fail (t, code, error->message);
}

/* Runs @t's step with the caller's fsuid when @t is the caller's own: then
 * the kernel's ptrace access checks decide at each read and each
 * process_madvise, which no classification done earlier can race. */
static gboolean
enter_target (MaJob *job, MaJobTarget *t, gid_t gid, MaCredentialsSwitch *sw)
{
  g_autoptr (GError) error = NULL;

  sw->active = FALSE;
  sw->was_active = FALSE;
  if (!t->own || !job->context->can_switch_credentials || job->uid == 0)
    return TRUE;
  if (ma_credentials_switch_to (job->uid, gid, t->keep_ptrace, sw, &error))
    return TRUE;
  ma_job_target_fail (t, MA_ERROR_FAILED, error->message);
  return FALSE;
}

/* After a step on an own target: it ran on the strength of what the
 * target was when it was opened. Where the kernel's own check did not
 * decide at each access (a daemon without CAP_SETUID, or a race this
 * does not foresee), a target whose credentials changed meanwhile (a
 * setuid exec) must not have its ranges or figures reported: the step's
 * results are dropped and it fails. FALSE then. */
static gboolean
still_own (MaJob *job, MaJobTarget *t)
{
  g_autoptr (GError) error = NULL;

  if (!t->own || job->uid == 0 || ma_target_verify_credentials (t->target, &error))
    return TRUE;
  ma_job_target_fail_error (t, error);
  g_clear_pointer (&t->plan, ma_plan_free);
  g_clear_pointer (&t->sample, ma_sample_free);
  t->applied = FALSE;
  return FALSE;
}

static void
progress_cb (guint64 done_bytes, guint64 planned_bytes, gpointer user_data)
{
  MaJob *job = user_data;
  gint64 now = g_get_monotonic_time ();
  gboolean last = job->progress_base + done_bytes >= job->progress_planned;

  /* At most ten a second, to the caller only; the last always goes out,
   * so that the caller sees the work complete. */
  if (!last && now - job->progress_last < PROGRESS_INTERVAL_USEC)
    return;
  job->progress_last = now;
  g_dbus_connection_emit_signal (
      job->context->connection, job->sender, MA_DBUS_OBJECT_PATH, MA_DBUS_INTERFACE, "Progress",
      g_variant_new ("(tt)", job->progress_base + done_bytes, job->progress_planned), NULL);
}

/* Why the work stopped before @t was done with: the caller left, or
 * JobTimeout ran out (then with how far @t got, once it was advised). */
static char *
stopped_message (MaJob *job, const MaJobTarget *t)
{
  guint timeout = job->context->settings->job_timeout;

  if (!g_atomic_int_get (&job->timed_out))
    return g_strdup ("The caller left the bus, so the work stopped.");
  if (t->plan != NULL && job->reclaim && (t->applied || t->apply.skipped_bytes > 0))
    return g_strdup_printf ("The call ran out of time (JobTimeout is %u s) with %" G_GUINT64_FORMAT
                            " of %" G_GUINT64_FORMAT " planned bytes advised; what was "
                            "advised stays advised.",
                            timeout, ma_job_target_advised (t), t->plan->planned_bytes);
  return g_strdup_printf (
      "The call ran out of time (JobTimeout is %u s) before this process was %s.", timeout,
      t->plan != NULL ? "advised" : "planned");
}

static void
fail_stopped (MaJob *job, MaJobTarget *t)
{
  g_autofree char *message = stopped_message (job, t);

  ma_job_target_fail (t, MA_ERROR_FAILED, message);
}

/* The kernel's own check refused the caller: say so in a sentence. */
static void
fail_restricted (MaJobTarget *t, const GError *error)
{
  g_autofree char *message = g_strdup_printf (
      "The kernel refused you access to process %u: it runs with credentials that are not all "
      "yours (such as another group).",
      t->pid);

  ma_job_target_fail (t, MA_ERROR_NOT_AUTHORIZED, message);
  g_debug ("process %u: %s", t->pid, error->message);
}

/* Within enter_target(): clear_refs is opened with the call's credentials.
 * A dedicated service user may not write another user's clear_refs (mode
 * 0200, no CAP_DAC_OVERRIDE): the plan then ranks without an observation,
 * which is no reason to fail the target. */
static MaKeptObservation *
start_observation (MaJob *job, MaJobTarget *t)
{
  g_autoptr (GError) error = NULL;
  MaKeptObservation *kept;

  kept = ma_observations_start (job->context->observations, t->target, &error);
  if (kept == NULL)
    g_debug ("process %u: no observation of its accesses: %s", t->pid, error->message);
  return kept;
}

static MaPlanRequest
plan_request (MaJob *job)
{
  return (MaPlanRequest){
    .mode = job->request->mode,
    .percent = job->request->percent,
    .max_bytes = job->request->max_bytes,
    .order = job->request->order,
    .threads = job->request->threads,
    .hold_usec = (gint64) job->context->settings->refault_hold * G_USEC_PER_SEC,
  };
}

/* What the daemon keeps of @t, for a request of order coldest: its
 * observation and its refault knowledge, held until @kept and @refaults
 * are dropped. */
static void
add_knowledge (MaJob *job, MaJobTarget *t, MaPlanRequest *request, MaKeptObservation **kept,
               MaKeptRefaults **refaults)
{
  *kept = NULL;
  *refaults = NULL;
  if (job->request->order != MA_ORDER_COLDEST)
    return;
  *kept = ma_observations_lookup (job->context->observations, t->target);
  *refaults = ma_observations_lookup_refaults (job->context->observations, t->target);
  if (*kept != NULL)
    request->observation = ma_kept_observation_get (*kept);
  if (*refaults != NULL)
    request->refaults = ma_kept_refaults_get (*refaults);
  request->sample = t->sample;
}

/* A sample that cannot be taken leaves the target to be planned without
 * one; a target that is gone fails as it would in planning. */
static void
sample_target (MaJob *job, MaJobTarget *t, gid_t gid)
{
  MaPlanRequest request = plan_request (job);
  g_autoptr (MaKeptObservation) kept = NULL;
  g_autoptr (MaKeptRefaults) refaults = NULL;
  MaCredentialsSwitch sw;
  g_autoptr (GError) error = NULL;

  /* Pages known hot and held are not sampled again. */
  add_knowledge (job, t, &request, &kept, &refaults);
  if (!enter_target (job, t, gid, &sw))
    return;
  t->sample = ma_target_sample (t->target, &request, &error);
  ma_credentials_restore (&sw);
  if (t->sample != NULL)
    still_own (job, t);
  else if (g_error_matches (error, MA_ERROR, MA_ERROR_EXITED))
    ma_job_target_fail_error (t, error);
  else
    g_debug ("process %u: no access sample: %s", t->pid, error->message);
}

void
ma_job_observe (MaJob *job)
{
  gid_t gid = ma_job_caller_gid (job->uid);
  gint64 min_idle_usec = (gint64) job->request->min_idle * G_USEC_PER_SEC;

  /* Every target's observation first, so the call waits once for all. */
  job->wait_usec = 0;
  for (guint i = 0; i < job->targets->len; i++)
    {
      MaJobTarget *t = &g_array_index (job->targets, MaJobTarget, i);
      g_autoptr (MaKeptObservation) kept = NULL;
      MaCredentialsSwitch sw;

      if (t->failed || g_cancellable_is_cancelled (job->cancellable))
        continue;
      /* An observation younger than min-idle is waited for, not restarted:
       * restarting would throw away what it already knows. */
      kept = ma_observations_lookup (job->context->observations, t->target);
      if (kept == NULL)
        {
          if (!enter_target (job, t, gid, &sw))
            continue;
          kept = start_observation (job, t);
          ma_credentials_restore (&sw);
        }
      if (kept != NULL)
        job->wait_usec
            = MAX (job->wait_usec,
                   min_idle_usec - ma_observation_get_age_usec (ma_kept_observation_get (kept)));
      /* Pages inside a mapping are told apart only by trapping: a pageout
       * Reclaim pages out a sample now and reads it back after the wait. */
      if (job->reclaim && job->request->mode == MA_MODE_PAGEOUT && !t->failed)
        {
          sample_target (job, t, gid);
          if (t->sample != NULL)
            {
              job->wait_usec = MAX (job->wait_usec, min_idle_usec);
              job->trials = MA_TRIALS;
            }
        }
    }
}

/* A step that failed in the kernel's own access check, or otherwise. */
static void
fail_step (MaJobTarget *t, const MaCredentialsSwitch *sw, const GError *error)
{
  if (sw->was_active && g_error_matches (error, MA_ERROR, MA_ERROR_NOT_AUTHORIZED))
    fail_restricted (t, error);
  else
    ma_job_target_fail_error (t, error);
}

/* A trial during the wait (memadvised(8), COLDNESS). Its plan and advice
 * stand as the target's until the next trial or the plan at the end of the
 * wait replaces them (each counts the pages still out of those before), so
 * that a call stopped in between reports what it did. */
static void
trial_target (MaJob *job, MaJobTarget *t, gid_t gid)
{
  MaPlanRequest request = plan_request (job);
  g_autoptr (MaKeptObservation) kept = NULL;
  g_autoptr (MaKeptRefaults) refaults = NULL;
  MaCredentialsSwitch sw;
  g_autoptr (GError) error = NULL;
  gboolean ok;

  add_knowledge (job, t, &request, &kept, &refaults);
  if (!enter_target (job, t, gid, &sw))
    return;
  g_clear_pointer (&t->plan, ma_plan_free);
  ok = ma_target_trial (t->target, &request, t->sample, job->cancellable, &t->plan, &t->apply,
                        &error);
  ma_credentials_restore (&sw);
  t->applied = t->apply.advised_bytes > 0;
  g_debug ("process %u: the trial paged out %" G_GUINT64_FORMAT " bytes", t->pid,
           t->apply.advised_bytes);
  if (ok || g_error_matches (error, MA_ERROR, MA_ERROR_CANCELLED))
    {
      if (t->plan != NULL)
        still_own (job, t);
      return;
    }
  fail_step (t, &sw, error);
}

void
ma_job_trial (MaJob *job)
{
  gid_t gid = ma_job_caller_gid (job->uid);

  for (guint i = 0; i < job->targets->len; i++)
    {
      MaJobTarget *t = &g_array_index (job->targets, MaJobTarget, i);

      if (t->failed || t->sample == NULL || g_cancellable_is_cancelled (job->cancellable))
        continue;
      trial_target (job, t, gid);
    }
}

static void
plan_target (MaJob *job, MaJobTarget *t, gid_t gid)
{
  MaPlanRequest request = plan_request (job);
  g_autoptr (MaKeptObservation) kept = NULL;
  g_autoptr (MaKeptRefaults) refaults = NULL;
  MaCredentialsSwitch sw;
  g_autoptr (GError) error = NULL;

  MaPlan *plan;

  add_knowledge (job, t, &request, &kept, &refaults);
  /* The maps of a call draw at most MA_RESULTS_MAX_MAP_PER_CALL mappings,
   * first come: the engine draws no more than the results send. */
  request.map = job->request->map;
  request.map_mappings = MIN (MA_RESULTS_MAX_MAP_PER_TARGET, job->map_left);
  if (!enter_target (job, t, gid, &sw))
    return;
  plan = ma_target_plan (t->target, &request, &error);
  ma_credentials_restore (&sw);
  if (plan == NULL)
    {
      fail_step (t, &sw, error);
      return;
    }
  /* The last trial's plan, if any, is part of this one now. */
  g_clear_pointer (&t->plan, ma_plan_free);
  t->plan = plan;
  t->applied = FALSE;
  t->apply = (MaApplyResult){ 0 };
  if (still_own (job, t) && plan->map != NULL)
    job->map_left -= plan->map->mappings->len;
}

/* Within enter_target(): reads pagemap with the call's credentials. */
static void
remember_pageout (MaJob *job, MaJobTarget *t)
{
  g_autoptr (MaKeptRefaults) previous = NULL;
  g_autoptr (GError) error = NULL;
  MaRefaults *refaults;

  previous = ma_observations_lookup_refaults (job->context->observations, t->target);
  refaults = ma_refaults_update (t->target, t->plan, t->applied, t->sample,
                                 previous != NULL ? ma_kept_refaults_get (previous) : NULL, &error);
  if (refaults == NULL)
    {
      g_debug ("process %u: what its pageout left is not known: %s", t->pid, error->message);
      return;
    }
  ma_observations_keep_refaults (job->context->observations, t->target, refaults);
}

/* Within enter_target(): the map of a Reclaim shows the target after the
 * advice, read with the call's credentials. One that cannot be read again
 * (the process exited just after) is dropped: the target is still done. */
static void
redraw_map (MaJobTarget *t)
{
  g_autoptr (GError) error = NULL;

  if (!ma_target_redraw_map (t->target, t->plan, &error))
    g_debug ("process %u: no map after the advice: %s", t->pid, error->message);
}

static void
apply_target (MaJob *job, MaJobTarget *t, gid_t gid)
{
  g_autoptr (MaKeptObservation) kept = NULL;
  MaCredentialsSwitch sw;
  g_autoptr (GError) error = NULL;
  gboolean ok;

  if (!enter_target (job, t, gid, &sw))
    return;
  ok = ma_target_apply (t->target, t->plan, job->cancellable, progress_cb, job, &t->apply, &error);
  /* Whatever the kernel accepted counts, also when the work stopped. */
  t->applied = ok || t->apply.advised_bytes > 0;
  /* From now on, what the target touches is what it still uses: the next
   * call ranks by it. */
  if (t->applied && job->context->settings->track_access
      && !g_cancellable_is_cancelled (job->cancellable))
    kept = start_observation (job, t);
  /* Which pages left, and what the plan learnt, for the next call. */
  if (job->request->mode == MA_MODE_PAGEOUT && job->context->settings->track_access)
    remember_pageout (job, t);
  /* A target whose work stopped or failed has no map (results.c). */
  if (ok && t->plan->map != NULL)
    redraw_map (t);
  ma_credentials_restore (&sw);
  job->progress_base += t->apply.advised_bytes + t->apply.skipped_bytes;
  if (t->applied && !still_own (job, t))
    return;
  if (ok)
    return;
  if (g_error_matches (error, MA_ERROR, MA_ERROR_CANCELLED))
    fail_stopped (job, t);
  else
    fail_step (t, &sw, error);
}

/* The work stopped before @t's advice (the caller left, or the call ran
 * out of time): it fails, and what the wait's sample and trial paged out
 * is remembered like any pageout. */
static void
stop_target (MaJob *job, MaJobTarget *t, gid_t gid)
{
  MaCredentialsSwitch sw;

  fail_stopped (job, t);
  if (t->sample == NULL || t->target == NULL || !job->context->settings->track_access)
    return;
  if (!enter_target (job, t, gid, &sw))
    return;
  remember_pageout (job, t);
  ma_credentials_restore (&sw);
}

void
ma_job_run_engine (MaJob *job)
{
  gid_t gid = ma_job_caller_gid (job->uid);

  /* Plan every target first, so Progress knows the whole amount. */
  for (guint i = 0; i < job->targets->len; i++)
    {
      MaJobTarget *t = &g_array_index (job->targets, MaJobTarget, i);

      if (t->failed)
        continue;
      if (g_cancellable_is_cancelled (job->cancellable))
        {
          stop_target (job, t, gid);
          continue;
        }
      plan_target (job, t, gid);
      if (t->plan == NULL)
        continue;
      job->progress_planned += t->plan->planned_bytes;
      /* The sample's and the trials' pages still out are planned, and done. */
      job->progress_base += t->plan->sampled_out_bytes;
    }

  if (!job->reclaim)
    return;
  /* The advice begins: the caller sees what the wait did already. */
  if (job->progress_planned > 0 && !g_cancellable_is_cancelled (job->cancellable))
    progress_cb (0, 0, job);

  for (guint i = 0; i < job->targets->len; i++)
    {
      MaJobTarget *t = &g_array_index (job->targets, MaJobTarget, i);

      if (t->failed || t->plan == NULL)
        continue;
      if (g_cancellable_is_cancelled (job->cancellable))
        {
          stop_target (job, t, gid);
          continue;
        }
      apply_target (job, t, gid);
    }
}
