/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Planning page by page, when something tells the pages of one mapping
 * apart: refault feedback (refault.c) and access sampling (sample.c).
 *
 * The target's resident eligible pages are cut into pieces, each with a
 * key, and taken in key order until the budget, the last piece cut at a
 * page boundary, exactly as by mapping:
 *
 *   held    came back after memadvised paged them out, within the hold
 *           time (pageout only): not planned at all;
 *   0       the rest, by the sampled hotness of their granule and its
 *           neighbours (cold granules first; without a sample, all equal);
 *   last    came back earlier (or were kept by the kernel), hold over.
 *
 * Ties keep the mapping order of ma_rank_vmas() (an observation's
 * Referenced share, then size) and then the address.
 */
#include "config.h"

#include <stdlib.h>

#include "ma-private.h"

#define CLASS_SHIFT 32
#define CLASS_NORMAL (G_GUINT64_CONSTANT (1) << CLASS_SHIFT)
#define CLASS_LAST (G_GUINT64_CONSTANT (3) << CLASS_SHIFT)
/* Neighbours on each side whose samples count in a granule's score. */
#define NEIGHBOURS 4
/* A granule's own sample weighs more than all its neighbours together. */
#define OWN_WEIGHT (2 * NEIGHBOURS + 1)

static int
compare_pieces (gconstpointer a, gconstpointer b)
{
  const MaPiece *x = a, *y = b;

  if (x->key != y->key)
    return x->key < y->key ? -1 : 1;
  if (x->seq != y->seq)
    return x->seq < y->seq ? -1 : 1;
  return x->start < y->start ? -1 : x->start > y->start;
}

guint64
ma_pieces_select (GArray *pieces, guint64 budget_bytes, GArray *ranges_out)
{
  guint64 taken = 0;

  g_array_sort (pieces, compare_pieces);
  for (guint i = 0; i < pieces->len && taken < budget_bytes; i++)
    {
      const MaPiece *p = &g_array_index (pieces, MaPiece, i);
      guint64 length = MIN (p->length, budget_bytes - taken);
      MaRange *last
          = ranges_out->len > 0 ? &g_array_index (ranges_out, MaRange, ranges_out->len - 1) : NULL;

      /* Consecutive pieces that touch go to the kernel as one range. */
      if (last != NULL && last->start + last->length == p->start)
        {
          last->length += length;
          last->resident = last->length;
        }
      else
        g_array_append_vals (ranges_out, &(MaRange){ p->start, length, length }, 1);
      taken += length;
    }
  return taken;
}

/* A sampled granule: hot (a sampled page came back or was kept) or not. */
typedef struct
{
  guint64 granule;
  gboolean hot;
} Sampled;

static const Sampled *
find_granule (const GArray *sampled, guint64 granule)
{
  guint lo = 0, hi = sampled->len;

  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;
      const Sampled *s = &g_array_index (sampled, Sampled, mid);

      if (s->granule == granule)
        return s;
      if (s->granule < granule)
        lo = mid + 1;
      else
        hi = mid;
    }
  return NULL;
}

/* Lower is colder. A granule nobody sampled had nothing resident then:
 * what is there now is new, and counts as hot. */
static guint64
granule_score (const GArray *sampled, guint64 granule)
{
  const Sampled *own = find_granule (sampled, granule);
  guint64 score = (own == NULL || own->hot) ? OWN_WEIGHT : 0;

  for (guint64 d = 1; d <= NEIGHBOURS; d++)
    {
      const Sampled *before = granule >= d ? find_granule (sampled, granule - d) : NULL;
      const Sampled *after = find_granule (sampled, granule + d);

      score += (before != NULL && before->hot) + (after != NULL && after->hot);
    }
  return score;
}

static gboolean
in_runs (const GArray *runs, guint *cursor, guint64 addr)
{
  while (*cursor < runs->len
         && g_array_index (runs, MaRange, *cursor).start
                    + g_array_index (runs, MaRange, *cursor).length
                <= addr)
    (*cursor)++;
  return *cursor < runs->len && g_array_index (runs, MaRange, *cursor).start <= addr;
}

/* Adds the pieces of @runs (normalized) with class @klass, cut at the
 * candidates' bounds (for their rank) and, with @sampled, at granules. */
static void
add_pieces (GArray *pieces, const GArray *runs, guint64 klass, const MaPagesInput *in,
            const GArray *sampled, guint64 granule_bytes)
{
  guint c = 0;

  for (guint i = 0; i < runs->len; i++)
    {
      const MaRange *r = &g_array_index (runs, MaRange, i);
      guint64 pos = r->start, end = r->start + r->length;

      while (pos < end)
        {
          guint64 cut = end;
          guint64 score = 0;

          while (c < in->n && in->vmas[in->candidates[c]].end <= pos)
            c++;
          if (c >= in->n)
            return; /* resident runs lie within candidates */
          cut = MIN (cut, in->vmas[in->candidates[c]].end);
          if (sampled != NULL)
            {
              guint64 granule = pos / granule_bytes;

              cut = MIN (cut, (granule + 1) * granule_bytes);
              score = granule_score (sampled, granule);
            }
          g_array_append_vals (pieces, &(MaPiece){ pos, cut - pos, klass | score, in->rank[c] }, 1);
          pos = cut;
        }
    }
}

/* What the sample and its trials tell now that @resident is known: the
 * pages they advised that are resident came back or were kept by the
 * kernel, and are hot (added to @found; their bytes are the sampling's
 * cost, plan->sampled_bytes: a page that came back within the advice
 * looks kept, so kept ones count too); those still out are part of this
 * call's reclaim (@sample_out). Each granule of the spread sample is hot
 * or not by its page (@sampled). */
static void
read_sample (MaPlan *plan, const MaSample *sample, const GArray *resident, GArray *found,
             GArray *sample_out, GArray *sampled)
{
  const GArray *kept = ma_sample_get_kept (sample);
  const GArray *pages = ma_sample_get_pages (sample);
  guint64 granule_bytes = ma_sample_get_granule_pages (sample) * ma_page_size ();
  g_autoptr (GArray) left = ma_runs_subtract (ma_sample_get_advised (sample), kept);
  g_autoptr (GArray) back = ma_runs_intersect (left, resident);
  g_autoptr (GArray) out = ma_runs_subtract (left, resident);
  g_autoptr (GArray) hot = ma_runs_union (kept, back);
  g_autoptr (GArray) in_memory = ma_runs_intersect (ma_sample_get_advised (sample), resident);
  guint cursor = 0;

  plan->sampled_bytes = ma_runs_bytes (in_memory);
  plan->sampled_out_bytes = ma_runs_bytes (out);
  g_array_append_vals (found, hot->data, hot->len);
  ma_runs_normalize (found);
  g_array_append_vals (sample_out, out->data, out->len);
  for (guint i = 0; i < pages->len; i++)
    {
      guint64 a = g_array_index (pages, guint64, i);
      Sampled s = { a / granule_bytes, in_runs (hot, &cursor, a) };

      g_array_append_val (sampled, s);
    }
}

/* Pages found back now (@found) are held; the ones found before (@hot,
 * at @hot_found_usec), while their hold lasts; after it they are only
 * planned @last. Cold mode moves pages between lists and holds nothing. */
static void
split_hot (const MaPlanRequest *request, const GArray *hot, gint64 hot_found_usec, GArray *found,
           gint64 now, GArray **held, GArray **last)
{
  g_autoptr (GArray) all_hot = ma_runs_union (hot, found);

  if (request->mode != MA_MODE_PAGEOUT)
    *held = g_array_new (FALSE, FALSE, sizeof (MaRange));
  else if (hot->len > 0 && now - hot_found_usec < request->hold_usec)
    *held = g_array_ref (all_hot);
  else
    *held = g_array_copy (found);
  *last = ma_runs_subtract (all_hot, *held);
}

/* The budget, page-granular, from the eligible bytes; the sample's and the
 * trials' pages still out are part of what this call reclaims: eligible
 * before it, and planned first. The rest from @pieces, in key order. */
static void
fill_budget (MaPlan *plan, const MaPlanRequest *request, GArray *pieces)
{
  gsize page = ma_page_size ();
  guint64 budget, remaining;

  plan->eligible_bytes += plan->sampled_out_bytes;
  budget = ma_budget_pages (plan->eligible_bytes / page, request->percent, request->max_bytes, page)
           * page;
  remaining = budget > plan->sampled_out_bytes ? budget - plan->sampled_out_bytes : 0;
  plan->planned_bytes
      = plan->sampled_out_bytes + ma_pieces_select (pieces, remaining, plan->ranges);
}

gboolean
ma_plan_pages (MaPlan *plan, const MaPlanRequest *request, const MaPagesInput *in, GError **error)
{
  gsize page = ma_page_size ();
  const MaRefaults *refaults = request->refaults;
  const MaSample *sample = request->sample;
  g_autoptr (GArray) out = NULL;
  g_autoptr (GArray) hot = NULL;
  g_autoptr (GArray) came_back = NULL;
  g_autoptr (GArray) out_rest = NULL;
  g_autoptr (GArray) sample_out = g_array_new (FALSE, FALSE, sizeof (MaRange));
  g_autoptr (GArray) found = g_array_new (FALSE, FALSE, sizeof (MaRange));
  g_autoptr (GArray) sampled = g_array_new (FALSE, FALSE, sizeof (Sampled));
  g_autoptr (GArray) held = NULL;
  g_autoptr (GArray) last = NULL;
  g_autoptr (GArray) avail = NULL;
  g_autoptr (GArray) normal = NULL;
  g_autoptr (GArray) late = NULL;
  g_autoptr (GArray) held_resident = NULL;
  g_autoptr (GArray) pieces = g_array_new (FALSE, FALSE, sizeof (MaPiece));
  gint64 now = g_get_monotonic_time ();
  gint64 hot_found_usec = 0;
  guint64 granule_bytes = 0;

  out = refaults != NULL ? ma_refaults_out_runs (refaults)
                         : g_array_new (FALSE, FALSE, sizeof (MaRange));
  hot = refaults != NULL ? ma_refaults_hot_runs (refaults)
                         : g_array_new (FALSE, FALSE, sizeof (MaRange));
  if (refaults != NULL)
    hot_found_usec = ma_refaults_get_hot_found_usec (refaults);

  /* What earlier pageouts left out and is resident again came back. */
  came_back = ma_runs_intersect (out, in->resident);
  out_rest = ma_runs_subtract (out, in->resident);
  plan->paged_out_bytes = ma_runs_bytes (out);
  plan->refaulted_bytes = ma_runs_bytes (came_back);
  g_array_append_vals (found, came_back->data, came_back->len);

  if (sample != NULL)
    read_sample (plan, sample, in->resident, found, sample_out, sampled);
  granule_bytes = sample != NULL ? ma_sample_get_granule_pages (sample) * page : 0;

  split_hot (request, hot, hot_found_usec, found, now, &held, &last);
  avail = ma_runs_subtract (in->resident, held);
  held_resident = ma_runs_intersect (in->resident, held);
  plan->held_bytes = ma_runs_bytes (held_resident);
  late = ma_runs_intersect (avail, last);
  normal = ma_runs_subtract (avail, last);

  add_pieces (pieces, normal, CLASS_NORMAL, in, sample != NULL ? sampled : NULL, granule_bytes);
  add_pieces (pieces, late, CLASS_LAST, in, NULL, 0);

  fill_budget (plan, request, pieces);

  plan->learnt = g_new0 (MaPlanLearnt, 1);
  plan->learnt->out = ma_runs_union (out_rest, sample_out);
  plan->learnt->hot = ma_runs_union (hot, found);
  plan->learnt->hot_found_usec = found->len > 0 ? now : hot_found_usec;
  plan->coldness_source = sample != NULL ? MA_COLDNESS_SAMPLING : MA_COLDNESS_REFAULT;
  return TRUE;
}
