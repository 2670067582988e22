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
  int proc_fd; /* /proc/PID, verified with pidfd to be the same process */
  char comm[64];
  uid_t uids[4];
  uid_t proc_owner;
  guint64 cap_eff;
  guint64 cap_prm;
  guint64 start_time;
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

G_END_DECLS
