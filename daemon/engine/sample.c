/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Access sampling by trapping, for a first contact with a process.
 *
 * One resident eligible page of every granule of address space (64 pages,
 * 256 KiB, or larger when the budget is small) is paged out with
 * MADV_PAGEOUT, and pagemap is read at once: the pages the kernel kept
 * (in use, or shared) are hot already. The plan made after the caller's
 * wait reads the residency of every candidate anyway: a sampled page
 * resident again came back, and marks its granule hot; one still out is
 * cold, and counts toward the budget (it is already paged out). A sampled
 * cold page costs nothing; a hot one costs one swap-in.
 *
 * Which page of a granule is sampled is a hash of the granule's address,
 * so that a pattern with a period (every 8th page hot) is not met at the
 * same offset everywhere.
 */
#include "config.h"

#include "ma-private.h"

/* Samples stay within a quarter of the budget. */
#define SAMPLE_SHARE_OF_BUDGET 4
#define GRANULE_PAGES 64
#define MAX_GRANULE_PAGES (G_GUINT64_CONSTANT (1) << 30)

struct _MaSample
{
  pid_t pid;
  guint64 start_time;
  gint64 started_usec;
  guint64 granule_pages;
  GArray *pages; /* guint64 addresses, ascending */
  GArray *left;  /* gboolean per page: not resident right after the advice */
  guint64 bytes;
};

void
ma_sample_free (MaSample *sample)
{
  if (sample == NULL)
    return;
  g_array_unref (sample->pages);
  g_array_unref (sample->left);
  g_free (sample);
}

gboolean
ma_sample_is_for (const MaSample *sample, MaTarget *target)
{
  return sample->pid == ma_target_get_pid (target)
         && sample->start_time == ma_target_get_start_time (target);
}

guint64
ma_sample_get_bytes (const MaSample *sample)
{
  return sample->bytes;
}

gint64
ma_sample_get_age_usec (const MaSample *sample)
{
  return g_get_monotonic_time () - sample->started_usec;
}

guint64
ma_sample_get_granule_pages (const MaSample *sample)
{
  return sample->granule_pages;
}

GArray *
ma_sample_runs (const MaSample *sample, gboolean left)
{
  GArray *runs = g_array_new (FALSE, FALSE, sizeof (MaRange));
  gsize page = ma_page_size ();

  for (guint i = 0; i < sample->pages->len; i++)
    if (g_array_index (sample->left, gboolean, i) == left)
      g_array_append_vals (runs,
                           &(MaRange){ g_array_index (sample->pages, guint64, i), page, page }, 1);
  ma_runs_normalize (runs);
  return runs;
}

static guint64
mix (guint64 x)
{
  x ^= x >> 33;
  x *= G_GUINT64_CONSTANT (0xff51afd7ed558ccd);
  x ^= x >> 33;
  return x;
}

/* One page of every granule that @runs (resident, normalized) touch. */
static void
pick_pages (const GArray *runs, guint64 granule_bytes, GArray *pages)
{
  gsize page = ma_page_size ();
  guint i = 0;

  while (i < runs->len)
    {
      guint64 granule = g_array_index (runs, MaRange, i).start / granule_bytes;
      guint64 g_start = granule * granule_bytes, g_end = g_start + granule_bytes;
      guint64 n_pages = 0, k;
      guint j;

      /* The resident pages of this granule, in the runs from i on. */
      for (j = i; j < runs->len && g_array_index (runs, MaRange, j).start < g_end; j++)
        {
          const MaRange *r = &g_array_index (runs, MaRange, j);
          n_pages += (MIN (r->start + r->length, g_end) - MAX (r->start, g_start)) / page;
        }
      k = mix (granule) % n_pages;
      for (j = i; j < runs->len; j++)
        {
          const MaRange *r = &g_array_index (runs, MaRange, j);
          guint64 lo = MAX (r->start, g_start), hi = MIN (r->start + r->length, g_end);

          if (k < (hi - lo) / page)
            {
              guint64 addr = lo + k * page;
              g_array_append_val (pages, addr);
              break;
            }
          k -= (hi - lo) / page;
        }
      /* On to the first run that reaches past this granule. */
      while (i < runs->len
             && g_array_index (runs, MaRange, i).start + g_array_index (runs, MaRange, i).length
                    <= g_end)
        i++;
      if (i < runs->len && g_array_index (runs, MaRange, i).start < g_end)
        {
          /* A run crossing into the next granule: continue from its part there. */
          MaRange *r = &g_array_index (runs, MaRange, i);
          guint64 cut = g_end - r->start;

          r->start += cut;
          r->length -= cut;
          r->resident = r->length;
        }
    }
}

MaSample *
ma_target_sample (MaTarget *target, const MaPlanRequest *request, GError **error)
{
  g_autoptr (MaSample) sample = g_new0 (MaSample, 1);
  MaPlanRequest all = {
    .mode = MA_MODE_PAGEOUT,
    .percent = 100,
    .order = MA_ORDER_ADDRESS,
    .threads = 1,
  };
  g_autoptr (MaPlan) everything = NULL;
  g_autoptr (MaPlan) advice = NULL;
  g_autoptr (GArray) runs = NULL;
  g_autoptr (GArray) present = NULL;
  g_autoptr (MaPagemap) pagemap = NULL;
  MaApplyResult result;
  gsize page = ma_page_size ();
  guint64 eligible_pages, budget, granule = GRANULE_PAGES;
  guint i, r;

  sample->pid = ma_target_get_pid (target);
  sample->start_time = ma_target_get_start_time (target);
  sample->started_usec = g_get_monotonic_time ();
  sample->pages = g_array_new (FALSE, FALSE, sizeof (guint64));
  sample->left = g_array_new (FALSE, FALSE, sizeof (gboolean));

  /* Every resident eligible page, by address: a plan of all of it. */
  everything = ma_target_plan (target, &all, error);
  if (everything == NULL)
    return NULL;
  eligible_pages = everything->eligible_bytes / page;
  budget = ma_budget_pages (eligible_pages, request->percent, request->max_bytes, page);
  if (budget / SAMPLE_SHARE_OF_BUDGET == 0)
    return g_steal_pointer (&sample);
  sample->granule_pages = granule;
  while (eligible_pages / sample->granule_pages + 1 > budget / SAMPLE_SHARE_OF_BUDGET
         && sample->granule_pages < MAX_GRANULE_PAGES)
    sample->granule_pages *= 2;

  runs = g_array_copy (everything->ranges);
  ma_runs_normalize (runs);
  pick_pages (runs, sample->granule_pages * page, sample->pages);
  /* Sparse memory touches more granules than its size says: thin the
   * sample out to its share of the budget. */
  if (sample->pages->len > budget / SAMPLE_SHARE_OF_BUDGET)
    {
      guint stride = (sample->pages->len + budget / SAMPLE_SHARE_OF_BUDGET - 1)
                     / (budget / SAMPLE_SHARE_OF_BUDGET);
      guint kept = 0;

      for (i = 0; i < sample->pages->len; i += stride)
        g_array_index (sample->pages, guint64, kept++) = g_array_index (sample->pages, guint64, i);
      g_array_set_size (sample->pages, kept);
    }
  if (sample->pages->len == 0)
    return g_steal_pointer (&sample);

  advice = g_new0 (MaPlan, 1);
  advice->mode = MA_MODE_PAGEOUT;
  advice->threads = 1;
  advice->ranges = g_array_sized_new (FALSE, FALSE, sizeof (MaRange), sample->pages->len);
  for (i = 0; i < sample->pages->len; i++)
    g_array_append_vals (advice->ranges,
                         &(MaRange){ g_array_index (sample->pages, guint64, i), page, page }, 1);
  advice->planned_bytes = (guint64) sample->pages->len * page;
  if (!ma_target_apply (target, advice, NULL, NULL, NULL, &result, error))
    return NULL;
  sample->bytes = result.advised_bytes;

  /* Which sampled pages left: one sweep over their span. */
  pagemap = ma_pagemap_open (ma_target_get_proc_fd (target), error);
  if (pagemap == NULL)
    return NULL;
  present = g_array_new (FALSE, FALSE, sizeof (MaRange));
  if (ma_pagemap_can_sweep (pagemap))
    {
      if (!ma_pagemap_resident_runs (pagemap, g_array_index (sample->pages, guint64, 0),
                                     g_array_index (sample->pages, guint64, sample->pages->len - 1)
                                         + page,
                                     present, error))
        return NULL;
    }
  else
    {
      /* pread reads every entry of a span, holes too: page by page. */
      for (i = 0; i < sample->pages->len; i++)
        {
          guint64 addr = g_array_index (sample->pages, guint64, i);

          if (!ma_pagemap_resident_runs (pagemap, addr, addr + page, present, error))
            return NULL;
        }
    }
  for (i = 0, r = 0; i < sample->pages->len; i++)
    {
      guint64 addr = g_array_index (sample->pages, guint64, i);
      gboolean left;

      while (r < present->len
             && g_array_index (present, MaRange, r).start
                        + g_array_index (present, MaRange, r).length
                    <= addr)
        r++;
      left = !(r < present->len && g_array_index (present, MaRange, r).start <= addr);
      g_array_append_val (sample->left, left);
    }
  return g_steal_pointer (&sample);
}
