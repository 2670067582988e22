/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * What came back of an app's last pageout, asked when its background delay
 * ends, before it is reclaimed again: a PlanCgroup of its cgroup (Plan of
 * one's own processes needs no authorization and changes nothing) says,
 * per process, what memadvised's pageouts left out (paged-out-bytes) and
 * what of it is in memory again (refaulted-bytes). policy.c decides what
 * the sums mean; memadvise-session(1) says it.
 */
#include "config.h"

#include "session.h"

typedef struct
{
  SessAgent *agent;
  char *unit;
} Ask;

static void
sum_results (GVariant *results, guint64 *refaulted, guint64 *paged_out)
{
  GVariantIter iter;
  GVariant *entry;

  *refaulted = *paged_out = 0;
  g_variant_iter_init (&iter, results);
  while ((entry = g_variant_iter_next_value (&iter)) != NULL)
    {
      guint64 back = 0, out = 0;

      g_variant_lookup (entry, "refaulted-bytes", "t", &back);
      g_variant_lookup (entry, "paged-out-bytes", "t", &out);
      *refaulted += back;
      *paged_out += out;
      g_variant_unref (entry);
    }
}

static void
on_planned (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Ask *ask = user_data;
  SessAgent *agent = ask->agent;
  g_autoptr (GVariant) results = NULL;
  g_autoptr (GError) error = NULL;
  guint64 refaulted = 0, paged_out = 0;
  SessApp *app = sess_apps_lookup (agent, ask->unit);

  if (ma_dbus_mem_advise1_call_plan_cgroup_finish (MA_DBUS_MEM_ADVISE1 (source), &results, result,
                                                   &error))
    sum_results (results, &refaulted, &paged_out);
  else
    g_message ("Cannot tell what came back of %s: %s", ask->unit, error->message);
  /* Not known reads as nothing back: the app is reclaimed as usual. */
  if (app != NULL && sess_policy_refaults (agent->config, app, refaulted, paged_out))
    g_message ("%s: %" G_GUINT64_FORMAT " of the %" G_GUINT64_FORMAT
               " bytes its pageouts left out came back, more than %u%%: its next reclaim "
               "waits twice as long in the background",
               app->app_id, refaulted, paged_out, agent->config->refault_backoff_percent);
  else if (app != NULL)
    g_debug ("%s: %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT " bytes paged out came back",
             app->app_id, refaulted, paged_out);
  g_free (ask->unit);
  g_free (ask);
  sess_reclaim_reschedule (agent);
}

void
sess_refaults_ask (SessAgent *agent, SessApp *app)
{
  g_auto (GVariantDict) options = G_VARIANT_DICT_INIT (NULL);
  Ask *ask = g_new0 (Ask, 1);

  ask->agent = agent;
  ask->unit = g_strdup (app->unit);
  app->asking = TRUE;
  g_variant_dict_insert (&options, "percent", "u", agent->config->percent);
  g_debug ("PlanCgroup %s: what came back of its last pageout", app->cgroup);
  ma_dbus_mem_advise1_call_plan_cgroup (agent->memadvised, app->cgroup, "pageout",
                                        g_variant_dict_end (&options), G_DBUS_CALL_FLAGS_NONE, -1,
                                        NULL, on_planned, ask);
}
