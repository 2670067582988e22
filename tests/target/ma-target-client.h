/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Drives ma-test-target from C tests and benchmarks: spawns it, sends
 * commands, parses replies. Every failure is a test failure (g_assert), so
 * callers need no error handling. The target dies with its parent
 * (PR_SET_PDEATHSIG) and on the end of its stdin, so an aborted test leaves
 * nothing running.
 */
#pragma once

#include <gio/gio.h>
#include <sys/types.h>

G_BEGIN_DECLS

typedef struct _TestTarget TestTarget;

/* The executable: $MA_TEST_TARGET, else ma-test-target beside the build dir. */
const char *test_target_path (void);

TestTarget *test_target_spawn (void);
/* The same, with @setup run in the child before the exec (to switch
 * users, namespaces, ...); it must leave the child able to run the
 * target and reports failures by _exit (127). */
TestTarget *test_target_spawn_with (GSpawnChildSetupFunc setup, gpointer setup_data);
/* Closes stdin, waits for the exit (kills it if it lingers) and frees. */
void test_target_free (TestTarget *target);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TestTarget, test_target_free)

pid_t test_target_get_pid (TestTarget *target);

/* Sends a command line; asserts the reply starts with "ok" and returns the
 * rest of it (possibly empty). */
char *test_target_command (TestTarget *target, const char *format, ...) G_GNUC_PRINTF (2, 3);

/* map NAME KIND SIZE [lowentropy]; returns the start, sets the length. */
guint64 test_target_map (TestTarget *target, const char *name, const char *kind, guint64 size,
                         gboolean lowentropy, guint64 *out_length);
void test_target_residency (TestTarget *target, const char *name, guint64 *out_pages,
                            guint64 *out_present, guint64 *out_swapped);
guint64 test_target_checksum (TestTarget *target, const char *name);
/* Sends `exec PATH` and waits for the new program's `ready PID`, which
 * must be the same pid. */
void test_target_exec (TestTarget *target, const char *path);
/* Sends `exit` and reaps the process. */
void test_target_exit (TestTarget *target);

G_END_DECLS
