/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * memadvised's configuration (ma_settings_load): defaults, every key of
 * memadvised.conf(5), the shipped file, and the values it refuses.
 */
#include "config.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>

#include "settings.h"

static char *tmpdir;
static GString *messages; /* what the code under test logged */

static GLogWriterOutput
capture_log (GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer user_data)
{
  for (gsize i = 0; i < n_fields; i++)
    if (g_str_equal (fields[i].key, "MESSAGE"))
      g_string_append_printf (messages, "%s\n", (const char *) fields[i].value);
  if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING))
    return g_log_writer_default (level, fields, n_fields, user_data);
  return G_LOG_WRITER_HANDLED;
}

static char *
write_config (const char *text)
{
  g_autoptr (GError) error = NULL;
  char *path = g_build_filename (tmpdir, "memadvised.conf", NULL);

  g_assert_true (g_file_set_contents (path, text, -1, &error));
  g_assert_no_error (error);
  return path;
}

static MaSettings *
load_ok (const char *text)
{
  g_autofree char *path = write_config (text);
  g_autoptr (GError) error = NULL;
  MaSettings *settings;

  g_string_truncate (messages, 0);
  settings = ma_settings_load (path, TRUE, &error);
  g_assert_no_error (error);
  g_assert_nonnull (settings);
  return settings;
}

/* Refused, with the file and @key named. */
static void
assert_refused (const char *text, const char *key)
{
  g_autofree char *path = write_config (text);
  g_autoptr (GError) error = NULL;
  g_autoptr (MaSettings) settings = ma_settings_load (path, TRUE, &error);

  g_assert_null (settings);
  g_assert_nonnull (error);
  g_assert_nonnull (strstr (error->message, path));
  g_assert_nonnull (strstr (error->message, key));
}

static void
assert_defaults (const MaSettings *s)
{
  g_assert_cmpuint (s->max_jobs, ==, 4);
  g_assert_cmpuint (s->max_jobs_per_user, ==, 2);
  g_assert_cmpuint (s->max_queued_per_user, ==, 16);
  g_assert_cmpuint (s->max_queued, ==, 64);
  g_assert_cmpuint (s->job_timeout, ==, 120);
  g_assert_cmpuint (s->max_calls_per_minute, ==, 60);
  g_assert_cmpuint (s->auth_timeout, ==, 20);
  g_assert_cmpuint (s->interactive_auth_timeout, ==, 300);
  g_assert_cmpuint (s->max_min_idle, ==, 300);
  g_assert_cmpuint (s->max_threads, ==, 0);
  g_assert_true (s->track_access);
  g_assert_cmpstrv (s->protect_names, ((const char *const[]){ NULL }));
  g_assert_cmpstrv (s->protect_cgroups, ((const char *const[]){ NULL }));
}

static void
test_settings_defaults (void)
{
  g_autoptr (MaSettings) settings = ma_settings_new ();

  assert_defaults (settings);
}

static void
test_settings_missing_file_is_the_defaults_unless_required (void)
{
  g_autofree char *path = g_build_filename (tmpdir, "absent.conf", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (MaSettings) settings = ma_settings_load (path, FALSE, &error);

  g_assert_no_error (error);
  assert_defaults (settings);

  /* memadvised --config FILE: the file must be there. */
  g_clear_pointer (&settings, ma_settings_free);
  settings = ma_settings_load (path, TRUE, &error);
  g_assert_null (settings);
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
  g_assert_nonnull (strstr (error->message, path));
}

static void
test_settings_every_key (void)
{
  g_autoptr (MaSettings) s = load_ok ("[Daemon]\n"
                                      "MaxJobs=2\n"
                                      "MaxJobsPerUser=1\n"
                                      "MaxQueuedPerUser=0\n"
                                      "MaxQueued=1024\n"
                                      "JobTimeout=86400\n"
                                      "MaxCallsPerMinutePerUser=0\n"
                                      "AuthorizationTimeout=1\n"
                                      "InteractiveAuthorizationTimeout=3600\n"
                                      "MaxMinIdle=0\n"
                                      "MaxThreads=1024\n"
                                      "TrackAccess=false\n"
                                      "RefaultHoldSeconds=0\n"
                                      "[Protect]\n"
                                      "Names=sshd; ma-test-target ;;\n"
                                      "Cgroups=/system.slice;/user.slice/a.scope/\n");

  g_assert_cmpuint (s->max_jobs, ==, 2);
  g_assert_cmpuint (s->max_jobs_per_user, ==, 1);
  g_assert_cmpuint (s->max_queued_per_user, ==, 0);
  g_assert_cmpuint (s->max_queued, ==, 1024);
  g_assert_cmpuint (s->job_timeout, ==, 86400);
  g_assert_cmpuint (s->max_calls_per_minute, ==, 0);
  g_assert_cmpuint (s->auth_timeout, ==, 1);
  g_assert_cmpuint (s->interactive_auth_timeout, ==, 3600);
  g_assert_cmpuint (s->max_min_idle, ==, 0);
  g_assert_cmpuint (s->max_threads, ==, 1024);
  g_assert_false (s->track_access);
  g_assert_cmpuint (s->refault_hold, ==, 0);
  /* Blanks around items and empty items are dropped. */
  g_assert_cmpstrv (s->protect_names, ((const char *const[]){ "sshd", "ma-test-target", NULL }));
  g_assert_cmpstrv (s->protect_cgroups,
                    ((const char *const[]){ "/system.slice", "/user.slice/a.scope/", NULL }));
  g_assert_cmpstr (messages->str, ==, "");
}

/* The shipped file with every key uncommented: each is known and shows
 * its default. */
static void
test_settings_shipped_file_shows_the_defaults (void)
{
  g_autofree char *shipped
      = g_test_build_filename (G_TEST_DIST, "..", "data", "memadvised.conf", NULL);
  g_autofree char *text = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GString) uncommented = g_string_new (NULL);
  g_auto (GStrv) lines = NULL;
  g_autoptr (MaSettings) settings = NULL;
  guint keys = 0;

  g_assert_true (g_file_get_contents (shipped, &text, NULL, &error));
  g_assert_no_error (error);
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      const char *line = lines[i];

      /* "#Key=value", as opposed to prose ("# ..."). */
      if (line[0] == '#' && g_ascii_isupper (line[1]) && strchr (line, '=') != NULL)
        {
          line++;
          keys++;
        }
      g_string_append_printf (uncommented, "%s\n", line);
    }
  g_assert_cmpuint (keys, >=, 13);
  settings = load_ok (uncommented->str);
  assert_defaults (settings);
  g_assert_cmpstr (messages->str, ==, "");
}

static void
test_settings_unknown_groups_and_keys_are_reported_not_fatal (void)
{
  g_autoptr (MaSettings) s = load_ok ("[Daemon]\nMaxJobs=3\nFutureKey=1\n[Future]\nX=1\n"
                                      "[Protect]\nPids=1\n");

  g_assert_cmpuint (s->max_jobs, ==, 3);
  g_assert_nonnull (strstr (messages->str, "unknown key FutureKey in [Daemon]"));
  g_assert_nonnull (strstr (messages->str, "unknown group [Future]"));
  g_assert_nonnull (strstr (messages->str, "unknown key Pids in [Protect]"));
}

static void
test_settings_values_out_of_range_are_refused (void)
{
  assert_refused ("[Daemon]\nMaxJobs=0\n", "MaxJobs");
  assert_refused ("[Daemon]\nMaxJobs=1025\n", "MaxJobs");
  assert_refused ("[Daemon]\nMaxJobsPerUser=0\n", "MaxJobsPerUser");
  assert_refused ("[Daemon]\nMaxJobsPerUser=1025\n", "MaxJobsPerUser");
  assert_refused ("[Daemon]\nMaxQueuedPerUser=1025\n", "MaxQueuedPerUser");
  assert_refused ("[Daemon]\nMaxQueued=1025\n", "MaxQueued");
  assert_refused ("[Daemon]\nJobTimeout=0\n", "JobTimeout");
  assert_refused ("[Daemon]\nJobTimeout=86401\n", "JobTimeout");
  assert_refused ("[Daemon]\nMaxCallsPerMinutePerUser=100001\n", "MaxCallsPerMinutePerUser");
  assert_refused ("[Daemon]\nAuthorizationTimeout=0\n", "AuthorizationTimeout");
  assert_refused ("[Daemon]\nInteractiveAuthorizationTimeout=3601\n",
                  "InteractiveAuthorizationTimeout");
  /* Observations older than an hour are dropped: a longer wait could not
   * find its own. */
  assert_refused ("[Daemon]\nMaxMinIdle=3601\n", "MaxMinIdle");
  assert_refused ("[Daemon]\nMaxThreads=1025\n", "MaxThreads");
  assert_refused ("[Daemon]\nRefaultHoldSeconds=3601\n", "RefaultHoldSeconds");
}

static void
test_settings_values_of_the_wrong_kind_are_refused (void)
{
  assert_refused ("[Daemon]\nMaxThreads=many\n", "MaxThreads");
  assert_refused ("[Daemon]\nMaxJobs=-1\n", "MaxJobs");
  assert_refused ("[Daemon]\nMaxQueued=some\n", "MaxQueued");
  assert_refused ("[Daemon]\nJobTimeout=2m\n", "JobTimeout");
  assert_refused ("[Daemon]\nTrackAccess=maybe\n", "TrackAccess");
  assert_refused ("[Protect]\nCgroups=system.slice\n", "Cgroups");
  assert_refused ("[Daemon\nMaxJobs=1\n", "");
}

/* The shipped unit's LimitNOFILE= holds the default configuration's
 * budget, waiting pidfd calls included; a limit that cannot hold it
 * lowers MaxJobs to what fits, then MaxQueued. */
static void
test_settings_fd_budget_fits_the_unit_or_lowers_max_jobs (void)
{
  g_autoptr (MaSettings) s = ma_settings_new ();
  guint64 budget = ma_settings_fd_budget (s);

  /* Four calls of 1024 targets, 64 waiting calls of 16 pidfds each, the
   * kept pidfds and the daemon's own. */
  g_assert_cmpuint (budget, ==, 64 + 4096 + 4 * (2 * 1024 + 320) + 64 * 16);
  g_assert_cmpuint (budget, <=, 16384);
  g_assert_false (ma_settings_fit_fd_limit (s, 16384));
  g_assert_cmpuint (s->max_jobs, ==, 4);
  g_assert_cmpuint (s->max_queued, ==, 64);

  /* A soft limit of 8192: only one call of 1024 targets fits beside the
   * rest... and always one. */
  g_assert_true (ma_settings_fit_fd_limit (s, 8192));
  g_assert_cmpuint (s->max_jobs, ==, 1);
  g_assert_cmpuint (s->max_jobs_per_user, ==, 1);
  g_assert_cmpuint (s->max_queued, ==, 64);
  g_assert_cmpuint (ma_settings_fd_budget (s), <=, 8192);

  /* Room for one call and 10 waiting ones. */
  g_assert_true (ma_settings_fit_fd_limit (s, 64 + 4096 + 2 * 1024 + 320 + 10 * 16));
  g_assert_cmpuint (s->max_jobs, ==, 1);
  g_assert_cmpuint (s->max_queued, ==, 10);
  g_assert_cmpuint (s->max_queued_per_user, ==, 10);
  g_assert_true (ma_settings_fit_fd_limit (s, 1024));
  g_assert_cmpuint (s->max_jobs, ==, 1);
  g_assert_cmpuint (s->max_queued, ==, 0);

  s->max_jobs = 10;
  s->max_jobs_per_user = 10;
  s->max_queued = 8;
  g_assert_true (ma_settings_fit_fd_limit (s, 64 + 4096 + 3 * (2 * 1024 + 320) + 8 * 16));
  g_assert_cmpuint (s->max_jobs, ==, 3);
  g_assert_cmpuint (s->max_jobs_per_user, ==, 3);
  g_assert_cmpuint (s->max_queued, ==, 8);
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  int status;

  g_test_init (&argc, &argv, NULL);
  messages = g_string_new (NULL);
  g_log_set_writer_func (capture_log, NULL, NULL);
  tmpdir = g_dir_make_tmp ("ma-test-settings-XXXXXX", &error);
  g_assert_no_error (error);

  g_test_add_func ("/settings/defaults", test_settings_defaults);
  g_test_add_func ("/settings/missing-file-is-the-defaults-unless-required",
                   test_settings_missing_file_is_the_defaults_unless_required);
  g_test_add_func ("/settings/every-key", test_settings_every_key);
  g_test_add_func ("/settings/shipped-file-shows-the-defaults",
                   test_settings_shipped_file_shows_the_defaults);
  g_test_add_func ("/settings/unknown-groups-and-keys-are-reported-not-fatal",
                   test_settings_unknown_groups_and_keys_are_reported_not_fatal);
  g_test_add_func ("/settings/values-out-of-range-are-refused",
                   test_settings_values_out_of_range_are_refused);
  g_test_add_func ("/settings/values-of-the-wrong-kind-are-refused",
                   test_settings_values_of_the_wrong_kind_are_refused);
  g_test_add_func ("/settings/fd-budget-fits-the-unit-or-lowers-max-jobs",
                   test_settings_fd_budget_fits_the_unit_or_lowers_max_jobs);

  status = g_test_run ();
  {
    g_autofree char *path = g_build_filename (tmpdir, "memadvised.conf", NULL);

    g_unlink (path);
    g_rmdir (tmpdir);
  }
  g_free (tmpdir);
  g_string_free (messages, TRUE);
  return status;
}
