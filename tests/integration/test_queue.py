#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The queue of calls: calls wait their turn instead of failing Busy, users
take turns, bounds, callers that leave, calls waiting for polkit, the fds a
call holds, JobTimeout, and replies that stay small and off the main loop."""
import json
import os
import subprocess
import threading
import time

import ma_harness
from ma_harness import MaTestCase, wait_hanging, wait_log

MiB = 1024 * 1024
GiB = 1024 * MiB
BUSY = 'org.memadvise.MemAdvise1.Error.Busy'
ACCESS_DENIED = 'org.freedesktop.DBus.Error.AccessDenied'
RECLAIM_OWN = 'org.memadvise.reclaim-own'
RECLAIM_OTHER = 'org.memadvise.reclaim-other'


def hold(test, user, target, seconds):
    """A Plan of @user that holds a place for @seconds (its min-idle
    wait); returns once it does."""
    n = test.daemon_log_text().count('for min-idle')
    proc = test.call_async(user, 'Plan', [target.pid], 'cold', {'min-idle': ('u', seconds)},
                           timeout=120)
    wait_log(test, 'for min-idle', n + 1)
    return proc


def daemon_fds(test):
    return len(os.listdir('/proc/%d/fd' % test.daemon.pid))


class QueueTest(MaTestCase):

    def test_calls_past_the_bounds_are_busy_naming_the_bound(self):
        self.start_polkitd()
        self.start_daemon(config={'Daemon': {'MaxJobs': '1', 'MaxQueuedPerUser': '2',
                                             'MaxQueued': '3'}})
        alice, bob, carol = self.add_user(), self.add_user(), self.add_user()
        ta, tb, tc = self.spawn_target(alice), self.spawn_target(bob), self.spawn_target(carol)
        holder = hold(self, alice, ta, 30)
        waiting = [self.call_async(alice, 'Plan', [ta.pid], 'cold') for _ in range(2)]
        wait_log(self, 'waits its turn', 2)
        with self.assertRaisesCallError(BUSY) as cm:
            self.call(alice, 'Plan', [ta.pid], 'cold')
        self.assertIn('MaxQueuedPerUser', cm.exception.message)
        waiting.append(self.call_async(bob, 'Plan', [tb.pid], 'cold'))
        wait_log(self, 'waits its turn', 3)
        with self.assertRaisesCallError(BUSY) as cm:
            self.call(carol, 'Plan', [tc.pid], 'cold')
        self.assertIn('MaxQueued allows', cm.exception.message)
        # Root waits its turn within the same bounds.
        with self.assertRaisesCallError(BUSY):
            self.call_root('Plan', [tc.pid], 'cold')
        self.assertEqual(self.statistics()['refused-calls'], {'busy': 3})

        # The holder's caller leaves: its wait ends, and the others run.
        ma_harness._kill(holder)
        for proc in waiting:
            self.assertEqual(self.call_finish(proc)['value'][0][0]['status'], 'ok')

    def test_a_flooding_user_leaves_places_to_others(self):
        # Alice's 8 calls hold a place for 2 s each, two at a time
        # (MaxJobsPerUser): Bob is served at once, long before she is done.
        self.start_polkitd()
        self.start_daemon()
        alice, bob = self.add_user(), self.add_user()
        mine = [self.spawn_target(alice) for _ in range(8)]
        flood = [self.call_async(alice, 'Plan', [t.pid], 'cold', {'min-idle': ('u', 2)},
                                 timeout=120) for t in mine]
        wait_log(self, 'waits its turn', 6)
        t = self.spawn_target(bob)
        start = time.monotonic()
        r = self.call(bob, 'Plan', [t.pid], 'cold')[0]
        waited = time.monotonic() - start
        self.assertEqual(r['status'], 'ok')
        self.assertLess(waited, 1.5)
        self.assertGreaterEqual(sum(p.poll() is None for p in flood), 6)
        for proc in flood:
            self.assertEqual(self.call_finish(proc)['value'][0][0]['status'], 'ok')

    def test_caller_leaving_while_queued_is_never_served(self):
        self.start_polkitd()
        self.start_daemon(config={'Daemon': {'MaxJobs': '1'}})
        alice = self.add_user()
        ta, tb = self.spawn_target(alice), self.spawn_target(alice)
        holder = hold(self, alice, ta, 3)
        queued = self.call_async(alice, 'Plan', [tb.pid], 'cold')
        wait_log(self, 'waits its turn')
        ma_harness._kill(queued)
        wait_log(self, 'dropped')
        self.assertEqual(self.call_finish(holder)['value'][0][0]['status'], 'ok')
        stats = self.statistics()
        self.assertEqual(stats['cancelled-calls'], 1)
        self.assertEqual(stats['calls-plan'], 2)
        # Only the holder's target was ever planned.
        self.assertEqual(stats['targets'], 1)

    def test_waiting_pidfd_calls_hold_only_their_pidfds(self):
        # A call's message keeps its fd list until the reply: the daemon
        # takes the pidfds out of it, so a waiting call of 16 pidfds holds
        # 16 descriptors (memadvised(8), "File descriptors"), not 32.
        self.start_polkitd()
        self.start_daemon(config={'Daemon': {'MaxJobs': '1'}})
        alice = self.add_user()
        ta, tb = self.spawn_target(alice), self.spawn_target(alice)
        holder = hold(self, alice, ta, 30)
        baseline = daemon_fds(self)
        waiting = [self.call_async(alice, 'PlanPidfds', [tb.pid] * 16, 'cold', timeout=120)
                   for _ in range(4)]
        wait_log(self, 'waits its turn', 4)
        held = daemon_fds(self) - baseline
        self.assertGreaterEqual(held, 4 * 16)
        self.assertLessEqual(held, 4 * 16 + 8)
        ma_harness._kill(holder)
        for proc in waiting:
            results = self.call_finish(proc)['value'][0]
            self.assertEqual([(r['pid'], r['status']) for r in results], [(tb.pid, 'ok')])
        self.assertLessEqual(daemon_fds(self), baseline + 8)


class PolkitWaitTest(MaTestCase):

    def test_calls_held_by_a_hanging_polkit_hold_no_place(self):
        # Six interactive calls wait for an authority that does not answer
        # (a person who never types a password): no place, no target fd.
        mock = self.start_polkit_mock()
        mock.SetAllowed('(as)', [RECLAIM_OWN])
        mock.SimulateHangActions('(as)', [RECLAIM_OTHER])
        self.start_daemon()
        alice, bob, carol = self.add_user(), self.add_user(), self.add_user()
        theirs = [self.spawn_target(bob) for _ in range(8)]
        baseline = daemon_fds(self)
        hung = [self.call_async(alice, 'Reclaim', [t.pid for t in theirs], 'cold',
                                interactive=True, timeout=120) for _ in range(6)]
        self.assertTrue(wait_hanging(mock))
        wait_log(self, 'asking polkit', 6)
        self.assertLessEqual(daemon_fds(self), baseline + 8)

        # Answered while Alice's six calls still wait for polkit.
        t = self.spawn_target(bob)
        self.assertEqual(self.call(bob, 'Reclaim', [t.pid], 'cold')[0]['status'], 'ok')
        u = self.spawn_target(carol)
        self.assertEqual(self.call(carol, 'Plan', [u.pid], 'cold')[0]['status'], 'ok')
        self.assertTrue(all(p.poll() is None for p in hung))

        # Two of Alice's callers give up: their calls go, unanswered.
        for proc in hung[:2]:
            ma_harness._kill(proc)
        wait_log(self, 'dropped', 2)
        self.assertEqual(self.statistics()['cancelled-calls'], 2)
        mock.SimulateHangActions('(as)', [])
        mock.ReleaseHangingCalls()
        for proc in hung[2:]:
            with self.assertRaisesCallError(ACCESS_DENIED):
                self.call_finish(proc)

    def test_calls_waiting_for_polkit_count_against_the_bounds(self):
        # Each gave its place back, so the next one found a place free:
        # still, one running and one waiting is all MaxJobsPerUser=1 and
        # MaxQueuedPerUser=1 let a user have.
        mock = self.start_polkit_mock()
        mock.SetAllowed('(as)', [RECLAIM_OWN])
        mock.SimulateHangActions('(as)', [RECLAIM_OTHER])
        self.start_daemon(config={'Daemon': {'MaxJobsPerUser': '1', 'MaxQueuedPerUser': '1'}})
        alice, bob = self.add_user(), self.add_user()
        t = self.spawn_target(bob)
        hung = []
        for n in (1, 2):
            hung.append(self.call_async(alice, 'Reclaim', [t.pid], 'cold', interactive=True,
                                        timeout=120))
            wait_log(self, 'asking polkit', n)
        with self.assertRaisesCallError(BUSY) as cm:
            self.call(alice, 'Reclaim', [t.pid], 'cold', interactive=True)
        self.assertIn('MaxQueuedPerUser', cm.exception.message)
        # Bob's calls are his own share.
        self.assertEqual(self.call(bob, 'Reclaim', [t.pid], 'cold')[0]['status'], 'ok')
        mock.ReleaseHangingCalls()
        for proc in hung:
            with self.assertRaisesCallError(ACCESS_DENIED):
                self.call_finish(proc)


class ServiceFdsTest(MaTestCase):
    """As the shipped unit runs the daemon: its user, capabilities and
    LimitNOFILE."""

    daemon_as_service = True

    def sleepers(self, user, n):
        proc = self.run_as(user, ['sh', '-c', 'for i in $(seq %d); do sleep 300 & echo $!; done; '
                                  'wait' % n], stdout=subprocess.PIPE, universal_newlines=True)
        self._defer(ma_harness._kill, proc)
        pids = [int(proc.stdout.readline()) for _ in range(n)]
        for pid in pids:
            self._defer(ma_harness._kill_pid, pid)
        return pids

    def test_1024_pid_calls_waiting_for_polkit_leave_fds_to_others(self):
        mock = self.start_polkit_mock()
        mock.SimulateHangActions('(as)', [RECLAIM_OWN])
        self.start_daemon()
        alice, bob = self.add_user(), self.add_user()
        mine, his = self.sleepers(alice, 1024), self.sleepers(bob, 1024)
        baseline = daemon_fds(self)
        # Eight calls of 1024 targets each wait for polkit: 16,384 fds
        # when each target held two.
        hung = [self.call_async(alice, 'Reclaim', mine, 'cold', interactive=True, timeout=120)
                for _ in range(8)]
        self.assertTrue(wait_hanging(mock))
        wait_log(self, 'asking polkit', 8, timeout=60)
        held = daemon_fds(self)
        self.assertLess(held, baseline + 64, 'fds held while waiting for polkit')

        results = self.call(bob, 'Plan', his, 'cold')
        self.assertEqual(len(results), 1024)
        failed = [r for r in results if r['status'] == 'failed']
        self.assertEqual(failed, [])
        self.assertTrue(all(p.poll() is None for p in hung))
        for proc in hung:
            ma_harness._kill(proc)
        wait_log(self, 'dropped', 8)


class DeadlineTest(MaTestCase):

    def test_job_timeout_stops_the_work_and_says_so(self):
        self.start_polkitd()
        self.start_daemon(config={'Daemon': {'JobTimeout': '1'}})
        targets = []
        for _ in range(4):
            t = self.spawn_target()
            t.command('sparse s %d 2' % (4 * GiB))
            targets.append(t)
        start = time.monotonic()
        results = self.call_root('Reclaim', [t.pid for t in targets], 'cold',
                                 {'percent': ('u', 100)})
        took = time.monotonic() - start
        stopped = [r for r in results if r['status'] == 'failed']
        self.assertGreater(len(stopped), 0, results)
        for r in stopped:
            self.assertEqual(r['error'], 'failed')
            self.assertIn('ran out of time (JobTimeout is 1 s)', r['message'])
        self.assertLess(took, 10)
        stats = self.statistics()
        self.assertEqual(stats['timed-out-calls'], 1)
        self.assertIn('ran out of time', self.daemon_log_text())


class LargePlanTest(MaTestCase):

    def test_8_gib_every_other_page_plan_replies_small_and_leaves_the_loop_free(self):
        # 4 GiB resident in a million runs: the reply listed every one
        # (24 MiB, 6 s of main loop). Now 16384 ranges, cut, and the loop
        # answers Properties.Get meanwhile.
        self.start_polkitd()
        self.start_daemon()
        alice = self.add_user()
        t = self.spawn_target(alice)
        t.command('sparse s %d 2' % (8 * GiB))
        began = time.monotonic()
        proc = self.call_async(alice, 'Plan', [t.pid], 'cold',
                               {'percent': ('u', 100), 'ranges': ('b', True)}, timeout=120)
        out = {}
        reader = threading.Thread(target=lambda: out.update(text=proc.stdout.read()))
        reader.start()
        latencies = []
        while proc.poll() is None:
            start = time.monotonic()
            self.get_property('Version')
            latencies.append(time.monotonic() - start)
            time.sleep(0.01)
        reader.join()
        r = json.loads(out['text'])['value'][0][0]
        self.assertEqual(r['status'], 'ok')
        self.assertGreaterEqual(r['planned-bytes'], 4 * GiB)
        self.assertEqual(len(r['ranges']), 16384)
        self.assertIs(r['ranges-truncated'], True)
        # Answered all along the plan: no answer waited for more than a
        # small share of it (a reply built on the main loop held it all).
        took = time.monotonic() - began
        self.assertGreater(len(latencies), 2)
        self.assertLess(max(latencies), took / 3, latencies)


if __name__ == '__main__':
    ma_harness.main()
