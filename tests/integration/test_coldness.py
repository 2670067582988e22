#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Page-granular coldness (memadvised(8), COLDNESS) with memadvised run as
the shipped unit runs it: the user memadvise, exactly CAP_SYS_NICE,
CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH. Hot and cold pages share ONE
mapping of a target of a test user: access sampling during min-idle and
refault feedback tell them apart; budgets stay exact; contents intact.
Each test also shows that without the signal the hot pages would be
planned, so that a signal ignored fails it."""
import time

import ma_harness
from ma_harness import MaTestCase, needs_swap

MiB = 1024 * 1024
PAGE = 4096
RESULT_KEYS = {'coldness-source': str, 'refaulted-bytes': int, 'paged-out-bytes': int,
               'held-bytes': int, 'sampled-bytes': int}


def region(reply):
    _, start, length = reply.split()
    return int(start, 16), int(length)


def overlaps(ranges, start, length):
    return any(s < start + length and start < s + n for s, n, _ in ranges)


def strided_pages(ranges, start, length, stride):
    """Planned pages at start + k * stride pages within [start, start + length)."""
    hits = 0
    for s, n, _ in ranges:
        for a in range(max(s, start), min(s + n, start + length), PAGE):
            hits += ((a - start) // PAGE) % stride == 0
    return hits


def budget(eligible, percent):
    pages = eligible // PAGE
    return (pages // 100 * percent + ((pages % 100) * percent + 99) // 100) * PAGE


@needs_swap('4G')
class ServiceColdnessSwapTest(MaTestCase):
    daemon_as_service = True

    def setUp(self):
        super().setUp()
        self.start_polkitd()
        self.start_daemon(config={'Daemon': {'MaxMinIdle': '10'}})
        self.user = self.add_user()

    def test_daemon_runs_as_the_unit_without_clear_refs(self):
        status = ma_harness.status_of(self.daemon.pid)
        self.assertEqual(int(status['Uid'].split()[0]), self.uid_of(ma_harness.SERVICE_USER))
        caps = int(status['CapEff'], 16)
        # CAP_SYS_NICE, CAP_SYS_PTRACE, CAP_DAC_READ_SEARCH, CAP_SETUID, CAP_SETGID
        self.assertEqual(caps, (1 << 23) | (1 << 19) | (1 << 2) | (1 << 7) | (1 << 6))

    def test_min_idle_samples_and_plans_no_hot_page_of_one_mapping(self):
        t = self.spawn_target(self.user)
        twin = self.spawn_target(self.user)
        starts = {}
        for x in (t, twin):
            # One mapping: its first 16 MiB hot, the other 48 MiB cold.
            starts[x.pid] = region(x.map('all', 'anon', 64 * MiB))[0]
            x.command('hot all 1 2 0 %d' % (16 * MiB))
        total = t.checksum('all')
        self.assertEqual(twin.checksum('all'), total)

        # Without a signal the hot part (first, in the largest mapping) goes first.
        blind = self.call_root('Plan', [twin.pid], 'pageout',
                               {'percent': ('u', 50), 'ranges': ('b', True)})[0]
        self.assertEqual(blind['coldness-source'], 'none')
        self.assertTrue(overlaps(blind['ranges'], starts[twin.pid], 16 * MiB))

        r = self.call_root('Reclaim', [t.pid], 'pageout',
                           {'percent': ('u', 50), 'min-idle': ('u', 3), 'ranges': ('b', True)})[0]
        self.assertEqual(r['status'], 'ok', r.get('message'))
        self.assertEqual(r['coldness-source'], 'sampling')
        # The hot part's sampled pages came back or never left: held.
        self.assertGreater(r['sampled-bytes'], 0)
        self.assertGreaterEqual(r['held-bytes'], r['sampled-bytes'])
        self.assertLessEqual(r['sampled-bytes'], r['planned-bytes'] // 4 + PAGE)
        self.assertFalse(overlaps(r['ranges'], starts[t.pid], 16 * MiB), r['ranges'][:8])
        self.assertEqual(r['planned-bytes'], budget(r['eligible-bytes'], 50))
        self.assertEqual(r['advised-bytes'], r['planned-bytes'])
        ranged = sum(n for _, n, _ in r['ranges'])
        self.assertLess(ranged, r['planned-bytes'])  # the sampled pages still out
        t.command('cool all')
        twin.command('cool all')
        self.assertEqual(t.checksum('all'), total)
        self.assertEqual(self.statistics()['sampled-bytes'], r['sampled-bytes'])

    def test_trial_keeps_an_interleaved_hot_set_resident(self):
        t = self.spawn_target(self.user)
        # One mapping, every 4th page hot: to the spread sample every granule
        # looks alike; the trial halfway through min-idle tells the pages.
        start = region(t.map('all', 'anon', 32 * MiB))[0]
        total = t.checksum('all')
        t.command('hot all 4 20')
        r = self.call_root('Reclaim', [t.pid], 'pageout',
                           {'percent': ('u', 50), 'min-idle': ('u', 4), 'ranges': ('b', True)})[0]
        self.assertEqual(r['status'], 'ok', r.get('message'))
        self.assertEqual(r['coldness-source'], 'sampling')
        self.assertEqual(r['planned-bytes'], budget(r['eligible-bytes'], 50))
        self.assertEqual(r['advised-bytes'], r['planned-bytes'])
        # The hot pages the trial paged out came back during the wait, and
        # are held; its cold pages stayed out and count toward the budget,
        # so only a top-up is advised after the wait (ignoring the trial,
        # the ranges would be the whole budget, a quarter of it hot).
        self.assertGreater(r['sampled-bytes'], 0)
        self.assertGreaterEqual(r['held-bytes'], r['sampled-bytes'])
        ranged = sum(n for _, n, _ in r['ranges'])
        self.assertLessEqual(ranged, r['planned-bytes'] // 4 + 64 * PAGE)
        # (A range that starts off the stride holds one more: a few ranges.)
        self.assertLessEqual(strided_pages(r['ranges'], start, 32 * MiB, 4) * PAGE,
                             ranged // 4 + 16 * PAGE)
        # What the call left out is cold: the region's swapped pages are the
        # budget but for the hot pages of the top-up and the target's other
        # memory.
        swapped = t.residency('all')[2] * PAGE
        self.assertGreater(swapped, r['planned-bytes'] - ranged // 4 - 4 * MiB)
        self.assertEqual(self.statistics()['sampled-bytes'], r['sampled-bytes'])
        t.command('cool all')
        self.assertEqual(t.checksum('all'), total)

    def wait_for_log(self, text, count):
        deadline = time.monotonic() + 20
        while self.daemon_log_text().count(text) < count:
            self.assertLess(time.monotonic(), deadline, 'no %r in the log' % text)
            time.sleep(0.02)

    def abandoned_reclaim(self, t, leave_at):
        """A Reclaim of @t with min-idle 8 whose caller leaves the bus at the
        log line @leave_at; returns the statistics once the daemon has
        finished it, and how long that took after the caller left."""
        count = self.daemon_log_text().count(leave_at) + 1
        proc = self.call_async(None, 'Reclaim', [t.pid], 'pageout',
                               {'percent': ('u', 50), 'min-idle': ('u', 8)}, timeout=60)
        self.wait_for_log(leave_at, count)
        targets = self.statistics()['targets']
        proc.kill()
        proc.communicate()
        left = time.monotonic()
        while self.statistics()['targets'] == targets:
            self.assertLess(time.monotonic() - left, 3, 'the wait went on')
            time.sleep(0.02)
        return self.statistics()

    def test_caller_leaving_stops_either_half_of_the_wait(self):
        t = self.spawn_target(self.user)
        t.map('a', 'anon', 32 * MiB)
        total = t.checksum('a')

        # Before the trial: only the sample went out.
        stats = self.abandoned_reclaim(t, 'then a trial pageout')
        self.assertEqual(stats['failures'].get('failed'), 1)
        self.assertEqual(stats['advised-bytes-pageout'], 0)
        self.assertLessEqual(t.residency('a')[2] * PAGE, 16 * MiB // 4)
        self.assertEqual(stats['tracked-processes'], 1)  # what the sample left is known

        # After it: the trial's pages stay out, and the failure says so.
        t.command('touch a')
        stats = self.abandoned_reclaim(t, 'ms for min-idle\n')
        self.assertEqual(stats['failures'].get('failed'), 2)
        self.assertGreater(stats['advised-bytes-pageout'], 8 * MiB)
        self.assertGreater(t.residency('a')[2] * PAGE, 8 * MiB)
        self.assertIn('left the bus', self.daemon_log_text())
        self.assertEqual(t.checksum('a'), total)

    def test_refault_feedback_holds_back_pages_that_came_back(self):
        t = self.spawn_target(self.user)
        start = region(t.map('all', 'anon', 32 * MiB))[0]
        total = t.checksum('all')
        t.command('hot all 4 20')
        opts = {'percent': ('u', 50), 'ranges': ('b', True)}

        first = self.call_root('Reclaim', [t.pid], 'pageout', opts)[0]
        self.assertEqual(first['status'], 'ok', first.get('message'))
        self.assertEqual(first['refaulted-bytes'], 0)
        # Address order inside the one mapping: its first half, hot pages and all.
        self.assertEqual(first['ranges'][0][0], start)
        self.assertGreaterEqual(first['ranges'][0][1], 16 * MiB)
        self.assertGreater(strided_pages(first['ranges'], start, 32 * MiB, 4), 0)
        time.sleep(1.5)

        # A Plan reads what came back and changes nothing.
        plan = self.call_root('Plan', [t.pid], 'pageout', opts)[0]
        second = self.call_root('Reclaim', [t.pid], 'pageout', opts)[0]
        for r in (plan, second):
            self.assertEqual(r['coldness-source'], 'refault')
            self.assertGreater(r['paged-out-bytes'], 0)
            self.assertGreater(r['refaulted-bytes'], 0)
            self.assertLessEqual(r['refaulted-bytes'], r['paged-out-bytes'])
            self.assertGreater(r['held-bytes'], 0)
            # The hot pages that came back (first in address order, so taken
            # first when the feedback is ignored) are held; of the other half
            # nothing is known page by page yet.
            self.assertEqual(strided_pages(r['ranges'], start, 16 * MiB, 4), 0)
            self.assertGreater(r['held-bytes'], 16 * MiB // 4 - 64 * PAGE)
            self.assertEqual(r['planned-bytes'], budget(r['eligible-bytes'], 50))
        self.assertEqual(plan['refaulted-bytes'], second['refaulted-bytes'])
        self.assertEqual(second['advised-bytes'], second['planned-bytes'])
        stats = self.statistics()
        self.assertEqual(stats['refaulted-bytes'], second['refaulted-bytes'])
        self.assertEqual(stats['tracked-processes'], 1)
        self.assertGreater(stats['tracked-state-bytes'], 0)
        self.assertLessEqual(stats['tracked-state-bytes'], 16 * 1024)
        t.command('cool all')
        self.assertEqual(t.checksum('all'), total)

    def test_what_is_kept_of_a_process_goes_when_it_exits(self):
        t = self.spawn_target(self.user)
        t.map('all', 'anon', 8 * MiB)
        self.assertEqual(self.call_root('Reclaim', [t.pid], 'pageout')[0]['status'], 'ok')
        self.assertEqual(self.statistics()['tracked-processes'], 1)
        t.kill()
        deadline = time.monotonic() + 5
        while self.statistics()['tracked-processes'] != 0:
            self.assertLess(time.monotonic(), deadline, 'still tracked after exit')
            time.sleep(0.05)
        self.assertEqual(self.statistics()['tracked-state-bytes'], 0)


class ServiceColdnessTest(MaTestCase):
    daemon_as_service = True

    def setUp(self):
        super().setUp()
        self.start_polkitd()
        self.start_daemon()

    def test_result_keys_always_present(self):
        t = self.spawn_target()
        t.map('a', 'anon', 4 * MiB)
        gone = self.spawn_target()
        gone.kill()
        for r in self.call_root('Plan', [t.pid, gone.pid], 'cold'):
            for key, kind in RESULT_KEYS.items():
                self.assertIsInstance(r[key], kind, key)
            self.assertEqual(r['coldness-source'], 'none')

    def test_plan_with_min_idle_says_what_it_cannot_know(self):
        user = self.add_user()
        t = self.spawn_target(user)
        t.map('a', 'anon', 4 * MiB)
        r = self.call_root('Plan', [t.pid], 'pageout', {'min-idle': ('u', 1)})[0]
        self.assertEqual(r['status'], 'ok')
        self.assertEqual(r['coldness-source'], 'none')
        self.assertEqual(r['sampled-bytes'], 0)
        self.assertIn('Reclaim with pageout and min-idle', r['message'])
        self.assertEqual(t.residency('a')[2], 0)  # Plan paged nothing out


class FreshObservationTest(MaTestCase):
    """A call right after a Reclaim: its observation is not a second old,
    which says nothing about idleness (it is not "idle for 0 s")."""

    def test_observation_of_zero_seconds_reports_nothing_idle(self):
        self.start_polkitd()
        self.start_daemon()
        t = self.spawn_target()
        t.map('a', 'anon', 16 * MiB)
        self.assertEqual(self.call_root('Reclaim', [t.pid], 'cold')[0]['status'], 'ok')
        r = self.call_root('Plan', [t.pid], 'cold')[0]
        self.assertEqual((r['idle-bytes'], r['idle-seconds']), (0, 0))
        self.assertEqual(r['unknown-age-bytes'], r['planned-bytes'])
        time.sleep(1.2)
        r = self.call_root('Plan', [t.pid], 'cold')[0]
        self.assertGreater(r['idle-bytes'], 0)
        self.assertEqual(r['coldness-source'], 'referenced')


if __name__ == '__main__':
    ma_harness.main()
