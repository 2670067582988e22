/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Reading the residency of a plan's candidates while planning goes on.
 *
 * The planner hands spans of candidate mappings over as it finds them; one
 * PAGEMAP_SCAN sweep per span reads their resident runs (the kernel walks
 * only what is mapped). Helper threads sweep the spans as they come, so
 * that the kernel's walk of the page tables overlaps with reading and
 * parsing the rest of maps; at the end the calling thread sweeps what is
 * left beside them. The runs come back in address order, span by span,
 * whichever thread swept them.
 */
#include "config.h"

#include "ma-private.h"

/* Helper threads beside the caller: one per other online CPU, a few at most. */
#define MAX_HELPERS 7

typedef struct
{
  guint64 start;
  guint64 end;
  GArray *runs;
  GError *error;
} Span;

struct _MaSweeper
{
  int proc_fd;
  MaPagemap *pagemap; /* the caller's */
  GMutex lock;
  GCond cond;
  GArray *spans; /* Span, in address order; under lock */
  guint next;    /* first span nobody took yet; under lock */
  gboolean closed;
  GThread *helpers[MAX_HELPERS];
  guint n_helpers;
  guint max_helpers;
};

MaSweeper *
ma_sweeper_new (int proc_fd, MaPagemap *pagemap)
{
  MaSweeper *sweeper = g_new0 (MaSweeper, 1);

  sweeper->proc_fd = proc_fd;
  sweeper->pagemap = pagemap;
  g_mutex_init (&sweeper->lock);
  g_cond_init (&sweeper->cond);
  sweeper->spans = g_array_new (FALSE, FALSE, sizeof (Span));
  sweeper->max_helpers = CLAMP (g_get_num_processors (), 1, MAX_HELPERS + 1) - 1;
  return sweeper;
}

/* Takes the next span under the lock: its index, or G_MAXUINT when there
 * is none and none will come. With @wait, waits for one to be added. */
static guint
take_locked (MaSweeper *sweeper, gboolean wait)
{
  while (sweeper->next >= sweeper->spans->len)
    {
      if (sweeper->closed || !wait)
        return G_MAXUINT;
      g_cond_wait (&sweeper->cond, &sweeper->lock);
    }
  return sweeper->next++;
}

static void
sweep_span (MaSweeper *sweeper, MaPagemap *pagemap, guint index)
{
  Span span;
  GArray *runs = g_array_new (FALSE, FALSE, sizeof (MaRange));
  GError *error = NULL;

  g_mutex_lock (&sweeper->lock);
  span = g_array_index (sweeper->spans, Span, index);
  g_mutex_unlock (&sweeper->lock);

  ma_pagemap_resident_runs (pagemap, span.start, span.end, runs, &error);

  /* The array of spans may have grown (and moved) meanwhile. */
  g_mutex_lock (&sweeper->lock);
  g_array_index (sweeper->spans, Span, index).runs = runs;
  g_array_index (sweeper->spans, Span, index).error = error;
  g_mutex_unlock (&sweeper->lock);
}

static gpointer
helper_thread (gpointer data)
{
  MaSweeper *sweeper = data;
  g_autoptr (MaPagemap) pagemap = NULL;
  GError *open_error = NULL;
  guint index;

  /* Each thread reads through a descriptor of its own. */
  pagemap = ma_pagemap_open (sweeper->proc_fd, &open_error);
  if (pagemap == NULL)
    {
      /* The caller sweeps everything; it will meet the same error if the
       * cause is lasting. */
      g_clear_error (&open_error);
      return NULL;
    }

  g_mutex_lock (&sweeper->lock);
  while ((index = take_locked (sweeper, TRUE)) != G_MAXUINT)
    {
      g_mutex_unlock (&sweeper->lock);
      sweep_span (sweeper, pagemap, index);
      g_mutex_lock (&sweeper->lock);
    }
  g_mutex_unlock (&sweeper->lock);
  return NULL;
}

void
ma_sweeper_add (MaSweeper *sweeper, guint64 start, guint64 end, gboolean more_coming)
{
  Span span = { start, end, NULL, NULL };
  guint waiting;

  g_mutex_lock (&sweeper->lock);
  g_array_append_val (sweeper->spans, span);
  waiting = sweeper->spans->len - sweeper->next;
  g_cond_signal (&sweeper->cond);
  /* A helper is worth starting once there is work beside the caller's:
   * more spans are coming (the caller is still reading), or several wait. */
  if ((more_coming || waiting > 1) && sweeper->n_helpers < sweeper->max_helpers)
    {
      sweeper->helpers[sweeper->n_helpers] = g_thread_new ("ma-sweep", helper_thread, sweeper);
      sweeper->n_helpers++;
    }
  g_mutex_unlock (&sweeper->lock);
}

gboolean
ma_sweeper_finish (MaSweeper *sweeper, GArray *runs, GError **error)
{
  GError *first_error = NULL;
  guint index, i;

  g_mutex_lock (&sweeper->lock);
  sweeper->closed = TRUE;
  g_cond_broadcast (&sweeper->cond);
  while ((index = take_locked (sweeper, FALSE)) != G_MAXUINT)
    {
      g_mutex_unlock (&sweeper->lock);
      sweep_span (sweeper, sweeper->pagemap, index);
      g_mutex_lock (&sweeper->lock);
    }
  g_mutex_unlock (&sweeper->lock);

  for (i = 0; i < sweeper->n_helpers; i++)
    g_thread_join (sweeper->helpers[i]);
  sweeper->n_helpers = 0;

  /* Spans are disjoint and in address order: their runs concatenate. The
   * first error in address order is the one told. */
  for (i = 0; i < sweeper->spans->len; i++)
    {
      Span *span = &g_array_index (sweeper->spans, Span, i);

      if (span->error != NULL && first_error == NULL)
        first_error = g_steal_pointer (&span->error);
      if (first_error == NULL)
        g_array_append_vals (runs, span->runs->data, span->runs->len);
    }
  if (first_error != NULL)
    {
      g_propagate_error (error, first_error);
      return FALSE;
    }
  return TRUE;
}

void
ma_sweeper_free (MaSweeper *sweeper)
{
  guint i;

  if (sweeper == NULL)
    return;
  /* Finish joins the helpers; a sweeper dropped on an error path must too. */
  if (sweeper->n_helpers > 0)
    {
      g_mutex_lock (&sweeper->lock);
      sweeper->closed = TRUE;
      sweeper->next = sweeper->spans->len; /* nothing more to sweep */
      g_cond_broadcast (&sweeper->cond);
      g_mutex_unlock (&sweeper->lock);
      for (i = 0; i < sweeper->n_helpers; i++)
        g_thread_join (sweeper->helpers[i]);
    }
  for (i = 0; i < sweeper->spans->len; i++)
    {
      Span *span = &g_array_index (sweeper->spans, Span, i);

      g_clear_pointer (&span->runs, g_array_unref);
      g_clear_error (&span->error);
    }
  g_array_unref (sweeper->spans);
  g_mutex_clear (&sweeper->lock);
  g_cond_clear (&sweeper->cond);
  g_free (sweeper);
}
