/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <gio/gio.h>

#include "context.h"
#include "request.h"
#include "classify.h"

G_BEGIN_DECLS

/* One requested pid, from opening to its results entry. */
typedef struct
{
  guint32 pid;
  MaTarget *target; /* NULL once failed early */
  char *comm;
  uid_t uid; /* real uid; (uid_t) -1 while unknown */
  gboolean own;
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
  GArray *targets; /* MaJobTarget */
  MaProtection protection;
  GCancellable *cancellable; /* cancelled when the caller leaves the bus */
  guint watch_id;
  guint pending_checks;
  guint granted;            /* actions polkit allowed */
  guint64 progress_base;    /* bytes advised by targets already done */
  guint64 progress_planned; /* bytes planned over all targets */
  gint64 progress_last;     /* monotonic time of the last Progress */
  gint64 started;
  GVariant *results; /* the reply's aa{sv}, built by the worker */
  gint64 wait_usec;  /* min-idle: how long to wait before planning */
  guint wait_id;     /* the main-loop timeout of that wait */
} MaJob;

/* Takes over @invocation and @request; replies to the call when done. */
void ma_job_start (MaContext *context, GDBusMethodInvocation *invocation, gboolean reclaim,
                   MaRequest *request);

/* Worker-thread steps (job-targets.c). */
void ma_job_open_targets (MaJob *job);
/* min-idle: starts the observations targets lack, samples the targets of a
 * pageout Reclaim, and sets job->wait_usec. */
void ma_job_observe (MaJob *job);
void ma_job_run_engine (MaJob *job);

/* The a{sv} results entries (results.c), built on the worker: they may be
 * large. With the option ranges, each target lists at most
 * MA_RESULTS_MAX_RANGES_PER_TARGET ranges and a call at most
 * MA_RESULTS_MAX_RANGES_PER_CALL (first come, in request order), and
 * "ranges-truncated" says where some were left out; a message is at most
 * MA_RESULTS_MAX_MESSAGE bytes. So a reply is at most
 * MA_RESULTS_MAX_REPLY_SIZE bytes whatever the targets hold (test-results
 * builds the largest), well under the bus's 32 MiB message limit. */
#define MA_RESULTS_MAX_RANGES_PER_TARGET 16384
#define MA_RESULTS_MAX_RANGES_PER_CALL 65536
#define MA_RESULTS_MAX_MESSAGE 1024
#define MA_RESULTS_MAX_REPLY_SIZE (4 * 1024 * 1024)
GVariant *ma_job_build_results (MaJob *job);
/* "ok", "skipped" or "failed", as the results and statistics say. */
const char *ma_job_target_status (const MaJobTarget *t);
/* Bytes advised for the target's plan: 0 unless applied. */
guint64 ma_job_target_advised (const MaJobTarget *t);
void ma_job_target_fail (MaJobTarget *t, MaError code, const char *message);

G_END_DECLS
