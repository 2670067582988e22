/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * ma_cgroup_parse: the cgroup2 path of /proc/PID/cgroup, on a recorded
 * hybrid system (tests/fixtures/hybrid.cgroup) and on made-up text.
 */
#include "config.h"

#include <gio/gio.h>
#include <string.h>

#include "ma-parse.h"

/* Parses an exactly sized copy, so ASan catches a read past the end. */
static gboolean
parse (const char *text, gsize len, char **path, GError **error)
{
  g_autofree char *copy = g_malloc (MAX (len, 1));

  memcpy (copy, text, len);
  return ma_cgroup_parse (copy, len, path, error);
}

static char *
parse_ok (const char *text)
{
  g_autoptr (GError) error = NULL;
  char *path = (char *) "untouched";

  g_assert_true (parse (text, strlen (text), &path, &error));
  g_assert_no_error (error);
  return path;
}

static void
assert_invalid (const char *text, gsize len)
{
  g_autoptr (GError) error = NULL;
  char *path = (char *) "untouched";

  g_assert_false (parse (text, len, &path, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_assert_cmpstr (path, ==, "untouched");
}

static void
test_cgroup_recorded_hybrid_system (void)
{
  g_autofree char *file = g_test_build_filename (G_TEST_DIST, "fixtures", "hybrid.cgroup", NULL);
  g_autofree char *text = NULL;
  g_autofree char *path = NULL;
  g_autoptr (GError) error = NULL;
  gsize len;

  g_assert_true (g_file_get_contents (file, &text, &len, &error));
  g_assert_true (parse (text, len, &path, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (path, ==, "/");
}

static void
test_cgroup_pure_v2 (void)
{
  g_autofree char *path = parse_ok ("0::/user.slice/user-1000.slice/session-2.scope\n");

  g_assert_cmpstr (path, ==, "/user.slice/user-1000.slice/session-2.scope");
}

static void
test_cgroup_v1_only_has_no_path (void)
{
  g_autofree char *path = parse_ok ("12:pids:/user.slice\n1:name=systemd:/user.slice\n");

  g_assert_null (path);
  g_assert_null (parse_ok (""));
}

static void
test_cgroup_v1_lines_and_other_shapes_are_skipped (void)
{
  g_autofree char *path
      = parse_ok ("4:memory:/a\nnot a cgroup line\n0:cpu:/b\n10::/c\n0::/d e (deleted)\n");

  g_assert_cmpstr (path, ==, "/d e (deleted)");
}

static void
test_cgroup_malformed_is_error (void)
{
  static const char *const bad[] = {
    "0::/a",          /* cut short */
    "0::/a\n0::/b\n", /* two cgroup2 lines */
    "0::\n",          /* empty path */
    "0::relative\n",  /* not absolute */
    "1:cpu:/\n0::/a", /* cut short after a v1 line */
    "1:cpu:/",        /* a v1 line cut short */
  };

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    assert_invalid (bad[i], strlen (bad[i]));
  /* A NUL byte would shorten the path a protection rule matches. */
  assert_invalid ("0::/a\0b\n", 8);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/cgroup/recorded-hybrid-system", test_cgroup_recorded_hybrid_system);
  g_test_add_func ("/cgroup/pure-v2", test_cgroup_pure_v2);
  g_test_add_func ("/cgroup/v1-only-has-no-path", test_cgroup_v1_only_has_no_path);
  g_test_add_func ("/cgroup/v1-lines-and-other-shapes-are-skipped",
                   test_cgroup_v1_lines_and_other_shapes_are_skipped);
  g_test_add_func ("/cgroup/malformed-is-error", test_cgroup_malformed_is_error);

  return g_test_run ();
}
