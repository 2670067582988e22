/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The first step of a call on a GTask worker thread: what the caller's
 * /proc shows, and each target opened (by pid, or from a pidfd), told
 * apart from what the caller may not see, and classified (own, protected).
 */
#include "config.h"

#include <pwd.h>
#include <string.h>

#include "jobs.h"

/* The fsgid for own-process work: the caller's primary group. A process
 * of the caller running with another group (setgid, newgrp) then fails
 * the kernel's check, as it should. Without a passwd entry, uid = gid. */
gid_t
ma_job_caller_gid (uid_t uid)
{
  struct passwd pwd, *found = NULL;
  char buf[4096];

  if (getpwuid_r (uid, &pwd, buf, sizeof buf, &found) == 0 && found != NULL)
    return found->pw_gid;
  return (gid_t) uid;
}

/* What the caller's /proc shows (visibility.h), read through its own
 * pidfd: the process the bus says connected, which must still have the
 * euid the bus saw. A caller that cannot be read sees its own processes
 * only. Also says whether it shares the daemon's pid namespace. */
static void
read_caller_view (MaJob *job)
{
  MaCallerView *view = &job->view;
  g_autoptr (MaTarget) caller = NULL;
  g_autoptr (GError) error = NULL;
  MaUserns userns;
  const uid_t *uids;

  job->caller_shares_pid_ns = TRUE;
  ma_visibility_fallback (view, job->uid, ma_job_caller_gid (job->uid));
  view->groups = (const guint32 *) job->caller->groups->data;
  view->n_groups = job->caller->groups->len;
  if (job->uid == 0)
    return;
  if (job->caller->pid == 0)
    {
      g_debug ("%s: the bus did not say which process it is; it sees its own processes only",
               job->sender);
      return;
    }
  caller = ma_target_open_any ((pid_t) job->caller->pid, &error);
  if (caller == NULL)
    {
      g_debug ("%s: cannot read process %u (%s); it sees its own processes only", job->sender,
               job->caller->pid, error->message);
      return;
    }
  uids = ma_target_get_uids (caller);
  if (uids[1] != job->uid)
    {
      g_debug ("%s: process %u is not the one that connected; it sees its own processes only",
               job->sender, job->caller->pid);
      return;
    }
  if (!ma_target_shares_pid_ns (caller, &job->caller_shares_pid_ns, &error)
      || !ma_target_read_userns (caller, job->uid, &userns, &error)
      || !ma_target_read_proc_mount (caller, &view->mounts[0], &error)
      || !ma_read_own_proc_mount (&view->mounts[1], &error))
    {
      g_debug ("%s: %s; it sees its own processes only", job->sender, error->message);
      ma_visibility_fallback (view, job->uid, ma_job_caller_gid (job->uid));
      view->groups = (const guint32 *) job->caller->groups->data;
      view->n_groups = job->caller->groups->len;
      return;
    }
  view->n_mounts = 2;
  view->fsuid = uids[3];
  view->fsgid = ma_target_get_gids (caller)[3];
  view->cap_eff = ma_target_get_cap_eff (caller);
  view->in_daemon_userns = !userns.nested;
}

/* Whether the target is still in the cgroup the call listed it from:
 * between the listing and the pidfd the pid may have been reused by a
 * process elsewhere. */
static gboolean
still_in_cgroup (MaTarget *target, const char *cgroup)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = NULL;

  if (!ma_target_read_cgroup (target, &path, &error) || path == NULL)
    return FALSE;
  return ma_classify_cgroup_is_below (path, cgroup);
}

/* With a cgroup call, whether @t is still below the cgroup; if not it
 * fails as exited, the message saying it @what. */
static gboolean
still_member (MaJob *job, MaJobTarget *t, const char *what)
{
  g_autofree char *gone = NULL;

  if (job->request->cgroup == NULL || still_in_cgroup (t->target, job->request->cgroup))
    return TRUE;
  gone = g_strdup_printf ("Process %u %s.", t->pid, what);
  ma_job_target_fail (t, MA_ERROR_EXITED, gone);
  g_clear_pointer (&t->target, ma_target_free);
  return FALSE;
}

/* The facts of @t's open target, with its user namespace as the caller
 * sees it; sets @userns. */
static void
target_facts (MaJob *job, MaJobTarget *t, MaTargetFacts *facts, MaUserns *userns)
{
  g_autoptr (GError) error = NULL;

  ma_classify_facts_of (t->target, facts);
  memset (userns, 0, sizeof *userns);
  if (job->uid != 0 && !ma_target_read_userns (t->target, job->uid, userns, &error))
    {
      /* Unknown: as if not the caller's namespace. */
      g_debug ("process %u: %s", t->pid, error->message);
      userns->nested = TRUE;
      userns->owned = userns->owned_top = FALSE;
    }
  facts->userns_nested = userns->nested;
  facts->userns_caller_owned = userns->owned_top;
}

/* Opens target @i of the request: a pid, or a pidfd the caller gave. */
static MaTarget *
open_target (MaJob *job, MaJobTarget *t, guint i, GError **error)
{
  GArray *pidfds = job->request->pidfds;
  MaTarget *target;

  if (pidfds != NULL)
    {
      target = ma_target_open_pidfd (g_array_index (pidfds, int, i), error);
      if (target != NULL)
        t->pid = (guint32) ma_target_get_pid (target);
      return target;
    }
  t->pid = g_array_index (job->request->pids, guint32, i);
  /* Pid 0 is not a process: a per-target failure, like any pid that
   * names none, so one bad entry does not sink a whole list. */
  if (t->pid == 0 || t->pid > G_MAXINT32)
    {
      g_set_error (error, MA_ERROR, MA_ERROR_NO_SUCH_PROCESS, "%u is not a process id.", t->pid);
      return NULL;
    }
  return ma_target_open_any ((pid_t) t->pid, error);
}

/* Leaves @t out of the call: no authorization, no work, no results. */
static void
drop_target (MaJobTarget *t)
{
  t->dropped = TRUE;
  t->failed = TRUE;
  t->error = MA_ERROR_FAILED;
  g_clear_pointer (&t->target, ma_target_free);
}

/* A second pidfd of a process named earlier in the call. */
static gboolean
named_before (MaJob *job, guint i)
{
  MaTarget *target = g_array_index (job->targets, MaJobTarget, i).target;

  for (guint j = 0; j < i; j++)
    {
      const MaJobTarget *earlier = &g_array_index (job->targets, MaJobTarget, j);

      if (earlier->target != NULL && !earlier->dropped
          && ma_target_get_pid (earlier->target) == ma_target_get_pid (target)
          && ma_target_get_start_time (earlier->target) == ma_target_get_start_time (target))
        return TRUE;
    }
  return FALSE;
}

/* What the caller sees of @t's open target, and its user namespace as
 * the caller sees it (@userns); FALSE when that is nothing: then @t
 * failed as if there were no such process, or, a cgroup's member the
 * caller did not name, was left out. */
static gboolean
see_target (MaJob *job, MaJobTarget *t, MaUserns *userns)
{
  MaTargetFacts facts;

  target_facts (job, t, &facts, userns);
  t->seen = ma_visibility_seen (&facts, &job->view);
  /* A caller holding a pidfd knows the process exists. */
  if (job->request->pidfds != NULL)
    t->seen = MAX (t->seen, MA_SEEN_EXISTS);
  if (t->seen != MA_SEEN_NOTHING)
    return TRUE;
  /* Hidden from the caller's /proc: exactly as if there were no such
   * process; a cgroup's member the caller did not name is left out. */
  if (job->request->cgroup != NULL)
    drop_target (t);
  else
    {
      g_autofree char *none = g_strdup_printf ("There is no process %u.", t->pid);
      ma_job_target_fail (t, MA_ERROR_NO_SUCH_PROCESS, none);
      g_clear_pointer (&t->target, ma_target_free);
    }
  return FALSE;
}

/* Classifies @t's open target, which the caller sees, in @userns:
 * usable, protected, own. Not authorized yet (apply_grants() comes after),
 * the caller learns why it is protected only if it may read it. */
static void
classify_target (MaJob *job, MaJobTarget *t, const MaUserns *userns)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *message = NULL;

  g_clear_pointer (&t->comm, g_free);
  g_clear_pointer (&t->protected_message, g_free);
  t->comm = g_strdup (ma_target_get_comm (t->target));
  t->uid = ma_target_get_uids (t->target)[0];
  t->start_time = ma_target_get_start_time (t->target);

  if (!ma_target_check_usable (t->target, &error))
    {
      ma_job_target_fail_error (t, error);
      g_clear_pointer (&t->target, ma_target_free);
      return;
    }
  if (ma_classify_protected (t->target, &job->protection, &message))
    {
      /* Its name or cgroup in the message, and that it is protected at
       * all, are for a caller who may read them. */
      if (t->seen == MA_SEEN_READABLE)
        {
          ma_job_target_fail (t, MA_ERROR_PROTECTED, message);
          g_clear_pointer (&t->target, ma_target_free);
          return;
        }
      t->protected_message = g_steal_pointer (&message);
    }
  t->own = ma_classify_own (t->target, job->uid);
  t->keep_ptrace = t->own && userns->nested && userns->owned && !userns->root_mapped;
}

void
ma_job_open_targets (MaJob *job)
{
  MaRequest *request = job->request;
  guint n = request->pidfds != NULL ? request->pidfds->len : request->pids->len;

  job->targets = g_array_sized_new (FALSE, TRUE, sizeof (MaJobTarget), n);
  read_caller_view (job);
  /* Pids are numbers of the daemon's pid namespace: a caller in another
   * one cannot know which process a number names here. */
  if (!job->caller_shares_pid_ns && request->pidfds == NULL)
    {
      job->call_error = g_error_new (
          G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS,
          "The caller is in another pid namespace than memadvised, whose process ids these "
          "would be; pass pidfds (PlanPidfds, ReclaimPidfds).");
      return;
    }
  g_array_set_size (job->targets, n);

  for (guint i = 0; i < n; i++)
    {
      MaJobTarget *t = &g_array_index (job->targets, MaJobTarget, i);
      g_autoptr (GError) error = NULL;
      MaUserns userns;

      t->uid = (uid_t) -1;
      t->target = open_target (job, t, i, &error);
      if (t->target == NULL)
        {
          ma_job_target_fail_error (t, error);
          continue;
        }
      if (request->pidfds != NULL && named_before (job, i))
        {
          drop_target (t);
          continue;
        }

      if (!see_target (job, t, &userns))
        continue;
      /* Whatever has this pid now is not the member that was listed. */
      if (still_member (job, t, "is no longer in the cgroup"))
        classify_target (job, t, &userns);
    }
}

void
ma_job_close_targets (MaJob *job)
{
  for (guint i = 0; i < job->targets->len; i++)
    g_clear_pointer (&g_array_index (job->targets, MaJobTarget, i).target, ma_target_free);
}

void
ma_job_reopen_targets (MaJob *job)
{
  for (guint i = 0; i < job->targets->len; i++)
    {
      MaJobTarget *t = &g_array_index (job->targets, MaJobTarget, i);
      g_autoptr (GError) error = NULL;
      MaUserns userns;
      guint64 start_time = t->start_time;

      if (t->failed || t->target != NULL)
        continue;
      /* It was there when classified: gone now, or another process with
       * its pid (pid and start time name one process for as long as the
       * system runs), it exited while the call waited. From the caller's
       * pidfd again where it gave one. */
      if (job->request->pidfds != NULL)
        t->target = ma_target_open_pidfd (g_array_index (job->request->pidfds, int, i), &error);
      else
        t->target = ma_target_open_any ((pid_t) t->pid, &error);
      if (t->target == NULL && !g_error_matches (error, MA_ERROR, MA_ERROR_NO_SUCH_PROCESS)
          && !g_error_matches (error, MA_ERROR, MA_ERROR_EXITED))
        {
          ma_job_target_fail_error (t, error);
          continue;
        }
      if (t->target == NULL || ma_target_get_start_time (t->target) != start_time)
        {
          g_autofree char *message = g_strdup_printf (
              "Process %u exited while the call waited for authorization.", t->pid);

          ma_job_target_fail (t, MA_ERROR_EXITED, message);
          g_clear_pointer (&t->target, ma_target_free);
          continue;
        }
      /* Polkit's yes was for what the process was; what it is now is
       * authorized anew (apply_grants()), and until then the caller
       * learns of it only what its /proc shows. */
      t->authorized = FALSE;
      /* A cgroup's member that left it meanwhile is not one any more. */
      if (see_target (job, t, &userns)
          && still_member (job, t, "left the cgroup while the call waited"))
        classify_target (job, t, &userns);
    }
}
