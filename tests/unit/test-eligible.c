/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Eligibility: DESIGN's rules one by one on synthetic mappings, then on the
 * recorded fixtures (tests/fixtures/README.md says what each mapping is).
 */
#include "config.h"

#include "ma-parse.h"

static MaVma
anon_rw (void)
{
  return (MaVma){
    .start = 0x7f0000000000ull,
    .end = 0x7f0000100000ull,
    .perms = MA_PERM_READ | MA_PERM_WRITE,
    .vmflags = MA_VMF_RD | MA_VMF_WR,
    .has_vmflags = TRUE,
    .has_counters = TRUE,
    .rss = 0x100000,
    .name_kind = MA_NAME_NONE,
  };
}

static void
test_anonymous_private_rw_is_eligible (void)
{
  MaVma vma = anon_rw ();

  g_assert_cmpint (ma_vma_eligibility (&vma), ==, MA_INELIGIBLE_NONE);
}

static void
test_heap_and_named_anonymous_are_eligible (void)
{
  MaVma vma = anon_rw ();

  vma.name_kind = MA_NAME_HEAP;
  g_assert_cmpint (ma_vma_eligibility (&vma), ==, MA_INELIGIBLE_NONE);
  vma.name_kind = MA_NAME_ANON;
  g_assert_cmpint (ma_vma_eligibility (&vma), ==, MA_INELIGIBLE_NONE);
}

static void
test_file_backed_is_not_eligible (void)
{
  MaVma vma = anon_rw ();

  vma.inode = 1234;
  g_assert_cmpint (ma_vma_eligibility (&vma), ==, MA_INELIGIBLE_FILE);
  vma = anon_rw ();
  vma.dev_major = 0xfe;
  g_assert_cmpint (ma_vma_eligibility (&vma), ==, MA_INELIGIBLE_FILE);
  /* A path with no inode is still a path: never trusted to be anonymous. */
  vma = anon_rw ();
  vma.name_kind = MA_NAME_PATH;
  g_assert_cmpint (ma_vma_eligibility (&vma), ==, MA_INELIGIBLE_FILE);
}

static void
test_special_names_are_not_eligible (void)
{
  const MaNameKind kinds[]
      = { MA_NAME_STACK, MA_NAME_VVAR, MA_NAME_VDSO, MA_NAME_VSYSCALL, MA_NAME_OTHER };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (kinds); i++)
    {
      MaVma vma = anon_rw ();
      vma.name_kind = kinds[i];
      g_assert_cmpint (ma_vma_eligibility (&vma), ==, MA_INELIGIBLE_SPECIAL);
    }
}

static void
test_shared_is_not_eligible (void)
{
  MaVma vma = anon_rw ();

  vma.perms |= MA_PERM_SHARED;
  g_assert_cmpint (ma_vma_eligibility (&vma), ==, MA_INELIGIBLE_SHARED);
  vma = anon_rw ();
  vma.vmflags |= MA_VMF_SH;
  g_assert_cmpint (ma_vma_eligibility (&vma), ==, MA_INELIGIBLE_SHARED);
  vma = anon_rw ();
  vma.name_kind = MA_NAME_ANON_SHMEM;
  g_assert_cmpint (ma_vma_eligibility (&vma), ==, MA_INELIGIBLE_SHARED);
}

static void
test_not_read_write_is_not_eligible (void)
{
  MaVma vma = anon_rw ();

  vma.perms = 0; /* PROT_NONE guard pages */
  vma.vmflags = 0;
  g_assert_cmpint (ma_vma_eligibility (&vma), ==, MA_INELIGIBLE_PROT);
  vma = anon_rw ();
  vma.perms = MA_PERM_READ;
  g_assert_cmpint (ma_vma_eligibility (&vma), ==, MA_INELIGIBLE_PROT);
  vma = anon_rw ();
  vma.vmflags &= ~MA_VMF_WR; /* header and flags disagree: trust neither */
  g_assert_cmpint (ma_vma_eligibility (&vma), ==, MA_INELIGIBLE_PROT);
}

static void
test_executable_is_not_eligible (void)
{
  MaVma vma = anon_rw ();

  vma.perms |= MA_PERM_EXEC; /* JIT code */
  g_assert_cmpint (ma_vma_eligibility (&vma), ==, MA_INELIGIBLE_EXEC);
  vma = anon_rw ();
  vma.vmflags |= MA_VMF_EX;
  g_assert_cmpint (ma_vma_eligibility (&vma), ==, MA_INELIGIBLE_EXEC);
}

static void
test_locked_is_not_eligible (void)
{
  MaVma vma = anon_rw ();

  vma.vmflags |= MA_VMF_LO;
  g_assert_cmpint (ma_vma_eligibility (&vma), ==, MA_INELIGIBLE_LOCKED);
  vma = anon_rw ();
  vma.locked = 4096;
  g_assert_cmpint (ma_vma_eligibility (&vma), ==, MA_INELIGIBLE_LOCKED);
}

static void
test_hugetlb_io_and_pfnmap_are_not_eligible (void)
{
  MaVma vma = anon_rw ();

  vma.vmflags |= MA_VMF_HT;
  g_assert_cmpint (ma_vma_eligibility (&vma), ==, MA_INELIGIBLE_HUGETLB);
  vma = anon_rw ();
  vma.vmflags |= MA_VMF_IO;
  g_assert_cmpint (ma_vma_eligibility (&vma), ==, MA_INELIGIBLE_IO);
  vma = anon_rw ();
  vma.vmflags |= MA_VMF_PF;
  g_assert_cmpint (ma_vma_eligibility (&vma), ==, MA_INELIGIBLE_IO);
}

static void
test_without_vmflags_is_not_eligible (void)
{
  MaVma vma = anon_rw ();

  vma.has_vmflags = FALSE;
  vma.vmflags = 0;
  g_assert_cmpint (ma_vma_eligibility (&vma), ==, MA_INELIGIBLE_NO_VMFLAGS);
}

static void
test_every_reason_has_a_name (void)
{
  MaIneligible r;

  for (r = MA_INELIGIBLE_NONE; r <= MA_INELIGIBLE_NO_VMFLAGS; r++)
    g_assert_cmpstr (ma_ineligible_to_string (r), !=, "unknown");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/eligible/anonymous-private-rw-is-eligible",
                   test_anonymous_private_rw_is_eligible);
  g_test_add_func ("/eligible/heap-and-named-anonymous-are-eligible",
                   test_heap_and_named_anonymous_are_eligible);
  g_test_add_func ("/eligible/file-backed-is-not-eligible", test_file_backed_is_not_eligible);
  g_test_add_func ("/eligible/special-names-are-not-eligible", test_special_names_are_not_eligible);
  g_test_add_func ("/eligible/shared-is-not-eligible", test_shared_is_not_eligible);
  g_test_add_func ("/eligible/not-read-write-is-not-eligible", test_not_read_write_is_not_eligible);
  g_test_add_func ("/eligible/executable-is-not-eligible", test_executable_is_not_eligible);
  g_test_add_func ("/eligible/locked-is-not-eligible", test_locked_is_not_eligible);
  g_test_add_func ("/eligible/hugetlb-io-and-pfnmap-are-not-eligible",
                   test_hugetlb_io_and_pfnmap_are_not_eligible);
  g_test_add_func ("/eligible/without-vmflags-is-not-eligible",
                   test_without_vmflags_is_not_eligible);
  g_test_add_func ("/eligible/every-reason-has-a-name", test_every_reason_has_a_name);

  return g_test_run ();
}
