/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The agent's rules, as functions of its configuration, an app's state and
 * the time, nothing else: never the app in front; an app once it has been
 * in the background for the configured delay, twice that when much of its
 * last pageout came back; per-app back-off; pageout falls back to cold
 * when swap is short; a cap on bytes per minute.
 * memadvise-session(1) describes them; reclaim.c applies them.
 */
#include "config.h"

#include "session.h"

#define MINUTE_US (60 * G_USEC_PER_SEC)

gboolean
sess_policy_eligible (const SessConfig *config, const SessApp *app, gint64 now)
{
  if (app->focused || app->background_since < 0)
    return FALSE;
  return app->last_reclaim == 0 || now - app->last_reclaim >= config->backoff_us;
}

gint64
sess_policy_due (const SessConfig *config, const SessApp *app)
{
  gint64 due;

  if (app->focused || app->background_since < 0 || app->due_done || app->asking)
    return -1;
  due = app->background_since + config->background_us * (app->slow ? 2 : 1);
  if (app->last_reclaim != 0)
    due = MAX (due, app->last_reclaim + config->backoff_us);
  return due;
}

gboolean
sess_policy_to_front (SessApp *app)
{
  if (app->focused)
    return FALSE;
  app->focused = TRUE;
  app->background_since = -1;
  app->due_done = FALSE;
  app->last_reclaim = 0; /* coming to the front ends the back-off */
  app->front_count++;
  return TRUE;
}

gboolean
sess_policy_to_background (SessApp *app, gint64 since)
{
  if (!app->focused && app->background_since == since)
    return FALSE;
  /* A new moment of losing focus means it was in front in between. */
  if (app->background_since >= 0)
    {
      app->last_reclaim = 0;
      app->front_count++;
    }
  app->focused = FALSE;
  app->background_since = since;
  app->due_done = FALSE;
  return TRUE;
}

void
sess_policy_reclaimed (SessApp *app, guint front_count, gint64 now)
{
  /* Failed calls count too, so a broken app is not retried at once; an
   * app that came to the front during the call starts afresh. */
  if (app->front_count == front_count)
    app->last_reclaim = now;
  /* The longer wait was for this reclaim. */
  app->slow = FALSE;
}

void
sess_policy_paged_out (SessApp *app)
{
  app->refaults_unknown = TRUE;
}

gboolean
sess_policy_wants_refaults (const SessApp *app)
{
  return app->refaults_unknown && !app->asking;
}

gboolean
sess_policy_refaults (const SessConfig *config, SessApp *app, guint64 refaulted, guint64 paged_out)
{
  app->asking = FALSE;
  app->refaults_unknown = FALSE;
  /* Memory the app used again soon after a pageout was not cold: reclaim
   * it later next time. Nothing left out (all forgotten) tells nothing. */
  app->slow = paged_out > 0
              && (double) refaulted * 100 > (double) paged_out * config->refault_backoff_percent;
  return app->slow;
}

int
sess_policy_compare_idle (gconstpointer a, gconstpointer b)
{
  const SessApp *x = *(SessApp *const *) a;
  const SessApp *y = *(SessApp *const *) b;

  return (x->background_since > y->background_since) - (x->background_since < y->background_since);
}

const char *
sess_policy_choose_mode (const SessConfig *config, guint64 swap_total, guint64 swap_free)
{
  if (!g_str_equal (config->mode, "pageout"))
    return config->mode;
  /* Pageout pushes anonymous memory to swap; with too little swap left it
   * would only thrash, so it falls back to cold (free, nothing written). */
  if (swap_total == 0 || swap_free * 100 < swap_total * config->min_free_swap_percent)
    return "cold";
  return "pageout";
}

guint64
sess_policy_allowance (const SessConfig *config, GArray *spent, gint64 now, gint64 *refill_at)
{
  guint64 sum = 0;
  guint i = 0;

  while (i < spent->len)
    {
      SessSpent *s = &g_array_index (spent, SessSpent, i);

      if (now - s->at >= MINUTE_US)
        g_array_remove_index (spent, i);
      else
        {
          sum += s->bytes;
          i++;
        }
    }
  *refill_at = spent->len > 0 ? g_array_index (spent, SessSpent, 0).at + MINUTE_US : now;
  if (config->max_bytes_per_minute == 0)
    return G_MAXUINT64;
  return sum >= config->max_bytes_per_minute ? 0 : config->max_bytes_per_minute - sum;
}
