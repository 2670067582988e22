/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The fair queue of calls: per-uid FIFOs, turns between uids, places to
 * run. memadvised(8), LIMITS AND JOBS, says what it guarantees.
 */
#include "config.h"

#include "queue.h"

typedef struct
{
  uid_t uid;
  GQueue items;      /* MaQueueItem *, waiting ones, by arrival */
  guint running;     /* items with a place */
  guint64 last_turn; /* when it last got a place; 0: never */
} Uid;

struct _MaQueueItem
{
  Uid *owner;
  gpointer data;
  guint64 seq;      /* arrival */
  gboolean running; /* has a place */
  gboolean ready;   /* may be given one (not suspended) */
  GList *link;      /* in owner->items while waiting */
};

struct _MaQueue
{
  guint max_running;
  guint max_running_per_uid;
  guint max_waiting_per_uid;
  guint max_waiting;
  GHashTable *uids; /* uid → Uid *, while it has items */
  guint running;
  guint waiting;
  guint64 seq;
  guint64 turns;
};

static void
uid_free (gpointer data)
{
  Uid *owner = data;

  g_queue_clear (&owner->items);
  g_free (owner);
}

MaQueue *
ma_queue_new (guint max_running, guint max_running_per_uid, guint max_waiting_per_uid,
              guint max_waiting)
{
  MaQueue *queue = g_new0 (MaQueue, 1);

  queue->max_running = MAX (max_running, 1);
  queue->max_running_per_uid = CLAMP (max_running_per_uid, 1, queue->max_running);
  queue->max_waiting_per_uid = max_waiting_per_uid;
  queue->max_waiting = max_waiting;
  queue->uids = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, uid_free);
  return queue;
}

void
ma_queue_free (MaQueue *queue)
{
  if (queue == NULL)
    return;
  g_hash_table_unref (queue->uids);
  g_free (queue);
}

static Uid *
lookup_uid (MaQueue *queue, uid_t uid)
{
  Uid *owner = g_hash_table_lookup (queue->uids, GUINT_TO_POINTER (uid));

  if (owner == NULL)
    {
      owner = g_new0 (Uid, 1);
      owner->uid = uid;
      g_queue_init (&owner->items);
      g_hash_table_insert (queue->uids, GUINT_TO_POINTER (uid), owner);
    }
  return owner;
}

/* A uid with nothing left is forgotten, its turn with it: it has nothing
 * to wait for. */
static void
drop_uid_if_idle (MaQueue *queue, Uid *owner)
{
  if (owner->running == 0 && g_queue_is_empty (&owner->items))
    g_hash_table_remove (queue->uids, GUINT_TO_POINTER (owner->uid));
}

static gboolean
may_run (const MaQueue *queue, const Uid *owner)
{
  return queue->running < queue->max_running && owner->running < queue->max_running_per_uid;
}

static void
give_place (MaQueue *queue, MaQueueItem *item)
{
  item->running = TRUE;
  item->owner->running++;
  item->owner->last_turn = ++queue->turns;
  queue->running++;
}

/* Inserts @item among its owner's waiting items by arrival. */
static void
wait_in_line (MaQueue *queue, MaQueueItem *item)
{
  GQueue *items = &item->owner->items;
  GList *l = items->tail;

  while (l != NULL && ((MaQueueItem *) l->data)->seq > item->seq)
    l = l->prev;
  if (l == NULL)
    g_queue_push_head (items, item);
  else
    g_queue_insert_after (items, l, item);
  item->link = l == NULL ? items->head : l->next;
  queue->waiting++;
}

static void
leave_line (MaQueue *queue, MaQueueItem *item)
{
  g_queue_delete_link (&item->owner->items, item->link);
  item->link = NULL;
  queue->waiting--;
}

MaQueueAdmission
ma_queue_admit (MaQueue *queue, uid_t uid, gpointer data, MaQueueItem **out_item)
{
  Uid *owner = lookup_uid (queue, uid);
  MaQueueItem *item;

  *out_item = NULL;
  /* Places are handed out as soon as they come free: if one is free for
   * this uid now, nobody who may take it is waiting. */
  if (!may_run (queue, owner))
    {
      if (g_queue_get_length (&owner->items) >= queue->max_waiting_per_uid)
        {
          drop_uid_if_idle (queue, owner);
          return MA_QUEUE_FULL_FOR_UID;
        }
      if (queue->waiting >= queue->max_waiting)
        {
          drop_uid_if_idle (queue, owner);
          return MA_QUEUE_FULL;
        }
    }

  /* Calls that gave their place back (polkit) wait too: however their
   * places came free, a uid holds at most max_running_per_uid +
   * max_waiting_per_uid calls and all at most max_running + max_waiting,
   * each with what its message carries (up to 16 pidfds). */
  if (owner->running + g_queue_get_length (&owner->items)
      >= queue->max_running_per_uid + queue->max_waiting_per_uid)
    {
      drop_uid_if_idle (queue, owner);
      return MA_QUEUE_FULL_FOR_UID;
    }
  if (queue->running + queue->waiting >= queue->max_running + queue->max_waiting)
    {
      drop_uid_if_idle (queue, owner);
      return MA_QUEUE_FULL;
    }

  item = g_new0 (MaQueueItem, 1);
  item->owner = owner;
  item->data = data;
  item->seq = ++queue->seq;
  item->ready = TRUE;
  *out_item = item;
  if (may_run (queue, owner))
    {
      give_place (queue, item);
      return MA_QUEUE_RUN;
    }
  wait_in_line (queue, item);
  return MA_QUEUE_WAIT;
}

/* The first ready item of @owner, by arrival. */
static MaQueueItem *
first_ready (const Uid *owner)
{
  for (GList *l = owner->items.head; l != NULL; l = l->next)
    if (((MaQueueItem *) l->data)->ready)
      return l->data;
  return NULL;
}

MaQueueItem *
ma_queue_next (MaQueue *queue)
{
  MaQueueItem *best = NULL;
  GHashTableIter iter;
  gpointer value;

  if (queue->running >= queue->max_running)
    return NULL;
  /* The uid served least recently first; between uids never served, the
   * one whose call came first. */
  g_hash_table_iter_init (&iter, queue->uids);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Uid *owner = value;
      MaQueueItem *item;

      if (owner->running >= queue->max_running_per_uid || (item = first_ready (owner)) == NULL)
        continue;
      if (best == NULL || owner->last_turn < best->owner->last_turn
          || (owner->last_turn == best->owner->last_turn && item->seq < best->seq))
        best = item;
    }
  if (best == NULL)
    return NULL;
  leave_line (queue, best);
  give_place (queue, best);
  return best;
}

void
ma_queue_suspend (MaQueue *queue, MaQueueItem *item)
{
  g_return_if_fail (item->running);
  item->running = FALSE;
  item->ready = FALSE;
  item->owner->running--;
  queue->running--;
  wait_in_line (queue, item);
}

void
ma_queue_resume (MaQueue *queue, MaQueueItem *item)
{
  g_return_if_fail (!item->running && !item->ready);
  item->ready = TRUE;
}

void
ma_queue_remove (MaQueue *queue, MaQueueItem *item)
{
  Uid *owner = item->owner;

  if (item->running)
    {
      owner->running--;
      queue->running--;
    }
  else
    leave_line (queue, item);
  g_free (item);
  drop_uid_if_idle (queue, owner);
}

gpointer
ma_queue_item_get_data (const MaQueueItem *item)
{
  return item->data;
}

gboolean
ma_queue_item_is_running (const MaQueueItem *item)
{
  return item->running;
}

guint
ma_queue_get_n_running (const MaQueue *queue)
{
  return queue->running;
}

guint
ma_queue_get_n_waiting (const MaQueue *queue)
{
  return queue->waiting;
}
