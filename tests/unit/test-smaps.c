/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * ma_smaps_parse on recorded fixtures (tests/fixtures/README.md says what
 * each mapping is) and on synthetic, malformed and truncated text.
 */
#include "config.h"

#include <gio/gio.h>
#include <string.h>

#include "ma-parse.h"

#define KiB G_GUINT64_CONSTANT (1024)

/* The parser must not rely on a NUL after the text: an exactly-sized copy
 * lets ASan catch any read past the end. */
static gboolean
parse_exact (const char *text, gsize len, GArray *vmas, GError **error)
{
  g_autofree char *copy = g_malloc (MAX (len, 1));

  memcpy (copy, text, len);
  return ma_smaps_parse (copy, len, vmas, error);
}

static GArray *
new_vmas (void)
{
  return g_array_new (FALSE, TRUE, sizeof (MaVma));
}

static GArray *
parse_fixture (const char *name)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "fixtures", name, NULL);
  g_autofree char *text = NULL;
  g_autoptr (GError) error = NULL;
  gsize len;
  GArray *vmas = new_vmas ();

  g_assert_true (g_file_get_contents (path, &text, &len, &error));
  g_assert_no_error (error);
  g_assert_true (parse_exact (text, len, vmas, &error));
  g_assert_no_error (error);
  return vmas;
}

static GArray *
parse_ok (const char *text)
{
  g_autoptr (GError) error = NULL;
  GArray *vmas = new_vmas ();

  g_assert_true (parse_exact (text, strlen (text), vmas, &error));
  g_assert_no_error (error);
  return vmas;
}

/* Asserts the text is rejected with INVALID_DATA naming @line. */
static void
assert_invalid (const char *text, gsize len, guint line)
{
  g_autoptr (GArray) vmas = new_vmas ();
  g_autoptr (GError) error = NULL;
  g_autofree char *where = g_strdup_printf ("line %u:", line);

  g_assert_false (parse_exact (text, len, vmas, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_assert_nonnull (strstr (error->message, where));
}

#define ASSERT_INVALID(text, line) assert_invalid ((text), sizeof (text) - 1, (line))

static const MaVma *
find_vma (GArray *vmas, guint64 start)
{
  for (guint i = 0; i < vmas->len; i++)
    if (g_array_index (vmas, MaVma, i).start == start)
      return &g_array_index (vmas, MaVma, i);
  g_error ("no mapping starts at 0x%" G_GINT64_MODIFIER "x", start);
  return NULL;
}

static void
assert_counters (const MaVma *v, guint64 rss_kb, guint64 ref_kb, guint64 anon_kb, guint64 swap_kb,
                 guint64 locked_kb)
{
  g_assert_true (v->has_counters);
  g_assert_cmpuint (v->rss, ==, rss_kb * KiB);
  g_assert_cmpuint (v->referenced, ==, ref_kb * KiB);
  g_assert_cmpuint (v->anonymous, ==, anon_kb * KiB);
  g_assert_cmpuint (v->swap, ==, swap_kb * KiB);
  g_assert_cmpuint (v->locked, ==, locked_kb * KiB);
}

#define RW (MA_PERM_READ | MA_PERM_WRITE)

/* --- recorded: tests/fixtures/mixed.smaps --- */

static void
test_recorded_count_matches_maps (void)
{
  g_autoptr (GArray) smaps = parse_fixture ("mixed.smaps");
  g_autoptr (GArray) maps = parse_fixture ("mixed.maps");

  g_assert_cmpuint (smaps->len, ==, 44);
  g_assert_cmpuint (maps->len, ==, smaps->len);
  for (guint i = 0; i < maps->len; i++)
    {
      const MaVma *s = &g_array_index (smaps, MaVma, i);
      const MaVma *m = &g_array_index (maps, MaVma, i);

      g_assert_cmpuint (m->start, ==, s->start);
      g_assert_cmpuint (m->end, ==, s->end);
      g_assert_cmpuint (m->perms, ==, s->perms);
      g_assert_cmpuint (m->offset, ==, s->offset);
      g_assert_cmpuint (m->inode, ==, s->inode);
      g_assert_cmpint (m->name_kind, ==, s->name_kind);
      g_assert_true (s->has_counters);
      g_assert_true (s->has_vmflags);
      g_assert_false (m->has_counters);
      g_assert_false (m->has_vmflags);
      g_assert_cmpuint (m->rss, ==, 0);
      g_assert_cmpuint (m->vmflags, ==, 0);
      if (i > 0)
        g_assert_cmpuint (s->start, >=, g_array_index (smaps, MaVma, i - 1).end);
    }
}

static void
test_recorded_heap_is_anonymous_private (void)
{
  g_autoptr (GArray) vmas = parse_fixture ("mixed.smaps");
  const MaVma *v = find_vma (vmas, 0x555a70acf000);

  g_assert_cmpuint (v->end, ==, 0x555a70ef0000);
  g_assert_cmpint (v->name_kind, ==, MA_NAME_HEAP);
  g_assert_cmpuint (v->perms, ==, RW);
  g_assert_cmpuint (v->offset, ==, 0);
  g_assert_cmpuint (v->dev_major, ==, 0);
  g_assert_cmpuint (v->dev_minor, ==, 0);
  g_assert_cmpuint (v->inode, ==, 0);
  /* "rd wr mr mw me ac": only the codes the engine knows are kept. */
  g_assert_cmpuint (v->vmflags, ==, MA_VMF_RD | MA_VMF_WR);
  assert_counters (v, 4100, 4100, 4100, 0, 0);
}

static void
test_recorded_plain_anonymous_with_swap (void)
{
  g_autoptr (GArray) vmas = parse_fixture ("mixed.smaps");
  const MaVma *v = find_vma (vmas, 0x7feefc631000);

  g_assert_cmpuint (v->end - v->start, ==, 256 * KiB);
  g_assert_cmpint (v->name_kind, ==, MA_NAME_NONE);
  g_assert_cmpuint (v->perms, ==, RW);
  g_assert_cmpuint (v->vmflags, ==, MA_VMF_RD | MA_VMF_WR);
  /* The recorder touched 128 KiB and paged 64 KiB of it out. */
  assert_counters (v, 64, 64, 64, 64, 0);
}

static void
test_recorded_thread_stacks_are_unnamed_with_guards (void)
{
  g_autoptr (GArray) vmas = parse_fixture ("mixed.smaps");
  const guint64 stacks[] = { 0x7feefc682000, 0x7feefc6c3000, 0x7feefc704000 };

  for (guint i = 0; i < G_N_ELEMENTS (stacks); i++)
    {
      const MaVma *v = find_vma (vmas, stacks[i]);
      const MaVma *guard = find_vma (vmas, stacks[i] - 0x1000);

      g_assert_cmpuint (v->end - v->start, ==, 256 * KiB);
      g_assert_cmpint (v->name_kind, ==, MA_NAME_NONE);
      g_assert_cmpuint (v->perms, ==, RW);
      g_assert_cmpuint (v->vmflags, ==, MA_VMF_RD | MA_VMF_WR);
      assert_counters (v, 76, 76, 76, 0, 0);

      g_assert_cmpuint (guard->end, ==, v->start);
      g_assert_cmpuint (guard->perms, ==, 0);
      g_assert_cmpuint (guard->vmflags, ==, 0);
      g_assert_cmpint (guard->name_kind, ==, MA_NAME_NONE);
    }
}

static void
test_recorded_jit_is_rwx_private (void)
{
  g_autoptr (GArray) vmas = parse_fixture ("mixed.smaps");
  const MaVma *v = find_vma (vmas, 0x7feefc671000);

  g_assert_cmpuint (v->end, ==, 0x7feefc681000);
  g_assert_cmpint (v->name_kind, ==, MA_NAME_NONE);
  g_assert_cmpuint (v->perms, ==, RW | MA_PERM_EXEC);
  g_assert_cmpuint (v->vmflags, ==, MA_VMF_RD | MA_VMF_WR | MA_VMF_EX);
  assert_counters (v, 16, 16, 16, 0, 0);
}

static void
test_recorded_shared_anonymous_is_shared_path (void)
{
  g_autoptr (GArray) vmas = parse_fixture ("mixed.smaps");
  const MaVma *v = find_vma (vmas, 0x7feefc611000);

  /* MAP_SHARED|MAP_ANONYMOUS shows as "/dev/zero (deleted)". */
  g_assert_cmpuint (v->end - v->start, ==, 128 * KiB);
  g_assert_cmpint (v->name_kind, ==, MA_NAME_PATH);
  g_assert_cmpuint (v->perms, ==, RW | MA_PERM_SHARED);
  g_assert_cmpuint (v->vmflags, ==, MA_VMF_RD | MA_VMF_WR | MA_VMF_SH);
  g_assert_cmpuint (v->dev_major, ==, 0);
  g_assert_cmpuint (v->dev_minor, ==, 1);
  g_assert_cmpuint (v->inode, ==, 33);
  assert_counters (v, 128, 128, 0, 0, 0);
}

static void
test_recorded_memfd_and_sysv_shm_are_files (void)
{
  g_autoptr (GArray) vmas = parse_fixture ("mixed.smaps");
  const MaVma *shared = find_vma (vmas, 0x7feefc5f1000);
  const MaVma *priv = find_vma (vmas, 0x7feefc5e1000);
  const MaVma *shm = find_vma (vmas, 0x7feefc5d1000);

  g_assert_cmpint (shared->name_kind, ==, MA_NAME_PATH);
  g_assert_cmpuint (shared->perms, ==, RW | MA_PERM_SHARED);
  g_assert_cmpuint (shared->vmflags, ==, MA_VMF_RD | MA_VMF_WR | MA_VMF_SH);
  g_assert_cmpuint (shared->inode, ==, 35);
  assert_counters (shared, 64, 64, 0, 0, 0);

  /* MAP_PRIVATE of the same memfd: copy-on-write pages are anonymous. */
  g_assert_cmpint (priv->name_kind, ==, MA_NAME_PATH);
  g_assert_cmpuint (priv->perms, ==, RW);
  g_assert_cmpuint (priv->vmflags, ==, MA_VMF_RD | MA_VMF_WR);
  g_assert_cmpuint (priv->inode, ==, 35);
  assert_counters (priv, 32, 32, 32, 0, 0);

  g_assert_cmpint (shm->name_kind, ==, MA_NAME_PATH);
  g_assert_cmpuint (shm->perms, ==, RW | MA_PERM_SHARED);
  g_assert_cmpuint (shm->vmflags, ==, MA_VMF_RD | MA_VMF_WR | MA_VMF_SH);
  g_assert_cmpuint (shm->inode, ==, 3);
  assert_counters (shm, 64, 64, 0, 0, 0);
}

static void
test_recorded_mlocked_has_lo_and_locked (void)
{
  g_autoptr (GArray) vmas = parse_fixture ("mixed.smaps");
  const MaVma *v = find_vma (vmas, 0x7feefc5c1000);

  g_assert_cmpuint (v->end - v->start, ==, 64 * KiB);
  g_assert_cmpint (v->name_kind, ==, MA_NAME_NONE);
  g_assert_cmpuint (v->perms, ==, RW);
  g_assert_cmpuint (v->vmflags, ==, MA_VMF_RD | MA_VMF_WR | MA_VMF_LO);
  assert_counters (v, 64, 64, 64, 0, 64);
}

static void
test_recorded_hugetlb_has_ht (void)
{
  g_autoptr (GArray) vmas = parse_fixture ("mixed.smaps");
  const MaVma *v = find_vma (vmas, 0x7feefc200000);

  g_assert_cmpuint (v->end, ==, 0x7feefc400000);
  g_assert_cmpint (v->name_kind, ==, MA_NAME_PATH);
  g_assert_cmpuint (v->perms, ==, RW);
  g_assert_cmpuint (v->dev_major, ==, 0);
  g_assert_cmpuint (v->dev_minor, ==, 0x11);
  g_assert_cmpuint (v->inode, ==, 27616);
  g_assert_cmpuint (v->vmflags, ==, MA_VMF_RD | MA_VMF_WR | MA_VMF_HT);
  /* Hugetlb pages are counted in Private_Hugetlb, not Rss. */
  assert_counters (v, 0, 0, 0, 0, 0);
}

static void
test_recorded_guard_pages_have_no_permissions (void)
{
  g_autoptr (GArray) vmas = parse_fixture ("mixed.smaps");
  const MaVma *v = find_vma (vmas, 0x7feefc5bd000);

  g_assert_cmpuint (v->end - v->start, ==, 16 * KiB);
  g_assert_cmpuint (v->perms, ==, 0);
  g_assert_cmpuint (v->vmflags, ==, 0);
  g_assert_cmpint (v->name_kind, ==, MA_NAME_NONE);
}

static void
test_recorded_deleted_and_spaced_files_are_paths (void)
{
  g_autoptr (GArray) vmas = parse_fixture ("mixed.smaps");
  const MaVma *deleted = find_vma (vmas, 0x7feefc5b9000);
  const MaVma *spaces = find_vma (vmas, 0x7feefc5b5000);

  g_assert_cmpint (deleted->name_kind, ==, MA_NAME_PATH);
  g_assert_cmpuint (deleted->perms, ==, MA_PERM_READ);
  g_assert_cmpuint (deleted->dev_major, ==, 0xfe);
  g_assert_cmpuint (deleted->dev_minor, ==, 0);
  g_assert_cmpuint (deleted->inode, ==, 10953295);
  assert_counters (deleted, 16, 16, 0, 0, 0);

  g_assert_cmpint (spaces->name_kind, ==, MA_NAME_PATH);
  g_assert_cmpuint (spaces->end, ==, 0x7feefc5b9000);
  g_assert_cmpuint (spaces->inode, ==, 10953296);
}

static void
test_recorded_special_names (void)
{
  g_autoptr (GArray) vmas = parse_fixture ("mixed.smaps");
  const MaVma *vvar = find_vma (vmas, 0x7feefc936000);
  const MaVma *vclock = find_vma (vmas, 0x7feefc93a000);
  const MaVma *vdso = find_vma (vmas, 0x7feefc93c000);
  const MaVma *stack = find_vma (vmas, 0x7fff21bb4000);
  const MaVma *vsyscall = find_vma (vmas, G_GUINT64_CONSTANT (0xffffffffff600000));

  g_assert_cmpint (vvar->name_kind, ==, MA_NAME_VVAR);
  g_assert_cmpuint (vvar->vmflags, ==, MA_VMF_RD | MA_VMF_PF | MA_VMF_IO | MA_VMF_DD);
  g_assert_cmpint (vclock->name_kind, ==, MA_NAME_VVAR);
  g_assert_cmpint (vdso->name_kind, ==, MA_NAME_VDSO);
  g_assert_cmpuint (vdso->perms, ==, MA_PERM_READ | MA_PERM_EXEC);
  g_assert_cmpint (stack->name_kind, ==, MA_NAME_STACK);
  g_assert_cmpuint (stack->vmflags, ==, MA_VMF_RD | MA_VMF_WR | MA_VMF_GD);
  assert_counters (stack, 48, 48, 48, 0, 0);
  g_assert_cmpint (vsyscall->name_kind, ==, MA_NAME_VSYSCALL);
  g_assert_cmpuint (vsyscall->end, ==, G_GUINT64_CONSTANT (0xffffffffff601000));
  g_assert_cmpuint (vsyscall->perms, ==, MA_PERM_EXEC);
  g_assert_cmpuint (vsyscall->vmflags, ==, MA_VMF_EX);
}

static void
test_recorded_file_offset_is_hex (void)
{
  g_autoptr (GArray) vmas = parse_fixture ("mixed.smaps");
  const MaVma *v = find_vma (vmas, 0x7feefc76d000);

  g_assert_cmpuint (v->offset, ==, 0x26000);
  g_assert_cmpuint (v->perms, ==, MA_PERM_READ | MA_PERM_EXEC);
  g_assert_cmpuint (v->inode, ==, 332835);
  assert_counters (v, 1100, 1100, 0, 0, 0);
}

/* --- hand-edited fixtures --- */

static void
test_io_pfnmap_flags (void)
{
  g_autoptr (GArray) vmas = parse_fixture ("io-pfnmap.smaps");

  g_assert_cmpuint (vmas->len, ==, 3);
  g_assert_cmpuint (g_array_index (vmas, MaVma, 0).vmflags, ==,
                    MA_VMF_RD | MA_VMF_WR | MA_VMF_IO | MA_VMF_PF | MA_VMF_DD);
  g_assert_cmpint (g_array_index (vmas, MaVma, 0).name_kind, ==, MA_NAME_NONE);
  g_assert_cmpuint (g_array_index (vmas, MaVma, 1).vmflags, ==,
                    MA_VMF_RD | MA_VMF_WR | MA_VMF_MM | MA_VMF_DD);
  g_assert_cmpuint (g_array_index (vmas, MaVma, 2).vmflags, ==,
                    MA_VMF_RD | MA_VMF_WR | MA_VMF_SH | MA_VMF_IO | MA_VMF_PF | MA_VMF_DD);
  g_assert_cmpint (g_array_index (vmas, MaVma, 2).name_kind, ==, MA_NAME_PATH);
  g_assert_cmpuint (g_array_index (vmas, MaVma, 2).dev_major, ==, 0);
  g_assert_cmpuint (g_array_index (vmas, MaVma, 2).dev_minor, ==, 5);
}

static void
test_anon_names (void)
{
  g_autoptr (GArray) vmas = parse_fixture ("anon-names.smaps");

  g_assert_cmpuint (vmas->len, ==, 3);
  g_assert_cmpint (g_array_index (vmas, MaVma, 0).name_kind, ==, MA_NAME_ANON);
  g_assert_cmpuint (g_array_index (vmas, MaVma, 0).perms, ==, RW);
  g_assert_cmpint (g_array_index (vmas, MaVma, 1).name_kind, ==, MA_NAME_ANON_SHMEM);
  g_assert_cmpuint (g_array_index (vmas, MaVma, 1).perms, ==, RW | MA_PERM_SHARED);
  g_assert_cmpint (g_array_index (vmas, MaVma, 2).name_kind, ==, MA_NAME_OTHER);
}

static void
test_old_kernel_has_counters_but_no_vmflags (void)
{
  g_autoptr (GArray) vmas = parse_fixture ("old-kernel.smaps");

  g_assert_cmpuint (vmas->len, ==, 5);
  for (guint i = 0; i < vmas->len; i++)
    {
      g_assert_false (g_array_index (vmas, MaVma, i).has_vmflags);
      g_assert_cmpuint (g_array_index (vmas, MaVma, i).vmflags, ==, 0);
    }
  g_assert_cmpint (g_array_index (vmas, MaVma, 0).name_kind, ==, MA_NAME_HEAP);
  assert_counters (&g_array_index (vmas, MaVma, 1), 64, 64, 64, 64, 0);
  /* Linux < 4.5 named thread stacks [stack:TID]. */
  g_assert_cmpint (g_array_index (vmas, MaVma, 2).name_kind, ==, MA_NAME_STACK);
  g_assert_cmpint (g_array_index (vmas, MaVma, 3).name_kind, ==, MA_NAME_PATH);
  g_assert_cmpint (g_array_index (vmas, MaVma, 4).name_kind, ==, MA_NAME_STACK);
}

/* --- synthetic --- */

static void
test_name_kinds (void)
{
  static const struct
  {
    const char *name;
    MaNameKind kind;
  } cases[] = {
    { "", MA_NAME_NONE },
    { "[heap]", MA_NAME_HEAP },
    { "[stack]", MA_NAME_STACK },
    { "[stack:1234]", MA_NAME_STACK },
    { "[stack:]", MA_NAME_OTHER },
    { "[stack:12a]", MA_NAME_OTHER },
    { "[vvar]", MA_NAME_VVAR },
    { "[vvar_vclock]", MA_NAME_VVAR },
    { "[vdso]", MA_NAME_VDSO },
    { "[vsyscall]", MA_NAME_VSYSCALL },
    { "[anon:x]", MA_NAME_ANON },
    { "[anon:name with spaces]", MA_NAME_ANON },
    { "[anon_shmem:x]", MA_NAME_ANON_SHMEM },
    { "[uprobes]", MA_NAME_OTHER },
    { "[]", MA_NAME_OTHER },
    { "[Heap]", MA_NAME_OTHER },
    { "[heapx]", MA_NAME_OTHER },
    { "[anon", MA_NAME_PATH },
    { "[", MA_NAME_PATH },
    { "[heap] (deleted)", MA_NAME_PATH },
    { "/tmp/[heap]", MA_NAME_PATH },
    { "/memfd:x (deleted)", MA_NAME_PATH },
    { "anon_inode:[perf_event]", MA_NAME_PATH },
    { "/a b  c (deleted)", MA_NAME_PATH },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *text
          = g_strdup_printf ("1000-2000 rw-p 00000000 00:00 0          %s\n", cases[i].name);
      g_autoptr (GArray) vmas = parse_ok (text);

      g_test_message ("name '%s'", cases[i].name);
      g_assert_cmpuint (vmas->len, ==, 1);
      g_assert_cmpint (g_array_index (vmas, MaVma, 0).name_kind, ==, cases[i].kind);
    }
}

static void
test_name_with_spaces_is_path (void)
{
  g_autoptr (GArray) vmas
      = parse_ok ("7f00-7f10 r--s 0000a000 08:02 99   /srv/a dir/my file.dat (deleted)\n"
                  "Rss:   4 kB\n");
  const MaVma *v = &g_array_index (vmas, MaVma, 0);

  g_assert_cmpuint (vmas->len, ==, 1);
  g_assert_cmpint (v->name_kind, ==, MA_NAME_PATH);
  g_assert_cmpuint (v->start, ==, 0x7f00);
  g_assert_cmpuint (v->end, ==, 0x7f10);
  g_assert_cmpuint (v->perms, ==, MA_PERM_READ | MA_PERM_SHARED);
  g_assert_cmpuint (v->offset, ==, 0xa000);
  g_assert_cmpuint (v->dev_major, ==, 8);
  g_assert_cmpuint (v->dev_minor, ==, 2);
  g_assert_cmpuint (v->inode, ==, 99);
  g_assert_cmpuint (v->rss, ==, 4 * KiB);
}

static void
test_no_name_with_trailing_space_is_none (void)
{
  g_autoptr (GArray) vmas = parse_ok ("1000-2000 rw-p 00000000 00:00 0 \n"
                                      "3000-4000 rw-p 00000000 00:00 0\n");

  g_assert_cmpuint (vmas->len, ==, 2);
  g_assert_cmpint (g_array_index (vmas, MaVma, 0).name_kind, ==, MA_NAME_NONE);
  g_assert_cmpint (g_array_index (vmas, MaVma, 1).name_kind, ==, MA_NAME_NONE);
}

static void
test_full_width_values (void)
{
  g_autoptr (GArray) vmas
      = parse_ok ("fffffffffffff000-ffffffffffffffff rw-p ffffffffffffffff ffffffff:ffffffff "
                  "18446744073709551615\n"
                  "Rss: 18014398509481983 kB\n");
  const MaVma *v = &g_array_index (vmas, MaVma, 0);

  g_assert_cmpuint (v->start, ==, G_GUINT64_CONSTANT (0xfffffffffffff000));
  g_assert_cmpuint (v->end, ==, G_MAXUINT64);
  g_assert_cmpuint (v->offset, ==, G_MAXUINT64);
  g_assert_cmpuint (v->dev_major, ==, G_MAXUINT32);
  g_assert_cmpuint (v->dev_minor, ==, G_MAXUINT32);
  g_assert_cmpuint (v->inode, ==, G_MAXUINT64);
  /* (2^54 - 1) kB is the largest size that fits 64 bits in bytes. */
  g_assert_cmpuint (v->rss, ==, G_GUINT64_CONSTANT (18014398509481983) * KiB);
}

static void
test_uppercase_hex_and_leading_zeros (void)
{
  g_autoptr (GArray) vmas = parse_ok ("ABC-0000000000000000DEF rw-p 0 0000FE:0A 0007\n"
                                      "Rss: 0004 kB\n");
  const MaVma *v = &g_array_index (vmas, MaVma, 0);

  g_assert_cmpuint (v->start, ==, 0xabc);
  g_assert_cmpuint (v->end, ==, 0xdef);
  g_assert_cmpuint (v->dev_major, ==, 0xfe);
  g_assert_cmpuint (v->dev_minor, ==, 0xa);
  g_assert_cmpuint (v->inode, ==, 7);
  g_assert_cmpuint (v->rss, ==, 4 * KiB);
}

static void
test_unknown_fields_and_vmflags_are_ignored (void)
{
  g_autoptr (GArray) vmas = parse_ok ("1000-2000 rw-p 00000000 00:00 0\n"
                                      "FutureField:   12 MB whatever\n"
                                      "THPeligible:    0\n"
                                      "Rss:  8 kB\n"
                                      "VmFlags: rd zz wr toolong x ht \n");
  const MaVma *v = &g_array_index (vmas, MaVma, 0);

  g_assert_true (v->has_vmflags);
  g_assert_cmpuint (v->vmflags, ==, MA_VMF_RD | MA_VMF_WR | MA_VMF_HT);
  g_assert_cmpuint (v->rss, ==, 8 * KiB);
}

static void
test_every_vmflag_code (void)
{
  g_autoptr (GArray) vmas = parse_ok ("1000-2000 rw-p 00000000 00:00 0\n"
                                      "VmFlags: rd wr ex sh lo io pf ht mm dd gd\n");

  g_assert_cmpuint (g_array_index (vmas, MaVma, 0).vmflags, ==, (1u << 11) - 1);
}

static void
test_empty_vmflags_line (void)
{
  g_autoptr (GArray) vmas = parse_ok ("1000-2000 ---p 00000000 00:00 0\nVmFlags:\n");

  g_assert_true (g_array_index (vmas, MaVma, 0).has_vmflags);
  g_assert_cmpuint (g_array_index (vmas, MaVma, 0).vmflags, ==, 0);
  g_assert_false (g_array_index (vmas, MaVma, 0).has_counters);
}

static void
test_empty_input_is_no_vmas (void)
{
  g_autoptr (GArray) vmas = new_vmas ();
  g_autoptr (GError) error = NULL;

  g_assert_true (parse_exact ("", 0, vmas, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (vmas->len, ==, 0);
}

static void
test_truncated_header_is_error (void)
{
  ASSERT_INVALID ("1000-2000 rw-p 00000000 00:00 0\nRss: 4 kB\n3000-4000 rw-p 00000000 00:00 0", 3);
  ASSERT_INVALID ("1000-2000 rw-p 00000000 00:00 0", 1);
  ASSERT_INVALID ("1000-2", 1);
}

static void
test_truncated_field_is_error (void)
{
  /* "Locked: 6" might have been "Locked: 64 kB": a cut field is an error. */
  ASSERT_INVALID ("1000-2000 rw-p 00000000 00:00 0\nLocked: 6", 2);
  ASSERT_INVALID ("1000-2000 rw-p 00000000 00:00 0\nVmFlags: rd wr", 2);
  ASSERT_INVALID ("1000-2000 rw-p 00000000 00:00 0\nPss: 4 kB", 2);
}

/* Every prefix of a valid text either ends at a line boundary and parses
 * to the blocks it holds, or is an error. */
static void
test_every_prefix_is_handled (void)
{
  static const char text[] = "1000-2000 rw-p 00000000 00:00 0          [heap]\n"
                             "Rss:                   8 kB\n"
                             "Referenced:            4 kB\n"
                             "Locked:                0 kB\n"
                             "VmFlags: rd wr lo \n"
                             "3000-4000 r-xp 00001000 fe:01 77    /usr/lib/x y.so\n"
                             "Rss:                   4 kB\n";
  const gsize len = sizeof text - 1;
  const gsize second = (gsize) (strstr (text, "3000-") - text);
  const gsize second_fields = (gsize) (strstr (text, "y.so\n") - text) + 5;

  for (gsize n = 0; n <= len; n++)
    {
      g_autoptr (GArray) vmas = new_vmas ();
      g_autoptr (GError) error = NULL;
      gboolean at_boundary = n == 0 || text[n - 1] == '\n';
      gboolean ok = parse_exact (text, n, vmas, &error);

      g_assert_cmpint (ok, ==, at_boundary);
      if (ok)
        {
          g_assert_no_error (error);
          g_assert_cmpuint (vmas->len, ==, (n == 0 ? 0 : n <= second ? 1 : 2));
        }
      else
        {
          g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
          /* The block a cut line may belong to is dropped, earlier ones are
           * kept: the first block is known complete only once the second
           * header has its newline. */
          g_assert_cmpuint (vmas->len, ==, (n > second_fields ? 1 : 0));
        }
    }
  {
    /* The cut "lo" would have been lost: the whole first block is. */
    g_autoptr (GArray) vmas = new_vmas ();
    g_assert_false (parse_exact (text, (gsize) (strstr (text, "lo \n") - text) + 1, vmas, NULL));
    g_assert_cmpuint (vmas->len, ==, 0);
  }
}

static void
test_field_before_header_is_error (void)
{
  ASSERT_INVALID ("Rss: 4 kB\n1000-2000 rw-p 00000000 00:00 0\n", 1);
  ASSERT_INVALID ("VmFlags: rd\n", 1);
}

static void
test_malformed_headers_are_errors (void)
{
  ASSERT_INVALID ("1000 2000 rw-p 00000000 00:00 0\n", 1);                  /* missing dash */
  ASSERT_INVALID ("10g0-2000 rw-p 00000000 00:00 0\n", 1);                  /* non-hex */
  ASSERT_INVALID ("-2000 rw-p 00000000 00:00 0\n", 1);                      /* no start */
  ASSERT_INVALID ("1000- rw-p 00000000 00:00 0\n", 1);                      /* no end */
  ASSERT_INVALID ("1000-2000  rw-p 00000000 00:00 0\n", 1);                 /* two spaces */
  ASSERT_INVALID ("1000-2000 rw-x 00000000 00:00 0\n", 1);                  /* bad sharing */
  ASSERT_INVALID ("1000-2000 Rw-p 00000000 00:00 0\n", 1);                  /* bad read */
  ASSERT_INVALID ("1000-2000 rw-p\n", 1);                                   /* too short */
  ASSERT_INVALID ("1000-2000 rw-p 00000000 00-00 0\n", 1);                  /* bad dev */
  ASSERT_INVALID ("1000-2000 rw-p 00000000 00:00 x\n", 1);                  /* bad inode */
  ASSERT_INVALID ("1000-2000 rw-p 00000000 00:00 12a /x\n", 1);             /* inode glued */
  ASSERT_INVALID ("1000-2000 rw-p 0000000g 00:00 0\n", 1);                  /* non-hex offset */
  ASSERT_INVALID ("2000-1000 rw-p 00000000 00:00 0\n", 1);                  /* reversed */
  ASSERT_INVALID ("2000-2000 rw-p 00000000 00:00 0\n", 1);                  /* empty */
  ASSERT_INVALID ("10000000000000000-10000000000000001 rw-p 0 0:0 0\n", 1); /* > 64 bits */
  ASSERT_INVALID ("1000-2000 rw-p 10000000000000000 00:00 0\n", 1);         /* offset > 64 bits */
  ASSERT_INVALID ("1000-2000 rw-p 0 100000000:00 0\n", 1);                  /* major > 32 bits */
  ASSERT_INVALID ("1000-2000 rw-p 0 00:100000000 0\n", 1);                  /* minor > 32 bits */
  ASSERT_INVALID ("1000-2000 rw-p 0 00:00 18446744073709551616\n", 1);      /* inode > 64 bits */
  ASSERT_INVALID ("1000-2000 rw-p 0 00:00 0\nSome Field: 4 kB\n", 2);       /* blank in key */
  ASSERT_INVALID ("1000-2000 rw-p 0 00:00 0\nrss: 4 kB\n", 2);              /* lowercase key */
  ASSERT_INVALID ("\n", 1);
  ASSERT_INVALID ("      \n", 1);
  ASSERT_INVALID ("1000-2000 rw-p 0 00:00 0\n\n", 2);
  ASSERT_INVALID ("1000-2000 rw-p 0 00:00 0\n   \nRss: 4 kB\n", 2);
}

static void
test_nul_bytes_are_not_terminators (void)
{
  g_autoptr (GArray) vmas = new_vmas ();
  g_autoptr (GError) error = NULL;
  static const char in_name[] = "1000-2000 rw-p 0 00:00 0 /a\0b\nRss: 4 kB\n";

  /* In a name, a NUL is just a byte of a path (it does not cut the text). */
  g_assert_true (parse_exact (in_name, sizeof in_name - 1, vmas, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (vmas->len, ==, 1);
  g_assert_cmpint (g_array_index (vmas, MaVma, 0).name_kind, ==, MA_NAME_PATH);
  g_assert_cmpuint (g_array_index (vmas, MaVma, 0).rss, ==, 4 * KiB);

  ASSERT_INVALID ("10\00000-2000 rw-p 0 00:00 0\n", 1);
  ASSERT_INVALID ("1000-2000 rw-p 0 00:00 0\nRss: 4\0 kB\n", 2);
  ASSERT_INVALID ("1000-2000 rw-p 0 00:00 0\n\0Rss: 4 kB\n", 2);
  /* A NUL cannot make "[heap]" of a longer name. */
  {
    static const char heap_nul[] = "1000-2000 rw-p 0 00:00 0 [heap]\0x]\n";
    g_autoptr (GArray) v2 = new_vmas ();

    g_assert_true (parse_exact (heap_nul, sizeof heap_nul - 1, v2, NULL));
    g_assert_cmpint (g_array_index (v2, MaVma, 0).name_kind, ==, MA_NAME_OTHER);
  }
}

static void
test_malformed_counters_are_errors (void)
{
  ASSERT_INVALID ("1000-2000 rw-p 0 00:00 0\nRss: 18014398509481984 kB\n", 2); /* 2^54 kB */
  ASSERT_INVALID ("1000-2000 rw-p 0 00:00 0\nSwap: 99999999999999999999 kB\n", 2);
  ASSERT_INVALID ("1000-2000 rw-p 0 00:00 0\nRss: 4 MB\n", 2);
  ASSERT_INVALID ("1000-2000 rw-p 0 00:00 0\nRss: 4\n", 2);
  ASSERT_INVALID ("1000-2000 rw-p 0 00:00 0\nRss: kB\n", 2);
  ASSERT_INVALID ("1000-2000 rw-p 0 00:00 0\nLocked: -4 kB\n", 2);
  ASSERT_INVALID ("1000-2000 rw-p 0 00:00 0\nAnonymous: 0x4 kB\n", 2);
  ASSERT_INVALID ("1000-2000 rw-p 0 00:00 0\nReferenced: 4 kB extra\n", 2);
  ASSERT_INVALID ("1000-2000 rw-p 0 00:00 0\nRss: 4 kB\nRss: 4 kB\n", 3);
  ASSERT_INVALID ("1000-2000 rw-p 0 00:00 0\nVmFlags: rd\nVmFlags: lo\n", 3);
}

static void
test_error_keeps_complete_blocks_before_it (void)
{
  static const char text[] = "1000-2000 rw-p 0 00:00 0\n"
                             "Rss: 4 kB\n"
                             "3000-4000 rw-p 0 00:00 0\n"
                             "Rss: 4 kB\n"
                             "5000-6000 rw-p 0 00:00 0\n"
                             "Rss: 4 zB\n";
  g_autoptr (GArray) vmas = new_vmas ();
  g_autoptr (GError) error = NULL;
  MaVma before = { .start = 1, .end = 2 };

  g_array_append_val (vmas, before);
  g_assert_false (parse_exact (text, sizeof text - 1, vmas, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_assert_nonnull (strstr (error->message, "line 6:"));
  g_assert_cmpuint (vmas->len, ==, 3);
  g_assert_cmpuint (g_array_index (vmas, MaVma, 0).start, ==, 1);
  g_assert_cmpuint (g_array_index (vmas, MaVma, 1).start, ==, 0x1000);
  g_assert_cmpuint (g_array_index (vmas, MaVma, 2).start, ==, 0x3000);
}

static void
test_65000_vmas (void)
{
  const guint n = 65000;
  GString *text = g_string_sized_new ((gsize) n * 400);
  g_autoptr (GArray) vmas = new_vmas ();
  g_autoptr (GError) error = NULL;
  const MaVma *last;
  gint64 t0, t1;
  gboolean ok;

  for (guint i = 0; i < n; i++)
    {
      guint64 start = G_GUINT64_CONSTANT (0x7f0000000000) + (guint64) i * 0x3000;

      g_string_append_printf (text,
                              "%" G_GINT64_MODIFIER "x-%" G_GINT64_MODIFIER
                              "x rw-p %08x 00:00 0 %s\n"
                              "Size:                 12 kB\n"
                              "Rss:                  %u kB\n"
                              "Pss:                   8 kB\n"
                              "Referenced:            %u kB\n"
                              "Anonymous:             8 kB\n"
                              "Swap:                  %u kB\n"
                              "Locked:                0 kB\n"
                              "THPeligible:           0\n"
                              "VmFlags: rd wr mr mw me ac %s\n",
                              start, start + 0x2000, i, i % 7 == 0 ? "[anon:x]" : "", i % 9, i % 5,
                              i, i % 2 ? "lo" : "");
    }

  t0 = g_get_monotonic_time ();
  ok = ma_smaps_parse (text->str, text->len, vmas, &error);
  t1 = g_get_monotonic_time ();
  g_test_message ("%u mappings, %" G_GSIZE_FORMAT " bytes: %" G_GINT64_FORMAT " us", n, text->len,
                  t1 - t0);
  g_string_free (text, TRUE);

  g_assert_no_error (error);
  g_assert_true (ok);
  g_assert_cmpuint (vmas->len, ==, n);
  last = &g_array_index (vmas, MaVma, n - 1);
  g_assert_cmpuint (last->start, ==,
                    G_GUINT64_CONSTANT (0x7f0000000000) + (guint64) (n - 1) * 0x3000);
  g_assert_cmpuint (last->end, ==, last->start + 0x2000);
  g_assert_cmpuint (last->offset, ==, n - 1);
  g_assert_cmpint (last->name_kind, ==, (n - 1) % 7 == 0 ? MA_NAME_ANON : MA_NAME_NONE);
  g_assert_cmpuint (last->rss, ==, ((n - 1) % 9) * KiB);
  g_assert_cmpuint (last->referenced, ==, ((n - 1) % 5) * KiB);
  g_assert_cmpuint (last->anonymous, ==, 8 * KiB);
  g_assert_cmpuint (last->swap, ==, (guint64) (n - 1) * KiB);
  g_assert_cmpuint (last->vmflags, ==, MA_VMF_RD | MA_VMF_WR | ((n - 1) % 2 ? MA_VMF_LO : 0));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/smaps/recorded/count-matches-maps", test_recorded_count_matches_maps);
  g_test_add_func ("/smaps/recorded/heap-is-anonymous-private",
                   test_recorded_heap_is_anonymous_private);
  g_test_add_func ("/smaps/recorded/plain-anonymous-with-swap",
                   test_recorded_plain_anonymous_with_swap);
  g_test_add_func ("/smaps/recorded/thread-stacks-are-unnamed-with-guards",
                   test_recorded_thread_stacks_are_unnamed_with_guards);
  g_test_add_func ("/smaps/recorded/jit-is-rwx-private", test_recorded_jit_is_rwx_private);
  g_test_add_func ("/smaps/recorded/shared-anonymous-is-shared-path",
                   test_recorded_shared_anonymous_is_shared_path);
  g_test_add_func ("/smaps/recorded/memfd-and-sysv-shm-are-files",
                   test_recorded_memfd_and_sysv_shm_are_files);
  g_test_add_func ("/smaps/recorded/mlocked-has-lo-and-locked",
                   test_recorded_mlocked_has_lo_and_locked);
  g_test_add_func ("/smaps/recorded/hugetlb-has-ht", test_recorded_hugetlb_has_ht);
  g_test_add_func ("/smaps/recorded/guard-pages-have-no-permissions",
                   test_recorded_guard_pages_have_no_permissions);
  g_test_add_func ("/smaps/recorded/deleted-and-spaced-files-are-paths",
                   test_recorded_deleted_and_spaced_files_are_paths);
  g_test_add_func ("/smaps/recorded/special-names", test_recorded_special_names);
  g_test_add_func ("/smaps/recorded/file-offset-is-hex", test_recorded_file_offset_is_hex);
  g_test_add_func ("/smaps/io-pfnmap-flags", test_io_pfnmap_flags);
  g_test_add_func ("/smaps/anon-names", test_anon_names);
  g_test_add_func ("/smaps/old-kernel-has-counters-but-no-vmflags",
                   test_old_kernel_has_counters_but_no_vmflags);
  g_test_add_func ("/smaps/name-kinds", test_name_kinds);
  g_test_add_func ("/smaps/name-with-spaces-is-path", test_name_with_spaces_is_path);
  g_test_add_func ("/smaps/no-name-with-trailing-space-is-none",
                   test_no_name_with_trailing_space_is_none);
  g_test_add_func ("/smaps/full-width-values", test_full_width_values);
  g_test_add_func ("/smaps/uppercase-hex-and-leading-zeros", test_uppercase_hex_and_leading_zeros);
  g_test_add_func ("/smaps/unknown-fields-and-vmflags-are-ignored",
                   test_unknown_fields_and_vmflags_are_ignored);
  g_test_add_func ("/smaps/every-vmflag-code", test_every_vmflag_code);
  g_test_add_func ("/smaps/empty-vmflags-line", test_empty_vmflags_line);
  g_test_add_func ("/smaps/empty-input-is-no-vmas", test_empty_input_is_no_vmas);
  g_test_add_func ("/smaps/truncated-header-is-error", test_truncated_header_is_error);
  g_test_add_func ("/smaps/truncated-field-is-error", test_truncated_field_is_error);
  g_test_add_func ("/smaps/every-prefix-is-handled", test_every_prefix_is_handled);
  g_test_add_func ("/smaps/field-before-header-is-error", test_field_before_header_is_error);
  g_test_add_func ("/smaps/malformed-headers-are-errors", test_malformed_headers_are_errors);
  g_test_add_func ("/smaps/nul-bytes-are-not-terminators", test_nul_bytes_are_not_terminators);
  g_test_add_func ("/smaps/malformed-counters-are-errors", test_malformed_counters_are_errors);
  g_test_add_func ("/smaps/error-keeps-complete-blocks-before-it",
                   test_error_keeps_complete_blocks_before_it);
  g_test_add_func ("/smaps/65000-vmas", test_65000_vmas);

  return g_test_run ();
}
