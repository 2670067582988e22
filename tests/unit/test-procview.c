/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The parsers of what the daemon reads to tell what a caller may see and
 * which process a pidfd names: mountinfo (the proc file system at /proc
 * and its hidepid= and gid=), uid_map and gid_map, a pidfd's fdinfo.
 */
#include "config.h"

#include <fcntl.h>
#include <gio/gio.h>

#include "ma-parse.h"

#define HOST_PROC "22 27 0:21 / /proc rw,relatime shared:12 - proc proc rw\n"

static MaProcMount
proc_mount_ok (const char *text)
{
  g_autoptr (GError) error = NULL;
  MaProcMount mount = { .mounted = 99 };

  g_assert_true (ma_mountinfo_parse_proc (text, strlen (text), &mount, &error));
  g_assert_no_error (error);
  return mount;
}

static void
test_mountinfo_proc_on_top (void)
{
  MaProcMount m;

  m = proc_mount_ok ("27 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n" HOST_PROC
                     "23 22 0:22 / /proc/sys/fs/binfmt_misc rw shared:13 - autofs systemd-1 rw\n");
  g_assert_true (m.mounted);
  g_assert_cmpint (m.hidepid, ==, MA_HIDEPID_OFF);
  g_assert_false (m.has_gid);

  /* mount -t proc -o hidepid=invisible,gid=27 over it, in a mount
   * namespace of its own: the one on top counts, wherever it is listed. */
  m = proc_mount_ok ("63 45 0:39 / /proc rw,relatime - proc proc rw,gid=27,hidepid=invisible\n"
                     "45 43 0:21 / /proc rw,relatime - proc proc rw\n");
  g_assert_true (m.mounted);
  g_assert_cmpint (m.hidepid, ==, MA_HIDEPID_INVISIBLE);
  g_assert_true (m.has_gid);
  g_assert_cmpuint (m.gid, ==, 27);

  m = proc_mount_ok (HOST_PROC "70 22 0:40 / /proc rw - proc proc rw,hidepid=noaccess\n"
                               "71 70 0:41 / /proc rw - proc proc rw,hidepid=ptraceable\n");
  g_assert_cmpint (m.hidepid, ==, MA_HIDEPID_PTRACEABLE);
  m = proc_mount_ok ("5 1 0:4 / /proc rw - proc proc rw,hidepid=2\n");
  g_assert_cmpint (m.hidepid, ==, MA_HIDEPID_INVISIBLE);
  m = proc_mount_ok ("5 1 0:4 / /proc rw - proc proc rw,hidepid=1,subset=pid\n");
  g_assert_cmpint (m.hidepid, ==, MA_HIDEPID_NOACCESS);

  /* Something else mounted over /proc, or no /proc at all: it shows nothing. */
  m = proc_mount_ok (HOST_PROC "80 22 0:50 / /proc rw - tmpfs tmpfs rw\n");
  g_assert_false (m.mounted);
  m = proc_mount_ok ("27 1 8:1 / / rw - ext4 /dev/sda1 rw\n");
  g_assert_false (m.mounted);
  m = proc_mount_ok ("");
  g_assert_false (m.mounted);
  /* A path that only begins with /proc, or escapes a space. */
  m = proc_mount_ok ("90 27 0:60 / /proc\\040x rw - proc proc rw\n");
  g_assert_false (m.mounted);
}

static void
test_mountinfo_malformed_is_an_error (void)
{
  static const char *const bad[] = {
    HOST_PROC "5 1 0:4 / /proc rw - proc proc rw,hidepid=everything\n",
    "5 1 0:4 / /proc rw - proc proc rw,hidepid=3\n",
    "5 1 0:4 / /proc rw - proc proc rw,gid=x\n",
    "5 1 0:4 / /proc rw - proc proc rw,gid=4294967296\n",
    "5 1 0:4 / /proc rw proc proc rw\n", /* no separator */
    "5 1 0:4 / /proc rw - proc proc\n",  /* no super options */
    "5 1 0:4 / /proc rw - proc proc rw extra\n",
    "x 1 0:4 / /proc rw - proc proc rw\n",
    "5 1 0:4 /\n",
    "5  1 0:4 / /proc rw - proc proc rw\n",
    HOST_PROC "5 1 0:4 / /proc rw - proc proc rw", /* cut short */
  };

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      MaProcMount m = { .mounted = 99 };

      g_assert_false (ma_mountinfo_parse_proc (bad[i], strlen (bad[i]), &m, &error));
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
      g_assert_cmpint (m.mounted, ==, 99);
    }
}

static gboolean
maps (const char *text, guint32 id)
{
  g_autoptr (GError) error = NULL;
  gboolean out = 99;

  g_assert_true (ma_idmap_parse_maps (text, strlen (text), id, &out, &error));
  g_assert_no_error (error);
  return out;
}

static void
test_idmap_says_whether_an_id_is_mapped (void)
{
  /* bwrap --unshare-user, or unshare -r: one id. */
  g_assert_true (maps ("         0       1000          1\n", 1000));
  g_assert_false (maps ("         0       1000          1\n", 0));
  g_assert_false (maps ("         0       1000          1\n", 1001));
  /* newuidmap: the caller's and a subordinate range. */
  const char *sub = "         0       1000          1\n         1     100000      65536\n";
  g_assert_false (maps (sub, 0));
  g_assert_true (maps (sub, 100000));
  g_assert_true (maps (sub, 165535));
  g_assert_false (maps (sub, 165536));
  /* The initial namespace maps everything. */
  g_assert_true (maps ("         0          0 4294967295\n", 0));
  g_assert_false (maps ("", 0));

  static const char *const bad[] = {
    "0 1000\n",         "0 1000 0\n", "0 1000 1 2\n", "0 1000 x\n",
    "0 4294967296 1\n", "01000 1\n",  "0 1000 1",
  };
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      gboolean out = 99;

      g_assert_false (ma_idmap_parse_maps (bad[i], strlen (bad[i]), 0, &out, &error));
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
      g_assert_cmpint (out, ==, 99);
    }
}

static void
test_fdinfo_of_pidfds (void)
{
  static const struct
  {
    const char *text;
    gint64 pid;
    guint32 flags;
  } good[] = {
    { "pos:\t0\nflags:\t02000002\nmnt_id:\t4\nino:\t2226\nPid:\t27926\nNSpid:\t27926\n", 27926,
      02000002 },
    { "pos:\t0\nflags:\t02000202\nmnt_id:\t4\nPid:\t30691\nNSpid:\t30691 7\n", 30691, 02000202 },
    { "pos:\t0\nflags:\t02000002\nPid:\t-1\n", -1, 02000002 },
    { "flags:\t00\nPid:\t0\n", 0, 0 },
  };
  static const char *const bad[] = {
    "flags:\t02000008\nPid:\t1\n",
    "flags:\t02\nPid:\t-2\n",
    "flags:\t02\nPid:\t2147483648\n",
    "flags:\t02\nPid:\t1x\n",
    "flags:\t02\nflags:\t02\n",
    "Pid:\t1\nPid:\t1\n",
    "Pid:\t1",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (good); i++)
    {
      g_autoptr (GError) error = NULL;
      MaFdinfo info;

      g_assert_true (ma_fdinfo_parse (good[i].text, strlen (good[i].text), &info, &error));
      g_assert_no_error (error);
      g_assert_true (info.has_pid);
      g_assert_true (info.has_flags);
      g_assert_cmpint (info.pid, ==, good[i].pid);
      g_assert_cmpuint (info.flags, ==, good[i].flags);
    }
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      MaFdinfo info = { .pid = 99 };

      g_assert_false (ma_fdinfo_parse (bad[i], strlen (bad[i]), &info, &error));
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
      g_assert_cmpint (info.pid, ==, 99);
    }
  /* Not a pidfd: no Pid: line. */
  {
    const char *text = "pos:\t0\nflags:\t0100000\nmnt_id:\t27\nino:\t131\n";
    MaFdinfo info;

    g_assert_true (ma_fdinfo_parse (text, strlen (text), &info, NULL));
    g_assert_false (info.has_pid);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/procview/mountinfo/proc-on-top", test_mountinfo_proc_on_top);
  g_test_add_func ("/procview/mountinfo/malformed-is-an-error",
                   test_mountinfo_malformed_is_an_error);
  g_test_add_func ("/procview/idmap/whether-an-id-is-mapped",
                   test_idmap_says_whether_an_id_is_mapped);
  g_test_add_func ("/procview/fdinfo/of-pidfds", test_fdinfo_of_pidfds);

  return g_test_run ();
}
