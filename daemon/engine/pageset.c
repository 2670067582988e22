/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Sets of pages: what memadvised paged out of a process and what came
 * back (refault.c), worked on as sorted runs and kept between calls in a
 * compact form with a size cap.
 *
 * The compact form is a sorted array of 16-byte entries over "units" of
 * 2^shift pages: a word entry holds a 64-unit bitmap, a run entry a count
 * of consecutive full words. A contiguous gigabyte is one entry; pages
 * interleaved with others cost 16 bytes per 64 units. When the set does
 * not fit its cap at one page a unit, units grow (2, 4, ... pages) until
 * it does: a set that must never claim a page it does not hold (FORGET)
 * keeps only units all of whose pages it holds; one that must never miss a
 * page (WIDEN) keeps every unit any of whose pages it holds.
 */
#include "config.h"

#include <string.h>

#include "ma-private.h"

#define RUN_FLAG (G_GUINT64_CONSTANT (1) << 63)
#define UNITS_PER_WORD 64
#define MAX_SHIFT 40

typedef struct
{
  guint64 key;     /* word index, with RUN_FLAG for a run entry */
  guint64 payload; /* bitmap of a word, or the number of full words of a run */
} Entry;

struct _MaPageSet
{
  Entry *entries; /* by word index */
  guint n_entries;
  guint shift;   /* pages per unit: 1 << shift */
  guint64 bytes; /* bytes of the pages it holds */
};

static guint64
runs_end (const MaRange *r)
{
  return r->start + r->length;
}

guint64
ma_runs_bytes (const GArray *runs)
{
  guint64 sum = 0;

  for (guint i = 0; i < runs->len; i++)
    sum += g_array_index (runs, MaRange, i).length;
  return sum;
}

static int
compare_start (gconstpointer a, gconstpointer b)
{
  const MaRange *x = a, *y = b;

  return x->start < y->start ? -1 : x->start > y->start;
}

void
ma_runs_normalize (GArray *runs)
{
  guint out = 0;

  g_array_sort (runs, compare_start);
  for (guint i = 0; i < runs->len; i++)
    {
      MaRange r = g_array_index (runs, MaRange, i);

      if (r.length == 0)
        continue;
      if (out > 0
          && g_array_index (runs, MaRange, out - 1).start
                     + g_array_index (runs, MaRange, out - 1).length
                 >= r.start)
        {
          MaRange *last = &g_array_index (runs, MaRange, out - 1);
          guint64 end = MAX (runs_end (last), runs_end (&r));

          last->length = end - last->start;
          last->resident = last->length;
          continue;
        }
      r.resident = r.length;
      g_array_index (runs, MaRange, out++) = r;
    }
  g_array_set_size (runs, out);
}

void
ma_runs_append (GArray *runs, guint64 start, guint64 end)
{
  MaRange *last = runs->len > 0 ? &g_array_index (runs, MaRange, runs->len - 1) : NULL;

  if (end <= start)
    return;
  if (last != NULL && runs_end (last) == start)
    {
      last->length = end - last->start;
      last->resident = last->length;
      return;
    }
  g_array_append_vals (runs, &(MaRange){ start, end - start, end - start }, 1);
}

/* @a and @b normalized. Keeps what @keep says of a page in a, b. */
static GArray *
combine (const GArray *a, const GArray *b, gboolean (*keep) (gboolean in_a, gboolean in_b))
{
  GArray *out = g_array_new (FALSE, FALSE, sizeof (MaRange));
  guint i = 0, j = 0;
  guint64 pos = 0;

  /* Walks the boundaries of both lists in order; between two boundaries
   * membership in each list is constant. */
  while (i < a->len || j < b->len)
    {
      const MaRange *ra = i < a->len ? &g_array_index (a, MaRange, i) : NULL;
      const MaRange *rb = j < b->len ? &g_array_index (b, MaRange, j) : NULL;
      gboolean in_a = ra != NULL && ra->start <= pos && pos < runs_end (ra);
      gboolean in_b = rb != NULL && rb->start <= pos && pos < runs_end (rb);
      guint64 next = G_MAXUINT64;

      if (ra != NULL)
        next = MIN (next, in_a ? runs_end (ra) : MAX (ra->start, pos));
      if (rb != NULL)
        next = MIN (next, in_b ? runs_end (rb) : MAX (rb->start, pos));
      if (next <= pos)
        break; /* lists not normalized: nothing sensible to add */
      if (keep (in_a, in_b))
        ma_runs_append (out, pos, next);
      pos = next;
      if (ra != NULL && pos >= runs_end (ra))
        i++;
      if (rb != NULL && pos >= runs_end (rb))
        j++;
    }
  return out;
}

static gboolean
keep_both (gboolean in_a, gboolean in_b)
{
  return in_a && in_b;
}

static gboolean
keep_either (gboolean in_a, gboolean in_b)
{
  return in_a || in_b;
}

static gboolean
keep_a_only (gboolean in_a, gboolean in_b)
{
  return in_a && !in_b;
}

GArray *
ma_runs_intersect (const GArray *a, const GArray *b)
{
  return combine (a, b, keep_both);
}

GArray *
ma_runs_union (const GArray *a, const GArray *b)
{
  return combine (a, b, keep_either);
}

GArray *
ma_runs_subtract (const GArray *a, const GArray *b)
{
  return combine (a, b, keep_a_only);
}

/* -- compact form ---------------------------------------------------------- */

static guint64
word_mask (guint from, guint to) /* bits from..to inclusive */
{
  guint64 high = to == 63 ? G_MAXUINT64 : (G_GUINT64_CONSTANT (1) << (to + 1)) - 1;

  return high & ~((G_GUINT64_CONSTANT (1) << from) - 1);
}

static void
add_full_words (GArray *entries, guint64 word, guint64 n)
{
  Entry *last = entries->len > 0 ? &g_array_index (entries, Entry, entries->len - 1) : NULL;

  if (n == 0)
    return;
  /* Widened units of two runs may share a word: the full words cover it. */
  if (last != NULL && !(last->key & RUN_FLAG) && last->key == word)
    {
      g_array_set_size (entries, entries->len - 1);
      last = entries->len > 0 ? &g_array_index (entries, Entry, entries->len - 1) : NULL;
    }
  if (last != NULL && (last->key & RUN_FLAG) && (last->key & ~RUN_FLAG) + last->payload == word)
    {
      last->payload += n;
      return;
    }
  g_array_append_vals (entries, &(Entry){ word | RUN_FLAG, n }, 1);
}

static void
or_word (GArray *entries, guint64 word, guint64 mask)
{
  Entry *last = entries->len > 0 ? &g_array_index (entries, Entry, entries->len - 1) : NULL;

  if (last != NULL && (last->key & RUN_FLAG) && word < (last->key & ~RUN_FLAG) + last->payload)
    return; /* inside a full run already */
  if (last != NULL && !(last->key & RUN_FLAG) && last->key == word)
    {
      last->payload |= mask;
      if (last->payload == G_MAXUINT64)
        {
          g_array_set_size (entries, entries->len - 1);
          add_full_words (entries, word, 1);
        }
      return;
    }
  if (mask == G_MAXUINT64)
    add_full_words (entries, word, 1);
  else
    g_array_append_vals (entries, &(Entry){ word, mask }, 1);
}

/* Adds units [u0, u1), in increasing order of u0 over calls. */
static void
add_units (GArray *entries, guint64 u0, guint64 u1)
{
  guint64 w0 = u0 / UNITS_PER_WORD, w1 = (u1 - 1) / UNITS_PER_WORD;

  if (u1 <= u0)
    return;
  if (w0 == w1)
    {
      or_word (entries, w0, word_mask (u0 % UNITS_PER_WORD, (u1 - 1) % UNITS_PER_WORD));
      return;
    }
  if (u0 % UNITS_PER_WORD != 0)
    {
      or_word (entries, w0, word_mask (u0 % UNITS_PER_WORD, UNITS_PER_WORD - 1));
      w0++;
    }
  if (u1 % UNITS_PER_WORD != 0)
    {
      add_full_words (entries, w0, w1 - w0);
      or_word (entries, w1, word_mask (0, (u1 - 1) % UNITS_PER_WORD));
    }
  else
    add_full_words (entries, w0, w1 - w0 + 1);
}

static GArray *
encode (const GArray *runs, guint shift, MaPageSetLoss loss)
{
  GArray *entries = g_array_new (FALSE, FALSE, sizeof (Entry));
  guint64 unit = (guint64) ma_page_size () << shift;

  for (guint i = 0; i < runs->len; i++)
    {
      const MaRange *r = &g_array_index (runs, MaRange, i);
      guint64 u0, u1;

      if (loss == MA_PAGE_SET_FORGET)
        {
          u0 = (r->start + unit - 1) / unit;
          u1 = runs_end (r) / unit;
        }
      else
        {
          u0 = r->start / unit;
          u1 = (runs_end (r) + unit - 1) / unit;
        }
      add_units (entries, u0, u1);
    }
  return entries;
}

MaPageSet *
ma_page_set_new (const GArray *runs, gsize max_size, MaPageSetLoss loss)
{
  MaPageSet *set = g_new0 (MaPageSet, 1);
  g_autoptr (GArray) entries = NULL;
  g_autoptr (GArray) back = NULL;

  /* The least loss that fits: one page a unit first. */
  for (set->shift = 0;; set->shift++)
    {
      g_clear_pointer (&entries, g_array_unref);
      entries = encode (runs, set->shift, loss);
      if (sizeof *set + entries->len * sizeof (Entry) <= max_size || set->shift == MAX_SHIFT)
        break;
    }
  /* Even units of 2^40 pages cannot fit: keep nothing rather than pass the cap. */
  if (sizeof *set + entries->len * sizeof (Entry) > max_size)
    g_array_set_size (entries, 0);
  /* Exactly what it needs: no spare capacity is kept between calls. */
  set->n_entries = entries->len;
  set->entries = g_memdup2 (entries->data, entries->len * sizeof (Entry));
  back = ma_page_set_to_runs (set);
  set->bytes = ma_runs_bytes (back);
  return set;
}

void
ma_page_set_free (MaPageSet *set)
{
  if (set == NULL)
    return;
  g_free (set->entries);
  g_free (set);
}

gsize
ma_page_set_get_size (const MaPageSet *set)
{
  return sizeof *set + set->n_entries * sizeof (Entry);
}

guint64
ma_page_set_get_bytes (const MaPageSet *set)
{
  return set->bytes;
}

guint
ma_page_set_get_shift (const MaPageSet *set)
{
  return set->shift;
}

GArray *
ma_page_set_to_runs (const MaPageSet *set)
{
  GArray *runs = g_array_new (FALSE, FALSE, sizeof (MaRange));
  guint64 unit = (guint64) ma_page_size () << set->shift;

  for (guint i = 0; i < set->n_entries; i++)
    {
      const Entry *e = &set->entries[i];
      guint64 word = e->key & ~RUN_FLAG;

      if (e->key & RUN_FLAG)
        {
          ma_runs_append (runs, word * UNITS_PER_WORD * unit,
                          (word + e->payload) * UNITS_PER_WORD * unit);
          continue;
        }
      for (guint b = 0; b < UNITS_PER_WORD; b++)
        if (e->payload & (G_GUINT64_CONSTANT (1) << b))
          {
            guint64 u = word * UNITS_PER_WORD + b;
            ma_runs_append (runs, u * unit, (u + 1) * unit);
          }
    }
  return runs;
}
