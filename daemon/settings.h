/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>

#include "ma-dbus-names.h"

G_BEGIN_DECLS

#define MA_SETTINGS_DEFAULT_PATH SYSCONFDIR "/memadvise/memadvised.conf"

/* The daemon's configuration; memadvised.conf(5) documents each key. */
typedef struct
{
  guint max_jobs;                 /* [Daemon] MaxJobs: calls running at once */
  guint max_jobs_per_user;        /* [Daemon] MaxJobsPerUser: of them, one user's */
  guint max_queued_per_user;      /* [Daemon] MaxQueuedPerUser: one user's waiting calls */
  guint max_queued;               /* [Daemon] MaxQueued: all users' waiting calls */
  guint job_timeout;              /* [Daemon] JobTimeout, seconds of engine work a call */
  guint max_calls_per_minute;     /* [Daemon] MaxCallsPerMinutePerUser, 0: no limit */
  guint auth_timeout;             /* [Daemon] AuthorizationTimeout, seconds */
  guint interactive_auth_timeout; /* [Daemon] InteractiveAuthorizationTimeout, seconds */
  guint max_min_idle;             /* [Daemon] MaxMinIdle, seconds: the cap of option min-idle */
  guint max_threads;              /* [Daemon] MaxThreads, 0: online CPUs */
  gboolean track_access;          /* [Daemon] TrackAccess: observe targets after Reclaim */
  guint refault_hold;             /* [Daemon] RefaultHoldSeconds */
  char **protect_names;           /* [Protect] Names */
  char **protect_cgroups;         /* [Protect] Cgroups */
} MaSettings;

/* The file descriptors a daemon with @settings may hold at once
 * (memadvised(8), LIMITS): its own, a pidfd for each process whose
 * knowledge it keeps, per running call two for each of its targets (a
 * pidfd and the /proc/PID directory) and those its planning and a cgroup
 * walk open, and per waiting call (for its turn or for polkit) the pidfds
 * it was given, at most MA_DBUS_MAX_PIDFDS. The queue admits at most
 * MaxJobs + MaxQueued calls, so at most MaxQueued of them wait while
 * MaxJobs run; a running call's own pidfds are within MA_FDS_PER_JOB. */
#define MA_FDS_OWN 64
#define MA_FDS_PER_TARGET 2
#define MA_FDS_PER_JOB_WORK 320
#define MA_FDS_PER_JOB (MA_FDS_PER_TARGET * MA_DBUS_MAX_PIDS + MA_FDS_PER_JOB_WORK)
#define MA_FDS_PER_WAITING_CALL MA_DBUS_MAX_PIDFDS
guint64 ma_settings_fd_budget (const MaSettings *settings);
/* Lowers MaxJobs (and MaxJobsPerUser) until the budget fits @limit
 * (RLIMIT_NOFILE), to 1 at least, then MaxQueued (and MaxQueuedPerUser)
 * if even one call does not fit beside the waiting ones; returns whether
 * it had to. */
gboolean ma_settings_fit_fd_limit (MaSettings *settings, guint64 limit);

MaSettings *ma_settings_new (void);
/* Loads @path. A missing file is fine when !@required: defaults apply. */
MaSettings *ma_settings_load (const char *path, gboolean required, GError **error);
void ma_settings_free (MaSettings *settings);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MaSettings, ma_settings_free)

G_END_DECLS
