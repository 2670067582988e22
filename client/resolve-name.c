/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * --name: the processes pidof(8) would name. A process matches when NAME is
 * its command name (/proc/PID/comm), the basename of its executable or the
 * basename of its argv[0]. Kernel threads (no command line) and this
 * process are left out. Each match is held by a pidfd and matched again
 * afterwards: only if its process is still alive then was what was read
 * of /proc/PID about the process the pidfd holds.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "memadvisectl.h"

static char *
read_proc_file (const char *pid, const char *file, gsize *out_len)
{
  g_autofree char *path = g_build_filename ("/proc", pid, file, NULL);
  char *contents = NULL;

  if (!g_file_get_contents (path, &contents, out_len, NULL))
    return NULL;
  return contents;
}

static gboolean
basename_matches (const char *path, const char *name)
{
  const char *slash;

  if (path == NULL || *path == '\0')
    return FALSE;
  slash = strrchr (path, '/');
  return g_str_equal (slash != NULL ? slash + 1 : path, name);
}

static gboolean
process_matches (const char *pid, const char *name)
{
  g_autofree char *cmdline = NULL;
  g_autofree char *comm = NULL;
  g_autofree char *exe_path = NULL;
  g_autofree char *exe = NULL;
  gsize cmdline_len = 0;

  cmdline = read_proc_file (pid, "cmdline", &cmdline_len);
  if (cmdline == NULL || cmdline_len == 0)
    return FALSE; /* a kernel thread, a zombie or gone */

  comm = read_proc_file (pid, "comm", NULL);
  if (comm != NULL && g_str_equal (g_strchomp (comm), name))
    return TRUE;

  /* argv[0] is the first NUL-terminated string of cmdline. */
  if (basename_matches (cmdline, name))
    return TRUE;

  /* Readable only for one's own processes (or with privileges). */
  exe_path = g_build_filename ("/proc", pid, "exe", NULL);
  exe = g_file_read_link (exe_path, NULL);
  if (exe != NULL)
    {
      if (g_str_has_suffix (exe, " (deleted)"))
        exe[strlen (exe) - strlen (" (deleted)")] = '\0';
      if (basename_matches (exe, name))
        return TRUE;
    }
  return FALSE;
}

static int
compare_processes (gconstpointer a, gconstpointer b)
{
  guint32 pa = ((const CtlProcess *) a)->pid;
  guint32 pb = ((const CtlProcess *) b)->pid;

  return pa < pb ? -1 : pa > pb;
}

gboolean
ctl_resolve_name (const char *name, GArray *processes, GError **error)
{
  g_autoptr (GDir) dir = NULL;
  guint before = processes->len;
  g_autoptr (GError) local_error = NULL;
  const char *entry;
  guint64 self = (guint64) getpid ();

  if (*name == '\0' || strchr (name, '/') != NULL)
    {
      g_set_error (error, CTL_ERROR, CTL_EXIT_USAGE,
                   "--name takes a process name without a directory, not “%s”.", name);
      return FALSE;
    }

  dir = g_dir_open ("/proc", 0, &local_error);
  if (dir == NULL)
    {
      g_set_error (error, CTL_ERROR, CTL_EXIT_FAILED, "Cannot list processes: %s.",
                   local_error->message);
      return FALSE;
    }

  while ((entry = g_dir_read_name (dir)) != NULL)
    {
      guint64 pid = 0;

      CtlProcess process = { .pidfd = -1 };

      if (!g_ascii_string_to_unsigned (entry, 10, 1, G_MAXINT32, &pid, NULL) || pid == self)
        continue;
      if (!process_matches (entry, name))
        continue;
      process.pid = (guint32) pid;
      process.pidfd = ctl_pidfd_open (process.pid);
      if (process.pidfd >= 0 && process_matches (entry, name) && ctl_pidfd_alive (process.pidfd))
        g_array_append_val (processes, process);
      else
        ctl_process_clear (&process); /* gone, or its pid now another's */
    }

  if (processes->len == before)
    {
      g_set_error (error, CTL_ERROR, CTL_EXIT_FAILED, "No running process is named “%s”.", name);
      return FALSE;
    }
  qsort (processes->data + before * sizeof (CtlProcess), processes->len - before,
         sizeof (CtlProcess), compare_processes);
  return TRUE;
}
