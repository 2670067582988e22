/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Refault feedback: what memadvised paged out of a process, and what of
 * it came back.
 *
 * After a pageout, pagemap says which planned pages left (pages in use or
 * shared with another process stay: the kernel keeps them). Those are
 * remembered as "out". A later plan reads the target's resident pages
 * anyway: the out pages among them came back, page by page, and are hot;
 * the rest are still out, still cold. Hot pages are remembered too, so
 * that they are held back from pageout for a while and planned last after
 * it (plan.c, pieces.c). Both sets are kept compact (pageset.c), within
 * MA_REFAULTS_MAX_SIZE together.
 */
#include "config.h"

#include "ma-private.h"

struct _MaRefaults
{
  pid_t pid;
  guint64 start_time;
  MaPageSet *out;        /* paged out by memadvised, not seen back */
  MaPageSet *hot;        /* came back, or were kept by the kernel when paged out */
  gint64 hot_found_usec; /* monotonic: when pages last came back */
};

void
ma_refaults_free (MaRefaults *refaults)
{
  if (refaults == NULL)
    return;
  ma_page_set_free (refaults->out);
  ma_page_set_free (refaults->hot);
  g_free (refaults);
}

gboolean
ma_refaults_is_for (const MaRefaults *refaults, MaTarget *target)
{
  return refaults->pid == ma_target_get_pid (target)
         && refaults->start_time == ma_target_get_start_time (target);
}

gsize
ma_refaults_get_size (const MaRefaults *refaults)
{
  return sizeof *refaults + ma_page_set_get_size (refaults->out)
         + ma_page_set_get_size (refaults->hot);
}

guint64
ma_refaults_get_out_bytes (const MaRefaults *refaults)
{
  return ma_page_set_get_bytes (refaults->out);
}

guint64
ma_refaults_get_hot_bytes (const MaRefaults *refaults)
{
  return ma_page_set_get_bytes (refaults->hot);
}

GArray *
ma_refaults_out_runs (const MaRefaults *refaults)
{
  return ma_page_set_to_runs (refaults->out);
}

GArray *
ma_refaults_hot_runs (const MaRefaults *refaults)
{
  return ma_page_set_to_runs (refaults->hot);
}

gint64
ma_refaults_get_hot_found_usec (const MaRefaults *refaults)
{
  return refaults->hot_found_usec;
}

void
ma_plan_learnt_free (MaPlanLearnt *learnt)
{
  if (learnt == NULL)
    return;
  g_clear_pointer (&learnt->out, g_array_unref);
  g_clear_pointer (&learnt->hot, g_array_unref);
  g_free (learnt);
}

/* The planned ranges, normalized. */
static GArray *
plan_runs (const MaPlan *plan)
{
  GArray *runs = g_array_copy (plan->ranges);

  ma_runs_normalize (runs);
  return runs;
}

static MaRefaults *
refaults_new (MaTarget *target, GArray *out, GArray *hot, gint64 hot_found_usec)
{
  MaRefaults *refaults = g_new0 (MaRefaults, 1);
  gsize half = (MA_REFAULTS_MAX_SIZE - sizeof *refaults) / 2;

  refaults->pid = ma_target_get_pid (target);
  refaults->start_time = ma_target_get_start_time (target);
  /* Out must never name a page that was not paged out (it would be taken
   * for a refault); hot may hold a little more than it knows (it only
   * keeps pages from being paged out). */
  refaults->out = ma_page_set_new (out, half, MA_PAGE_SET_FORGET);
  refaults->hot = ma_page_set_new (hot, half, MA_PAGE_SET_WIDEN);
  refaults->hot_found_usec = hot_found_usec;
  return refaults;
}

MaRefaults *
ma_refaults_update (MaTarget *target, const MaPlan *plan, gboolean applied, const MaSample *sample,
                    const MaRefaults *previous, GError **error)
{
  g_autoptr (GArray) out = NULL;
  g_autoptr (GArray) hot = NULL;
  gint64 hot_found_usec = 0;

  if (previous != NULL && !ma_refaults_is_for (previous, target))
    previous = NULL;

  if (plan != NULL && plan->learnt != NULL)
    {
      /* The plan already split the earlier knowledge and its sample into
       * what is still out and what is hot. */
      out = g_array_copy (plan->learnt->out);
      hot = g_array_copy (plan->learnt->hot);
      hot_found_usec = plan->learnt->hot_found_usec;
    }
  else
    {
      out = previous != NULL ? ma_refaults_out_runs (previous)
                             : g_array_new (FALSE, FALSE, sizeof (MaRange));
      hot = previous != NULL ? ma_refaults_hot_runs (previous)
                             : g_array_new (FALSE, FALSE, sizeof (MaRange));
      hot_found_usec = previous != NULL ? previous->hot_found_usec : 0;
      if (sample != NULL && ma_sample_is_for (sample, target))
        {
          const GArray *kept = ma_sample_get_kept (sample);
          g_autoptr (GArray) left = ma_runs_subtract (ma_sample_get_advised (sample), kept);
          g_autoptr (GArray) new_out = ma_runs_union (out, left);
          g_autoptr (GArray) new_hot = ma_runs_union (hot, kept);

          g_array_unref (out);
          out = g_steal_pointer (&new_out);
          g_array_unref (hot);
          hot = g_steal_pointer (&new_hot);
        }
    }

  if (plan != NULL && applied && plan->mode == MA_MODE_PAGEOUT && plan->ranges->len > 0)
    {
      g_autoptr (GArray) planned = plan_runs (plan);
      g_autoptr (GArray) present = ma_target_resident_within (target, planned, error);
      g_autoptr (GArray) left = NULL;
      g_autoptr (GArray) kept = NULL;
      g_autoptr (GArray) new_out = NULL;
      g_autoptr (GArray) new_hot = NULL;

      if (present == NULL)
        return NULL;
      left = ma_runs_subtract (planned, present);
      /* What the kernel did not page out is in use (or shared, and then
       * never paged out at all): not worth planning again soon. */
      kept = ma_runs_intersect (planned, present);
      new_out = ma_runs_union (out, left);
      new_hot = ma_runs_union (hot, kept);
      if (kept->len > 0)
        hot_found_usec = g_get_monotonic_time ();
      g_array_unref (out);
      out = g_steal_pointer (&new_out);
      g_array_unref (hot);
      hot = g_steal_pointer (&new_hot);
    }

  /* A page is hot or out, not both: the latest word counts, and a page
   * just paged out is out. */
  {
    g_autoptr (GArray) only_hot = ma_runs_subtract (hot, out);

    return refaults_new (target, out, only_hot, hot_found_usec);
  }
}

const char *
ma_coldness_source_to_string (MaColdnessSource source)
{
  switch (source)
    {
    case MA_COLDNESS_REFERENCED:
      return "referenced";
    case MA_COLDNESS_REFAULT:
      return "refault";
    case MA_COLDNESS_SAMPLING:
      return "sampling";
    case MA_COLDNESS_NONE:
    default:
      return "none";
    }
}
