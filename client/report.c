/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The daemon's results (aa{sv}, one dictionary per target) as C structs
 * the table and JSON printers share, and the exit status they imply.
 */
#include "config.h"

#include "memadvisectl.h"

static void
ctl_target_free (CtlTarget *target)
{
  g_free (target->comm);
  g_free (target->status);
  g_free (target->error);
  g_free (target->message);
  g_free (target->coldness_source);
  g_clear_pointer (&target->ranges, g_array_unref);
  g_clear_pointer (&target->map, ctl_map_free);
  g_free (target);
}

static guint64
lookup_u64 (GVariantDict *dict, const char *key, gboolean *found)
{
  guint64 value = 0;
  gboolean ok = g_variant_dict_lookup (dict, key, "t", &value);

  if (found != NULL)
    *found = ok;
  return ok ? value : 0;
}

static char *
lookup_string (GVariantDict *dict, const char *key)
{
  char *value = NULL;

  if (!g_variant_dict_lookup (dict, key, "s", &value))
    return NULL;
  return value;
}

static CtlTarget *
target_new (GVariant *entry)
{
  g_autoptr (GVariantDict) dict = g_variant_dict_new (entry);
  g_autoptr (GVariant) ranges = NULL;
  g_autoptr (GVariant) map = NULL;
  CtlTarget *target = g_new0 (CtlTarget, 1);
  gboolean has_rss = FALSE;

  g_variant_dict_lookup (dict, "pid", "u", &target->pid);
  /* A target that could not be opened has no owner and no name: the
   * daemon may send (uid_t) -1 and "" for them. */
  target->has_uid
      = g_variant_dict_lookup (dict, "uid", "u", &target->uid) && target->uid != G_MAXUINT32;
  target->comm = lookup_string (dict, "comm");
  if (target->comm != NULL && *target->comm == '\0')
    g_clear_pointer (&target->comm, g_free);
  target->status = lookup_string (dict, "status");
  if (target->status == NULL)
    target->status = g_strdup ("failed");
  target->error = lookup_string (dict, "error");
  target->message = lookup_string (dict, "message");
  target->eligible_bytes = lookup_u64 (dict, "eligible-bytes", NULL);
  target->planned_bytes = lookup_u64 (dict, "planned-bytes", NULL);
  target->advised_bytes = lookup_u64 (dict, "advised-bytes", NULL);
  target->idle_bytes = lookup_u64 (dict, "idle-bytes", NULL);
  if (!g_variant_dict_lookup (dict, "idle-seconds", "u", &target->idle_seconds))
    target->idle_seconds = 0;
  target->unknown_age_bytes = lookup_u64 (dict, "unknown-age-bytes", NULL);
  target->coldness_source = lookup_string (dict, "coldness-source");
  target->refaulted_bytes = lookup_u64 (dict, "refaulted-bytes", NULL);
  target->paged_out_bytes = lookup_u64 (dict, "paged-out-bytes", NULL);
  target->held_bytes = lookup_u64 (dict, "held-bytes", NULL);
  target->sampled_bytes = lookup_u64 (dict, "sampled-bytes", NULL);
  target->before.rss = lookup_u64 (dict, "rss-before", NULL);
  target->before.anon = lookup_u64 (dict, "anon-before", NULL);
  target->before.swap = lookup_u64 (dict, "swap-before", NULL);
  target->after.rss = lookup_u64 (dict, "rss-after", &has_rss);
  target->after.anon = lookup_u64 (dict, "anon-after", NULL);
  target->after.swap = lookup_u64 (dict, "swap-after", NULL);
  /* A failed target was not measured afterwards unless figures came back. */
  target->has_after
      = has_rss && !(g_strcmp0 (target->status, "failed") == 0 && target->after.rss == 0);

  ranges = g_variant_dict_lookup_value (dict, "ranges", G_VARIANT_TYPE ("a(ttt)"));
  if (ranges != NULL)
    {
      GVariantIter iter;
      CtlRange range;

      target->ranges = g_array_new (FALSE, FALSE, sizeof (CtlRange));
      g_variant_iter_init (&iter, ranges);
      while (g_variant_iter_next (&iter, "(ttt)", &range.start, &range.length, &range.resident))
        g_array_append_val (target->ranges, range);
      if (!g_variant_dict_lookup (dict, "ranges-truncated", "b", &target->ranges_truncated))
        target->ranges_truncated = FALSE;
    }
  map = g_variant_dict_lookup_value (dict, "map", G_VARIANT_TYPE_VARDICT);
  if (map != NULL)
    target->map = ctl_map_new (map);
  return target;
}

CtlReport *
ctl_report_new (const CtlOptions *options, GVariant *results)
{
  CtlReport *report = g_new0 (CtlReport, 1);
  GVariantIter iter;
  GVariant *entry;

  report->mode = g_strdup (options->mode);
  report->dry_run = options->dry_run;
  report->percent = (guint) options->percent;
  report->max_bytes = options->max_bytes;
  report->order = g_strdup (options->order != NULL ? options->order : "coldest");
  report->min_idle = options->min_idle;
  report->threads = options->threads;
  report->verbose = options->verbose;
  report->map = options->map;
  report->map_width = 80;
  report->targets = g_ptr_array_new_with_free_func ((GDestroyNotify) ctl_target_free);

  g_variant_iter_init (&iter, results);
  while ((entry = g_variant_iter_next_value (&iter)) != NULL)
    {
      g_ptr_array_add (report->targets, target_new (entry));
      g_variant_unref (entry);
    }
  return report;
}

void
ctl_report_free (CtlReport *report)
{
  if (report == NULL)
    return;
  g_free (report->mode);
  g_free (report->order);
  g_ptr_array_unref (report->targets);
  g_free (report);
}

gboolean
ctl_target_is_ok (const CtlTarget *target)
{
  return g_strcmp0 (target->status, "ok") == 0 || g_strcmp0 (target->status, "skipped") == 0;
}

/* 0 when every target is ok or skipped; 4 when every target failed for
 * want of authorization; 1 otherwise. */
CtlExit
ctl_report_exit_status (const CtlReport *report)
{
  guint failed = 0;
  guint denied = 0;

  for (guint i = 0; i < report->targets->len; i++)
    {
      const CtlTarget *target = g_ptr_array_index (report->targets, i);

      if (ctl_target_is_ok (target))
        continue;
      failed++;
      if (g_strcmp0 (target->error, "not-authorized") == 0)
        denied++;
    }
  if (failed == 0)
    return CTL_EXIT_OK;
  if (denied == report->targets->len)
    return CTL_EXIT_DENIED;
  return CTL_EXIT_FAILED;
}

void
ctl_report_totals (const CtlReport *report, guint64 *eligible, guint64 *planned, guint64 *advised)
{
  *eligible = *planned = *advised = 0;
  for (guint i = 0; i < report->targets->len; i++)
    {
      const CtlTarget *target = g_ptr_array_index (report->targets, i);

      *eligible += target->eligible_bytes;
      *planned += target->planned_bytes;
      *advised += target->advised_bytes;
    }
}

void
ctl_report_idle_totals (const CtlReport *report, guint64 *idle, guint64 *unknown_age,
                        guint32 *min_idle_seconds)
{
  guint32 shortest = G_MAXUINT32;

  *idle = *unknown_age = 0;
  for (guint i = 0; i < report->targets->len; i++)
    {
      const CtlTarget *target = g_ptr_array_index (report->targets, i);

      *idle += target->idle_bytes;
      *unknown_age += target->unknown_age_bytes;
      if (target->idle_bytes > 0)
        shortest = MIN (shortest, target->idle_seconds);
    }
  *min_idle_seconds = shortest != G_MAXUINT32 ? shortest : 0;
}

void
ctl_report_coldness_totals (const CtlReport *report, CtlColdnessTotals *out)
{
  *out = (CtlColdnessTotals){ 0 };
  for (guint i = 0; i < report->targets->len; i++)
    {
      const CtlTarget *target = g_ptr_array_index (report->targets, i);

      out->refaulted += target->refaulted_bytes;
      out->paged_out += target->paged_out_bytes;
      out->sampled += target->sampled_bytes;
      out->any_sampling |= g_strcmp0 (target->coldness_source, "sampling") == 0;
    }
}
