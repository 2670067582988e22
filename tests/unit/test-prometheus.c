/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * memadvisectl status --prometheus (client/output-prometheus.c): the exact
 * text for a fixed GetStatistics reply, what it leaves out and why, and
 * the atomic replacement of the textfile collector's file.
 */
#include "config.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>

#include "memadvisectl.h"
#include "stats.h"

#define FIXED_STATISTICS                                                                           \
  "'started-at': <uint64 1767225600>, 'calls-plan': <uint64 3>, 'calls-reclaim': <uint64 5>, "     \
  "'targets': <uint64 9>, 'targets-ok': <uint64 6>, 'targets-skipped': <uint64 1>, "               \
  "'targets-failed': <uint64 2>, 'advised-bytes-cold': <uint64 4096>, "                            \
  "'advised-bytes-pageout': <uint64 1073741824>, 'reclaimed-bytes': <uint64 1000000000>, "         \
  "'time-spent-usec': <uint64 1500042>, 'cancelled-calls': <uint64 1>, 'timed-out-calls': "        \
  "<uint64 0>, 'refaulted-bytes': <uint64 8192>, "                                                 \
  "'sampled-bytes': <uint64 65536>, 'tracked-processes': <uint64 2>, "                             \
  "'tracked-state-bytes': <uint64 3072>, "                                                         \
  "'failures': <{'no-such-process': uint64 1, 'not-authorized': uint64 1}>, "                      \
  "'refused-calls': <{'busy': uint64 4}>"

static const char up_0[] = "# HELP memadvise_up Whether memadvised answered (1) or could not be "
                           "reached (0).\n"
                           "# TYPE memadvise_up gauge\n"
                           "memadvise_up 0\n";

static const char fixed_text[]
    = "# HELP memadvise_up Whether memadvised answered (1) or could not be reached (0).\n"
      "# TYPE memadvise_up gauge\n"
      "memadvise_up 1\n"
      "# HELP memadvise_start_time_seconds When memadvised started, in seconds since the epoch.\n"
      "# TYPE memadvise_start_time_seconds gauge\n"
      "memadvise_start_time_seconds 1767225600\n"
      "# HELP memadvise_calls_total Plan and Reclaim calls memadvised took on (the cgroup ones "
      "too), by method.\n"
      "# TYPE memadvise_calls_total counter\n"
      "memadvise_calls_total{method=\"plan\"} 3\n"
      "memadvise_calls_total{method=\"reclaim\"} 5\n"
      "# HELP memadvise_refused_calls_total Calls refused as a whole, by reason.\n"
      "# TYPE memadvise_refused_calls_total counter\n"
      "memadvise_refused_calls_total{reason=\"access-denied\"} 0\n"
      "memadvise_refused_calls_total{reason=\"busy\"} 4\n"
      "memadvise_refused_calls_total{reason=\"invalid-args\"} 0\n"
      "memadvise_refused_calls_total{reason=\"not-supported\"} 0\n"
      "# HELP memadvise_dropped_calls_total Calls dropped because the caller left the bus while "
      "they waited their turn or for polkit.\n"
      "# TYPE memadvise_dropped_calls_total counter\n"
      "memadvise_dropped_calls_total 1\n"
      "# HELP memadvise_timed_out_calls_total Calls whose work ran out of time (JobTimeout).\n"
      "# TYPE memadvise_timed_out_calls_total counter\n"
      "memadvise_timed_out_calls_total 0\n"
      "# HELP memadvise_targets_total Target processes of Plan and Reclaim calls, by status "
      "(skipped: nothing eligible).\n"
      "# TYPE memadvise_targets_total counter\n"
      "memadvise_targets_total{status=\"ok\"} 6\n"
      "memadvise_targets_total{status=\"skipped\"} 1\n"
      "memadvise_targets_total{status=\"failed\"} 2\n"
      "# HELP memadvise_target_failures_total Failed target processes, by reason.\n"
      "# TYPE memadvise_target_failures_total counter\n"
      "memadvise_target_failures_total{reason=\"no-such-process\"} 1\n"
      "memadvise_target_failures_total{reason=\"exited\"} 0\n"
      "memadvise_target_failures_total{reason=\"not-authorized\"} 1\n"
      "memadvise_target_failures_total{reason=\"protected\"} 0\n"
      "memadvise_target_failures_total{reason=\"kernel-thread\"} 0\n"
      "memadvise_target_failures_total{reason=\"not-supported\"} 0\n"
      "memadvise_target_failures_total{reason=\"failed\"} 0\n"
      "# HELP memadvise_advised_bytes_total Bytes process_madvise(2) accepted, by mode.\n"
      "# TYPE memadvise_advised_bytes_total counter\n"
      "memadvise_advised_bytes_total{mode=\"cold\"} 4096\n"
      "memadvise_advised_bytes_total{mode=\"pageout\"} 1073741824\n"
      "# HELP memadvise_reclaimed_bytes_total Drop of the resident memory (RSS) of Reclaim "
      "targets, before minus after.\n"
      "# TYPE memadvise_reclaimed_bytes_total counter\n"
      "memadvise_reclaimed_bytes_total 1000000000\n"
      "# HELP memadvise_refaulted_bytes_total Bytes of Reclaim targets that came back into memory "
      "after earlier pageouts.\n"
      "# TYPE memadvise_refaulted_bytes_total counter\n"
      "memadvise_refaulted_bytes_total 8192\n"
      "# HELP memadvise_sampled_bytes_total Bytes paged out as samples to find idle memory "
      "(Reclaim with min-idle).\n"
      "# TYPE memadvise_sampled_bytes_total counter\n"
      "memadvise_sampled_bytes_total 65536\n"
      "# HELP memadvise_work_seconds_total Time memadvised spent planning and advising, in "
      "seconds.\n"
      "# TYPE memadvise_work_seconds_total counter\n"
      "memadvise_work_seconds_total 1.500042\n"
      "# HELP memadvise_tracked_processes Processes whose pageouts memadvised remembers now.\n"
      "# TYPE memadvise_tracked_processes gauge\n"
      "memadvise_tracked_processes 2\n"
      "# HELP memadvise_tracked_state_bytes Memory memadvised holds now to remember those "
      "pageouts.\n"
      "# TYPE memadvise_tracked_state_bytes gauge\n"
      "memadvise_tracked_state_bytes 3072\n";

static GVariant *
parse_statistics (const char *entries)
{
  g_autofree char *text = g_strdup_printf ("{%s}", entries);
  g_autoptr (GError) error = NULL;
  GVariant *value = g_variant_parse (G_VARIANT_TYPE_VARDICT, text, NULL, NULL, &error);

  g_assert_no_error (error);
  return value; /* not floating */
}

static char *
format_entries (const char *entries)
{
  g_autoptr (GVariant) statistics = parse_statistics (entries);

  return ctl_prometheus_format (statistics);
}

/* The lines of @text that start with @prefix, joined. */
static char *
lines_of (const char *text, const char *prefix)
{
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  GString *out = g_string_new (NULL);

  for (guint i = 0; lines[i] != NULL; i++)
    if (g_str_has_prefix (lines[i], prefix))
      g_string_append_printf (out, "%s\n", lines[i]);
  return g_string_free (out, FALSE);
}

static guint
count_lines (const char *text)
{
  guint n = 0;

  for (const char *c = text; *c != '\0'; c++)
    n += *c == '\n';
  return n;
}

static void
test_prometheus_text_of_fixed_statistics (void)
{
  g_autofree char *text = format_entries (FIXED_STATISTICS);

  g_assert_cmpstr (text, ==, fixed_text);
}

static void
test_prometheus_up_0_alone_without_statistics (void)
{
  g_autofree char *text = ctl_prometheus_format (NULL);

  g_assert_cmpstr (text, ==, up_0);
}

static void
test_prometheus_leaves_out_keys_it_does_not_know (void)
{
  g_autofree char *text = format_entries (
      FIXED_STATISTICS ", 'evicted-calls': <uint64 7>, 'frobnicated-bytes': <uint64 9>, "
                       "'mood': <'fine'>, 'by-user': <{'alice': uint64 1}>");

  g_assert_false (ctl_prometheus_knows_key ("evicted-calls"));
  g_assert_true (ctl_prometheus_knows_key ("cancelled-calls"));
  g_assert_false (ctl_prometheus_knows_key ("frobnicated-bytes"));
  g_assert_cmpstr (text, ==, fixed_text);
}

static void
test_prometheus_family_without_its_keys_is_left_out (void)
{
  /* An older daemon: no coldness figures, no refusals. */
  g_autofree char *text
      = format_entries ("'started-at': <uint64 10>, 'calls-plan': <uint64 1>, "
                        "'advised-bytes-cold': <uint64 4096>, 'failures': <@a{st} {}>");
  g_autofree char *types = lines_of (text, "# TYPE");

  g_assert_cmpstr (types, ==,
                   "# TYPE memadvise_up gauge\n"
                   "# TYPE memadvise_start_time_seconds gauge\n"
                   "# TYPE memadvise_calls_total counter\n"
                   "# TYPE memadvise_target_failures_total counter\n"
                   "# TYPE memadvise_advised_bytes_total counter\n");
  g_assert_nonnull (strstr (text, "\nmemadvise_calls_total{method=\"plan\"} 1\n"));
  g_assert_null (strstr (text, "method=\"reclaim\""));
  g_assert_null (strstr (text, "mode=\"pageout\""));
  g_assert_nonnull (strstr (text, "\nmemadvise_target_failures_total{reason=\"failed\"} 0\n"));
}

static void
test_prometheus_reasons_beyond_the_known_ones (void)
{
  g_autoptr (GString) entries = g_string_new ("'refused-calls': <{'busy': uint64 1, "
                                              "'queue-full': uint64 2, 'Bad': uint64 3, "
                                              "'a\"b': uint64 4, 'x y': uint64 5, '': uint64 6, "
                                              "'-dash': uint64 7");
  g_autofree char *long_reason = g_strnfill (65, 'a');
  g_autofree char *text = NULL;
  g_autofree char *failures = NULL;
  g_autofree char *refusals = NULL;

  g_string_append_printf (entries, ", '%s': uint64 8}>, 'failures': <{", long_reason);
  /* 20 reasons the formatter does not know: the first 16, sorted, are shown. */
  for (int i = 0; i < 20; i++)
    g_string_append_printf (entries, "%s'new-%02d': uint64 %d", i > 0 ? ", " : "", 19 - i, i);
  g_string_append (entries, "}>");
  text = format_entries (entries->str);

  refusals = lines_of (text, "memadvise_refused_calls_total{");
  g_assert_cmpstr (refusals, ==,
                   "memadvise_refused_calls_total{reason=\"access-denied\"} 0\n"
                   "memadvise_refused_calls_total{reason=\"busy\"} 1\n"
                   "memadvise_refused_calls_total{reason=\"invalid-args\"} 0\n"
                   "memadvise_refused_calls_total{reason=\"not-supported\"} 0\n"
                   "memadvise_refused_calls_total{reason=\"queue-full\"} 2\n");

  failures = lines_of (text, "memadvise_target_failures_total{reason=\"new-");
  g_assert_cmpuint (count_lines (failures), ==, 16);
  g_assert_true (
      g_str_has_prefix (failures, "memadvise_target_failures_total{reason=\"new-00\"} 19\n"));
  g_assert_nonnull (strstr (failures, "{reason=\"new-15\"} 4\n"));
  g_assert_null (strstr (failures, "new-16"));
}

/* Every statistic memadvised reports has its metric, or is left out on
 * purpose: a key added to stats.c fails here until it is named. */
static void
test_prometheus_knows_every_daemon_statistic (void)
{
  g_autoptr (MaStats) stats = ma_stats_new ();
  g_autoptr (GVariant) dict = NULL;
  g_autofree char *text = NULL;
  g_autofree char *types = NULL;
  GVariantIter iter;
  const char *key;

  ma_stats_add_call (stats, TRUE);
  ma_stats_add_target (stats, "failed", "exited");
  ma_stats_add_refused_call (stats, "busy");
  dict = g_variant_ref_sink (ma_stats_to_variant (stats, 1, 4096));

  g_variant_iter_init (&iter, dict);
  while (g_variant_iter_next (&iter, "{&s*}", &key, NULL))
    if (!ctl_prometheus_knows_key (key))
      g_error ("GetStatistics key “%s” has no metric in client/output-prometheus.c", key);

  text = ctl_prometheus_format (dict);
  types = lines_of (text, "# TYPE");
  g_assert_cmpuint (count_lines (types), ==, 15);
  g_assert_nonnull (strstr (text, "\nmemadvise_calls_total{method=\"reclaim\"} 1\n"));
  g_assert_nonnull (strstr (text, "\nmemadvise_target_failures_total{reason=\"exited\"} 1\n"));
  g_assert_nonnull (strstr (text, "\nmemadvise_refused_calls_total{reason=\"busy\"} 1\n"));
  g_assert_nonnull (strstr (text, "\nmemadvise_tracked_state_bytes 4096\n"));
}

static void
test_prometheus_seconds_are_exact (void)
{
  static const struct
  {
    guint64 usec;
    const char *line;
  } cases[] = {
    { 0, "memadvise_work_seconds_total 0.000000\n" },
    { 1, "memadvise_work_seconds_total 0.000001\n" },
    { 1000000, "memadvise_work_seconds_total 1.000000\n" },
    { G_MAXUINT64, "memadvise_work_seconds_total 18446744073709.551615\n" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *entries
          = g_strdup_printf ("'time-spent-usec': <uint64 %" G_GUINT64_FORMAT ">", cases[i].usec);
      g_autofree char *text = format_entries (entries);
      g_autofree char *line = lines_of (text, "memadvise_work_seconds_total ");

      g_assert_cmpstr (line, ==, cases[i].line);
    }
}

static char *
dir_listing (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  g_autoptr (GPtrArray) names = g_ptr_array_new ();
  const char *name;

  g_assert_nonnull (d);
  while ((name = g_dir_read_name (d)) != NULL)
    g_ptr_array_add (names, (gpointer) name);
  g_ptr_array_add (names, NULL);
  return g_strjoinv (" ", (char **) names->pdata);
}

static void
test_prometheus_file_is_replaced_atomically (void)
{
  g_autofree char *dir = g_dir_make_tmp ("ma-prom-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "memadvise.prom", NULL);
  g_autofree char *contents = NULL;
  g_autofree char *listing = NULL;
  g_autoptr (GError) error = NULL;
  GStatBuf before, after;
  mode_t umask_was;

  g_assert_nonnull (dir);
  /* node-exporter reads it as another user, whatever our umask. */
  umask_was = umask (077);
  g_assert_true (ctl_prometheus_write_file (path, up_0, &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_stat (path, &before), ==, 0);
  g_assert_cmpint (before.st_mode & 07777, ==, 0644);

  g_assert_true (ctl_prometheus_write_file (path, fixed_text, &error));
  umask (umask_was);
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (path, &contents, NULL, NULL));
  g_assert_cmpstr (contents, ==, fixed_text);
  /* A new file renamed over the old one, never the old one rewritten. */
  g_assert_cmpint (g_stat (path, &after), ==, 0);
  g_assert_cmpuint (after.st_ino, !=, before.st_ino);
  g_assert_cmpint (after.st_mode & 07777, ==, 0644);
  listing = dir_listing (dir);
  g_assert_cmpstr (listing, ==, "memadvise.prom");

  g_assert_cmpint (g_unlink (path), ==, 0);
  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

static void
test_prometheus_file_in_a_missing_directory_fails (void)
{
  g_autofree char *dir = g_dir_make_tmp ("ma-prom-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "gone", "memadvise.prom", NULL);
  g_autofree char *listing = NULL;
  g_autoptr (GError) error = NULL;

  g_assert_false (ctl_prometheus_write_file (path, up_0, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_assert_true (g_str_has_prefix (error->message, "Cannot write the metrics in "));
  g_assert_true (g_str_has_suffix (error->message, "."));
  listing = dir_listing (dir);
  g_assert_cmpstr (listing, ==, "");
  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/prometheus/text-of-fixed-statistics",
                   test_prometheus_text_of_fixed_statistics);
  g_test_add_func ("/prometheus/up-0-alone-without-statistics",
                   test_prometheus_up_0_alone_without_statistics);
  g_test_add_func ("/prometheus/leaves-out-keys-it-does-not-know",
                   test_prometheus_leaves_out_keys_it_does_not_know);
  g_test_add_func ("/prometheus/family-without-its-keys-is-left-out",
                   test_prometheus_family_without_its_keys_is_left_out);
  g_test_add_func ("/prometheus/reasons-beyond-the-known-ones",
                   test_prometheus_reasons_beyond_the_known_ones);
  g_test_add_func ("/prometheus/knows-every-daemon-statistic",
                   test_prometheus_knows_every_daemon_statistic);
  g_test_add_func ("/prometheus/seconds-are-exact", test_prometheus_seconds_are_exact);
  g_test_add_func ("/prometheus/file-is-replaced-atomically",
                   test_prometheus_file_is_replaced_atomically);
  g_test_add_func ("/prometheus/file-in-a-missing-directory-fails",
                   test_prometheus_file_in_a_missing_directory_fails);

  return g_test_run ();
}
