/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Engine internals shared between its files. Not for the daemon.
 */
#pragma once

#include "ma-parse.h"

G_BEGIN_DECLS

struct _MaTarget
{
  pid_t pid;
  int pidfd;
  int proc_fd;       /* /proc/PID, verified with pidfd to be the same process */
  gboolean by_pidfd; /* given as a pidfd, not opened by pid */
  char comm[64];
  uid_t uids[4];
  gid_t gids[4];
  uid_t proc_owner;
  guint64 cap_eff;
  guint64 cap_prm;
  guint64 start_time;
  /* Why it may not be worked on (ma_target_check_usable()), or NULL. */
  MaError refusal;
  char *refusal_message;
};

/* Reads a whole file below @dir_fd. A read that fails with ESRCH (the
 * process behind a /proc directory has gone) is MA_ERROR_EXITED. */
char *ma_read_file_at (int dir_fd, const char *name, gsize *out_len, GError **error);

/* Given whole lines (and, at the end, whatever follows the last newline);
 * @more_likely: the read that brought them filled its buffer. */
typedef gboolean (*MaLinesFunc) (const char *buf, gsize len, gboolean more_likely,
                                 gpointer user_data, GError **error);
/* Reads a file below @dir_fd about @chunk bytes at a time and hands each
 * piece to @func as it comes, stopping when @func fails. Errors of the
 * file itself are as ma_read_file_at()'s. */
gboolean ma_read_lines_at (int dir_fd, const char *name, gsize chunk, MaLinesFunc func,
                           gpointer user_data, GError **error);

MaError ma_error_code_from_errno (int errsv);

/* Reads /proc/PID/status of the target through its verified directory. */
gboolean ma_target_read_status (MaTarget *target, MaStatus *status, GError **error);

/* Maps an errno from a /proc read or a syscall on the target to an error. */
void ma_set_error_from_errno (GError **error, int errsv, pid_t pid, const char *what);

/* Residency of a target's pages, from /proc/PID/pagemap: the PAGEMAP_SCAN
 * ioctl where the kernel has it, 64-bit entries read with pread otherwise. */
typedef struct _MaPagemap MaPagemap;

MaPagemap *ma_pagemap_open (int proc_fd, GError **error);
void ma_pagemap_free (MaPagemap *pagemap);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MaPagemap, ma_pagemap_free)
/* TRUE when one call can sweep a span holding many mappings cheaply (the
 * kernel skips holes); pread of pagemap entries cannot. */
gboolean ma_pagemap_can_sweep (MaPagemap *pagemap);
/* Appends the runs of resident pages in [start, end) to @runs, leaving
 * out the shared zero page. Within an anonymous mapping every such page is
 * anonymous; a sweep over other mappings also finds their pages, which
 * ma_runs_assign() clips away. */
gboolean ma_pagemap_resident_runs (MaPagemap *pagemap, guint64 start, guint64 end, GArray *runs,
                                   GError **error);
/* The same of the pages in swap. */
gboolean ma_pagemap_swapped_runs (MaPagemap *pagemap, guint64 start, guint64 end, GArray *runs,
                                  GError **error);

/* Which pages of @runs (normalized) are resident now: a new normalized
 * list, NULL with @error when pagemap cannot be read. */
GArray *ma_target_resident_within (MaTarget *target, const GArray *runs, GError **error);

/* Sweeps of pagemap over spans of candidates, done by helper threads while
 * the caller goes on planning (sweep.c). Threads inherit the caller's
 * credentials, so they read pagemap as it would. */
typedef struct _MaSweeper MaSweeper;

/* @pagemap is the caller's, used when it sweeps in ma_sweeper_finish(). */
MaSweeper *ma_sweeper_new (int proc_fd, MaPagemap *pagemap);
/* Adds a span above every span before it. @more_coming: the caller has
 * more to add, so a helper may start on this one at once. */
void ma_sweeper_add (MaSweeper *sweeper, guint64 start, guint64 end, gboolean more_coming);
/* Sweeps what is left, waits for the helpers and appends the runs of all
 * spans to @runs in address order; fails with the first span's error. */
gboolean ma_sweeper_finish (MaSweeper *sweeper, GArray *runs, GError **error);
void ma_sweeper_free (MaSweeper *sweeper);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MaSweeper, ma_sweeper_free)

/* What a plan learnt for ma_refaults_update(): the earlier out pages not
 * back, joined by the sample's pages still out; the hot pages, old and
 * found now. Normalized runs. */
typedef struct _MaPlanLearnt
{
  GArray *out;
  GArray *hot;
  gint64 hot_found_usec;
} MaPlanLearnt;

void ma_plan_learnt_free (MaPlanLearnt *learnt);
GArray *ma_refaults_out_runs (const MaRefaults *refaults);
GArray *ma_refaults_hot_runs (const MaRefaults *refaults);
gint64 ma_refaults_get_hot_found_usec (const MaRefaults *refaults);

/* What a sample knows (normalized runs): every page it and its trials
 * advised, and those of them the kernel kept (resident right after the
 * advice); the spread sample's pages (guint64 addresses, ascending), one
 * per granule of ma_sample_get_granule_pages() pages. */
const GArray *ma_sample_get_advised (const MaSample *sample);
const GArray *ma_sample_get_kept (const MaSample *sample);
const GArray *ma_sample_get_pages (const MaSample *sample);
guint64 ma_sample_get_granule_pages (const MaSample *sample);
/* The target's figures when the sample began, before anything was advised. */
const MaMemStat *ma_sample_get_before (const MaSample *sample);

/* Piece-wise selection when pages inside mappings are told apart
 * (pieces.c). A piece is a resident run with a key; lower keys go first,
 * ties in the order the pieces were added. */
typedef struct
{
  guint64 start;
  guint64 length;
  guint64 key;
  guint seq;
} MaPiece;

/* What ma_plan_pages() needs of the plan in progress: the candidates in
 * address order, the rank position of each (ma_rank_vmas()), and all
 * their resident runs, normalized. */
typedef struct
{
  const MaVma *vmas;
  const guint *candidates;
  guint n;
  const guint *rank;
  const GArray *resident;
} MaPagesInput;

/* Fills @plan's budget, ranges and coldness figures from the request's
 * refaults and sample; plan->eligible_bytes holds the resident eligible
 * bytes on entry. */
gboolean ma_plan_pages (MaPlan *plan, const MaPlanRequest *request, const MaPagesInput *in,
                        GError **error);

/* Adds the map of @request to @plan, made with @vmas (every mapping the
 * plan read, in address order) and @runs (the resident runs of the
 * eligible ones): reads which of their pages are in swap (map.c). */
gboolean ma_plan_add_map (MaPlan *plan, MaTarget *target, const MaPlanRequest *request,
                          const GArray *vmas, const GArray *runs, GError **error);

/* Takes pieces in key order until @budget_bytes, cutting the last at a
 * page boundary; appends the ranges to @ranges_out; returns the bytes. */
guint64 ma_pieces_select (GArray *pieces, guint64 budget_bytes, GArray *ranges_out);

G_END_DECLS
