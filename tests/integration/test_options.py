#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The options order, min-idle and threads, the observations the daemon keeps
between calls, and the result keys idle-bytes, idle-seconds and
unknown-age-bytes."""
import time

from gi.repository import GLib

import ma_harness
from ma_harness import MaTestCase, needs_swap

MiB = 1024 * 1024
INVALID_ARGS = 'org.freedesktop.DBus.Error.InvalidArgs'
IDLE_KEYS = {'idle-bytes': 't', 'idle-seconds': 'u', 'unknown-age-bytes': 't'}


def inside(ranges, region):
    """Whether every (start, length, resident) of @ranges lies in @region,
    a reply of ma-test-target's map: 'ok START_HEX LENGTH'."""
    _, start, length = region.split()
    lo = int(start, 16)
    hi = lo + int(length)
    return all(lo <= s and s + n <= hi for s, n, _ in ranges)


class ResultKeysTest(MaTestCase):

    def setUp(self):
        super().setUp()
        self.start_polkitd()
        self.start_daemon()

    def call_variants(self, method, pids, options=None, mode='cold'):
        """The results entries as GLib.Variant a{sv}, types intact."""
        opts = {k: GLib.Variant(t, v) for k, (t, v) in (options or {}).items()}
        reply = self.bus.call_sync(ma_harness.BUS_NAME, ma_harness.OBJECT_PATH,
                                   ma_harness.INTERFACE, method,
                                   GLib.Variant('(ausa{sv})', (pids, mode, opts)),
                                   GLib.VariantType('(aa{sv})'), 0, 60000, None)
        results = reply.get_child_value(0)
        return [results.get_child_value(i) for i in range(results.n_children())]

    def test_idle_keys_always_present_with_their_types(self):
        t = self.spawn_target()
        t.map('a', 'anon', 8 * MiB)
        gone = self.spawn_target()
        gone.kill()
        for method in ('Plan', 'Reclaim', 'Plan'):
            with self.subTest(method=method):
                ok, failed = self.call_variants(method, [t.pid, gone.pid])
                for entry in (ok, failed):
                    for key, sig in IDLE_KEYS.items():
                        value = entry.lookup_value(key, None)
                        self.assertIsNotNone(value, key)
                        self.assertEqual(value.get_type_string(), sig, key)
                self.assertEqual(failed.lookup_value('status', None).unpack(), 'failed')
                for key in IDLE_KEYS:
                    self.assertEqual(failed.lookup_value(key, None).unpack(), 0, key)
                r = ok.unpack()
                self.assertEqual(r['status'], 'ok')
                self.assertEqual(r['idle-bytes'] + r['unknown-age-bytes'], r['planned-bytes'])

    def test_map_with_its_types_only_with_option_and_plan(self):
        t = self.spawn_target()
        start = int(t.map('a', 'anon', 8 * MiB).split()[1], 16)
        gone = self.spawn_target()
        gone.kill()
        types = {'mappings': 'a(ttay)', 'eligible-mappings': 'u', 'truncated': 'b',
                 'ineligible': 'a(sut)'}
        for method in ('Plan', 'Reclaim'):
            with self.subTest(method=method):
                opts = {'map': ('b', True), 'percent': ('u', 100), 'order': ('s', 'address')}
                ok, failed = self.call_variants(method, [t.pid, gone.pid], opts)
                self.assertIsNone(failed.lookup_value('map', None))
                value = ok.lookup_value('map', None)
                self.assertEqual(value.get_type_string(), 'a{sv}')
                for key, sig in types.items():
                    self.assertEqual(value.lookup_value(key, None).get_type_string(), sig, key)
                m = value.unpack()
                cells = [c for s, _, c in m['mappings'] if s == start]
                # 2048 pages: 256 cells of 8, every page planned.
                self.assertEqual(cells, [[5] * 256])
                self.assertEqual(m['eligible-mappings'], len(m['mappings']))
                self.assertFalse(m['truncated'])
                plain, _ = self.call_variants(method, [t.pid, gone.pid])
                self.assertIsNone(plain.lookup_value('map', None))

    @needs_swap('1G')
    def test_reclaim_map_read_after_the_pageout(self):
        """Plan's map has a pageout's pages planned (5); Reclaim's, read
        after the advice, in swap (1), but for what the kernel kept."""
        t = self.spawn_target()
        start = int(t.map('a', 'anon', 8 * MiB).split()[1], 16)
        opts = {'map': ('b', True), 'percent': ('u', 100), 'order': ('s', 'address')}
        for method in ('Plan', 'Reclaim'):
            with self.subTest(method=method):
                r = self.call_variants(method, [t.pid], opts, mode='pageout')[0].unpack()
                self.assertEqual(r['status'], 'ok', r)
                cells = [c for s, _, c in r['map']['mappings'] if s == start][0]
                self.assertEqual(len(cells), 256)
                if method == 'Plan':
                    self.assertEqual(cells, [5] * 256)
                    continue
                pages, present, swapped = t.residency('a')
                self.assertEqual(swapped + present, pages)
                # 8 pages a cell: one kept by the kernel is not a cell.
                self.assertLessEqual(set(cells), {1, 5})
                self.assertGreaterEqual(cells.count(1), 256 - present // 4)
                self.assertGreater(cells.count(1), 250)


class ColdnessTest(MaTestCase):
    """What a target touches between two calls is planned last."""

    WAIT = 2

    def setUp(self):
        super().setUp()
        mock = self.start_polkit_mock()
        mock.SetAllowed('(as)', ['org.memadvise.reclaim-own'])
        self.start_daemon()
        self.user = self.add_user()
        self.t = self.spawn_target(self.user)
        # Without an observation, coldest order takes the largest mapping
        # first: the one the target will touch.
        self.hot = self.t.map('hot', 'anon', 32 * MiB)
        self.cold = self.t.map('cold', 'anon', 16 * MiB)

    def plan(self, **options):
        opts = {'percent': ('u', 25), 'ranges': ('b', True)}
        opts.update(options)
        return self.call(self.user, 'Plan', [self.t.pid], 'cold', opts)[0]

    def test_second_call_plans_what_stayed_idle_first(self):
        first = self.plan()
        self.assertTrue(inside(first['ranges'], self.hot), first['ranges'])
        self.assertEqual(first['idle-bytes'], 0)
        self.assertEqual(first['idle-seconds'], 0)
        self.assertEqual(first['unknown-age-bytes'], first['planned-bytes'])

        r = self.call(self.user, 'Reclaim', [self.t.pid], 'cold', {'percent': ('u', 1)})[0]
        self.assertEqual(r['status'], 'ok')
        time.sleep(self.WAIT)
        self.t.command('touch hot')

        second = self.plan()
        self.assertEqual(second['status'], 'ok')
        self.assertGreater(second['planned-bytes'], 8 * MiB)
        self.assertTrue(inside(second['ranges'], self.cold), second['ranges'])
        self.assertGreater(second['idle-bytes'], 0)
        self.assertEqual(second['idle-bytes'], second['planned-bytes'])
        self.assertEqual(second['unknown-age-bytes'], 0)
        self.assertGreaterEqual(second['idle-seconds'], self.WAIT)
        self.assertLess(second['idle-seconds'], self.WAIT + 30)

        # Address order does not rank by accesses and reports no idle age.
        by_address = self.plan(order=('s', 'address'))
        starts = [s for s, _, _ in by_address['ranges']]
        self.assertEqual(starts, sorted(starts))
        self.assertEqual(by_address['idle-bytes'], 0)
        self.assertEqual(by_address['idle-seconds'], 0)

    def test_plan_alone_starts_no_observation(self):
        self.plan()
        time.sleep(1)
        r = self.plan()
        self.assertEqual((r['idle-bytes'], r['idle-seconds']), (0, 0))


class TrackAccessOffTest(MaTestCase):

    def test_reclaim_starts_no_observation_without_track_access(self):
        self.start_polkitd()
        self.start_daemon(config={'Daemon': {'TrackAccess': 'false'}})
        t = self.spawn_target()
        t.map('a', 'anon', 16 * MiB)
        self.assertEqual(self.call_root('Reclaim', [t.pid], 'cold')[0]['status'], 'ok')
        time.sleep(1.5)
        r = self.call_root('Plan', [t.pid], 'cold')[0]
        self.assertEqual((r['idle-bytes'], r['idle-seconds']), (0, 0))
        self.assertEqual(r['unknown-age-bytes'], r['planned-bytes'])


class MinIdleTest(MaTestCase):

    def setUp(self):
        super().setUp()
        self.start_polkitd()

    def test_min_idle_waits_and_reports_the_age(self):
        self.start_daemon()
        user = self.add_user()
        t = self.spawn_target(user)
        t.map('a', 'anon', 16 * MiB)
        start = time.monotonic()
        r = self.call(user, 'Plan', [t.pid], 'cold', {'min-idle': ('u', 2)})[0]
        self.assertGreaterEqual(time.monotonic() - start, 2)
        self.assertEqual(r['status'], 'ok')
        self.assertGreaterEqual(r['idle-seconds'], 2)
        self.assertGreater(r['idle-bytes'], 0)

    def test_min_idle_waits_for_all_targets_once(self):
        self.start_daemon()
        targets = [self.spawn_target() for _ in range(3)]
        for t in targets:
            t.map('a', 'anon', 4 * MiB)
        start = time.monotonic()
        results = self.call_root('Plan', [t.pid for t in targets], 'cold', {'min-idle': ('u', 2)})
        elapsed = time.monotonic() - start
        # Once for all three: not 3 x 2 s.
        self.assertGreaterEqual(elapsed, 2)
        self.assertLess(elapsed, 6)
        for r in results:
            self.assertEqual(r['status'], 'ok')
            self.assertGreaterEqual(r['idle-seconds'], 2)

    def test_min_idle_waits_out_a_younger_observation_without_restarting_it(self):
        self.start_daemon()
        t = self.spawn_target()
        t.map('a', 'anon', 16 * MiB)
        self.assertEqual(self.call_root('Reclaim', [t.pid], 'cold')[0]['status'], 'ok')
        time.sleep(1)
        start = time.monotonic()
        r = self.call_root('Plan', [t.pid], 'cold', {'min-idle': ('u', 3)})[0]
        elapsed = time.monotonic() - start
        self.assertGreaterEqual(r['idle-seconds'], 3)
        # About 2 s: what the observation still lacked, not 3 s anew.
        self.assertGreater(elapsed, 1.5)
        self.assertLess(elapsed, 2.8)

    def test_caller_leaving_stops_the_min_idle_wait(self):
        self.start_daemon(config={'Daemon': {'MaxJobs': '1'}})
        t = self.spawn_target()
        t.map('a', 'anon', 4 * MiB)
        waiting = self.call_async(None, 'Plan', [t.pid], 'cold', {'min-idle': ('u', 60)},
                                  timeout=120)
        deadline = time.monotonic() + 10
        while 'for min-idle' not in self.daemon_log_text():
            self.assertLess(time.monotonic(), deadline, 'the call did not start waiting')
            time.sleep(0.05)
        # The wait keeps the one place: the next call waits its turn.
        queued = self.call_async(None, 'Plan', [t.pid], 'cold')
        ma_harness.wait_log(self, 'waits its turn')

        waiting.kill()
        waiting.communicate()
        left = time.monotonic()
        r = self.call_finish(queued)['value'][0][0]
        self.assertEqual(r['status'], 'ok')
        self.assertLess(time.monotonic() - left, 3, 'the wait went on')
        self.assertIn('left the bus', self.daemon_log_text())
        stats = self.statistics()
        self.assertEqual(stats['failures'].get('failed'), 1)


if __name__ == '__main__':
    ma_harness.main()
