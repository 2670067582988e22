/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Budget arithmetic, selection of resident runs and ranking, on synthetic
 * mappings with a residency bitmap standing in for pagemap.
 */
#include "config.h"

#include <string.h>

#include "ma-parse.h"

#define PAGE 4096u

/* A fake pagemap: one bit per page from BASE, set when resident. */
#define BASE 0x100000000ull

typedef struct
{
  const char *bits; /* '1' resident, '0' not; page i at BASE + i * PAGE */
  guint calls;
  gboolean fail;
} FakePagemap;

static gboolean
fake_residency (guint vma_index, guint64 start, guint64 end, GArray *runs, gpointer user_data,
                GError **error)
{
  FakePagemap *fake = user_data;
  guint64 addr;

  fake->calls++;
  if (fake->fail)
    {
      g_set_error (error, MA_ERROR, MA_ERROR_EXITED, "gone");
      return FALSE;
    }
  for (addr = start; addr < end; addr += PAGE)
    {
      guint64 i = (addr - BASE) / PAGE;
      MaRange *last = runs->len ? &g_array_index (runs, MaRange, runs->len - 1) : NULL;

      if (i >= strlen (fake->bits) || fake->bits[i] != '1')
        continue;
      if (last && last->start + last->length == addr)
        last->length = last->resident = last->length + PAGE;
      else
        g_array_append_vals (runs, &(MaRange){ addr, PAGE, PAGE }, 1);
    }
  return TRUE;
}

static MaVma
vma_pages (guint first, guint count, guint64 rss_pages, guint64 referenced_pages)
{
  return (MaVma){
    .start = BASE + (guint64) first * PAGE,
    .end = BASE + (guint64) (first + count) * PAGE,
    .perms = MA_PERM_READ | MA_PERM_WRITE,
    .vmflags = MA_VMF_RD | MA_VMF_WR,
    .has_vmflags = TRUE,
    .has_counters = TRUE,
    .rss = rss_pages * PAGE,
    .referenced = referenced_pages * PAGE,
  };
}

static void
test_budget_percent_rounds_up_to_a_page (void)
{
  g_assert_cmpuint (ma_budget_pages (1, 1, 0, PAGE), ==, 1);
  g_assert_cmpuint (ma_budget_pages (1000, 1, 0, PAGE), ==, 10);
  g_assert_cmpuint (ma_budget_pages (1001, 1, 0, PAGE), ==, 11);
  g_assert_cmpuint (ma_budget_pages (3, 30, 0, PAGE), ==, 1);
  g_assert_cmpuint (ma_budget_pages (10, 30, 0, PAGE), ==, 3);
  g_assert_cmpuint (ma_budget_pages (11, 30, 0, PAGE), ==, 4);
}

static void
test_budget_percent_100_is_everything (void)
{
  g_assert_cmpuint (ma_budget_pages (0, 100, 0, PAGE), ==, 0);
  g_assert_cmpuint (ma_budget_pages (1, 100, 0, PAGE), ==, 1);
  g_assert_cmpuint (ma_budget_pages (123457, 100, 0, PAGE), ==, 123457);
}

static void
test_budget_max_bytes_below_a_page_is_nothing (void)
{
  g_assert_cmpuint (ma_budget_pages (1000, 100, 1, PAGE), ==, 0);
  g_assert_cmpuint (ma_budget_pages (1000, 100, PAGE - 1, PAGE), ==, 0);
  g_assert_cmpuint (ma_budget_pages (1000, 100, PAGE, PAGE), ==, 1);
  /* A cap is never exceeded: partial pages round down. */
  g_assert_cmpuint (ma_budget_pages (1000, 100, 3 * PAGE + 17, PAGE), ==, 3);
}

static void
test_budget_cap_above_eligible_is_eligible (void)
{
  g_assert_cmpuint (ma_budget_pages (50, 100, G_MAXUINT64, PAGE), ==, 50);
  g_assert_cmpuint (ma_budget_pages (50, 10, 1000 * PAGE, PAGE), ==, 5);
}

static void
test_budget_nothing_eligible_is_nothing (void)
{
  g_assert_cmpuint (ma_budget_pages (0, 1, 0, PAGE), ==, 0);
  g_assert_cmpuint (ma_budget_pages (0, 30, 1 << 30, PAGE), ==, 0);
}

static void
test_budget_huge_counts_do_not_overflow (void)
{
  guint64 pages = G_MAXUINT64 / 64; /* far beyond any real address space */

  g_assert_cmpuint (ma_budget_pages (pages, 100, 0, PAGE), ==, pages);
  g_assert_cmpuint (ma_budget_pages (pages, 50, 0, PAGE), ==, pages / 2 + (pages % 2));
}

static guint64
select_ranges (const MaVma *vmas, guint n, guint64 budget, FakePagemap *fake, GArray *ranges)
{
  g_autoptr (GError) error = NULL;
  g_autofree guint *order = g_new (guint, n);
  guint64 planned = 0;
  guint i;

  for (i = 0; i < n; i++)
    order[i] = i;
  g_assert_true (ma_plan_select (vmas, order, n, budget, PAGE, fake_residency, fake, ranges,
                                 &planned, &error));
  g_assert_no_error (error);
  return planned;
}

static void
test_select_cuts_last_run_at_page_boundary (void)
{
  MaVma vmas[] = { vma_pages (0, 8, 8, 0) };
  FakePagemap fake = { .bits = "11111111" };
  g_autoptr (GArray) ranges = g_array_new (FALSE, FALSE, sizeof (MaRange));
  MaRange *r;

  g_assert_cmpuint (select_ranges (vmas, 1, 3, &fake, ranges), ==, 3 * PAGE);
  g_assert_cmpuint (ranges->len, ==, 1);
  r = &g_array_index (ranges, MaRange, 0);
  g_assert_cmphex (r->start, ==, BASE);
  g_assert_cmpuint (r->length, ==, 3 * PAGE);
  g_assert_cmpuint (r->resident, ==, 3 * PAGE);
}

static void
test_select_skips_pages_not_resident (void)
{
  /* Pages 1, 2 and 5 are in swap or were never touched. */
  MaVma vmas[] = { vma_pages (0, 8, 5, 0) };
  FakePagemap fake = { .bits = "10011011" };
  g_autoptr (GArray) ranges = g_array_new (FALSE, FALSE, sizeof (MaRange));
  guint64 total = 0;
  guint i;

  g_assert_cmpuint (select_ranges (vmas, 1, 4, &fake, ranges), ==, 4 * PAGE);
  g_assert_cmpuint (ranges->len, ==, 3);
  g_assert_cmphex (g_array_index (ranges, MaRange, 0).start, ==, BASE);
  g_assert_cmphex (g_array_index (ranges, MaRange, 1).start, ==, BASE + 3 * PAGE);
  g_assert_cmpuint (g_array_index (ranges, MaRange, 1).length, ==, 2 * PAGE);
  g_assert_cmphex (g_array_index (ranges, MaRange, 2).start, ==, BASE + 6 * PAGE);
  g_assert_cmpuint (g_array_index (ranges, MaRange, 2).length, ==, PAGE);
  for (i = 0; i < ranges->len; i++)
    total += g_array_index (ranges, MaRange, i).resident;
  g_assert_cmpuint (total, ==, 4 * PAGE);
}

static void
test_select_stops_reading_pagemap_once_budget_met (void)
{
  MaVma vmas[] = { vma_pages (0, 4, 4, 0), vma_pages (8, 4, 4, 0), vma_pages (16, 4, 4, 0) };
  FakePagemap fake = { .bits = "11110000111100001111" };
  g_autoptr (GArray) ranges = g_array_new (FALSE, FALSE, sizeof (MaRange));

  g_assert_cmpuint (select_ranges (vmas, 3, 6, &fake, ranges), ==, 6 * PAGE);
  g_assert_cmpuint (fake.calls, ==, 2);
  g_assert_cmpuint (ranges->len, ==, 2);
  g_assert_cmpuint (g_array_index (ranges, MaRange, 1).length, ==, 2 * PAGE);
}

static void
test_select_budget_above_resident_takes_all_resident (void)
{
  MaVma vmas[] = { vma_pages (0, 4, 2, 0) };
  FakePagemap fake = { .bits = "0101" };
  g_autoptr (GArray) ranges = g_array_new (FALSE, FALSE, sizeof (MaRange));

  g_assert_cmpuint (select_ranges (vmas, 1, 100, &fake, ranges), ==, 2 * PAGE);
  g_assert_cmpuint (ranges->len, ==, 2);
}

static void
test_select_runs_are_clamped_to_the_mapping (void)
{
  /* A residency source that answers beyond the mapping must not widen it. */
  MaVma vmas[] = { vma_pages (2, 2, 2, 0) };
  FakePagemap fake = { .bits = "111111" };
  g_autoptr (GArray) ranges = g_array_new (FALSE, FALSE, sizeof (MaRange));

  g_assert_cmpuint (select_ranges (vmas, 1, 100, &fake, ranges), ==, 2 * PAGE);
  g_assert_cmphex (g_array_index (ranges, MaRange, 0).start, ==, BASE + 2 * PAGE);
}

/* Mappings placed back to back and planned one after the other are one
 * range: one iovec, one results entry. Touching runs planned apart, in
 * another order, stay apart. */
static void
test_select_joins_runs_that_touch (void)
{
  MaVma vmas[] = { vma_pages (0, 4, 4, 0), vma_pages (4, 4, 4, 0), vma_pages (12, 4, 4, 0) };
  FakePagemap fake = { .bits = "1111111100001111" };
  g_autoptr (GArray) ranges = g_array_new (FALSE, FALSE, sizeof (MaRange));
  g_autoptr (GError) error = NULL;
  guint order[] = { 1, 2, 0 };
  guint64 planned = 0;

  g_assert_cmpuint (select_ranges (vmas, 3, 100, &fake, ranges), ==, 12 * PAGE);
  g_assert_cmpuint (ranges->len, ==, 2);
  g_assert_cmphex (g_array_index (ranges, MaRange, 0).start, ==, BASE);
  g_assert_cmpuint (g_array_index (ranges, MaRange, 0).length, ==, 8 * PAGE);
  g_assert_cmpuint (g_array_index (ranges, MaRange, 0).resident, ==, 8 * PAGE);
  g_assert_cmphex (g_array_index (ranges, MaRange, 1).start, ==, BASE + 12 * PAGE);

  g_array_set_size (ranges, 0);
  g_assert_true (
      ma_plan_select (vmas, order, 3, 100, PAGE, fake_residency, &fake, ranges, &planned, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (planned, ==, 12 * PAGE);
  g_assert_cmpuint (ranges->len, ==, 3);
}

static void
test_select_zero_budget_reads_nothing (void)
{
  MaVma vmas[] = { vma_pages (0, 4, 4, 0) };
  FakePagemap fake = { .bits = "1111" };
  g_autoptr (GArray) ranges = g_array_new (FALSE, FALSE, sizeof (MaRange));

  g_assert_cmpuint (select_ranges (vmas, 1, 0, &fake, ranges), ==, 0);
  g_assert_cmpuint (ranges->len, ==, 0);
  g_assert_cmpuint (fake.calls, ==, 0);
}

static void
test_select_residency_error_is_reported (void)
{
  MaVma vmas[] = { vma_pages (0, 4, 4, 0) };
  FakePagemap fake = { .bits = "1111", .fail = TRUE };
  g_autoptr (GArray) ranges = g_array_new (FALSE, FALSE, sizeof (MaRange));
  g_autoptr (GError) error = NULL;
  guint order[] = { 0 };
  guint64 planned = 0;

  g_assert_false (
      ma_plan_select (vmas, order, 1, 4, PAGE, fake_residency, &fake, ranges, &planned, &error));
  g_assert_error (error, MA_ERROR, MA_ERROR_EXITED);
}

static void
test_rank_coldest_takes_least_referenced_share_first (void)
{
  MaVma vmas[] = {
    vma_pages (0, 100, 100, 50),   /* 50% referenced */
    vma_pages (200, 100, 10, 0),   /* 0%, small */
    vma_pages (400, 100, 100, 10), /* 10% */
    vma_pages (600, 100, 90, 0),   /* 0%, larger */
    vma_pages (800, 100, 20, 2),   /* 10%, smaller than the other 10% */
  };
  guint candidates[] = { 0, 1, 2, 3, 4 };
  guint order[5];

  ma_rank_vmas (vmas, candidates, 5, MA_ORDER_COLDEST, order);
  g_assert_cmpuint (order[0], ==, 3);
  g_assert_cmpuint (order[1], ==, 1);
  g_assert_cmpuint (order[2], ==, 2);
  g_assert_cmpuint (order[3], ==, 4);
  g_assert_cmpuint (order[4], ==, 0);
}

static void
test_rank_ties_are_broken_by_address (void)
{
  MaVma vmas[]
      = { vma_pages (300, 10, 10, 5), vma_pages (100, 10, 10, 5), vma_pages (200, 10, 10, 5) };
  guint candidates[] = { 0, 1, 2 };
  guint order[3];

  ma_rank_vmas (vmas, candidates, 3, MA_ORDER_COLDEST, order);
  g_assert_cmpuint (order[0], ==, 1);
  g_assert_cmpuint (order[1], ==, 2);
  g_assert_cmpuint (order[2], ==, 0);
}

static void
test_rank_address_order_ignores_coldness (void)
{
  MaVma vmas[]
      = { vma_pages (300, 10, 10, 0), vma_pages (100, 10, 10, 10), vma_pages (200, 10, 1, 0) };
  guint candidates[] = { 0, 1, 2 };
  guint order[3];

  ma_rank_vmas (vmas, candidates, 3, MA_ORDER_ADDRESS, order);
  g_assert_cmpuint (order[0], ==, 1);
  g_assert_cmpuint (order[1], ==, 2);
  g_assert_cmpuint (order[2], ==, 0);
}

static void
test_rank_only_candidates_are_ordered (void)
{
  MaVma vmas[]
      = { vma_pages (0, 10, 10, 0), vma_pages (100, 10, 10, 0), vma_pages (200, 10, 10, 0) };
  guint candidates[] = { 2, 0 };
  guint order[2];

  ma_rank_vmas (vmas, candidates, 2, MA_ORDER_COLDEST, order);
  g_assert_cmpuint (order[0], ==, 0);
  g_assert_cmpuint (order[1], ==, 2);
}

static void
test_runs_assign_clips_runs_to_candidates (void)
{
  /* Candidates at pages [0,4), [6,8) and [20,24); a run spanning the
   * first two (merged by the sweep across the gap's non-candidate mapping
   * [4,6)), one inside nothing, one straddling the last's start. */
  MaVma vmas[] = { vma_pages (0, 4, 0, 0), vma_pages (4, 2, 0, 0), vma_pages (6, 2, 0, 0),
                   vma_pages (20, 4, 0, 0) };
  guint candidates[] = { 0, 2, 3 };
  MaRange runs[] = {
    { BASE + 1 * PAGE, 7 * PAGE, 7 * PAGE },  /* pages 1..7 */
    { BASE + 10 * PAGE, 2 * PAGE, 2 * PAGE }, /* pages 10, 11: no candidate */
    { BASE + 18 * PAGE, 3 * PAGE, 3 * PAGE }, /* pages 18..20 */
  };
  g_autoptr (GArray) out = g_array_new (FALSE, FALSE, sizeof (MaRange));
  guint first[4];

  ma_runs_assign (runs, G_N_ELEMENTS (runs), vmas, candidates, 3, out, first);
  g_assert_cmpuint (out->len, ==, 3);
  g_assert_cmpuint (first[0], ==, 0);
  g_assert_cmpuint (first[1], ==, 1);
  g_assert_cmpuint (first[2], ==, 2);
  g_assert_cmpuint (first[3], ==, 3);
  g_assert_cmphex (g_array_index (out, MaRange, 0).start, ==, BASE + 1 * PAGE);
  g_assert_cmpuint (g_array_index (out, MaRange, 0).length, ==, 3 * PAGE);
  g_assert_cmphex (g_array_index (out, MaRange, 1).start, ==, BASE + 6 * PAGE);
  g_assert_cmpuint (g_array_index (out, MaRange, 1).length, ==, 2 * PAGE);
  g_assert_cmphex (g_array_index (out, MaRange, 2).start, ==, BASE + 20 * PAGE);
  g_assert_cmpuint (g_array_index (out, MaRange, 2).length, ==, PAGE);
}

static void
test_runs_assign_without_runs_gives_empty_candidates (void)
{
  MaVma vmas[] = { vma_pages (0, 4, 0, 0), vma_pages (8, 4, 0, 0) };
  guint candidates[] = { 0, 1 };
  g_autoptr (GArray) out = g_array_new (FALSE, FALSE, sizeof (MaRange));
  guint first[3];

  ma_runs_assign (NULL, 0, vmas, candidates, 2, out, first);
  g_assert_cmpuint (out->len, ==, 0);
  g_assert_cmpuint (first[0], ==, 0);
  g_assert_cmpuint (first[2], ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/plan/budget/percent-rounds-up-to-a-page",
                   test_budget_percent_rounds_up_to_a_page);
  g_test_add_func ("/plan/budget/percent-100-is-everything", test_budget_percent_100_is_everything);
  g_test_add_func ("/plan/budget/max-bytes-below-a-page-is-nothing",
                   test_budget_max_bytes_below_a_page_is_nothing);
  g_test_add_func ("/plan/budget/cap-above-eligible-is-eligible",
                   test_budget_cap_above_eligible_is_eligible);
  g_test_add_func ("/plan/budget/nothing-eligible-is-nothing",
                   test_budget_nothing_eligible_is_nothing);
  g_test_add_func ("/plan/budget/huge-counts-do-not-overflow",
                   test_budget_huge_counts_do_not_overflow);
  g_test_add_func ("/plan/select/cuts-last-run-at-page-boundary",
                   test_select_cuts_last_run_at_page_boundary);
  g_test_add_func ("/plan/select/skips-pages-not-resident", test_select_skips_pages_not_resident);
  g_test_add_func ("/plan/select/stops-reading-pagemap-once-budget-met",
                   test_select_stops_reading_pagemap_once_budget_met);
  g_test_add_func ("/plan/select/budget-above-resident-takes-all-resident",
                   test_select_budget_above_resident_takes_all_resident);
  g_test_add_func ("/plan/select/runs-are-clamped-to-the-mapping",
                   test_select_runs_are_clamped_to_the_mapping);
  g_test_add_func ("/plan/select/joins-runs-that-touch", test_select_joins_runs_that_touch);
  g_test_add_func ("/plan/select/zero-budget-reads-nothing", test_select_zero_budget_reads_nothing);
  g_test_add_func ("/plan/select/residency-error-is-reported",
                   test_select_residency_error_is_reported);
  g_test_add_func ("/plan/rank/coldest-takes-least-referenced-share-first",
                   test_rank_coldest_takes_least_referenced_share_first);
  g_test_add_func ("/plan/rank/ties-are-broken-by-address", test_rank_ties_are_broken_by_address);
  g_test_add_func ("/plan/rank/address-order-ignores-coldness",
                   test_rank_address_order_ignores_coldness);
  g_test_add_func ("/plan/rank/only-candidates-are-ordered", test_rank_only_candidates_are_ordered);

  g_test_add_func ("/plan/assign/clips-runs-to-candidates",
                   test_runs_assign_clips_runs_to_candidates);
  g_test_add_func ("/plan/assign/without-runs-gives-empty-candidates",
                   test_runs_assign_without_runs_gives_empty_candidates);

  return g_test_run ();
}
