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

/* One result: RESULT<TAB>figure<TAB>value_ms<TAB>limit<TAB>limit_ms<TAB>ratio */
void bench_report (const char *figure, double value_ms, const char *limit, double limit_ms);

G_END_DECLS
