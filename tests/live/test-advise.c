/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Live tests of budgets, batching, cancellation and a target that exits,
 * on ma-test-target. MADV_COLD only: no swap needed.
 */

#include "live-common.h"
#include "ma-parse.h"

static guint64
expected_budget (const MaPlan *plan, guint percent, guint64 max_bytes)
{
  gsize page = ma_page_size ();

  return ma_budget_pages (plan->eligible_bytes / page, percent, max_bytes, page) * page;
}

static void
test_budget_percent_1_takes_ceil_of_eligible_pages (void)
{
  g_autoptr (TestTarget) t = test_target_spawn ();
  g_autoptr (MaTarget) target = NULL;
  g_autoptr (MaPlan) plan = NULL;
  gsize page = ma_page_size ();
  guint64 pages;

  test_target_map (t, "anon", "anon", 16 * MiB, FALSE, NULL);
  plan = live_plan (test_target_get_pid (t), MA_MODE_COLD, 1, 0, &target);
  g_assert_cmpuint (plan->eligible_bytes, >=, 16 * MiB);
  pages = plan->eligible_bytes / page;
  g_assert_cmpuint (plan->planned_bytes, ==, (pages + 99) / 100 * page);
  g_assert_cmpuint (plan->planned_bytes, ==, expected_budget (plan, 1, 0));
}

static void
test_budget_percent_100_takes_all_eligible (void)
{
  g_autoptr (TestTarget) t = test_target_spawn ();
  g_autoptr (MaTarget) target = NULL;
  g_autoptr (MaPlan) plan = NULL;

  test_target_map (t, "anon", "anon", 16 * MiB, FALSE, NULL);
  test_target_map (t, "locked", "locked", 4 * MiB, FALSE, NULL);
  plan = live_plan (test_target_get_pid (t), MA_MODE_COLD, 100, 0, &target);
  g_assert_cmpuint (plan->eligible_bytes, >=, 16 * MiB);
  g_assert_cmpuint (plan->planned_bytes, ==, plan->eligible_bytes);
  g_assert_cmpuint (plan->planned_bytes, ==, expected_budget (plan, 100, 0));
}

static void
test_budget_percent_37_is_exact (void)
{
  g_autoptr (TestTarget) t = test_target_spawn ();
  g_autoptr (MaTarget) target = NULL;
  g_autoptr (MaPlan) plan = NULL;

  test_target_map (t, "a", "anon", 3 * MiB + 12288, FALSE, NULL);
  test_target_map (t, "h", "heap", 5 * MiB, FALSE, NULL);
  plan = live_plan (test_target_get_pid (t), MA_MODE_COLD, 37, 0, &target);
  g_assert_cmpuint (plan->planned_bytes, ==, expected_budget (plan, 37, 0));
  g_assert_cmpuint (plan->planned_bytes, <, plan->eligible_bytes);
}

static void
test_budget_max_bytes_below_page_plans_nothing (void)
{
  g_autoptr (TestTarget) t = test_target_spawn ();
  g_autoptr (MaTarget) target = NULL;
  g_autoptr (MaPlan) plan = NULL;
  MaApplyResult result = { 0 };

  test_target_map (t, "anon", "anon", 4 * MiB, FALSE, NULL);
  plan = live_plan (test_target_get_pid (t), MA_MODE_COLD, 100, ma_page_size () - 1, &target);
  g_assert_cmpuint (plan->eligible_bytes, >=, 4 * MiB);
  g_assert_cmpuint (plan->planned_bytes, ==, 0);
  g_assert_cmpuint (plan->ranges->len, ==, 0);
  live_apply (target, plan, &result);
  g_assert_cmpuint (result.advised_bytes, ==, 0);
  g_assert_cmpuint (result.n_calls, ==, 0);
}

static void
test_budget_max_bytes_caps_at_whole_pages (void)
{
  g_autoptr (TestTarget) t = test_target_spawn ();
  g_autoptr (MaTarget) target = NULL;
  g_autoptr (MaPlan) plan = NULL;
  MaApplyResult result = { 0 };
  guint64 max_bytes = 1 * MiB + 100;

  test_target_map (t, "anon", "anon", 8 * MiB, FALSE, NULL);
  plan = live_plan (test_target_get_pid (t), MA_MODE_COLD, 50, max_bytes, &target);
  g_assert_cmpuint (plan->planned_bytes, ==, 1 * MiB);
  g_assert_cmpuint (plan->planned_bytes, ==, expected_budget (plan, 50, max_bytes));
  live_apply (target, plan, &result);
  g_assert_cmpuint (result.advised_bytes, ==, 1 * MiB);
}

static void
test_budget_larger_than_eligible_takes_all (void)
{
  g_autoptr (TestTarget) t = test_target_spawn ();
  g_autoptr (MaTarget) target = NULL;
  g_autoptr (MaPlan) plan = NULL;

  test_target_map (t, "anon", "anon", 2 * MiB, FALSE, NULL);
  plan = live_plan (test_target_get_pid (t), MA_MODE_COLD, 100, 64 * GiB, &target);
  g_assert_cmpuint (plan->eligible_bytes, >=, 2 * MiB);
  g_assert_cmpuint (plan->planned_bytes, ==, plan->eligible_bytes);
  g_assert_cmpuint (plan->planned_bytes, ==, expected_budget (plan, 100, 64 * GiB));
}

static void
test_budget_nothing_eligible_plans_nothing (void)
{
  g_autoptr (TestTarget) t = test_target_spawn ();
  g_autoptr (MaTarget) target = NULL;
  g_autoptr (MaPlan) plan = NULL;
  MaApplyResult result = { 0 };

  test_target_map (t, "locked", "locked", 4 * MiB, FALSE, NULL);
  g_free (test_target_command (t, "mlockall"));
  plan = live_plan (test_target_get_pid (t), MA_MODE_PAGEOUT, 100, 0, &target);
  g_assert_cmpuint (plan->eligible_bytes, ==, 0);
  g_assert_cmpuint (plan->planned_bytes, ==, 0);
  g_assert_cmpuint (plan->n_eligible_vmas, ==, 0);
  g_assert_cmpuint (plan->ranges->len, ==, 0);
  live_apply (target, plan, &result);
  g_assert_cmpuint (result.advised_bytes, ==, 0);
  live_assert_resident (t, "locked");
}

static void
test_apply_target_exited_after_plan_fails_exited (void)
{
  g_autoptr (TestTarget) t = test_target_spawn ();
  g_autoptr (MaTarget) target = NULL;
  g_autoptr (MaPlan) plan = NULL;
  g_autoptr (GError) error = NULL;
  MaApplyResult result = { 0 };

  test_target_map (t, "anon", "anon", 4 * MiB, FALSE, NULL);
  plan = live_plan (test_target_get_pid (t), MA_MODE_COLD, 100, 0, &target);
  g_assert_cmpuint (plan->planned_bytes, >=, 4 * MiB);
  test_target_exit (t); /* exited and reaped: its pid is free for reuse */

  g_assert_false (ma_target_apply (target, plan, NULL, NULL, NULL, &result, &error));
  g_assert_error (error, MA_ERROR, MA_ERROR_EXITED);
  g_assert_cmpuint (result.advised_bytes, ==, 0);
  g_assert_false (ma_target_check_alive (target, NULL));
}

static void
test_apply_more_than_1024_vmas_in_several_calls (void)
{
  g_autoptr (TestTarget) t = test_target_spawn ();
  g_autoptr (MaTarget) target = NULL;
  g_autoptr (MaPlan) plan = NULL;
  MaApplyResult result = { 0 };
  guint n = 3000;

  g_free (test_target_command (t, "many v %u 8192", n));
  plan = live_plan (test_target_get_pid (t), MA_MODE_COLD, 100, 0, &target);
  g_assert_cmpuint (plan->n_eligible_vmas, >=, n);
  g_assert_cmpuint (plan->ranges->len, >=, n);
  g_assert_cmpuint (plan->planned_bytes, ==, plan->eligible_bytes);
  g_assert_cmpuint (plan->planned_bytes, >=, n * 8192);
  live_apply (target, plan, &result);
  g_assert_cmpuint (result.advised_bytes, ==, plan->planned_bytes);
  g_assert_cmpuint (result.skipped_bytes, ==, 0);
  g_assert_cmpuint (result.n_calls, >=, (plan->ranges->len + 1023) / 1024);
  g_assert_cmpuint (result.n_calls, >, 1);
}

static void
test_apply_more_than_2_gib_in_several_calls (void)
{
  g_autoptr (TestTarget) t = test_target_spawn ();
  g_autoptr (MaTarget) target = NULL;
  g_autoptr (MaPlan) plan = NULL;
  MaApplyResult result = { 0 };
  guint64 size = 2 * GiB + 512 * MiB;

  test_target_map (t, "big", "anon", size, TRUE, NULL);
  plan = live_plan (test_target_get_pid (t), MA_MODE_COLD, 100, 0, &target);
  g_assert_cmpuint (plan->planned_bytes, >=, size);
  live_apply (target, plan, &result);
  g_assert_cmpuint (result.advised_bytes, ==, plan->planned_bytes);
  g_assert_cmpuint (result.skipped_bytes, ==, 0);
  g_assert_cmpuint (result.n_calls, >=, 2);
  live_assert_resident (t, "big");
}

typedef struct
{
  GCancellable *cancellable;
  guint n_progress;
  guint64 last_done;
} CancelData;

static void
cancel_after_first_batch (guint64 done_bytes, guint64 planned_bytes, gpointer user_data)
{
  CancelData *data = user_data;

  g_assert_cmpuint (done_bytes, <=, planned_bytes);
  g_assert_cmpuint (done_bytes, >=, data->last_done);
  data->last_done = done_bytes;
  data->n_progress++;
  g_cancellable_cancel (data->cancellable);
}

static void
test_apply_cancelled_from_progress_stops (void)
{
  g_autoptr (TestTarget) t = test_target_spawn ();
  g_autoptr (MaTarget) target = NULL;
  g_autoptr (MaPlan) plan = NULL;
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GError) error = NULL;
  MaApplyResult result = { 0 };
  CancelData data = { cancellable, 0, 0 };

  g_free (test_target_command (t, "many v 3000 8192"));
  plan = live_plan (test_target_get_pid (t), MA_MODE_COLD, 100, 0, &target);
  g_assert_cmpuint (plan->ranges->len, >, 2048);

  g_assert_false (ma_target_apply (target, plan, cancellable, cancel_after_first_batch, &data,
                                   &result, &error));
  g_assert_error (error, MA_ERROR, MA_ERROR_CANCELLED);
  g_assert_cmpuint (data.n_progress, ==, 1);
  g_assert_cmpuint (result.advised_bytes, >, 0);
  g_assert_cmpuint (result.advised_bytes, <, plan->planned_bytes);
  g_assert_cmpuint (result.advised_bytes, ==, data.last_done);
  g_assert_cmpuint (result.n_calls, ==, 1);
}

/* The calls an apply may make: one per batch (by iovecs and by bytes),
 * and the bounded calls of refusals. */
static guint64
max_calls (const MaPlan *plan)
{
  guint64 batches = (plan->ranges->len + MA_IOV_MAX - 1) / MA_IOV_MAX
                    + (plan->planned_bytes + MA_BATCH_MAX_BYTES - 1) / MA_BATCH_MAX_BYTES;

  return batches + MA_APPLY_MAX_REFUSAL_CALLS;
}

/* A 256 MiB mapping locked under the plan: its 32 batches are refused.
 * Halving each down to single pages took 131,072 calls; the halves stop
 * MA_APPLY_SPLIT_DEPTH levels down, and the totals stay exact. */
static void
test_apply_locked_after_plan_costs_bounded_calls (void)
{
  g_autoptr (TestTarget) t = test_target_spawn ();
  g_autoptr (MaTarget) target = NULL;
  g_autoptr (MaPlan) plan = NULL;
  MaApplyResult result = { 0 };
  guint64 size = 256 * MiB;

  test_target_map (t, "big", "anon", size, TRUE, NULL);
  plan = live_plan (test_target_get_pid (t), MA_MODE_COLD, 100, 0, &target);
  g_assert_cmpuint (plan->planned_bytes, >=, size);
  g_free (test_target_command (t, "mlock big"));
  live_apply (target, plan, &result);
  g_test_message ("%u calls for %u ranges, %" G_GUINT64_FORMAT " bytes", result.n_calls,
                  plan->ranges->len, plan->planned_bytes);
  g_assert_cmpuint (result.skipped_bytes, ==, size);
  g_assert_cmpuint (result.advised_bytes, ==, plan->planned_bytes - size);
  g_assert_cmpuint (result.n_calls, <=, max_calls (plan));
  live_assert_resident (t, "big");
}

/* Every other page of 64 MiB planned, then unmapped: 8192 ranges of a
 * page, each refused. One call for the refused page and one to go on
 * with the batch made two calls a range; past the refusal budget the rest
 * of a refused batch is skipped. */
static void
test_apply_unmapped_sparse_after_plan_costs_bounded_calls (void)
{
  g_autoptr (TestTarget) t = test_target_spawn ();
  g_autoptr (MaTarget) target = NULL;
  g_autoptr (MaPlan) plan = NULL;
  MaApplyResult result = { 0 };
  guint64 size = 64 * MiB, pages = size / ma_page_size ();

  g_free (test_target_command (t, "sparse s %" G_GUINT64_FORMAT " 2", size));
  plan = live_plan (test_target_get_pid (t), MA_MODE_COLD, 100, 0, &target);
  g_assert_cmpuint (plan->ranges->len, >=, pages / 2);
  g_free (test_target_command (t, "unmap s"));
  live_apply (target, plan, &result);
  g_test_message ("%u calls for %u ranges, %" G_GUINT64_FORMAT " bytes", result.n_calls,
                  plan->ranges->len, plan->planned_bytes);
  g_assert_cmpuint (result.advised_bytes + result.skipped_bytes, ==, plan->planned_bytes);
  g_assert_cmpuint (result.skipped_bytes, >=, size / 2);
  g_assert_cmpuint (result.n_calls, <=, max_calls (plan));
}

static void
test_plan_percent_out_of_range_is_invalid (void)
{
  g_autoptr (TestTarget) t = test_target_spawn ();
  g_autoptr (GError) open_error = NULL;
  g_autoptr (MaTarget) target = NULL;
  guint bad[] = { 0, 101 };

  test_target_map (t, "anon", "anon", 2 * MiB, FALSE, NULL);
  target = ma_target_open (test_target_get_pid (t), &open_error);
  g_assert_no_error (open_error);
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      MaPlanRequest request = { .mode = MA_MODE_PAGEOUT, .percent = bad[i] };
      g_autoptr (MaPlan) plan = ma_target_plan (target, &request, &error);

      g_assert_error (error, MA_ERROR, MA_ERROR_INVALID_ARGUMENT);
      g_assert_null (plan);
    }
  live_assert_resident (t, "anon");
}

int
main (int argc, char **argv)
{
  live_test_init (&argc, &argv);

  g_test_add_func ("/live/budget/percent-1-takes-ceil-of-eligible-pages",
                   test_budget_percent_1_takes_ceil_of_eligible_pages);
  g_test_add_func ("/live/budget/percent-100-takes-all-eligible",
                   test_budget_percent_100_takes_all_eligible);
  g_test_add_func ("/live/budget/percent-37-is-exact", test_budget_percent_37_is_exact);
  g_test_add_func ("/live/budget/max-bytes-below-page-plans-nothing",
                   test_budget_max_bytes_below_page_plans_nothing);
  g_test_add_func ("/live/budget/max-bytes-caps-at-whole-pages",
                   test_budget_max_bytes_caps_at_whole_pages);
  g_test_add_func ("/live/budget/larger-than-eligible-takes-all",
                   test_budget_larger_than_eligible_takes_all);
  g_test_add_func ("/live/budget/nothing-eligible-plans-nothing",
                   test_budget_nothing_eligible_plans_nothing);
  g_test_add_func ("/live/apply/target-exited-after-plan-fails-exited",
                   test_apply_target_exited_after_plan_fails_exited);
  g_test_add_func ("/live/apply/more-than-1024-vmas-in-several-calls",
                   test_apply_more_than_1024_vmas_in_several_calls);
  g_test_add_func ("/live/apply/more-than-2-gib-in-several-calls",
                   test_apply_more_than_2_gib_in_several_calls);
  g_test_add_func ("/live/apply/cancelled-from-progress-stops",
                   test_apply_cancelled_from_progress_stops);
  g_test_add_func ("/live/apply/locked-after-plan-costs-bounded-calls",
                   test_apply_locked_after_plan_costs_bounded_calls);
  g_test_add_func ("/live/apply/unmapped-sparse-after-plan-costs-bounded-calls",
                   test_apply_unmapped_sparse_after_plan_costs_bounded_calls);
  g_test_add_func ("/live/plan/percent-out-of-range-is-invalid",
                   test_plan_percent_out_of_range_is_invalid);

  return g_test_run ();
}
