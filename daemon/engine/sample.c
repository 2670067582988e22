/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Access sampling by trapping, during the min-idle wait of a pageout.
 *
 * At the start of the wait one resident eligible page of every granule of
 * address space (64 pages, 256 KiB, or larger when the budget is small) is
 * paged out with MADV_PAGEOUT, and pagemap is read at once: the pages the
 * kernel kept (in use, or shared) are hot already. Which page of a granule
 * is sampled is a hash of the granule's address, so that a pattern with a
 * period (every 8th page hot) is not met at the same offset everywhere.
 *
 * Halfway through the wait comes a trial: the budget itself, planned
 * coldest first by what is known then (the spread sample read back,
 * refault feedback, held pages), is paged out. A spread sample only ranks
 * granules; when hot pages are spread evenly (every 8th page of a large
 * buffer), every granule looks alike and only pages that were paged out
 * can tell hot from cold. A second trial halfway through what is left
 * tries the part of the budget that came back of the first (MA_TRIALS,
 * ma_trial_due_usec()). The plan at the end of the wait reads the
 * residency of every candidate anyway: a page of the sample or a trial
 * resident again came back and is hot, page by page; one still out is
 * cold and counts toward the budget (it is already paged out). The rest
 * of the budget is topped up from the coldest pages not known hot
 * (pieces.c). A cold page advised here costs nothing; a hot one costs one
 * swap-in during the wait (the plan's sampled_bytes).
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
  MaMemStat before; /* the process before anything was advised */
  guint64 granule_pages;
  GArray *pages;   /* guint64: the spread sample's pages, ascending */
  GArray *advised; /* normalized runs: every page the sample and its trials advised */
  GArray *kept;    /* normalized runs: those of them resident right after their advice */
  guint64 bytes;   /* bytes process_madvise accepted for them */
};

void
ma_sample_free (MaSample *sample)
{
  if (sample == NULL)
    return;
  g_array_unref (sample->pages);
  g_array_unref (sample->advised);
  g_array_unref (sample->kept);
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

const GArray *
ma_sample_get_pages (const MaSample *sample)
{
  return sample->pages;
}

const GArray *
ma_sample_get_advised (const MaSample *sample)
{
  return sample->advised;
}

const GArray *
ma_sample_get_kept (const MaSample *sample)
{
  return sample->kept;
}

const MaMemStat *
ma_sample_get_before (const MaSample *sample)
{
  return &sample->before;
}

/* Records pages advised to leave, @planned (normalized), as the kernel
 * left them. After a whole advice, those resident right after were kept
 * (in use) or came back at once: hot. After one cut short, only the pages
 * that left are known to have been advised, and without pagemap none is. */
static void
record_advice (MaSample *sample, MaTarget *target, const GArray *planned, gboolean whole)
{
  g_autoptr (GArray) present = ma_target_resident_within (target, planned, NULL);
  g_autoptr (GArray) advised = NULL;
  g_autoptr (GArray) kept = NULL;

  if (present == NULL && !whole)
    return;
  if (present == NULL)
    present = g_array_new (FALSE, FALSE, sizeof (MaRange));
  if (whole)
    {
      advised = ma_runs_union (sample->advised, planned);
      kept = ma_runs_union (sample->kept, present);
    }
  else
    {
      g_autoptr (GArray) left = ma_runs_subtract (planned, present);

      advised = ma_runs_union (sample->advised, left);
      kept = g_array_ref (sample->kept);
    }
  g_array_unref (sample->advised);
  sample->advised = g_steal_pointer (&advised);
  g_array_unref (sample->kept);
  sample->kept = g_steal_pointer (&kept);
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

/* A plan of single pages, one range each. */
static MaPlan *
plan_of_pages (const GArray *pages)
{
  MaPlan *plan = g_new0 (MaPlan, 1);
  gsize page = ma_page_size ();

  plan->mode = MA_MODE_PAGEOUT;
  plan->threads = 1;
  plan->ranges = g_array_sized_new (FALSE, FALSE, sizeof (MaRange), pages->len);
  for (guint i = 0; i < pages->len; i++)
    g_array_append_vals (plan->ranges, &(MaRange){ g_array_index (pages, guint64, i), page, page },
                         1);
  plan->planned_bytes = (guint64) pages->len * page;
  return plan;
}

/* Keeps every stride-th page so that at most @most are left. */
static void
thin_out (GArray *pages, guint64 most)
{
  guint stride = (pages->len + most - 1) / most;
  guint kept = 0;

  if (pages->len <= most)
    return;
  for (guint i = 0; i < pages->len; i += stride)
    g_array_index (pages, guint64, kept++) = g_array_index (pages, guint64, i);
  g_array_set_size (pages, kept);
}

MaSample *
ma_target_sample (MaTarget *target, const MaPlanRequest *request, GError **error)
{
  g_autoptr (MaSample) sample = g_new0 (MaSample, 1);
  /* Every resident eligible page but those held for coming back: they are
   * known hot, and sampling one would only cost a swap-in. */
  MaPlanRequest all = {
    .mode = MA_MODE_PAGEOUT,
    .percent = 100,
    .order = MA_ORDER_COLDEST,
    .threads = 1,
    .refaults = request->refaults,
    .hold_usec = request->hold_usec,
  };
  g_autoptr (MaPlan) everything = NULL;
  g_autoptr (MaPlan) advice = NULL;
  g_autoptr (GArray) runs = NULL;
  MaApplyResult result;
  gsize page = ma_page_size ();
  guint64 eligible_pages, most;

  sample->pid = ma_target_get_pid (target);
  sample->start_time = ma_target_get_start_time (target);
  sample->started_usec = g_get_monotonic_time ();
  sample->pages = g_array_new (FALSE, FALSE, sizeof (guint64));
  sample->advised = g_array_new (FALSE, FALSE, sizeof (MaRange));
  sample->kept = g_array_new (FALSE, FALSE, sizeof (MaRange));

  everything = ma_target_plan (target, &all, error);
  if (everything == NULL)
    return NULL;
  sample->before = everything->before;
  eligible_pages = everything->eligible_bytes / page;
  most = ma_budget_pages (eligible_pages, request->percent, request->max_bytes, page)
         / SAMPLE_SHARE_OF_BUDGET;
  if (most == 0)
    return g_steal_pointer (&sample);
  sample->granule_pages = GRANULE_PAGES;
  while (eligible_pages / sample->granule_pages + 1 > most
         && sample->granule_pages < MAX_GRANULE_PAGES)
    sample->granule_pages *= 2;

  runs = g_array_copy (everything->ranges);
  ma_runs_normalize (runs);
  pick_pages (runs, sample->granule_pages * page, sample->pages);
  /* Sparse memory touches more granules than its size says: thin the
   * sample out to its share of the budget. */
  thin_out (sample->pages, most);
  if (sample->pages->len == 0)
    return g_steal_pointer (&sample);

  advice = plan_of_pages (sample->pages);
  if (!ma_target_apply (target, advice, NULL, NULL, NULL, &result, error))
    return NULL;
  sample->bytes = result.advised_bytes;
  g_array_unref (runs);
  runs = g_array_copy (advice->ranges);
  ma_runs_normalize (runs);
  record_advice (sample, target, runs, TRUE);
  return g_steal_pointer (&sample);
}

gint64
ma_trial_due_usec (guint trial, gint64 wait_usec)
{
  return wait_usec - (wait_usec >> MIN (trial + 1, 62));
}

gboolean
ma_target_trial (MaTarget *target, const MaPlanRequest *request, MaSample *sample,
                 GCancellable *cancellable, MaPlan **out_plan, MaApplyResult *out, GError **error)
{
  MaPlanRequest with_sample = *request;
  g_autoptr (GArray) planned = NULL;
  g_autoptr (GError) local_error = NULL;
  MaPlan *plan;
  gboolean whole;

  *out = (MaApplyResult){ 0 };
  *out_plan = NULL;
  g_return_val_if_fail (ma_sample_is_for (sample, target), FALSE);
  with_sample.mode = MA_MODE_PAGEOUT;
  with_sample.sample = sample;
  plan = ma_target_plan (target, &with_sample, error);
  if (plan == NULL)
    return FALSE;
  *out_plan = plan;
  whole = ma_target_apply (target, plan, cancellable, NULL, NULL, out, &local_error);
  sample->bytes += out->advised_bytes;
  planned = g_array_copy (plan->ranges);
  ma_runs_normalize (planned);
  /* What left is known also when the advice stopped early, unless the
   * target is gone. */
  if (whole || !g_error_matches (local_error, MA_ERROR, MA_ERROR_EXITED))
    record_advice (sample, target, planned, whole);
  if (whole)
    return TRUE;
  g_propagate_error (error, g_steal_pointer (&local_error));
  return FALSE;
}
