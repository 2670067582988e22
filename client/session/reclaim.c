/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Reclaiming, as the rules of policy.c say: a timer for the next app
 * whose background delay ends, a queue of apps to reclaim, one
 * ReclaimCgroup call at a time within the rate cap, and what each reply
 * changes (back-off, pressure episodes).
 */
#include "config.h"

#include "ma-client.h"
#include "session.h"

/* memadvised says Busy only when its queue is full: try again later, not
 * at once, and not never. */
#define BUSY_RETRY_MS (30 * 1000)

/* An app waiting for a reclaim, and why. */
typedef struct
{
  char *unit;
  SessTrigger trigger;
} Queued;

static const char *const trigger_names[] = { "background", "screen lock", "memory pressure" };

typedef struct
{
  SessAgent *agent;
  char *unit;
  SessTrigger trigger;
  guint front_count; /* the app's when the call started */
  gboolean pageout;
} Call;

static void kick (SessAgent *agent);

static void
queued_free (Queued *q)
{
  g_free (q->unit);
  g_free (q);
}

static GList *
queued (SessAgent *agent, const char *unit)
{
  for (GList *l = agent->queue.head; l != NULL; l = l->next)
    if (g_str_equal (((Queued *) l->data)->unit, unit))
      return l;
  return NULL;
}

void
sess_reclaim_init (SessAgent *agent)
{
  g_queue_init (&agent->queue);
  agent->spent = g_array_new (FALSE, FALSE, sizeof (SessSpent));
}

void
sess_reclaim_shutdown (SessAgent *agent)
{
  g_clear_handle_id (&agent->timer, g_source_remove);
  g_clear_handle_id (&agent->rate_timer, g_source_remove);
  g_clear_handle_id (&agent->busy_timer, g_source_remove);
  g_queue_clear_full (&agent->queue, (GDestroyNotify) queued_free);
  g_clear_pointer (&agent->spent, g_array_unref);
}

void
sess_reclaim_to_front (SessAgent *agent, SessApp *app)
{
  if (!sess_policy_to_front (app))
    return;
  g_debug ("%s came to the front", app->app_id);
  sess_reclaim_reschedule (agent);
}

void
sess_reclaim_to_background (SessAgent *agent, SessApp *app, gint64 since)
{
  if (!sess_policy_to_background (app, since))
    return;
  g_debug ("%s in the background since %" G_GINT64_FORMAT, app->app_id, since);
  sess_reclaim_reschedule (agent);
}

void
sess_reclaim_forget (SessAgent *agent, const char *unit)
{
  GList *l = queued (agent, unit);

  if (l != NULL)
    {
      queued_free (l->data);
      g_queue_delete_link (&agent->queue, l);
    }
}

static void
enqueue (SessAgent *agent, SessApp *app, SessTrigger trigger)
{
  Queued *q;

  if (queued (agent, app->unit) != NULL)
    return;
  g_debug ("queued %s (%s)", app->app_id, trigger_names[trigger]);
  q = g_new0 (Queued, 1);
  q->unit = g_strdup (app->unit);
  q->trigger = trigger;
  g_queue_push_tail (&agent->queue, q);
  kick (agent);
}

static gboolean
on_timer (gpointer user_data)
{
  SessAgent *agent = user_data;

  agent->timer = 0;
  sess_reclaim_reschedule (agent);
  return G_SOURCE_REMOVE;
}

void
sess_reclaim_reschedule (SessAgent *agent)
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
      gint64 due = sess_policy_due (agent->config, app);

      if (due < 0)
        continue;
      if (due <= now && sess_policy_wants_refaults (app))
        sess_refaults_ask (agent, app);
      else if (due <= now)
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
    if (sess_policy_eligible (agent->config, value, now))
      g_ptr_array_add (apps, value);
  g_ptr_array_sort (apps, sess_policy_compare_idle);
  return apps;
}

void
sess_reclaim_all (SessAgent *agent, SessTrigger trigger)
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
sess_reclaim_pressure (SessAgent *agent)
{
  if (agent->pressure_episode)
    return;
  agent->pressure_episode = pressure_next (agent);
  if (!agent->pressure_episode)
    g_message ("memory pressure: no background app to reclaim");
}

static gboolean
on_rate_timer (gpointer user_data)
{
  SessAgent *agent = user_data;

  agent->rate_timer = 0;
  kick (agent);
  return G_SOURCE_REMOVE;
}

static gboolean
on_busy_timer (gpointer user_data)
{
  SessAgent *agent = user_data;

  agent->busy_timer = 0;
  kick (agent);
  return G_SOURCE_REMOVE;
}

/* The app goes back to the head of the queue, the queue waits a while. */
static void
retry_later (SessAgent *agent, const char *unit, SessTrigger trigger)
{
  Queued *q;

  if (queued (agent, unit) == NULL)
    {
      q = g_new0 (Queued, 1);
      q->unit = g_strdup (unit);
      q->trigger = trigger;
      g_queue_push_head (&agent->queue, q);
    }
  if (agent->busy_timer == 0)
    agent->busy_timer = g_timeout_add (BUSY_RETRY_MS, on_busy_timer, agent);
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
                                                       result, &error)
      && g_error_matches (error, MA_DBUS_ERROR, MA_DBUS_ERROR_BUSY))
    {
      g_dbus_error_strip_remote_error (error);
      g_message ("memadvised is busy (%s): reclaiming %s again in %d s", error->message,
                 app ? app->app_id : call->unit, BUSY_RETRY_MS / 1000);
      retry_later (agent, call->unit, call->trigger);
      g_free (call->unit);
      g_free (call);
      return;
    }
  if (error != NULL)
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
  if (app != NULL)
    sess_policy_reclaimed (app, call->front_count, now);
  if (app != NULL && call->pageout && advised > 0)
    sess_policy_paged_out (app);

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
  sess_reclaim_reschedule (agent);
  kick (agent);
}

/* One ReclaimCgroup call for @app, capped at @budget bytes per process. */
static void
send_call (SessAgent *agent, SessApp *app, SessTrigger trigger, guint64 budget)
{
  g_auto (GVariantDict) options = G_VARIANT_DICT_INIT (NULL);
  guint64 swap_total, swap_free;
  const char *mode;
  Call *call;

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
  call->unit = g_strdup (app->unit);
  call->trigger = trigger;
  call->front_count = app->front_count;
  call->pageout = g_str_equal (mode, "pageout");
  agent->calling = TRUE;
  g_debug ("ReclaimCgroup %s %s", app->cgroup, mode);
  /* No timeout: the call may wait its turn in memadvised's queue, and it
   * goes when the agent leaves the bus. */
  ma_dbus_mem_advise1_call_reclaim_cgroup (agent->memadvised, app->cgroup, mode,
                                           g_variant_dict_end (&options), G_DBUS_CALL_FLAGS_NONE,
                                           G_MAXINT, NULL, on_reclaimed, call);
}

/* Sends the next call the queue and the rate cap allow, unless one is in
 * flight; apps that went back to the front meanwhile are dropped. */
static void
kick (SessAgent *agent)
{
  while (!agent->calling && agent->busy_timer == 0 && !g_queue_is_empty (&agent->queue))
    {
      gint64 now = g_get_monotonic_time ();
      gint64 refill_at;
      guint64 budget = sess_policy_allowance (agent->config, agent->spent, now, &refill_at);
      Queued *next;
      SessApp *app;

      if (budget == 0)
        {
          if (agent->rate_timer == 0)
            agent->rate_timer
                = g_timeout_add ((guint) ((refill_at - now) / 1000 + 1), on_rate_timer, agent);
          g_debug ("rate cap reached; waiting");
          return;
        }

      next = g_queue_pop_head (&agent->queue);
      app = sess_apps_lookup (agent, next->unit);
      if (app != NULL && sess_policy_eligible (agent->config, app, now))
        send_call (agent, app, next->trigger, budget);
      queued_free (next);
    }
  /* Every app of a pressure episode was skipped: nothing left in flight. */
  if (!agent->calling && agent->pressure_episode)
    agent->pressure_episode = FALSE;
}
