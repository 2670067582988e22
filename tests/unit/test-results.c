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

static MaRequest *
request_new (const char *mode, gboolean ranges)
{
  g_autoptr (MaSettings) settings = ma_settings_new ();
  g_auto (GVariantDict) dict = G_VARIANT_DICT_INIT (NULL);
  g_autoptr (GVariant) options = NULL;
  g_autoptr (GError) error = NULL;
  MaRequest *request;

  g_variant_dict_insert (&dict, "ranges", "b", ranges);
  options = g_variant_ref_sink (g_variant_dict_end (&dict));
  request = ma_request_parse_options (mode, options, settings, &error);
  g_assert_no_error (error);
  return request;
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

/* The largest reply there can be: 1024 Reclaim targets, each failed after
 * its plan, with every key, the longest comm, error and message, and
 * more ranges than any cap. It is within MA_RESULTS_MAX_REPLY_SIZE, and
 * that with room for the message header is within the bus's limit. */
static void
test_results_largest_reply_fits_the_bus (void)
{
  g_autoptr (MaPlan) plan = plan_with_ranges (2 * MA_RESULTS_MAX_RANGES_PER_TARGET);
  MaJob *job = job_new (TRUE, request_new ("pageout", TRUE), MA_DBUS_MAX_PIDS, plan);
  g_autofree char *message = g_strnfill (4 * MA_RESULTS_MAX_MESSAGE, 'm');
  GVariant *results;
  g_autoptr (GVariant) reply = NULL;
  gsize size;

  plan->swap_configured = FALSE;
  plan->coldness_source = MA_COLDNESS_REFERENCED;
  for (guint i = 0; i < job->targets->len; i++)
    {
      MaJobTarget *t = &g_array_index (job->targets, MaJobTarget, i);

      g_free (t->comm);
      /* MaTarget keeps at most 63 bytes of /proc/PID/comm. */
      t->comm = g_strnfill (63, 'c');
      t->pid = G_MAXUINT32;
      fail (t, MA_ERROR_NO_SUCH_PROCESS, message);
    }
  results = ma_job_build_results (job);
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
  g_test_add_func ("/results/largest-reply-fits-the-bus", test_results_largest_reply_fits_the_bus);
  return g_test_run ();
}
