/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * What memadvisectl and memadvise-session share (client/common): sizes,
 * app unit names, the user manager's cgroup, swap, the cgroup2 root and
 * printable text.
 */
#include "config.h"

#include <gio/gio.h>
#include <linux/magic.h>
#include <string.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "ma-client.h"
#include "ma-dbus-names.h"

#define KiB G_GUINT64_CONSTANT (1024)

static void
test_client_sizes_parse (void)
{
  static const struct
  {
    const char *text;
    guint64 bytes;
  } good[] = {
    { "0", 0 },
    { "4096", 4096 },
    { "4096B", 4096 },
    { "1K", KiB },
    { "1024k", 1024 * KiB },
    { "512M", 512 * KiB * KiB },
    { "3MiB", 3 * KiB * KiB },
    { "2G", 2 * KiB * KiB * KiB },
    { "2GiB", 2 * KiB * KiB * KiB },
    { "2GB", 2 * KiB * KiB * KiB },
    { "1t", KiB * KiB * KiB * KiB },
    { "16777215T", G_GUINT64_CONSTANT (16777215) << 40 },
    { "18446744073709551615", G_MAXUINT64 },
  };
  static const char *const bad[] = {
    "", "M", "1X", "-1", "1.5G", " 1", "1 M", "1MiBs", "1iB", "1P", "99999999999999999999",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (good); i++)
    {
      g_autoptr (GError) error = NULL;
      guint64 bytes = 1;

      g_assert_true (ma_client_parse_size (good[i].text, &bytes, &error));
      g_assert_no_error (error);
      g_assert_cmpuint (bytes, ==, good[i].bytes);
    }
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      guint64 bytes = 1;

      g_assert_false (ma_client_parse_size (bad[i], &bytes, &error));
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
      g_assert_cmpuint (bytes, ==, 1);
    }
  {
    g_autoptr (GError) error = NULL;
    guint64 bytes = 1;

    /* Fits as a number, not once multiplied. */
    g_assert_false (ma_client_parse_size ("16777216T", &bytes, &error));
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  }
}

static void
test_client_sizes_format (void)
{
  static const struct
  {
    guint64 bytes;
    const char *text;
  } cases[] = {
    { 0, "0 B" },
    { 1023, "1023 B" },
    { 1024, "1.0 KiB" },
    { 1536, "1.5 KiB" },
    { 512 * KiB * KiB, "512.0 MiB" },
    { 3 * KiB * KiB * KiB / 2, "1.5 GiB" },
    { G_MAXUINT64, "16.0 EiB" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *text = ma_client_format_size (cases[i].bytes);

      g_assert_cmpstr (text, ==, cases[i].text);
    }
}

static void
test_client_app_ids_of_units (void)
{
  static const struct
  {
    const char *unit;
    const char *app_id; /* NULL: not an app unit */
  } cases[] = {
    { "app-gnome-org.gnome.Epiphany-1234.scope", "org.gnome.Epiphany" },
    { "app-org.example.Foo-5678.scope", "org.example.Foo" },
    { "app-gnome-org.example.Foo@abc.service", "org.example.Foo" },
    { "app-org.example.Foo.service", "org.example.Foo" },
    { "app-gnome-org.example.my\\x2dapp-1.scope", "org.example.my-app" },
    { "app-gnome-memadvise\\x2dsession-999.scope", "memadvise-session" },
    { "app-flatpak-org.example.App-42.scope", "org.example.App" },
    /* Not the app: another one whose id starts alike. */
    { "app-gnome-org.example.FooBar-99.scope", "org.example.FooBar" },
    { "app-gnome-org.example.Foo-extra-1.scope", NULL },
    { "app-org.example.Foo.scope", NULL }, /* a scope has its RANDOM part */
    { "app-.scope", NULL },
    { "app--1.scope", NULL },
    { "app-gnome-x-1.slice", NULL },
    { "session-2.scope", NULL },
    { "user@1000.service", NULL },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *app_id = ma_client_app_id_from_unit (cases[i].unit);

      g_assert_cmpstr (app_id, ==, cases[i].app_id);
    }
}

static void
test_client_user_manager_cgroup (void)
{
  guint uid = (guint) getuid ();
  g_autofree char *manager = g_strdup_printf ("user@%u.service", uid);
  g_autofree char *inside
      = g_strdup_printf ("user.slice/user-%u.slice/%s/app.slice/a.scope", uid, manager);
  g_autofree char *nested = g_strdup_printf ("a/b/%s/session.slice/x.service", manager);
  g_autofree char *expected_default
      = g_strdup_printf ("user.slice/user-%u.slice/user@%u.service", uid, uid);
  g_autofree char *other
      = g_strdup_printf ("user.slice/user-%u.slice/user@%u.service/x", uid + 1, uid + 1);
  g_autofree char *look_alike = g_strdup_printf ("%sx/app.slice", manager);
  g_autofree char *got = NULL;

  got = ma_client_user_manager_cgroup (inside);
  g_assert_true (g_str_has_suffix (got, manager));
  g_assert_true (g_str_has_prefix (inside, got));
  g_clear_pointer (&got, g_free);

  got = ma_client_user_manager_cgroup (nested);
  g_assert_cmpstr (got + strlen ("a/b/"), ==, manager);
  g_clear_pointer (&got, g_free);

  /* Outside its own user manager: where systemd puts it. */
  for (guint i = 0; i < 4; i++)
    {
      const char *own[] = { NULL, "", other, look_alike };

      got = ma_client_user_manager_cgroup (own[i]);
      g_assert_cmpstr (got, ==, expected_default);
      g_clear_pointer (&got, g_free);
    }
}

static void
test_client_own_cgroup_is_the_cgroup2_line (void)
{
  g_autofree char *contents = NULL;
  g_autofree char *own = ma_client_own_cgroup ();

  g_assert_true (g_file_get_contents ("/proc/self/cgroup", &contents, NULL, NULL));
  if (own == NULL)
    g_assert_null (strstr (contents, "0::/"));
  else
    {
      g_autofree char *line = g_strdup_printf ("0::/%s\n", own);

      g_assert_nonnull (strstr (contents, line));
    }
}

/* The daemon's rule: the first cgroup2 file system of the two. */
static void
test_client_cgroup2_root_is_the_daemons (void)
{
  g_autoptr (GError) error = NULL;
  const char *root = ma_client_cgroup2_root (&error);
  const char *expected = NULL;
  struct statfs st;

  if (statfs (MA_CGROUP2_ROOT, &st) == 0 && st.f_type == CGROUP2_SUPER_MAGIC)
    expected = MA_CGROUP2_ROOT;
  else if (statfs (MA_CGROUP2_ROOT_HYBRID, &st) == 0 && st.f_type == CGROUP2_SUPER_MAGIC)
    expected = MA_CGROUP2_ROOT_HYBRID;
  g_assert_cmpstr (root, ==, expected);
  if (expected == NULL)
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  else
    g_assert_no_error (error);
}

static void
test_client_swap_figures (void)
{
  g_autoptr (GError) error = NULL;
  guint64 total = 1, free_bytes = 1;

  g_assert_true (ma_client_read_swap (&total, &free_bytes, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (free_bytes, <=, total);
}

static void
test_client_printable_text_has_no_controls (void)
{
  static const struct
  {
    const char *text;
    const char *printable;
  } cases[] = {
    { "firefox", "firefox" },
    { "", "" },
    { "Web Content", "Web Content" },
    { "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac", "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac" },
    /* What PR_SET_NAME lets a process call itself: clear the screen, red, bell. */
    { "\x1b[2J\x1b[31mX\x07", "?[2J?[31mX?" },
    /* An OSC that would set the terminal's title, ended by ST. */
    { "\x1b]0;pwned\x1b\\", "?]0;pwned?\\" },
    { "a\tb\nc\rd\x7f", "a?b?c?d?" },
    /* C1 controls: CSI (U+009B) alone starts a sequence on some terminals. */
    { "\xc2\x9b"
      "2J\xc2\x85",
      "?2J?" },
    /* Bidirectional overrides and isolates, line and paragraph separators. */
    { "abc\xe2\x80\xaegnp.exe", "abc?gnp.exe" },
    { "\xe2\x81\xa6x\xe2\x81\xa9\xe2\x80\xa8\xe2\x80\xa9", "?x???" },
    /* Invalid UTF-8 becomes U+FFFD; a lone 0x9b byte is not a C1 control. */
    { "a\x9b"
      "b\xff",
      "a\xef\xbf\xbd"
      "b\xef\xbf\xbd" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *printable = ma_client_printable (cases[i].text);

      g_assert_cmpstr (printable, ==, cases[i].printable);
    }
  g_assert_null (ma_client_printable (NULL));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/client/sizes-parse", test_client_sizes_parse);
  g_test_add_func ("/client/sizes-format", test_client_sizes_format);
  g_test_add_func ("/client/app-ids-of-units", test_client_app_ids_of_units);
  g_test_add_func ("/client/user-manager-cgroup", test_client_user_manager_cgroup);
  g_test_add_func ("/client/own-cgroup-is-the-cgroup2-line",
                   test_client_own_cgroup_is_the_cgroup2_line);
  g_test_add_func ("/client/cgroup2-root-is-the-daemons", test_client_cgroup2_root_is_the_daemons);
  g_test_add_func ("/client/swap-figures", test_client_swap_figures);
  g_test_add_func ("/client/printable-text-has-no-controls",
                   test_client_printable_text_has_no_controls);

  return g_test_run ();
}
