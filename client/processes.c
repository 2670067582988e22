/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The processes a reclaim or plan names (--target, then --name), each once
 * and held by a pidfd, which is what memadvisectl passes to memadvised
 * (PlanPidfds, ReclaimPidfds): between resolving a name to pids and the
 * daemon opening them a pid may be reused, which a pidfd never is. A pid
 * that names no process gets its results entry here, as the daemon words
 * one.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "memadvisectl.h"

void
ctl_process_clear (CtlProcess *process)
{
  if (process->pidfd >= 0)
    close (process->pidfd);
  process->pidfd = -1;
  g_clear_pointer (&process->missing, g_free);
}

int
ctl_pidfd_open (guint32 pid)
{
  return (int) syscall (SYS_pidfd_open, (pid_t) pid, 0);
}

gboolean
ctl_pidfd_alive (int pidfd)
{
  struct pollfd pfd = { .fd = pidfd, .events = POLLIN };
  int r;

  /* A pidfd polls readable once its process has exited. */
  do
    r = poll (&pfd, 1, 0);
  while (r < 0 && errno == EINTR);
  return r == 0;
}

static gboolean
named (GArray *processes, guint32 pid)
{
  for (guint i = 0; i < processes->len; i++)
    if (g_array_index (processes, CtlProcess, i).pid == pid)
      return TRUE;
  return FALSE;
}

/* --target PID: held from now on, or the entry of a pid that names none. */
static void
add_target (GArray *processes, guint32 pid)
{
  CtlProcess process = { .pid = pid, .pidfd = ctl_pidfd_open (pid) };

  if (process.pidfd < 0 && (errno == EINVAL || errno == ENOENT))
    process.missing = g_strdup_printf ("%u is not a process (it may be a thread of one).", pid);
  else if (process.pidfd < 0)
    process.missing = g_strdup_printf ("There is no process %u.", pid);
  g_array_append_val (processes, process);
}

GArray *
ctl_collect_processes (const CtlOptions *options, GError **error)
{
  g_autoptr (GArray) processes = g_array_new (FALSE, TRUE, sizeof (CtlProcess));

  g_array_set_clear_func (processes, (GDestroyNotify) ctl_process_clear);
  for (guint i = 0; i < options->pids->len; i++)
    {
      guint32 pid = g_array_index (options->pids, guint32, i);

      if (!named (processes, pid))
        add_target (processes, pid);
    }
  for (guint i = 0; options->names != NULL && options->names[i] != NULL; i++)
    {
      g_autoptr (GArray) found = g_array_new (FALSE, TRUE, sizeof (CtlProcess));

      g_array_set_clear_func (found, (GDestroyNotify) ctl_process_clear);
      if (!ctl_resolve_name (options->names[i], found, error))
        return NULL;
      for (guint j = 0; j < found->len; j++)
        {
          CtlProcess *process = &g_array_index (found, CtlProcess, j);

          if (named (processes, process->pid))
            continue;
          g_array_append_val (processes, *process);
          /* Now the list's. */
          process->pidfd = -1;
          process->missing = NULL;
        }
    }

  if (processes->len > MA_DBUS_MAX_PIDS)
    {
      g_set_error (error, CTL_ERROR, CTL_EXIT_USAGE,
                   "Too many targets: %u processes were named and memadvisectl takes at most %u.",
                   processes->len, MA_DBUS_MAX_PIDS);
      return NULL;
    }
  return g_steal_pointer (&processes);
}

GVariant *
ctl_process_missing_entry (const CtlProcess *process, gboolean reclaim)
{
  g_auto (GVariantDict) dict = G_VARIANT_DICT_INIT (NULL);
  static const char *const figures[] = { "eligible-bytes", "planned-bytes", "advised-bytes",
                                         "rss-before",     "anon-before",   "swap-before" };
  static const char *const after[] = { "rss-after", "anon-after", "swap-after" };

  g_variant_dict_insert (&dict, "pid", "u", process->pid);
  g_variant_dict_insert (&dict, "comm", "s", "");
  g_variant_dict_insert (&dict, "uid", "u", G_MAXUINT32);
  g_variant_dict_insert (&dict, "status", "s", "failed");
  g_variant_dict_insert (&dict, "error", "s", "no-such-process");
  g_variant_dict_insert (&dict, "message", "s", process->missing);
  for (gsize i = 0; i < G_N_ELEMENTS (figures); i++)
    g_variant_dict_insert (&dict, figures[i], "t", G_GUINT64_CONSTANT (0));
  for (gsize i = 0; reclaim && i < G_N_ELEMENTS (after); i++)
    g_variant_dict_insert (&dict, after[i], "t", G_GUINT64_CONSTANT (0));
  return g_variant_dict_end (&dict);
}
