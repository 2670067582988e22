/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Observations of a target's memory accesses (see ma-engine.h).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "ma-private.h"

struct _MaObservation
{
  pid_t pid;
  guint64 start_time;
  gint64 started_usec;
};

MaObservation *
ma_observation_start (MaTarget *target, GError **error)
{
  g_autoptr (MaObservation) observation = g_new0 (MaObservation, 1);
  ssize_t n;
  int fd;

  observation->pid = ma_target_get_pid (target);
  observation->start_time = ma_target_get_start_time (target);

  /* "2": the accessed bits of anonymous pages only; file pages keep their
   * history, which the page cache's own aging relies on. */
  fd = openat (ma_target_get_proc_fd (target), "clear_refs", O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    {
      ma_set_error_from_errno (error, errno, observation->pid, "open clear_refs");
      return NULL;
    }
  do
    n = write (fd, "2", 1);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    {
      int errsv = errno;
      close (fd);
      ma_set_error_from_errno (error, errsv, observation->pid, "write clear_refs");
      return NULL;
    }
  close (fd);
  observation->started_usec = g_get_monotonic_time ();

  /* The bits were cleared on the process the pidfd holds only if it is
   * still alive now. */
  if (!ma_target_check_alive (target, error))
    return NULL;
  return g_steal_pointer (&observation);
}

void
ma_observation_free (MaObservation *observation)
{
  g_free (observation);
}

gboolean
ma_observation_is_for (const MaObservation *observation, MaTarget *target)
{
  return observation->pid == ma_target_get_pid (target)
         && observation->start_time == ma_target_get_start_time (target);
}

gint64
ma_observation_get_age_usec (const MaObservation *observation)
{
  return g_get_monotonic_time () - observation->started_usec;
}
