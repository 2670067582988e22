/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Which mappings may be advised, and in which order their pages are taken.
 * The rules are shared/DESIGN.md's "Eligible memory"; memadvised(8) repeats
 * them for administrators.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "ma-private.h"

MaIneligible
ma_vma_eligibility (const MaVma *vma)
{
  /* Only the fixed fields decide: inode and device say whether a file backs
   * the mapping; the name, which the target controls, is consulted only for
   * the kernel's own bracketed names. */
  if (vma->inode != 0 || vma->dev_major != 0 || vma->dev_minor != 0
      || vma->name_kind == MA_NAME_PATH)
    return MA_INELIGIBLE_FILE;

  switch (vma->name_kind)
    {
    case MA_NAME_NONE:
    case MA_NAME_HEAP:
    case MA_NAME_ANON:
      break;
    case MA_NAME_ANON_SHMEM:
      return MA_INELIGIBLE_SHARED;
    case MA_NAME_STACK:
    case MA_NAME_VVAR:
    case MA_NAME_VDSO:
    case MA_NAME_VSYSCALL:
    case MA_NAME_OTHER:
    case MA_NAME_PATH:
      return MA_INELIGIBLE_SPECIAL;
    }

  if ((vma->perms & MA_PERM_SHARED) || (vma->vmflags & MA_VMF_SH))
    return MA_INELIGIBLE_SHARED;
  if ((vma->perms & (MA_PERM_READ | MA_PERM_WRITE)) != (MA_PERM_READ | MA_PERM_WRITE))
    return MA_INELIGIBLE_PROT;
  if ((vma->perms & MA_PERM_EXEC) || (vma->vmflags & MA_VMF_EX))
    return MA_INELIGIBLE_EXEC;

  /* Without VmFlags the kernel has not said whether the mapping is locked,
   * hugetlb or PFN-mapped: refuse rather than guess. */
  if (!vma->has_vmflags)
    return MA_INELIGIBLE_NO_VMFLAGS;
  if ((vma->vmflags & (MA_VMF_RD | MA_VMF_WR)) != (MA_VMF_RD | MA_VMF_WR))
    return MA_INELIGIBLE_PROT;
  if ((vma->vmflags & MA_VMF_LO) || vma->locked > 0)
    return MA_INELIGIBLE_LOCKED;
  if (vma->vmflags & MA_VMF_HT)
    return MA_INELIGIBLE_HUGETLB;
  if (vma->vmflags & (MA_VMF_IO | MA_VMF_PF))
    return MA_INELIGIBLE_IO;

  return MA_INELIGIBLE_NONE;
}

const char *
ma_ineligible_to_string (MaIneligible reason)
{
  switch (reason)
    {
    case MA_INELIGIBLE_NONE:
      return "eligible";
    case MA_INELIGIBLE_FILE:
      return "file-backed";
    case MA_INELIGIBLE_SPECIAL:
      return "special";
    case MA_INELIGIBLE_SHARED:
      return "shared";
    case MA_INELIGIBLE_PROT:
      return "not-read-write";
    case MA_INELIGIBLE_EXEC:
      return "executable";
    case MA_INELIGIBLE_LOCKED:
      return "locked";
    case MA_INELIGIBLE_HUGETLB:
      return "hugetlb";
    case MA_INELIGIBLE_IO:
      return "io-or-pfnmap";
    case MA_INELIGIBLE_NO_VMFLAGS:
      return "no-vmflags";
    }
  return "unknown";
}

__extension__ typedef unsigned __int128 ma_u128;

/* Rank of a candidate as one number, so that sorting tens of thousands
 * of mappings is a few milliseconds: the referenced share (32-bit fraction)
 * in the high half, the complement of the resident pages in the low half
 * (larger first), and ties broken by address through @pos, the
 * candidate's position in address order. */
typedef struct
{
  guint64 key;
  guint32 pos;
  guint32 index;
} RankKey;

static int
compare_keys (const void *pa, const void *pb)
{
  const RankKey *a = pa;
  const RankKey *b = pb;

  if (a->key != b->key)
    return a->key < b->key ? -1 : 1;
  return a->pos < b->pos ? -1 : a->pos > b->pos;
}

static guint64
coldest_key (const MaVma *vma)
{
  guint64 referenced = MIN (vma->referenced, vma->rss);
  guint64 share = referenced > 0 ? (guint64) (((ma_u128) referenced << 32) / vma->rss) : 0;
  guint64 pages = vma->rss / ma_page_size ();

  return (MIN (share, G_MAXUINT32) << 32) | (G_MAXUINT32 - MIN (pages, G_MAXUINT32));
}

/* Sorts @keys by key, stably: least significant byte first, one counting
 * pass per byte, skipping the bytes all keys share (with no observation the
 * referenced shares are all 0, so half the key is). Linear in @n, where a
 * comparison sort of tens of thousands of mappings took milliseconds. */
static void
radix_sort_keys (RankKey *keys, guint n)
{
  g_autofree RankKey *tmp = g_new (RankKey, MAX (n, 1));
  RankKey *from = keys, *to = tmp;
  guint shift, i;

  for (shift = 0; shift < 64; shift += 8)
    {
      guint count[256] = { 0 };
      guint pos = 0, b;

      for (i = 0; i < n; i++)
        count[(from[i].key >> shift) & 0xff]++;
      if (count[(from[0].key >> shift) & 0xff] == n)
        continue;
      for (b = 0; b < 256; b++)
        {
          guint c = count[b];

          count[b] = pos;
          pos += c;
        }
      for (i = 0; i < n; i++)
        to[count[(from[i].key >> shift) & 0xff]++] = from[i];
      from = to;
      to = from == keys ? tmp : keys;
    }
  if (from != keys)
    memcpy (keys, from, n * sizeof (RankKey));
}

static int
compare_start (const void *pa, const void *pb)
{
  const RankKey *a = pa;
  const RankKey *b = pb;

  return a->key < b->key ? -1 : a->key > b->key;
}

void
ma_rank_vmas (const MaVma *vmas, const guint *candidates, guint n, MaOrder order, guint *order_out)
{
  g_autofree RankKey *keys = g_new (RankKey, MAX (n, 1));
  gboolean by_address = TRUE, sorted = TRUE;
  guint i;

  /* Positions in address order break ties. The engine passes candidates
   * in address order already (the kernel lists mappings so). */
  for (i = 1; i < n && by_address; i++)
    by_address = vmas[candidates[i - 1]].start < vmas[candidates[i]].start;
  for (i = 0; i < n; i++)
    keys[i] = (RankKey){ .key = vmas[candidates[i]].start, .pos = i, .index = candidates[i] };
  if (!by_address)
    {
      qsort (keys, n, sizeof (RankKey), compare_start);
      for (i = 0; i < n; i++)
        keys[i].pos = i;
    }

  for (i = 0; i < n; i++)
    {
      keys[i].key = order == MA_ORDER_ADDRESS ? 0 : coldest_key (&vmas[keys[i].index]);
      sorted = sorted && (i == 0 || compare_keys (&keys[i - 1], &keys[i]) <= 0);
    }
  /* Keys are in position order, so a stable sort breaks ties by it. */
  if (!sorted)
    radix_sort_keys (keys, n);
  for (i = 0; i < n; i++)
    order_out[i] = keys[i].index;
}
