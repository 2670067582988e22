/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * A target process held by its pidfd.
 *
 * The pidfd is opened first; /proc/PID is then opened as a directory and the
 * pidfd is polled: if the process has not exited at that point, the directory
 * fd belongs to it (a /proc/PID fd stays bound to its process and fails with
 * ESRCH once it is gone), so every later read through it is about the same
 * process even if the pid is recycled.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ma-private.h"

#define PF_KTHREAD 0x00200000

MaError
ma_error_code_from_errno (int errsv)
{
  switch (errsv)
    {
    case ESRCH:
    case ENOENT:
      return MA_ERROR_EXITED;
    case EPERM:
    case EACCES:
      return MA_ERROR_NOT_AUTHORIZED;
    case ENOSYS:
      return MA_ERROR_NOT_SUPPORTED;
    default:
      return MA_ERROR_FAILED;
    }
}

void
ma_set_error_from_errno (GError **error, int errsv, pid_t pid, const char *what)
{
  switch (ma_error_code_from_errno (errsv))
    {
    case MA_ERROR_EXITED:
      g_set_error (error, MA_ERROR, MA_ERROR_EXITED, "Process %d has exited.", (int) pid);
      break;
    case MA_ERROR_NOT_AUTHORIZED:
      g_set_error (error, MA_ERROR, MA_ERROR_NOT_AUTHORIZED,
                   "The kernel refused access to process %d (%s: %s).", (int) pid, what,
                   g_strerror (errsv));
      break;
    case MA_ERROR_NOT_SUPPORTED:
      g_set_error (error, MA_ERROR, MA_ERROR_NOT_SUPPORTED, "This kernel does not support %s.",
                   what);
      break;
    default:
      g_set_error (error, MA_ERROR, MA_ERROR_FAILED, "Could not %s of process %d: %s.", what,
                   (int) pid, g_strerror (errsv));
      break;
    }
}

/* Opens @name below @dir_fd for reading; -1 with @error set. */
static int
open_at (int dir_fd, const char *name, GError **error)
{
  int fd = openat (dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY);

  if (fd < 0)
    {
      int errsv = errno;
      g_set_error (error, MA_ERROR, ma_error_code_from_errno (errsv), "Could not open %s: %s.",
                   name, g_strerror (errsv));
    }
  return fd;
}

/* One read(2) of at most @count bytes, again when interrupted; -1 with
 * @error set. */
static gssize
read_some (int fd, const char *name, char *buf, gsize count, GError **error)
{
  for (;;)
    {
      ssize_t n = read (fd, buf, count);

      if (n >= 0)
        return n;
      if (errno != EINTR)
        {
          int errsv = errno;
          g_set_error (error, MA_ERROR, ma_error_code_from_errno (errsv), "Could not read %s: %s.",
                       name, g_strerror (errsv));
          return -1;
        }
    }
}

char *
ma_read_file_at (int dir_fd, const char *name, gsize *out_len, GError **error)
{
  g_autofree char *buf = NULL;
  gsize size = 16384, len = 0;
  gssize n;
  int fd;

  fd = open_at (dir_fd, name, error);
  if (fd < 0)
    return NULL;

  buf = g_malloc (size);
  do
    {
      if (len == size)
        {
          size *= 2;
          buf = g_realloc (buf, size);
        }
      n = read_some (fd, name, buf + len, size - len, error);
      if (n > 0)
        len += (gsize) n;
    }
  while (n > 0);
  close (fd);
  if (n < 0)
    return NULL;

  *out_len = len;
  return g_steal_pointer (&buf);
}

gboolean
ma_read_lines_at (int dir_fd, const char *name, gsize chunk, MaLinesFunc func, gpointer user_data,
                  GError **error)
{
  g_autofree char *buf = g_malloc (chunk);
  gsize size = chunk, len = 0;
  gboolean ok = TRUE, eof = FALSE;
  int fd;

  fd = open_at (dir_fd, name, error);
  if (fd < 0)
    return FALSE;
  while (ok && !eof)
    {
      gsize want, upto;
      gssize got;

      if (len == size)
        {
          /* A line longer than the buffer (a long path). */
          size *= 2;
          buf = g_realloc (buf, size);
        }
      want = size - len;
      got = read_some (fd, name, buf + len, want, error);
      if (got < 0)
        {
          ok = FALSE;
          break;
        }
      eof = got == 0;
      len += (gsize) got;

      /* Whole lines only, until the end: whatever is left then goes too. */
      upto = len;
      if (!eof)
        {
          const char *nl = memrchr (buf, '\n', len);
          upto = nl != NULL ? (gsize) (nl - buf) + 1 : 0;
        }
      if (upto == 0)
        continue;
      ok = func (buf, upto, !eof && (gsize) got == want, user_data, error);
      memmove (buf, buf + upto, len - upto);
      len -= upto;
    }
  close (fd);
  return ok;
}

gboolean
ma_target_read_status (MaTarget *target, MaStatus *status, GError **error)
{
  g_autofree char *buf = NULL;
  gsize len;

  buf = ma_read_file_at (target->proc_fd, "status", &len, error);
  if (buf == NULL)
    return FALSE;
  return ma_status_parse (buf, len, status, error);
}

static gboolean
read_stat (MaTarget *target, MaStat *stat, GError **error)
{
  g_autofree char *buf = NULL;
  gsize len;

  buf = ma_read_file_at (target->proc_fd, "stat", &len, error);
  if (buf == NULL)
    return FALSE;
  return ma_stat_parse (buf, len, stat, error);
}

static gboolean
read_comm (MaTarget *target, GError **error)
{
  g_autofree char *buf = NULL;
  gsize len, i;

  buf = ma_read_file_at (target->proc_fd, "comm", &len, error);
  if (buf == NULL)
    return FALSE;
  while (len > 0 && buf[len - 1] == '\n')
    len--;
  len = MIN (len, sizeof target->comm - 1);
  for (i = 0; i < len; i++)
    target->comm[i] = buf[i] == '\0' ? '?' : buf[i];
  target->comm[len] = '\0';
  /* comm is written by the target: keep it valid UTF-8 for the bus. */
  if (!g_utf8_validate (target->comm, -1, NULL))
    {
      g_autofree char *valid = g_utf8_make_valid (target->comm, -1);
      g_strlcpy (target->comm, valid, sizeof target->comm);
    }
  return TRUE;
}

MaTarget *
ma_target_open (pid_t pid, GError **error)
{
  g_autoptr (MaTarget) target = NULL;
  char path[32];
  struct stat st;
  MaStatus status;
  MaStat stat;

  if (pid <= 0)
    {
      g_set_error (error, MA_ERROR, MA_ERROR_INVALID_ARGUMENT, "%d is not a valid process id.",
                   (int) pid);
      return NULL;
    }
  if (pid == 1)
    {
      g_set_error (error, MA_ERROR, MA_ERROR_PROTECTED, "Process 1 (init) is never touched.");
      return NULL;
    }
  if (pid == getpid ())
    {
      g_set_error (error, MA_ERROR, MA_ERROR_PROTECTED,
                   "Process %d is memadvise itself and is never touched.", (int) pid);
      return NULL;
    }

  target = g_new0 (MaTarget, 1);
  target->pid = pid;
  target->proc_fd = -1;

  target->pidfd = (int) syscall (SYS_pidfd_open, pid, 0);
  if (target->pidfd < 0)
    {
      int errsv = errno;
      if (errsv == ESRCH)
        g_set_error (error, MA_ERROR, MA_ERROR_NO_SUCH_PROCESS, "There is no process %d.",
                     (int) pid);
      else if (errsv == EINVAL || errsv == ENOENT)
        g_set_error (error, MA_ERROR, MA_ERROR_NO_SUCH_PROCESS,
                     "%d is not a process (it may be a thread of one).", (int) pid);
      else
        ma_set_error_from_errno (error, errsv, pid, "pidfd_open");
      return NULL;
    }

  g_snprintf (path, sizeof path, "/proc/%d", (int) pid);
  target->proc_fd = open (path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (target->proc_fd < 0)
    {
      ma_set_error_from_errno (error, errno, pid, "open /proc");
      return NULL;
    }
  if (!ma_target_check_alive (target, error))
    return NULL;

  if (fstat (target->proc_fd, &st) < 0)
    {
      ma_set_error_from_errno (error, errno, pid, "stat /proc");
      return NULL;
    }
  target->proc_owner = st.st_uid;

  if (!ma_target_read_status (target, &status, error))
    return NULL;
  if (status.state == 'Z' || status.state == 'X')
    {
      g_set_error (error, MA_ERROR, MA_ERROR_EXITED, "Process %d has exited (it is a zombie).",
                   (int) pid);
      return NULL;
    }
  if (!read_stat (target, &stat, error))
    return NULL;
  target->start_time = stat.start_time;
  /* Kernels before 6.0 have no Kthread: line; PF_KTHREAD in stat says it. */
  if (status.kthread == 1 || (status.kthread < 0 && (stat.flags & PF_KTHREAD) != 0))
    {
      g_set_error (error, MA_ERROR, MA_ERROR_KERNEL_THREAD,
                   "Process %d is a kernel thread and has no memory of its own.", (int) pid);
      return NULL;
    }
  if (!status.has_uids)
    {
      g_set_error (error, MA_ERROR, MA_ERROR_FAILED, "Process %d has no Uid: line in its status.",
                   (int) pid);
      return NULL;
    }
  memcpy (target->uids, status.uids, sizeof target->uids);
  target->cap_eff = status.has_caps ? status.cap_eff : G_MAXUINT64;
  target->cap_prm = status.has_caps ? status.cap_prm : G_MAXUINT64;

  if (!read_comm (target, error))
    return NULL;

  /* Everything above was read through proc_fd; make sure it was still ours. */
  if (!ma_target_check_alive (target, error))
    return NULL;

  return g_steal_pointer (&target);
}

void
ma_target_free (MaTarget *target)
{
  if (target == NULL)
    return;
  if (target->proc_fd >= 0)
    close (target->proc_fd);
  if (target->pidfd >= 0)
    close (target->pidfd);
  g_free (target);
}

gboolean
ma_target_check_alive (MaTarget *target, GError **error)
{
  struct pollfd pfd = { .fd = target->pidfd, .events = POLLIN };
  int r;

  /* A pidfd polls readable once its process has exited (zombie or reaped). */
  do
    r = poll (&pfd, 1, 0);
  while (r < 0 && errno == EINTR);

  if (r < 0)
    {
      ma_set_error_from_errno (error, errno, target->pid, "poll pidfd");
      return FALSE;
    }
  if (r > 0)
    {
      g_set_error (error, MA_ERROR, MA_ERROR_EXITED, "Process %d has exited.", (int) target->pid);
      return FALSE;
    }
  return TRUE;
}

gboolean
ma_target_read_memstat (MaTarget *target, MaMemStat *out, GError **error)
{
  MaStatus status;

  if (!ma_target_read_status (target, &status, error))
    return FALSE;
  *out = status.mem;
  return TRUE;
}

gboolean
ma_target_read_cgroup (MaTarget *target, char **out_path, GError **error)
{
  g_autofree char *buf = NULL;
  gsize len;

  buf = ma_read_file_at (target->proc_fd, "cgroup", &len, error);
  if (buf == NULL)
    return FALSE;
  return ma_cgroup_parse (buf, len, out_path, error);
}

pid_t
ma_target_get_pid (MaTarget *target)
{
  return target->pid;
}

int
ma_target_get_pidfd (MaTarget *target)
{
  return target->pidfd;
}

int
ma_target_get_proc_fd (MaTarget *target)
{
  return target->proc_fd;
}

const char *
ma_target_get_comm (MaTarget *target)
{
  return target->comm;
}

const uid_t *
ma_target_get_uids (MaTarget *target)
{
  return target->uids;
}

guint64
ma_target_get_cap_eff (MaTarget *target)
{
  return target->cap_eff;
}

guint64
ma_target_get_cap_prm (MaTarget *target)
{
  return target->cap_prm;
}

guint64
ma_target_get_start_time (MaTarget *target)
{
  return target->start_time;
}

uid_t
ma_target_get_proc_owner (MaTarget *target)
{
  return target->proc_owner;
}
