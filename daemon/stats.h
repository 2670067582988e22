/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>

#include "ma-engine.h"

G_BEGIN_DECLS

/* Cumulative counters since start, read by GetStatistics. Only aggregates:
 * no pid, comm or per-user figure is kept. Main thread only. */
typedef struct _MaStats MaStats;

MaStats *ma_stats_new (void);
void ma_stats_free (MaStats *stats);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MaStats, ma_stats_free)

void ma_stats_add_call (MaStats *stats, gboolean reclaim);
/* A call admitted whose caller left the bus before its work began. */
void ma_stats_add_cancelled_call (MaStats *stats);
/* A call whose work JobTimeout stopped. */
void ma_stats_add_timed_out_call (MaStats *stats);
/* A call refused as a whole; @reason is a failure key ("access-denied",
 * "busy", "invalid-args", "not-supported"). */
void ma_stats_add_refused_call (MaStats *stats, const char *reason);
/* @status: "ok", "skipped" or "failed"; @error the target's error when failed. */
void ma_stats_add_target (MaStats *stats, const char *status, const char *error);
void ma_stats_add_advised (MaStats *stats, MaMode mode, guint64 advised, guint64 reclaimed);
void ma_stats_add_time (MaStats *stats, gint64 usec);
/* Of a Reclaim's target: bytes found back after earlier pageouts, bytes
 * paged out as samples. */
void ma_stats_add_coldness (MaStats *stats, guint64 refaulted, guint64 sampled);

/* With the figures of the knowledge kept now: processes, bytes of memory. */
GVariant *ma_stats_to_variant (MaStats *stats, guint tracked, guint64 tracked_bytes);

G_END_DECLS
