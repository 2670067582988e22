#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""PlanCgroup and ReclaimCgroup on real cgroups under the cgroup2 root:
members and the cgroups below, path checks, per-process authorization."""
import errno
import os
import subprocess
import time

import ma_harness
from ma_harness import MaTestCase, cgroup2_root, needs_swap, remove_cgroup, wait_log

MiB = 1024 * 1024
INVALID_ARGS = 'org.freedesktop.DBus.Error.InvalidArgs'
ACCESS_DENIED = 'org.freedesktop.DBus.Error.AccessDenied'
BUSY = 'org.memadvise.MemAdvise1.Error.Busy'


class CgroupTestCase(MaTestCase):

    def make_cgroup(self, rel=None):
        """Creates a cgroup (relative to the test's own top cgroup); returns
        its path relative to the hierarchy root."""
        if rel is None:
            rel = 'memadvise-test-%d' % os.getpid()
            path = os.path.join(cgroup2_root(), rel)
            os.mkdir(path)
            self._defer(remove_cgroup, path)
            return rel
        os.makedirs(os.path.join(cgroup2_root(), rel))
        return rel

    def move(self, target, rel):
        with open(os.path.join(cgroup2_root(), rel, 'cgroup.procs'), 'w') as f:
            f.write(str(target.pid))
        with open('/proc/%d/cgroup' % target.pid) as f:
            self.assertIn('0::/%s\n' % rel, f.read())

    def target(self, user, rel, size=8 * MiB, lowentropy=False):
        t = self.spawn_target(user)
        t.map('a', 'anon', size, lowentropy=lowentropy)
        self.move(t, rel)
        return t


class CgroupTest(CgroupTestCase):

    def setUp(self):
        super().setUp()
        self.group = self.add_group()
        self.alice = self.add_user(groups=[self.group])
        self.bob = self.add_user()
        self.install_group_rule(self.group)
        self.start_polkitd()
        self.start_daemon()
        self.top = self.make_cgroup()

    def test_plan_cgroup_lists_members_in_pid_order(self):
        a = self.target(self.alice, self.top)
        b = self.target(self.alice, self.top)
        results = self.call(self.alice, 'PlanCgroup', mode='cold', cgroup=self.top,
                            options={'percent': ('u', 50)})
        self.assertEqual([r['pid'] for r in results], sorted([a.pid, b.pid]))
        for r in results:
            self.assertEqual(r['status'], 'ok', r.get('message'))
            self.assertEqual(r['uid'], self.uid_of(self.alice))
            self.assertGreaterEqual(r['eligible-bytes'], 8 * MiB)
            self.assertGreater(r['planned-bytes'], 0)
            self.assertEqual(r['advised-bytes'], 0)

    def test_plan_cgroup_map_of_each_authorized_member(self):
        own = [self.target(self.alice, self.top) for _ in range(2)]
        other = self.target(self.bob, self.top)
        results = self.call(self.alice, 'PlanCgroup', mode='cold', cgroup=self.top,
                            options={'map': ('b', True), 'percent': ('u', 100),
                                     'order': ('s', 'address')})
        by_pid = {r['pid']: r for r in results}
        self.assertEqual(by_pid[other.pid]['error'], 'not-authorized')
        self.assertNotIn('map', by_pid[other.pid])
        for t in own:
            r = by_pid[t.pid]
            self.assertEqual(r['status'], 'ok', r.get('message'))
            drawn = [c for s, e, c in r['map']['mappings'] if e - s == 8 * MiB]
            self.assertIn([5] * 256, drawn)

    def test_plan_cgroup_includes_child_cgroups(self):
        child = self.make_cgroup(self.top + '/child/grandchild')
        a = self.target(self.alice, self.top)
        b = self.target(self.alice, child)
        results = self.call(self.alice, 'PlanCgroup', mode='cold', cgroup='/' + self.top)
        self.assertEqual([r['pid'] for r in results], sorted([a.pid, b.pid]))
        # The child alone holds only its own member.
        results = self.call(self.alice, 'PlanCgroup', mode='cold', cgroup=child)
        self.assertEqual([r['pid'] for r in results], [b.pid])

    def test_threaded_subtree_members_listed_once(self):
        # Below a threaded domain, cgroup.procs cannot be read (EOPNOTSUPP):
        # the domain lists the members of the whole subtree.
        child = self.make_cgroup(self.top + '/threads')
        with open(os.path.join(cgroup2_root(), child, 'cgroup.type'), 'w') as f:
            f.write('threaded')
        a = self.target(self.alice, self.top)
        results = self.call(self.alice, 'PlanCgroup', mode='cold', cgroup=self.top)
        self.assertEqual([r['pid'] for r in results], [a.pid])

    def test_empty_cgroup_gives_empty_list(self):
        self.assertEqual(self.call(self.alice, 'PlanCgroup', mode='cold', cgroup=self.top), [])

    def test_reclaim_cgroup_cold_keeps_contents(self):
        a = self.target(self.alice, self.top)
        b = self.target(self.alice, self.top)
        sums = [a.checksum('a'), b.checksum('a')]
        results = self.call(self.alice, 'ReclaimCgroup', mode='cold', cgroup=self.top,
                            options={'percent': ('u', 100)})
        self.assertEqual([r['pid'] for r in results], sorted([a.pid, b.pid]))
        for r in results:
            self.assertEqual(r['status'], 'ok', r.get('message'))
            self.assertGreaterEqual(r['advised-bytes'], 8 * MiB)
            self.assertIn('rss-after', r)
        self.assertEqual([a.checksum('a'), b.checksum('a')], sums)

    def test_other_users_members_not_authorized_own_proceed(self):
        own = self.target(self.alice, self.top)
        other = self.target(self.bob, self.top)
        results = self.call(self.alice, 'ReclaimCgroup', mode='cold', cgroup=self.top,
                            options={'percent': ('u', 100)})
        by_pid = {r['pid']: r for r in results}
        self.assertEqual(sorted(by_pid), sorted([own.pid, other.pid]))
        self.assertEqual(by_pid[own.pid]['status'], 'ok', by_pid[own.pid].get('message'))
        self.assertEqual(by_pid[other.pid]['status'], 'failed')
        self.assertEqual(by_pid[other.pid]['error'], 'not-authorized')
        self.assertEqual(by_pid[other.pid]['advised-bytes'], 0)

    def test_only_other_users_members_access_denied(self):
        self.target(self.bob, self.top)
        with self.assertRaisesCallError(ACCESS_DENIED):
            self.call(self.alice, 'ReclaimCgroup', mode='cold', cgroup=self.top)
        with self.assertRaisesCallError(ACCESS_DENIED):
            self.call(self.alice, 'PlanCgroup', mode='cold', cgroup=self.top)

    def test_bad_paths_invalid_args(self):
        # The shapes refused before any look at the hierarchy are unit
        # tests (tests/unit/test-classify.c); these need the hierarchy.
        os.mkdir(os.path.join(cgroup2_root(), self.top, 'b'))
        for path in ('../' + self.top, 'memadvise-no-such-cgroup-%d' % os.getpid(),
                     self.top + '/cgroup.procs', self.top + '/b/cgroup.procs'):
            with self.subTest(path=path):
                with self.assertRaisesCallError(INVALID_ARGS):
                    self.call(self.alice, 'PlanCgroup', mode='cold', cgroup=path)
        # The control: the same cgroup by a good path is fine.
        self.assertEqual(self.call(self.alice, 'PlanCgroup', mode='cold',
                                   cgroup=self.top + '/b'), [])

    def test_cgroupfs_refuses_symlinks(self):
        # RESOLVE_NO_SYMLINKS guards a case cgroupfs cannot produce: the
        # kernel refuses symbolic links in the hierarchy.
        with self.assertRaises(OSError) as cm:
            os.symlink('.', os.path.join(cgroup2_root(), self.top, 'link'))
        self.assertEqual(cm.exception.errno, errno.EPERM)

    def test_path_crossing_a_mount_invalid_args(self):
        # A file system mounted over a cgroup directory (with a symlink
        # leading back up) is outside the hierarchy.
        mnt = os.path.join(cgroup2_root(), self.top, 'mnt')
        os.mkdir(mnt)
        subprocess.run(['mount', '-t', 'tmpfs', 'memadvise-test', mnt], check=True)
        self._defer(subprocess.run, ['umount', mnt])
        os.mkdir(os.path.join(mnt, 'dir'))
        os.symlink('..', os.path.join(mnt, 'up'))
        for path in (self.top + '/mnt', self.top + '/mnt/dir', self.top + '/mnt/up'):
            with self.subTest(path=path):
                with self.assertRaisesCallError(INVALID_ARGS):
                    self.call(self.alice, 'PlanCgroup', mode='cold', cgroup=path)

    def test_more_than_1024_members_invalid_args(self):
        # 1025 sleeping children of one process, all moved into the cgroup.
        procs = os.path.join(cgroup2_root(), self.top, 'cgroup.procs')
        script = ('import os, time\n'
                  'for _ in range(1025):\n'
                  '    if os.fork() == 0:\n'
                  '        time.sleep(120); os._exit(0)\n'
                  'print("ready", flush=True)\n'
                  'time.sleep(120)\n')
        # Root moves the shell (writing cgroup.procs needs it), which then
        # becomes the test user's process tree.
        proc = subprocess.Popen(['sh', '-c', 'echo $$ > "$1" && shift && exec "$@"', 'sh', procs,
                                 'runuser', '-u', self.alice, '--', ma_harness.PYTHON, '-c',
                                 script], stdout=subprocess.PIPE, universal_newlines=True)
        self._defer(self._kill_cgroup, os.path.join(cgroup2_root(), self.top))
        self.assertEqual(proc.stdout.readline().strip(), 'ready')
        with open(procs) as f:
            self.assertGreater(len(f.read().split()), 1024)
        with self.assertRaisesCallError(INVALID_ARGS) as cm:
            self.call(self.alice, 'PlanCgroup', mode='cold', cgroup=self.top)
        self.assertIn('1024', cm.exception.message)
        proc.stdout.close()

    @staticmethod
    def _kill_cgroup(path):
        with open(os.path.join(path, 'cgroup.kill'), 'w') as f:
            f.write('1')
        for _ in range(100):
            with open(os.path.join(path, 'cgroup.procs')) as f:
                if not f.read().strip():
                    break
            subprocess.run(['sleep', '0.05'])


class CgroupLimitsTest(CgroupTestCase):
    """The daemon's limits count cgroup calls as any other."""

    def setUp(self):
        super().setUp()
        self.top = self.make_cgroup()
        self.alice = self.add_user()

    def test_rate_limit_counts_cgroup_calls(self):
        self.start_polkitd()
        self.start_daemon(config={'Daemon': {'MaxCallsPerMinutePerUser': '2'}})
        t = self.target(self.alice, self.top)
        self.call(self.alice, 'PlanCgroup', mode='cold', cgroup=self.top)
        self.call(self.alice, 'Plan', [t.pid], 'cold')
        with self.assertRaisesCallError(BUSY):
            self.call(self.alice, 'PlanCgroup', mode='cold', cgroup=self.top)
        self.assertEqual(self.statistics()['refused-calls']['busy'], 1)

    def test_cgroup_listing_waits_for_a_place(self):
        # The listing is a call's first work: with the one place held, a
        # cgroup that names nothing is found out only once the place frees.
        self.start_polkitd()
        self.start_daemon(config={'Daemon': {'MaxJobs': '1'}})
        t = self.target(self.alice, self.top)
        holder = self.call_async(self.alice, 'Plan', [t.pid], 'cold', {'min-idle': ('u', 3)})
        wait_log(self, 'for min-idle')
        start = time.monotonic()
        with self.assertRaisesCallError(INVALID_ARGS):
            self.call(self.alice, 'PlanCgroup', mode='cold', cgroup=self.top + '-none')
        self.assertGreater(time.monotonic() - start, 1.5)
        self.assertEqual(self.call_finish(holder)['value'][0][0]['status'], 'ok')

    def test_cgroup_call_past_the_bound_is_busy_before_its_walk(self):
        self.start_polkitd()
        self.start_daemon(config={'Daemon': {'MaxJobs': '1', 'MaxQueuedPerUser': '0'}})
        t = self.target(self.alice, self.top)
        holder = self.call_async(self.alice, 'Plan', [t.pid], 'cold', {'min-idle': ('u', 3)})
        wait_log(self, 'for min-idle')
        with self.assertRaisesCallError(BUSY) as cm:
            self.call(self.alice, 'PlanCgroup', mode='cold', cgroup=self.top + '-none')
        self.assertIn('MaxQueuedPerUser', cm.exception.message)
        self.assertEqual(self.call_finish(holder)['value'][0][0]['status'], 'ok')
        self.assertEqual(self.statistics()['refused-calls'], {'busy': 1})


@needs_swap('4G')
class CgroupSwapTest(CgroupTestCase):
    """ReclaimCgroup pageout (needs swap)."""

    def setUp(self):
        super().setUp()
        self.assertGreater(ma_harness.swap_total_bytes(), 0, 'run under tests/with-swap')
        self.group = self.add_group()
        self.alice = self.add_user(groups=[self.group])
        self.install_group_rule(self.group)
        self.start_polkitd()
        self.start_daemon()
        self.top = self.make_cgroup()

    def test_reclaim_cgroup_pageout_swaps_members_out(self):
        child = self.make_cgroup(self.top + '/child')
        a = self.target(self.alice, self.top, 32 * MiB, lowentropy=True)
        b = self.target(self.alice, child, 32 * MiB, lowentropy=True)
        sums = [a.checksum('a'), b.checksum('a')]
        results = self.call(self.alice, 'ReclaimCgroup', mode='pageout', cgroup=self.top,
                            options={'percent': ('u', 100)})
        self.assertEqual([r['pid'] for r in results], sorted([a.pid, b.pid]))
        for r in results:
            self.assertEqual(r['status'], 'ok', r.get('message'))
            self.assertGreaterEqual(r['advised-bytes'], 32 * MiB)
            self.assertGreater(r['swap-after'], r['swap-before'])
        for t in (a, b):
            _, _, swapped = t.residency('a')
            self.assertGreater(swapped, 0)
        self.assertEqual([a.checksum('a'), b.checksum('a')], sums)

    def big_members(self, n=4, size=256 * MiB):
        targets = []
        for _ in range(n):
            t = self.spawn_target()
            t.map('a', 'anon', size, lowentropy=True)
            self.move(t, self.top)
            targets.append(t)
        return targets

    def test_reclaim_cgroup_progress_to_the_caller(self):
        targets = self.big_members()
        data = self.call_finish(self.call_async(None, 'ReclaimCgroup', mode='pageout',
                                                cgroup=self.top, options={'percent': ('u', 100)},
                                                timeout=120))
        results = data['value'][0]
        self.assertEqual([r['pid'] for r in results], sorted(t.pid for t in targets))
        planned = sum(r['planned-bytes'] for r in results)
        self.assertGreater(len(data['progress']), 0)
        for done, total in data['progress']:
            self.assertEqual(total, planned)
            self.assertLessEqual(done, total)

    def test_caller_leaving_stops_a_cgroup_reclaim(self):
        targets = self.big_members()
        sums = [t.checksum('a') for t in targets]
        data = self.call_finish(self.call_async(None, 'ReclaimCgroup', mode='pageout',
                                                cgroup=self.top, options={'percent': ('u', 100)},
                                                exit_on_progress=True, timeout=120))
        self.assertIn('progress', data)
        self.assertNotIn('value', data)
        for _ in range(200):
            stats = self.statistics()
            if stats['targets'] >= len(targets):
                break
            time.sleep(0.05)
        self.assertEqual(stats['targets'], len(targets))
        self.assertIn('left the bus', self.daemon_log_text())
        self.assertGreater(len([t for t in targets if t.residency('a')[2] == 0]), 0)
        self.assertEqual([t.checksum('a') for t in targets], sums)


class CgroupReopenTest(CgroupTestCase):
    """A cgroup call that waits for polkit opens its members again once
    authorized: one that left the cgroup meanwhile is not one any more."""

    def setUp(self):
        super().setUp()
        self.mock = self.start_polkit_mock()
        self.mock.SetAllowed('(as)', ['org.memadvise.reclaim-own'])
        self.mock.SimulateHangActions('(as)', ['org.memadvise.reclaim-own'])
        self.start_daemon()
        self.alice = self.add_user()
        self.top = self.make_cgroup()

    def test_member_that_leaves_the_cgroup_while_polkit_waits_is_left_alone(self):
        inside = self.make_cgroup(self.top + '/in')
        away = self.make_cgroup(self.top + '/away')
        stays, leaves = self.target(self.alice, inside), self.target(self.alice, inside)
        proc = self.call_async(self.alice, 'ReclaimCgroup', mode='cold', cgroup=inside,
                               options={'percent': ('u', 100)})
        self.assertTrue(ma_harness.wait_hanging(self.mock), 'the daemon asked polkit nothing')
        self.move(leaves, away)
        self.mock.ReleaseHangingCalls()
        by_pid = {r['pid']: r for r in self.call_finish(proc)['value'][0]}
        self.assertEqual(sorted(by_pid), sorted([stays.pid, leaves.pid]))
        self.assertEqual(by_pid[stays.pid]['status'], 'ok', by_pid[stays.pid].get('message'))
        self.assertGreaterEqual(by_pid[stays.pid]['advised-bytes'], 8 * MiB)
        r = by_pid[leaves.pid]
        self.assertEqual((r['status'], r['error'], r['advised-bytes']), ('failed', 'exited', 0))
        self.assertIn('left the cgroup while the call waited', r['message'])


if __name__ == '__main__':
    ma_harness.main()
