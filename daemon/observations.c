/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The observations memadvised keeps between calls, so that a call knows
 * what stayed idle since the previous one (memadvised(8), "Coldness").
 */
#include "config.h"

#include "observations.h"

struct _MaKeptObservation
{
  MaObservation *observation;
};

typedef struct
{
  pid_t pid;
  MaKeptObservation *kept;
  GList link; /* in by_age */
} Entry;

struct _MaObservations
{
  GMutex lock;
  /* pid → its Entry (owned). An entry is for a process, pid and start
   * time: one whose pid now names another process is dropped when found
   * (find()), never handed out. */
  GHashTable *by_pid;
  GQueue by_age; /* Entry, oldest first */
};

static void
kept_clear (MaKeptObservation *kept)
{
  g_clear_pointer (&kept->observation, ma_observation_free);
}

const MaObservation *
ma_kept_observation_get (MaKeptObservation *kept)
{
  return kept->observation;
}

void
ma_kept_observation_unref (MaKeptObservation *kept)
{
  g_atomic_rc_box_release_full (kept, (GDestroyNotify) kept_clear);
}

static void
entry_free (Entry *entry)
{
  ma_kept_observation_unref (entry->kept);
  g_free (entry);
}

MaObservations *
ma_observations_new (void)
{
  MaObservations *self = g_new0 (MaObservations, 1);

  g_mutex_init (&self->lock);
  self->by_pid
      = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, (GDestroyNotify) entry_free);
  g_queue_init (&self->by_age);
  return self;
}

void
ma_observations_free (MaObservations *self)
{
  if (self == NULL)
    return;
  g_hash_table_unref (self->by_pid);
  g_mutex_clear (&self->lock);
  g_free (self);
}

/* With the lock held. */
static void
drop (MaObservations *self, Entry *entry)
{
  g_queue_unlink (&self->by_age, &entry->link);
  g_hash_table_remove (self->by_pid, GINT_TO_POINTER (entry->pid)); /* frees it */
}

/* With the lock held: the oldest first, by age, then beyond the cap. The
 * queue is in the order observations started, so this stops at the first
 * young one. */
static void
expire (MaObservations *self)
{
  Entry *oldest;

  while ((oldest = g_queue_peek_head (&self->by_age)) != NULL
         && ma_observation_get_age_usec (oldest->kept->observation) > MA_OBSERVATION_MAX_AGE_USEC)
    drop (self, oldest);
  while (self->by_age.length > MA_OBSERVATION_MAX_ENTRIES)
    drop (self, g_queue_peek_head (&self->by_age));
}

/* With the lock held: the entry for @target (its pid and start time), once
 * any entry of an earlier process with that pid is dropped. */
static Entry *
find (MaObservations *self, MaTarget *target)
{
  Entry *entry = g_hash_table_lookup (self->by_pid, GINT_TO_POINTER (ma_target_get_pid (target)));

  if (entry != NULL && !ma_observation_is_for (entry->kept->observation, target))
    {
      /* The process it was started on is gone. */
      drop (self, entry);
      return NULL;
    }
  return entry;
}

MaKeptObservation *
ma_observations_lookup (MaObservations *self, MaTarget *target)
{
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&self->lock);
  Entry *entry;

  expire (self);
  entry = find (self, target);
  return entry != NULL ? g_atomic_rc_box_acquire (entry->kept) : NULL;
}

MaKeptObservation *
ma_observations_start (MaObservations *self, MaTarget *target, GError **error)
{
  g_autoptr (MaObservation) observation = NULL;
  g_autoptr (GMutexLocker) locker = NULL;
  Entry *entry;

  /* Writing clear_refs walks the target's page tables: not under the lock. */
  observation = ma_observation_start (target, error);
  if (observation == NULL)
    return NULL;

  locker = g_mutex_locker_new (&self->lock);
  entry = find (self, target);
  if (entry != NULL)
    drop (self, entry);

  entry = g_new0 (Entry, 1);
  entry->pid = ma_target_get_pid (target);
  entry->kept = g_atomic_rc_box_new0 (MaKeptObservation);
  entry->kept->observation = g_steal_pointer (&observation);
  entry->link.data = entry;
  g_hash_table_insert (self->by_pid, GINT_TO_POINTER (entry->pid), entry);
  g_queue_push_tail_link (&self->by_age, &entry->link);
  expire (self);
  return g_atomic_rc_box_acquire (entry->kept);
}
