/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Live tests of the targets the engine refuses: zombies, kernel threads,
 * pid 1, pids that do not exist, invalid pids.
 */

#include <sys/wait.h>
#include <unistd.h>

#include "live-common.h"

#define PF_KTHREAD 0x00200000

/* Opens @pid and, if that works, plans: one of the two must fail with @code.
 * Nothing is ever applied. */
static void
assert_open_or_plan_fails (pid_t pid, int code)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MaTarget) target = ma_target_open (pid, &error);
  g_autoptr (MaPlan) plan = NULL;
  MaPlanRequest request = { .mode = MA_MODE_PAGEOUT, .percent = 100 };

  if (target)
    {
      g_assert_no_error (error);
      plan = ma_target_plan (target, &request, &error);
      g_assert_null (plan);
    }
  g_assert_error (error, MA_ERROR, code);
}

/* A field of /proc/PID/stat after the comm, counted from the state (0). */
static gboolean
read_stat_field (pid_t pid, guint index, char **out)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/stat", (int) pid);
  g_autofree char *contents = NULL;
  g_auto (GStrv) fields = NULL;
  char *paren;

  if (!g_file_get_contents (path, &contents, NULL, NULL))
    return FALSE;
  paren = strrchr (contents, ')');
  if (!paren || paren[1] != ' ')
    return FALSE;
  fields = g_strsplit (paren + 2, " ", -1);
  if (g_strv_length (fields) <= index)
    return FALSE;
  *out = g_strdup (fields[index]);
  return TRUE;
}

static void
test_refuse_zombie_exited (void)
{
  pid_t pid = fork ();
  int status;

  g_assert_cmpint (pid, >=, 0);
  if (pid == 0)
    _exit (0);

  /* Not reaped until the end: wait until the kernel shows it as a zombie. */
  for (int i = 0;; i++)
    {
      g_autofree char *state = NULL;

      g_assert_true (read_stat_field (pid, 0, &state));
      if (g_str_equal (state, "Z"))
        break;
      g_assert_cmpint (i, <, 5000);
      g_usleep (1000);
    }
  assert_open_or_plan_fails (pid, MA_ERROR_EXITED);

  g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
}

static gboolean
is_kernel_thread (pid_t pid)
{
  g_autofree char *flags = NULL;
  guint64 value;

  return read_stat_field (pid, 6, &flags)
         && g_ascii_string_to_unsigned (flags, 10, 0, G_MAXUINT64, &value, NULL)
         && (value & PF_KTHREAD);
}

static void
test_refuse_kernel_thread (void)
{
  g_autoptr (GDir) dir = NULL;
  const char *name;
  pid_t kthread = 0;

  /* kthreadd (pid 2) is the usual one; any PF_KTHREAD task will do. */
  if (is_kernel_thread (2))
    kthread = 2;
  dir = g_dir_open ("/proc", 0, NULL);
  g_assert_nonnull (dir);
  while (!kthread && (name = g_dir_read_name (dir)))
    {
      guint64 pid;

      if (g_ascii_string_to_unsigned (name, 10, 1, G_MAXINT, &pid, NULL) && is_kernel_thread (pid))
        kthread = pid;
    }
  g_assert_cmpint (kthread, >, 0);
  g_test_message ("kernel thread: pid %d", (int) kthread);
  assert_open_or_plan_fails (kthread, MA_ERROR_KERNEL_THREAD);
}

static void
test_refuse_pid_1_protected (void)
{
  assert_open_or_plan_fails (1, MA_ERROR_PROTECTED);
}

static void
test_refuse_free_pid_no_such_process (void)
{
  g_autofree char *contents = NULL;
  guint64 pid_max;
  pid_t pid;

  g_assert_true (g_file_get_contents ("/proc/sys/kernel/pid_max", &contents, NULL, NULL));
  g_assert_true (
      g_ascii_string_to_unsigned (g_strstrip (contents), 10, 2, G_MAXINT, &pid_max, NULL));
  /* pids are handed out upwards and wrap: the top ones are the last used */
  for (pid = pid_max - 1; pid > 1; pid--)
    {
      g_autofree char *path = g_strdup_printf ("/proc/%d", (int) pid);
      if (!g_file_test (path, G_FILE_TEST_EXISTS))
        break;
    }
  g_assert_cmpint (pid, >, 1);

  assert_open_or_plan_fails (pid, MA_ERROR_NO_SUCH_PROCESS);
}

static void
test_refuse_pid_0_and_negative_invalid (void)
{
  pid_t bad[] = { 0, -1, -2, G_MININT };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (MaTarget) target = ma_target_open (bad[i], &error);

      g_assert_null (target);
      g_assert_error (error, MA_ERROR, MA_ERROR_INVALID_ARGUMENT);
    }
}

int
main (int argc, char **argv)
{
  live_test_init (&argc, &argv);

  g_test_add_func ("/live/refuse/zombie-exited", test_refuse_zombie_exited);
  g_test_add_func ("/live/refuse/kernel-thread", test_refuse_kernel_thread);
  g_test_add_func ("/live/refuse/pid-1-protected", test_refuse_pid_1_protected);
  g_test_add_func ("/live/refuse/free-pid-no-such-process", test_refuse_free_pid_no_such_process);
  g_test_add_func ("/live/refuse/pid-0-and-negative-invalid",
                   test_refuse_pid_0_and_negative_invalid);

  return g_test_run ();
}
