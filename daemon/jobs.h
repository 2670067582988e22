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
  guint32 pid;      /* in the daemon's pid namespace; 0 while unknown */
  MaTarget *target; /* NULL once failed early */
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

/* One Plan or Reclaim call. */
typedef struct
{
  MaContext *context;
  GDBusMethodInvocation *invocation;
  char *sender;
  gboolean reclaim;
  gboolean interactive;
  MaRequest *request;
  uid_t uid;
  MaCallerCredentials *caller; /* from the bus */
  MaCallerView view;           /* what its /proc shows, once the targets are opened */
  gboolean caller_shares_pid_ns;
  GError *call_error; /* the targets cannot be opened for this caller at all */
  GArray *targets;    /* MaJobTarget */
  MaProtection protection;
  GCancellable *cancellable; /* cancelled when the caller leaves the bus */
  guint watch_id;
  guint pending_checks;
  guint granted;            /* actions polkit allowed */
  guint64 progress_base;    /* bytes advised by targets already done */
  guint64 progress_planned; /* bytes planned over all targets */
  gint64 progress_last;     /* monotonic time of the last Progress */
  gint64 started;
  gint64 wait_usec; /* min-idle: how long to wait before planning */
  guint wait_id;    /* the main-loop timeout of that wait */
} MaJob;

/* Takes over @invocation and @request; replies to the call when done. */
void ma_job_start (MaContext *context, GDBusMethodInvocation *invocation, gboolean reclaim,
                   MaRequest *request);

/* Worker-thread steps: opening (job-open.c), then the engine's
 * (job-targets.c). */
void ma_job_open_targets (MaJob *job);
/* The fsgid for own-process work: the caller's primary group. */
gid_t ma_job_caller_gid (uid_t uid);
/* min-idle: starts the observations targets lack, samples the targets of a
 * pageout Reclaim, and sets job->wait_usec. */
void ma_job_observe (MaJob *job);
void ma_job_run_engine (MaJob *job);

/* The a{sv} results entries (results.c). */
GVariant *ma_job_build_results (MaJob *job);
/* "ok", "skipped" or "failed", as the results and statistics say. */
const char *ma_job_target_status (const MaJobTarget *t);
/* Bytes advised for the target's plan: 0 unless applied. */
guint64 ma_job_target_advised (const MaJobTarget *t);
void ma_job_target_fail (MaJobTarget *t, MaError code, const char *message);
/* The same with the code and message of @error, an engine error. */
void ma_job_target_fail_error (MaJobTarget *t, const GError *error);

G_END_DECLS
