/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Live tests of which process a target is and what it is: targets given as
 * pidfds (never looked up again by pid), the facts of processes the engine
 * refuses, credentials read again after a setuid exec, user namespaces and
 * the proc file system a process sees.
 */

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "live-common.h"

#define NOBODY 65534
#define MiB_ (1024 * 1024)

static int
pidfd_open (pid_t pid, unsigned int flags)
{
  return (int) syscall (SYS_pidfd_open, pid, flags);
}

static void
test_pidfd_target_is_its_process (void)
{
  g_autoptr (TestTarget) t = test_target_spawn ();
  g_autoptr (GError) error = NULL;
  g_autoptr (MaTarget) target = NULL;
  g_autoptr (MaPlan) plan = NULL;
  MaPlanRequest request = { .mode = MA_MODE_COLD, .percent = 100, .order = MA_ORDER_ADDRESS };
  int pidfd = pidfd_open (test_target_get_pid (t), 0);

  g_assert_cmpint (pidfd, >=, 0);
  test_target_map (t, "a", "anon", 4 * MiB_, FALSE, NULL);
  target = ma_target_open_pidfd (pidfd, &error);
  g_assert_no_error (error);
  g_assert_cmpint (ma_target_get_pid (target), ==, test_target_get_pid (t));
  g_assert_true (ma_target_check_usable (target, &error));
  /* The engine holds a duplicate: the caller's pidfd stays the caller's. */
  g_assert_cmpint (ma_target_get_pidfd (target), !=, pidfd);
  close (pidfd);
  plan = live_plan_request (target, &request);
  g_assert_cmpuint (plan->planned_bytes, >=, 4 * MiB_);
}

static void
test_pidfd_of_exited_process_is_exited (void)
{
  g_autoptr (TestTarget) t = test_target_spawn ();
  g_autoptr (GError) error = NULL;
  g_autoptr (MaTarget) target = NULL;
  int pidfd = pidfd_open (test_target_get_pid (t), 0);

  g_assert_cmpint (pidfd, >=, 0);
  test_target_exit (t);
  target = ma_target_open_pidfd (pidfd, &error);
  g_assert_error (error, MA_ERROR, MA_ERROR_EXITED);
  g_assert_null (target);
  close (pidfd);
}

static gboolean
write_file (const char *path, const char *text)
{
  int fd = open (path, O_WRONLY | O_CLOEXEC);
  gboolean ok = fd >= 0 && write (fd, text, strlen (text)) == (ssize_t) strlen (text);

  if (fd >= 0)
    close (fd);
  return ok;
}

/* Makes the next process the kernel creates get @pid, as far as it can:
 * other processes may take it first. */
static void
set_last_pid (pid_t pid)
{
  g_autofree char *text = g_strdup_printf ("%d", (int) pid - 1);

  g_assert_true (write_file ("/proc/sys/kernel/ns_last_pid", text));
}

static void
test_pidfd_never_reaches_a_reused_pid (void)
{
  for (int attempt = 0; attempt < 20; attempt++)
    {
      g_autoptr (TestTarget) old = test_target_spawn ();
      g_autoptr (TestTarget) reuser = NULL;
      g_autoptr (MaTarget) target = NULL;
      g_autoptr (MaTarget) by_pid = NULL;
      g_autoptr (GError) error = NULL;
      pid_t pid = test_target_get_pid (old);
      int pidfd = pidfd_open (pid, 0);

      g_assert_cmpint (pidfd, >=, 0);
      test_target_exit (old);
      set_last_pid (pid);
      reuser = test_target_spawn ();
      if (test_target_get_pid (reuser) != pid)
        {
          close (pidfd);
          continue; /* another process took the pid: again */
        }
      /* The pid names a live process, but not the pidfd's. */
      by_pid = ma_target_open (pid, &error);
      g_assert_no_error (error);
      target = ma_target_open_pidfd (pidfd, &error);
      g_assert_error (error, MA_ERROR, MA_ERROR_EXITED);
      g_assert_null (target);
      close (pidfd);
      return;
    }
  g_error ("the pid of an exited target was never reused in 20 attempts");
}

static void
test_pidfd_check_refuses_other_files (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MaTarget) target = NULL;
  int fds[2], file, pidfd;

  g_assert_cmpint (pipe2 (fds, O_CLOEXEC), ==, 0);
  file = open ("/proc/self/status", O_RDONLY | O_CLOEXEC);
  g_assert_cmpint (file, >=, 0);
  for (guint i = 0; i < 3; i++)
    {
      g_autoptr (GError) local_error = NULL;
      int fd = i < 2 ? fds[i] : file;

      g_assert_false (ma_pidfd_check (fd, &local_error));
      g_assert_error (local_error, MA_ERROR, MA_ERROR_INVALID_ARGUMENT);
      g_clear_error (&local_error);
      g_assert_null (ma_target_open_pidfd (fd, &local_error));
      g_assert_error (local_error, MA_ERROR, MA_ERROR_INVALID_ARGUMENT);
    }
  close (fds[0]);
  close (fds[1]);
  close (file);

  pidfd = pidfd_open (getpid (), 0);
  g_assert_true (ma_pidfd_check (pidfd, &error));
  g_assert_no_error (error);
  close (pidfd);
}

static gpointer
wait_for_end (gpointer data)
{
  g_mutex_lock (data);
  g_mutex_unlock (data);
  return NULL;
}

static void
test_thread_is_no_process (void)
{
  GMutex lock;
  GThread *thread;
  g_autoptr (MaTarget) target = NULL;
  g_autoptr (GError) error = NULL;
  pid_t tid = 0;
  int pidfd;

  g_mutex_init (&lock);
  g_mutex_lock (&lock);
  thread = g_thread_new ("waiter", wait_for_end, &lock);
  /* The newest task of this process is the thread. */
  for (int i = 0; i < 1000 && tid == 0; i++)
    {
      g_autoptr (GDir) dir = g_dir_open ("/proc/self/task", 0, NULL);
      const char *name;

      while ((name = g_dir_read_name (dir)) != NULL)
        if (atoi (name) != getpid () && atoi (name) > tid)
          tid = atoi (name);
    }
  g_assert_cmpint (tid, >, 0);

  /* By tid: opened with its facts, refused as no process. */
  target = ma_target_open_any (tid, &error);
  g_assert_no_error (error);
  g_assert_false (ma_target_check_usable (target, &error));
  g_assert_error (error, MA_ERROR, MA_ERROR_NO_SUCH_PROCESS);
  g_assert_nonnull (strstr (error->message, "thread"));
  g_clear_error (&error);
  g_clear_pointer (&target, ma_target_free);

  /* By a thread's pidfd. */
  pidfd = pidfd_open (tid, O_EXCL /* PIDFD_THREAD */);
  g_assert_cmpint (pidfd, >=, 0);
  target = ma_target_open_pidfd (pidfd, &error);
  g_assert_error (error, MA_ERROR, MA_ERROR_NO_SUCH_PROCESS);
  g_assert_null (target);
  close (pidfd);

  g_mutex_unlock (&lock);
  g_thread_join (thread);
  g_mutex_clear (&lock);
}

static void
test_refused_targets_keep_their_facts (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MaTarget) init = ma_target_open_any (1, &error);
  g_autoptr (MaTarget) zombie = NULL;
  pid_t child;
  int status;

  g_assert_no_error (error);
  g_assert_cmpuint (ma_target_get_uids (init)[0], ==, 0);
  g_assert_cmpuint (ma_target_get_gids (init)[0], ==, 0);
  g_assert_false (ma_target_check_usable (init, &error));
  g_assert_error (error, MA_ERROR, MA_ERROR_PROTECTED);
  g_clear_error (&error);

  child = fork ();
  g_assert_cmpint (child, >=, 0);
  if (child == 0)
    _exit (0);
  for (int i = 0; i < 5000; i++)
    {
      g_autofree char *path = g_strdup_printf ("/proc/%d/stat", (int) child);
      g_autofree char *text = NULL;

      g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
      if (strstr (strrchr (text, ')'), " Z ") != NULL)
        break;
      g_usleep (1000);
    }
  zombie = ma_target_open_any (child, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (ma_target_get_uids (zombie)[0], ==, getuid ());
  g_assert_false (ma_target_check_usable (zombie, &error));
  g_assert_error (error, MA_ERROR, MA_ERROR_EXITED);
  g_assert_cmpint (waitpid (child, &status, 0), ==, child);
}

/* Child setups: run after fork, before the exec; _exit(127) on failure. */
static void
become_nobody (gpointer data)
{
  if (setgroups (0, NULL) < 0 || setresgid (NOBODY, NOBODY, NOBODY) < 0
      || setresuid (NOBODY, NOBODY, NOBODY) < 0)
    _exit (127);
}

static void
nobody_in_a_user_namespace (gpointer data)
{
  become_nobody (NULL);
  if (unshare (CLONE_NEWUSER) < 0)
    _exit (127);
}

static void
root_mapped_in_a_user_namespace (gpointer data)
{
  if (unshare (CLONE_NEWUSER) < 0 || !write_file ("/proc/self/uid_map", "0 0 1\n"))
    _exit (127);
}

static void
hidepid_in_a_mount_namespace (gpointer data)
{
  if (unshare (CLONE_NEWNS) < 0 || mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0
      || mount ("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, data) < 0)
    _exit (127);
}

/* A setuid-root copy of ma-test-target in a fresh directory, which
 * nobody may reach; removed by the caller. */
static char *
setuid_root_copy (char **out_dir)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *contents = NULL;
  gsize len;
  char *path;

  *out_dir = g_dir_make_tmp ("ma-live-XXXXXX", &error);
  g_assert_no_error (error);
  g_assert_cmpint (chmod (*out_dir, 0755), ==, 0);
  path = g_build_filename (*out_dir, "ma-test-target-setuid", NULL);
  g_assert_true (g_file_get_contents (test_target_path (), &contents, &len, &error));
  g_assert_true (g_file_set_contents (path, contents, (gssize) len, &error));
  g_assert_cmpint (chown (path, 0, 0), ==, 0);
  g_assert_cmpint (chmod (path, 04755), ==, 0);
  return path;
}

static void
test_credentials_read_again_after_setuid_exec (void)
{
  g_autofree char *dir = NULL;
  g_autofree char *copy = setuid_root_copy (&dir);
  g_autoptr (TestTarget) t = test_target_spawn_with (become_nobody, NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (MaTarget) target = NULL;
  g_autoptr (MaPlan) plan = NULL;
  MaPlanRequest request = { .mode = MA_MODE_COLD, .percent = 100, .order = MA_ORDER_ADDRESS };

  target = ma_target_open (test_target_get_pid (t), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (ma_target_get_uids (target)[1], ==, NOBODY);
  g_assert_true (ma_target_verify_credentials (target, &error));
  g_assert_no_error (error);

  /* It becomes root: uids "65534 0 0 0", not dumpable, every capability.
   * The engine, reading as root here, still plans it: what it read was of
   * a process that is no longer what it was opened as. */
  test_target_exec (t, copy);
  test_target_map (t, "a", "anon", 4 * MiB_, FALSE, NULL);
  plan = ma_target_plan (target, &request, &error);
  g_assert_no_error (error);
  g_assert_nonnull (plan);
  g_assert_false (ma_target_verify_credentials (target, &error));
  g_assert_error (error, MA_ERROR, MA_ERROR_NOT_AUTHORIZED);

  g_assert_cmpint (unlink (copy), ==, 0);
  g_assert_cmpint (rmdir (dir), ==, 0);
}

static void
test_user_namespaces (void)
{
  g_autoptr (TestTarget) plain = test_target_spawn ();
  g_autoptr (TestTarget) nested = test_target_spawn_with (nobody_in_a_user_namespace, NULL);
  g_autoptr (TestTarget) rooted = test_target_spawn_with (root_mapped_in_a_user_namespace, NULL);
  g_autoptr (MaTarget) target = NULL;
  g_autoptr (GError) error = NULL;
  MaUserns userns;
  gboolean shares;

  target = ma_target_open (test_target_get_pid (plain), &error);
  g_assert_no_error (error);
  g_assert_true (ma_target_read_userns (target, 0, &userns, &error));
  g_assert_no_error (error);
  g_assert_false (userns.nested);
  g_assert_false (userns.owned);
  g_assert_true (ma_target_shares_pid_ns (target, &shares, &error));
  g_assert_true (shares);
  g_clear_pointer (&target, ma_target_free);

  /* Created by nobody, nothing mapped: nobody's, and only nobody's. */
  target = ma_target_open (test_target_get_pid (nested), &error);
  g_assert_no_error (error);
  g_assert_true (ma_target_read_userns (target, NOBODY, &userns, &error));
  g_assert_true (userns.nested && userns.owned && userns.owned_top);
  g_assert_false (userns.root_mapped);
  g_assert_true (ma_target_read_userns (target, 1000, &userns, &error));
  g_assert_true (userns.nested);
  g_assert_false (userns.owned || userns.owned_top);
  g_clear_pointer (&target, ma_target_free);

  /* Root's, with root mapped into it. */
  target = ma_target_open (test_target_get_pid (rooted), &error);
  g_assert_no_error (error);
  g_assert_true (ma_target_read_userns (target, 0, &userns, &error));
  g_assert_true (userns.nested && userns.owned);
  g_assert_true (userns.root_mapped);
}

static void
test_proc_mount_of_a_process (void)
{
  g_autoptr (TestTarget) plain = test_target_spawn ();
  g_autoptr (TestTarget) hidden
      = test_target_spawn_with (hidepid_in_a_mount_namespace, (gpointer) "hidepid=invisible,gid=4");
  g_autoptr (MaTarget) target = NULL;
  g_autoptr (GError) error = NULL;
  MaProcMount own, mount;

  g_assert_true (ma_read_own_proc_mount (&own, &error));
  g_assert_no_error (error);
  g_assert_true (own.mounted);

  target = ma_target_open (test_target_get_pid (plain), &error);
  g_assert_no_error (error);
  g_assert_true (ma_target_read_proc_mount (target, &mount, &error));
  g_assert_true (mount.mounted);
  g_assert_cmpint (mount.hidepid, ==, own.hidepid);
  g_clear_pointer (&target, ma_target_free);

  target = ma_target_open (test_target_get_pid (hidden), &error);
  g_assert_no_error (error);
  g_assert_true (ma_target_read_proc_mount (target, &mount, &error));
  g_assert_no_error (error);
  g_assert_true (mount.mounted);
  g_assert_cmpint (mount.hidepid, ==, MA_HIDEPID_INVISIBLE);
  g_assert_true (mount.has_gid);
  g_assert_cmpuint (mount.gid, ==, 4);
}

int
main (int argc, char **argv)
{
  live_test_init (&argc, &argv);

  g_test_add_func ("/live/identity/pidfd-target-is-its-process", test_pidfd_target_is_its_process);
  g_test_add_func ("/live/identity/pidfd-of-exited-process-is-exited",
                   test_pidfd_of_exited_process_is_exited);
  g_test_add_func ("/live/identity/pidfd-never-reaches-a-reused-pid",
                   test_pidfd_never_reaches_a_reused_pid);
  g_test_add_func ("/live/identity/pidfd-check-refuses-other-files",
                   test_pidfd_check_refuses_other_files);
  g_test_add_func ("/live/identity/thread-is-no-process", test_thread_is_no_process);
  g_test_add_func ("/live/identity/refused-targets-keep-their-facts",
                   test_refused_targets_keep_their_facts);
  g_test_add_func ("/live/identity/credentials-read-again-after-setuid-exec",
                   test_credentials_read_again_after_setuid_exec);
  g_test_add_func ("/live/identity/user-namespaces", test_user_namespaces);
  g_test_add_func ("/live/identity/proc-mount-of-a-process", test_proc_mount_of_a_process);

  return g_test_run ();
}
