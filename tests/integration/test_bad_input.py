#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Bad input on the bus: an InvalidArgs reply naming the argument or option
key arrives quickly (each rule of the parsing is a unit test,
tests/unit/test-request.c), bad pids are per-target failures, and the
daemon answers normally afterwards."""
import os
import subprocess
import time

import ma_harness
from ma_harness import MaTestCase, wait_hanging

MiB = 1024 * 1024
INVALID_ARGS = 'org.freedesktop.DBus.Error.InvalidArgs'


class BadInputTest(MaTestCase):

    def setUp(self):
        super().setUp()
        self.start_polkitd()
        self.start_daemon()
        self.user = self.add_user()
        self.t = self.spawn_target(self.user)
        self.t.map('a', 'anon', 4 * MiB)

    def tearDown(self):
        # The daemon still answers, and correctly.
        try:
            r = self.call(self.user, 'Plan', [self.t.pid], 'cold')[0]
            self.assertEqual(r['status'], 'ok')
            self.assertEqual(self.get_property('Modes'), ['cold', 'pageout'])
        finally:
            super().tearDown()

    def assertInvalid(self, key, pids=None, mode='cold', options=None):
        with self.assertRaisesCallError(INVALID_ARGS) as cm:
            self.call(self.user, 'Plan', self.t_pids() if pids is None else pids, mode, options)
        self.assertIn(key, cm.exception.message)
        # Reclaim validates the same way, before any authorization.
        with self.assertRaisesCallError(INVALID_ARGS):
            self.call(self.user, 'Reclaim', self.t_pids() if pids is None else pids, mode,
                      options)

    def t_pids(self):
        return [self.t.pid]

    def one(self, pid, user=None):
        results = self.call(user or self.user, 'Plan', [pid], 'cold')
        self.assertEqual(len(results), 1)
        r = results[0]
        self.assertEqual(r['pid'], pid)
        self.assertEqual(r['status'], 'failed')
        self.assertIsInstance(r['message'], str)
        self.assertTrue(r['message'])
        return r

    def test_unknown_mode(self):
        self.assertInvalid('mode', mode='dontneed')

    def test_percent_as_string(self):
        self.assertInvalid('percent', options={'percent': ('s', '30')})

    def test_100000_pids(self):
        self.assertInvalid('pids', pids=list(range(1, 100001)))

    def test_1024_distinct_pids_accepted(self):
        pids = [self.t.pid] + [4000000 + i for i in range(1023)]
        results = self.call(self.user, 'Plan', pids, 'cold')
        self.assertEqual(len(results), 1024)
        self.assertEqual(results[0]['status'], 'ok')
        self.assertEqual({r['error'] for r in results[1:]}, {'no-such-process'})

    def test_pid_0(self):
        r = self.one(0)
        self.assertEqual(r['error'], 'no-such-process')

    def test_pid_1(self):
        self.assertEqual(self.one(1)['error'], 'protected')

    def test_pid_1_as_root(self):
        self.assertEqual(self.one(1, user='root')['error'], 'protected')

    def test_pid_2_kernel_thread(self):
        with open('/proc/2/comm') as f:
            self.assertEqual(f.read().strip(), 'kthreadd')
        self.assertEqual(self.one(2, user='root')['error'], 'kernel-thread')

    def test_daemon_own_pid(self):
        self.assertEqual(self.one(self.daemon.pid, user='root')['error'], 'protected')

    def test_bus_daemon_pid(self):
        r = self.one(self.bus_proc.pid, user='root')
        self.assertEqual(r['error'], 'protected')
        self.assertIn('bus', r['message'])

    def test_polkitd_pid(self):
        r = self.one(self.polkitd.pid, user='root')
        self.assertEqual(r['error'], 'protected')
        self.assertIn('polkit', r['message'])

    def test_pid_that_does_not_exist(self):
        with open('/proc/sys/kernel/pid_max') as f:
            pid_max = int(f.read())
        self.assertEqual(self.one(pid_max + 1)['error'], 'no-such-process')
        self.assertEqual(self.one(0xFFFFFFFF)['error'], 'no-such-process')

    def test_thread_id_is_not_a_process(self):
        tid = max(int(x) for x in os.listdir('/proc/%d/task' % self.daemon.pid))
        self.assertNotEqual(tid, self.daemon.pid)
        self.assertEqual(self.one(tid, user='root')['error'], 'no-such-process')

    def test_zombie(self):
        proc = self.run_as(self.user, [ma_harness.PYTHON, '-c',
                                       'import os, sys, time\n'
                                       'pid = os.fork()\n'
                                       'if pid == 0: os._exit(0)\n'
                                       'print(pid, flush=True); time.sleep(60)\n'],
                           stdout=subprocess.PIPE, universal_newlines=True)
        self._defer(ma_harness._kill, proc)
        zombie = int(proc.stdout.readline())
        for _ in range(50):
            if ma_harness.status_of(zombie)['State'].startswith('Z'):
                break
            time.sleep(0.05)
        self.assertEqual(self.one(zombie)['error'], 'exited')

    def test_mixed_bad_and_good_pids_keep_order(self):
        results = self.call(self.user, 'Plan', [0, self.t.pid, 1], 'cold')
        self.assertEqual([(r['pid'], r['status']) for r in results],
                         [(0, 'failed'), (self.t.pid, 'ok'), (1, 'failed')])


class ExitMidCallTest(MaTestCase):
    """A target that exits while the call waits for polkit (dbusmock's
    template holds the check) fails with 'exited'; nothing else breaks."""

    def test_target_exits_mid_call(self):
        mock = self.start_polkit_mock()
        mock.SetAllowed('(as)', ['org.memadvise.reclaim-own'])
        mock.SimulateHangActions('(as)', ['org.memadvise.reclaim-own'])
        self.start_daemon()
        user = self.add_user()
        gone = self.spawn_target(user)
        gone.map('a', 'anon', 4 * MiB)
        stays = self.spawn_target(user)
        stays.map('a', 'anon', 4 * MiB)
        proc = self.call_async(user, 'Reclaim', [gone.pid, stays.pid], 'cold',
                               {'percent': ('u', 100)})
        self.assertTrue(wait_hanging(mock, timeout=5))
        gone.kill()
        mock.ReleaseHangingCalls()
        results = self.call_finish(proc)['value'][0]
        self.assertEqual((results[0]['status'], results[0]['error']), ('failed', 'exited'))
        self.assertEqual(results[1]['status'], 'ok')


if __name__ == '__main__':
    ma_harness.main()
