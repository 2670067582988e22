/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>

#include "ma-engine.h"

G_BEGIN_DECLS

/* How long what the daemon knows of a process is kept after it was last
 * renewed, and for how many processes at most. */
#define MA_OBSERVATION_MAX_AGE_USEC (G_GINT64_CONSTANT (3600) * G_USEC_PER_SEC)
#define MA_OBSERVATION_MAX_ENTRIES 4096

/* An observation or refault knowledge as kept by the table: immutable and
 * reference counted, so a plan can use it while another call replaces it. */
typedef struct _MaKeptObservation MaKeptObservation;

const MaObservation *ma_kept_observation_get (MaKeptObservation *kept);
void ma_kept_observation_unref (MaKeptObservation *kept);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MaKeptObservation, ma_kept_observation_unref)

typedef struct _MaKeptRefaults MaKeptRefaults;

const MaRefaults *ma_kept_refaults_get (MaKeptRefaults *kept);
void ma_kept_refaults_unref (MaKeptRefaults *kept);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MaKeptRefaults, ma_kept_refaults_unref)

/* What the daemon keeps between calls about each process: an observation
 * of its accesses and what its pageouts taught (memadvised(8),
 * "COLDNESS"), keyed by process identity (pid and start time), never by a
 * bare pid. An entry is dropped when its process exits (its pidfd is
 * watched on the main loop), when it is an hour old, and oldest first
 * beyond MA_OBSERVATION_MAX_ENTRIES. Safe to use from any thread: engine
 * work runs on GTask workers. */
typedef struct _MaObservations MaObservations;

MaObservations *ma_observations_new (void);
void ma_observations_free (MaObservations *observations);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MaObservations, ma_observations_free)

/* The observation kept for @target, or NULL. An entry of an earlier
 * process with @target's pid is dropped on the way. */
MaKeptObservation *ma_observations_lookup (MaObservations *observations, MaTarget *target);

/* Starts an observation of @target (this writes its clear_refs, so call it
 * with the credentials of the call) and keeps it in place of any other.
 * Returns a reference to it, or NULL with @error. */
MaKeptObservation *ma_observations_start (MaObservations *observations, MaTarget *target,
                                          GError **error);

/* The refault knowledge kept for @target, or NULL. */
MaKeptRefaults *ma_observations_lookup_refaults (MaObservations *observations, MaTarget *target);
/* Keeps @refaults (taken) for @target in place of what was kept. */
void ma_observations_keep_refaults (MaObservations *observations, MaTarget *target,
                                    MaRefaults *refaults);

/* Processes with refault knowledge, and the memory that knowledge takes. */
void ma_observations_count (MaObservations *observations, guint *out_processes, guint64 *out_bytes);

G_END_DECLS
