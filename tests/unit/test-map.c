/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * A plan's map (map.c): the mappings of a recorded process (tests/fixtures
 * /mixed.smaps) counted by reason, and the cells of its eligible mappings
 * drawn from runs of pages standing in for pagemap, the refault knowledge
 * and the plan.
 */
#include "config.h"

#include <string.h>

#include "ma-parse.h"

#define PAGE 4096u
/* The fixture's plain anonymous mapping, 64 pages: 128 KiB were touched,
 * then 64 KiB of them paged out (Rss 64 kB, Swap 64 kB). */
#define ANON 0x7feefc631000ull

static GArray *
load_fixture (const char *name)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "fixtures", name, NULL);
  g_autofree char *text = NULL;
  g_autoptr (GError) error = NULL;
  GArray *vmas = g_array_new (FALSE, FALSE, sizeof (MaVma));
  gsize len;

  g_assert_true (g_file_get_contents (path, &text, &len, &error));
  g_assert_true (ma_smaps_parse (text, len, vmas, &error));
  g_assert_no_error (error);
  return vmas;
}

/* Runs from pairs of page numbers (first, count) from @base. */
static GArray *
runs_of (guint64 base, const guint *pairs, guint n_pairs)
{
  GArray *runs = g_array_new (FALSE, FALSE, sizeof (MaRange));

  for (guint i = 0; i < n_pairs; i++)
    {
      guint64 start = base + (guint64) pairs[2 * i] * PAGE;
      guint64 length = (guint64) pairs[2 * i + 1] * PAGE;

      g_array_append_vals (runs, &(MaRange){ start, length, length }, 1);
    }
  ma_runs_normalize (runs);
  return runs;
}

static GArray *
no_runs (void)
{
  return g_array_new (FALSE, FALSE, sizeof (MaRange));
}

/* The cells of a drawn mapping as the letters memadvisectl prints. */
static char *
cells_text (const MaMapMapping *m)
{
  static const char letters[] = ".s+#rP";
  char *text = g_malloc0 (m->n_cells + 1);

  for (guint k = 0; k < m->n_cells; k++)
    text[k] = letters[m->cells[k]];
  return text;
}

static const MaMapMapping *
mapping_at (const MaMap *map, guint64 start)
{
  for (guint i = 0; i < map->mappings->len; i++)
    if (g_array_index (map->mappings, MaMapMapping, i).start == start)
      return &g_array_index (map->mappings, MaMapMapping, i);
  g_error ("no drawn mapping at %" G_GINT64_MODIFIER "x", start);
}

typedef struct
{
  GArray *resident, *swapped, *planned, *hot, *came_back;
} Pages;

static void
pages_clear (Pages *p)
{
  g_clear_pointer (&p->resident, g_array_unref);
  g_clear_pointer (&p->swapped, g_array_unref);
  g_clear_pointer (&p->planned, g_array_unref);
  g_clear_pointer (&p->hot, g_array_unref);
  g_clear_pointer (&p->came_back, g_array_unref);
}

static MaMap *
build (const GArray *vmas, const Pages *p, gboolean referenced, guint max_mappings)
{
  MaMapInput in = {
    .vmas = (const MaVma *) vmas->data,
    .n_vmas = vmas->len,
    .resident = p->resident,
    .swapped = p->swapped,
    .planned = p->planned,
    .hot = p->hot,
    .came_back = p->came_back,
    .referenced = referenced,
    .max_mappings = max_mappings,
  };

  return ma_map_build (&in);
}

/* Everything but the eligible mappings, counted and sized by reason, as
 * tests/fixtures/README.md lists them; the reasons in the engine's order. */
static void
test_map_ineligible_by_reason_of_recorded_process (void)
{
  g_autoptr (GArray) vmas = load_fixture ("mixed.smaps");
  Pages p = { no_runs (), no_runs (), no_runs (), no_runs (), no_runs () };
  g_autoptr (MaMap) map = build (vmas, &p, FALSE, 1024);
  const struct
  {
    const char *reason;
    guint count;
    guint64 bytes;
  } expect[] = {
    /* The program, hugetlb, two read-only files, SysV shm, memfd twice,
     * shared anonymous twice, libc, ld.so. */
    { "file-backed", 23,
      0x5000 + 0x200000 + 0x4000 + 0x4000 + 0x10000 + 0x10000 + 0x10000 + 0x10000 + 0x20000
          + 0x1d5000 + 0x35000 },
    /* [vvar], [vvar_vclock], [vdso], [stack], [vsyscall]. */
    { "special", 5, 0x4000 + 0x2000 + 0x2000 + 0x21000 + 0x1000 },
    /* A PROT_NONE guard, three thread stack guards, read-only anonymous. */
    { "not-read-write", 5, 0x4000 + 3 * 0x1000 + 0x8000 },
    { "executable", 1, 0x10000 },
    { "locked", 1, 0x10000 },
  };

  g_assert_cmpuint (map->n_eligible, ==, 9);
  g_assert_cmpuint (map->mappings->len, ==, 9);
  g_assert_cmpuint (map->ineligible->len, ==, G_N_ELEMENTS (expect));
  for (guint i = 0; i < G_N_ELEMENTS (expect); i++)
    {
      const MaMapIneligible *got = &g_array_index (map->ineligible, MaMapIneligible, i);

      g_assert_cmpstr (got->reason, ==, expect[i].reason);
      g_assert_cmpuint (got->count, ==, expect[i].count);
      g_assert_cmphex (got->bytes, ==, expect[i].bytes);
    }
  pages_clear (&p);
}

/* One cell a page below MA_MAP_MAX_CELLS pages: what pagemap would say of
 * the fixture's mapping (16 pages resident, the 16 after them in swap) with
 * the first 8 planned. */
static void
test_map_small_mapping_one_cell_a_page (void)
{
  g_autoptr (GArray) vmas = load_fixture ("mixed.smaps");
  Pages p = { runs_of (ANON, (guint[]){ 0, 16 }, 1), runs_of (ANON, (guint[]){ 16, 16 }, 1),
              runs_of (ANON, (guint[]){ 0, 8 }, 1), no_runs (), no_runs () };
  g_autoptr (MaMap) map = build (vmas, &p, FALSE, 1024);
  g_autofree char *text = cells_text (mapping_at (map, ANON));

  g_assert_cmpstr (text, ==, "PPPPPPPP++++++++ssssssssssssssss................................");
  pages_clear (&p);
}

/* Planned over came back over hot over cold; hot and came back only where
 * resident; a planned page out of memory (the sample's) is planned. */
static void
test_map_precedence_of_states (void)
{
  g_autoptr (GArray) vmas = load_fixture ("mixed.smaps");
  Pages p = {
    runs_of (ANON, (guint[]){ 0, 12 }, 1),
    runs_of (ANON, (guint[]){ 12, 4 }, 1),
    runs_of (ANON, (guint[]){ 0, 2, 14, 1 }, 2),
    runs_of (ANON, (guint[]){ 1, 4, 8, 2, 20, 4 }, 3),
    runs_of (ANON, (guint[]){ 1, 2, 9, 4, 24, 2 }, 3),
  };
  g_autoptr (MaMap) map = build (vmas, &p, FALSE, 1024);
  g_autofree char *text = cells_text (mapping_at (map, ANON));

  g_assert_cmpstr (text, ==, "PPr##+++#rrrssPs................................................");
  pages_clear (&p);
}

static MaVma
anon_vma (guint64 start, guint64 pages, guint64 rss, guint64 referenced)
{
  return (MaVma){
    .start = start,
    .end = start + pages * PAGE,
    .perms = MA_PERM_READ | MA_PERM_WRITE,
    .vmflags = MA_VMF_RD | MA_VMF_WR,
    .has_vmflags = TRUE,
    .has_counters = TRUE,
    .rss = rss,
    .referenced = referenced,
  };
}

static void
append_vma (GArray *vmas, MaVma vma)
{
  g_array_append_val (vmas, vma);
}

/* 1024 pages: cells of 4. A cell is what most of its pages are; a tie
 * goes to the higher state. */
static void
test_map_cells_by_majority_ties_to_higher (void)
{
  g_autoptr (GArray) vmas = g_array_new (FALSE, FALSE, sizeof (MaVma));
  const guint64 base = 0x7f0000000000;
  Pages p = {
    /* Cell 0: 2 of 4 resident; 1: 1 of 4; 2: 3 of 4, one of them hot;
     * 3: 2 resident, 2 swapped. */
    runs_of (base, (guint[]){ 0, 2, 4, 1, 8, 3, 12, 2 }, 4),
    runs_of (base, (guint[]){ 14, 2 }, 1),
    no_runs (),
    runs_of (base, (guint[]){ 9, 1 }, 1),
    no_runs (),
  };
  g_autoptr (MaMap) map = NULL;
  const MaMapMapping *m;

  append_vma (vmas, anon_vma (base, 1024, 10 * PAGE, 0));
  map = build (vmas, &p, FALSE, 1024);
  m = mapping_at (map, base);
  g_assert_cmpuint (m->n_cells, ==, MA_MAP_MAX_CELLS);
  g_assert_cmpuint (m->cells[0], ==, MA_MAP_COLD);
  g_assert_cmpuint (m->cells[1], ==, MA_MAP_ABSENT);
  g_assert_cmpuint (m->cells[2], ==, MA_MAP_COLD);
  g_assert_cmpuint (m->cells[3], ==, MA_MAP_COLD);
  for (guint k = 4; k < m->n_cells; k++)
    g_assert_cmpuint (m->cells[k], ==, MA_MAP_ABSENT);
  pages_clear (&p);
}

/* Accesses known per mapping: the share referenced of its resident pages
 * is hot where nothing finer says, in each cell; only with an
 * observation. 3 of 4 referenced makes a cell of resident pages hot, 1 of
 * 4 leaves it cold. */
static void
test_map_referenced_share_of_a_mapping (void)
{
  g_autoptr (GArray) vmas = g_array_new (FALSE, FALSE, sizeof (MaVma));
  const guint64 a = 0x7f0000000000, b = 0x7f0010000000;
  const guint sizes[] = { 8, 1024 };

  for (guint i = 0; i < G_N_ELEMENTS (sizes); i++)
    {
      guint n = sizes[i];
      Pages p = {
        runs_of (a, (guint[]){ 0, n, 0x10000, n }, 2),
        no_runs (),
        no_runs (),
        no_runs (),
        no_runs (),
      };
      g_autoptr (MaMap) with = NULL;
      g_autoptr (MaMap) without = NULL;

      g_array_set_size (vmas, 0);
      append_vma (vmas, anon_vma (a, n, n * PAGE, n / 4 * 3 * PAGE));
      append_vma (vmas, anon_vma (b, n, n * PAGE, n / 4 * PAGE));
      with = build (vmas, &p, TRUE, 1024);
      without = build (vmas, &p, FALSE, 1024);
      g_assert_cmpuint (mapping_at (with, a)->n_cells, ==, MIN (n, MA_MAP_MAX_CELLS));
      for (guint k = 0; k < mapping_at (with, a)->n_cells; k++)
        {
          g_assert_cmpuint (mapping_at (with, a)->cells[k], ==, MA_MAP_HOT);
          g_assert_cmpuint (mapping_at (with, b)->cells[k], ==, MA_MAP_COLD);
          g_assert_cmpuint (mapping_at (without, a)->cells[k], ==, MA_MAP_COLD);
        }
      pages_clear (&p);
    }
}

/* A terabyte reserved with one resident run: counted by runs, at once. */
static void
test_map_huge_sparse_mapping_by_runs (void)
{
  g_autoptr (GArray) vmas = g_array_new (FALSE, FALSE, sizeof (MaVma));
  const guint64 base = 0x7e0000000000, pages = (1ull << 40) / PAGE;
  /* The middle cell, wholly resident. */
  guint64 cell = pages / MA_MAP_MAX_CELLS;
  Pages p = {
    runs_of (base, (guint[]){ (guint) (128 * cell), (guint) cell }, 1),
    no_runs (),
    no_runs (),
    no_runs (),
    no_runs (),
  };
  g_autoptr (MaMap) map = NULL;
  const MaMapMapping *m;
  gint64 t0 = g_get_monotonic_time ();

  append_vma (vmas, anon_vma (base, pages, cell * PAGE, 0));
  map = build (vmas, &p, FALSE, 1024);
  m = mapping_at (map, base);
  for (guint k = 0; k < m->n_cells; k++)
    g_assert_cmpuint (m->cells[k], ==, k == 128 ? MA_MAP_COLD : MA_MAP_ABSENT);
  /* Not page by page: 2^28 pages would take seconds. */
  g_assert_cmpint (g_get_monotonic_time () - t0, <, G_USEC_PER_SEC / 10);
  pages_clear (&p);
}

/* At most max_mappings are drawn, the first by address; every eligible
 * one is counted. */
static void
test_map_draws_the_first_mappings_counts_all (void)
{
  g_autoptr (GArray) vmas = load_fixture ("mixed.smaps");
  Pages p = { no_runs (), no_runs (), no_runs (), no_runs (), no_runs () };
  g_autoptr (MaMap) three = build (vmas, &p, FALSE, 3);
  g_autoptr (MaMap) none = build (vmas, &p, FALSE, 0);

  g_assert_cmpuint (three->n_eligible, ==, 9);
  g_assert_cmpuint (three->mappings->len, ==, 3);
  g_assert_cmphex (g_array_index (three->mappings, MaMapMapping, 0).start, ==, 0x555a70acf000);
  g_assert_cmphex (g_array_index (three->mappings, MaMapMapping, 1).start, ==, 0x7feefc5a5000);
  g_assert_cmphex (g_array_index (three->mappings, MaMapMapping, 2).start, ==, ANON);
  g_assert_cmpuint (none->n_eligible, ==, 9);
  g_assert_cmpuint (none->mappings->len, ==, 0);
  g_assert_cmpuint (none->ineligible->len, ==, 5);
  pages_clear (&p);
}

/* The fixture's mapping planned with its first 16 pages advised, then drawn
 * again as pagemap has it after a pageout that left 4 of them in memory:
 * advised pages in swap are in swap, those kept advised; hot, came back
 * and cold as the plan knew them, of the pages resident now; the counts of
 * the mappings the plan's. */
static void
test_map_redraw_after_the_advice (void)
{
  g_autoptr (GArray) vmas = load_fixture ("mixed.smaps");
  Pages p = {
    runs_of (ANON, (guint[]){ 0, 32 }, 1), runs_of (ANON, (guint[]){ 40, 8 }, 1),
    runs_of (ANON, (guint[]){ 0, 16 }, 1), runs_of (ANON, (guint[]){ 20, 2 }, 1),
    runs_of (ANON, (guint[]){ 24, 2 }, 1),
  };
  g_autoptr (MaMap) before = build (vmas, &p, FALSE, 1024);
  g_autoptr (GArray) resident = runs_of (ANON, (guint[]){ 12, 20 }, 1);
  g_autoptr (GArray) swapped = runs_of (ANON, (guint[]){ 0, 12, 40, 8 }, 2);
  g_autoptr (MaMapBasis) basis = g_new0 (MaMapBasis, 1);
  g_autoptr (MaMap) after = NULL;
  g_autofree char *text_before = NULL;
  g_autofree char *text_after = NULL;

  basis->vmas = g_array_new (FALSE, FALSE, sizeof (MaVma));
  for (guint i = 0; i < vmas->len; i++)
    if (g_array_index (vmas, MaVma, i).start == ANON)
      g_array_append_vals (basis->vmas, &g_array_index (vmas, MaVma, i), 1);
  g_assert_cmpuint (basis->vmas->len, ==, 1);
  basis->advised = g_array_copy (p.planned);
  basis->hot = g_array_copy (p.hot);
  basis->out = runs_of (ANON, (guint[]){ 24, 2, 50, 2 }, 2);
  after = ma_map_redraw (before, basis, resident, swapped);

  text_before = cells_text (mapping_at (before, ANON));
  g_assert_cmpstr (text_before, ==,
                   "PPPPPPPPPPPPPPPP++++##++rr++++++........ssssssss................");
  text_after = cells_text (mapping_at (after, ANON));
  g_assert_cmpstr (text_after, ==,
                   "ssssssssssssPPPP++++##++rr++++++........ssssssss................");
  g_assert_cmpuint (after->mappings->len, ==, 1);
  g_assert_cmpuint (after->n_eligible, ==, before->n_eligible);
  g_assert_cmpuint (after->n_eligible, ==, 9);
  g_assert_cmpuint (after->ineligible->len, ==, before->ineligible->len);
  for (guint i = 0; i < after->ineligible->len; i++)
    {
      const MaMapIneligible *a = &g_array_index (after->ineligible, MaMapIneligible, i);
      const MaMapIneligible *b = &g_array_index (before->ineligible, MaMapIneligible, i);

      g_assert_cmpstr (a->reason, ==, b->reason);
      g_assert_cmpuint (a->count, ==, b->count);
      g_assert_cmpuint (a->bytes, ==, b->bytes);
    }
  pages_clear (&p);
}

/* Advised pages that left memory and are not in swap either (dropped, or
 * the mapping unmapped since) are not present; of a mapping of 1024
 * pages, cells of 4 by majority as before. */
static void
test_map_redraw_advised_gone_is_not_present (void)
{
  g_autoptr (GArray) vmas = g_array_new (FALSE, FALSE, sizeof (MaVma));
  const guint64 base = 0x7f0000000000;
  Pages p = {
    runs_of (base, (guint[]){ 0, 1024 }, 1),
    no_runs (),
    runs_of (base, (guint[]){ 0, 512 }, 1),
    no_runs (),
    no_runs (),
  };
  g_autoptr (MaMap) before = NULL;
  g_autoptr (MaMap) after = NULL;
  g_autoptr (MaMapBasis) basis = g_new0 (MaMapBasis, 1);
  /* Of the advised half: 256 pages in swap, 2 of each 4 of the next 128
   * pages resident (a tie, to advised), 128 gone; the rest untouched. */
  g_autoptr (GArray) swapped = runs_of (base, (guint[]){ 0, 256 }, 1);
  g_autoptr (GArray) resident = g_array_new (FALSE, FALSE, sizeof (MaRange));
  const MaMapMapping *m;

  append_vma (vmas, anon_vma (base, 1024, 1024 * PAGE, 0));
  before = build (vmas, &p, FALSE, 1024);
  for (guint k = 256; k < 384; k += 4)
    ma_runs_append (resident, base + (guint64) k * PAGE, base + (guint64) (k + 2) * PAGE);
  ma_runs_append (resident, base + 512ull * PAGE, base + 1024ull * PAGE);
  basis->vmas = g_array_copy (vmas);
  basis->advised = g_array_copy (p.planned);
  basis->hot = no_runs ();
  basis->out = no_runs ();
  after = ma_map_redraw (before, basis, resident, swapped);
  m = mapping_at (after, base);
  g_assert_cmpuint (m->n_cells, ==, MA_MAP_MAX_CELLS);
  for (guint k = 0; k < m->n_cells; k++)
    g_assert_cmpuint (m->cells[k], ==,
                      k < 64    ? MA_MAP_SWAPPED
                      : k < 96  ? MA_MAP_PLANNED
                      : k < 128 ? MA_MAP_ABSENT
                                : MA_MAP_COLD);
  pages_clear (&p);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/map/ineligible-by-reason-of-recorded-process",
                   test_map_ineligible_by_reason_of_recorded_process);
  g_test_add_func ("/map/small-mapping-one-cell-a-page", test_map_small_mapping_one_cell_a_page);
  g_test_add_func ("/map/precedence-of-states", test_map_precedence_of_states);
  g_test_add_func ("/map/cells-by-majority-ties-to-higher",
                   test_map_cells_by_majority_ties_to_higher);
  g_test_add_func ("/map/referenced-share-of-a-mapping", test_map_referenced_share_of_a_mapping);
  g_test_add_func ("/map/huge-sparse-mapping-by-runs", test_map_huge_sparse_mapping_by_runs);
  g_test_add_func ("/map/redraw-after-the-advice", test_map_redraw_after_the_advice);
  g_test_add_func ("/map/redraw-advised-gone-is-not-present",
                   test_map_redraw_advised_gone_is_not_present);
  g_test_add_func ("/map/draws-the-first-mappings-counts-all",
                   test_map_draws_the_first_mappings_counts_all);
  return g_test_run ();
}
