/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * A plan's map of its target: for each eligible mapping a row of cells,
 * each an equal share of the mapping in whole pages, saying what most of
 * its pages are (MaMapState); and the other mappings counted by reason.
 * After the advice, the same mappings drawn again from pagemap as it is
 * then (ma_target_redraw_map()).
 *
 * It is drawn from what the plan read anyway (the mappings, their
 * resident pages, the refault knowledge and the sample) and one more read
 * of pagemap, for the pages in swap. Every count is of runs of pages, never
 * page by page, so a mapping of a terabyte with little in it costs what
 * its runs cost.
 */
#include "config.h"

#include "ma-private.h"

__extension__ typedef unsigned __int128 ma_map_u128;

#define N_STATES (MA_MAP_PLANNED + 1)

void
ma_map_free (MaMap *map)
{
  if (map == NULL)
    return;
  g_clear_pointer (&map->mappings, g_array_unref);
  g_clear_pointer (&map->ineligible, g_array_unref);
  g_free (map);
}

/* Each state's pages, none in two: a page is in the highest state that
 * holds for it (MaMapState). ABSENT is what is left, and has no list. */
typedef struct
{
  GArray *pages[N_STATES];
  guint cursor[N_STATES];
} States;

/* Adds @runs less what is @taken as @state, and takes them. */
static void
take (States *st, MaMapState state, const GArray *runs, GArray **taken)
{
  GArray *more;

  st->pages[state] = ma_runs_subtract (runs, *taken);
  more = ma_runs_union (*taken, st->pages[state]);
  g_array_unref (*taken);
  *taken = more;
}

static void
states_init (States *st, const MaMapInput *in)
{
  GArray *taken = g_array_new (FALSE, FALSE, sizeof (MaRange));
  g_autoptr (GArray) back = ma_runs_intersect (in->came_back, in->resident);
  g_autoptr (GArray) hot = ma_runs_intersect (in->hot, in->resident);

  *st = (States){ 0 };
  take (st, MA_MAP_PLANNED, in->planned, &taken);
  take (st, MA_MAP_CAME_BACK, back, &taken);
  take (st, MA_MAP_HOT, hot, &taken);
  take (st, MA_MAP_COLD, in->resident, &taken);
  take (st, MA_MAP_SWAPPED, in->swapped, &taken);
  g_array_unref (taken);
}

static void
states_clear (States *st)
{
  for (guint s = 0; s < N_STATES; s++)
    g_clear_pointer (&st->pages[s], g_array_unref);
}

/* Bytes of @runs within [start, end); calls come in increasing @start. */
static guint64
bytes_within (const GArray *runs, guint *cursor, guint64 start, guint64 end)
{
  guint64 sum = 0;

  while (*cursor < runs->len
         && g_array_index (runs, MaRange, *cursor).start
                    + g_array_index (runs, MaRange, *cursor).length
                <= start)
    (*cursor)++;
  for (guint i = *cursor; i < runs->len && g_array_index (runs, MaRange, i).start < end; i++)
    {
      const MaRange *r = &g_array_index (runs, MaRange, i);

      sum += MIN (end, r->start + r->length) - MAX (start, r->start);
    }
  return sum;
}

/* The state of most bytes, ties to the higher state. */
static guint8
majority (const guint64 *bytes)
{
  guint best = MA_MAP_ABSENT;

  for (guint s = 1; s < N_STATES; s++)
    if (bytes[s] >= bytes[best])
      best = s;
  return (guint8) best;
}

static guint8
cell_state (States *st, const MaVma *vma, gboolean referenced, guint64 start, guint64 end)
{
  guint64 bytes[N_STATES] = { 0 };
  guint64 known = 0;

  for (guint s = MA_MAP_SWAPPED; s < N_STATES; s++)
    {
      bytes[s] = bytes_within (st->pages[s], &st->cursor[s], start, end);
      known += bytes[s];
    }
  /* Accesses known per mapping only: its referenced share of the pages
   * not known otherwise. */
  if (referenced && vma->rss > 0 && vma->referenced > 0)
    {
      guint64 share = (guint64) ((ma_map_u128) bytes[MA_MAP_COLD] * MIN (vma->referenced, vma->rss)
                                 / vma->rss);

      bytes[MA_MAP_COLD] -= share;
      bytes[MA_MAP_HOT] += share;
    }
  bytes[MA_MAP_ABSENT] = (end - start) - MIN (known, end - start);
  return majority (bytes);
}

static void
draw_mapping (States *st, const MaVma *vma, gboolean referenced, MaMapMapping *out)
{
  gsize page = ma_page_size ();
  guint64 pages = (vma->end - vma->start) / page;

  out->start = vma->start;
  out->end = vma->end;
  out->n_cells = (guint) MIN (pages, MA_MAP_MAX_CELLS);
  for (guint k = 0; k < out->n_cells; k++)
    {
      guint64 start = vma->start + pages * k / out->n_cells * page;
      guint64 end = vma->start + pages * (k + 1) / out->n_cells * page;

      out->cells[k] = cell_state (st, vma, referenced, start, end);
    }
}

static void
add_ineligible (MaMap *map, const guint *count, const guint64 *bytes)
{
  for (guint r = MA_INELIGIBLE_NONE + 1; r <= MA_INELIGIBLE_NO_VMFLAGS; r++)
    if (count[r] > 0)
      g_array_append_vals (map->ineligible,
                           &(MaMapIneligible){ ma_ineligible_to_string (r), count[r], bytes[r] },
                           1);
}

MaMap *
ma_map_build (const MaMapInput *in)
{
  MaMap *map = g_new0 (MaMap, 1);
  guint count[MA_INELIGIBLE_NO_VMFLAGS + 1] = { 0 };
  guint64 bytes[MA_INELIGIBLE_NO_VMFLAGS + 1] = { 0 };
  States st;

  map->mappings = g_array_new (FALSE, TRUE, sizeof (MaMapMapping));
  map->ineligible = g_array_new (FALSE, FALSE, sizeof (MaMapIneligible));
  states_init (&st, in);
  for (guint i = 0; i < in->n_vmas; i++)
    {
      const MaVma *vma = &in->vmas[i];
      MaIneligible reason = ma_vma_eligibility (vma);

      if (reason != MA_INELIGIBLE_NONE)
        {
          count[reason]++;
          bytes[reason] += vma->end - vma->start;
          continue;
        }
      map->n_eligible++;
      if (map->mappings->len >= in->max_mappings || vma->end <= vma->start)
        continue;
      g_array_set_size (map->mappings, map->mappings->len + 1);
      draw_mapping (&st, vma, in->referenced,
                    &g_array_index (map->mappings, MaMapMapping, map->mappings->len - 1));
    }
  add_ineligible (map, count, bytes);
  states_clear (&st);
  return map;
}

void
ma_map_basis_free (MaMapBasis *basis)
{
  if (basis == NULL)
    return;
  g_clear_pointer (&basis->vmas, g_array_unref);
  g_clear_pointer (&basis->advised, g_array_unref);
  g_clear_pointer (&basis->hot, g_array_unref);
  g_clear_pointer (&basis->out, g_array_unref);
  g_free (basis);
}

MaMap *
ma_map_redraw (const MaMap *before, const MaMapBasis *basis, const GArray *resident,
               const GArray *swapped)
{
  /* Advised is what was advised and is still in memory: what left is in
   * swap or not present, as any page is. */
  g_autoptr (GArray) advised = ma_runs_intersect (basis->advised, resident);
  g_autoptr (GArray) came_back = ma_runs_intersect (basis->out, resident);
  MaMapInput in = {
    .vmas = (const MaVma *) basis->vmas->data,
    .n_vmas = basis->vmas->len,
    .resident = resident,
    .swapped = swapped,
    .planned = advised,
    .hot = basis->hot,
    .came_back = came_back,
    .referenced = basis->referenced,
    .max_mappings = basis->vmas->len,
  };
  MaMap *map = ma_map_build (&in);

  /* The same mappings, each eligible: the counts of all are the plan's. */
  map->n_eligible = before->n_eligible;
  g_array_set_size (map->ineligible, 0);
  g_array_append_vals (map->ineligible, before->ineligible->data, before->ineligible->len);
  return map;
}

/* The eligible mappings a map of @vmas draws, as ma_map_build() picks them. */
static GArray *
drawn_vmas (const GArray *vmas, guint max_mappings)
{
  GArray *drawn = g_array_new (FALSE, FALSE, sizeof (MaVma));

  for (guint i = 0; i < vmas->len && drawn->len < max_mappings; i++)
    {
      const MaVma *vma = &g_array_index (vmas, MaVma, i);

      if (ma_vma_eligibility (vma) == MA_INELIGIBLE_NONE && vma->end > vma->start)
        g_array_append_val (drawn, *vma);
    }
  return drawn;
}

/* Pages in swap of the eligible mappings the map draws. */
static GArray *
read_swapped (MaTarget *target, const GArray *vmas, guint max_mappings, GError **error)
{
  g_autoptr (GArray) swapped = g_array_new (FALSE, FALSE, sizeof (MaRange));
  g_autoptr (MaPagemap) pagemap = NULL;
  guint drawn = 0;

  for (guint i = 0; i < vmas->len && drawn < max_mappings; i++)
    {
      const MaVma *vma = &g_array_index (vmas, MaVma, i);

      if (ma_vma_eligibility (vma) != MA_INELIGIBLE_NONE)
        continue;
      if (pagemap == NULL)
        pagemap = ma_pagemap_open (ma_target_get_proc_fd (target), error);
      if (pagemap == NULL
          || !ma_pagemap_swapped_runs (pagemap, vma->start, vma->end, swapped, error))
        return NULL;
      drawn++;
    }
  ma_runs_normalize (swapped);
  return g_steal_pointer (&swapped);
}

/* The plan's ranges, and the pages of this call's sample and trials still
 * out: they are part of what the call reclaims. */
static GArray *
planned_pages (const MaPlan *plan, const MaPlanRequest *request, const GArray *resident)
{
  GArray *planned = g_array_copy (plan->ranges);
  g_autoptr (GArray) left = NULL;
  g_autoptr (GArray) out = NULL;
  GArray *all;

  ma_runs_normalize (planned);
  if (request->sample == NULL)
    return planned;
  left = ma_runs_subtract (ma_sample_get_advised (request->sample),
                           ma_sample_get_kept (request->sample));
  out = ma_runs_subtract (left, resident);
  all = ma_runs_union (planned, out);
  g_array_unref (planned);
  return all;
}

gboolean
ma_plan_add_map (MaPlan *plan, MaTarget *target, const MaPlanRequest *request, const GArray *vmas,
                 const GArray *runs, GError **error)
{
  g_autoptr (GArray) resident = g_array_copy ((GArray *) runs);
  g_autoptr (GArray) swapped = NULL;
  g_autoptr (GArray) planned = NULL;
  g_autoptr (GArray) hot = NULL;
  g_autoptr (GArray) out = NULL;
  g_autoptr (GArray) came_back = NULL;
  const MaObservation *observation = request->observation;
  MaMapInput in;

  ma_runs_normalize (resident);
  swapped = read_swapped (target, vmas, request->map_mappings, error);
  if (swapped == NULL)
    return FALSE;
  planned = planned_pages (plan, request, resident);
  /* What the plan learnt is hot: earlier knowledge and what it found now. */
  hot = plan->learnt != NULL ? g_array_copy (plan->learnt->hot)
                             : g_array_new (FALSE, FALSE, sizeof (MaRange));
  out = request->refaults != NULL ? ma_refaults_out_runs (request->refaults)
                                  : g_array_new (FALSE, FALSE, sizeof (MaRange));
  came_back = ma_runs_intersect (out, resident);
  /* As count_idle() (plan.c): a younger observation knows nothing yet. */
  in = (MaMapInput){
    .vmas = (const MaVma *) vmas->data,
    .n_vmas = vmas->len,
    .resident = resident,
    .swapped = swapped,
    .planned = planned,
    .hot = hot,
    .came_back = came_back,
    .referenced
    = observation != NULL && ma_observation_get_age_usec (observation) >= G_USEC_PER_SEC,
    .max_mappings = request->map_mappings,
  };
  plan->map = ma_map_build (&in);
  plan->map_basis = g_new0 (MaMapBasis, 1);
  *plan->map_basis = (MaMapBasis){
    .vmas = drawn_vmas (vmas, request->map_mappings),
    .advised = g_steal_pointer (&planned),
    .hot = g_steal_pointer (&hot),
    .out = g_steal_pointer (&out),
    .referenced = in.referenced,
  };
  return TRUE;
}

/* Resident pages and pages in swap of @vmas, from one open of pagemap. */
static gboolean
read_pages (MaTarget *target, const GArray *vmas, GArray *resident, GArray *swapped, GError **error)
{
  g_autoptr (MaPagemap) pagemap = NULL;

  if (vmas->len == 0)
    return TRUE;
  pagemap = ma_pagemap_open (ma_target_get_proc_fd (target), error);
  if (pagemap == NULL)
    return FALSE;
  for (guint i = 0; i < vmas->len; i++)
    {
      const MaVma *vma = &g_array_index (vmas, MaVma, i);

      if (!ma_pagemap_resident_runs (pagemap, vma->start, vma->end, resident, error)
          || !ma_pagemap_swapped_runs (pagemap, vma->start, vma->end, swapped, error))
        return FALSE;
    }
  ma_runs_normalize (resident);
  ma_runs_normalize (swapped);
  return TRUE;
}

gboolean
ma_target_redraw_map (MaTarget *target, MaPlan *plan, GError **error)
{
  g_autoptr (GArray) resident = g_array_new (FALSE, FALSE, sizeof (MaRange));
  g_autoptr (GArray) swapped = g_array_new (FALSE, FALSE, sizeof (MaRange));
  MaMap *map;

  if (plan->map == NULL || plan->map_basis == NULL)
    return TRUE;
  /* What was read must describe the process the pidfd holds. */
  if (!read_pages (target, plan->map_basis->vmas, resident, swapped, error)
      || !ma_target_check_alive (target, error))
    {
      g_clear_pointer (&plan->map, ma_map_free);
      return FALSE;
    }
  map = ma_map_redraw (plan->map, plan->map_basis, resident, swapped);
  ma_map_free (plan->map);
  plan->map = map;
  return TRUE;
}
