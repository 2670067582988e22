/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * A target process held by its pidfd, opened by the daemon from a pid or
 * given to it (read_facts() says why what is read of it is about it).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ma-private.h"

#define PF_KTHREAD 0x00200000
#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL /* Linux 6.9 */
#endif

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

/* The pidfd's process has exited: FALSE when it has also been reaped
 * (its pid may then name another process), TRUE while it is a zombie. */
static gboolean
exited_unreaped (MaTarget *target)
{
  char path[64];
  g_autofree char *buf = NULL;
  gsize len;
  MaFdinfo info;

  g_snprintf (path, sizeof path, "/proc/self/fdinfo/%d", target->pidfd);
  if (!g_file_get_contents (path, &buf, &len, NULL) || !ma_fdinfo_parse (buf, len, &info, NULL))
    return FALSE;
  return info.has_pid && info.pid == target->pid;
}

/* Refuses the target with @code and a sentence; the first refusal stays. */
G_GNUC_PRINTF (3, 4)
static void
refuse (MaTarget *target, MaError code, const char *format, ...)
{
  va_list args;

  if (target->refusal_message != NULL)
    return;
  target->refusal = code;
  va_start (args, format);
  target->refusal_message = g_strdup_vprintf (format, args);
  va_end (args);
}

/* The process has gone before its facts could be read. */
static void
set_gone_error (MaTarget *target, GError **error)
{
  /* A pid names nothing once its process is reaped; a pidfd still names
   * the process, which has exited. */
  if (target->by_pidfd)
    g_set_error (error, MA_ERROR, MA_ERROR_EXITED, "Process %d has exited.", (int) target->pid);
  else
    g_set_error (error, MA_ERROR, MA_ERROR_NO_SUCH_PROCESS, "There is no process %d.",
                 (int) target->pid);
}

/* Opens /proc/PID for target->pidfd and reads the facts through it. The
 * pidfd is opened first; if its process has not been reaped once
 * /proc/PID is open, the directory belongs to it (a /proc/PID fd stays
 * bound to its process and fails with ESRCH once it is gone), so every
 * later read through it is about the same process even if the pid is
 * reused. */
static gboolean
read_facts (MaTarget *target, GError **error)
{
  pid_t pid = target->pid;
  char path[32];
  struct stat st;
  MaStatus status;
  MaStat stat;

  g_snprintf (path, sizeof path, "/proc/%d", (int) pid);
  target->proc_fd = open (path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (target->proc_fd < 0 && (errno == ENOENT || errno == ESRCH))
    {
      set_gone_error (target, error);
      return FALSE;
    }
  if (target->proc_fd < 0)
    {
      ma_set_error_from_errno (error, errno, pid, "open /proc");
      return FALSE;
    }
  if (!ma_target_check_alive (target, NULL))
    {
      if (!exited_unreaped (target))
        {
          set_gone_error (target, error);
          return FALSE;
        }
      refuse (target, MA_ERROR_EXITED, "Process %d has exited (it is a zombie).", (int) pid);
    }

  if (fstat (target->proc_fd, &st) < 0)
    {
      ma_set_error_from_errno (error, errno, pid, "stat /proc");
      return FALSE;
    }
  target->proc_owner = st.st_uid;

  if (!ma_target_read_status (target, &status, error))
    return FALSE;
  if (!read_stat (target, &stat, error))
    return FALSE;
  target->start_time = stat.start_time;
  if (!status.has_uids || !status.has_gids)
    {
      g_set_error (error, MA_ERROR, MA_ERROR_FAILED,
                   "Process %d has no Uid: or Gid: line in its status.", (int) pid);
      return FALSE;
    }
  memcpy (target->uids, status.uids, sizeof target->uids);
  memcpy (target->gids, status.gids, sizeof target->gids);
  target->cap_eff = status.has_caps ? status.cap_eff : G_MAXUINT64;
  target->cap_prm = status.has_caps ? status.cap_prm : G_MAXUINT64;
  if (!read_comm (target, error))
    return FALSE;

  if (pid == 1)
    refuse (target, MA_ERROR_PROTECTED, "Process 1 (init) is never touched.");
  if (pid == getpid ())
    refuse (target, MA_ERROR_PROTECTED, "Process %d is memadvise itself and is never touched.",
            (int) pid);
  if (status.state == 'Z' || status.state == 'X')
    refuse (target, MA_ERROR_EXITED, "Process %d has exited (it is a zombie).", (int) pid);
  /* Kernels before 6.0 have no Kthread: line; PF_KTHREAD in stat says it. */
  if (status.kthread == 1 || (status.kthread < 0 && (stat.flags & PF_KTHREAD) != 0))
    refuse (target, MA_ERROR_KERNEL_THREAD,
            "Process %d is a kernel thread and has no memory of its own.", (int) pid);

  /* Everything above was read through proc_fd; make sure it was still ours. */
  if (target->refusal_message == NULL && !ma_target_check_alive (target, error))
    return FALSE;
  return TRUE;
}

MaTarget *
ma_target_open_any (pid_t pid, GError **error)
{
  g_autoptr (MaTarget) target = NULL;

  if (pid <= 0)
    {
      g_set_error (error, MA_ERROR, MA_ERROR_INVALID_ARGUMENT, "%d is not a valid process id.",
                   (int) pid);
      return NULL;
    }

  target = g_new0 (MaTarget, 1);
  target->pid = pid;
  target->proc_fd = -1;

  target->pidfd = (int) syscall (SYS_pidfd_open, pid, 0);
  if (target->pidfd < 0 && (errno == EINVAL || errno == ENOENT))
    {
      /* A thread id (or, before Linux 5.x, a pid without a process).
       * Where the kernel opens threads (6.9, PIDFD_THREAD), its facts are
       * read so that the daemon tells only a caller who may see it that
       * it is a thread; elsewhere it is no process. */
      target->pidfd = (int) syscall (SYS_pidfd_open, pid, PIDFD_THREAD);
      if (target->pidfd < 0)
        {
          g_set_error (error, MA_ERROR, MA_ERROR_NO_SUCH_PROCESS, "There is no process %d.",
                       (int) pid);
          return NULL;
        }
      refuse (target, MA_ERROR_NO_SUCH_PROCESS, "%d is not a process (it may be a thread of one).",
              (int) pid);
    }
  else if (target->pidfd < 0)
    {
      int errsv = errno;
      if (errsv == ESRCH)
        g_set_error (error, MA_ERROR, MA_ERROR_NO_SUCH_PROCESS, "There is no process %d.",
                     (int) pid);
      else
        ma_set_error_from_errno (error, errsv, pid, "pidfd_open");
      return NULL;
    }

  if (!read_facts (target, error))
    return NULL;
  return g_steal_pointer (&target);
}

MaTarget *
ma_target_open_pidfd (int pidfd, GError **error)
{
  g_autoptr (MaTarget) target = g_new0 (MaTarget, 1);
  char path[64];
  g_autofree char *buf = NULL;
  gsize len;
  MaFdinfo info;

  target->proc_fd = -1;
  target->by_pidfd = TRUE;
  target->pidfd = fcntl (pidfd, F_DUPFD_CLOEXEC, 3);
  if (target->pidfd < 0)
    {
      ma_set_error_from_errno (error, errno, 0, "duplicate a pidfd");
      return NULL;
    }
  if (!ma_pidfd_check (target->pidfd, error))
    return NULL;
  g_snprintf (path, sizeof path, "/proc/self/fdinfo/%d", target->pidfd);
  if (!g_file_get_contents (path, &buf, &len, NULL) || !ma_fdinfo_parse (buf, len, &info, NULL)
      || !info.has_pid || !info.has_flags)
    {
      g_set_error (error, MA_ERROR, MA_ERROR_FAILED, "Could not read what the pidfd refers to.");
      return NULL;
    }
  if (info.pid < 0)
    {
      g_set_error (error, MA_ERROR, MA_ERROR_EXITED, "The process of the pidfd has exited.");
      return NULL;
    }
  if (info.pid == 0)
    {
      g_set_error (error, MA_ERROR, MA_ERROR_NO_SUCH_PROCESS,
                   "The process of the pidfd is not in memadvised's pid namespace.");
      return NULL;
    }
  if ((info.flags & O_EXCL) != 0)
    {
      g_set_error (error, MA_ERROR, MA_ERROR_NO_SUCH_PROCESS,
                   "The pidfd refers to a thread, not to a process.");
      return NULL;
    }
  target->pid = (pid_t) info.pid;
  if (!read_facts (target, error))
    return NULL;
  return g_steal_pointer (&target);
}

gboolean
ma_pidfd_check (int fd, GError **error)
{
  char path[64];
  g_autofree char *name = NULL;

  /* The kernel names a pidfd's file "anon_inode:[pidfd]" (pidfs keeps
   * the name); no file of a real file system has a name without a "/".
   * readlink asks nothing of the file's own file system. */
  g_snprintf (path, sizeof path, "/proc/self/fd/%d", fd);
  name = g_file_read_link (path, NULL);
  if (name == NULL || !g_str_equal (name, "anon_inode:[pidfd]"))
    {
      g_set_error (error, MA_ERROR, MA_ERROR_INVALID_ARGUMENT, "The file is not a pidfd.");
      return FALSE;
    }
  return TRUE;
}

gboolean
ma_target_check_usable (MaTarget *target, GError **error)
{
  if (target->refusal_message == NULL)
    return TRUE;
  g_set_error_literal (error, MA_ERROR, target->refusal, target->refusal_message);
  return FALSE;
}

MaTarget *
ma_target_open (pid_t pid, GError **error)
{
  g_autoptr (MaTarget) target = ma_target_open_any (pid, error);

  if (target == NULL || !ma_target_check_usable (target, error))
    return NULL;
  return g_steal_pointer (&target);
}

gboolean
ma_target_verify_credentials (MaTarget *target, GError **error)
{
  struct stat st;
  MaStatus status;

  if (!ma_target_check_alive (target, error))
    return FALSE;
  if (fstat (target->proc_fd, &st) < 0)
    {
      ma_set_error_from_errno (error, errno, target->pid, "stat /proc");
      return FALSE;
    }
  if (!ma_target_read_status (target, &status, error))
    return FALSE;
  if (st.st_uid != target->proc_owner || !status.has_uids || !status.has_gids || !status.has_caps
      || memcmp (status.uids, target->uids, sizeof target->uids) != 0
      || memcmp (status.gids, target->gids, sizeof target->gids) != 0
      || status.cap_eff != target->cap_eff || status.cap_prm != target->cap_prm)
    {
      g_set_error (error, MA_ERROR, MA_ERROR_NOT_AUTHORIZED,
                   "Process %d changed its credentials while it was worked on (it may have run a "
                   "setuid program), so nothing of it is reported.",
                   (int) target->pid);
      return FALSE;
    }
  /* Read through proc_fd: still ours only if the process is still alive. */
  return ma_target_check_alive (target, error);
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
  g_free (target->refusal_message);
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

const gid_t *
ma_target_get_gids (MaTarget *target)
{
  return target->gids;
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
