/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * --name: the processes pidof(8) would name. A process matches when NAME is
 * its command name (/proc/PID/comm), the basename of its executable or the
 * basename of its argv[0]. Kernel threads (no command line) and this
 * process are left out.
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
compare_pids (gconstpointer a, gconstpointer b)
{
  guint32 pa = *(const guint32 *) a;
  guint32 pb = *(const guint32 *) b;

  return pa < pb ? -1 : pa > pb;
}

gboolean
ctl_resolve_name (const char *name, GArray *pids, GError **error)
{
  g_autoptr (GDir) dir = NULL;
  g_autoptr (GArray) found = g_array_new (FALSE, FALSE, sizeof (guint32));
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

      if (!g_ascii_string_to_unsigned (entry, 10, 1, G_MAXINT32, &pid, NULL) || pid == self)
        continue;
      if (process_matches (entry, name))
        {
          guint32 pid32 = (guint32) pid;
          g_array_append_val (found, pid32);
        }
    }

  if (found->len == 0)
    {
      g_set_error (error, CTL_ERROR, CTL_EXIT_FAILED, "No running process is named “%s”.", name);
      return FALSE;
    }
  g_array_sort (found, compare_pids);
  g_array_append_vals (pids, found->data, found->len);
  return TRUE;
}
