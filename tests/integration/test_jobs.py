#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Jobs: limits, hanging authorities, callers that leave, Progress, and a
main loop that keeps answering while a large pageout runs."""
import time

from gi.repository import Gio, GLib

import ma_harness
from ma_harness import MaTestCase, needs_swap, wait_hanging

MiB = 1024 * 1024
BUSY = 'org.memadvise.MemAdvise1.Error.Busy'
ACCESS_DENIED = 'org.freedesktop.DBus.Error.AccessDenied'


class HangingAuthorityTest(MaTestCase):

    def test_hanging_authority_does_not_delay_other_callers(self):
        mock = self.start_polkit_mock()
        mock.SetAllowed('(as)', ['org.memadvise.reclaim-own'])
        mock.SimulateHangActions('(as)', ['org.memadvise.reclaim-other'])
        self.start_daemon(config={'Daemon': {'AuthorizationTimeout': '30'}})
        alice, bob = self.add_user(), self.add_user()
        theirs = self.spawn_target(bob)
        mine = self.spawn_target(alice)
        mine.map('a', 'anon', 4 * MiB)
        hung = self.call_async(alice, 'Reclaim', [theirs.pid], 'cold')
        self.assertTrue(wait_hanging(mock))

        # Answered while the hung call still waits: not held behind it.
        r = self.call(alice, 'Reclaim', [mine.pid], 'cold')[0]
        self.assertEqual(r['status'], 'ok')
        r = self.call(bob, 'Plan', [theirs.pid], 'cold')[0]
        self.assertEqual(r['status'], 'ok')
        self.assertIs(self.get_property('KernelSupported'), True)
        self.assertIsNone(hung.poll())

        mock.SimulateHangActions('(as)', [])
        mock.ReleaseHangingCalls()
        with self.assertRaisesCallError(ACCESS_DENIED):
            self.call_finish(hung)

    def test_hanging_authority_times_out_as_denial(self):
        mock = self.start_polkit_mock()
        mock.SimulateHang('(b)', True)
        self.start_daemon(config={'Daemon': {'AuthorizationTimeout': '2'}})
        alice = self.add_user()
        t = self.spawn_target(alice)
        start = time.monotonic()
        with self.assertRaisesCallError(ACCESS_DENIED):
            self.call(alice, 'Reclaim', [t.pid], 'cold')
        # Denied by AuthorizationTimeout, well before the bus's own
        # 25 s timeout of the call.
        self.assertLess(time.monotonic() - start, 20)
        self.assertGreaterEqual(time.monotonic() - start, 1.5)

    def test_polkit_error_is_a_denial(self):
        # No authority on the bus at all.
        self.start_daemon()
        alice = self.add_user()
        t = self.spawn_target(alice)
        with self.assertRaisesCallError(ACCESS_DENIED):
            self.call(alice, 'Reclaim', [t.pid], 'cold')
        r = self.call(alice, 'Plan', [t.pid], 'cold')[0]
        self.assertEqual(r['status'], 'ok')

    def test_interactive_flag_reaches_polkit(self):
        # The mock cannot see flags; the real polkitd can: with interactive
        # authorization allowed and no agent, the answer is still a denial,
        # but the call must not hang or fail differently.
        self.start_polkitd()
        self.start_daemon()
        alice = self.add_user()
        t = self.spawn_target(alice)
        with self.assertRaisesCallError(ACCESS_DENIED):
            self.call(alice, 'Reclaim', [t.pid], 'cold', interactive=True)


class LimitsTest(MaTestCase):

    def test_rate_limit_per_user(self):
        self.start_polkitd()
        self.start_daemon(config={'Daemon': {'MaxCallsPerMinutePerUser': '3'}})
        alice, bob = self.add_user(), self.add_user()
        t = self.spawn_target(alice)
        for _ in range(3):
            self.call(alice, 'Plan', [t.pid], 'cold')
        with self.assertRaisesCallError(BUSY):
            self.call(alice, 'Plan', [t.pid], 'cold')
        # Other users and root are not affected.
        u = self.spawn_target(bob)
        self.assertEqual(self.call(bob, 'Plan', [u.pid], 'cold')[0]['status'], 'ok')
        for _ in range(5):
            self.call_root('Plan', [t.pid], 'cold')


@needs_swap('4G')
class LargePageoutSwapTest(MaTestCase):
    """Under tests/with-swap --size 4G: 2 GiB paged out by root."""

    N = 8
    SIZE = 256 * MiB

    def setUp(self):
        super().setUp()
        self.assertGreaterEqual(ma_harness.swap_total_bytes(), 3 * 1024 * MiB,
                                'run under tests/with-swap --size 4G')
        self.start_polkitd()
        self.start_daemon()
        self.targets = []
        for i in range(self.N):
            t = self.spawn_target()
            t.map('a', 'anon', self.SIZE, lowentropy=True)
            self.targets.append(t)
        self.sums = [t.checksum('a') for t in self.targets]

    def check_contents(self):
        self.assertEqual([t.checksum('a') for t in self.targets], self.sums)

    def test_properties_answer_quickly_during_pageout(self):
        began = time.monotonic()
        proc = self.call_async(None, 'Reclaim', [t.pid for t in self.targets], 'pageout',
                               {'percent': ('u', 100)}, timeout=120)
        latencies = []
        while proc.poll() is None:
            start = time.monotonic()
            self.get_property('Version')
            latencies.append(time.monotonic() - start)
            time.sleep(0.01)
        data = self.call_finish(proc)
        results = data['value'][0]
        self.assertEqual({r['status'] for r in results}, {'ok'})
        # Answered all along the pageout: no answer waited for more than
        # a small share of it (timings are the benchmarks' business, not
        # asserted here; a main loop held by the work would wait it all).
        took = time.monotonic() - began
        self.assertGreater(len(latencies), 5)
        self.assertLess(max(latencies), took / 4, latencies)
        swapped = sum(t.residency('a')[2] for t in self.targets)
        self.assertGreater(swapped * 4096, self.N * self.SIZE // 2)
        self.check_contents()

    def test_progress_is_sent_to_the_caller_only(self):
        seen = []
        sub = self.bus.signal_subscribe(None, ma_harness.INTERFACE, 'Progress', None, None,
                                        Gio.DBusSignalFlags.NONE,
                                        lambda *args: seen.append(args))
        self._defer(self.bus.signal_unsubscribe, sub)
        data = self.call_finish(self.call_async(
            None, 'Reclaim', [t.pid for t in self.targets], 'pageout',
            {'percent': ('u', 100)}, timeout=120))
        progress = data['progress']
        self.assertGreater(len(progress), 0)
        planned = sum(r['planned-bytes'] for r in data['value'][0])
        for done, total in progress:
            self.assertEqual(total, planned)
            self.assertLessEqual(done, total)
        self.assertEqual([p[0] for p in progress], sorted(p[0] for p in progress))
        ctx = GLib.MainContext.default()
        while ctx.iteration(False):
            pass
        self.assertEqual(seen, [])

    def test_caller_leaving_stops_the_work(self):
        proc = self.call_async(None, 'Reclaim', [t.pid for t in self.targets], 'pageout',
                               {'percent': ('u', 100)}, exit_on_progress=True, timeout=120)
        data = self.call_finish(proc)
        self.assertIn('progress', data)
        self.assertNotIn('value', data)
        # Wait for the daemon to finish the call it can no longer answer.
        for _ in range(200):
            stats = self.statistics()
            if stats['targets'] >= self.N:
                break
            time.sleep(0.05)
        self.assertEqual(stats['targets'], self.N)
        self.assertGreater(stats['failures'].get('failed', 0), 0)
        untouched = [t for t in self.targets if t.residency('a')[2] == 0]
        self.assertGreater(len(untouched), 0)
        self.assertLess(stats['advised-bytes-pageout'], self.N * self.SIZE)
        self.assertIn('left the bus', self.daemon_log_text())
        self.check_contents()


if __name__ == '__main__':
    ma_harness.main()
