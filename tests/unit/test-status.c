/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * ma_status_parse, ma_stat_parse_flags and ma_swaps_parse on recorded
 * fixtures (tests/fixtures/README.md) and on malformed text.
 */
#include "config.h"

#include <gio/gio.h>
#include <string.h>

#include "ma-parse.h"

#define KiB G_GUINT64_CONSTANT (1024)
#define PF_KTHREAD 0x00200000

/* Exactly-sized copies, so ASan catches a read past the end. */
static char *
exact_copy (const char *text, gsize len)
{
  char *copy = g_malloc (MAX (len, 1));

  memcpy (copy, text, len);
  return copy;
}

static char *
load_fixture (const char *name, gsize *len)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "fixtures", name, NULL);
  g_autofree char *text = NULL;
  g_autoptr (GError) error = NULL;

  g_assert_true (g_file_get_contents (path, &text, len, &error));
  g_assert_no_error (error);
  return exact_copy (text, *len);
}

static void
status_fixture (const char *name, MaStatus *st)
{
  gsize len;
  g_autofree char *text = load_fixture (name, &len);
  g_autoptr (GError) error = NULL;

  g_assert_true (ma_status_parse (text, len, st, &error));
  g_assert_no_error (error);
}

static gboolean
status_parse (const char *text, gsize len, MaStatus *st, GError **error)
{
  g_autofree char *copy = exact_copy (text, len);

  return ma_status_parse (copy, len, st, error);
}

static void
status_ok (const char *text, MaStatus *st)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (status_parse (text, strlen (text), st, &error));
  g_assert_no_error (error);
}

/* Rejected with INVALID_DATA, naming @line, and *out left untouched. */
static void
status_invalid_len (const char *text, gsize len, guint line)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *where = g_strdup_printf ("line %u:", line);
  MaStatus st;

  memset (&st, 0xa5, sizeof st);
  g_assert_false (status_parse (text, len, &st, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_assert_nonnull (strstr (error->message, where));
  g_assert_cmpint (st.kthread, ==, (int) 0xa5a5a5a5);
}

#define STATUS_INVALID(text, line) status_invalid_len ((text), sizeof (text) - 1, (line))

/* --- status --- */

static void
test_status_recorded_process (void)
{
  MaStatus st;

  status_fixture ("mixed.status", &st);
  g_assert_cmpstr (st.name, ==, "rec) (x y");
  g_assert_cmpint (st.state, ==, 'R');
  g_assert_true (st.has_uids);
  for (guint i = 0; i < 4; i++)
    g_assert_cmpuint (st.uids[i], ==, 0);
  g_assert_true (st.has_gids);
  for (guint i = 0; i < 4; i++)
    g_assert_cmpuint (st.gids[i], ==, 0);
  g_assert_true (st.has_caps);
  g_assert_cmpuint (st.cap_inh, ==, 0);
  g_assert_cmpuint (st.cap_prm, ==, G_GUINT64_CONSTANT (0x000001fffeffffff));
  g_assert_cmpuint (st.cap_eff, ==, G_GUINT64_CONSTANT (0x000001fffeffffff));
  g_assert_cmpuint (st.cap_bnd, ==, G_GUINT64_CONSTANT (0x000001fffeffffff));
  g_assert_cmpuint (st.cap_amb, ==, 0);
  g_assert_cmpint (st.kthread, ==, 0);
  g_assert_true (st.has_mm);
  g_assert_cmpuint (st.mem.rss, ==, 6688 * KiB);
  g_assert_cmpuint (st.mem.anon, ==, 4696 * KiB);
  g_assert_cmpuint (st.mem.swap, ==, 64 * KiB);
  g_assert_cmpuint (st.vm_lck, ==, 64 * KiB);
}

static void
test_status_kernel_thread_has_no_mm (void)
{
  MaStatus st;

  status_fixture ("kthread.status", &st);
  g_assert_cmpstr (st.name, ==, "kthreadd");
  g_assert_cmpint (st.state, ==, 'S');
  g_assert_cmpint (st.kthread, ==, 1);
  g_assert_false (st.has_mm);
  g_assert_cmpuint (st.mem.rss, ==, 0);
  g_assert_cmpuint (st.mem.anon, ==, 0);
  g_assert_cmpuint (st.mem.swap, ==, 0);
  g_assert_cmpuint (st.vm_lck, ==, 0);
  g_assert_true (st.has_uids);
  g_assert_true (st.has_caps);
  g_assert_cmpuint (st.cap_eff, ==, G_GUINT64_CONSTANT (0x000001ffffffffff));
}

static void
test_status_zombie_has_no_mm (void)
{
  MaStatus st;

  status_fixture ("zombie.status", &st);
  g_assert_cmpstr (st.name, ==, "rec) (x y");
  g_assert_cmpint (st.state, ==, 'Z');
  g_assert_cmpint (st.kthread, ==, 0);
  g_assert_false (st.has_mm);
  g_assert_true (st.has_uids);
}

static void
test_status_missing_fields_keep_absent_values (void)
{
  MaStatus st;

  status_ok ("", &st);
  g_assert_cmpstr (st.name, ==, "");
  g_assert_cmpint (st.state, ==, 0);
  g_assert_false (st.has_uids);
  g_assert_false (st.has_gids);
  g_assert_false (st.has_caps);
  g_assert_cmpint (st.kthread, ==, -1);
  g_assert_false (st.has_mm);
  g_assert_cmpuint (st.mem.rss, ==, 0);

  /* Linux < 4.3 has no CapAmb, Linux < 6.x no Kthread. */
  status_ok ("Name:\told\nUid:\t1\t2\t3\t4\nGid:\t5\t6\t7\t8\nCapInh:\t0\nCapPrm:\t1\nCapEff:\t2\n"
             "CapBnd:\tff\n",
             &st);
  g_assert_true (st.has_gids);
  g_assert_cmpuint (st.gids[0], ==, 5);
  g_assert_cmpuint (st.gids[3], ==, 8);
  g_assert_true (st.has_caps);
  g_assert_cmpuint (st.cap_prm, ==, 1);
  g_assert_cmpuint (st.cap_eff, ==, 2);
  g_assert_cmpuint (st.cap_bnd, ==, 0xff);
  g_assert_cmpuint (st.cap_amb, ==, 0);
  g_assert_cmpint (st.kthread, ==, -1);
  g_assert_cmpuint (st.uids[0], ==, 1);
  g_assert_cmpuint (st.uids[3], ==, 4);

  /* Without CapBnd the set is incomplete. */
  status_ok ("CapInh:\t0\nCapPrm:\t0\nCapEff:\t0\n", &st);
  g_assert_false (st.has_caps);
}

static void
test_status_name_is_cut_at_63_bytes (void)
{
  g_autofree char *long_name = g_strnfill (100, 'n');
  g_autofree char *text = g_strdup_printf ("Name:\t%s\nState:\tS (sleeping)\n", long_name);
  MaStatus st;

  status_ok (text, &st);
  g_assert_cmpuint (strlen (st.name), ==, 63);
  g_assert_cmpint (memcmp (st.name, long_name, 63), ==, 0);
  g_assert_cmpint (st.state, ==, 'S');
}

static void
test_status_name_keeps_kernel_escapes_and_blanks (void)
{
  MaStatus st;

  status_ok ("Name:\ta\\nb\\\\c\n", &st);
  g_assert_cmpstr (st.name, ==, "a\\nb\\\\c");
  status_ok ("Name:\t  two spaces\n", &st);
  g_assert_cmpstr (st.name, ==, "  two spaces");
  status_ok ("Name:\tUid:\t0\t0\t0\t0\n", &st);
  g_assert_cmpstr (st.name, ==, "Uid:\t0\t0\t0\t0");
  g_assert_false (st.has_uids);
  status_ok ("Name:\t\n", &st);
  g_assert_cmpstr (st.name, ==, "");
}

static void
test_status_lines_that_are_not_fields_are_ignored (void)
{
  MaStatus st;

  status_ok ("   \n\nno colon here\n:\tempty key\nFuture:\t1 2 3\nVmRSS:\t  8 kB\n", &st);
  g_assert_true (st.has_mm);
  g_assert_cmpuint (st.mem.rss, ==, 8 * KiB);
}

static void
test_status_malformed_values_are_errors (void)
{
  STATUS_INVALID ("Name:\tx\nUid:\t4294967296\t0\t0\t0\n", 2); /* > 32 bits */
  STATUS_INVALID ("Uid:\t0\t0\t0\n", 1);                       /* three */
  STATUS_INVALID ("Uid:\t0\t0\t0\t0\t0\n", 1);                 /* five */
  STATUS_INVALID ("Uid:\t0\t0\t0\t-1\n", 1);
  STATUS_INVALID ("Uid:\t0\t0\t0\t0x\n", 1);
  STATUS_INVALID ("Uid:\t1000\t1000\t1000\t1000 0\n", 1);
  STATUS_INVALID ("CapEff:\t000001fffeffffffg\n", 1); /* non-hex */
  STATUS_INVALID ("CapEff:\t10000000000000000\n", 1); /* > 64 bits */
  STATUS_INVALID ("CapPrm:\t\n", 1);
  STATUS_INVALID ("Kthread:\t2\n", 1);
  STATUS_INVALID ("Kthread:\t10\n", 1);
  STATUS_INVALID ("Kthread:\t\n", 1);
  STATUS_INVALID ("State:\t\n", 1);
  STATUS_INVALID ("State:\t? (what)\n", 1);
  STATUS_INVALID ("VmRSS:\t18014398509481984 kB\n", 1); /* 2^54 kB */
  STATUS_INVALID ("VmRSS:\t99999999999999999999999 kB\n", 1);
  STATUS_INVALID ("VmRSS:\t12 MB\n", 1);
  STATUS_INVALID ("RssAnon:\t12\n", 1);
  STATUS_INVALID ("VmSwap:\tkB\n", 1);
  STATUS_INVALID ("Uid:\t0\t0\t0\t0\nUid:\t1\t1\t1\t1\n", 2); /* twice */
  STATUS_INVALID ("Gid:\t0\t0\t0\n", 1);
  STATUS_INVALID ("Gid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\n", 2);
  STATUS_INVALID ("Name:\ta\nName:\tb\n", 2);
}

static void
test_status_full_width_values (void)
{
  MaStatus st;

  status_ok ("Uid:\t4294967295\t0\t0\t4294967295\n"
             "CapEff:\tffffffffffffffff\n"
             "VmRSS:\t18014398509481983 kB\n",
             &st);
  g_assert_cmpuint (st.uids[0], ==, G_MAXUINT32);
  g_assert_cmpuint (st.uids[3], ==, G_MAXUINT32);
  g_assert_cmpuint (st.cap_eff, ==, G_MAXUINT64);
  g_assert_cmpuint (st.mem.rss, ==, G_GUINT64_CONSTANT (18014398509481983) * KiB);
}

static void
test_status_nul_bytes (void)
{
  MaStatus st;
  static const char in_unknown[] = "Groups:\t\0\nVmRSS:\t4 kB\n";

  /* A NUL would silently shorten the name the daemon matches on. */
  STATUS_INVALID ("Name:\tss\0hd\n", 1);
  STATUS_INVALID ("Uid:\t0\t0\0\t0\t0\n", 1);
  {
    g_autoptr (GError) error = NULL;
    g_assert_true (status_parse (in_unknown, sizeof in_unknown - 1, &st, &error));
    g_assert_no_error (error);
    g_assert_cmpuint (st.mem.rss, ==, 4 * KiB);
  }
}

static void
test_status_truncated_last_line_is_error (void)
{
  STATUS_INVALID ("Name:\tx\nVmRSS:\t  12", 2);
  STATUS_INVALID ("Name:\tx\nVmRSS:\t  12 kB", 2);
  STATUS_INVALID ("Name:\tx", 1);
}

/* Every prefix of the recorded status either ends at a line boundary and
 * parses, or is an error. */
static void
test_status_every_prefix_is_handled (void)
{
  gsize len;
  g_autofree char *text = load_fixture ("mixed.status", &len);

  for (gsize n = 0; n <= len; n++)
    {
      g_autoptr (GError) error = NULL;
      MaStatus st;
      gboolean ok = status_parse (text, n, &st, &error);

      g_assert_cmpint (ok, ==, n == 0 || text[n - 1] == '\n');
      if (!ok)
        g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
    }
}

/* --- stat --- */

static gboolean
stat_parse (const char *text, gsize len, guint64 *flags, GError **error)
{
  g_autofree char *copy = exact_copy (text, len);

  return ma_stat_parse_flags (copy, len, flags, error);
}

static guint64
stat_ok (const char *text)
{
  g_autoptr (GError) error = NULL;
  guint64 flags = 0;

  g_assert_true (stat_parse (text, strlen (text), &flags, &error));
  g_assert_no_error (error);
  return flags;
}

static void
stat_invalid_len (const char *text, gsize len)
{
  g_autoptr (GError) error = NULL;
  guint64 flags = 77;

  g_assert_false (stat_parse (text, len, &flags, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_assert_cmpuint (flags, ==, 77);
}

#define STAT_INVALID(text) stat_invalid_len ((text), sizeof (text) - 1)

static guint64
stat_fixture (const char *name)
{
  gsize len;
  g_autofree char *text = load_fixture (name, &len);
  g_autoptr (GError) error = NULL;
  guint64 flags = 0;

  g_assert_true (ma_stat_parse_flags (text, len, &flags, &error));
  g_assert_no_error (error);
  return flags;
}

static MaStat
stat_full_fixture (const char *name)
{
  gsize len;
  g_autofree char *text = load_fixture (name, &len);
  g_autoptr (GError) error = NULL;
  MaStat st = { 0 };

  g_assert_true (ma_stat_parse (text, len, &st, &error));
  g_assert_no_error (error);
  return st;
}

static void
test_stat_full_recorded (void)
{
  MaStat st = stat_full_fixture ("mixed.stat");

  g_assert_cmpuint (st.flags, ==, 4194304);
  g_assert_cmpuint (st.maj_flt, ==, 0);
  g_assert_cmpuint (st.start_time, ==, 49638);
  st = stat_full_fixture ("kthread.stat");
  g_assert_cmpuint (st.flags, ==, 2129984);
  g_assert_cmpuint (st.start_time, ==, 10);
}

static void
test_stat_full_reads_negative_priority_and_comm_with_parens (void)
{
  const char text[] = "9 (a) (b) S 1 1 1 0 -1 64 1 2 33 4 5 6 -7 -8 -2 -5 3 0 123456 0 0\n";
  g_autoptr (GError) error = NULL;
  MaStat st = { 0 };

  g_assert_true (ma_stat_parse (text, sizeof text - 1, &st, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (st.flags, ==, 64);
  g_assert_cmpuint (st.maj_flt, ==, 33);
  g_assert_cmpuint (st.start_time, ==, 123456);
}

static void
test_stat_full_cut_before_start_time_is_error (void)
{
  const char *cut[] = {
    "9 (a) S 1 1 1 0 -1 64 1 2 33 4 5 6 7 8 20 0 3 0 12",     /* digits may be lost */
    "9 (a) S 1 1 1 0 -1 64 1 2 33 4 5 6 7 8 20 0 3 0\n",      /* field 22 missing */
    "9 (a) S 1 1 1 0 -1 64 1 2 -33 4 5 6 7 8 20 0 3 0 1 0\n", /* majflt is unsigned */
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (cut); i++)
    {
      g_autoptr (GError) error = NULL;
      MaStat st = { 0 };

      g_assert_false (ma_stat_parse (cut[i], strlen (cut[i]), &st, &error));
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
    }
}

static void
test_stat_recorded (void)
{
  /* The recorder's comm is "rec) (x y". */
  g_assert_cmpuint (stat_fixture ("mixed.stat"), ==, 4194304);
  g_assert_cmpuint (stat_fixture ("zombie.stat"), ==, 4227148);
  g_assert_cmpuint (stat_fixture ("kthread.stat"), ==, 2129984);
  g_assert_cmpuint (stat_fixture ("kthread.stat") & PF_KTHREAD, !=, 0);
  g_assert_cmpuint (stat_fixture ("mixed.stat") & PF_KTHREAD, ==, 0);
}

static void
test_stat_comm_with_parens (void)
{
  g_assert_cmpuint (stat_ok ("1 (a) b) S 0 1 1 0 -1 4194560 5 0\n"), ==, 4194560);
  /* A comm crafted to look like the fields that follow it. */
  g_assert_cmpuint (stat_ok ("42 () S 1 1 1 0 -1 2097152 () R 1 2 3 4 5 6 7\n"), ==, 6);
  g_assert_cmpuint (stat_ok ("42 (x) S 1 1 1 0 -1 99 9 9 9 9 9 9 9 9\n"), ==, 99);
  g_assert_cmpuint (stat_ok ("7 () Z 1 1 1 0 -1 0 \n"), ==, 0);
  g_assert_cmpuint (stat_ok ("7 (\n) Z 1 1 1 0 -1 18446744073709551615\n"), ==, G_MAXUINT64);
}

static void
test_stat_malformed_is_error (void)
{
  STAT_INVALID ("");
  STAT_INVALID ("   ");
  STAT_INVALID ("1 (x S 1 1 1 0 -1 5 0\n");   /* no ')' */
  STAT_INVALID ("1 x) S 1 1 1 0 -1 5 0\n");   /* no '(' */
  STAT_INVALID ("(x) S 1 1 1 0 -1 5 0\n");    /* no pid */
  STAT_INVALID ("1 (x) S 1 1 1 0 5\n");       /* a field short */
  STAT_INVALID ("1 (x) S 1 1 1 0 -1 5x 0\n"); /* non-decimal */
  STAT_INVALID ("1 (x) S 1 1 1 0 -1 -5 0\n");
  STAT_INVALID ("1 (x) S 1 1 1 0 -1 18446744073709551616 0\n"); /* > 64 bits */
  STAT_INVALID ("1 (x) S 1 1 1 0 --1 5 0\n");
  STAT_INVALID ("1 (x) S  1 1 1 0 -1 5 0\n");
  STAT_INVALID ("1 (x) 5 1 1 1 0 -1 5 0\n"); /* state not a letter */
  STAT_INVALID ("1 (x) S 1 1\0 1 0 -1 5 0\n");
}

static void
test_stat_truncated_before_flags_end_is_error (void)
{
  static const char text[] = "5913 (rec) (x y) R 5903 5903 3036 0 -1 4194304 1345 0\n";
  const gsize flags_end = (gsize) (strstr (text, "4194304") - text) + 7;

  for (gsize n = 0; n < sizeof text; n++)
    {
      guint64 flags = 0;
      gboolean ok = stat_parse (text, n, &flags, NULL);

      /* Ending right after "4194304" might have cut digits off. */
      g_assert_cmpint (ok, ==, n > flags_end);
      if (ok)
        g_assert_cmpuint (flags, ==, 4194304);
    }
}

/* --- swaps --- */

static gboolean
swaps_parse (const char *text, gsize len, guint64 *total, guint64 *used, GError **error)
{
  g_autofree char *copy = exact_copy (text, len);

  return ma_swaps_parse (copy, len, total, used, error);
}

static void
swaps_invalid_len (const char *text, gsize len)
{
  g_autoptr (GError) error = NULL;
  guint64 total = 5, used = 6;

  g_assert_false (swaps_parse (text, len, &total, &used, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_assert_cmpuint (total, ==, 5);
  g_assert_cmpuint (used, ==, 6);
}

#define SWAPS_INVALID(text) swaps_invalid_len ((text), sizeof (text) - 1)
#define HEADER "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"

static void
swaps_fixture (const char *name, guint64 *total, guint64 *used)
{
  gsize len;
  g_autofree char *text = load_fixture (name, &len);
  g_autoptr (GError) error = NULL;

  g_assert_true (ma_swaps_parse (text, len, total, used, &error));
  g_assert_no_error (error);
}

static void
test_swaps_no_devices_is_zero (void)
{
  guint64 total = 1, used = 1;

  swaps_fixture ("none.swaps", &total, &used);
  g_assert_cmpuint (total, ==, 0);
  g_assert_cmpuint (used, ==, 0);
}

static void
test_swaps_recorded_devices_are_summed (void)
{
  guint64 total, used;

  /* "/tmp/marec/swap\040file\0401" (16380 kB, 64 used) and swap2 (8188 kB). */
  swaps_fixture ("devices.swaps", &total, &used);
  g_assert_cmpuint (total, ==, (16380 + 8188) * KiB);
  g_assert_cmpuint (used, ==, 64 * KiB);
}

static void
test_swaps_name_with_blanks_is_read_from_the_right (void)
{
  g_autoptr (GError) error = NULL;
  static const char text[]
      = HEADER "/swap file\twith tab  partition\t\t100\t\t7\t\t-2\n"
               "/dev/zram0                              partition\t8\t1\t100\n";
  guint64 total, used;

  g_assert_true (swaps_parse (text, sizeof text - 1, &total, &used, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (total, ==, 108 * KiB);
  g_assert_cmpuint (used, ==, 8 * KiB);
}

static void
test_swaps_malformed_is_error (void)
{
  SWAPS_INVALID ("");
  SWAPS_INVALID ("Filename"); /* cut header */
  SWAPS_INVALID ("Nonsense\n/dev/sda2 partition 8 0 -2\n");
  SWAPS_INVALID (HEADER "/dev/sda2 partition 8 0 -2"); /* cut row */
  SWAPS_INVALID (HEADER "partition 8 0 -2\n");         /* no name */
  SWAPS_INVALID (HEADER "/dev/sda2 8 0 -2\n");         /* no type */
  SWAPS_INVALID (HEADER "/dev/sda2 partition 8 0\n");  /* no priority */
  SWAPS_INVALID (HEADER "/dev/sda2 partition 8 0 x\n");
  SWAPS_INVALID (HEADER "/dev/sda2 partition -8 0 -2\n");
  SWAPS_INVALID (HEADER "/dev/sda2 partition 8 0x1 -2\n");
  SWAPS_INVALID (HEADER "/dev/sda2 partition 18014398509481984 0 -2\n"); /* 2^54 kB */
  SWAPS_INVALID (HEADER "/a p 18014398509481983 0 -2\n/b p 1 0 -2\n");   /* sum > 64 bits */
  SWAPS_INVALID (HEADER "\n");
  SWAPS_INVALID (HEADER "    \n");
  SWAPS_INVALID (HEADER "/dev/sda2 partition 8\0 0 -2\n");
}

static void
test_swaps_largest_size (void)
{
  g_autoptr (GError) error = NULL;
  static const char text[] = HEADER "/a p 18014398509481983 18014398509481983 -1\n";
  guint64 total, used;

  g_assert_true (swaps_parse (text, sizeof text - 1, &total, &used, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (total, ==, G_GUINT64_CONSTANT (18014398509481983) * KiB);
  g_assert_cmpuint (used, ==, total);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/status/recorded/process", test_status_recorded_process);
  g_test_add_func ("/status/kernel-thread-has-no-mm", test_status_kernel_thread_has_no_mm);
  g_test_add_func ("/status/zombie-has-no-mm", test_status_zombie_has_no_mm);
  g_test_add_func ("/status/missing-fields-keep-absent-values",
                   test_status_missing_fields_keep_absent_values);
  g_test_add_func ("/status/name-is-cut-at-63-bytes", test_status_name_is_cut_at_63_bytes);
  g_test_add_func ("/status/name-keeps-kernel-escapes-and-blanks",
                   test_status_name_keeps_kernel_escapes_and_blanks);
  g_test_add_func ("/status/lines-that-are-not-fields-are-ignored",
                   test_status_lines_that_are_not_fields_are_ignored);
  g_test_add_func ("/status/malformed-values-are-errors", test_status_malformed_values_are_errors);
  g_test_add_func ("/status/full-width-values", test_status_full_width_values);
  g_test_add_func ("/status/nul-bytes", test_status_nul_bytes);
  g_test_add_func ("/status/truncated-last-line-is-error",
                   test_status_truncated_last_line_is_error);
  g_test_add_func ("/status/every-prefix-is-handled", test_status_every_prefix_is_handled);
  g_test_add_func ("/stat/recorded", test_stat_recorded);
  g_test_add_func ("/stat/full/recorded", test_stat_full_recorded);
  g_test_add_func ("/stat/full/negative-priority-and-comm-with-parens",
                   test_stat_full_reads_negative_priority_and_comm_with_parens);
  g_test_add_func ("/stat/full/cut-before-start-time-is-error",
                   test_stat_full_cut_before_start_time_is_error);
  g_test_add_func ("/stat/comm-with-parens", test_stat_comm_with_parens);
  g_test_add_func ("/stat/malformed-is-error", test_stat_malformed_is_error);
  g_test_add_func ("/stat/truncated-before-flags-end-is-error",
                   test_stat_truncated_before_flags_end_is_error);
  g_test_add_func ("/swaps/no-devices-is-zero", test_swaps_no_devices_is_zero);
  g_test_add_func ("/swaps/recorded-devices-are-summed", test_swaps_recorded_devices_are_summed);
  g_test_add_func ("/swaps/name-with-blanks-is-read-from-the-right",
                   test_swaps_name_with_blanks_is_read_from_the_right);
  g_test_add_func ("/swaps/malformed-is-error", test_swaps_malformed_is_error);
  g_test_add_func ("/swaps/largest-size", test_swaps_largest_size);

  return g_test_run ();
}
