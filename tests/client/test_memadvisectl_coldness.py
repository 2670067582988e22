#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""memadvisectl's figures of coldness (memadvised(8), COLDNESS) against the
real memadvised: per target and in totals what earlier pageouts left out
and what came back, what came back while sampling during --min-idle, and
the lines of the table that say so; one meson test per test method."""
import time

from ma_harness import needs_swap
from test_memadvisectl import COLDNESS_TOTALS, IEC, TOTAL_KEYS, CtlTestCase, MiB, main


class ColdnessCtlTest(CtlTestCase):

    def interleaved_target(self):
        t = self.spawn_target()
        t.map('a', 'anon', 32 * MiB)
        t.command('hot a 4 20')  # every 4th page, in one mapping
        return t

    @staticmethod
    def pageout(t, *args):
        return ('reclaim', '-t', t.pid, '-m', 'pageout', '-p', '50') + args

    @needs_swap('1G')
    def test_what_came_back_in_json_and_table(self):
        self.start()
        t = self.interleaved_target()
        r = self.ctl(*self.pageout(t))
        self.assertEqual(r.rc, 0, r)
        self.assertNotIn('Came back', r.out)  # nothing was paged out before

        # The hot pages the first pageout took came back.
        time.sleep(1.5)
        data = self.ctl_json(*self.pageout(t, '-j'))
        x = data['targets'][0]
        self.assertTarget(x, t.pid)
        self.assertEqual(x['coldness_source'], 'refault')
        self.assertGreater(x['paged_out_bytes'], 0)
        self.assertGreater(x['refaulted_bytes'], 0)
        self.assertLessEqual(x['refaulted_bytes'], x['paged_out_bytes'])
        self.assertGreaterEqual(x['held_bytes'], x['refaulted_bytes'])
        self.assertEqual(x['sampled_bytes'], 0)
        r = self.ctl(*self.pageout(t))
        self.assertEqual(r.rc, 0, r)
        self.assertRegex(r.out, r'\nCame back since the last pageout: %s of %s\n' % (IEC, IEC))
        self.assertNotIn('while sampling', r.out)

    @needs_swap('1G')
    def test_what_came_back_while_sampling_in_json_and_table(self):
        self.start()
        # The trial halfway through --min-idle pages out hot pages too; they
        # come back before the wait ends.
        t = self.interleaved_target()
        data = self.ctl_json(*self.pageout(t, '-j', '--min-idle', '2'))
        x = data['targets'][0]
        self.assertEqual(x['coldness_source'], 'sampling')
        self.assertGreater(x['sampled_bytes'], 0)
        self.assertGreaterEqual(x['held_bytes'], x['sampled_bytes'])
        for key in COLDNESS_TOTALS:
            self.assertEqual(data['totals'][key], x[key], key)
        t = self.interleaved_target()
        r = self.ctl(*self.pageout(t, '--min-idle', '2'))
        self.assertEqual(r.rc, 0, r)
        self.assertRegex(r.out, r'\nCame back while sampling during the wait: %s, kept in '
                         r'memory\n$' % IEC)
        self.assertNotIn('since the last pageout', r.out)

    def test_json_coldness_keys_of_a_plan(self):
        self.start()
        t1, t2 = self.target(size=4 * MiB), self.target(size=4 * MiB)
        data = self.ctl_json('plan', '-t', '%d,%d' % (t1.pid, t2.pid), '-j')
        for x in data['targets']:
            self.assertEqual(x['coldness_source'], 'none')
            for key in ('held_bytes',) + COLDNESS_TOTALS:
                self.assertEqual(x[key], 0, key)
        self.assertEqual(set(data['totals']), TOTAL_KEYS)


if __name__ == '__main__':
    main()
