/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Live tests of MADV_PAGEOUT and MADV_COLD on ma-test-target. They need
 * swap: meson runs them under tests/with-swap.
 */

#include <sched.h>

#include "live-common.h"
#include "ma-parse.h"

static const char *const ineligible_kinds[] = {
  "locked", "shared", "memfd", "shm", "exec", "file", "readonly",
};

static void
assert_swap_configured (void)
{
  g_autoptr (GError) error = NULL;
  guint64 total = 0, used = 0;

  g_assert_true (ma_probe_swap (&total, &used, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (total, >, 0);
}

static void
test_pageout_swaps_eligible_keeps_others_resident (void)
{
  g_autoptr (TestTarget) t = test_target_spawn ();
  g_autoptr (MaTarget) target = NULL;
  g_autoptr (MaPlan) plan = NULL;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  MaApplyResult result = { 0 };
  guint64 pages, present, swapped;

  assert_swap_configured ();
  test_target_map (t, "anon", "anon", 4 * MiB, FALSE, NULL);
  test_target_map (t, "heap", "heap", 4 * MiB, FALSE, NULL);
  test_target_map (t, "guard", "guard", 1 * MiB, FALSE, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (ineligible_kinds); i++)
    test_target_map (t, ineligible_kinds[i], ineligible_kinds[i], 1 * MiB, FALSE, NULL);
  before = test_target_command (t, "checksum-all");

  plan = live_plan (test_target_get_pid (t), MA_MODE_PAGEOUT, 100, 0, &target);
  g_assert_true (plan->swap_configured);
  g_assert_cmpuint (plan->planned_bytes, ==, plan->eligible_bytes);
  g_assert_cmpuint (plan->eligible_bytes, >=, 8 * MiB);
  live_apply (target, plan, &result);
  g_assert_cmpuint (result.advised_bytes, ==, plan->planned_bytes);
  g_assert_cmpuint (result.skipped_bytes, ==, 0);
  g_assert_cmpuint (result.n_skipped_ranges, ==, 0);

  live_assert_swapped (t, "anon");
  live_assert_swapped (t, "heap");
  for (guint i = 0; i < G_N_ELEMENTS (ineligible_kinds); i++)
    live_assert_resident (t, ineligible_kinds[i]);
  test_target_residency (t, "guard", &pages, &present, &swapped);
  g_assert_cmpuint (present, ==, 0);
  g_assert_cmpuint (swapped, ==, 0);

  /* Reading them back faults the swapped pages in, unchanged. */
  after = test_target_command (t, "checksum-all");
  g_assert_cmpstr (after, ==, before);
  live_assert_resident (t, "anon");
}

static void
test_cold_advises_planned_swaps_nothing (void)
{
  g_autoptr (TestTarget) t = test_target_spawn ();
  g_autoptr (MaTarget) target = NULL;
  g_autoptr (MaPlan) plan = NULL;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  MaApplyResult result = { 0 };

  assert_swap_configured ();
  test_target_map (t, "anon", "anon", 8 * MiB, FALSE, NULL);
  test_target_map (t, "heap", "heap", 2 * MiB, FALSE, NULL);
  before = test_target_command (t, "checksum-all");

  plan = live_plan (test_target_get_pid (t), MA_MODE_COLD, 100, 0, &target);
  g_assert_cmpuint (plan->planned_bytes, >=, 10 * MiB);
  live_apply (target, plan, &result);
  g_assert_cmpuint (result.advised_bytes, ==, plan->planned_bytes);
  g_assert_cmpuint (result.skipped_bytes, ==, 0);
  g_assert_cmpuint (result.n_calls, >=, 1);

  live_assert_resident (t, "anon");
  live_assert_resident (t, "heap");
  after = test_target_command (t, "checksum-all");
  g_assert_cmpstr (after, ==, before);
}

static void
test_pageout_swapped_pages_not_planned_again (void)
{
  g_autoptr (TestTarget) t = test_target_spawn ();
  g_autoptr (MaTarget) target = NULL;
  g_autoptr (MaTarget) target2 = NULL;
  g_autoptr (MaPlan) plan = NULL;
  g_autoptr (MaPlan) plan2 = NULL;
  MaApplyResult result = { 0 };
  guint64 old_start, old_length, new_start, new_length;
  guint64 sum_before, sum_new;

  assert_swap_configured ();
  old_start = test_target_map (t, "old", "anon", 4 * MiB, FALSE, &old_length);
  sum_before = test_target_checksum (t, "old");
  plan = live_plan (test_target_get_pid (t), MA_MODE_PAGEOUT, 100, 0, &target);
  g_assert_true (live_plan_overlaps (plan, old_start, old_length));
  live_apply (target, plan, &result);
  g_assert_cmpuint (result.advised_bytes, ==, plan->planned_bytes);
  live_assert_swapped (t, "old");

  /* Fresh memory next to it; the second plan takes only what is resident. */
  new_start = test_target_map (t, "new", "anon", 4 * MiB, FALSE, &new_length);
  sum_new = test_target_checksum (t, "new");
  plan2 = live_plan (test_target_get_pid (t), MA_MODE_PAGEOUT, 100, 0, &target2);
  g_assert_false (live_plan_overlaps (plan2, old_start, old_length));
  g_assert_true (live_plan_overlaps (plan2, new_start, new_length));
  g_assert_cmpuint (plan2->planned_bytes, ==, plan2->eligible_bytes);
  g_assert_cmpuint (plan2->eligible_bytes, >=, new_length);
  /* The swapped region no longer counts (1 MiB of slack for what the
   * target faulted back in or allocated since). */
  g_assert_cmpuint (plan2->eligible_bytes, <, plan->eligible_bytes - old_length + new_length + MiB);
  live_assert_swapped (t, "old");

  g_assert_cmpuint (test_target_checksum (t, "old"), ==, sum_before);
  g_assert_cmpuint (test_target_checksum (t, "new"), ==, sum_new);
}

static void
test_pageout_mlocked_vma_between_eligible_stays_resident (void)
{
  g_autoptr (TestTarget) t = test_target_spawn ();
  g_autoptr (MaTarget) target = NULL;
  g_autoptr (MaPlan) plan = NULL;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  MaApplyResult result = { 0 };
  guint64 size = 2 * MiB, first, middle, last;

  assert_swap_configured ();
  first = test_target_map (t, "first", "anon", size, FALSE, NULL);
  middle = test_target_map (t, "middle", "locked", size, FALSE, NULL);
  last = test_target_map (t, "last", "anon", size, FALSE, NULL);
  /* mmap places them top-down, a page apart: the locked VMA is the middle one. */
  g_assert_cmphex (first, ==, middle + size + 4096);
  g_assert_cmphex (middle, ==, last + size + 4096);
  before = test_target_command (t, "checksum-all");

  plan = live_plan (test_target_get_pid (t), MA_MODE_PAGEOUT, 100, 0, &target);
  g_assert_false (live_plan_overlaps (plan, middle, size));
  g_assert_true (live_plan_overlaps (plan, first, size));
  g_assert_true (live_plan_overlaps (plan, last, size));
  live_apply (target, plan, &result);
  g_assert_cmpuint (result.advised_bytes, ==, plan->planned_bytes);
  g_assert_cmpuint (result.skipped_bytes, ==, 0);

  live_assert_swapped (t, "first");
  live_assert_resident (t, "middle");
  live_assert_swapped (t, "last");
  after = test_target_command (t, "checksum-all");
  g_assert_cmpstr (after, ==, before);
}

static void
test_pageout_partial_return_skips_range_locked_after_plan (void)
{
  g_autoptr (TestTarget) t = test_target_spawn ();
  g_autoptr (MaTarget) target = NULL;
  g_autoptr (MaPlan) plan = NULL;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  MaApplyResult result = { 0 };
  guint64 size = 2 * MiB, b_start;

  assert_swap_configured ();
  /* Three VMAs (the target leaves a hole after each): b is planned in
   * ranges of its own. */
  test_target_map (t, "a", "anon", size, FALSE, NULL);
  b_start = test_target_map (t, "b", "anon", size, FALSE, NULL);
  test_target_map (t, "c", "anon", size, FALSE, NULL);
  before = test_target_command (t, "checksum-all");

  plan = live_plan (test_target_get_pid (t), MA_MODE_PAGEOUT, 100, 0, &target);
  g_assert_cmpuint (plan->planned_bytes, ==, plan->eligible_bytes);
  g_assert_true (live_plan_overlaps (plan, b_start, size));
  for (guint i = 0; i < plan->ranges->len; i++)
    {
      const MaRange *r = &g_array_index (plan->ranges, MaRange, i);
      if (r->start < b_start + size && b_start < r->start + r->length)
        g_assert_true (r->start >= b_start && r->start + r->length <= b_start + size);
    }

  /* The VMA changes under the plan: the kernel refuses locked memory. */
  g_free (test_target_command (t, "mlock b"));
  live_apply (target, plan, &result);
  g_assert_cmpuint (result.skipped_bytes, ==, size);
  g_assert_cmpuint (result.advised_bytes, ==, plan->planned_bytes - size);
  g_assert_cmpuint (result.n_skipped_ranges, >=, 1);

  live_assert_swapped (t, "a");
  live_assert_resident (t, "b");
  live_assert_swapped (t, "c");
  after = test_target_command (t, "checksum-all");
  g_assert_cmpstr (after, ==, before);
}

static void
progress_in_batch_policy (guint64 done_bytes, guint64 planned_bytes, gpointer user_data)
{
  guint *n_progress = user_data;

  g_assert_cmpint (sched_getscheduler (0), ==, SCHED_BATCH);
  (*n_progress)++;
}

/* Several threads share the plan's batches: with four threads over many
 * batches, mappings locked and unmapped under the plan are skipped by
 * whichever thread meets them, everything else is paged out, and the
 * totals add up to the plan exactly. */
static void
test_pageout_threads_share_batches_exactly (void)
{
  g_autoptr (TestTarget) t = test_target_spawn ();
  g_autoptr (GError) error = NULL;
  g_autoptr (MaTarget) target = NULL;
  g_autoptr (MaPlan) plan = NULL;
  MaPlanRequest request
      = { .mode = MA_MODE_PAGEOUT, .percent = 100, .order = MA_ORDER_ADDRESS, .threads = 4 };
  MaApplyResult result = { 0 };
  guint64 size = 6 * MiB;
  guint64 sums[12];
  char name[8];
  guint i, n_progress = 0;

  assert_swap_configured ();
  for (i = 0; i < G_N_ELEMENTS (sums); i++)
    {
      g_snprintf (name, sizeof name, "r%u", i);
      test_target_map (t, name, "anon", size, FALSE, NULL);
      sums[i] = test_target_checksum (t, name);
    }

  target = ma_target_open (test_target_get_pid (t), &error);
  g_assert_no_error (error);
  plan = live_plan_request (target, &request);
  g_assert_cmpuint (plan->threads, ==, 4);
  g_assert_cmpuint (plan->planned_bytes, ==, plan->eligible_bytes);
  g_assert_cmpuint (plan->planned_bytes, >=, G_N_ELEMENTS (sums) * size);
  g_assert_cmpuint (plan->planned_bytes, >, 4 * MA_BATCH_MAX_BYTES);

  /* Under the plan: r3 and r8 are locked, r5 is unmapped. */
  g_free (test_target_command (t, "mlock r3"));
  g_free (test_target_command (t, "mlock r8"));
  g_free (test_target_command (t, "unmap r5"));
  g_assert_cmpint (sched_getscheduler (0), ==, SCHED_OTHER);
  g_assert_true (
      ma_target_apply (target, plan, NULL, progress_in_batch_policy, &n_progress, &result, &error));
  g_assert_no_error (error);
  /* The caller's thread advised as batch work and is itself again. */
  g_assert_cmpuint (n_progress, >=, 1);
  g_assert_cmpint (sched_getscheduler (0), ==, SCHED_OTHER);
  g_assert_cmpuint (result.skipped_bytes, ==, 3 * size);
  g_assert_cmpuint (result.advised_bytes, ==, plan->planned_bytes - 3 * size);
  g_assert_cmpuint (result.n_calls, >=, plan->planned_bytes / MA_BATCH_MAX_BYTES);

  for (i = 0; i < G_N_ELEMENTS (sums); i++)
    {
      g_snprintf (name, sizeof name, "r%u", i);
      if (i == 5)
        continue;
      if (i == 3 || i == 8)
        live_assert_resident (t, name);
      else
        live_assert_swapped (t, name);
      g_assert_cmpuint (test_target_checksum (t, name), ==, sums[i]);
    }
}

static const MaMapMapping *
map_mapping_at (const MaMap *map, guint64 start)
{
  for (guint i = 0; i < map->mappings->len; i++)
    if (g_array_index (map->mappings, MaMapMapping, i).start == start)
      return &g_array_index (map->mappings, MaMapMapping, i);
  g_error ("no drawn mapping at %" G_GINT64_MODIFIER "x", start);
}

/* A map drawn again after a pageout (what a Reclaim's is): the plan's
 * cells were planned; after the advice, read from pagemap again, they are
 * in swap, as the target's own residency says every page is. */
static void
test_pageout_map_redrawn_after_the_advice (void)
{
  g_autoptr (TestTarget) t = test_target_spawn ();
  g_autoptr (GError) error = NULL;
  g_autoptr (MaTarget) target = NULL;
  g_autoptr (MaPlan) plan = NULL;
  MaPlanRequest request = {
    .mode = MA_MODE_PAGEOUT,
    .percent = 100,
    .order = MA_ORDER_ADDRESS,
    .map = TRUE,
    .map_mappings = 1024,
  };
  MaApplyResult result = { 0 };
  const MaMapMapping *m;
  guint64 start;
  guint n_eligible;

  assert_swap_configured ();
  start = test_target_map (t, "anon", "anon", 4 * MiB, FALSE, NULL);
  target = ma_target_open (test_target_get_pid (t), &error);
  g_assert_no_error (error);
  plan = live_plan_request (target, &request);
  g_assert_nonnull (plan->map);
  n_eligible = plan->map->n_eligible;
  m = map_mapping_at (plan->map, start);
  g_assert_cmpuint (m->n_cells, ==, MA_MAP_MAX_CELLS);
  for (guint k = 0; k < m->n_cells; k++)
    g_assert_cmpuint (m->cells[k], ==, MA_MAP_PLANNED);

  live_apply (target, plan, &result);
  g_assert_cmpuint (result.advised_bytes, ==, plan->planned_bytes);
  live_assert_swapped (t, "anon");
  g_assert_true (ma_target_redraw_map (target, plan, &error));
  g_assert_no_error (error);
  g_assert_nonnull (plan->map);
  g_assert_cmpuint (plan->map->n_eligible, ==, n_eligible);
  m = map_mapping_at (plan->map, start);
  g_assert_cmpuint (m->n_cells, ==, MA_MAP_MAX_CELLS);
  for (guint k = 0; k < m->n_cells; k++)
    g_assert_cmpuint (m->cells[k], ==, MA_MAP_SWAPPED);
}

int
main (int argc, char **argv)
{
  live_test_init (&argc, &argv);

  g_test_add_func ("/live/pageout/swaps-eligible-keeps-others-resident",
                   test_pageout_swaps_eligible_keeps_others_resident);
  g_test_add_func ("/live/cold/advises-planned-swaps-nothing",
                   test_cold_advises_planned_swaps_nothing);
  g_test_add_func ("/live/pageout/swapped-pages-not-planned-again",
                   test_pageout_swapped_pages_not_planned_again);
  g_test_add_func ("/live/pageout/mlocked-vma-between-eligible-stays-resident",
                   test_pageout_mlocked_vma_between_eligible_stays_resident);
  g_test_add_func ("/live/pageout/partial-return-skips-range-locked-after-plan",
                   test_pageout_partial_return_skips_range_locked_after_plan);
  g_test_add_func ("/live/pageout/map-redrawn-after-the-advice",
                   test_pageout_map_redrawn_after_the_advice);
  g_test_add_func ("/live/pageout/threads-share-batches-exactly",
                   test_pageout_threads_share_batches_exactly);

  return g_test_run ();
}
