/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Planning: which resident pages of a target to advise.
 *
 * The budget is a percent of the target's resident eligible bytes (smaps
 * Rss of eligible mappings), capped by max-bytes, counted in whole pages.
 * Mappings are taken in rank order; within a mapping, runs of resident pages
 * (pagemap) in address order, the last run cut at a page boundary so that
 * the plan's resident bytes are exactly the budget. Pages in swap or never
 * touched are not resident and are never part of a range.
 */
#include "config.h"

#include "ma-private.h"

void
ma_runs_assign (const MaRange *runs, guint n_runs, const MaVma *vmas, const guint *candidates,
                guint n, GArray *out, guint *first)
{
  guint r = 0, i;

  for (i = 0; i < n; i++)
    {
      const MaVma *vma = &vmas[candidates[i]];

      first[i] = out->len;
      /* Runs wholly before this mapping belong to nothing we advise. */
      while (r < n_runs && runs[r].start + runs[r].length <= vma->start)
        r++;
      for (guint k = r; k < n_runs && runs[k].start < vma->end; k++)
        {
          guint64 start = MAX (runs[k].start, vma->start);
          guint64 end = MIN (runs[k].start + runs[k].length, vma->end);

          g_array_append_vals (out, &(MaRange){ start, end - start, end - start }, 1);
        }
    }
  first[n] = out->len;
}

guint64
ma_budget_pages (guint64 eligible_pages, guint percent, guint64 max_bytes, gsize page_size)
{
  guint64 pages;

  percent = MIN (percent, 100);
  /* ceil (eligible * percent / 100) without overflow for any page count. */
  pages = eligible_pages / 100 * percent + ((eligible_pages % 100) * percent + 99) / 100;
  if (max_bytes > 0)
    pages = MIN (pages, max_bytes / page_size);
  return pages;
}

gboolean
ma_plan_select (const MaVma *vmas, const guint *order, guint n, guint64 budget_pages,
                gsize page_size, MaResidencyFunc residency, gpointer residency_data,
                GArray *ranges_out, guint64 *out_planned, GError **error)
{
  g_autoptr (GArray) runs = g_array_new (FALSE, FALSE, sizeof (MaRange));
  guint64 remaining = budget_pages * page_size;
  guint i, j;

  for (i = 0; i < n && remaining > 0; i++)
    {
      const MaVma *vma = &vmas[order[i]];

      g_array_set_size (runs, 0);
      if (!residency (order[i], vma->start, vma->end, runs, residency_data, error))
        return FALSE;

      for (j = 0; j < runs->len && remaining > 0; j++)
        {
          MaRange run = g_array_index (runs, MaRange, j);

          /* Residency sources answer in whole pages; clamp to the mapping. */
          run.start = MAX (run.start, vma->start);
          if (run.start >= MIN (run.start + run.length, vma->end))
            continue;
          run.length = MIN (run.start + run.length, vma->end) - run.start;
          run.length = MIN (run.length, remaining);
          run.resident = run.length;
          remaining -= run.length;
          /* Runs that touch (mappings placed back to back, planned one
           * after the other) go to the kernel, and into the results, as
           * one range. */
          if (ranges_out->len > 0)
            {
              MaRange *last = &g_array_index (ranges_out, MaRange, ranges_out->len - 1);

              if (last->start + last->length == run.start)
                {
                  last->length += run.length;
                  last->resident += run.length;
                  continue;
                }
            }
          g_array_append_val (ranges_out, run);
        }
    }

  *out_planned = budget_pages * page_size - remaining;
  return TRUE;
}

void
ma_plan_free (MaPlan *plan)
{
  if (plan == NULL)
    return;
  g_clear_pointer (&plan->ranges, g_array_unref);
  g_clear_pointer (&plan->learnt, ma_plan_learnt_free);
  g_clear_pointer (&plan->map, ma_map_free);
  g_clear_pointer (&plan->map_basis, ma_map_basis_free);
  g_free (plan);
}

/* Resident runs of every candidate, read once from pagemap. */
typedef struct
{
  const MaVma *vmas;
  const guint *candidates; /* address order */
  guint n;
  GArray *runs;
  guint *first;  /* n + 1 entries, as ma_runs_assign() fills them */
  guint *of_vma; /* candidate position of each mapping */
} RunCache;

static guint
cache_find (const RunCache *cache, guint64 addr)
{
  guint lo = 0, hi = cache->n;

  /* The last candidate starting at or below @addr. */
  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;

      if (cache->vmas[cache->candidates[mid]].start <= addr)
        lo = mid + 1;
      else
        hi = mid;
    }
  return lo > 0 ? lo - 1 : G_MAXUINT;
}

/* A MaResidencyFunc answering from the cache. */
static gboolean
cached_runs (guint vma_index, guint64 start, guint64 end, GArray *runs, gpointer user_data,
             GError **error)
{
  RunCache *cache = user_data;
  guint i = cache->of_vma[vma_index];

  g_array_append_vals (runs, &g_array_index (cache->runs, MaRange, cache->first[i]),
                       cache->first[i + 1] - cache->first[i]);
  return TRUE;
}

/* Candidates per span when a whole file was read first: enough that a
 * sweep's fixed cost is nothing beside it, few enough to share out. */
#define SPAN_CANDIDATES 4096

/* Reads the resident runs of every candidate into @cache. */
static gboolean
read_residency (MaTarget *target, RunCache *cache, GError **error)
{
  g_autoptr (GArray) some = g_array_new (FALSE, FALSE, sizeof (MaRange));
  g_autoptr (MaPagemap) pagemap = NULL;
  const MaVma *vmas = cache->vmas;
  guint i;

  if (cache->n == 0)
    {
      cache->first[0] = 0;
      return TRUE;
    }
  pagemap = ma_pagemap_open (ma_target_get_proc_fd (target), error);
  if (pagemap == NULL)
    return FALSE;

  /* Sweeps span after span of candidates, from the first candidate to the
   * end of the last: the kernel walks only what is mapped. */
  if (ma_pagemap_can_sweep (pagemap))
    {
      g_autoptr (MaSweeper) sweeper = ma_sweeper_new (ma_target_get_proc_fd (target), pagemap);

      for (i = 0; i < cache->n; i += SPAN_CANDIDATES)
        {
          guint last = MIN (i + SPAN_CANDIDATES, cache->n) - 1;

          ma_sweeper_add (sweeper, vmas[cache->candidates[i]].start,
                          vmas[cache->candidates[last]].end, last + 1 < cache->n);
        }
      if (!ma_sweeper_finish (sweeper, some, error))
        return FALSE;
      ma_runs_assign ((const MaRange *) some->data, some->len, vmas, cache->candidates, cache->n,
                      cache->runs, cache->first);
      return TRUE;
    }

  for (i = 0; i < cache->n; i++)
    {
      const MaVma *vma = &vmas[cache->candidates[i]];

      g_array_set_size (some, 0);
      if (!ma_pagemap_resident_runs (pagemap, vma->start, vma->end, some, error))
        return FALSE;
      cache->first[i] = cache->runs->len;
      g_array_append_vals (cache->runs, some->data, some->len);
    }
  cache->first[cache->n] = cache->runs->len;
  return TRUE;
}

/* maps says nothing of VmFlags. It is read instead of smaps only when
 * status says nothing is locked (VmLck: 0). Hugetlb mappings are
 * file-backed there (/anon_hugepage or a hugetlbfs path), and VM_IO and
 * VM_PFNMAP come from device files or the kernel's own bracketed mappings,
 * none of which is eligible. Should a mapping be locked after status was
 * read, the kernel refuses the advice (EINVAL) and apply skips it. */
static void
flags_from_maps (GArray *vmas, guint from)
{
  guint i;

  for (i = from; i < vmas->len; i++)
    {
      MaVma *vma = &g_array_index (vmas, MaVma, i);

      vma->vmflags = ((vma->perms & MA_PERM_READ) ? MA_VMF_RD : 0)
                     | ((vma->perms & MA_PERM_WRITE) ? MA_VMF_WR : 0)
                     | ((vma->perms & MA_PERM_EXEC) ? MA_VMF_EX : 0)
                     | ((vma->perms & MA_PERM_SHARED) ? MA_VMF_SH : 0);
      vma->has_vmflags = TRUE;
    }
}

/* Appends the positions of the eligible mappings among vmas[from..]. */
static void
add_candidates (const GArray *vmas, guint from, GArray *candidates)
{
  guint i;

  for (i = from; i < vmas->len; i++)
    if (ma_vma_eligibility (&g_array_index (vmas, MaVma, i)) == MA_INELIGIBLE_NONE)
      g_array_append_val (candidates, i);
}

/* maps is read this much at a time (about 5,000 mappings). */
#define MAPS_CHUNK (256 * 1024)

/* Planning from maps while it is read: see read_maps_sweeping(). */
typedef struct
{
  MaTarget *target;
  GArray *vmas;
  GArray *candidates;
  MaPagemap *pagemap;
  MaSweeper *sweeper;
} MapsSweep;

/* A MaLinesFunc: parses a piece of maps and hands its candidates to a
 * sweep of pagemap at once. */
static gboolean
sweep_maps_piece (const char *buf, gsize len, gboolean more_likely, gpointer user_data,
                  GError **error)
{
  MapsSweep *ms = user_data;
  int proc_fd = ma_target_get_proc_fd (ms->target);
  guint from_vma = ms->vmas->len, from_candidate = ms->candidates->len;

  if (!ma_smaps_parse (buf, len, ms->vmas, error))
    {
      g_prefix_error (error, "maps of process %d: ", (int) ma_target_get_pid (ms->target));
      return FALSE;
    }
  flags_from_maps (ms->vmas, from_vma);
  add_candidates (ms->vmas, from_vma, ms->candidates);
  if (ms->candidates->len == from_candidate)
    return TRUE;

  if (ms->sweeper == NULL)
    {
      ms->pagemap = ma_pagemap_open (proc_fd, error);
      if (ms->pagemap == NULL)
        return FALSE;
      ms->sweeper = ma_sweeper_new (proc_fd, ms->pagemap);
    }
  /* More is likely to come: a helper may start on this span now. */
  ma_sweeper_add (
      ms->sweeper,
      g_array_index (ms->vmas, MaVma, g_array_index (ms->candidates, guint, from_candidate)).start,
      g_array_index (ms->vmas, MaVma,
                     g_array_index (ms->candidates, guint, ms->candidates->len - 1))
          .end,
      more_likely);
  return TRUE;
}

/* Reads maps a chunk at a time. The candidates of each chunk go to a
 * sweep of pagemap at once, so that the kernel walks their page tables
 * while the rest of maps is read and parsed; @swept gets the runs of all. */
static gboolean
read_maps_sweeping (MaTarget *target, GArray *vmas, GArray *candidates, GArray *swept,
                    GError **error)
{
  MapsSweep ms = { target, vmas, candidates, NULL, NULL };
  gboolean ok;

  ok = ma_read_lines_at (ma_target_get_proc_fd (target), "maps", MAPS_CHUNK, sweep_maps_piece, &ms,
                         error)
       && (ms.sweeper == NULL || ma_sweeper_finish (ms.sweeper, swept, error));
  g_clear_pointer (&ms.sweeper, ma_sweeper_free);
  g_clear_pointer (&ms.pagemap, ma_pagemap_free);
  return ok;
}

static gboolean
check_request (const MaPlanRequest *request, GError **error)
{
  if (request->percent < 1 || request->percent > 100)
    {
      g_set_error (error, MA_ERROR, MA_ERROR_INVALID_ARGUMENT,
                   "Percent must be between 1 and 100, not %u.", request->percent);
      return FALSE;
    }
  if (request->mode != MA_MODE_COLD && request->mode != MA_MODE_PAGEOUT)
    {
      g_set_error (error, MA_ERROR, MA_ERROR_INVALID_ARGUMENT, "Unknown mode %d.",
                   (int) request->mode);
      return FALSE;
    }
  if (request->order != MA_ORDER_COLDEST && request->order != MA_ORDER_ADDRESS)
    {
      g_set_error (error, MA_ERROR, MA_ERROR_INVALID_ARGUMENT, "Unknown order %d.",
                   (int) request->order);
      return FALSE;
    }
  return TRUE;
}

/* @request without what it knows of another process (a reused pid): that
 * is no knowledge. Order address uses none. */
static MaPlanRequest
own_request (const MaPlanRequest *request, MaTarget *target)
{
  MaPlanRequest mine = *request;

  if (mine.order != MA_ORDER_COLDEST
      || (mine.observation != NULL && !ma_observation_is_for (mine.observation, target)))
    mine.observation = NULL;
  if (mine.order != MA_ORDER_COLDEST
      || (mine.refaults != NULL && !ma_refaults_is_for (mine.refaults, target)))
    mine.refaults = NULL;
  if (mine.order != MA_ORDER_COLDEST
      || (mine.sample != NULL && !ma_sample_is_for (mine.sample, target)))
    mine.sample = NULL;
  return mine;
}

/* The mappings, the candidates among them (in address order) and their
 * resident runs: cache->first[i] .. first[i + 1] are candidate i's. */
static gboolean
read_mappings (MaTarget *target, gboolean smaps, GArray *vmas, GArray *candidates, GArray *runs,
               guint **first, GError **error)
{
  const char *file = smaps ? "smaps" : "maps";
  g_autofree char *text = NULL;
  RunCache cache;
  gsize len;

  if (!smaps && ma_probe_pagemap_scan ())
    {
      g_autoptr (GArray) swept = g_array_new (FALSE, FALSE, sizeof (MaRange));

      if (!read_maps_sweeping (target, vmas, candidates, swept, error))
        return FALSE;
      *first = g_new (guint, candidates->len + 1);
      ma_runs_assign ((const MaRange *) swept->data, swept->len, (const MaVma *) vmas->data,
                      (const guint *) candidates->data, candidates->len, runs, *first);
      return TRUE;
    }

  text = ma_read_file_at (ma_target_get_proc_fd (target), file, &len, error);
  if (text == NULL)
    return FALSE;
  if (!ma_smaps_parse (text, len, vmas, error))
    {
      g_prefix_error (error, "%s of process %d: ", file, (int) ma_target_get_pid (target));
      return FALSE;
    }
  if (!smaps)
    flags_from_maps (vmas, 0);
  /* The kernel lists mappings in address order, so candidates are too. */
  add_candidates (vmas, 0, candidates);
  *first = g_new (guint, candidates->len + 1);
  cache = (RunCache){
    (const MaVma *) vmas->data,
    (const guint *) candidates->data,
    candidates->len,
    runs,
    *first,
    NULL,
  };
  return read_residency (target, &cache, error);
}

/* Pages of one mapping told apart (refaults, a sample): planned piece by
 * piece, ties in the mappings' rank @order. */
static gboolean
plan_pieces (MaPlan *plan, const MaPlanRequest *request, const RunCache *cache, const guint *order,
             guint n_ranked, GError **error)
{
  g_autoptr (GArray) resident = g_array_copy (cache->runs);
  g_autofree guint *rank = g_new0 (guint, MAX (cache->n, 1));
  MaPagesInput in = { cache->vmas, cache->candidates, cache->n, rank, resident };

  ma_runs_normalize (resident);
  for (guint i = 0; i < n_ranked; i++)
    rank[cache->of_vma[order[i]]] = i;
  if (!ma_plan_pages (plan, request, &in, error))
    return FALSE;
  /* Knowledge that holds no page (all of it forgotten) told nothing. */
  if (request->sample == NULL && ma_refaults_get_out_bytes (request->refaults) == 0
      && ma_refaults_get_hot_bytes (request->refaults) == 0)
    plan->coldness_source
        = request->observation != NULL ? MA_COLDNESS_REFERENCED : MA_COLDNESS_NONE;
  return TRUE;
}

/* Pages of a mapping nobody referenced since the observation began are
 * known idle for its age; of the rest, only the mapping's share is known.
 * An observation younger than a second knows nothing yet: "idle for 0 s"
 * is not idle. */
static void
count_idle (MaPlan *plan, const MaObservation *observation, const RunCache *cache)
{
  if (observation != NULL && ma_observation_get_age_usec (observation) < G_USEC_PER_SEC)
    observation = NULL;
  for (guint i = 0; observation != NULL && i < plan->ranges->len; i++)
    {
      const MaRange *range = &g_array_index (plan->ranges, MaRange, i);
      guint c = cache_find (cache, range->start);

      if (c != G_MAXUINT && cache->vmas[cache->candidates[c]].referenced == 0)
        plan->idle_bytes += range->resident;
    }
  plan->idle_usec = observation != NULL ? ma_observation_get_age_usec (observation) : 0;
  plan->unknown_age_bytes = plan->planned_bytes - plan->idle_bytes;
}

static MaPlan *
plan_new (const MaPlanRequest *request)
{
  MaPlan *plan = g_new0 (MaPlan, 1);
  guint64 swap_total = 0, swap_used = 0;

  plan->mode = request->mode;
  plan->threads = request->mode == MA_MODE_COLD ? 1
                  : request->threads > 0        ? request->threads
                                                : MAX (g_get_num_processors (), 1);
  plan->ranges = g_array_new (FALSE, FALSE, sizeof (MaRange));
  plan->swap_configured = ma_probe_swap (&swap_total, &swap_used, NULL) && swap_total > 0;
  return plan;
}

MaPlan *
ma_target_plan (MaTarget *target, const MaPlanRequest *request, GError **error)
{
  g_autoptr (MaPlan) plan = NULL;
  g_autoptr (GArray) vmas = g_array_new (FALSE, FALSE, sizeof (MaVma));
  g_autoptr (GArray) runs = g_array_new (FALSE, FALSE, sizeof (MaRange));
  g_autoptr (GArray) candidates = g_array_new (FALSE, FALSE, sizeof (guint));
  g_autofree guint *ranked = NULL;
  g_autofree guint *order = NULL;
  g_autofree guint *first = NULL;
  g_autofree guint *of_vma = NULL;
  MaPlanRequest mine;
  gsize page_size = ma_page_size ();
  gint64 t0 = g_get_monotonic_time ();
  RunCache cache;
  MaStatus status;
  guint i, n, n_ranked = 0;

  if (!check_request (request, error))
    return NULL;
  mine = own_request (request, target);
  request = &mine;
  plan = plan_new (request);
  if (!ma_target_read_status (target, &status, error))
    return NULL;
  /* With a sample: the process as it was before the sample advised anything. */
  plan->before = request->sample != NULL ? *ma_sample_get_before (request->sample) : status.mem;

  /* smaps costs a walk of every page of every mapping in the kernel; it is
   * read only when its VmFlags (something is locked) or its Referenced
   * counts (an observation ranks the mappings) are needed. */
  plan->read_smaps = status.vm_lck > 0 || request->observation != NULL;
  if (!read_mappings (target, plan->read_smaps, vmas, candidates, runs, &first, error))
    return NULL;
  n = candidates->len;
  plan->n_vmas = vmas->len;
  plan->n_eligible_vmas = n;
  of_vma = g_new (guint, MAX (vmas->len, 1));
  for (i = 0; i < n; i++)
    of_vma[g_array_index (candidates, guint, i)] = i;
  cache = (RunCache){
    (const MaVma *) vmas->data, (const guint *) candidates->data, n, runs, first, of_vma
  };

  /* Resident bytes are pagemap's count, whichever file was read. */
  ranked = g_new (guint, MAX (n, 1));
  for (i = 0; i < n; i++)
    {
      MaVma *vma = &g_array_index (vmas, MaVma, g_array_index (candidates, guint, i));

      vma->rss = 0;
      for (guint k = first[i]; k < first[i + 1]; k++)
        vma->rss += g_array_index (runs, MaRange, k).length;
      plan->eligible_bytes += vma->rss;
      if (vma->rss > 0)
        ranked[n_ranked++] = g_array_index (candidates, guint, i);
    }
  order = g_new (guint, MAX (n_ranked, 1));
  ma_rank_vmas ((const MaVma *) vmas->data, ranked, n_ranked, request->order, order);

  plan->coldness_source = request->observation != NULL ? MA_COLDNESS_REFERENCED : MA_COLDNESS_NONE;
  if (request->refaults != NULL || request->sample != NULL)
    {
      if (!plan_pieces (plan, request, &cache, order, n_ranked, error))
        return NULL;
    }
  else if (!ma_plan_select ((const MaVma *) vmas->data, order, n_ranked,
                            ma_budget_pages (plan->eligible_bytes / page_size, request->percent,
                                             request->max_bytes, page_size),
                            page_size, cached_runs, &cache, plan->ranges, &plan->planned_bytes,
                            error))
    return NULL;
  count_idle (plan, request->observation, &cache);
  if (request->map && !ma_plan_add_map (plan, target, request, vmas, runs, error))
    return NULL;

  /* What was read must still describe the process the pidfd holds. */
  if (!ma_target_check_alive (target, error))
    return NULL;
  plan->plan_usec = g_get_monotonic_time () - t0;
  return g_steal_pointer (&plan);
}
