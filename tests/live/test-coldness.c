/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Live tests of page-granular coldness (memadvised(8), COLDNESS): hot and
 * cold pages inside ONE mapping, told apart by access sampling and by
 * refault feedback, with the kernel's own pageout. Each test also plans
 * without the signal and checks that the hot pages would then be taken,
 * so that a signal ignored fails it.
 */
#include "config.h"

#include "live-common.h"
#include "ma-private.h"

static guint64
budget_bytes (const MaPlan *plan, guint percent)
{
  gsize page = ma_page_size ();

  return ma_budget_pages (plan->eligible_bytes / page, percent, 0, page) * page;
}

/* Planned pages at @start + k * @stride pages within [start, start + length). */
static guint64
strided_pages (const MaPlan *plan, guint64 start, guint64 length, guint stride)
{
  gsize page = ma_page_size ();
  guint64 hits = 0;

  for (guint i = 0; i < plan->ranges->len; i++)
    {
      const MaRange *r = &g_array_index (plan->ranges, MaRange, i);

      for (guint64 a = MAX (r->start, start); a < MIN (r->start + r->length, start + length);
           a += page)
        hits += ((a - start) / page) % stride == 0;
    }
  return hits;
}

static gboolean
plans_strided (const MaPlan *plan, guint64 start, guint64 length, guint stride)
{
  return strided_pages (plan, start, length, stride) > 0;
}

static GArray *
plan_runs (const MaPlan *plan)
{
  GArray *runs = g_array_copy (plan->ranges);

  ma_runs_normalize (runs);
  return runs;
}

static MaPlan *
plan_pageout (MaTarget *target, guint percent, const MaRefaults *refaults, const MaSample *sample)
{
  MaPlanRequest request = {
    .mode = MA_MODE_PAGEOUT,
    .percent = percent,
    .order = MA_ORDER_COLDEST,
    .refaults = refaults,
    .sample = sample,
    .hold_usec = 600 * G_USEC_PER_SEC,
  };

  return live_plan_request (target, &request);
}

static void
test_sampling_plans_no_hot_page_of_one_mapping (void)
{
  g_autoptr (TestTarget) t = test_target_spawn ();
  g_autoptr (MaTarget) target = NULL;
  g_autoptr (MaSample) sample = NULL;
  g_autoptr (MaPlan) blind = NULL;
  g_autoptr (MaPlan) plan = NULL;
  g_autoptr (GError) error = NULL;
  MaPlanRequest request = { .mode = MA_MODE_PAGEOUT, .percent = 50, .order = MA_ORDER_COLDEST };
  MaApplyResult result;
  guint64 start, sum;

  /* One mapping: its first 16 MiB hot, the other 48 MiB cold. Address
   * order, and size, would take the hot part first. */
  start = test_target_map (t, "all", "anon", 64 * MiB, FALSE, NULL);
  sum = test_target_checksum (t, "all");
  g_free (test_target_command (t, "hot all 1 2 0 %" G_GUINT64_FORMAT, 16 * MiB));
  target = ma_target_open (test_target_get_pid (t), &error);
  g_assert_no_error (error);

  blind = plan_pageout (target, 50, NULL, NULL);
  g_assert_true (live_plan_overlaps (blind, start, 16 * MiB));
  g_assert_cmpint (blind->coldness_source, ==, MA_COLDNESS_NONE);

  sample = ma_target_sample (target, &request, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (ma_sample_get_bytes (sample), >, 0);
  g_assert_cmpuint (ma_sample_get_bytes (sample), <=, budget_bytes (blind, 50) / 4);
  g_usleep (2 * G_USEC_PER_SEC);

  plan = plan_pageout (target, 50, NULL, sample);
  g_assert_cmpint (plan->coldness_source, ==, MA_COLDNESS_SAMPLING);
  g_assert_false (live_plan_overlaps (plan, start, 16 * MiB));
  /* The cold part's samples stayed out: planned and counted as eligible;
   * the hot part's came back (or never left). */
  g_assert_cmpuint (plan->sampled_out_bytes, >, 0);
  g_assert_cmpuint (plan->sampled_out_bytes, <, ma_sample_get_bytes (sample));
  g_assert_cmpuint (plan->sampled_out_bytes + plan->sampled_bytes, <=,
                    ma_sample_get_bytes (sample));
  g_assert_cmpuint (plan->planned_bytes, ==, budget_bytes (plan, 50));

  live_apply (target, plan, &result);
  g_assert_cmpuint (result.advised_bytes + plan->sampled_out_bytes, ==, plan->planned_bytes);
  g_free (test_target_command (t, "cool all"));
  g_assert_cmpuint (test_target_checksum (t, "all"), ==, sum);
}

static void
test_trial_keeps_an_interleaved_hot_set_resident (void)
{
  g_autoptr (TestTarget) t = test_target_spawn ();
  g_autoptr (MaTarget) target = NULL;
  g_autoptr (MaSample) sample = NULL;
  g_autoptr (MaPlan) trial = NULL;
  g_autoptr (MaPlan) plan = NULL;
  g_autoptr (GArray) tried = NULL;
  g_autoptr (GArray) again = NULL;
  g_autoptr (GError) error = NULL;
  MaPlanRequest request = {
    .mode = MA_MODE_PAGEOUT,
    .percent = 50,
    .order = MA_ORDER_COLDEST,
    .hold_usec = 600 * G_USEC_PER_SEC,
  };
  MaApplyResult result;
  gsize page = ma_page_size ();
  guint64 start, sum, trial_hot, topped_up;

  /* One mapping, every 4th page hot: to a spread sample every granule
   * looks alike, only pages tell. */
  start = test_target_map (t, "all", "anon", 32 * MiB, FALSE, NULL);
  sum = test_target_checksum (t, "all");
  g_free (test_target_command (t, "hot all 4 20"));
  target = ma_target_open (test_target_get_pid (t), &error);
  g_assert_no_error (error);

  sample = ma_target_sample (target, &request, &error);
  g_assert_no_error (error);
  g_usleep (G_USEC_PER_SEC);
  g_assert_true (ma_target_trial (target, &request, sample, NULL, &trial, &result, &error));
  g_assert_no_error (error);
  live_assert_plan_valid (trial);
  g_assert_cmpuint (result.advised_bytes + trial->sampled_out_bytes, ==, trial->planned_bytes);
  /* The sample alone could not tell: the trial took hot pages too. */
  trial_hot = strided_pages (trial, start, 32 * MiB, 4) * page;
  g_assert_cmpuint (trial_hot, >, 0);
  g_assert_cmpuint (ma_sample_get_bytes (sample), >=, result.advised_bytes);
  g_usleep (G_USEC_PER_SEC);

  plan = plan_pageout (target, 50, NULL, sample);
  g_assert_cmpint (plan->coldness_source, ==, MA_COLDNESS_SAMPLING);
  g_assert_cmpuint (plan->planned_bytes, ==, budget_bytes (plan, 50));
  /* Nothing the trial advised is advised again: its hot pages came back
   * (some at once, while it ran) and are held, its cold ones are still
   * out and count toward the budget. */
  tried = plan_runs (trial);
  {
    g_autoptr (GArray) planned = plan_runs (plan);

    again = ma_runs_intersect (tried, planned);
  }
  g_assert_cmpuint (again->len, ==, 0);
  g_assert_cmpuint (plan->sampled_bytes, >=, trial_hot);
  g_assert_cmpuint (plan->sampled_bytes, <=, trial_hot + 64 * page);
  g_assert_cmpuint (plan->held_bytes, >=, trial_hot);
  g_assert_cmpuint (plan->sampled_out_bytes, >=, ma_runs_bytes (tried) - trial_hot - 64 * page);
  /* Only what the trial could not tell is topped up: about the share of
   * it that came back, of which a quarter is hot again. */
  topped_up = plan->planned_bytes - plan->sampled_out_bytes;
  g_assert_cmpuint (topped_up, <=, plan->planned_bytes / 4 + 64 * page);
  /* (A run that starts off the stride holds one more: a few runs.) */
  g_assert_cmpuint (strided_pages (plan, start, 32 * MiB, 4) * page, <=, topped_up / 4 + 16 * page);

  live_apply (target, plan, &result);
  g_assert_cmpuint (result.advised_bytes + plan->sampled_out_bytes, ==, plan->planned_bytes);
  g_free (test_target_command (t, "cool all"));
  g_assert_cmpuint (test_target_checksum (t, "all"), ==, sum);
}

static void
test_stopped_trial_claims_no_page_it_did_not_page_out (void)
{
  g_autoptr (TestTarget) t = test_target_spawn ();
  g_autoptr (MaTarget) target = NULL;
  g_autoptr (MaSample) sample = NULL;
  g_autoptr (MaPlan) trial = NULL;
  g_autoptr (MaPlan) after = NULL;
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GError) error = NULL;
  MaPlanRequest request = { .mode = MA_MODE_PAGEOUT, .percent = 50, .order = MA_ORDER_COLDEST };
  MaApplyResult result;
  guint64 start, sampled, advised, pages, present, swapped;

  start = test_target_map (t, "all", "anon", 32 * MiB, FALSE, NULL);
  target = ma_target_open (test_target_get_pid (t), &error);
  g_assert_no_error (error);
  sample = ma_target_sample (target, &request, &error);
  g_assert_no_error (error);
  sampled = ma_sample_get_bytes (sample);
  advised = ma_runs_bytes (ma_sample_get_advised (sample));

  /* The caller left before the trial's first batch. */
  g_cancellable_cancel (cancellable);
  g_assert_false (ma_target_trial (target, &request, sample, cancellable, &trial, &result, &error));
  g_assert_error (error, MA_ERROR, MA_ERROR_CANCELLED);
  g_assert_nonnull (trial);
  g_assert_cmpuint (result.advised_bytes, ==, 0);
  g_assert_cmpuint (ma_sample_get_bytes (sample), ==, sampled);
  test_target_residency (t, "all", &pages, &present, &swapped);
  g_assert_cmpuint (swapped * ma_page_size (), <=, sampled);

  /* The sample knows no more pages advised than before (the trial's, all
   * resident, would pass for pages that came back, and be held), so a
   * plan takes them like any resident page. */
  g_assert_cmpuint (ma_runs_bytes (ma_sample_get_advised (sample)), ==, advised);
  after = plan_pageout (target, 50, NULL, sample);
  g_assert_true (live_plan_overlaps (after, start, 32 * MiB));
}

static void
test_refault_feedback_holds_back_pages_that_came_back (void)
{
  g_autoptr (TestTarget) t = test_target_spawn ();
  g_autoptr (MaTarget) target = NULL;
  g_autoptr (MaPlan) first = NULL;
  g_autoptr (MaPlan) second = NULL;
  g_autoptr (MaPlan) blind = NULL;
  g_autoptr (MaRefaults) refaults = NULL;
  g_autoptr (GError) error = NULL;
  MaApplyResult result;
  guint64 start, sum, hot;
  gsize page = ma_page_size ();

  /* One mapping, every 4th page hot: no granule is cold, only pages are. */
  start = test_target_map (t, "all", "anon", 32 * MiB, FALSE, NULL);
  sum = test_target_checksum (t, "all");
  g_free (test_target_command (t, "hot all 4 20"));
  target = ma_target_open (test_target_get_pid (t), &error);
  g_assert_no_error (error);

  first = plan_pageout (target, 50, NULL, NULL);
  g_assert_true (plans_strided (first, start, 32 * MiB, 4));
  live_apply (target, first, &result);
  refaults = ma_refaults_update (target, first, TRUE, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (ma_refaults_is_for (refaults, target));
  g_assert_cmpuint (ma_refaults_get_out_bytes (refaults), >, 0);
  g_assert_cmpuint (ma_refaults_get_out_bytes (refaults), <=, first->planned_bytes);
  g_assert_cmpuint (ma_refaults_get_size (refaults), <=, MA_REFAULTS_MAX_SIZE);

  /* The hot pages fault back within a pass of the thread. */
  g_usleep (G_USEC_PER_SEC);
  blind = plan_pageout (target, 50, NULL, NULL);
  g_assert_true (plans_strided (blind, start, 32 * MiB, 4));

  second = plan_pageout (target, 50, refaults, NULL);
  g_assert_cmpint (second->coldness_source, ==, MA_COLDNESS_REFAULT);
  g_assert_cmpuint (second->paged_out_bytes, ==, ma_refaults_get_out_bytes (refaults));
  /* A quarter of what the first pageout took was hot: it came back, some
   * while the pageout still ran (then pagemap right after it shows it
   * present, as if the kernel had kept it), the rest since. */
  hot = ma_refaults_get_hot_bytes (refaults) + second->refaulted_bytes;
  g_assert_cmpuint (second->refaulted_bytes, >, 0);
  g_assert_cmpuint (hot, >=, first->planned_bytes / 4 - 64 * page);
  g_assert_cmpuint (hot, <=, first->planned_bytes / 4 + 64 * page);
  g_assert_cmpuint (second->held_bytes, >=, hot - 64 * page);
  /* Held pages are the ones that came back: none of them is planned. */
  {
    g_autoptr (MaRefaults) after
        = ma_refaults_update (target, second, FALSE, NULL, refaults, &error);
    g_autoptr (GArray) planned = g_array_copy (second->ranges);
    g_autoptr (GArray) hot_runs = NULL;
    g_autoptr (GArray) both = NULL;

    g_assert_no_error (error);
    ma_runs_normalize (planned);
    hot_runs = ma_refaults_hot_runs (after);
    both = ma_runs_intersect (planned, hot_runs);
    g_assert_cmpuint (both->len, ==, 0);
    g_assert_cmpuint (ma_refaults_get_hot_bytes (after), ==, hot);
  }
  g_assert_cmpuint (second->planned_bytes, ==, budget_bytes (second, 50));
  g_free (test_target_command (t, "cool all"));
  g_assert_cmpuint (test_target_checksum (t, "all"), ==, sum);
}

static void
test_refault_state_is_bounded (void)
{
  g_autoptr (TestTarget) t = test_target_spawn ();
  g_autoptr (MaTarget) target = NULL;
  g_autoptr (MaPlan) plan = NULL;
  g_autoptr (MaRefaults) refaults = NULL;
  g_autoptr (GError) error = NULL;
  MaApplyResult result;
  guint64 pages, present, swapped;

  /* 1 GiB of address space with every 4th page written: 64 MiB of single
   * pages, more than the cap holds page by page. */
  g_free (test_target_command (t, "sparse s 1073741824 4"));
  target = ma_target_open (test_target_get_pid (t), &error);
  g_assert_no_error (error);
  plan = plan_pageout (target, 100, NULL, NULL);
  live_apply (target, plan, &result);
  refaults = ma_refaults_update (target, plan, TRUE, NULL, NULL, &error);
  g_assert_no_error (error);
  test_target_residency (t, "s", &pages, &present, &swapped);
  g_test_message ("state %" G_GSIZE_FORMAT " bytes for %" G_GUINT64_FORMAT " pages out",
                  ma_refaults_get_size (refaults), swapped);
  g_assert_cmpuint (ma_refaults_get_size (refaults), <=, MA_REFAULTS_MAX_SIZE);
  /* Coarser, never wrong: it claims no page it did not page out. */
  g_assert_cmpuint (ma_refaults_get_out_bytes (refaults), <=, swapped * ma_page_size ());
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/live/coldness/sampling-plans-no-hot-page-of-one-mapping",
                   test_sampling_plans_no_hot_page_of_one_mapping);
  g_test_add_func ("/live/coldness/trial-keeps-an-interleaved-hot-set-resident",
                   test_trial_keeps_an_interleaved_hot_set_resident);
  g_test_add_func ("/live/coldness/stopped-trial-claims-no-page-it-did-not-page-out",
                   test_stopped_trial_claims_no_page_it_did_not_page_out);
  g_test_add_func ("/live/coldness/refault-feedback-holds-back-pages-that-came-back",
                   test_refault_feedback_holds_back_pages_that_came_back);
  g_test_add_func ("/live/coldness/refault-state-is-bounded", test_refault_state_is_bounded);

  return g_test_run ();
}
