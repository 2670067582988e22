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

/* Parses a recorded fixture (tests/fixtures/README.md). */
static GArray *
load_fixture (const char *name)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "fixtures", name, NULL);
  g_autofree char *text = NULL;
  g_autoptr (GError) error = NULL;
  GArray *vmas = g_array_new (FALSE, FALSE, sizeof (MaVma));
  gsize len;

  g_assert_true (g_file_get_contents (path, &text, &len, &error));
  g_assert_no_error (error);
  g_assert_true (ma_smaps_parse (text, len, vmas, &error));
  g_assert_no_error (error);
  return vmas;
}

static MaIneligible
reason_at (GArray *vmas, guint64 start)
{
  guint i;

  for (i = 0; i < vmas->len; i++)
    if (g_array_index (vmas, MaVma, i).start == start)
      return ma_vma_eligibility (&g_array_index (vmas, MaVma, i));
  g_error ("no mapping at %" G_GINT64_MODIFIER "x in the fixture", start);
}

typedef struct
{
  guint64 start;
  MaIneligible reason;
} Expect;

static void
check_fixture (const char *name, const Expect *expect, guint n_expect, guint n_eligible)
{
  g_autoptr (GArray) vmas = load_fixture (name);
  guint i, eligible = 0;

  for (i = 0; i < n_expect; i++)
    {
      g_test_message ("%s: mapping at %" G_GINT64_MODIFIER "x", name, expect[i].start);
      g_assert_cmpstr (ma_ineligible_to_string (reason_at (vmas, expect[i].start)), ==,
                       ma_ineligible_to_string (expect[i].reason));
    }
  /* Nothing else in the fixture is eligible. */
  for (i = 0; i < vmas->len; i++)
    eligible += ma_vma_eligibility (&g_array_index (vmas, MaVma, i)) == MA_INELIGIBLE_NONE;
  g_assert_cmpuint (eligible, ==, n_eligible);
}

static void
test_recorded_process_eligible_set (void)
{
  const Expect expect[] = {
    { 0x555a70acf000, MA_INELIGIBLE_NONE },        /* [heap] */
    { 0x7feefc5a5000, MA_INELIGIBLE_NONE },        /* plain anonymous */
    { 0x7feefc631000, MA_INELIGIBLE_NONE },        /* anonymous, partly in swap */
    { 0x7feefc682000, MA_INELIGIBLE_NONE },        /* thread stacks */
    { 0x7feefc6c3000, MA_INELIGIBLE_NONE },        /* */
    { 0x7feefc704000, MA_INELIGIBLE_NONE },        /* */
    { 0x7feefc744000, MA_INELIGIBLE_NONE },        /* glibc's anonymous memory */
    { 0x7feefc91c000, MA_INELIGIBLE_NONE },        /* */
    { 0x7feefc934000, MA_INELIGIBLE_NONE },        /* */
    { 0x555a5576a000, MA_INELIGIBLE_FILE },        /* the program's .data */
    { 0x7feefc200000, MA_INELIGIBLE_FILE },        /* hugetlb (/anon_hugepage) */
    { 0x7feefc5b5000, MA_INELIGIBLE_FILE },        /* name with spaces */
    { 0x7feefc5b9000, MA_INELIGIBLE_FILE },        /* deleted file */
    { 0x7feefc5bd000, MA_INELIGIBLE_PROT },        /* PROT_NONE guard */
    { 0x7feefc5c1000, MA_INELIGIBLE_LOCKED },      /* mlock */
    { 0x7feefc5d1000, MA_INELIGIBLE_FILE },        /* SysV shm */
    { 0x7feefc5e1000, MA_INELIGIBLE_FILE },        /* memfd, private */
    { 0x7feefc5f1000, MA_INELIGIBLE_FILE },        /* memfd, shared */
    { 0x7feefc601000, MA_INELIGIBLE_FILE },        /* shared anonymous */
    { 0x7feefc611000, MA_INELIGIBLE_FILE },        /* */
    { 0x7feefc671000, MA_INELIGIBLE_EXEC },        /* JIT rwx */
    { 0x7feefc681000, MA_INELIGIBLE_PROT },        /* thread stack guard */
    { 0x7feefc92c000, MA_INELIGIBLE_PROT },        /* read-only anonymous */
    { 0x7feefc936000, MA_INELIGIBLE_SPECIAL },     /* [vvar] */
    { 0x7feefc93a000, MA_INELIGIBLE_SPECIAL },     /* [vvar_vclock] */
    { 0x7feefc93c000, MA_INELIGIBLE_SPECIAL },     /* [vdso] */
    { 0x7fff21bb4000, MA_INELIGIBLE_SPECIAL },     /* [stack] */
    { 0xffffffffff600000, MA_INELIGIBLE_SPECIAL }, /* [vsyscall] */
  };

  check_fixture ("mixed.smaps", expect, G_N_ELEMENTS (expect), 9);
}

static void
test_io_and_pfnmap_fixture (void)
{
  const Expect expect[] = {
    { 0x7f0000000000, MA_INELIGIBLE_IO },   /* remap_pfn_range: io pf */
    { 0x7f0000100000, MA_INELIGIBLE_NONE }, /* VM_MIXEDMAP alone is not excluded */
    { 0x7f0000200000, MA_INELIGIBLE_FILE }, /* a device file */
  };

  check_fixture ("io-pfnmap.smaps", expect, G_N_ELEMENTS (expect), 1);
}

static void
test_anon_names_fixture (void)
{
  const Expect expect[] = {
    { 0x7feefc5a5000, MA_INELIGIBLE_NONE },    /* [anon:...] */
    { 0x7feefc601000, MA_INELIGIBLE_FILE },    /* [anon_shmem:...]: a shmem inode */
    { 0x7feefc681000, MA_INELIGIBLE_SPECIAL }, /* [uprobes] */
  };

  check_fixture ("anon-names.smaps", expect, G_N_ELEMENTS (expect), 1);
}

static void
test_old_kernel_without_vmflags_is_never_eligible (void)
{
  g_autoptr (GArray) vmas = load_fixture ("old-kernel.smaps");
  guint i;

  g_assert_cmpuint (vmas->len, ==, 5);
  for (i = 0; i < vmas->len; i++)
    g_assert_cmpint (ma_vma_eligibility (&g_array_index (vmas, MaVma, i)), !=, MA_INELIGIBLE_NONE);
}

static void
test_maps_alone_is_never_eligible (void)
{
  g_autoptr (GArray) vmas = load_fixture ("mixed.maps");
  guint i;

  /* maps has no VmFlags: locked or hugetlb cannot be told apart there. */
  g_assert_cmpuint (vmas->len, >, 0);
  for (i = 0; i < vmas->len; i++)
    g_assert_cmpint (ma_vma_eligibility (&g_array_index (vmas, MaVma, i)), !=, MA_INELIGIBLE_NONE);
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
  g_test_add_func ("/eligible/recorded/process-eligible-set", test_recorded_process_eligible_set);
  g_test_add_func ("/eligible/recorded/io-and-pfnmap", test_io_and_pfnmap_fixture);
  g_test_add_func ("/eligible/recorded/anon-names", test_anon_names_fixture);
  g_test_add_func ("/eligible/recorded/old-kernel-without-vmflags-is-never-eligible",
                   test_old_kernel_without_vmflags_is_never_eligible);
  g_test_add_func ("/eligible/recorded/maps-alone-is-never-eligible",
                   test_maps_alone_is_never_eligible);

  return g_test_run ();
}
