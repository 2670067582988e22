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
};

/* Reads a whole file below @dir_fd. A read that fails with ESRCH (the
 * process behind a /proc directory has gone) is MA_ERROR_EXITED. */
char *ma_read_file_at (int dir_fd, const char *name, gsize *out_len, GError **error);

MaError ma_error_code_from_errno (int errsv);

/* Maps an errno from a /proc read or a syscall on the target to an error. */
void ma_set_error_from_errno (GError **error, int errsv, pid_t pid, const char *what);

/* Residency of a target's pages, from /proc/PID/pagemap: the PAGEMAP_SCAN
 * ioctl where the kernel has it, 64-bit entries read with pread otherwise. */
typedef struct _MaPagemap MaPagemap;

MaPagemap *ma_pagemap_open (int proc_fd, GError **error);
void ma_pagemap_free (MaPagemap *pagemap);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MaPagemap, ma_pagemap_free)
/* A MaResidencyFunc; @user_data is the MaPagemap. */
gboolean ma_pagemap_resident_runs (guint64 start, guint64 end, GArray *runs, gpointer user_data,
                                   GError **error);

G_END_DECLS
