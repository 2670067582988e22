/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * A polkit text agent for this process, as systemctl starts one: without a
 * desktop agent, a password prompt on the terminal is the only way an
 * interactive authorization can be answered. pkttyagent registers for the
 * login session (through logind) and tells us on --notify-fd once it has.
 * It asks on the controlling terminal; its own complaints (no session, no
 * terminal) are not ours to print.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib-unix.h>

#include "memadvisectl.h"

#define REGISTER_TIMEOUT_MS 5000

struct _CtlAgent
{
  GPid pid;
};

CtlAgent *
ctl_agent_start (void)
{
  g_autofree char *program = g_find_program_in_path ("pkttyagent");
  g_autoptr (GError) error = NULL;
  int notify[2] = { -1, -1 };
  int source_fds[1];
  int target_fds[1] = { 3 };
  struct pollfd pfd;
  CtlAgent *agent;
  GPid pid = 0;

  if (program == NULL || !g_unix_open_pipe (notify, FD_CLOEXEC, NULL))
    return NULL;
  source_fds[0] = notify[1];

  {
    const char *const argv[] = { program, "--notify-fd", "3", "--fallback", NULL };

    if (!g_spawn_async_with_pipes_and_fds (
            NULL, argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL,
            -1, -1, -1, source_fds, target_fds, 1, &pid, NULL, NULL, NULL, &error))
      {
        g_debug ("Cannot start pkttyagent: %s", error->message);
        close (notify[0]);
        close (notify[1]);
        return NULL;
      }
  }
  close (notify[1]);

  /* The agent closes or writes to the fd once registered, or exits. */
  pfd.fd = notify[0];
  pfd.events = POLLIN | POLLHUP;
  while (poll (&pfd, 1, REGISTER_TIMEOUT_MS) < 0 && errno == EINTR)
    ;
  close (notify[0]);

  agent = g_new0 (CtlAgent, 1);
  agent->pid = pid;
  return agent;
}

void
ctl_agent_stop (CtlAgent *agent)
{
  if (agent == NULL)
    return;
  kill (agent->pid, SIGTERM);
  while (waitpid (agent->pid, NULL, 0) < 0 && errno == EINTR)
    ;
  g_spawn_close_pid (agent->pid);
  g_free (agent);
}
