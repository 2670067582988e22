/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * What a caller's /proc shows of a process (visibility.c): the rules of
 * hidepid= and gid= and of the kernel's ptrace check, on facts.
 */
#include "config.h"

#include <gio/gio.h>

#include "visibility.h"

#define ALICE 1000
#define BOB 1001
#define ADMINS 27

static MaTargetFacts
facts_of_uid (uid_t uid)
{
  MaTargetFacts facts = {
    .pid = 4242,
    .comm = "ma-test-target",
    .uids = { uid, uid, uid, uid },
    .gids = { uid, uid, uid, uid },
    .proc_owner = uid,
  };

  return facts;
}

/* Alice, whose /proc is mounted with @hidepid (and gid=ADMINS when
 * @with_gid), under a daemon whose own /proc shows everything. */
static MaCallerView
alice_with (MaHidepid hidepid, gboolean with_gid)
{
  static const guint32 groups[] = { ALICE, 100 };
  MaCallerView view = {
    .uid = ALICE,
    .fsuid = ALICE,
    .fsgid = ALICE,
    .in_daemon_userns = TRUE,
    .groups = groups,
    .n_groups = G_N_ELEMENTS (groups),
    .n_mounts = 2,
  };

  view.mounts[0]
      = (MaProcMount){ .mounted = TRUE, .hidepid = hidepid, .has_gid = with_gid, .gid = ADMINS };
  view.mounts[1] = (MaProcMount){ .mounted = TRUE };
  return view;
}

static void
test_visibility_of_hidepid_modes (void)
{
  MaTargetFacts own = facts_of_uid (ALICE), other = facts_of_uid (BOB);
  static const struct
  {
    MaHidepid hidepid;
    MaSeen own, other;
  } cases[] = {
    { MA_HIDEPID_OFF, MA_SEEN_READABLE, MA_SEEN_READABLE },
    { MA_HIDEPID_NOACCESS, MA_SEEN_READABLE, MA_SEEN_EXISTS },
    { MA_HIDEPID_INVISIBLE, MA_SEEN_READABLE, MA_SEEN_NOTHING },
    { MA_HIDEPID_PTRACEABLE, MA_SEEN_READABLE, MA_SEEN_NOTHING },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      MaCallerView view = alice_with (cases[i].hidepid, FALSE);

      g_assert_cmpint (ma_visibility_seen (&own, &view), ==, cases[i].own);
      g_assert_cmpint (ma_visibility_seen (&other, &view), ==, cases[i].other);
      /* Root sees everything. */
      view.uid = 0;
      g_assert_cmpint (ma_visibility_seen (&other, &view), ==, MA_SEEN_READABLE);
    }
}

static void
test_visibility_gid_members_see_all_but_with_ptraceable (void)
{
  MaTargetFacts other = facts_of_uid (BOB);
  static const guint32 admins[] = { ALICE, ADMINS };
  MaCallerView view = alice_with (MA_HIDEPID_INVISIBLE, TRUE);

  g_assert_cmpint (ma_visibility_seen (&other, &view), ==, MA_SEEN_NOTHING);
  view.groups = admins;
  view.n_groups = G_N_ELEMENTS (admins);
  g_assert_cmpint (ma_visibility_seen (&other, &view), ==, MA_SEEN_READABLE);
  /* The filesystem gid counts as a group. */
  view = alice_with (MA_HIDEPID_NOACCESS, TRUE);
  view.fsgid = ADMINS;
  g_assert_cmpint (ma_visibility_seen (&other, &view), ==, MA_SEEN_READABLE);
  /* hidepid=ptraceable ignores gid=. */
  view = alice_with (MA_HIDEPID_PTRACEABLE, TRUE);
  view.groups = admins;
  view.n_groups = G_N_ELEMENTS (admins);
  g_assert_cmpint (ma_visibility_seen (&other, &view), ==, MA_SEEN_NOTHING);
}

static void
test_visibility_follows_the_ptrace_check (void)
{
  MaCallerView view = alice_with (MA_HIDEPID_INVISIBLE, FALSE);
  MaTargetFacts facts;

  /* Any uid or gid of another, not dumpable, a capability permitted: the
   * kernel refuses the caller, so /proc hides it. */
  for (guint i = 0; i < 3; i++)
    {
      facts = facts_of_uid (ALICE);
      facts.uids[i] = 0;
      g_assert_false (ma_visibility_ptraceable (&facts, &view));
      g_assert_cmpint (ma_visibility_seen (&facts, &view), ==, MA_SEEN_NOTHING);
      facts = facts_of_uid (ALICE);
      facts.gids[i] = 5;
      g_assert_false (ma_visibility_ptraceable (&facts, &view));
    }
  facts = facts_of_uid (ALICE);
  facts.proc_owner = 0;
  g_assert_false (ma_visibility_ptraceable (&facts, &view));
  facts = facts_of_uid (ALICE);
  facts.cap_prm = 1ull << 13;
  g_assert_false (ma_visibility_ptraceable (&facts, &view));
  /* ... unless the caller holds those capabilities, or CAP_SYS_PTRACE. */
  view.cap_eff = 1ull << 13;
  g_assert_true (ma_visibility_ptraceable (&facts, &view));
  view.cap_eff = 1ull << 19;
  facts = facts_of_uid (BOB);
  g_assert_true (ma_visibility_ptraceable (&facts, &view));

  /* In a user namespace the caller created, whatever its ids. */
  view = alice_with (MA_HIDEPID_INVISIBLE, FALSE);
  facts = facts_of_uid (100000);
  facts.userns_nested = TRUE;
  facts.userns_caller_owned = TRUE;
  g_assert_cmpint (ma_visibility_seen (&facts, &view), ==, MA_SEEN_READABLE);
  /* In one of another user's, even with the caller's ids. */
  facts = facts_of_uid (ALICE);
  facts.userns_nested = TRUE;
  g_assert_cmpint (ma_visibility_seen (&facts, &view), ==, MA_SEEN_NOTHING);
  /* A caller in a user namespace of its own may ptrace nothing here. */
  view.in_daemon_userns = FALSE;
  facts = facts_of_uid (ALICE);
  g_assert_cmpint (ma_visibility_seen (&facts, &view), ==, MA_SEEN_NOTHING);
}

static void
test_visibility_is_what_both_mounts_show (void)
{
  MaTargetFacts other = facts_of_uid (BOB), own = facts_of_uid (ALICE);
  MaCallerView view = alice_with (MA_HIDEPID_OFF, FALSE);

  /* A permissive /proc of the caller's cannot widen the daemon's. */
  view.mounts[1].hidepid = MA_HIDEPID_INVISIBLE;
  g_assert_cmpint (ma_visibility_seen (&other, &view), ==, MA_SEEN_NOTHING);
  g_assert_cmpint (ma_visibility_seen (&own, &view), ==, MA_SEEN_READABLE);
  /* Something other than proc over /proc shows nothing at all. */
  view = alice_with (MA_HIDEPID_OFF, FALSE);
  view.mounts[0].mounted = FALSE;
  g_assert_cmpint (ma_visibility_seen (&own, &view), ==, MA_SEEN_NOTHING);
}

static void
test_visibility_fallback_sees_own_processes_only (void)
{
  MaTargetFacts own = facts_of_uid (ALICE), other = facts_of_uid (BOB);
  MaCallerView view;

  ma_visibility_fallback (&view, ALICE, ALICE);
  g_assert_cmpint (ma_visibility_seen (&own, &view), ==, MA_SEEN_READABLE);
  g_assert_cmpint (ma_visibility_seen (&other, &view), ==, MA_SEEN_NOTHING);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/visibility/hidepid-modes", test_visibility_of_hidepid_modes);
  g_test_add_func ("/visibility/gid-members-see-all-but-with-ptraceable",
                   test_visibility_gid_members_see_all_but_with_ptraceable);
  g_test_add_func ("/visibility/follows-the-ptrace-check",
                   test_visibility_follows_the_ptrace_check);
  g_test_add_func ("/visibility/is-what-both-mounts-show",
                   test_visibility_is_what_both_mounts_show);
  g_test_add_func ("/visibility/fallback-sees-own-processes-only",
                   test_visibility_fallback_sees_own_processes_only);

  return g_test_run ();
}
