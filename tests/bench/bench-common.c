/* SPDX-License-Identifier: GPL-2.0-or-later */

#include "bench-common.h"

#include <stdio.h>
#include <time.h>

gint64
bench_now_ns (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (gint64) ts.tv_sec * G_GINT64_CONSTANT (1000000000) + ts.tv_nsec;
}

static int
compare_double (gconstpointer a, gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return x < y ? -1 : x > y;
}

double
bench_median (double *samples, guint n)
{
  g_assert (n > 0);
  qsort (samples, n, sizeof (double), compare_double);
  return n % 2 ? samples[n / 2] : (samples[n / 2 - 1] + samples[n / 2]) / 2;
}

void
bench_report_value (const char *figure, double value, const char *unit, const char *limit,
                    double limit_value)
{
  printf ("RESULT\t%s\t%.3f\t%s\t%.3f\t%.3f\t%s\n", figure, value, limit, limit_value,
          limit_value != 0 ? value / limit_value : 0.0, unit);
  fflush (stdout);
}

void
bench_report (const char *figure, double value_ms, const char *limit, double limit_ms)
{
  bench_report_value (figure, value_ms, "ms", limit, limit_ms);
}
