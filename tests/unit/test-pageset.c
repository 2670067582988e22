/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Unit tests of page runs and of the compact page sets that hold what
 * memadvised paged out and what came back (pageset.c).
 */
#include "config.h"

#include "ma-parse.h"

#define PAGE ((guint64) ma_page_size ())

static GArray *
runs_of (const guint64 *pairs, guint n) /* (first page, pages) pairs */
{
  GArray *runs = g_array_new (FALSE, FALSE, sizeof (MaRange));

  for (guint i = 0; i < n; i++)
    g_array_append_vals (
        runs, &(MaRange){ pairs[2 * i] * PAGE, pairs[2 * i + 1] * PAGE, pairs[2 * i + 1] * PAGE },
        1);
  ma_runs_normalize (runs);
  return runs;
}

static void
assert_runs (const GArray *runs, const guint64 *pairs, guint n)
{
  g_assert_cmpuint (runs->len, ==, n);
  for (guint i = 0; i < n; i++)
    {
      g_assert_cmpuint (g_array_index (runs, MaRange, i).start, ==, pairs[2 * i] * PAGE);
      g_assert_cmpuint (g_array_index (runs, MaRange, i).length, ==, pairs[2 * i + 1] * PAGE);
    }
}

static void
test_normalize_sorts_and_merges (void)
{
  const guint64 in[] = { 10, 5, 0, 2, 2, 3, 12, 10, 40, 0 };
  const guint64 want[] = { 0, 5, 10, 12 };
  g_autoptr (GArray) runs = runs_of (in, 5);

  assert_runs (runs, want, 2);
}

static void
test_algebra (void)
{
  const guint64 a_pairs[] = { 0, 10, 20, 10 };
  const guint64 b_pairs[] = { 5, 20 };
  const guint64 and_want[] = { 5, 5, 20, 5 };
  const guint64 or_want[] = { 0, 30 };
  const guint64 minus_want[] = { 0, 5, 25, 5 };
  g_autoptr (GArray) a = runs_of (a_pairs, 2);
  g_autoptr (GArray) b = runs_of (b_pairs, 1);
  g_autoptr (GArray) and = ma_runs_intersect (a, b);
  g_autoptr (GArray) or = ma_runs_union (a, b);
  g_autoptr (GArray) minus = ma_runs_subtract (a, b);
  g_autoptr (GArray) empty = g_array_new (FALSE, FALSE, sizeof (MaRange));
  g_autoptr (GArray) none = ma_runs_intersect (a, empty);
  g_autoptr (GArray) same = ma_runs_subtract (a, empty);

  assert_runs (and, and_want, 2);
  assert_runs (or, or_want, 1);
  assert_runs (minus, minus_want, 2);
  g_assert_cmpuint (none->len, ==, 0);
  assert_runs (same, a_pairs, 2);
  g_assert_cmpuint (ma_runs_bytes (a), ==, 20 * PAGE);
}

static void
test_set_is_exact_when_it_fits (void)
{
  /* A long run (whole words and partial ones) and scattered pages. */
  const guint64 pairs[] = { 3, 1000, 5000, 1, 5002, 1, 5004, 1, 70000, 64 };
  g_autoptr (GArray) runs = runs_of (pairs, 5);
  g_autoptr (MaPageSet) set = ma_page_set_new (runs, 4096, MA_PAGE_SET_FORGET);
  g_autoptr (GArray) back = ma_page_set_to_runs (set);

  g_assert_cmpuint (ma_page_set_get_shift (set), ==, 0);
  assert_runs (back, pairs, 5);
  g_assert_cmpuint (ma_page_set_get_bytes (set), ==, 1067 * PAGE);
  /* The long run is a few entries, not one per page. */
  g_assert_cmpuint (ma_page_set_get_size (set), <=, 256);
}

static void
test_a_contiguous_gigabyte_is_small (void)
{
  const guint64 pairs[] = { 1 << 20, (1 << 30) / 4096 };
  g_autoptr (GArray) runs = runs_of (pairs, 1);
  g_autoptr (MaPageSet) set = ma_page_set_new (runs, 64, MA_PAGE_SET_FORGET);

  g_assert_cmpuint (ma_page_set_get_size (set), <=, 64);
  g_assert_cmpuint (ma_page_set_get_bytes (set), ==, G_GUINT64_CONSTANT (1) << 30);
}

/* Every 8th page in, over @n pages: a pattern no cap of a few KiB holds. */
static GArray *
interleaved (guint64 n)
{
  GArray *runs = g_array_new (FALSE, FALSE, sizeof (MaRange));

  for (guint64 p = 0; p < n; p += 8)
    g_array_append_vals (runs, &(MaRange){ (p + 1) * PAGE, 7 * PAGE, 7 * PAGE }, 1);
  ma_runs_normalize (runs);
  return runs;
}

static void
test_forget_keeps_a_subset_within_the_cap (void)
{
  g_autoptr (GArray) runs = interleaved (1 << 16);
  g_autoptr (MaPageSet) set = ma_page_set_new (runs, 2048, MA_PAGE_SET_FORGET);
  g_autoptr (GArray) back = ma_page_set_to_runs (set);
  g_autoptr (GArray) extra = ma_runs_subtract (back, runs);

  g_assert_cmpuint (ma_page_set_get_size (set), <=, 2048);
  g_assert_cmpuint (ma_page_set_get_shift (set), >, 0);
  g_assert_cmpuint (extra->len, ==, 0); /* never claims a page it did not have */
  g_assert_cmpuint (ma_page_set_get_bytes (set), ==, ma_runs_bytes (back));
}

static void
test_widen_keeps_a_superset_within_the_cap (void)
{
  g_autoptr (GArray) runs = interleaved (1 << 16);
  g_autoptr (MaPageSet) set = ma_page_set_new (runs, 2048, MA_PAGE_SET_WIDEN);
  g_autoptr (GArray) back = ma_page_set_to_runs (set);
  g_autoptr (GArray) missed = ma_runs_subtract (runs, back);

  g_assert_cmpuint (ma_page_set_get_size (set), <=, 2048);
  g_assert_cmpuint (missed->len, ==, 0); /* never misses a page it had */
  g_assert_cmpuint (ma_page_set_get_bytes (set), >=, ma_runs_bytes (runs));
}

static void
test_empty_set (void)
{
  g_autoptr (GArray) runs = g_array_new (FALSE, FALSE, sizeof (MaRange));
  g_autoptr (MaPageSet) set = ma_page_set_new (runs, 64, MA_PAGE_SET_WIDEN);
  g_autoptr (GArray) back = ma_page_set_to_runs (set);

  g_assert_cmpuint (back->len, ==, 0);
  g_assert_cmpuint (ma_page_set_get_bytes (set), ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/pageset/normalize-sorts-and-merges", test_normalize_sorts_and_merges);
  g_test_add_func ("/pageset/algebra", test_algebra);
  g_test_add_func ("/pageset/set-is-exact-when-it-fits", test_set_is_exact_when_it_fits);
  g_test_add_func ("/pageset/a-contiguous-gigabyte-is-small", test_a_contiguous_gigabyte_is_small);
  g_test_add_func ("/pageset/forget-keeps-a-subset-within-the-cap",
                   test_forget_keeps_a_subset_within_the_cap);
  g_test_add_func ("/pageset/widen-keeps-a-superset-within-the-cap",
                   test_widen_keeps_a_superset_within_the_cap);
  g_test_add_func ("/pageset/empty-set", test_empty_set);

  return g_test_run ();
}
