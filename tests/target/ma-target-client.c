/* SPDX-License-Identifier: GPL-2.0-or-later */

#include "ma-target-client.h"

#include <signal.h>
#include <sys/prctl.h>

struct _TestTarget
{
  GSubprocess *process;
  GOutputStream *input;
  GDataInputStream *output;
  pid_t pid;
};

const char *
test_target_path (void)
{
  static char *path;

  if (!path)
    {
      const char *env = g_getenv ("MA_TEST_TARGET");
      const char *builddir = g_getenv ("G_TEST_BUILDDIR");

      if (env && *env)
        path = g_strdup (env);
      else if (builddir)
        path = g_build_filename (builddir, "target", "ma-test-target", NULL);
      else
        g_error ("MA_TEST_TARGET is not set");
    }
  return path;
}

typedef struct
{
  GSpawnChildSetupFunc setup;
  gpointer setup_data;
} ChildSetup;

static void
child_setup (gpointer user_data)
{
  ChildSetup *child = user_data;

  prctl (PR_SET_PDEATHSIG, SIGKILL);
  if (child->setup != NULL)
    child->setup (child->setup_data);
}

static char *
read_reply (TestTarget *target)
{
  g_autoptr (GError) error = NULL;
  char *line = g_data_input_stream_read_line_utf8 (target->output, NULL, NULL, &error);

  g_assert_no_error (error);
  if (!line)
    g_error ("ma-test-target %d closed its output", (int) target->pid);
  return line;
}

/* The `ready PID` line; returns the pid. */
static pid_t
read_ready (TestTarget *target)
{
  g_autofree char *ready = read_reply (target);
  guint64 pid;

  g_assert_true (g_str_has_prefix (ready, "ready "));
  g_assert_true (g_ascii_string_to_unsigned (ready + 6, 10, 1, G_MAXINT, &pid, NULL));
  return (pid_t) pid;
}

TestTarget *
test_target_spawn (void)
{
  return test_target_spawn_with (NULL, NULL);
}

TestTarget *
test_target_spawn_with (GSpawnChildSetupFunc setup, gpointer setup_data)
{
  g_autoptr (GSubprocessLauncher) launcher = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *pid_text = NULL;
  TestTarget *target = g_new0 (TestTarget, 1);
  ChildSetup *child = g_new0 (ChildSetup, 1);

  child->setup = setup;
  child->setup_data = setup_data;
  launcher
      = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_subprocess_launcher_set_child_setup (launcher, child_setup, child, g_free);
  target->process = g_subprocess_launcher_spawn (launcher, &error, test_target_path (), NULL);
  g_assert_no_error (error);
  target->input = g_object_ref (g_subprocess_get_stdin_pipe (target->process));
  target->output = g_data_input_stream_new (g_subprocess_get_stdout_pipe (target->process));

  target->pid = read_ready (target);
  pid_text = g_strdup_printf ("%d", (int) target->pid);
  g_assert_cmpstr (g_subprocess_get_identifier (target->process), ==, pid_text);
  return target;
}

void
test_target_exec (TestTarget *target, const char *path)
{
  g_autoptr (GError) error = NULL;

  g_output_stream_printf (target->input, NULL, NULL, &error, "exec %s\n", path);
  g_assert_no_error (error);
  g_output_stream_flush (target->input, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (read_ready (target), ==, target->pid);
}

void
test_target_free (TestTarget *target)
{
  if (target->input)
    g_output_stream_close (target->input, NULL, NULL);
  if (target->process)
    {
      /* stdin closed: it exits on its own; kill it if it does not. */
      for (int i = 0; i < 500 && g_subprocess_get_identifier (target->process); i++)
        g_usleep (10000);
      if (g_subprocess_get_identifier (target->process))
        g_subprocess_force_exit (target->process);
      g_subprocess_wait (target->process, NULL, NULL);
    }
  g_clear_object (&target->input);
  g_clear_object (&target->output);
  g_clear_object (&target->process);
  g_free (target);
}

pid_t
test_target_get_pid (TestTarget *target)
{
  return target->pid;
}

char *
test_target_command (TestTarget *target, const char *format, ...)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *command = NULL;
  g_autofree char *line = NULL;
  va_list args;

  va_start (args, format);
  command = g_strdup_vprintf (format, args);
  va_end (args);

  g_output_stream_printf (target->input, NULL, NULL, &error, "%s\n", command);
  g_assert_no_error (error);
  g_output_stream_flush (target->input, NULL, &error);
  g_assert_no_error (error);

  line = read_reply (target);
  if (!g_str_equal (line, "ok") && !g_str_has_prefix (line, "ok "))
    g_error ("ma-test-target: `%s` -> `%s`", command, line);
  return g_strdup (line[2] ? line + 3 : "");
}

guint64
test_target_map (TestTarget *target, const char *name, const char *kind, guint64 size,
                 gboolean lowentropy, guint64 *out_length)
{
  g_autofree char *reply = test_target_command (target, "map %s %s %" G_GUINT64_FORMAT "%s", name,
                                                kind, size, lowentropy ? " lowentropy" : "");
  g_auto (GStrv) words = g_strsplit (reply, " ", -1);
  guint64 start, length;

  g_assert_cmpuint (g_strv_length (words), ==, 2);
  g_assert_true (g_ascii_string_to_unsigned (words[0], 16, 1, G_MAXUINT64, &start, NULL));
  g_assert_true (g_ascii_string_to_unsigned (words[1], 10, 1, G_MAXUINT64, &length, NULL));
  if (out_length)
    *out_length = length;
  return start;
}

void
test_target_residency (TestTarget *target, const char *name, guint64 *out_pages,
                       guint64 *out_present, guint64 *out_swapped)
{
  g_autofree char *reply = test_target_command (target, "residency %s", name);
  g_auto (GStrv) words = g_strsplit (reply, " ", -1);
  guint64 values[3];

  g_assert_cmpuint (g_strv_length (words), ==, 3);
  for (guint i = 0; i < 3; i++)
    g_assert_true (g_ascii_string_to_unsigned (words[i], 10, 0, G_MAXUINT64, &values[i], NULL));
  if (out_pages)
    *out_pages = values[0];
  if (out_present)
    *out_present = values[1];
  if (out_swapped)
    *out_swapped = values[2];
}

guint64
test_target_checksum (TestTarget *target, const char *name)
{
  g_autofree char *reply = test_target_command (target, "checksum %s", name);
  guint64 value;

  g_assert_true (g_ascii_string_to_unsigned (reply, 16, 0, G_MAXUINT64, &value, NULL));
  return value;
}

void
test_target_exit (TestTarget *target)
{
  g_autoptr (GError) error = NULL;

  g_output_stream_printf (target->input, NULL, NULL, &error, "exit\n");
  g_assert_no_error (error);
  g_output_stream_flush (target->input, NULL, &error);
  g_assert_no_error (error);
  g_subprocess_wait (target->process, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_exited (target->process));
}
