/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <gio/gio.h>

#include "observations.h"
#include "queue.h"
#include "settings.h"
#include "stats.h"

G_BEGIN_DECLS

/* State shared by the manager and its jobs; main thread only, except
 * observations, which locks itself. */
typedef struct
{
  GDBusConnection *connection;
  MaSettings *settings;
  MaStats *stats;
  MaObservations *observations;
  gboolean verbose;
  gboolean kernel_supported;
  gboolean can_switch_credentials;
  guint32 bus_pid;
  MaQueue *queue;           /* the calls admitted (jobs.c) */
  guint dispatch_id;        /* idle source handing out free places */
  GHashTable *calls_by_uid; /* uid → GQueue of gint64 monotonic times */
} MaContext;

G_END_DECLS
