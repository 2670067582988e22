/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The session agent's decisions (client/session/policy.c), its
 * configuration (config.c) and GNOME's focus attribute (gnome.c), without
 * a session, a bus or a daemon. memadvise-session(1) states the rules.
 */
#include "config.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "session.h"

#define S G_GINT64_CONSTANT (1000000)
#define MINUTE (60 * S)
#define MiB (G_GUINT64_CONSTANT (1024) * 1024)

static SessApp
background_app (gint64 since)
{
  SessApp app = { .unit = (char *) "app-gnome-org.example.App-1.scope",
                  .app_id = (char *) "org.example.App",
                  .background_since = since };

  return app;
}

static void
test_session_front_app_is_never_eligible (void)
{
  g_autoptr (SessConfig) config = sess_config_new_default ();
  SessApp app = background_app (0);

  g_assert_true (sess_policy_eligible (config, &app, 0));
  g_assert_true (sess_policy_to_front (&app));
  g_assert_false (sess_policy_to_front (&app)); /* no change */
  g_assert_false (sess_policy_eligible (config, &app, 100 * MINUTE));
  g_assert_cmpint (sess_policy_due (config, &app), ==, -1);

  /* An app whose state is unknown is left alone too. */
  app = background_app (-1);
  g_assert_false (sess_policy_eligible (config, &app, 100 * MINUTE));
  g_assert_cmpint (sess_policy_due (config, &app), ==, -1);
}

static void
test_session_background_delay_then_once (void)
{
  g_autoptr (SessConfig) config = sess_config_new_default ();
  SessApp app = background_app (-1);

  app.focused = TRUE;
  g_assert_true (sess_policy_to_background (&app, 5 * S));
  g_assert_false (sess_policy_to_background (&app, 5 * S)); /* told twice */
  g_assert_cmpint (sess_policy_due (config, &app), ==, 5 * S + 10 * MINUTE);

  /* The delay fired: not again in this background period. */
  app.due_done = TRUE;
  g_assert_cmpint (sess_policy_due (config, &app), ==, -1);
}

static void
test_session_back_off_after_a_reclaim (void)
{
  g_autoptr (SessConfig) config = sess_config_new_default ();
  SessApp app = background_app (0);
  gint64 reclaimed_at = 20 * MINUTE;

  sess_policy_reclaimed (&app, app.front_count, reclaimed_at);
  g_assert_cmpint (app.last_reclaim, ==, reclaimed_at);
  g_assert_false (sess_policy_eligible (config, &app, reclaimed_at + 29 * MINUTE));
  g_assert_true (sess_policy_eligible (config, &app, reclaimed_at + 30 * MINUTE));
  g_assert_cmpint (sess_policy_due (config, &app), ==, reclaimed_at + 30 * MINUTE);

  /* Coming to the front ends the back-off. */
  g_assert_true (sess_policy_to_front (&app));
  g_assert_true (sess_policy_to_background (&app, reclaimed_at + S));
  g_assert_cmpint (app.last_reclaim, ==, 0);
  g_assert_true (sess_policy_eligible (config, &app, reclaimed_at + S));
}

static void
test_session_a_new_moment_in_the_background_ends_the_back_off (void)
{
  g_autoptr (SessConfig) config = sess_config_new_default ();
  SessApp app = background_app (MINUTE);
  guint front_count;

  sess_policy_reclaimed (&app, app.front_count, 20 * MINUTE);
  front_count = app.front_count;
  /* Focus moved away again without this agent seeing the front (GNOME
   * only tells the latest moment): it was in front in between. */
  g_assert_true (sess_policy_to_background (&app, 21 * MINUTE));
  g_assert_cmpint (app.last_reclaim, ==, 0);
  g_assert_cmpuint (app.front_count, ==, front_count + 1);
}

static void
test_session_reply_after_coming_to_the_front_starts_no_back_off (void)
{
  SessApp app = background_app (0);
  guint at_call = app.front_count;

  g_assert_true (sess_policy_to_front (&app));
  g_assert_true (sess_policy_to_background (&app, 5 * S));
  sess_policy_reclaimed (&app, at_call, 6 * S);
  g_assert_cmpint (app.last_reclaim, ==, 0);
}

static void
test_session_longest_idle_first (void)
{
  SessApp a = background_app (30 * S), b = background_app (10 * S), c = background_app (20 * S);
  SessApp *apps[] = { &a, &b, &c };
  g_autoptr (GPtrArray) sorted = g_ptr_array_new ();

  for (gsize i = 0; i < G_N_ELEMENTS (apps); i++)
    g_ptr_array_add (sorted, apps[i]);
  g_ptr_array_sort (sorted, sess_policy_compare_idle);
  g_assert_true (sorted->pdata[0] == &b);
  g_assert_true (sorted->pdata[1] == &c);
  g_assert_true (sorted->pdata[2] == &a);
}

static void
test_session_pageout_falls_back_to_cold_when_swap_is_short (void)
{
  g_autoptr (SessConfig) config = sess_config_new_default ();

  g_assert_cmpstr (sess_policy_choose_mode (config, 0, 0), ==, "cold");
  g_free (config->mode);
  config->mode = g_strdup ("pageout");
  config->min_free_swap_percent = 20;
  g_assert_cmpstr (sess_policy_choose_mode (config, 0, 0), ==, "cold");
  g_assert_cmpstr (sess_policy_choose_mode (config, 100 * MiB, 19 * MiB), ==, "cold");
  g_assert_cmpstr (sess_policy_choose_mode (config, 100 * MiB, 20 * MiB), ==, "pageout");
  config->min_free_swap_percent = 0;
  g_assert_cmpstr (sess_policy_choose_mode (config, 100 * MiB, 0), ==, "pageout");
}

static void
test_session_rate_cap_over_a_sliding_minute (void)
{
  g_autoptr (SessConfig) config = sess_config_new_default ();
  g_autoptr (GArray) spent = g_array_new (FALSE, FALSE, sizeof (SessSpent));
  gint64 refill_at = 0;

  config->max_bytes_per_minute = 100 * MiB;
  g_assert_cmpuint (sess_policy_allowance (config, spent, 0, &refill_at), ==, 100 * MiB);
  g_assert_cmpint (refill_at, ==, 0);

  g_array_append_val (spent, ((SessSpent){ 10 * S, 60 * MiB }));
  g_array_append_val (spent, ((SessSpent){ 40 * S, 60 * MiB }));
  g_assert_cmpuint (sess_policy_allowance (config, spent, 50 * S, &refill_at), ==, 0);
  g_assert_cmpint (refill_at, ==, 70 * S);
  /* The first spending leaves the window. */
  g_assert_cmpuint (sess_policy_allowance (config, spent, 70 * S, &refill_at), ==, 40 * MiB);
  g_assert_cmpuint (spent->len, ==, 1);
  g_assert_cmpint (refill_at, ==, 100 * S);

  config->max_bytes_per_minute = 0;
  g_assert_cmpuint (sess_policy_allowance (config, spent, 70 * S, &refill_at), ==, G_MAXUINT64);
}

static void
test_session_gnome_inactive_since (void)
{
  gboolean focused = FALSE;
  gint64 since = 0;

  g_assert_true (sess_gnome_parse ("-1", &focused, &since));
  g_assert_true (focused);
  g_assert_true (sess_gnome_parse ("123456789", &focused, &since));
  g_assert_false (focused);
  g_assert_cmpint (since, ==, 123456789);
  g_assert_false (sess_gnome_parse ("", &focused, &since));
  g_assert_false (sess_gnome_parse ("-2", &focused, &since));
  g_assert_false (sess_gnome_parse ("12x", &focused, &since));
}

static char *
write_config (const char *text)
{
  g_autoptr (GError) error = NULL;
  char *path = NULL;
  int fd = g_file_open_tmp ("ma-test-session-XXXXXX.conf", &path, &error);

  g_assert_no_error (error);
  close (fd);
  g_assert_true (g_file_set_contents (path, text, -1, &error));
  return path;
}

/* @app was paged out at @at, then came to the front and went back to the
 * background at @since: its back-off is over, what came back not known. */
static void
paged_out_then_background (SessApp *app, gint64 at, gint64 since)
{
  sess_policy_reclaimed (app, app->front_count, at);
  sess_policy_paged_out (app);
  g_assert_true (sess_policy_to_front (app));
  g_assert_true (sess_policy_to_background (app, since));
}

static void
test_session_much_came_back_doubles_the_delay (void)
{
  g_autoptr (SessConfig) config = sess_config_new_default ();
  SessApp app = background_app (0);

  /* Nothing paged out yet: nothing to ask. */
  g_assert_false (sess_policy_wants_refaults (&app));
  paged_out_then_background (&app, 11 * MINUTE, 40 * MINUTE);
  g_assert_true (sess_policy_wants_refaults (&app));
  /* While memadvised is asked, the delay fires nothing. */
  app.asking = TRUE;
  g_assert_false (sess_policy_wants_refaults (&app));
  g_assert_cmpint (sess_policy_due (config, &app), ==, -1);

  /* 21 % of it came back (the default is 20 %): twice the delay. */
  g_assert_true (sess_policy_refaults (config, &app, 21 * MiB, 100 * MiB));
  g_assert_false (app.asking);
  g_assert_false (sess_policy_wants_refaults (&app));
  g_assert_cmpint (sess_policy_due (config, &app), ==, 40 * MINUTE + 20 * MINUTE);
  /* Until the next reclaim, in every background period. */
  g_assert_true (sess_policy_to_front (&app));
  g_assert_true (sess_policy_to_background (&app, 70 * MINUTE));
  g_assert_cmpint (sess_policy_due (config, &app), ==, 70 * MINUTE + 20 * MINUTE);
  paged_out_then_background (&app, 90 * MINUTE, 100 * MINUTE);
  g_assert_cmpint (sess_policy_due (config, &app), ==, 100 * MINUTE + 10 * MINUTE);
}

static void
test_session_little_came_back_keeps_the_delay (void)
{
  g_autoptr (SessConfig) config = sess_config_new_default ();
  SessApp app = background_app (0);

  paged_out_then_background (&app, MINUTE, 40 * MINUTE);
  /* Exactly the share is not more than it. */
  g_assert_false (sess_policy_refaults (config, &app, 20 * MiB, 100 * MiB));
  g_assert_false (sess_policy_wants_refaults (&app));
  g_assert_cmpint (sess_policy_due (config, &app), ==, 40 * MINUTE + 10 * MINUTE);
  /* Nothing known left out (memadvised forgot it, or the call failed). */
  paged_out_then_background (&app, 41 * MINUTE, 80 * MINUTE);
  g_assert_false (sess_policy_refaults (config, &app, 0, 0));
  g_assert_cmpint (sess_policy_due (config, &app), ==, 80 * MINUTE + 10 * MINUTE);

  /* 0 %: anything back doubles the delay; 100 %: nothing does. */
  config->refault_backoff_percent = 0;
  paged_out_then_background (&app, 81 * MINUTE, 120 * MINUTE);
  g_assert_true (sess_policy_refaults (config, &app, 4096, 100 * MiB));
  config->refault_backoff_percent = 100;
  paged_out_then_background (&app, 121 * MINUTE, 160 * MINUTE);
  g_assert_false (sess_policy_refaults (config, &app, 100 * MiB, 100 * MiB));
}

static void
test_session_config_every_key (void)
{
  g_autofree char *path = write_config ("[Session]\n"
                                        "BackgroundMinutes=2\n"
                                        "BackoffSeconds=7\n"
                                        "Mode=pageout\n"
                                        "Percent=100\n"
                                        "MinFreeSwapPercent=0\n"
                                        "RefaultBackoffPercent=50\n"
                                        "MaxBytesPerMinute=2GiB\n"
                                        "ScreenLock=false\n"
                                        "Pressure=false\n"
                                        "PressureRecoveredAvg10=2.5\n"
                                        "PsiStallMs=100\n"
                                        "PsiWindowMs=4000\n");
  g_autoptr (SessConfig) config = sess_config_new_default ();
  g_autoptr (GError) error = NULL;

  g_assert_true (sess_config_load (config, path, &error));
  g_assert_no_error (error);
  g_assert_cmpint (config->background_us, ==, 2 * MINUTE);
  g_assert_cmpint (config->backoff_us, ==, 7 * S);
  g_assert_cmpstr (config->mode, ==, "pageout");
  g_assert_cmpuint (config->percent, ==, 100);
  g_assert_cmpuint (config->min_free_swap_percent, ==, 0);
  g_assert_cmpuint (config->refault_backoff_percent, ==, 50);
  /* The size rule of memadvisectl --max-bytes. */
  g_assert_cmpuint (config->max_bytes_per_minute, ==, 2048 * MiB);
  g_assert_false (config->screen_lock);
  g_assert_false (config->pressure);
  g_assert_cmpfloat (config->pressure_recovered_avg10, ==, 2.5);
  g_assert_cmpuint (config->psi_stall_ms, ==, 100);
  g_assert_cmpuint (config->psi_window_ms, ==, 4000);
  g_unlink (path);
}

static void
test_session_config_missing_file_is_the_defaults (void)
{
  g_autoptr (SessConfig) config = sess_config_new_default ();
  g_autoptr (GError) error = NULL;

  g_assert_true (sess_config_load (config, "/nonexistent/session.conf", &error));
  g_assert_no_error (error);
  g_assert_cmpint (config->background_us, ==, 10 * MINUTE);
  g_assert_cmpint (config->backoff_us, ==, 30 * MINUTE);
  g_assert_cmpstr (config->mode, ==, "cold");
  g_assert_cmpuint (config->refault_backoff_percent, ==, 20);
  g_assert_cmpuint (config->max_bytes_per_minute, ==, 1024 * MiB);
}

static void
test_session_config_bad_values_name_the_key (void)
{
  static const char *const bad[][2] = {
    { "Mode=dontneed\n", "Mode" },
    { "Percent=0\n", "Percent" },
    { "RefaultBackoffPercent=101\n", "RefaultBackoffPercent" },
    { "MaxBytesPerMinute=1X\n", "MaxBytesPerMinute" },
    { "PressureRecoveredAvg10=101\n", "PressureRecoveredAvg10" },
    { "PsiWindowMs=100\n", "PsiWindowMs" },
    { "ScreenLock=maybe\n", "ScreenLock" },
    { "Frobnicate=1\n", "Frobnicate" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autofree char *text = g_strconcat ("[Session]\n", bad[i][0], NULL);
      g_autofree char *path = write_config (text);
      g_autoptr (SessConfig) config = sess_config_new_default ();
      g_autoptr (GError) error = NULL;

      g_assert_false (sess_config_load (config, path, &error));
      g_assert_nonnull (error);
      g_assert_nonnull (strstr (error->message, bad[i][1]));
      g_assert_nonnull (strstr (error->message, path));
      g_unlink (path);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/session/front-app-is-never-eligible",
                   test_session_front_app_is_never_eligible);
  g_test_add_func ("/session/background-delay-then-once", test_session_background_delay_then_once);
  g_test_add_func ("/session/back-off-after-a-reclaim", test_session_back_off_after_a_reclaim);
  g_test_add_func ("/session/a-new-moment-in-the-background-ends-the-back-off",
                   test_session_a_new_moment_in_the_background_ends_the_back_off);
  g_test_add_func ("/session/reply-after-coming-to-the-front-starts-no-back-off",
                   test_session_reply_after_coming_to_the_front_starts_no_back_off);
  g_test_add_func ("/session/longest-idle-first", test_session_longest_idle_first);
  g_test_add_func ("/session/pageout-falls-back-to-cold-when-swap-is-short",
                   test_session_pageout_falls_back_to_cold_when_swap_is_short);
  g_test_add_func ("/session/rate-cap-over-a-sliding-minute",
                   test_session_rate_cap_over_a_sliding_minute);
  g_test_add_func ("/session/gnome-inactive-since", test_session_gnome_inactive_since);
  g_test_add_func ("/session/much-came-back-doubles-the-delay",
                   test_session_much_came_back_doubles_the_delay);
  g_test_add_func ("/session/little-came-back-keeps-the-delay",
                   test_session_little_came_back_keeps_the_delay);
  g_test_add_func ("/session/config-every-key", test_session_config_every_key);
  g_test_add_func ("/session/config-missing-file-is-the-defaults",
                   test_session_config_missing_file_is_the_defaults);
  g_test_add_func ("/session/config-bad-values-name-the-key",
                   test_session_config_bad_values_name_the_key);

  return g_test_run ();
}
