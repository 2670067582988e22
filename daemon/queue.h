/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>
#include <sys/types.h>

G_BEGIN_DECLS

/* The calls admitted, and which of them may run: at most max_running at
 * once, at most max_running_per_uid of one uid. The others wait, each
 * uid's in arrival order; a free place goes to the uid served least
 * recently, so that uids take turns whatever each asked for. Admission
 * is refused past max_waiting_per_uid waiting calls of the uid or
 * max_waiting of all. A call may give its place back while it waits for
 * something else (polkit): it then waits, but is not ready, until
 * resumed, and keeps its turn among its uid's calls. Such calls count
 * too: a uid never has more than max_running_per_uid +
 * max_waiting_per_uid calls admitted, nor all uids more than max_running
 * + max_waiting, however many gave their places back.
 *
 * No bus, no threads: the daemon calls it from its main loop. */
typedef struct _MaQueue MaQueue;
typedef struct _MaQueueItem MaQueueItem;

typedef enum
{
  MA_QUEUE_RUN,          /* admitted, and running: it has a place */
  MA_QUEUE_WAIT,         /* admitted, waiting for a place */
  MA_QUEUE_FULL_FOR_UID, /* refused: max_waiting_per_uid of its uid wait */
  MA_QUEUE_FULL,         /* refused: max_waiting wait */
} MaQueueAdmission;

MaQueue *ma_queue_new (guint max_running, guint max_running_per_uid, guint max_waiting_per_uid,
                       guint max_waiting);
/* Items left (the daemon stopping) are not freed: they belong to calls. */
void ma_queue_free (MaQueue *queue);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MaQueue, ma_queue_free)

/* Admits a call of @uid carrying @data. *@out_item is the new item, NULL
 * when refused. */
MaQueueAdmission ma_queue_admit (MaQueue *queue, uid_t uid, gpointer data, MaQueueItem **out_item);
/* The next waiting item that may run now, given its place; NULL when
 * none may. Call it until NULL whenever a place may have come free. */
MaQueueItem *ma_queue_next (MaQueue *queue);
/* A running @item gives its place back and waits, not ready. */
void ma_queue_suspend (MaQueue *queue, MaQueueItem *item);
/* A suspended @item is ready to run again. */
void ma_queue_resume (MaQueue *queue, MaQueueItem *item);
/* @item leaves the queue, running or waiting; it is freed. */
void ma_queue_remove (MaQueue *queue, MaQueueItem *item);

gpointer ma_queue_item_get_data (const MaQueueItem *item);
gboolean ma_queue_item_is_running (const MaQueueItem *item);

guint ma_queue_get_n_running (const MaQueue *queue);
guint ma_queue_get_n_waiting (const MaQueue *queue);

G_END_DECLS
