/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The results of a call (results.c): the ranges each target and each call
 * may list, the key that says some were left out, and the largest reply
 * the caps allow, against the bus's message limit.
 */
#include "config.h"

#include <string.h>

#include "jobs.h"

/* dbus-daemon's max_message_size, for the system bus as for any other. */
#define BUS_MAX_MESSAGE (32 * 1024 * 1024)

static MaPlan *
plan_with_ranges (guint n)
{
  MaPlan *plan = g_new0 (MaPlan, 1);

  plan->ranges = g_array_sized_new (FALSE, FALSE, sizeof (MaRange), n);
  for (guint i = 0; i < n; i++)
    {
      MaRange r = { 0x7f0000000000 + (guint64) i * 8192, 4096, 4096 };

      g_array_append_val (plan->ranges, r);
      plan->planned_bytes += r.resident;
    }
  plan->eligible_bytes = plan->planned_bytes;
  plan->swap_configured = TRUE;
  return plan;
}

/* A map of @n drawn mappings (of every state in turn), of @n_eligible in
 * all, with a mapping left out for every reason there is. */
static MaMap *
map_new (guint n, guint n_eligible)
{
  static const char *const reasons[] = {
    "file-backed", "special", "shared",       "not-read-write", "executable",
    "locked",      "hugetlb", "io-or-pfnmap", "no-vmflags",
  };
  MaMap *map = g_new0 (MaMap, 1);

  map->mappings = g_array_new (FALSE, TRUE, sizeof (MaMapMapping));
  map->ineligible = g_array_new (FALSE, FALSE, sizeof (MaMapIneligible));
  map->n_eligible = n_eligible;
  for (guint i = 0; i < n; i++)
    {
      MaMapMapping m = { 0x7f0000000000 + (guint64) i * (1 << 30), 0, MA_MAP_MAX_CELLS, { 0 } };

      m.end = m.start + (1 << 29);
      for (guint k = 0; k < MA_MAP_MAX_CELLS; k++)
        m.cells[k] = (guint8) ((i + k) % (MA_MAP_PLANNED + 1));
      g_array_append_val (map->mappings, m);
    }
  for (guint r = 0; r < G_N_ELEMENTS (reasons); r++)
    g_array_append_vals (map->ineligible,
                         &(MaMapIneligible){ reasons[r], G_MAXUINT32, G_MAXUINT64 }, 1);
  return map;
}

static MaRequest *
request_with (const char *mode, gboolean ranges, gboolean map)
{
  g_autoptr (MaSettings) settings = ma_settings_new ();
  g_auto (GVariantDict) dict = G_VARIANT_DICT_INIT (NULL);
  g_autoptr (GVariant) options = NULL;
  g_autoptr (GError) error = NULL;
  MaRequest *request;

  g_variant_dict_insert (&dict, "ranges", "b", ranges);
  g_variant_dict_insert (&dict, "map", "b", map);
  options = g_variant_ref_sink (g_variant_dict_end (&dict));
  request = ma_request_parse_options (mode, options, settings, &error);
  g_assert_no_error (error);
  return request;
}

static MaRequest *
request_new (const char *mode, gboolean ranges)
{
  return request_with (mode, ranges, FALSE);
}

/* A job of @n targets that all share @plan (owned by the caller). */
static MaJob *
job_new (gboolean reclaim, MaRequest *request, guint n, MaPlan *plan)
{
  MaJob *job = g_new0 (MaJob, 1);

  job->reclaim = reclaim;
  job->request = request;
  /* A caller of the daemon's pid namespace that reads its targets. */
  job->caller_shares_pid_ns = TRUE;
  job->targets = g_array_sized_new (FALSE, TRUE, sizeof (MaJobTarget), n);
  g_array_set_size (job->targets, n);
  for (guint i = 0; i < n; i++)
    {
      MaJobTarget *t = &g_array_index (job->targets, MaJobTarget, i);

      t->pid = 1000 + i;
      t->uid = 1000;
      t->comm = g_strdup ("target");
      t->seen = MA_SEEN_READABLE;
      t->plan = plan;
      t->applied = reclaim && plan != NULL;
    }
  return job;
}

static void
job_free (MaJob *job)
{
  for (guint i = 0; i < job->targets->len; i++)
    {
      MaJobTarget *t = &g_array_index (job->targets, MaJobTarget, i);

      g_free (t->comm);
      g_free (t->message);
    }
  g_array_unref (job->targets);
  ma_request_free (job->request);
  g_free (job);
}

/* As ma_job_target_fail() (job-targets.c, in the daemon) does. */
static void
fail (MaJobTarget *t, MaError code, const char *message)
{
  t->failed = TRUE;
  t->error = code;
  g_free (t->message);
  t->message = g_strdup (message);
}

static guint
n_ranges (GVariant *entry, gboolean *out_cut)
{
  g_autoptr (GVariant) ranges = g_variant_lookup_value (entry, "ranges", G_VARIANT_TYPE ("a(ttt)"));

  g_assert_nonnull (ranges);
  g_assert_true (g_variant_lookup (entry, "ranges-truncated", "b", out_cut));
  return (guint) g_variant_n_children (ranges);
}

static void
test_results_ranges_listed_whole_under_the_cap (void)
{
  g_autoptr (MaPlan) plan = plan_with_ranges (3);
  MaJob *job = job_new (FALSE, request_new ("cold", TRUE), 2, plan);
  g_autoptr (GVariant) results = g_variant_ref_sink (ma_job_build_results (job));
  g_autoptr (GVariant) entry = g_variant_get_child_value (results, 0);
  g_autoptr (GVariant) ranges = g_variant_lookup_value (entry, "ranges", G_VARIANT_TYPE ("a(ttt)"));
  guint64 start, length, resident;
  gboolean cut = TRUE;

  g_assert_cmpuint (n_ranges (entry, &cut), ==, 3);
  g_assert_false (cut);
  g_variant_get_child (ranges, 1, "(ttt)", &start, &length, &resident);
  g_assert_cmphex (start, ==, 0x7f0000000000 + 8192);
  g_assert_cmpuint (length, ==, 4096);
  g_assert_cmpuint (resident, ==, 4096);
  job_free (job);
}

static void
test_results_without_option_ranges_have_neither_key (void)
{
  g_autoptr (MaPlan) plan = plan_with_ranges (3);
  MaJob *job = job_new (FALSE, request_new ("cold", FALSE), 1, plan);
  g_autoptr (GVariant) results = g_variant_ref_sink (ma_job_build_results (job));
  g_autoptr (GVariant) entry = g_variant_get_child_value (results, 0);

  g_assert_false (g_variant_lookup (entry, "ranges", "a(ttt)", NULL));
  g_assert_false (g_variant_lookup (entry, "ranges-truncated", "b", NULL));
  job_free (job);
}

/* One target lists at most MA_RESULTS_MAX_RANGES_PER_TARGET, the call at
 * most MA_RESULTS_MAX_RANGES_PER_CALL, first come; each cut list says so. */
static void
test_results_ranges_cut_per_target_and_per_call (void)
{
  guint per_call_targets = MA_RESULTS_MAX_RANGES_PER_CALL / MA_RESULTS_MAX_RANGES_PER_TARGET;
  g_autoptr (MaPlan) plan = plan_with_ranges (MA_RESULTS_MAX_RANGES_PER_TARGET + 1);
  g_autoptr (MaPlan) small = plan_with_ranges (2);
  MaJob *job = job_new (FALSE, request_new ("cold", TRUE), per_call_targets + 2, plan);
  g_autoptr (GVariant) results = NULL;

  g_array_index (job->targets, MaJobTarget, per_call_targets + 1).plan = small;
  results = g_variant_ref_sink (ma_job_build_results (job));
  for (guint i = 0; i < per_call_targets + 2; i++)
    {
      g_autoptr (GVariant) entry = g_variant_get_child_value (results, i);
      gboolean cut = FALSE;
      guint n = n_ranges (entry, &cut);

      g_assert_true (cut);
      g_assert_cmpuint (n, ==, i < per_call_targets ? MA_RESULTS_MAX_RANGES_PER_TARGET : 0);
    }
  job_free (job);
}

static void
test_results_long_message_is_cut_on_a_character (void)
{
  MaJob *job = job_new (FALSE, request_new ("cold", FALSE), 1, NULL);
  MaJobTarget *t = &g_array_index (job->targets, MaJobTarget, 0);
  g_autoptr (GString) text = g_string_new (NULL);
  g_autoptr (GVariant) results = NULL;
  g_autoptr (GVariant) entry = NULL;
  const char *message;

  /* Two-byte characters, so that a cut at a byte count falls inside one. */
  while (text->len < 3 * MA_RESULTS_MAX_MESSAGE)
    g_string_append (text, "\xc3\xa9");
  g_string_prepend_c (text, 'x');
  fail (t, MA_ERROR_PROTECTED, text->str);
  results = g_variant_ref_sink (ma_job_build_results (job));
  entry = g_variant_get_child_value (results, 0);
  g_assert_true (g_variant_lookup (entry, "message", "&s", &message));
  g_assert_cmpuint (strlen (message), <=, MA_RESULTS_MAX_MESSAGE);
  g_assert_cmpuint (strlen (message), >, MA_RESULTS_MAX_MESSAGE - 8);
  g_assert_true (g_utf8_validate (message, -1, NULL));
  g_assert_true (g_str_has_suffix (message, "..."));
  job_free (job);
}

/* The option map gives the plan's map: its mappings and cells as the
 * engine drew them, how many are eligible, whether some were left out,
 * and the others by reason. */
static void
test_results_map_with_option_map (void)
{
  g_autoptr (MaPlan) plan = plan_with_ranges (1);
  MaJob *job = NULL;
  g_autoptr (GVariant) results = NULL;
  g_autoptr (GVariant) entry = NULL;
  g_autoptr (GVariant) map = NULL;
  g_autoptr (GVariant) mappings = NULL;
  g_autoptr (GVariant) cells = NULL;
  g_autoptr (GVariant) ineligible = NULL;
  guint64 start, end, bytes;
  guint32 n_eligible, count;
  gboolean truncated = FALSE;
  const char *reason;
  const guint8 *data;
  gsize n_cells;

  plan->map = map_new (2, 3);
  job = job_new (FALSE, request_with ("cold", FALSE, TRUE), 1, plan);
  results = g_variant_ref_sink (ma_job_build_results (job));
  entry = g_variant_get_child_value (results, 0);
  map = g_variant_lookup_value (entry, "map", G_VARIANT_TYPE_VARDICT);
  g_assert_nonnull (map);
  mappings = g_variant_lookup_value (map, "mappings", G_VARIANT_TYPE ("a(ttay)"));
  g_assert_cmpuint (g_variant_n_children (mappings), ==, 2);
  g_variant_get_child (mappings, 1, "(tt@ay)", &start, &end, &cells);
  g_assert_cmphex (start, ==, 0x7f0000000000 + (1 << 30));
  g_assert_cmphex (end, ==, start + (1 << 29));
  data = g_variant_get_fixed_array (cells, &n_cells, 1);
  g_assert_cmpuint (n_cells, ==, MA_MAP_MAX_CELLS);
  g_assert_cmpuint (data[0], ==, 1);
  g_assert_cmpuint (data[5], ==, 0);
  g_assert_true (g_variant_lookup (map, "eligible-mappings", "u", &n_eligible));
  g_assert_cmpuint (n_eligible, ==, 3);
  g_assert_true (g_variant_lookup (map, "truncated", "b", &truncated));
  g_assert_true (truncated);
  ineligible = g_variant_lookup_value (map, "ineligible", G_VARIANT_TYPE ("a(sut)"));
  g_assert_cmpuint (g_variant_n_children (ineligible), ==, 9);
  g_variant_get_child (ineligible, 0, "(&sut)", &reason, &count, &bytes);
  g_assert_cmpstr (reason, ==, "file-backed");
  g_assert_cmpuint (count, ==, G_MAXUINT32);
  g_assert_cmpuint (bytes, ==, G_MAXUINT64);
  job_free (job);
}

/* No map without the option, and none of a target without a plan (one
 * refused or gone): the caller learns of no process it may not inspect. */
static void
test_results_map_only_with_option_and_plan (void)
{
  g_autoptr (MaPlan) plan = plan_with_ranges (1);
  MaJob *without = NULL;
  MaJob *refused = NULL;
  g_autoptr (GVariant) a = NULL;
  g_autoptr (GVariant) b = NULL;
  g_autoptr (GVariant) entry_a = NULL;
  g_autoptr (GVariant) entry_b = NULL;
  g_autoptr (GVariant) entry_c = NULL;

  plan->map = map_new (1, 1);
  without = job_new (FALSE, request_new ("cold", TRUE), 1, plan);
  a = g_variant_ref_sink (ma_job_build_results (without));
  entry_a = g_variant_get_child_value (a, 0);
  g_assert_false (g_variant_lookup (entry_a, "map", "@a{sv}", NULL));

  refused = job_new (FALSE, request_with ("cold", FALSE, TRUE), 2, plan);
  g_array_index (refused->targets, MaJobTarget, 1).plan = NULL;
  fail (&g_array_index (refused->targets, MaJobTarget, 1), MA_ERROR_NOT_AUTHORIZED, "no");
  b = g_variant_ref_sink (ma_job_build_results (refused));
  entry_b = g_variant_get_child_value (b, 0);
  entry_c = g_variant_get_child_value (b, 1);
  g_assert_true (g_variant_lookup (entry_b, "map", "@a{sv}", NULL));
  g_assert_false (g_variant_lookup (entry_c, "map", "@a{sv}", NULL));
  job_free (without);
  job_free (refused);
}

/* A Reclaim's target that failed after its plan (its work stopped, or the
 * advice failed) has no map: the plan's would draw as advised what was
 * not, and none was drawn after the work. The others have theirs. */
static void
test_results_map_none_of_a_failed_reclaim_target (void)
{
  g_autoptr (MaPlan) plan = plan_with_ranges (1);
  MaJob *job = NULL;
  g_autoptr (GVariant) results = NULL;
  g_autoptr (GVariant) done = NULL;
  g_autoptr (GVariant) stopped = NULL;

  plan->map = map_new (1, 1);
  job = job_new (TRUE, request_with ("pageout", FALSE, TRUE), 2, plan);
  fail (&g_array_index (job->targets, MaJobTarget, 1), MA_ERROR_FAILED, "stopped");
  results = g_variant_ref_sink (ma_job_build_results (job));
  done = g_variant_get_child_value (results, 0);
  stopped = g_variant_get_child_value (results, 1);
  g_assert_true (g_variant_lookup (done, "map", "@a{sv}", NULL));
  g_assert_false (g_variant_lookup (stopped, "map", "@a{sv}", NULL));
  job_free (job);
}

/* The largest reply there can be: 1024 Reclaim targets with every key, the
 * longest comm, error and message (those that failed after their plan),
 * more ranges than any cap, and maps of as many mappings as a call draws
 * (the engine draws no more) with every reason of the others: of targets
 * that did not fail, which alone have maps, each with the no-swap note. It is within
 * MA_RESULTS_MAX_REPLY_SIZE, and that with room for the message header is within the bus's limit.
 */
static void
test_results_largest_reply_fits_the_bus (void)
{
  g_autoptr (MaPlan) plan = plan_with_ranges (2 * MA_RESULTS_MAX_RANGES_PER_TARGET);
  g_autoptr (MaPlan) drawn = g_new0 (MaPlan, 1);
  MaJob *job = job_new (TRUE, request_with ("pageout", TRUE, TRUE), MA_DBUS_MAX_PIDS, plan);
  guint n_drawn = MA_RESULTS_MAX_MAP_PER_CALL / MA_RESULTS_MAX_MAP_PER_TARGET;
  g_autofree char *message = g_strnfill (4 * MA_RESULTS_MAX_MESSAGE, 'm');
  GVariant *results;
  g_autoptr (GVariant) reply = NULL;
  gsize size;

  plan->swap_configured = FALSE;
  plan->coldness_source = MA_COLDNESS_REFERENCED;
  plan->map = map_new (0, G_MAXUINT32);
  *drawn = *plan;
  drawn->ranges = g_array_ref (plan->ranges);
  drawn->map = map_new (MA_RESULTS_MAX_MAP_PER_TARGET, G_MAXUINT32);
  for (guint i = 0; i < job->targets->len; i++)
    {
      MaJobTarget *t = &g_array_index (job->targets, MaJobTarget, i);

      g_free (t->comm);
      /* MaTarget keeps at most 63 bytes of /proc/PID/comm. */
      t->comm = g_strnfill (63, 'c');
      t->pid = G_MAXUINT32;
      if (i < n_drawn)
        t->plan = drawn;
      else
        fail (t, MA_ERROR_NO_SUCH_PROCESS, message);
    }
  results = ma_job_build_results (job);
  /* The maps are in it, the largest ones. */
  for (guint i = 0; i < n_drawn; i++)
    {
      g_autoptr (GVariant) entry = g_variant_get_child_value (results, i);
      g_autoptr (GVariant) map = g_variant_lookup_value (entry, "map", G_VARIANT_TYPE_VARDICT);
      g_autoptr (GVariant) mappings = NULL;

      g_assert_nonnull (map);
      mappings = g_variant_lookup_value (map, "mappings", G_VARIANT_TYPE ("a(ttay)"));
      g_assert_cmpuint (g_variant_n_children (mappings), ==, MA_RESULTS_MAX_MAP_PER_TARGET);
      g_assert_true (g_variant_lookup (entry, "message", "&s", NULL));
    }
  reply = g_variant_ref_sink (g_variant_new_tuple (&results, 1));
  size = g_variant_get_size (reply);
  g_test_message ("largest reply: %" G_GSIZE_FORMAT " bytes", size);
  g_assert_cmpuint (size, <=, MA_RESULTS_MAX_REPLY_SIZE);
  /* The header: names, paths, the signature, the serial; far below 64 KiB. */
  g_assert_cmpuint (MA_RESULTS_MAX_REPLY_SIZE + 64 * 1024, <, BUS_MAX_MESSAGE);
  job_free (job);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/results/ranges-listed-whole-under-the-cap",
                   test_results_ranges_listed_whole_under_the_cap);
  g_test_add_func ("/results/without-option-ranges-have-neither-key",
                   test_results_without_option_ranges_have_neither_key);
  g_test_add_func ("/results/ranges-cut-per-target-and-per-call",
                   test_results_ranges_cut_per_target_and_per_call);
  g_test_add_func ("/results/long-message-is-cut-on-a-character",
                   test_results_long_message_is_cut_on_a_character);
  g_test_add_func ("/results/map-with-option-map", test_results_map_with_option_map);
  g_test_add_func ("/results/map-only-with-option-and-plan",
                   test_results_map_only_with_option_and_plan);
  g_test_add_func ("/results/map-none-of-a-failed-reclaim-target",
                   test_results_map_none_of_a_failed_reclaim_target);
  g_test_add_func ("/results/largest-reply-fits-the-bus", test_results_largest_reply_fits_the_bus);
  return g_test_run ();
}
