/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * What to reclaim and when: never the focused app; an app once it has been
 * in the background for the configured delay; per-app back-off; pageout
 * falls back to cold when swap is short; a cap on bytes per minute. One
 * ReclaimCgroup call at a time. memadvise-session(1) describes the rules.
 */
#include "config.h"

#include <string.h>

#include "session.h"
#include "ma-client.h"

#define MINUTE_US (60 * G_USEC_PER_SEC)

typedef struct
{
  gint64 at;
  guint64 bytes;
} SessSpent;

static const char *const trigger_names[] = { "background", "screen lock", "memory pressure" };

typedef struct
{
  SessAgent *agent;
  char *unit;
  SessTrigger trigger;
  guint front_count; /* the app's when the call started */
} Call;

static void kick (SessAgent *agent);

/* Queue entries are "T:unit", T the trigger. */
static GList *
queued (SessAgent *agent, const char *unit)
{
  for (GList *l = agent->queue.head; l != NULL; l = l->next)
    if (g_str_equal ((const char *) l->data + 2, unit))
      return l;
  return NULL;
}

void
sess_policy_init (SessAgent *agent)
{
  g_queue_init (&agent->queue);
  agent->spent = g_array_new (FALSE, FALSE, sizeof (SessSpent));
}

void
sess_policy_shutdown (SessAgent *agent)
{
  g_clear_handle_id (&agent->timer, g_source_remove);
  g_clear_handle_id (&agent->rate_timer, g_source_remove);
  g_queue_clear_full (&agent->queue, g_free);
  g_clear_pointer (&agent->spent, g_array_unref);
}

gboolean
sess_policy_eligible (SessAgent *agent, SessApp *app, gint64 now)
{
  if (app->focused || app->background_since < 0)
    return FALSE;
  return app->last_reclaim == 0 || now - app->last_reclaim >= agent->config->backoff_us;
}

void
sess_policy_foreground (SessAgent *agent, SessApp *app)
{
  if (app->focused)
    return;
  g_debug ("%s came to the front", app->app_id);
  app->focused = TRUE;
  app->background_since = -1;
  app->due_done = FALSE;
  app->last_reclaim = 0; /* coming to the front ends the back-off */
  app->front_count++;
  sess_policy_reschedule (agent);
}

void
sess_policy_background (SessAgent *agent, SessApp *app, gint64 since)
{
  if (!app->focused && app->background_since == since)
    return;
  g_debug ("%s in the background since %" G_GINT64_FORMAT, app->app_id, since);
  /* A new moment of losing focus means it was in front in between. */
  if (app->background_since >= 0)
    {
      app->last_reclaim = 0;
      app->front_count++;
    }
  app->focused = FALSE;
  app->background_since = since;
  app->due_done = FALSE;
  sess_policy_reschedule (agent);
}

void
sess_policy_forget (SessAgent *agent, const char *unit)
{
  GList *l = queued (agent, unit);

  if (l != NULL)
    {
      g_free (l->data);
      g_queue_delete_link (&agent->queue, l);
    }
}

static void
enqueue (SessAgent *agent, SessApp *app, SessTrigger trigger)
{
  if (queued (agent, app->unit) != NULL)
    return;
  g_debug ("queued %s (%s)", app->app_id, trigger_names[trigger]);
  g_queue_push_tail (&agent->queue, g_strdup_printf ("%d:%s", (int) trigger, app->unit));
  kick (agent);
}

static gboolean
on_timer (gpointer user_data)
{
  SessAgent *agent = user_data;

  agent->timer = 0;
  sess_policy_reschedule (agent);
  return G_SOURCE_REMOVE;
}

void
sess_policy_reschedule (SessAgent *agent)
{
  gint64 now = g_get_monotonic_time ();
  gint64 next = G_MAXINT64;
  GHashTableIter iter;
  gpointer value;

  g_clear_handle_id (&agent->timer, g_source_remove);
  if (agent->apps == NULL)
    return;
  g_hash_table_iter_init (&iter, agent->apps);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      SessApp *app = value;
      gint64 due;

      if (app->focused || app->background_since < 0 || app->due_done)
        continue;
      due = app->background_since + agent->config->background_us;
      if (app->last_reclaim != 0)
        due = MAX (due, app->last_reclaim + agent->config->backoff_us);
      if (due <= now)
        {
          app->due_done = TRUE;
          enqueue (agent, app, SESS_TRIGGER_BACKGROUND);
        }
      else
        next = MIN (next, due);
    }
  if (next != G_MAXINT64)
    agent->timer
        = g_timeout_add ((guint) MIN ((next - now) / 1000 + 1, G_MAXUINT), on_timer, agent);
}

static int
by_idle_time (gconstpointer a, gconstpointer b)
{
  const SessApp *x = *(SessApp *const *) a;
  const SessApp *y = *(SessApp *const *) b;

  return (x->background_since > y->background_since) - (x->background_since < y->background_since);
}

/* Eligible background apps, longest idle first. */
static GPtrArray *
eligible_apps (SessAgent *agent)
{
  GPtrArray *apps = g_ptr_array_new ();
  gint64 now = g_get_monotonic_time ();
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, agent->apps);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (sess_policy_eligible (agent, value, now))
      g_ptr_array_add (apps, value);
  g_ptr_array_sort (apps, by_idle_time);
  return apps;
}

void
sess_policy_reclaim_all (SessAgent *agent, SessTrigger trigger)
{
  g_autoptr (GPtrArray) apps = eligible_apps (agent);

  g_message ("%s: reclaiming %u background apps", trigger_names[trigger], apps->len);
  for (guint i = 0; i < apps->len; i++)
    enqueue (agent, apps->pdata[i], trigger);
}

/* Under pressure, one app at a time, longest idle first; the next only
 * after the previous call returned and pressure has not fallen. */
static gboolean
pressure_next (SessAgent *agent)
{
  g_autoptr (GPtrArray) apps = eligible_apps (agent);

  for (guint i = 0; i < apps->len; i++)
    {
      SessApp *app = apps->pdata[i];
      if (queued (agent, app->unit) == NULL)
        {
          enqueue (agent, app, SESS_TRIGGER_PRESSURE);
          return TRUE;
        }
    }
  return FALSE;
}

void
sess_policy_pressure (SessAgent *agent)
{
  if (agent->pressure_episode)
    return;
  agent->pressure_episode = pressure_next (agent);
  if (!agent->pressure_episode)
    g_message ("memory pressure: no background app to reclaim");
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

/* Bytes the rate cap still allows in this minute; G_MAXUINT64 without a cap. */
static guint64
allowance (SessAgent *agent, gint64 now, gint64 *refill_at)
{
  guint64 spent = 0;
  guint i = 0;

  while (i < agent->spent->len)
    {
      SessSpent *s = &g_array_index (agent->spent, SessSpent, i);
      if (now - s->at >= MINUTE_US)
        g_array_remove_index (agent->spent, i);
      else
        {
          spent += s->bytes;
          i++;
        }
    }
  *refill_at
      = agent->spent->len > 0 ? g_array_index (agent->spent, SessSpent, 0).at + MINUTE_US : now;
  if (agent->config->max_bytes_per_minute == 0)
    return G_MAXUINT64;
  return spent >= agent->config->max_bytes_per_minute ? 0
                                                      : agent->config->max_bytes_per_minute - spent;
}

static gboolean
on_rate_timer (gpointer user_data)
{
  SessAgent *agent = user_data;

  agent->rate_timer = 0;
  kick (agent);
  return G_SOURCE_REMOVE;
}

static void
on_reclaimed (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Call *call = user_data;
  SessAgent *agent = call->agent;
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) results = NULL;
  SessApp *app;
  guint64 advised = 0;
  gint64 now = g_get_monotonic_time ();
  GVariantIter iter;
  GVariant *entry;

  agent->calling = FALSE;
  app = sess_apps_lookup (agent, call->unit);

  if (!ma_dbus_mem_advise1_call_reclaim_cgroup_finish (MA_DBUS_MEM_ADVISE1 (source), &results,
                                                       result, &error))
    {
      g_autofree char *remote = g_dbus_error_get_remote_error (error);
      g_dbus_error_strip_remote_error (error);
      g_warning ("Cannot reclaim %s (%s): %s", call->unit, remote ? remote : "error",
                 error->message);
    }
  else
    {
      guint n = 0;

      g_variant_iter_init (&iter, results);
      while ((entry = g_variant_iter_next_value (&iter)) != NULL)
        {
          guint64 bytes = 0;
          const char *status = "?";
          const char *message = "";
          guint32 pid = 0;

          if (g_variant_lookup (entry, "advised-bytes", "t", &bytes))
            advised += bytes;
          g_variant_lookup (entry, "pid", "u", &pid);
          g_variant_lookup (entry, "status", "&s", &status);
          g_variant_lookup (entry, "message", "&s", &message);
          g_debug ("  pid %u: %s, %" G_GUINT64_FORMAT " bytes advised %s", pid, status, bytes,
                   message);
          n++;
          g_variant_unref (entry);
        }
      g_message ("Reclaimed %s (%s): %" G_GUINT64_FORMAT " bytes advised in %u processes",
                 app ? app->app_id : call->unit, trigger_names[call->trigger], advised, n);
      if (advised > 0)
        g_array_append_val (agent->spent, ((SessSpent){ now, advised }));
    }
  /* Failed calls count too, so a broken app is not retried at once; an
   * app that came to the front during the call starts afresh. */
  if (app != NULL && app->front_count == call->front_count)
    app->last_reclaim = now;

  if (agent->pressure_episode && g_queue_is_empty (&agent->queue))
    {
      if (sess_pressure_high (agent))
        agent->pressure_episode = pressure_next (agent);
      else
        {
          g_message ("memory pressure has fallen");
          agent->pressure_episode = FALSE;
        }
    }

  g_free (call->unit);
  g_free (call);
  sess_policy_reschedule (agent);
  kick (agent);
}

static void
kick (SessAgent *agent)
{
  while (!agent->calling && !g_queue_is_empty (&agent->queue))
    {
      gint64 now = g_get_monotonic_time ();
      gint64 refill_at;
      guint64 budget = allowance (agent, now, &refill_at);
      g_autofree char *head = NULL;
      g_auto (GVariantDict) options = G_VARIANT_DICT_INIT (NULL);
      guint64 swap_total, swap_free;
      const char *mode;
      const char *unit;
      SessApp *app;
      Call *call;
      int trigger;

      if (budget == 0)
        {
          if (agent->rate_timer == 0)
            agent->rate_timer
                = g_timeout_add ((guint) ((refill_at - now) / 1000 + 1), on_rate_timer, agent);
          g_debug ("rate cap reached; waiting");
          return;
        }

      head = g_queue_pop_head (&agent->queue);
      trigger = head[0] - '0';
      unit = head + 2;
      app = sess_apps_lookup (agent, unit);
      /* Focus may have changed since it was queued. */
      if (app == NULL || !sess_policy_eligible (agent, app, now))
        continue;

      if (!ma_client_read_swap (&swap_total, &swap_free, NULL))
        swap_total = swap_free = 0;
      mode = sess_policy_choose_mode (agent->config, swap_total, swap_free);
      if (!g_str_equal (mode, agent->config->mode))
        g_message ("Free swap is under %u%%: %s with cold instead of pageout",
                   agent->config->min_free_swap_percent, app->app_id);

      g_variant_dict_insert (&options, "percent", "u", agent->config->percent);
      if (budget != G_MAXUINT64)
        g_variant_dict_insert (&options, "max-bytes", "t", budget);

      call = g_new0 (Call, 1);
      call->agent = agent;
      call->unit = g_strdup (unit);
      call->trigger = (SessTrigger) trigger;
      call->front_count = app->front_count;
      agent->calling = TRUE;
      g_debug ("ReclaimCgroup %s %s", app->cgroup, mode);
      ma_dbus_mem_advise1_call_reclaim_cgroup (
          agent->memadvised, app->cgroup, mode, g_variant_dict_end (&options),
          G_DBUS_CALL_FLAGS_NONE, -1, NULL, on_reclaimed, call);
    }
  /* Every app of a pressure episode was skipped: nothing left in flight. */
  if (!agent->calling && agent->pressure_episode)
    agent->pressure_episode = FALSE;
}
