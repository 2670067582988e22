/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * bench-plan: ma_target_open + ma_target_plan on targets of 100, 10,000
 * and 40,000 VMAs, against the physical limit of reading the same
 * process's smaps once (`cat /proc/PID/smaps > /dev/null`).
 */

#include "bench-common.h"
#include "ma-engine.h"
#include "ma-target-client.h"

#define RUNS 9

static double
time_plan_ms (pid_t pid, guint64 *out_eligible)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MaTarget) target = NULL;
  g_autoptr (MaPlan) plan = NULL;
  MaPlanRequest request = { .mode = MA_MODE_PAGEOUT, .percent = 100, .order = MA_ORDER_COLDEST };
  gint64 start = bench_now_ns ();

  target = ma_target_open (pid, &error);
  g_assert_no_error (error);
  plan = ma_target_plan (target, &request, &error);
  g_assert_no_error (error);
  *out_eligible = plan->n_eligible_vmas;
  return (bench_now_ns () - start) / 1e6;
}

static double
time_cat_ms (pid_t pid)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = g_strdup_printf ("/proc/%d/smaps", (int) pid);
  const char *argv[] = { "cat", path, NULL };
  int status;
  gint64 start = bench_now_ns ();

  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL, NULL,
                NULL, NULL, NULL, &status, &error);
  g_assert_no_error (error);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  return (bench_now_ns () - start) / 1e6;
}

int
main (int argc, char **argv)
{
  const guint counts[] = { 100, 10000, 40000 };

  for (guint c = 0; c < G_N_ELEMENTS (counts); c++)
    {
      g_autoptr (TestTarget) t = test_target_spawn ();
      g_autofree char *figure = g_strdup_printf ("plan, %u VMAs", counts[c]);
      double plan_ms[RUNS], cat_ms[RUNS];
      guint64 eligible_vmas = 0;

      g_free (test_target_command (t, "many v %u 4096", counts[c]));
      /* Interleaved, so both see the same state of the machine. */
      for (guint r = 0; r < RUNS; r++)
        {
          plan_ms[r] = time_plan_ms (test_target_get_pid (t), &eligible_vmas);
          cat_ms[r] = time_cat_ms (test_target_get_pid (t));
        }
      g_printerr ("%s: %" G_GUINT64_FORMAT " eligible VMAs\n", figure, eligible_vmas);
      bench_report (figure, bench_median (plan_ms, RUNS), "cat /proc/PID/smaps",
                    bench_median (cat_ms, RUNS));
    }
  return 0;
}
