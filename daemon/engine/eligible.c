/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Which mappings may be advised, and in which order their pages are taken.
 * The rules are shared/DESIGN.md's "Eligible memory"; memadvised(8) repeats
 * them for administrators.
 */
#include "config.h"

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

static int
compare_coldest (gconstpointer pa, gconstpointer pb, gpointer user_data)
{
  const MaVma *vmas = user_data;
  const MaVma *a = &vmas[*(const guint *) pa];
  const MaVma *b = &vmas[*(const guint *) pb];
  ma_u128 ra, rb;

  /* Smaller share of Referenced in Rss first: referenced_a / rss_a <
   * referenced_b / rss_b, compared exactly without division. */
  ra = (ma_u128) a->referenced * b->rss;
  rb = (ma_u128) b->referenced * a->rss;
  if (ra != rb)
    return ra < rb ? -1 : 1;
  /* Then the largest, which frees the most per call. */
  if (a->rss != b->rss)
    return a->rss > b->rss ? -1 : 1;
  /* Then by address, so that the order is deterministic. */
  return a->start < b->start ? -1 : a->start > b->start;
}

static int
compare_address (gconstpointer pa, gconstpointer pb, gpointer user_data)
{
  const MaVma *vmas = user_data;
  const MaVma *a = &vmas[*(const guint *) pa];
  const MaVma *b = &vmas[*(const guint *) pb];

  return a->start < b->start ? -1 : a->start > b->start;
}

void
ma_rank_vmas (const MaVma *vmas, const guint *candidates, guint n, MaOrder order, guint *order_out)
{
  memcpy (order_out, candidates, n * sizeof (guint));
  g_qsort_with_data (order_out, (gint) n, sizeof (guint),
                     order == MA_ORDER_ADDRESS ? compare_address : compare_coldest,
                     (gpointer) vmas);
}
