/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * What memadvised keeps between calls about the processes it advised, so
 * that a call knows what stayed idle and what came back since the previous
 * one (memadvised(8), "COLDNESS").
 */
#include "config.h"

#include <fcntl.h>

#include <glib-unix.h>
#include <unistd.h>

#include "observations.h"

struct _MaKeptObservation
{
  MaObservation *observation;
};

struct _MaKeptRefaults
{
  MaRefaults *refaults;
};

typedef struct
{
  pid_t pid;
  guint64 start_time;
  gint64 renewed_usec; /* monotonic: last start or keep */
  MaKeptObservation *observation;
  MaKeptRefaults *refaults;
  int pidfd;      /* a copy of the target's: readable once it exits */
  GSource *watch; /* on the main context */
  GList link;     /* in by_age */
  MaObservations *owner;
} Entry;

struct _MaObservations
{
  GMutex lock;
  /* pid → its Entry (owned). An entry is for a process, pid and start
   * time: one whose pid now names another process is dropped when found
   * (find()), never handed out. */
  GHashTable *by_pid;
  GQueue by_age; /* Entry, least recently renewed first */
};

static void
kept_observation_clear (MaKeptObservation *kept)
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
  g_atomic_rc_box_release_full (kept, (GDestroyNotify) kept_observation_clear);
}

static void
kept_refaults_clear (MaKeptRefaults *kept)
{
  g_clear_pointer (&kept->refaults, ma_refaults_free);
}

const MaRefaults *
ma_kept_refaults_get (MaKeptRefaults *kept)
{
  return kept->refaults;
}

void
ma_kept_refaults_unref (MaKeptRefaults *kept)
{
  g_atomic_rc_box_release_full (kept, (GDestroyNotify) kept_refaults_clear);
}

static void
entry_free (Entry *entry)
{
  if (entry->watch != NULL)
    {
      g_source_destroy (entry->watch);
      g_source_unref (entry->watch);
    }
  if (entry->pidfd >= 0)
    close (entry->pidfd);
  g_clear_pointer (&entry->observation, ma_kept_observation_unref);
  g_clear_pointer (&entry->refaults, ma_kept_refaults_unref);
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

/* With the lock held: the least recently renewed first, by age, then
 * beyond the cap. The queue is in renewal order, so this stops at the
 * first young one. */
static void
expire (MaObservations *self)
{
  gint64 now = g_get_monotonic_time ();
  Entry *oldest;

  while ((oldest = g_queue_peek_head (&self->by_age)) != NULL
         && now - oldest->renewed_usec > MA_OBSERVATION_MAX_AGE_USEC)
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

  if (entry != NULL && entry->start_time != ma_target_get_start_time (target))
    {
      /* The process it was kept for is gone. */
      drop (self, entry);
      return NULL;
    }
  return entry;
}

/* On the main loop: the process of an entry exited. */
static gboolean
exited_cb (int fd, GIOCondition condition, gpointer user_data)
{
  Entry *entry = user_data;
  MaObservations *self = entry->owner;
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&self->lock);
  GHashTableIter iter;
  gpointer value;

  /* The entry may have been dropped (and freed) by a worker meanwhile:
   * only one still in the table is known to be alive. */
  g_hash_table_iter_init (&iter, self->by_pid);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (value == entry && entry->watch == g_main_current_source ())
      {
        g_source_unref (g_steal_pointer (&entry->watch));
        g_queue_unlink (&self->by_age, &entry->link);
        g_hash_table_iter_remove (&iter);
        break;
      }
  return G_SOURCE_REMOVE;
}

/* With the lock held: the entry for @target, made if there is none,
 * renewed (moved to the young end). */
static Entry *
find_or_add (MaObservations *self, MaTarget *target)
{
  Entry *entry = find (self, target);

  if (entry == NULL)
    {
      entry = g_new0 (Entry, 1);
      entry->pid = ma_target_get_pid (target);
      entry->start_time = ma_target_get_start_time (target);
      entry->owner = self;
      entry->link.data = entry;
      entry->pidfd = fcntl (ma_target_get_pidfd (target), F_DUPFD_CLOEXEC, 3);
      if (entry->pidfd >= 0)
        {
          entry->watch = g_unix_fd_source_new (entry->pidfd, G_IO_IN);
          g_source_set_callback (entry->watch, G_SOURCE_FUNC (exited_cb), entry, NULL);
          g_source_attach (entry->watch, NULL);
        }
      g_hash_table_insert (self->by_pid, GINT_TO_POINTER (entry->pid), entry);
    }
  else
    g_queue_unlink (&self->by_age, &entry->link);
  entry->renewed_usec = g_get_monotonic_time ();
  g_queue_push_tail_link (&self->by_age, &entry->link);
  return entry;
}

MaKeptObservation *
ma_observations_lookup (MaObservations *self, MaTarget *target)
{
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&self->lock);
  Entry *entry;

  expire (self);
  entry = find (self, target);
  return entry != NULL && entry->observation != NULL ? g_atomic_rc_box_acquire (entry->observation)
                                                     : NULL;
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
  entry = find_or_add (self, target);
  g_clear_pointer (&entry->observation, ma_kept_observation_unref);
  entry->observation = g_atomic_rc_box_new0 (MaKeptObservation);
  entry->observation->observation = g_steal_pointer (&observation);
  expire (self);
  return g_atomic_rc_box_acquire (entry->observation);
}

MaKeptRefaults *
ma_observations_lookup_refaults (MaObservations *self, MaTarget *target)
{
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&self->lock);
  Entry *entry;

  expire (self);
  entry = find (self, target);
  return entry != NULL && entry->refaults != NULL ? g_atomic_rc_box_acquire (entry->refaults)
                                                  : NULL;
}

void
ma_observations_keep_refaults (MaObservations *self, MaTarget *target, MaRefaults *refaults)
{
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&self->lock);
  Entry *entry = find_or_add (self, target);

  g_clear_pointer (&entry->refaults, ma_kept_refaults_unref);
  entry->refaults = g_atomic_rc_box_new0 (MaKeptRefaults);
  entry->refaults->refaults = refaults;
  expire (self);
}

void
ma_observations_count (MaObservations *self, guint *out_processes, guint64 *out_bytes)
{
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&self->lock);
  GHashTableIter iter;
  gpointer value;

  *out_processes = 0;
  *out_bytes = 0;
  g_hash_table_iter_init (&iter, self->by_pid);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Entry *entry = value;

      if (entry->refaults == NULL)
        continue;
      (*out_processes)++;
      *out_bytes += ma_refaults_get_size (entry->refaults->refaults);
    }
}
