/* SPDX-License-Identifier: GPL-2.0-or-later */

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "live-common.h"

void
live_test_init (int *argc, char ***argv)
{
  g_test_init (argc, argv, NULL);
  if (geteuid () != 0)
    {
      printf ("Bail out! %s needs root (process_madvise on test processes, pagemap, swap); run "
              "it as root, as tests/run does.\n",
              g_get_prgname ());
      exit (1);
    }
}

MaPlan *
live_plan_request (MaTarget *target, const MaPlanRequest *request)
{
  g_autoptr (GError) error = NULL;
  MaPlan *plan = ma_target_plan (target, request, &error);

  g_assert_no_error (error);
  g_assert_nonnull (plan);
  g_assert_cmpint (plan->mode, ==, request->mode);
  live_assert_plan_valid (plan);
  return plan;
}

MaPlan *
live_plan (pid_t pid, MaMode mode, guint percent, guint64 max_bytes, MaTarget **out_target)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MaTarget) target = ma_target_open (pid, &error);
  MaPlanRequest request
      = { .mode = mode, .percent = percent, .max_bytes = max_bytes, .order = MA_ORDER_COLDEST };
  MaPlan *plan;

  g_assert_no_error (error);
  g_assert_nonnull (target);
  g_assert_cmpint (ma_target_get_pid (target), ==, pid);
  plan = live_plan_request (target, &request);
  *out_target = g_steal_pointer (&target);
  return plan;
}

static int
compare_start (gconstpointer a, gconstpointer b)
{
  const MaRange *ra = a, *rb = b;

  return ra->start < rb->start ? -1 : ra->start > rb->start;
}

void
live_assert_plan_valid (const MaPlan *plan)
{
  gsize page = ma_page_size ();
  g_autoptr (GArray) sorted = g_array_copy (plan->ranges);
  guint64 sum = 0;

  g_assert_cmpuint (plan->planned_bytes, <=, plan->eligible_bytes);
  g_assert_cmpuint (plan->eligible_bytes % page, ==, 0);
  g_assert_cmpuint (plan->n_eligible_vmas, <=, plan->n_vmas);
  g_array_sort (sorted, compare_start);
  for (guint i = 0; i < sorted->len; i++)
    {
      const MaRange *r = &g_array_index (sorted, MaRange, i);

      g_assert_cmpuint (r->start % page, ==, 0);
      g_assert_cmpuint (r->length % page, ==, 0);
      g_assert_cmpuint (r->length, >, 0);
      /* Every page of a planned range is resident when planned. */
      g_assert_cmpuint (r->resident, ==, r->length);
      if (i > 0)
        {
          const MaRange *prev = &g_array_index (sorted, MaRange, i - 1);
          g_assert_cmpuint (prev->start + prev->length, <=, r->start);
        }
      sum += r->resident;
    }
  /* A sample's pages still out are planned, and not in the ranges. */
  g_assert_cmpuint (sum + plan->sampled_out_bytes, ==, plan->planned_bytes);
}

gboolean
live_plan_overlaps (const MaPlan *plan, guint64 start, guint64 length)
{
  for (guint i = 0; i < plan->ranges->len; i++)
    {
      const MaRange *r = &g_array_index (plan->ranges, MaRange, i);

      if (r->start < start + length && start < r->start + r->length)
        return TRUE;
    }
  return FALSE;
}

void
live_apply (MaTarget *target, const MaPlan *plan, MaApplyResult *out)
{
  g_autoptr (GError) error = NULL;
  gboolean ok = ma_target_apply (target, plan, NULL, NULL, NULL, out, &error);

  g_assert_no_error (error);
  g_assert_true (ok);
}

void
live_assert_resident (TestTarget *target, const char *name)
{
  guint64 pages, present, swapped;

  test_target_residency (target, name, &pages, &present, &swapped);
  g_test_message ("%s: %" G_GUINT64_FORMAT " pages, %" G_GUINT64_FORMAT
                  " present, %" G_GUINT64_FORMAT " swapped",
                  name, pages, present, swapped);
  g_assert_cmpuint (present, ==, pages);
  g_assert_cmpuint (swapped, ==, 0);
}

void
live_assert_swapped (TestTarget *target, const char *name)
{
  guint64 pages, present, swapped;

  test_target_residency (target, name, &pages, &present, &swapped);
  g_test_message ("%s: %" G_GUINT64_FORMAT " pages, %" G_GUINT64_FORMAT
                  " present, %" G_GUINT64_FORMAT " swapped",
                  name, pages, present, swapped);
  g_assert_cmpuint (pages, >, 0);
  g_assert_cmpuint (swapped, ==, pages);
  g_assert_cmpuint (present, ==, 0);
}
