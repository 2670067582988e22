/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define MA_SETTINGS_DEFAULT_PATH SYSCONFDIR "/memadvise/memadvised.conf"

/* The daemon's configuration; memadvised.conf(5) documents each key. */
typedef struct
{
  guint max_jobs;                 /* [Daemon] MaxJobs */
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

MaSettings *ma_settings_new (void);
/* Loads @path. A missing file is fine when !@required: defaults apply. */
MaSettings *ma_settings_load (const char *path, gboolean required, GError **error);
void ma_settings_free (MaSettings *settings);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MaSettings, ma_settings_free)

G_END_DECLS
