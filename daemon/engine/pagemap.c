/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Which pages of a range are resident, from /proc/PID/pagemap.
 *
 * Linux 6.7+ answers with the PAGEMAP_SCAN ioctl in runs of pages, asking
 * for present pages that are not the shared zero page (which smaps does not
 * count in Rss and which cannot be paged out). It is not asked to tell file
 * pages apart: that costs a look at every page's struct page (five times
 * the whole scan of a large anonymous mapping, measured), and an anonymous
 * mapping holds none; runs that a sweep finds in the other mappings of its
 * span are clipped away by the planner. Older kernels get the documented
 * 64-bit entries (bit 63: present, bit 61: file page or shared anonymous),
 * read with pread in chunks, per candidate mapping. Pages in swap (the
 * ioctl's PAGE_IS_SWAPPED, bit 62 of an entry) are read only for a plan's
 * map (map.c).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "ma-private.h"

/* From <linux/fs.h> of Linux 6.7; Debian 12's headers predate it. */
#ifndef PAGEMAP_SCAN
struct page_region
{
  uint64_t start;
  uint64_t end;
  uint64_t categories;
};

struct pm_scan_arg
{
  uint64_t size;
  uint64_t flags;
  uint64_t start;
  uint64_t end;
  uint64_t walk_end;
  uint64_t vec;
  uint64_t vec_len;
  uint64_t max_pages;
  uint64_t category_inverted;
  uint64_t category_mask;
  uint64_t category_anyof_mask;
  uint64_t return_mask;
};

#define PAGEMAP_SCAN _IOWR ('f', 16, struct pm_scan_arg)
#define PAGE_IS_SWAPPED (1 << 4)
#define PAGE_IS_PRESENT (1 << 3)
#define PAGE_IS_PFNZERO (1 << 5)
#endif

#define PM_PRESENT (1ULL << 63)
#define PM_SWAP (1ULL << 62)
#define PM_FILE (1ULL << 61)
#define SCAN_VEC_LEN 512
#define PREAD_ENTRIES 8192

struct _MaPagemap
{
  int fd;
  gboolean use_scan;
  gsize page_size;
  struct page_region vec[SCAN_VEC_LEN];
  guint64 entries[PREAD_ENTRIES];
};

gboolean
ma_probe_pagemap_scan (void)
{
  static gint result; /* 0: not known yet, 1: no, 2: yes */
  struct pm_scan_arg arg = { .size = sizeof arg };
  int known = g_atomic_int_get (&result);
  int fd, r;

  if (known != 0)
    return known == 2;

  /* An empty range on our own pagemap: 0 where the ioctl exists. A thread
   * that works with a caller's filesystem ids may not open it (it is 0400
   * and ours): that says nothing of the kernel, so nothing is kept and
   * this call says no. */
  fd = open ("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return FALSE;
  r = ioctl (fd, PAGEMAP_SCAN, &arg);
  close (fd);
  g_atomic_int_set (&result, r == 0 ? 2 : 1);
  return r == 0;
}

MaPagemap *
ma_pagemap_open (int proc_fd, GError **error)
{
  g_autoptr (MaPagemap) pagemap = g_new0 (MaPagemap, 1);

  pagemap->page_size = ma_page_size ();
  pagemap->fd = openat (proc_fd, "pagemap", O_RDONLY | O_CLOEXEC);
  if (pagemap->fd < 0)
    {
      int errsv = errno;
      g_set_error (error, MA_ERROR, ma_error_code_from_errno (errsv), "Could not open pagemap: %s.",
                   g_strerror (errsv));
      return NULL;
    }
  pagemap->use_scan = ma_probe_pagemap_scan ();
  return g_steal_pointer (&pagemap);
}

void
ma_pagemap_free (MaPagemap *pagemap)
{
  if (pagemap == NULL)
    return;
  if (pagemap->fd >= 0)
    close (pagemap->fd);
  g_free (pagemap);
}

/* Present pages that are not the shared zero page; or pages in swap. */
static void
scan_categories (gboolean swapped, struct pm_scan_arg *arg)
{
  if (swapped)
    {
      arg->category_mask = PAGE_IS_SWAPPED;
      arg->return_mask = PAGE_IS_SWAPPED;
      return;
    }
  arg->category_inverted = PAGE_IS_PFNZERO;
  arg->category_mask = PAGE_IS_PRESENT | PAGE_IS_PFNZERO;
  arg->return_mask = PAGE_IS_PRESENT;
}

static gboolean
scan_runs (MaPagemap *pagemap, guint64 start, guint64 end, gboolean swapped, GArray *runs,
           GError **error)
{
  guint64 pos = start;

  while (pos < end)
    {
      struct pm_scan_arg arg = {
        .size = sizeof arg,
        .start = pos,
        .end = end,
        .vec = (uintptr_t) pagemap->vec,
        .vec_len = SCAN_VEC_LEN,
      };
      int n, i;

      scan_categories (swapped, &arg);
      n = ioctl (pagemap->fd, PAGEMAP_SCAN, &arg);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int errsv = errno;
          g_set_error (error, MA_ERROR, ma_error_code_from_errno (errsv),
                       "Could not scan pagemap: %s.", g_strerror (errsv));
          return FALSE;
        }
      for (i = 0; i < n; i++)
        ma_runs_append (runs, pagemap->vec[i].start, pagemap->vec[i].end);
      if (arg.walk_end <= pos)
        break; /* no progress: the range is gone */
      pos = arg.walk_end;
    }
  return TRUE;
}

static gboolean
pread_runs (MaPagemap *pagemap, guint64 start, guint64 end, gboolean swapped, GArray *runs,
            GError **error)
{
  guint64 page = start / pagemap->page_size;
  guint64 last = end / pagemap->page_size;
  guint64 mask = swapped ? PM_SWAP : PM_PRESENT | PM_FILE;
  guint64 want_bits = swapped ? PM_SWAP : PM_PRESENT;

  while (page < last)
    {
      guint64 want = MIN (last - page, PREAD_ENTRIES);
      ssize_t n;
      guint64 got, i;

      n = pread (pagemap->fd, pagemap->entries, want * sizeof (guint64),
                 (off_t) (page * sizeof (guint64)));
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int errsv = errno;
          g_set_error (error, MA_ERROR, ma_error_code_from_errno (errsv),
                       "Could not read pagemap: %s.", g_strerror (errsv));
          return FALSE;
        }
      got = (guint64) n / sizeof (guint64);
      if (got == 0)
        break;
      for (i = 0; i < got; i++)
        if ((pagemap->entries[i] & mask) == want_bits)
          {
            guint64 addr = (page + i) * pagemap->page_size;
            ma_runs_append (runs, addr, addr + pagemap->page_size);
          }
      page += got;
    }
  return TRUE;
}

gboolean
ma_pagemap_can_sweep (MaPagemap *pagemap)
{
  return pagemap->use_scan;
}

gboolean
ma_pagemap_resident_runs (MaPagemap *pagemap, guint64 start, guint64 end, GArray *runs,
                          GError **error)
{
  if (pagemap->use_scan)
    return scan_runs (pagemap, start, end, FALSE, runs, error);
  return pread_runs (pagemap, start, end, FALSE, runs, error);
}

gboolean
ma_pagemap_swapped_runs (MaPagemap *pagemap, guint64 start, guint64 end, GArray *runs,
                         GError **error)
{
  if (pagemap->use_scan)
    return scan_runs (pagemap, start, end, TRUE, runs, error);
  return pread_runs (pagemap, start, end, TRUE, runs, error);
}

GArray *
ma_target_resident_within (MaTarget *target, const GArray *runs, GError **error)
{
  g_autoptr (MaPagemap) pagemap = NULL;
  g_autoptr (GArray) present = g_array_new (FALSE, FALSE, sizeof (MaRange));

  if (runs->len == 0)
    return g_steal_pointer (&present);
  pagemap = ma_pagemap_open (ma_target_get_proc_fd (target), error);
  if (pagemap == NULL)
    return NULL;
  /* Run by run: the cost follows what is asked, not the span it lies in. */
  for (guint i = 0; i < runs->len; i++)
    {
      const MaRange *r = &g_array_index (runs, MaRange, i);

      if (!ma_pagemap_resident_runs (pagemap, r->start, r->start + r->length, present, error))
        return NULL;
    }
  ma_runs_normalize (present);
  return g_steal_pointer (&present);
}
