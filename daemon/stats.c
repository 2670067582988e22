/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "stats.h"

struct _MaStats
{
  gint64 started_at; /* wall clock, seconds since the epoch */
  guint64 calls_plan;
  guint64 calls_reclaim;
  guint64 calls_cancelled;
  guint64 calls_timed_out;
  guint64 targets;
  guint64 targets_ok;
  guint64 targets_skipped;
  guint64 targets_failed;
  guint64 advised_cold;
  guint64 advised_pageout;
  guint64 reclaimed;
  guint64 time_usec;
  guint64 refaulted;
  guint64 sampled;
  GHashTable *failures; /* reason → guint64 count */
  GHashTable *refusals; /* reason → guint64 count */
};

MaStats *
ma_stats_new (void)
{
  MaStats *stats = g_new0 (MaStats, 1);

  stats->started_at = g_get_real_time () / G_USEC_PER_SEC;
  stats->failures = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  stats->refusals = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  return stats;
}

void
ma_stats_free (MaStats *stats)
{
  if (stats == NULL)
    return;
  g_hash_table_unref (stats->failures);
  g_hash_table_unref (stats->refusals);
  g_free (stats);
}

static void
count (GHashTable *table, const char *key)
{
  guint64 *value = g_hash_table_lookup (table, key);

  if (value == NULL)
    {
      value = g_new0 (guint64, 1);
      g_hash_table_insert (table, g_strdup (key), value);
    }
  (*value)++;
}

void
ma_stats_add_call (MaStats *stats, gboolean reclaim)
{
  if (reclaim)
    stats->calls_reclaim++;
  else
    stats->calls_plan++;
}

void
ma_stats_add_cancelled_call (MaStats *stats)
{
  stats->calls_cancelled++;
}

void
ma_stats_add_timed_out_call (MaStats *stats)
{
  stats->calls_timed_out++;
}

void
ma_stats_add_refused_call (MaStats *stats, const char *reason)
{
  count (stats->refusals, reason);
}

void
ma_stats_add_target (MaStats *stats, const char *status, const char *error)
{
  stats->targets++;
  if (g_str_equal (status, "ok"))
    stats->targets_ok++;
  else if (g_str_equal (status, "skipped"))
    stats->targets_skipped++;
  else
    {
      stats->targets_failed++;
      count (stats->failures, error != NULL ? error : "failed");
    }
}

void
ma_stats_add_advised (MaStats *stats, MaMode mode, guint64 advised, guint64 reclaimed)
{
  if (mode == MA_MODE_PAGEOUT)
    stats->advised_pageout += advised;
  else
    stats->advised_cold += advised;
  stats->reclaimed += reclaimed;
}

void
ma_stats_add_time (MaStats *stats, gint64 usec)
{
  stats->time_usec += (guint64) MAX (usec, 0);
}

void
ma_stats_add_coldness (MaStats *stats, guint64 refaulted, guint64 sampled)
{
  stats->refaulted += refaulted;
  stats->sampled += sampled;
}

static GVariant *
table_to_variant (GHashTable *table)
{
  g_auto (GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("a{st}"));
  GHashTableIter iter;
  gpointer key, value;

  g_hash_table_iter_init (&iter, table);
  while (g_hash_table_iter_next (&iter, &key, &value))
    g_variant_builder_add (&builder, "{st}", (const char *) key, *(guint64 *) value);
  return g_variant_builder_end (&builder);
}

GVariant *
ma_stats_to_variant (MaStats *stats, guint tracked, guint64 tracked_bytes)
{
  g_auto (GVariantDict) dict = G_VARIANT_DICT_INIT (NULL);

  g_variant_dict_insert (&dict, "started-at", "t", (guint64) stats->started_at);
  g_variant_dict_insert (&dict, "calls-plan", "t", stats->calls_plan);
  g_variant_dict_insert (&dict, "calls-reclaim", "t", stats->calls_reclaim);
  g_variant_dict_insert (&dict, "cancelled-calls", "t", stats->calls_cancelled);
  g_variant_dict_insert (&dict, "timed-out-calls", "t", stats->calls_timed_out);
  g_variant_dict_insert (&dict, "targets", "t", stats->targets);
  g_variant_dict_insert (&dict, "targets-ok", "t", stats->targets_ok);
  g_variant_dict_insert (&dict, "targets-skipped", "t", stats->targets_skipped);
  g_variant_dict_insert (&dict, "targets-failed", "t", stats->targets_failed);
  g_variant_dict_insert (&dict, "advised-bytes-cold", "t", stats->advised_cold);
  g_variant_dict_insert (&dict, "advised-bytes-pageout", "t", stats->advised_pageout);
  g_variant_dict_insert (&dict, "reclaimed-bytes", "t", stats->reclaimed);
  g_variant_dict_insert (&dict, "time-spent-usec", "t", stats->time_usec);
  g_variant_dict_insert (&dict, "refaulted-bytes", "t", stats->refaulted);
  g_variant_dict_insert (&dict, "sampled-bytes", "t", stats->sampled);
  g_variant_dict_insert (&dict, "tracked-processes", "t", (guint64) tracked);
  g_variant_dict_insert (&dict, "tracked-state-bytes", "t", tracked_bytes);
  g_variant_dict_insert_value (&dict, "failures", table_to_variant (stats->failures));
  g_variant_dict_insert_value (&dict, "refused-calls", table_to_variant (stats->refusals));
  return g_variant_dict_end (&dict);
}
