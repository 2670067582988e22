#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""memadvised on a private system bus with the real polkitd: the D-Bus
contract of shared/DESIGN.md, the authorization matrix, bad input, limits,
hanging authorities and callers that leave."""
import os
import subprocess
import time
import xml.etree.ElementTree as ET

from gi.repository import GLib

import ma_harness
from ma_harness import MaTestCase

MiB = 1024 * 1024
INVALID_ARGS = 'org.freedesktop.DBus.Error.InvalidArgs'
ACCESS_DENIED = 'org.freedesktop.DBus.Error.AccessDenied'
BUSY = 'org.memadvise.MemAdvise1.Error.Busy'

COMMON_KEYS = {'pid': int, 'comm': str, 'uid': int, 'status': str, 'eligible-bytes': int,
               'planned-bytes': int, 'advised-bytes': int, 'rss-before': int,
               'anon-before': int, 'swap-before': int}
AFTER_KEYS = {'rss-after', 'anon-after', 'swap-after'}


class InterfaceTest(MaTestCase):
    """Methods, properties and introspection exactly as DESIGN says."""

    def setUp(self):
        super().setUp()
        self.start_polkitd()
        self.start_daemon()

    def test_introspection_signatures(self):
        reply = self.bus.call_sync(ma_harness.BUS_NAME, ma_harness.OBJECT_PATH,
                                   'org.freedesktop.DBus.Introspectable', 'Introspect', None,
                                   None, 0, 5000, None)
        root = ET.fromstring(reply.unpack()[0])
        iface = root.find("interface[@name='org.memadvise.MemAdvise1']")
        self.assertIsNotNone(iface)

        def args(method):
            node = iface.find("method[@name='%s']" % method)
            self.assertIsNotNone(node, method)
            return [(a.get('name'), a.get('type'), a.get('direction'))
                    for a in node.findall('arg')]

        for m in ('Plan', 'Reclaim'):
            self.assertEqual(args(m), [('pids', 'au', 'in'), ('mode', 's', 'in'),
                                       ('options', 'a{sv}', 'in'),
                                       ('results', 'aa{sv}', 'out')])
        for m in ('PlanCgroup', 'ReclaimCgroup'):
            self.assertEqual(args(m), [('cgroup', 's', 'in'), ('mode', 's', 'in'),
                                       ('options', 'a{sv}', 'in'),
                                       ('results', 'aa{sv}', 'out')])
        for m in ('PlanPidfds', 'ReclaimPidfds'):
            self.assertEqual(args(m), [('pidfds', 'ah', 'in'), ('mode', 's', 'in'),
                                       ('options', 'a{sv}', 'in'),
                                       ('results', 'aa{sv}', 'out')])
        self.assertEqual(args('GetStatistics'), [('stats', 'a{sv}', 'out')])
        self.assertEqual(sorted(m.get('name') for m in iface.findall('method')),
                         ['GetStatistics', 'Plan', 'PlanCgroup', 'PlanPidfds', 'Reclaim',
                          'ReclaimCgroup', 'ReclaimPidfds'])
        props = {p.get('name'): (p.get('type'), p.get('access'))
                 for p in iface.findall('property')}
        self.assertEqual(props, {'Version': ('s', 'read'), 'KernelSupported': ('b', 'read'),
                                 'Modes': ('as', 'read')})
        signal = iface.find("signal[@name='Progress']")
        self.assertEqual([(a.get('name'), a.get('type')) for a in signal.findall('arg')],
                         [('done_bytes', 't'), ('planned_bytes', 't')])

    def test_properties(self):
        self.assertRegex(self.get_property('Version'), r'^\d+\.\d+\.\d+')
        self.assertIs(self.get_property('KernelSupported'), True)
        self.assertEqual(self.get_property('Modes'), ['cold', 'pageout'])
        user = self.add_user()
        data = self.call_finish(self.call_async(user, 'GetAll'))
        self.assertEqual(set(data['value'][0]), {'Version', 'KernelSupported', 'Modes'})

    def test_properties_are_read_only(self):
        with self.assertRaises(GLib.Error):
            self.bus.call_sync(ma_harness.BUS_NAME, ma_harness.OBJECT_PATH,
                               'org.freedesktop.DBus.Properties', 'Set',
                               GLib.Variant('(ssv)', (ma_harness.INTERFACE, 'Version',
                                                      GLib.Variant('s', 'x'))),
                               None, 0, 5000, None)

    def test_version_flag(self):
        out = subprocess.run([self.daemon_path, '--version'], stdout=subprocess.PIPE,
                             universal_newlines=True, check=True).stdout
        self.assertEqual(out.strip(), 'memadvised ' + self.get_property('Version'))

    def test_plan_result_keys_and_types(self):
        user = self.add_user()
        t = self.spawn_target(user)
        t.map('a', 'anon', 8 * MiB)
        results = self.call(user, 'Plan', [t.pid], 'cold', {'ranges': ('b', True)})
        self.assertEqual(len(results), 1)
        r = results[0]
        for key, typ in COMMON_KEYS.items():
            self.assertIsInstance(r[key], typ, key)
        self.assertEqual(r['pid'], t.pid)
        self.assertEqual(r['comm'], 'ma-test-target')
        self.assertEqual(r['uid'], self.uid_of(user))
        self.assertEqual(r['status'], 'ok')
        self.assertNotIn('error', r)
        self.assertNotIn('message', r)
        self.assertTrue(AFTER_KEYS.isdisjoint(r), 'Plan has no after figures')
        self.assertEqual(r['advised-bytes'], 0)
        self.assertGreaterEqual(r['eligible-bytes'], 8 * MiB)
        # 30 % by default, page granular.
        self.assertAlmostEqual(r['planned-bytes'], r['eligible-bytes'] * 0.3, delta=8192)
        self.assertGreater(len(r['ranges']), 0)
        self.assertEqual(sum(x[2] for x in r['ranges']), r['planned-bytes'])
        for start, length, resident in r['ranges']:
            self.assertEqual(start % 4096, 0)
            self.assertLessEqual(resident, length)

    def test_plan_without_ranges_option_has_no_ranges(self):
        user = self.add_user()
        t = self.spawn_target(user)
        t.map('a', 'anon', 4 * MiB)
        r = self.call(user, 'Plan', [t.pid], 'cold')[0]
        self.assertNotIn('ranges', r)

    def test_plan_options_percent_and_max_bytes(self):
        user = self.add_user()
        t = self.spawn_target(user)
        t.map('a', 'anon', 16 * MiB)
        full = self.call(user, 'Plan', [t.pid], 'cold', {'percent': ('u', 100)})[0]
        self.assertEqual(full['planned-bytes'], full['eligible-bytes'])
        capped = self.call(user, 'Plan', [t.pid], 'cold',
                           {'percent': ('u', 100), 'max-bytes': ('t', 1 * MiB)})[0]
        self.assertEqual(capped['planned-bytes'], 1 * MiB)
        nocap = self.call(user, 'Plan', [t.pid], 'cold',
                          {'percent': ('u', 50), 'max-bytes': ('t', 0)})[0]
        self.assertAlmostEqual(nocap['planned-bytes'], nocap['eligible-bytes'] / 2, delta=8192)

    def test_duplicate_pids_are_one_target_at_first_position(self):
        user = self.add_user()
        a = self.spawn_target(user)
        b = self.spawn_target(user)
        results = self.call(user, 'Plan', [b.pid, a.pid, b.pid, a.pid], 'cold')
        self.assertEqual([r['pid'] for r in results], [b.pid, a.pid])

    def test_reclaim_cold_own_as_root_keeps_contents(self):
        t = self.spawn_target()
        t.map('a', 'anon', 16 * MiB)
        before = t.checksum('a')
        r = self.call_root('Reclaim', [t.pid], 'cold', {'percent': ('u', 100)})[0]
        self.assertEqual(r['status'], 'ok', r.get('message'))
        self.assertTrue(AFTER_KEYS <= set(r))
        self.assertGreaterEqual(r['advised-bytes'], 16 * MiB)
        self.assertEqual(t.checksum('a'), before)

    def test_get_statistics_counts(self):
        t = self.spawn_target()
        t.map('a', 'anon', 4 * MiB)
        s0 = self.statistics()
        self.call_root('Plan', [t.pid], 'cold')
        self.call_root('Reclaim', [t.pid, 999999999], 'cold', {'percent': ('u', 100)})
        with self.assertRaisesCallError(INVALID_ARGS):
            self.call_root('Plan', [t.pid], 'bogus')
        s1 = self.statistics()
        self.assertEqual(s1['calls-plan'] - s0['calls-plan'], 1)
        self.assertEqual(s1['calls-reclaim'] - s0['calls-reclaim'], 1)
        self.assertEqual(s1['targets'] - s0['targets'], 3)
        self.assertEqual(s1['targets-failed'] - s0['targets-failed'], 1)
        self.assertGreaterEqual(s1['advised-bytes-cold'] - s0['advised-bytes-cold'], 4 * MiB)
        self.assertEqual(s1['advised-bytes-pageout'], s0['advised-bytes-pageout'])
        self.assertEqual(s1['failures'].get('no-such-process', 0), 1)
        self.assertEqual(s1['refused-calls'].get('invalid-args', 0), 1)
        self.assertGreater(s1['time-spent-usec'], s0['time-spent-usec'])
        self.assertLessEqual(abs(s1['started-at'] - time.time()), 120)
        for key in ('reclaimed-bytes', 'targets-ok', 'targets-skipped'):
            self.assertIn(key, s1)
        # Any user may read the aggregate counters.
        user = self.add_user()
        self.assertEqual(self.call(user, 'GetStatistics')['calls-plan'], 1)

    def test_skipped_when_nothing_eligible(self):
        user = self.add_user()
        t = self.spawn_target(user)
        t.command('mlockall')
        r = self.call(user, 'Plan', [t.pid], 'cold')[0]
        self.assertEqual(r['status'], 'skipped')
        self.assertEqual(r['planned-bytes'], 0)
        self.assertIsInstance(r['message'], str)

    def test_pageout_without_swap_says_it_frees_nothing(self):
        self.assertEqual(ma_harness.swap_total_bytes(), 0,
                         'this test runs without swap (not under with-swap)')
        user = self.add_user()
        t = self.spawn_target(user)
        t.map('a', 'anon', 4 * MiB)
        r = self.call(user, 'Plan', [t.pid], 'pageout')[0]
        self.assertEqual(r['status'], 'ok')
        self.assertIn('swap', r['message'])


class ConfigTest(MaTestCase):

    def test_invalid_config_is_refused_at_start(self):
        self.start_polkitd()
        self.daemon_may_fail = True
        proc = self.start_daemon(config={'Daemon': {'MaxJobs': '0'}}, wait=False)
        self.assertEqual(proc.wait(10), 1)
        self.assertIn('MaxJobs', self.daemon_log_text())

    def test_missing_config_file_given_with_flag_is_an_error(self):
        proc = subprocess.run([self.daemon_path, '--config', '/nonexistent/memadvised.conf'],
                              env=self.bus_env(), stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, universal_newlines=True, timeout=10)
        self.assertEqual(proc.returncode, 1)
        self.assertIn('/nonexistent/memadvised.conf', proc.stdout)

    def test_shipped_config_parses_and_starts(self):
        self.start_polkitd()
        conf = os.path.join(ma_harness.SOURCE_ROOT, 'data', 'memadvised.conf')
        self.daemon_log = open(os.path.join(self.tmpdir, 'log'), 'w+')
        env = self.bus_env()
        env['G_DEBUG'] = 'fatal-criticals'
        self.daemon = subprocess.Popen([self.daemon_path, '--config', conf], env=env,
                                       stdout=self.daemon_log, stderr=subprocess.STDOUT)
        self._defer(self._stop_daemon)
        self.wait_for_name(ma_harness.BUS_NAME, proc=self.daemon)
        self.assertNotIn('unknown', self.daemon_log_text())

    def test_protected_name(self):
        self.start_polkitd()
        self.start_daemon(config={'Protect': {'Names': 'ma-test-target;other'}})
        t = self.spawn_target()
        r = self.call_root('Plan', [t.pid], 'cold')[0]
        self.assertEqual((r['status'], r['error']), ('failed', 'protected'))
        self.assertIn('Names', r['message'])

    def test_protected_cgroup(self):
        self.start_polkitd()
        with open('/proc/self/cgroup') as f:
            cgroup = [line.split('::', 1)[1].strip() for line in f if line.startswith('0::')][0]
        self.start_daemon(config={'Protect': {'Cgroups': cgroup}})
        t = self.spawn_target()
        r = self.call_root('Plan', [t.pid], 'cold')[0]
        self.assertEqual((r['status'], r['error']), ('failed', 'protected'))
        self.assertIn(cgroup, r['message'])

    def test_replace_flag(self):
        self.start_polkitd()
        first = self.start_daemon()
        second = subprocess.Popen([self.daemon_path, '--replace', '--config',
                                   os.path.join(self.tmpdir, 'memadvised.conf')],
                                  env=self.bus_env(), stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        self._defer(ma_harness._kill, second)
        self.assertEqual(first.wait(10), 1)
        self.wait_for_name(ma_harness.BUS_NAME, proc=second)
        self.assertEqual(self.name_owner_pid(ma_harness.BUS_NAME), second.pid)
        self.daemon = second


if __name__ == '__main__':
    ma_harness.main()
