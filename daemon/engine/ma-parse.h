/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Parsers of /proc files and the pure planning steps of the engine.
 * Internal to the engine; unit tests and fuzz targets call them directly.
 * Every parser takes a buffer (not a path) and must accept any bytes
 * without crashing: its input is written by the kernel about a process the
 * caller does not trust.
 */
#pragma once

#include <glib.h>
#include <sys/types.h>

#include "ma-engine.h"

G_BEGIN_DECLS

/* Permission bits of a maps/smaps header line. */
enum
{
  MA_PERM_READ = 1 << 0,
  MA_PERM_WRITE = 1 << 1,
  MA_PERM_EXEC = 1 << 2,
  MA_PERM_SHARED = 1 << 3, /* 's' in the fourth column; 'p' is private */
};

/* What the name column says, for the special names of DESIGN only. Any other
 * name is MA_NAME_PATH (or MA_NAME_OTHER if bracketed): the engine never
 * interprets a path. */
typedef enum
{
  MA_NAME_NONE,       /* no name: plain anonymous mapping */
  MA_NAME_HEAP,       /* [heap] */
  MA_NAME_STACK,      /* [stack] or [stack:TID] */
  MA_NAME_VVAR,       /* [vvar], [vvar_vclock] */
  MA_NAME_VDSO,       /* [vdso] */
  MA_NAME_VSYSCALL,   /* [vsyscall] */
  MA_NAME_ANON,       /* [anon:...] (prctl PR_SET_VMA_ANON_NAME) */
  MA_NAME_ANON_SHMEM, /* [anon_shmem:...] */
  MA_NAME_OTHER,      /* another bracketed name ([uprobes], ...) */
  MA_NAME_PATH,       /* anything else: a file path */
} MaNameKind;

/* VmFlags of smaps that eligibility depends on. */
enum
{
  MA_VMF_RD = 1 << 0,
  MA_VMF_WR = 1 << 1,
  MA_VMF_EX = 1 << 2,
  MA_VMF_SH = 1 << 3,
  MA_VMF_LO = 1 << 4,  /* VM_LOCKED */
  MA_VMF_IO = 1 << 5,  /* VM_IO */
  MA_VMF_PF = 1 << 6,  /* VM_PFNMAP */
  MA_VMF_HT = 1 << 7,  /* VM_HUGETLB */
  MA_VMF_MM = 1 << 8,  /* VM_MIXEDMAP */
  MA_VMF_DD = 1 << 9,  /* VM_DONTDUMP */
  MA_VMF_GD = 1 << 10, /* VM_GROWSDOWN */
};

typedef struct
{
  guint64 start;
  guint64 end;
  guint64 offset;
  guint64 inode;
  guint32 dev_major;
  guint32 dev_minor;
  guint32 perms;   /* MA_PERM_* */
  guint32 vmflags; /* MA_VMF_*, when has_vmflags */
  MaNameKind name_kind;
  gboolean has_vmflags;
  gboolean has_counters; /* the block carried Rss: (smaps, not maps) */
  /* smaps counters, in bytes */
  guint64 rss;
  guint64 referenced;
  guint64 anonymous;
  guint64 swap;
  guint64 locked;
} MaVma;

/* Parses /proc/PID/smaps (or maps: then has_counters and has_vmflags stay
 * FALSE). Appends one MaVma per mapping to @vmas. Unknown field lines are
 * ignored (the kernel adds fields); a malformed header line, a field line
 * before any header, or a value that overflows is an error
 * (G_IO_ERROR_INVALID_DATA) and @vmas is left with what came before it. */
gboolean ma_smaps_parse (const char *buf, gsize len, GArray *vmas, GError **error);

typedef struct
{
  char name[64]; /* Name:, escaped as the kernel gives it */
  char state;    /* first letter of State:, 0 if absent */
  gboolean has_uids;
  uid_t uids[4]; /* real, effective, saved, fs */
  gboolean has_gids;
  gid_t gids[4]; /* the same, of Gid: */
  gboolean has_caps;
  guint64 cap_inh, cap_prm, cap_eff, cap_bnd, cap_amb;
  int kthread;     /* Kthread: 1/0, or -1 when the kernel does not say */
  gboolean has_mm; /* VmRSS: present (kernel threads and zombies have none) */
  MaMemStat mem;   /* VmRSS, RssAnon, VmSwap in bytes */
  guint64 vm_lck;  /* VmLck in bytes: locked memory, 0 if absent */
} MaStatus;

/* Parses /proc/PID/status. Fields missing from the text keep their
 * "absent" values; a malformed value of a known field is an error. */
gboolean ma_status_parse (const char *buf, gsize len, MaStatus *out, GError **error);

/* Parses /proc/swaps: total and used bytes over every active device. */
gboolean ma_swaps_parse (const char *buf, gsize len, guint64 *out_total, guint64 *out_used,
                         GError **error);

/* Parses /proc/PID/cgroup: the path of its cgroup2 line ("0::/path"), or
 * NULL in @out_path when there is none (cgroup v1 only). */
gboolean ma_cgroup_parse (const char *buf, gsize len, char **out_path, GError **error);

/* Parses /proc/PID/mountinfo: the proc file system on top at /proc in the
 * process's mount namespace, and its hidepid= and gid= options. */
gboolean ma_mountinfo_parse_proc (const char *buf, gsize len, MaProcMount *out, GError **error);

/* Parses /proc/PID/uid_map or gid_map as a process outside the namespace
 * reads it: whether @id (of the reader's namespace) is mapped into it. */
gboolean ma_idmap_parse_maps (const char *buf, gsize len, guint32 id, gboolean *out_maps,
                              GError **error);

typedef struct
{
  gboolean has_flags;
  guint32 flags; /* the file's flags: O_EXCL is PIDFD_THREAD */
  gboolean has_pid;
  gint64 pid; /* -1: exited and reaped; 0: not in the reader's pid namespace */
} MaFdinfo;

/* Parses /proc/self/fdinfo/FD of a pidfd. */
gboolean ma_fdinfo_parse (const char *buf, gsize len, MaFdinfo *out, GError **error);

/* Parses the flags field (the ninth) of /proc/PID/stat. The comm field may
 * hold spaces and parentheses: the last ')' ends it. */
gboolean ma_stat_parse_flags (const char *buf, gsize len, guint64 *out_flags, GError **error);

typedef struct
{
  guint64 flags;      /* field 9 */
  guint64 maj_flt;    /* field 12: major faults, e.g. pages read back from swap */
  guint64 start_time; /* field 22: clock ticks after boot; with the pid, names a process */
} MaStat;

/* Parses fields up to 22 of /proc/PID/stat, with the same rules. */
gboolean ma_stat_parse (const char *buf, gsize len, MaStat *out, GError **error);

/* Why a mapping is not eligible; MA_INELIGIBLE_NONE means it is. The first
 * reason that applies, in this order. */
typedef enum
{
  MA_INELIGIBLE_NONE,
  MA_INELIGIBLE_FILE,       /* backed by a file (including memfd, SysV shm, /dev/zero) */
  MA_INELIGIBLE_SPECIAL,    /* [stack], [vvar], [vdso], [vsyscall], other bracketed names */
  MA_INELIGIBLE_SHARED,     /* 's' permission, VmFlags sh, [anon_shmem:] */
  MA_INELIGIBLE_PROT,       /* not readable and writable (guard pages, read-only) */
  MA_INELIGIBLE_EXEC,       /* executable (JIT code) */
  MA_INELIGIBLE_LOCKED,     /* VmFlags lo, or Locked: > 0 */
  MA_INELIGIBLE_HUGETLB,    /* VmFlags ht */
  MA_INELIGIBLE_IO,         /* VmFlags io or pf */
  MA_INELIGIBLE_NO_VMFLAGS, /* the kernel did not say (smaps without VmFlags) */
} MaIneligible;

MaIneligible ma_vma_eligibility (const MaVma *vma);
const char *ma_ineligible_to_string (MaIneligible reason);

/* Ranks candidate mappings: fills @order (n entries) with indices into @vmas,
 * in the order their pages are taken. */
void ma_rank_vmas (const MaVma *vmas, const guint *candidates, guint n, MaOrder order,
                   guint *order_out);

/* Resident runs of a mapping: fills @runs (MaRange, resident == length) with
 * the runs of present pages in [start, end), in address order. */
typedef gboolean (*MaResidencyFunc) (guint vma_index, guint64 start, guint64 end, GArray *runs,
                                     gpointer user_data, GError **error);

/* Residency of every candidate at once: @runs are resident runs over an
 * address span (sorted, not overlapping, as one PAGEMAP_SCAN sweep gives
 * them); @candidates index @vmas in address order. Appends to @out the
 * runs clipped to each candidate, candidate by candidate, and fills
 * @first (n + 1 entries): candidate i's runs are out[first[i] ..
 * first[i + 1]). */
void ma_runs_assign (const MaRange *runs, guint n_runs, const MaVma *vmas, const guint *candidates,
                     guint n, GArray *out, guint *first);

/* Budget in pages: ceil(percent * eligible_pages / 100), so any percent of a
 * non-empty set selects at least a page, then capped at floor(max_bytes /
 * page_size) when max_bytes is non-zero. */
guint64 ma_budget_pages (guint64 eligible_pages, guint percent, guint64 max_bytes, gsize page_size);

/* Builds the ranges of a plan: walks @vmas in @order, asks @residency for
 * each, and takes resident runs until @budget_pages are taken, splitting
 * the last run at a page boundary; a run that starts where the range
 * before it ends extends that range. Returns the resident bytes taken. */
gboolean ma_plan_select (const MaVma *vmas, const guint *order, guint n, guint64 budget_pages,
                         gsize page_size, MaResidencyFunc residency, gpointer residency_data,
                         GArray *ranges_out, guint64 *out_planned, GError **error);

/* Runs of pages as MaRange (resident == length), page-aligned. A
 * normalized list is sorted by start, without empty, overlapping or
 * adjacent runs. */
void ma_runs_normalize (GArray *runs);
/* Appends [start, end) after the last run (at or above its end), joined
 * to it when they touch; nothing when empty. */
void ma_runs_append (GArray *runs, guint64 start, guint64 end);
guint64 ma_runs_bytes (const GArray *runs);
/* New normalized lists from two normalized ones. */
GArray *ma_runs_intersect (const GArray *a, const GArray *b);
GArray *ma_runs_union (const GArray *a, const GArray *b);
GArray *ma_runs_subtract (const GArray *a, const GArray *b);

/* A set of pages kept between calls, at most a given size (pageset.c). */
typedef struct _MaPageSet MaPageSet;

typedef enum
{
  MA_PAGE_SET_FORGET, /* too big: keep only what it is sure of (a subset) */
  MA_PAGE_SET_WIDEN,  /* too big: keep whole units around what it has (a superset) */
} MaPageSetLoss;

/* From normalized @runs; at most @max_size bytes of memory in all. */
MaPageSet *ma_page_set_new (const GArray *runs, gsize max_size, MaPageSetLoss loss);
void ma_page_set_free (MaPageSet *set);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MaPageSet, ma_page_set_free)
GArray *ma_page_set_to_runs (const MaPageSet *set); /* normalized */
gsize ma_page_set_get_size (const MaPageSet *set);  /* bytes of memory it takes */
guint64 ma_page_set_get_bytes (const MaPageSet *set);
guint ma_page_set_get_shift (const MaPageSet *set); /* pages per unit: 1 << shift */

/* What a map is drawn from (map.c): every mapping of a target, in
 * address order, and normalized runs of its pages. */
typedef struct
{
  const MaVma *vmas;
  guint n_vmas;
  const GArray *resident; /* resident pages of the eligible mappings */
  const GArray *swapped;  /* pages in swap */
  const GArray *planned;  /* the plan's, resident or not */
  const GArray *hot;      /* known used, resident or not */
  const GArray *came_back;
  /* The mappings' referenced and rss tell the share of a mapping's
   * resident pages that is hot, where nothing finer does. */
  gboolean referenced;
  guint max_mappings; /* eligible mappings drawn, the first by address */
} MaMapInput;

/* The map of @in: each drawn mapping's cells (MaMapState), by the rules
 * of MaMapState, and the mappings left out, by reason. */
MaMap *ma_map_build (const MaMapInput *in);

/* What a map was drawn from that still holds after the advice, kept with
 * the plan to draw the map again then (ma_target_redraw_map()). Runs are
 * normalized. */
typedef struct _MaMapBasis
{
  GArray *vmas;    /* MaVma: the mappings the map drew, in address order */
  GArray *advised; /* the plan's pages, and its sample's and trials' still out */
  GArray *hot;     /* known used when planned, resident or not */
  GArray *out;     /* paged out by memadvised before the plan, not seen back */
  gboolean referenced;
} MaMapBasis;

void ma_map_basis_free (MaMapBasis *basis);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MaMapBasis, ma_map_basis_free)

/* The mappings of @basis drawn again from @resident and @swapped, their
 * pages as pagemap has them after the advice: an advised page still
 * resident is MA_MAP_PLANNED (advised), one in swap MA_MAP_SWAPPED, one
 * gone MA_MAP_ABSENT; the others by the rules of MaMapState. The eligible
 * and ineligible counts are @before's (the same mappings). */
MaMap *ma_map_redraw (const MaMap *before, const MaMapBasis *basis, const GArray *resident,
                      const GArray *swapped);

/* process_madvise(2) limits: at most MA_IOV_MAX elements and MA_MAX_RW_COUNT
 * bytes per call (MAX_RW_COUNT = INT_MAX & PAGE_MASK). */
#define MA_IOV_MAX 1024
/* A batch is also kept under 8 MiB. Threads take batches from one queue,
 * so they finish within one batch of each other; a pageout of 8 MiB takes a
 * few milliseconds, so cancellation and progress stay responsive, while the
 * cost of one more syscall is nothing beside it. */
#define MA_BATCH_MAX_BYTES (8ull * 1024 * 1024)
gsize ma_max_rw_count (gsize page_size);

/* Cursor over the ranges of a plan, handing out batches of iovecs. A range
 * longer than the per-call byte limit is split. */
typedef struct
{
  const MaRange *ranges;
  guint n_ranges;
  guint index;      /* current range */
  guint64 consumed; /* bytes of ranges[index] already handed out */
} MaBatchCursor;

typedef struct
{
  guint64 start;
  guint64 length;
} MaSpan;

/* Fills at most @max_iov spans totalling at most @max_bytes; returns how many.
 * 0 when the cursor is at the end. */
guint ma_batch_next (MaBatchCursor *cursor, MaSpan *spans, guint max_iov, guint64 max_bytes);

G_END_DECLS
