/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <gio/gio.h>

#include "ma-dbus-names.h"
#include "ma-engine.h"
#include "settings.h"

G_BEGIN_DECLS

/* The validated arguments of a Plan or Reclaim call. */
typedef struct
{
  GArray *pids; /* guint32, distinct, in request order */
  /* PlanPidfds, ReclaimPidfds: the handles into the message's file
   * descriptors (gint32, distinct, in request order), and the pidfds the
   * manager took from it for them (int, owned, closed with the request);
   * then pids is empty. */
  GArray *handles;
  GArray *pidfds;
  /* PlanCgroup, ReclaimCgroup: the cgroup the pids were members of. */
  char *cgroup;
  MaMode mode;
  guint percent;
  guint64 max_bytes;
  gboolean ranges;
  gboolean map; /* each target's map (MaMap) in its results */
  MaOrder order;
  guint min_idle; /* seconds; at most [Daemon] MaxMinIdle */
  guint threads;  /* pageout threads, resolved and capped by [Daemon] MaxThreads */
  /* FALSE: a call whose targets were all refused is answered with its
   * results, not AccessDenied (option access-denied). */
  gboolean access_denied;
} MaRequest;

/* Validates the arguments as DESIGN says, with the caps of @settings;
 * errors are G_DBUS_ERROR_INVALID_ARGS naming the offending argument or
 * option key. */
MaRequest *ma_request_parse (GVariant *pids, const char *mode, GVariant *options,
                             const MaSettings *settings, GError **error);
/* The same without pids: @request->pids is empty, for the caller to fill
 * (0 to MA_DBUS_MAX_PIDS distinct pids; the cgroup methods). */
MaRequest *ma_request_parse_options (const char *mode, GVariant *options,
                                     const MaSettings *settings, GError **error);
/* The same with pidfds: @handles (ah) index the message's @n_fds file
 * descriptors; 1 to MA_DBUS_MAX_PIDFDS distinct handles. */
MaRequest *ma_request_parse_pidfds (GVariant *handles, guint n_fds, const char *mode,
                                    GVariant *options, const MaSettings *settings, GError **error);
void ma_request_free (MaRequest *request);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MaRequest, ma_request_free)

G_END_DECLS
