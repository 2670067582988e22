#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The authorization matrix: own / other / root callers, Plan and Reclaim,
with and without the example group rule, on the real polkitd (no session:
allow_any applies). Refused targets' memory stays untouched."""
import subprocess
import time

import ma_harness
from ma_harness import MaTestCase, needs_swap

MiB = 1024 * 1024
ACCESS_DENIED = 'org.freedesktop.DBus.Error.AccessDenied'


class AuthorizationTest(MaTestCase):

    def setUp(self):
        super().setUp()
        self.group = self.add_group()
        self.alice = self.add_user(groups=[self.group])
        self.bob = self.add_user()

    def start(self, rule):
        if rule:
            self.install_group_rule(self.group)
        self.start_polkitd()
        self.start_daemon()

    def target(self, user, size=8 * MiB):
        t = self.spawn_target(user)
        t.map('a', 'anon', size)
        return t

    def test_plan_own_needs_no_authorization(self):
        self.start(rule=False)
        t = self.target(self.bob)
        r = self.call(self.bob, 'Plan', [t.pid], 'cold')[0]
        self.assertEqual(r['status'], 'ok')

    def test_reclaim_own_denied_without_rule(self):
        self.start(rule=False)
        t = self.target(self.alice)
        with self.assertRaisesCallError(ACCESS_DENIED):
            self.call(self.alice, 'Reclaim', [t.pid], 'cold')
        self.assertIn('refused', self.daemon_log_text())

    def test_reclaim_own_allowed_by_group_rule(self):
        self.start(rule=True)
        t = self.target(self.alice)
        before = t.checksum('a')
        r = self.call(self.alice, 'Reclaim', [t.pid], 'cold', {'percent': ('u', 100)})[0]
        self.assertEqual(r['status'], 'ok', r.get('message'))
        self.assertGreaterEqual(r['advised-bytes'], 8 * MiB)
        self.assertEqual(t.checksum('a'), before)

    def test_group_rule_does_not_apply_outside_the_group(self):
        self.start(rule=True)
        t = self.target(self.bob)
        with self.assertRaisesCallError(ACCESS_DENIED):
            self.call(self.bob, 'Reclaim', [t.pid], 'cold')

    def test_plan_other_denied_with_and_without_rule(self):
        self.start(rule=True)
        t = self.target(self.bob)
        with self.assertRaisesCallError(ACCESS_DENIED):
            self.call(self.alice, 'Plan', [t.pid], 'cold')

    def test_reclaim_other_denied_with_rule(self):
        self.start(rule=True)
        t = self.target(self.bob)
        with self.assertRaisesCallError(ACCESS_DENIED):
            self.call(self.alice, 'Reclaim', [t.pid], 'cold')

    def test_mixed_targets_refused_one_fails_others_proceed(self):
        self.start(rule=True)
        own = self.target(self.alice)
        other = self.target(self.bob)
        results = self.call(self.alice, 'Reclaim', [other.pid, own.pid], 'cold',
                            {'percent': ('u', 100)})
        self.assertEqual([r['pid'] for r in results], [other.pid, own.pid])
        self.assertEqual((results[0]['status'], results[0]['error']), ('failed', 'not-authorized'))
        self.assertIsInstance(results[0]['message'], str)
        self.assertEqual(results[0]['advised-bytes'], 0)
        self.assertEqual(results[0]['planned-bytes'], 0)
        self.assertEqual(results[1]['status'], 'ok')

    def test_plan_of_user_processes_by_root(self):
        self.start(rule=False)
        t = self.target(self.bob)
        r = self.call(None, 'Plan', [t.pid], 'cold')[0]
        self.assertEqual(r['status'], 'ok')
        self.assertEqual(r['uid'], self.uid_of(self.bob))

    def test_reclaim_of_user_processes_by_root(self):
        self.start(rule=False)
        t = self.target(self.bob)
        before = t.checksum('a')
        r = self.call(None, 'Reclaim', [t.pid], 'cold', {'percent': ('u', 100)})[0]
        self.assertEqual(r['status'], 'ok')
        self.assertGreaterEqual(r['advised-bytes'], 8 * MiB)
        self.assertEqual(t.checksum('a'), before)

    def test_root_process_is_other_for_a_user(self):
        self.start(rule=True)
        t = self.target(None)
        with self.assertRaisesCallError(ACCESS_DENIED):
            self.call(self.alice, 'Plan', [t.pid], 'cold')

    def test_process_with_other_saved_uid_is_other(self):
        # Like a setuid program the caller started: real uid the caller's,
        # effective and saved uid another's.
        self.start(rule=True)
        uid_a, uid_b = self.uid_of(self.alice), self.uid_of(self.bob)
        # (ma-test-target cannot read its own pagemap then: sleep will do.)
        proc = subprocess.Popen(['setpriv', '--ruid=%d' % uid_a, '--euid=%d' % uid_b,
                                 '--regid=%d' % uid_a, '--clear-groups', 'sleep', '60'])
        self._defer(ma_harness._kill, proc)
        time.sleep(0.3)
        self.assertEqual(ma_harness.status_of(proc.pid)['Uid'].split()[:2],
                         [str(uid_a), str(uid_b)])
        with self.assertRaisesCallError(ACCESS_DENIED):
            self.call(self.alice, 'Plan', [proc.pid], 'cold')
        with self.assertRaisesCallError(ACCESS_DENIED):
            self.call(self.alice, 'Reclaim', [proc.pid], 'cold')

    def test_own_uid_with_another_group_is_refused_by_the_kernel(self):
        # All uids are the caller's (so "own" by DESIGN), but the process
        # runs with a group that is not the caller's primary group; the
        # kernel's ptrace check, made with the caller's fsuid/fsgid, says no.
        self.start(rule=True)
        proc = subprocess.Popen(['runuser', '-u', self.alice, '-g', self.group, '--',
                                 self.target_path], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, universal_newlines=True)
        self._defer(ma_harness._kill, proc)
        t = ma_harness.Target(proc)
        self._defer(ma_harness._kill_pid, t.pid)
        r = self.call(self.alice, 'Plan', [t.pid], 'cold')[0]
        self.assertEqual((r['status'], r['error']), ('failed', 'not-authorized'), r)
        self.assertIn('kernel', r['message'])


@needs_swap('4G')
class AuthorizationSwapTest(MaTestCase):
    """Pageout (needs swap): refused targets keep every page resident."""

    def setUp(self):
        super().setUp()
        self.assertGreater(ma_harness.swap_total_bytes(), 0, 'run under tests/with-swap')
        self.group = self.add_group()
        self.alice = self.add_user(groups=[self.group])
        self.bob = self.add_user()
        self.install_group_rule(self.group)
        self.start_polkitd()
        self.start_daemon()

    def test_refused_target_memory_untouched(self):
        own = self.spawn_target(self.alice)
        own.map('a', 'anon', 32 * MiB, lowentropy=True)
        other = self.spawn_target(self.bob)
        other.map('a', 'anon', 32 * MiB, lowentropy=True)
        other_sum = other.checksum('a')
        own_sum = own.checksum('a')
        other_swap = int(ma_harness.status_of(other.pid)['VmSwap'].split()[0])

        results = self.call(self.alice, 'Reclaim', [own.pid, other.pid], 'pageout',
                            {'percent': ('u', 100)})
        self.assertEqual(results[0]['status'], 'ok')
        self.assertEqual(results[1]['error'], 'not-authorized')

        pages, present, swapped = other.residency('a')
        self.assertEqual((present, swapped), (pages, 0))
        self.assertEqual(int(ma_harness.status_of(other.pid)['VmSwap'].split()[0]), other_swap)
        # The control: the authorized target really was paged out.
        _, _, own_swapped = own.residency('a')
        self.assertGreater(own_swapped, 0)
        self.assertGreater(results[0]['swap-after'], results[0]['swap-before'])
        self.assertEqual(own.checksum('a'), own_sum)
        self.assertEqual(other.checksum('a'), other_sum)

    def test_whole_call_refused_touches_nothing(self):
        other = self.spawn_target(self.bob)
        other.map('a', 'anon', 32 * MiB, lowentropy=True)
        with self.assertRaisesCallError(ACCESS_DENIED):
            self.call(self.alice, 'Reclaim', [other.pid], 'pageout', {'percent': ('u', 100)})
        pages, present, swapped = other.residency('a')
        self.assertEqual((present, swapped), (pages, 0))

    def test_root_pageout_of_user_process(self):
        t = self.spawn_target(self.bob)
        t.map('a', 'anon', 32 * MiB, lowentropy=True)
        before = t.checksum('a')
        r = self.call(None, 'Reclaim', [t.pid], 'pageout', {'percent': ('u', 100)})[0]
        self.assertEqual(r['status'], 'ok')
        self.assertNotIn('message', r)
        _, _, swapped = t.residency('a')
        self.assertGreater(swapped, 0)
        self.assertEqual(t.checksum('a'), before)


if __name__ == '__main__':
    ma_harness.main()
