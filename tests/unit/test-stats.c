/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * memadvised's statistics (GetStatistics): what each event counts and the
 * a{sv} the method returns.
 */
#include "config.h"

#include <gio/gio.h>

#include "stats.h"

static guint64
lookup_t (GVariant *dict, const char *key)
{
  guint64 value = G_MAXUINT64;

  g_assert_true (g_variant_lookup (dict, key, "t", &value));
  return value;
}

static guint64
lookup_count (GVariant *dict, const char *table, const char *key)
{
  g_autoptr (GVariant) counts = g_variant_lookup_value (dict, table, G_VARIANT_TYPE ("a{st}"));
  guint64 value = 0;

  g_assert_nonnull (counts);
  g_variant_lookup (counts, key, "t", &value);
  return value;
}

static void
test_stats_start_at_zero_with_every_key (void)
{
  static const char *const keys[] = {
    "started-at",        "calls-plan",          "calls-reclaim",
    "targets",           "targets-ok",          "targets-skipped",
    "targets-failed",    "advised-bytes-cold",  "advised-bytes-pageout",
    "reclaimed-bytes",   "time-spent-usec",     "failures",
    "refused-calls",     "refaulted-bytes",     "sampled-bytes",
    "tracked-processes", "tracked-state-bytes", "cancelled-calls",
    "timed-out-calls",
  };
  g_autoptr (MaStats) stats = ma_stats_new ();
  g_autoptr (GVariant) dict = g_variant_ref_sink (ma_stats_to_variant (stats, 0, 0));
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;

  g_assert_true (g_variant_is_of_type (dict, G_VARIANT_TYPE_VARDICT));
  g_assert_cmpuint (g_variant_n_children (dict), ==, G_N_ELEMENTS (keys));
  for (gsize i = 0; i < G_N_ELEMENTS (keys); i++)
    {
      g_autoptr (GVariant) value = g_variant_lookup_value (dict, keys[i], NULL);

      g_assert_nonnull (value);
      if (g_variant_is_of_type (value, G_VARIANT_TYPE_UINT64) && i > 0)
        g_assert_cmpuint (g_variant_get_uint64 (value), ==, 0);
      else if (i > 0)
        g_assert_cmpuint (g_variant_n_children (value), ==, 0);
    }
  g_assert_cmpint (ABS ((gint64) lookup_t (dict, "started-at") - now), <=, 5);
}

static void
test_stats_count_calls_targets_bytes_and_time (void)
{
  g_autoptr (MaStats) stats = ma_stats_new ();
  g_autoptr (GVariant) dict = NULL;

  ma_stats_add_call (stats, FALSE);
  ma_stats_add_call (stats, TRUE);
  ma_stats_add_call (stats, TRUE);
  ma_stats_add_cancelled_call (stats);
  ma_stats_add_timed_out_call (stats);
  ma_stats_add_timed_out_call (stats);
  ma_stats_add_target (stats, "ok", NULL);
  ma_stats_add_target (stats, "skipped", NULL);
  ma_stats_add_target (stats, "failed", "no-such-process");
  ma_stats_add_target (stats, "failed", "no-such-process");
  ma_stats_add_target (stats, "failed", NULL);
  ma_stats_add_advised (stats, MA_MODE_COLD, 4096, 0);
  ma_stats_add_advised (stats, MA_MODE_PAGEOUT, 8192, 8000);
  ma_stats_add_time (stats, 1500);
  ma_stats_add_time (stats, -7); /* a clock that went back counts nothing */
  ma_stats_add_refused_call (stats, "invalid-args");
  ma_stats_add_refused_call (stats, "busy");
  ma_stats_add_refused_call (stats, "busy");
  ma_stats_add_coldness (stats, 4096, 12288);
  ma_stats_add_coldness (stats, 8192, 0);
  dict = g_variant_ref_sink (ma_stats_to_variant (stats, 3, 6144));

  g_assert_cmpuint (lookup_t (dict, "calls-plan"), ==, 1);
  g_assert_cmpuint (lookup_t (dict, "calls-reclaim"), ==, 2);
  g_assert_cmpuint (lookup_t (dict, "cancelled-calls"), ==, 1);
  g_assert_cmpuint (lookup_t (dict, "timed-out-calls"), ==, 2);
  g_assert_cmpuint (lookup_t (dict, "targets"), ==, 5);
  g_assert_cmpuint (lookup_t (dict, "targets-ok"), ==, 1);
  g_assert_cmpuint (lookup_t (dict, "targets-skipped"), ==, 1);
  g_assert_cmpuint (lookup_t (dict, "targets-failed"), ==, 3);
  g_assert_cmpuint (lookup_t (dict, "advised-bytes-cold"), ==, 4096);
  g_assert_cmpuint (lookup_t (dict, "advised-bytes-pageout"), ==, 8192);
  g_assert_cmpuint (lookup_t (dict, "reclaimed-bytes"), ==, 8000);
  g_assert_cmpuint (lookup_t (dict, "time-spent-usec"), ==, 1500);
  g_assert_cmpuint (lookup_t (dict, "refaulted-bytes"), ==, 12288);
  g_assert_cmpuint (lookup_t (dict, "sampled-bytes"), ==, 12288);
  g_assert_cmpuint (lookup_t (dict, "tracked-processes"), ==, 3);
  g_assert_cmpuint (lookup_t (dict, "tracked-state-bytes"), ==, 6144);
  g_assert_cmpuint (lookup_count (dict, "failures", "no-such-process"), ==, 2);
  g_assert_cmpuint (lookup_count (dict, "failures", "failed"), ==, 1);
  g_assert_cmpuint (lookup_count (dict, "refused-calls", "invalid-args"), ==, 1);
  g_assert_cmpuint (lookup_count (dict, "refused-calls", "busy"), ==, 2);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/stats/start-at-zero-with-every-key", test_stats_start_at_zero_with_every_key);
  g_test_add_func ("/stats/count-calls-targets-bytes-and-time",
                   test_stats_count_calls_targets_bytes_and_time);

  return g_test_run ();
}
