/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * bench-pageout: the engine paging out 512 MiB of a target (open + plan +
 * apply, percent 100) against the physical limit, one bare
 * process_madvise(MADV_PAGEOUT) with one iovec over the same 512 MiB of an
 * identical target. Needs swap: run under tests/with-swap --size 2G.
 */

#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "bench-common.h"
#include "ma-engine.h"
#include "ma-target-client.h"

#define RUNS 3
#define REGION_SIZE (G_GUINT64_CONSTANT (512) * 1024 * 1024)

static double
time_engine_ms (TestTarget *t, guint64 *out_advised)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MaTarget) target = NULL;
  g_autoptr (MaPlan) plan = NULL;
  MaPlanRequest request = { .mode = MA_MODE_PAGEOUT, .percent = 100, .order = MA_ORDER_COLDEST };
  MaApplyResult result = { 0 };
  gint64 start = bench_now_ns ();

  target = ma_target_open (test_target_get_pid (t), &error);
  g_assert_no_error (error);
  plan = ma_target_plan (target, &request, &error);
  g_assert_no_error (error);
  ma_target_apply (target, plan, NULL, NULL, NULL, &result, &error);
  g_assert_no_error (error);
  *out_advised = result.advised_bytes;
  return (bench_now_ns () - start) / 1e6;
}

static double
time_bare_ms (TestTarget *t, guint64 start_addr, guint64 length)
{
  struct iovec iov = { (void *) (guintptr) start_addr, length };
  int pidfd = syscall (SYS_pidfd_open, test_target_get_pid (t), 0);
  gint64 start;
  ssize_t done;

  g_assert_cmpint (pidfd, >=, 0);
  start = bench_now_ns ();
  done = syscall (SYS_process_madvise, pidfd, &iov, 1, MADV_PAGEOUT, 0);
  start = bench_now_ns () - start;
  close (pidfd);
  g_assert_cmpint (done, ==, (ssize_t) length);
  return start / 1e6;
}

static void
report_swapped (const char *what, TestTarget *t)
{
  guint64 pages, present, swapped;

  test_target_residency (t, "region", &pages, &present, &swapped);
  g_printerr ("%s: %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT " pages swapped\n", what, swapped,
              pages);
}

int
main (int argc, char **argv)
{
  double engine_ms[RUNS], bare_ms[RUNS];
  guint64 total = 0, used = 0;

  g_assert_true (ma_probe_swap (&total, &used, NULL));
  g_assert_cmpuint (total, >=, 2 * REGION_SIZE);

  for (guint r = 0; r < RUNS; r++)
    {
      /* Fresh identical targets every run: nothing is left in swap or on
       * the LRU from the run before. */
      g_autoptr (TestTarget) a = test_target_spawn ();
      g_autoptr (TestTarget) b = test_target_spawn ();
      guint64 advised = 0, length, start_b;

      test_target_map (a, "region", "anon", REGION_SIZE, FALSE, NULL);
      start_b = test_target_map (b, "region", "anon", REGION_SIZE, FALSE, &length);
      g_assert_cmpuint (test_target_checksum (a, "region"), ==, test_target_checksum (b, "region"));

      /* Alternate which goes first, so neither always meets a fuller swap. */
      if (r % 2 == 0)
        {
          engine_ms[r] = time_engine_ms (a, &advised);
          bare_ms[r] = time_bare_ms (b, start_b, length);
        }
      else
        {
          bare_ms[r] = time_bare_ms (b, start_b, length);
          engine_ms[r] = time_engine_ms (a, &advised);
        }
      g_printerr ("run %u: engine %.1f ms (%" G_GUINT64_FORMAT " bytes advised), bare %.1f ms\n", r,
                  engine_ms[r], advised, bare_ms[r]);
      report_swapped ("engine target", a);
      report_swapped ("bare target", b);
    }
  bench_report ("pageout 512 MiB anon (open+plan+apply)", bench_median (engine_ms, RUNS),
                "one process_madvise(MADV_PAGEOUT), 1 iovec", bench_median (bare_ms, RUNS));
  return 0;
}
