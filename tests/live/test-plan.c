/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Live tests of planning: the fast path (maps and one pagemap sweep) and
 * the smaps path agree; an observation ranks mappings by what was touched
 * since it began.
 */
#include "config.h"

#include "live-common.h"
#include "ma-parse.h"

static MaPlan *
plan_with (MaTarget *target, guint percent, MaOrder order, const MaObservation *observation)
{
  MaPlanRequest request = {
    .mode = MA_MODE_COLD,
    .percent = percent,
    .order = order,
    .observation = observation,
  };

  return live_plan_request (target, &request);
}

static int
compare_range_start (gconstpointer a, gconstpointer b)
{
  const MaRange *ra = a;
  const MaRange *rb = b;

  return ra->start < rb->start ? -1 : ra->start > rb->start;
}

/* The pages a plan covers, as sorted, merged ranges. */
static GArray *
coverage (const MaPlan *plan)
{
  GArray *sorted = g_array_copy (plan->ranges);
  GArray *merged = g_array_new (FALSE, FALSE, sizeof (MaRange));
  guint i;

  g_array_sort (sorted, compare_range_start);
  for (i = 0; i < sorted->len; i++)
    {
      MaRange r = g_array_index (sorted, MaRange, i);
      MaRange *last = merged->len ? &g_array_index (merged, MaRange, merged->len - 1) : NULL;

      if (last != NULL && last->start + last->length == r.start)
        last->length += r.length;
      else
        g_array_append_val (merged, r);
    }
  g_array_unref (sorted);
  return merged;
}

/* Every page of @plan lies in a mapping that smaps, read here on its own,
 * calls eligible. */
static void
assert_plan_within_eligible (const MaPlan *plan, pid_t pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/smaps", (int) pid);
  g_autofree char *text = NULL;
  g_autoptr (GArray) vmas = g_array_new (FALSE, FALSE, sizeof (MaVma));
  g_autoptr (GError) error = NULL;
  gsize len;
  guint i, k;

  g_assert_true (g_file_get_contents (path, &text, &len, &error));
  g_assert_no_error (error);
  g_assert_true (ma_smaps_parse (text, len, vmas, &error));
  g_assert_no_error (error);
  for (i = 0; i < plan->ranges->len; i++)
    {
      const MaRange *r = &g_array_index (plan->ranges, MaRange, i);
      gboolean inside = FALSE;

      for (k = 0; k < vmas->len && !inside; k++)
        {
          const MaVma *vma = &g_array_index (vmas, MaVma, k);

          inside = vma->start <= r->start && r->start + r->length <= vma->end
                   && ma_vma_eligibility (vma) == MA_INELIGIBLE_NONE;
        }
      if (!inside)
        g_error ("range %" G_GINT64_MODIFIER "x+%" G_GUINT64_FORMAT
                 " is not inside an eligible mapping",
                 r->start, r->length);
    }
}

static void
test_maps_and_smaps_paths_agree (void)
{
  g_autoptr (TestTarget) t = test_target_spawn ();
  g_autoptr (MaTarget) target = NULL;
  g_autoptr (MaObservation) observation = NULL;
  g_autoptr (MaPlan) fast = NULL;
  g_autoptr (MaPlan) full = NULL;
  g_autoptr (MaPlan) locked = NULL;
  g_autoptr (GArray) fast_pages = NULL;
  g_autoptr (GArray) full_pages = NULL;
  g_autoptr (GError) error = NULL;
  guint64 l;
  guint i;

  test_target_map (t, "a", "anon", 3 * MiB, FALSE, NULL);
  test_target_map (t, "h", "heap", 2 * MiB, FALSE, NULL);
  test_target_map (t, "s", "shared", 1 * MiB, FALSE, NULL);
  test_target_map (t, "x", "exec", 1 * MiB, FALSE, NULL);
  test_target_map (t, "r", "readonly", 1 * MiB, FALSE, NULL);
  test_target_map (t, "f", "file", 1 * MiB, FALSE, NULL);
  /* Enough mappings that maps is read in several chunks and pagemap swept
   * in several spans, by more than one thread where there are CPUs. */
  g_free (test_target_command (t, "many m 12000 8192"));
  target = ma_target_open (test_target_get_pid (t), &error);
  g_assert_no_error (error);

  /* Nothing locked, no observation: planned from maps. */
  fast = plan_with (target, 100, MA_ORDER_COLDEST, NULL);
  g_assert_false (fast->read_smaps);
  /* An observation needs Referenced: planned from smaps. The target does
   * nothing in between, so its memory is the same. */
  observation = ma_observation_start (target, &error);
  g_assert_no_error (error);
  full = plan_with (target, 100, MA_ORDER_COLDEST, observation);
  g_assert_true (full->read_smaps);

  g_test_message ("eligible %" G_GUINT64_FORMAT " bytes in %u mappings", full->eligible_bytes,
                  full->n_eligible_vmas);
  g_assert_cmpuint (full->eligible_bytes, >=, 3 * MiB + 2 * MiB + 12000 * 8192);
  g_assert_cmpuint (full->n_vmas, >, 12000);
  g_assert_cmpuint (fast->eligible_bytes, ==, full->eligible_bytes);
  g_assert_cmpuint (fast->n_eligible_vmas, ==, full->n_eligible_vmas);
  g_assert_cmpuint (fast->n_vmas, ==, full->n_vmas);
  fast_pages = coverage (fast);
  full_pages = coverage (full);
  g_assert_cmpuint (fast_pages->len, ==, full_pages->len);
  for (i = 0; i < fast_pages->len; i++)
    {
      g_assert_cmphex (g_array_index (fast_pages, MaRange, i).start, ==,
                       g_array_index (full_pages, MaRange, i).start);
      g_assert_cmpuint (g_array_index (fast_pages, MaRange, i).length, ==,
                        g_array_index (full_pages, MaRange, i).length);
    }
  assert_plan_within_eligible (fast, test_target_get_pid (t));
  assert_plan_within_eligible (full, test_target_get_pid (t));

  /* Something locked (VmLck > 0): smaps, whose VmFlags exclude it. */
  l = test_target_map (t, "l", "locked", 256 * KiB, FALSE, NULL);
  locked = plan_with (target, 100, MA_ORDER_ADDRESS, NULL);
  g_assert_true (locked->read_smaps);
  g_assert_false (live_plan_overlaps (locked, l, 256 * KiB));
}

static void
test_observation_keeps_touched_region_out (void)
{
  g_autoptr (TestTarget) t = test_target_spawn ();
  g_autoptr (MaTarget) target = NULL;
  g_autoptr (MaObservation) observation = NULL;
  g_autoptr (MaPlan) plan = NULL;
  g_autoptr (GError) error = NULL;
  guint64 cold, hot;

  /* Mapped hot first, so that the address order would take it first, and
   * the same size, so that size cannot tell them apart. */
  hot = test_target_map (t, "hot", "anon", 8 * MiB, FALSE, NULL);
  cold = test_target_map (t, "cold", "anon", 8 * MiB, FALSE, NULL);
  target = ma_target_open (test_target_get_pid (t), &error);
  g_assert_no_error (error);

  observation = ma_observation_start (target, &error);
  g_assert_no_error (error);
  g_assert_true (ma_observation_is_for (observation, target));
  g_free (test_target_command (t, "touch hot"));
  /* An observation says nothing is idle before it is a second old. */
  g_usleep (G_USEC_PER_SEC + G_USEC_PER_SEC / 10);

  /* Half of everything eligible: the cold region and a little more. */
  plan = plan_with (target, 50, MA_ORDER_COLDEST, observation);
  g_assert_true (live_plan_overlaps (plan, cold, 8 * MiB));
  g_assert_false (live_plan_overlaps (plan, hot, 8 * MiB));
  g_assert_true (plan->read_smaps);
  g_assert_cmpuint (plan->planned_bytes, ==,
                    ma_budget_pages (plan->eligible_bytes / ma_page_size (), 50, 0, ma_page_size ())
                        * ma_page_size ());
  /* The cold region was not referenced at all: known idle. */
  g_assert_cmpuint (plan->idle_bytes, >=, 8 * MiB);
  g_assert_cmpuint (plan->idle_bytes + plan->unknown_age_bytes, ==, plan->planned_bytes);
  g_assert_cmpint (plan->idle_usec, >, 0);
}

static void
test_without_observation_age_is_unknown (void)
{
  g_autoptr (TestTarget) t = test_target_spawn ();
  g_autoptr (MaTarget) target = NULL;
  g_autoptr (MaPlan) plan = NULL;
  g_autoptr (GError) error = NULL;

  test_target_map (t, "a", "anon", 4 * MiB, FALSE, NULL);
  target = ma_target_open (test_target_get_pid (t), &error);
  g_assert_no_error (error);
  plan = plan_with (target, 100, MA_ORDER_COLDEST, NULL);
  g_assert_cmpuint (plan->idle_bytes, ==, 0);
  g_assert_cmpuint (plan->unknown_age_bytes, ==, plan->planned_bytes);
  g_assert_cmpint (plan->idle_usec, ==, 0);
}

static void
test_observation_of_another_process_is_ignored (void)
{
  g_autoptr (TestTarget) a = test_target_spawn ();
  g_autoptr (TestTarget) b = test_target_spawn ();
  g_autoptr (MaTarget) ta = NULL;
  g_autoptr (MaTarget) tb = NULL;
  g_autoptr (MaObservation) observation = NULL;
  g_autoptr (MaPlan) plan = NULL;
  g_autoptr (GError) error = NULL;

  test_target_map (b, "a", "anon", 4 * MiB, FALSE, NULL);
  ta = ma_target_open (test_target_get_pid (a), &error);
  g_assert_no_error (error);
  tb = ma_target_open (test_target_get_pid (b), &error);
  g_assert_no_error (error);
  observation = ma_observation_start (ta, &error);
  g_assert_no_error (error);
  g_assert_false (ma_observation_is_for (observation, tb));

  plan = plan_with (tb, 100, MA_ORDER_COLDEST, observation);
  g_assert_false (plan->read_smaps);
  g_assert_cmpuint (plan->idle_bytes, ==, 0);
}

int
main (int argc, char **argv)
{
  live_test_init (&argc, &argv);

  g_test_add_func ("/live/plan/maps-and-smaps-paths-agree", test_maps_and_smaps_paths_agree);
  g_test_add_func ("/live/plan/observation-keeps-touched-region-out",
                   test_observation_keeps_touched_region_out);
  g_test_add_func ("/live/plan/without-observation-age-is-unknown",
                   test_without_observation_age_is_unknown);
  g_test_add_func ("/live/plan/observation-of-another-process-is-ignored",
                   test_observation_of_another_process_is_ignored);

  return g_test_run ();
}
