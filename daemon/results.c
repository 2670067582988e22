/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <string.h>

#include "jobs.h"

static const char *
skipped_message (const MaPlan *plan)
{
  if (plan->eligible_bytes == 0)
    return "The process has no resident anonymous private memory that may be advised.";
  return "The budget selects less than one page of memory.";
}

/* The plan's ranges, at most @max of them (the first, in the order they
 * are advised); *@out_cut says whether there were more. */
static GVariant *
ranges_variant (const MaPlan *plan, guint max, gboolean *out_cut)
{
  guint n = plan != NULL ? MIN (plan->ranges->len, max) : 0;

  *out_cut = plan != NULL && plan->ranges->len > n;
  /* MaRange is three guint64s, as (ttt) is in GVariant's serialization:
   * one copy in native byte order, as g_variant_new_fixed_array wants. */
  G_STATIC_ASSERT (sizeof (MaRange) == 3 * sizeof (guint64));
  return g_variant_new_fixed_array (G_VARIANT_TYPE ("(ttt)"), n > 0 ? plan->ranges->data : NULL, n,
                                    sizeof (MaRange));
}

/* The option map's "map": "mappings" a(ttay) (start, end, the state of
 * each cell), "eligible-mappings" u, "truncated" b (eligible mappings
 * were left out of "mappings") and "ineligible" a(sut) (reason, mappings,
 * bytes of address space). */
static GVariant *
map_variant (const MaMap *map)
{
  g_auto (GVariantDict) dict = G_VARIANT_DICT_INIT (NULL);
  GVariantBuilder mappings;
  GVariantBuilder ineligible;

  g_variant_builder_init (&mappings, G_VARIANT_TYPE ("a(ttay)"));
  for (guint i = 0; i < map->mappings->len; i++)
    {
      const MaMapMapping *m = &g_array_index (map->mappings, MaMapMapping, i);

      g_variant_builder_add (
          &mappings, "(tt@ay)", m->start, m->end,
          g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, m->cells, m->n_cells, sizeof (guint8)));
    }
  g_variant_builder_init (&ineligible, G_VARIANT_TYPE ("a(sut)"));
  for (guint i = 0; i < map->ineligible->len; i++)
    {
      const MaMapIneligible *x = &g_array_index (map->ineligible, MaMapIneligible, i);

      g_variant_builder_add (&ineligible, "(sut)", x->reason, (guint32) x->count, x->bytes);
    }
  g_variant_dict_insert_value (&dict, "mappings", g_variant_builder_end (&mappings));
  g_variant_dict_insert (&dict, "eligible-mappings", "u", (guint32) map->n_eligible);
  g_variant_dict_insert (&dict, "truncated", "b", map->n_eligible > map->mappings->len);
  g_variant_dict_insert_value (&dict, "ineligible", g_variant_builder_end (&ineligible));
  return g_variant_dict_end (&dict);
}

/* A message no longer than MA_RESULTS_MAX_MESSAGE bytes: one from the
 * configuration or the kernel could be longer. */
static char *
bounded_message (const char *message)
{
  const char *end;

  if (strlen (message) <= MA_RESULTS_MAX_MESSAGE)
    return g_strdup (message);
  end = g_utf8_find_prev_char (message, message + MA_RESULTS_MAX_MESSAGE - 2);
  return g_strdup_printf ("%.*s...", (int) (end - message), message);
}

guint64
ma_job_target_advised (const MaJobTarget *t)
{
  /* The pages of the sample and the trials still out were advised during
   * the min-idle wait, and are part of the plan. */
  if (t->plan == NULL)
    return 0;
  return (t->applied ? t->apply.advised_bytes : 0) + t->plan->sampled_out_bytes;
}

const char *
ma_job_target_status (const MaJobTarget *t)
{
  if (t->failed)
    return "failed";
  if (t->plan == NULL || t->plan->planned_bytes == 0)
    return "skipped";
  return "ok";
}

/* For a caller in another pid namespace, whose numbers differ: the
 * sentence of each error without a pid in it. */
static const char *
message_without_pid (MaError error)
{
  switch (error)
    {
    case MA_ERROR_NO_SUCH_PROCESS:
      return "There is no such process.";
    case MA_ERROR_EXITED:
      return "The process has exited.";
    case MA_ERROR_NOT_AUTHORIZED:
      return "You are not authorized for this process.";
    case MA_ERROR_PROTECTED:
      return "The process is protected and never touched.";
    case MA_ERROR_KERNEL_THREAD:
      return "The process is a kernel thread.";
    case MA_ERROR_NOT_SUPPORTED:
      return "This kernel does not support what the work needs.";
    default:
      return "memadvised could not work on the process.";
    }
}

static GVariant *
target_variant (MaJob *job, MaJobTarget *t, guint *ranges_left)
{
  g_auto (GVariantDict) dict = G_VARIANT_DICT_INIT (NULL);
  const MaPlan *plan = t->plan;
  const char *status = ma_job_target_status (t);
  const char *message = NULL;
  MaMemStat before = { 0 }, after = { 0 };

  /* What the caller's /proc shows, or what it is authorized for. */
  gboolean known = t->seen == MA_SEEN_READABLE || t->authorized;

  if (t->failed)
    message = job->caller_shares_pid_ns ? t->message : message_without_pid (t->error);
  else if (g_str_equal (status, "skipped"))
    message = plan != NULL ? skipped_message (plan) : "Nothing was planned.";
  else if (!job->reclaim && job->request->min_idle > 0 && plan->coldness_source == MA_COLDNESS_NONE)
    {
      /* Plan pages nothing out, so it cannot sample; where clear_refs
       * cannot be written (the shipped unit) nothing else tells either. */
      message = "Nothing tells yet which of this memory is idle: Plan pages nothing out to find "
                "out, and the accessed bits could not be cleared. Reclaim with pageout and "
                "min-idle samples it.";
    }
  else if (job->request->mode == MA_MODE_PAGEOUT && !plan->swap_configured)
    {
      /* Status stays ok: the advice is valid; it only cannot free anonymous
       * memory until swap exists. */
      message = "No swap is configured, so anonymous pageout frees nothing.";
    }

  if (plan != NULL)
    before = plan->before;
  if (t->applied)
    after = t->apply.after;

  g_variant_dict_insert (&dict, "pid", "u", job->caller_shares_pid_ns ? t->pid : 0);
  g_variant_dict_insert (&dict, "comm", "s", known && t->comm != NULL ? t->comm : "");
  g_variant_dict_insert (&dict, "uid", "u", known ? (guint32) t->uid : G_MAXUINT32);
  g_variant_dict_insert (&dict, "status", "s", status);
  if (t->failed)
    g_variant_dict_insert (&dict, "error", "s", ma_error_to_string (t->error));
  if (message != NULL)
    g_variant_dict_insert_value (&dict, "message",
                                 g_variant_new_take_string (bounded_message (message)));
  g_variant_dict_insert (&dict, "eligible-bytes", "t", plan != NULL ? plan->eligible_bytes : 0);
  g_variant_dict_insert (&dict, "planned-bytes", "t", plan != NULL ? plan->planned_bytes : 0);
  g_variant_dict_insert (&dict, "advised-bytes", "t", ma_job_target_advised (t));
  g_variant_dict_insert (&dict, "idle-bytes", "t", plan != NULL ? plan->idle_bytes : 0);
  g_variant_dict_insert (&dict, "idle-seconds", "u",
                         plan != NULL ? (guint32) (plan->idle_usec / G_USEC_PER_SEC) : 0);
  g_variant_dict_insert (&dict, "unknown-age-bytes", "t",
                         plan != NULL ? plan->unknown_age_bytes : 0);
  g_variant_dict_insert (
      &dict, "coldness-source", "s",
      ma_coldness_source_to_string (plan != NULL ? plan->coldness_source : MA_COLDNESS_NONE));
  g_variant_dict_insert (&dict, "refaulted-bytes", "t", plan != NULL ? plan->refaulted_bytes : 0);
  g_variant_dict_insert (&dict, "paged-out-bytes", "t", plan != NULL ? plan->paged_out_bytes : 0);
  g_variant_dict_insert (&dict, "held-bytes", "t", plan != NULL ? plan->held_bytes : 0);
  g_variant_dict_insert (&dict, "sampled-bytes", "t", plan != NULL ? plan->sampled_bytes : 0);
  g_variant_dict_insert (&dict, "rss-before", "t", before.rss);
  g_variant_dict_insert (&dict, "anon-before", "t", before.anon);
  g_variant_dict_insert (&dict, "swap-before", "t", before.swap);
  if (job->reclaim)
    {
      g_variant_dict_insert (&dict, "rss-after", "t", after.rss);
      g_variant_dict_insert (&dict, "anon-after", "t", after.anon);
      g_variant_dict_insert (&dict, "swap-after", "t", after.swap);
    }
  if (job->request->ranges)
    {
      gboolean cut;
      GVariant *ranges
          = ranges_variant (plan, MIN (MA_RESULTS_MAX_RANGES_PER_TARGET, *ranges_left), &cut);

      *ranges_left -= (guint) g_variant_n_children (ranges);
      g_variant_dict_insert_value (&dict, "ranges", ranges);
      g_variant_dict_insert (&dict, "ranges-truncated", "b", cut);
    }
  /* Only of a plan made for the caller: what /proc shows an authorized one.
   * A target that failed after its plan (a Reclaim stopped, or the advice
   * failed) has none: the plan's map would show as advised what was not,
   * and there is no map of it after the work. */
  if (job->request->map && !t->failed && plan != NULL && plan->map != NULL)
    g_variant_dict_insert_value (&dict, "map", map_variant (plan->map));
  return g_variant_dict_end (&dict);
}

GVariant *
ma_job_build_results (MaJob *job)
{
  g_auto (GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("aa{sv}"));
  guint ranges_left = MA_RESULTS_MAX_RANGES_PER_CALL;

  for (guint i = 0; i < job->targets->len; i++)
    {
      MaJobTarget *t = &g_array_index (job->targets, MaJobTarget, i);

      if (!t->dropped)
        g_variant_builder_add_value (&builder, target_variant (job, t, &ranges_left));
    }
  return g_variant_builder_end (&builder);
}
