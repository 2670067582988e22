/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * What the benchmarks share: a clock, medians, and the result line
 * tests/bench/run turns into its table and JSON. Benchmarks measure; they
 * never assert on time.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Monotonic time in nanoseconds. */
gint64 bench_now_ns (void);

/* Median of @n samples (sorts them). */
double bench_median (double *samples, guint n);

/* One result in milliseconds:
 * RESULT<TAB>figure<TAB>value<TAB>limit<TAB>limit_value<TAB>ratio<TAB>ms */
void bench_report (const char *figure, double value_ms, const char *limit, double limit_ms);
/* The same in another @unit ("%", "MiB", "faults", ...); @limit names the
 * physical limit or the peer measured in the same run. */
void bench_report_value (const char *figure, double value, const char *unit, const char *limit,
                         double limit_value);

G_END_DECLS
