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
      if (!residency (vma->start, vma->end, runs, residency_data, error))
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
          g_array_append_val (ranges_out, run);
          remaining -= run.length;
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
  g_free (plan);
}

MaPlan *
ma_target_plan (MaTarget *target, const MaPlanRequest *request, GError **error)
{
  g_autoptr (MaPlan) plan = NULL;
  g_autoptr (GArray) vmas = NULL;
  g_autoptr (MaPagemap) pagemap = NULL;
  g_autofree char *smaps = NULL;
  g_autofree guint *candidates = NULL;
  g_autofree guint *order = NULL;
  gsize page_size = ma_page_size ();
  gint64 t0 = g_get_monotonic_time ();
  guint64 swap_total = 0, swap_used = 0, budget;
  gsize len;
  guint i, n = 0;

  if (request->percent < 1 || request->percent > 100)
    {
      g_set_error (error, MA_ERROR, MA_ERROR_INVALID_ARGUMENT,
                   "Percent must be between 1 and 100, not %u.", request->percent);
      return NULL;
    }
  if (request->mode != MA_MODE_COLD && request->mode != MA_MODE_PAGEOUT)
    {
      g_set_error (error, MA_ERROR, MA_ERROR_INVALID_ARGUMENT, "Unknown mode %d.",
                   (int) request->mode);
      return NULL;
    }

  plan = g_new0 (MaPlan, 1);
  plan->mode = request->mode;
  plan->threads = request->mode == MA_MODE_COLD ? 1
                  : request->threads > 0        ? request->threads
                                                : MAX (g_get_num_processors (), 1);
  plan->ranges = g_array_new (FALSE, FALSE, sizeof (MaRange));
  plan->swap_configured = ma_probe_swap (&swap_total, &swap_used, NULL) && swap_total > 0;

  if (!ma_target_read_memstat (target, &plan->before, error))
    return NULL;

  smaps = ma_read_file_at (ma_target_get_proc_fd (target), "smaps", &len, error);
  if (smaps == NULL)
    return NULL;
  vmas = g_array_new (FALSE, FALSE, sizeof (MaVma));
  if (!ma_smaps_parse (smaps, len, vmas, error))
    {
      g_prefix_error (error, "smaps of process %d: ", (int) ma_target_get_pid (target));
      return NULL;
    }
  g_clear_pointer (&smaps, g_free);

  candidates = g_new (guint, MAX (vmas->len, 1));
  for (i = 0; i < vmas->len; i++)
    {
      const MaVma *vma = &g_array_index (vmas, MaVma, i);

      if (ma_vma_eligibility (vma) != MA_INELIGIBLE_NONE)
        continue;
      plan->n_eligible_vmas++;
      plan->eligible_bytes += vma->rss;
      if (vma->rss > 0)
        candidates[n++] = i;
    }
  plan->n_vmas = vmas->len;

  order = g_new (guint, MAX (n, 1));
  ma_rank_vmas ((const MaVma *) vmas->data, candidates, n, request->order, order);

  budget = ma_budget_pages (plan->eligible_bytes / page_size, request->percent, request->max_bytes,
                            page_size);
  if (budget > 0)
    {
      pagemap = ma_pagemap_open (ma_target_get_proc_fd (target), error);
      if (pagemap == NULL)
        return NULL;
      if (!ma_plan_select ((const MaVma *) vmas->data, order, n, budget, page_size,
                           ma_pagemap_resident_runs, pagemap, plan->ranges, &plan->planned_bytes,
                           error))
        return NULL;
    }

  /* What was read must still describe the process the pidfd holds. */
  if (!ma_target_check_alive (target, error))
    return NULL;

  plan->plan_usec = g_get_monotonic_time () - t0;
  return g_steal_pointer (&plan);
}
