/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * memadvised's rules about a target (classify.c): when it is the caller's
 * own, and when it is protected; and the shape of a cgroup path argument
 * (ma_cgroup_path_check). The rules are applied to facts, so any uid,
 * capability and cgroup can be tried without root.
 */
#include "config.h"

#include <gio/gio.h>
#include <limits.h>
#include <string.h>

#include "cgroups.h"
#include "classify.h"

#define CALLER 1000

static MaTargetFacts
own_facts (void)
{
  MaTargetFacts facts = {
    .pid = 4242,
    .comm = "ma-test-target",
    .uids = { CALLER, CALLER, CALLER, CALLER },
    .proc_owner = CALLER,
    .cap_eff = 0,
    .cap_prm = 0,
    .cgroup = "/user.slice/user-1000.slice/session-2.scope",
  };

  return facts;
}

static void
test_own_needs_every_uid_the_owner_and_no_capabilities (void)
{
  MaTargetFacts facts = own_facts ();

  g_assert_true (ma_classify_own_facts (&facts, CALLER));
  g_assert_false (ma_classify_own_facts (&facts, 0));
  g_assert_false (ma_classify_own_facts (&facts, CALLER + 1));
  for (guint i = 0; i < G_N_ELEMENTS (facts.uids); i++)
    {
      MaTargetFacts other = own_facts ();

      /* A setuid program that kept another saved or fs uid is other. */
      other.uids[i] = 0;
      g_assert_false (ma_classify_own_facts (&other, CALLER));
    }
  {
    /* Not dumpable: the kernel makes /proc/PID root's. */
    MaTargetFacts other = own_facts ();

    other.proc_owner = 0;
    g_assert_false (ma_classify_own_facts (&other, CALLER));
  }
  {
    MaTargetFacts other = own_facts ();

    other.cap_eff = 1ull << 21;
    g_assert_false (ma_classify_own_facts (&other, CALLER));
    other.cap_eff = 0;
    other.cap_prm = 1;
    g_assert_false (ma_classify_own_facts (&other, CALLER));
    /* Capabilities the kernel did not list count as held. */
    other.cap_prm = G_MAXUINT64;
    g_assert_false (ma_classify_own_facts (&other, CALLER));
  }
}

static gboolean protected(const MaTargetFacts *facts, const MaProtection *protection,
                          const char *says)
{
  g_autofree char *message = NULL;
  gboolean result = ma_classify_protected_facts (facts, protection, &message);

  if (result)
    {
      g_assert_nonnull (message);
      g_assert_true (g_str_has_suffix (message, "."));
      if (says != NULL)
        g_assert_nonnull (strstr (message, says));
    }
  else
    g_assert_null (message);
  return result;
}

static void
test_protected_bus_daemon_and_polkitd (void)
{
  MaTargetFacts facts = own_facts ();
  MaProtection protection = { .bus_pid = 4242 };

  g_assert_true (protected(&facts, &protection, "bus daemon"));
  protection = (MaProtection){ .polkit_pid = 4242 };
  g_assert_true (protected(&facts, &protection, "polkitd"));
  /* 0: unknown, which protects no process. */
  protection = (MaProtection){ 0 };
  facts.pid = 0;
  g_assert_false (protected(&facts, &protection, NULL));
}

static void
test_protected_names_compare_comm_on_its_15_bytes (void)
{
  const char *const names[] = { "sshd", "a-very-long-program-name", NULL };
  MaProtection protection = { .names = names };
  MaTargetFacts facts = own_facts ();

  facts.comm = "sshd";
  g_assert_true (protected(&facts, &protection, "(Names)"));
  facts.comm = "sshd2";
  g_assert_false (protected(&facts, &protection, NULL));
  facts.comm = "ssh";
  g_assert_false (protected(&facts, &protection, NULL));
  /* The kernel cut the comm at 15 bytes. */
  facts.comm = "a-very-long-pro";
  g_assert_true (protected(&facts, &protection, "a-very-long-pro"));
}

static void
test_protected_cgroups_hold_their_subtree (void)
{
  const char *const cgroups[] = { "/system.slice/", "/user.slice/user-1000.slice/a.scope", NULL };
  const char *const root[] = { "/", NULL };
  MaProtection protection = { .cgroups = cgroups };
  MaTargetFacts facts = own_facts ();

  facts.cgroup = "/system.slice";
  g_assert_true (protected(&facts, &protection, "/system.slice/"));
  facts.cgroup = "/system.slice/sshd.service";
  g_assert_true (protected(&facts, &protection, "(Cgroups)"));
  facts.cgroup = "/user.slice/user-1000.slice/a.scope";
  g_assert_true (protected(&facts, &protection, NULL));
  facts.cgroup = "/user.slice/user-1000.slice/a.scope2";
  g_assert_false (protected(&facts, &protection, NULL));
  facts.cgroup = "/system.slicer/x";
  g_assert_false (protected(&facts, &protection, NULL));
  facts.cgroup = NULL; /* unknown: no cgroup rule applies */
  g_assert_false (protected(&facts, &protection, NULL));

  protection.cgroups = root;
  facts.cgroup = "/anything/below";
  g_assert_true (protected(&facts, &protection, NULL));
}

static void
test_cgroup_path_shapes (void)
{
  static const char *const good[] = {
    "/", "a", "/a", "a/b", "user.slice/user-1000.slice/app-x.scope", "a.b/..c/c..", ".hidden",
  };
  static const char *const bad[] = {
    "", "..", ".", "../a", "a/../a", "a/b/..", "a//b", "a/./b", "a/", "//", "/./",
  };
  g_autofree char *long_path = g_strnfill (PATH_MAX, 'a');

  for (gsize i = 0; i < G_N_ELEMENTS (good); i++)
    {
      g_autoptr (GError) error = NULL;

      g_assert_true (ma_cgroup_path_check (good[i], &error));
      g_assert_no_error (error);
    }
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;

      g_assert_false (ma_cgroup_path_check (bad[i], &error));
      g_assert_error (error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS);
      g_assert_nonnull (strstr (error->message, "cgroup"));
    }
  {
    g_autoptr (GError) error = NULL;

    g_assert_false (ma_cgroup_path_check (long_path, &error));
    g_assert_error (error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS);
  }
}

/* Not "ma - engine - error - quark", as a formatter once made it. */
static void
test_engine_error_quark_name (void)
{
  g_assert_cmpstr (g_quark_to_string (MA_ERROR), ==, "ma-engine-error-quark");
}

static void
test_cgroup_is_below_holds_the_subtree (void)
{
  /* A cgroup call's members stay members only in or below its path. */
  g_assert_true (ma_classify_cgroup_is_below ("/a/b.scope", "a/b.scope"));
  g_assert_true (ma_classify_cgroup_is_below ("/a/b.scope/c", "/a/b.scope/"));
  g_assert_true (ma_classify_cgroup_is_below ("/a/b", "/"));
  g_assert_true (ma_classify_cgroup_is_below ("/", ""));
  g_assert_false (ma_classify_cgroup_is_below ("/a/b.scope2", "a/b.scope"));
  g_assert_false (ma_classify_cgroup_is_below ("/a", "a/b.scope"));
  g_assert_false (ma_classify_cgroup_is_below ("/a/b.scope (deleted)", "a/b.scope"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/classify/own-needs-every-uid-the-owner-and-no-capabilities",
                   test_own_needs_every_uid_the_owner_and_no_capabilities);
  g_test_add_func ("/classify/protected-bus-daemon-and-polkitd",
                   test_protected_bus_daemon_and_polkitd);
  g_test_add_func ("/classify/protected-names-compare-comm-on-its-15-bytes",
                   test_protected_names_compare_comm_on_its_15_bytes);
  g_test_add_func ("/classify/protected-cgroups-hold-their-subtree",
                   test_protected_cgroups_hold_their_subtree);
  g_test_add_func ("/cgroup-path/shapes", test_cgroup_path_shapes);
  g_test_add_func ("/cgroup-path/is-below-holds-the-subtree",
                   test_cgroup_is_below_holds_the_subtree);
  g_test_add_func ("/engine/error-quark-name", test_engine_error_quark_name);

  return g_test_run ();
}
