/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <gio/gio.h>

#include "authority.h"
#include "classify.h"
#include "context.h"
#include "request.h"
#include "visibility.h"

G_BEGIN_DECLS

/* One requested pid (or pidfd), from opening to its results entry. */
typedef struct
{
  guint32 pid;        /* in the daemon's pid namespace; 0 while unknown */
  MaTarget *target;   /* NULL once failed early, and while the call waits for polkit */
  guint64 start_time; /* the process classified first: one opened again must be it */
  char *comm;
  uid_t uid; /* real uid; (uid_t) -1 while unknown */
  /* What the caller's /proc shows of it; comm and uid are in its results
   * only when readable there, or when the caller is authorized for it. */
  MaSeen seen;
  gboolean authorized; /* by polkit */
  /* Left out of the call and its results (failed too, so every step
   * passes it by): a member of a cgroup the caller cannot see, or a
   * second pidfd of a process already named. */
  gboolean dropped;
  /* Protected, but the caller may not read its name or cgroup: said only
   * once the caller is authorized for it (else it is not-authorized). */
  char *protected_message;
  gboolean own;
  /* Own, in a user namespace the caller created with no root mapped: the
   * work keeps CAP_SYS_PTRACE (memadvised(8), "Own processes"). */
  gboolean keep_ptrace;
  gboolean failed;
  MaError error;
  char *message;
  MaSample *sample; /* min-idle on a pageout Reclaim: taken before the wait */
  MaPlan *plan;
  gboolean applied;
  MaApplyResult apply;
} MaJobTarget;

/* Where a call is (jobs.c): only PREPARING and RUNNING hold a place in
 * the queue, and only they hold the targets open. */
typedef enum
{
  MA_JOB_STARTING,    /* learning the caller's uid */
  MA_JOB_WAITING,     /* in the queue, for a place */
  MA_JOB_PREPARING,   /* listing a cgroup, opening and classifying the targets */
  MA_JOB_AUTHORIZING, /* waiting for polkit, targets closed, no place */
  MA_JOB_RUNNING,     /* planning, min-idle, advising */
} MaJobState;

/* One Plan or Reclaim call (or their cgroup forms). */
typedef struct
{
  MaContext *context;
  GDBusMethodInvocation *invocation;
  char *sender;
  const char *method; /* "Plan", "ReclaimCgroup", ... */
  gboolean reclaim;
  gboolean interactive;
  MaRequest *request;
  char *cgroup; /* PlanCgroup, ReclaimCgroup: the members are listed when preparing */
  GError *prepare_error;
  uid_t uid;
  MaJobState state;
  MaQueueItem *item;
  gboolean prepared;
  MaCallerCredentials *caller; /* from the bus */
  MaCallerView view;           /* what its /proc shows, once the targets are opened */
  gboolean caller_shares_pid_ns;
  GError *call_error; /* the targets cannot be opened for this caller at all */
  GArray *targets;    /* MaJobTarget */
  MaProtection protection;
  GCancellable *cancellable; /* cancelled when the caller leaves the bus or time runs out */
  gint timed_out;            /* atomic: JobTimeout cancelled it */
  guint watch_id;
  guint checks_left;        /* needs still to be checked with polkit, one at a time */
  guint granted;            /* actions polkit allowed */
  guint deadline_id;        /* JobTimeout, while the call holds a place */
  gint64 deadline_left;     /* usec of JobTimeout not used yet */
  gint64 deadline_since;    /* when the deadline_id was set */
  guint64 progress_base;    /* bytes advised by targets already done */
  guint64 progress_planned; /* bytes planned over all targets */
  gint64 progress_last;     /* monotonic time of the last Progress */
  gint64 started;
  GVariant *results; /* the reply's aa{sv}, built by the worker */
  gint64 wait_usec;  /* min-idle: how long to wait before planning */
  gint64 wait_start; /* monotonic: when that wait began */
  guint trials;      /* MA_TRIALS once a target was sampled, else 0 */
  guint trials_done;
  guint wait_id;  /* the main-loop timeout of the current part of the wait */
  guint map_left; /* option map: mappings the call's maps may still draw */
} MaJob;

/* Takes over @invocation and @request; replies to the call when done.
 * With @cgroup, its members are the pids of @request. */
void ma_job_start (MaContext *context, GDBusMethodInvocation *invocation, gboolean reclaim,
                   MaRequest *request, const char *cgroup);

/* The queue gave @job a place (jobs.c). */
void ma_job_got_place (MaJob *job);

/* The limits (job-limits.c), on the main thread. */
gboolean ma_job_rate_limit_allows (MaContext *context, uid_t uid);
/* Busy, naming the bound of the queue that @admission passed. */
GError *ma_job_busy_error (const MaSettings *settings, MaQueueAdmission admission);
/* Hands out free places, from an idle callback. */
void ma_jobs_schedule_dispatch (MaContext *context);
/* JobTimeout counts while the call holds a place and is not waiting for
 * min-idle: started and stopped around those waits. */
void ma_job_deadline_start (MaJob *job);
void ma_job_deadline_stop (MaJob *job);

/* Worker-thread steps: opening (job-open.c), then the engine's
 * (job-targets.c). */
void ma_job_open_targets (MaJob *job);
/* The fsgid for own-process work: the caller's primary group. */
gid_t ma_job_caller_gid (uid_t uid);
/* Closes every target, keeping what tells a process again: while a call
 * waits for polkit it holds no file descriptor of its targets. */
void ma_job_close_targets (MaJob *job);
/* Opens the targets closed by ma_job_close_targets() that have not
 * failed; a pid that names another process now fails (exited), and each
 * is classified again: the pidfd advised is the one classified. */
void ma_job_reopen_targets (MaJob *job);
/* min-idle: starts the observations targets lack, samples the targets of a
 * pageout Reclaim (then job->trials), and sets job->wait_usec. */
void ma_job_observe (MaJob *job);
/* During the wait (ma_trial_due_usec()): a trial pageout of each sampled target. */
void ma_job_trial (MaJob *job);
void ma_job_run_engine (MaJob *job);

/* The a{sv} results entries (results.c), built on the worker: they may be
 * large. With the option ranges, each target lists at most
 * MA_RESULTS_MAX_RANGES_PER_TARGET ranges and a call at most
 * MA_RESULTS_MAX_RANGES_PER_CALL (first come, in request order), and
 * "ranges-truncated" says where some were left out; with the option map,
 * each target's map draws at most MA_RESULTS_MAX_MAP_PER_TARGET mappings
 * and a call's at most MA_RESULTS_MAX_MAP_PER_CALL (the engine draws no
 * more: job->map_left), and its "truncated" says so; a message is at most
 * MA_RESULTS_MAX_MESSAGE bytes. So a reply is at most
 * MA_RESULTS_MAX_REPLY_SIZE bytes whatever the targets hold (test-results
 * builds the largest), well under the bus's 32 MiB message limit. */
#define MA_RESULTS_MAX_RANGES_PER_TARGET 16384
#define MA_RESULTS_MAX_RANGES_PER_CALL 65536
#define MA_RESULTS_MAX_MAP_PER_TARGET 1024
#define MA_RESULTS_MAX_MAP_PER_CALL 4096
#define MA_RESULTS_MAX_MESSAGE 1024
#define MA_RESULTS_MAX_REPLY_SIZE (8 * 1024 * 1024)
GVariant *ma_job_build_results (MaJob *job);
/* "ok", "skipped" or "failed", as the results and statistics say. */
const char *ma_job_target_status (const MaJobTarget *t);
/* Bytes advised for the target's plan: 0 unless applied. */
guint64 ma_job_target_advised (const MaJobTarget *t);
void ma_job_target_fail (MaJobTarget *t, MaError code, const char *message);
/* The same with the code and message of @error, an engine error. */
void ma_job_target_fail_error (MaJobTarget *t, const GError *error);

G_END_DECLS
