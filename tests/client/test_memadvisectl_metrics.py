#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""memadvisectl status --prometheus against the real memadvised: promtool,
the real prometheus-node-exporter scraped over HTTP, counters, the up
gauge, the atomic file and D-Bus activation.

Each test method is one meson test (suite 'client').
"""
import os
import pwd
import re
import socket
import stat
import subprocess
import threading
import time
import urllib.request

import ma_harness
from ma_harness import SOURCE_ROOT, main, needs_swap
from test_memadvisectl import CtlTestCase

MiB = 1 << 20
METRICS_USER = 'memadvise-metrics'
NODE_EXPORTER = '/usr/bin/prometheus-node-exporter'
# memadvisectl(1), METRICS: every family, in order.
FAMILIES = [
    ('memadvise_up', 'gauge'),
    ('memadvise_start_time_seconds', 'gauge'),
    ('memadvise_calls_total', 'counter'),
    ('memadvise_refused_calls_total', 'counter'),
    ('memadvise_dropped_calls_total', 'counter'),
    ('memadvise_timed_out_calls_total', 'counter'),
    ('memadvise_targets_total', 'counter'),
    ('memadvise_target_failures_total', 'counter'),
    ('memadvise_advised_bytes_total', 'counter'),
    ('memadvise_reclaimed_bytes_total', 'counter'),
    ('memadvise_refaulted_bytes_total', 'counter'),
    ('memadvise_sampled_bytes_total', 'counter'),
    ('memadvise_work_seconds_total', 'counter'),
    ('memadvise_tracked_processes', 'gauge'),
    ('memadvise_tracked_state_bytes', 'gauge'),
]
SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')


def parse(text, prefix='memadvise_'):
    """The samples of @text whose names start with @prefix:
    {(name, ((label, value), ...)): float}."""
    samples = {}
    for line in text.splitlines():
        if not line or line.startswith('#') or not line.startswith(prefix):
            continue
        m = SAMPLE.match(line)
        assert m, 'not a sample line: %r' % line
        labels = tuple(sorted(re.findall(r'(\w+)="([^"]*)"', m.group(2) or '')))
        samples[(m.group(1), labels)] = float(m.group(3))
    return samples


def types(text):
    return [tuple(line.split()[2:4]) for line in text.splitlines() if line.startswith('# TYPE ')]


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _metrics_userdel(created):
    if created:
        subprocess.run(['pkill', '-KILL', '-u', METRICS_USER], check=False)
        subprocess.run(['userdel', METRICS_USER], check=False)
        subprocess.run(['groupdel', METRICS_USER], check=False, stderr=subprocess.DEVNULL)


class MetricsTest(CtlTestCase):

    def prometheus(self, *args, rc=0, **kwargs):
        r = self.ctl('status', '--prometheus', *args, **kwargs)
        self.assertEqual(r.rc, rc, r)
        return r

    def assertPromtoolAccepts(self, text):
        r = subprocess.run(['promtool', 'check', 'metrics'], input=text, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, universal_newlines=True)
        self.assertEqual(r.returncode, 0, r.stdout + text)
        self.assertEqual(r.stdout, '', text)

    def assertMatchesStatistics(self, samples):
        """The samples say what GetStatistics says now."""
        stats = self.stats()
        self.assertEqual(samples[('memadvise_up', ())], 1)
        self.assertEqual(samples[('memadvise_start_time_seconds', ())], stats['started-at'])
        for method in ('plan', 'reclaim'):
            self.assertEqual(samples[('memadvise_calls_total', (('method', method),))],
                             stats['calls-' + method])
        for status in ('ok', 'skipped', 'failed'):
            self.assertEqual(samples[('memadvise_targets_total', (('status', status),))],
                             stats['targets-' + status])
        for mode in ('cold', 'pageout'):
            self.assertEqual(samples[('memadvise_advised_bytes_total', (('mode', mode),))],
                             stats['advised-bytes-' + mode])
        for table, name in (('refused-calls', 'memadvise_refused_calls_total'),
                            ('failures', 'memadvise_target_failures_total')):
            for reason, count in stats[table].items():
                self.assertEqual(samples[(name, (('reason', reason),))], count)
            shown = {k[1][0][1]: v for k, v in samples.items() if k[0] == name}
            self.assertEqual({r: c for r, c in shown.items() if c}, stats[table])
        for key, name in (('reclaimed-bytes', 'memadvise_reclaimed_bytes_total'),
                          ('refaulted-bytes', 'memadvise_refaulted_bytes_total'),
                          ('sampled-bytes', 'memadvise_sampled_bytes_total'),
                          ('tracked-processes', 'memadvise_tracked_processes'),
                          ('tracked-state-bytes', 'memadvise_tracked_state_bytes')):
            self.assertEqual(samples[(name, ())], stats[key], name)
        self.assertAlmostEqual(samples[('memadvise_work_seconds_total', ())],
                               stats['time-spent-usec'] / 1e6, places=6)

    def some_calls(self, t):
        """A Plan, a cold Reclaim, a call refused as a whole and a target
        that failed (a process that is gone)."""
        gone = self.spawn_target()
        gone.kill()
        self.ctl('plan', '-t', t.pid, '--no-ask-password')
        self.ctl('reclaim', '-t', t.pid, '-p', 50, '--no-ask-password')
        # By pid on the bus: memadvisectl itself would not pass a process it
        # cannot open a pidfd for.
        self.assertEqual(self.call_root('Plan', [gone.pid], 'cold')[0]['error'], 'no-such-process')
        with self.assertRaisesCallError('org.freedesktop.DBus.Error.InvalidArgs'):
            self.call_root('Plan', [t.pid], 'frobnicate')

    def ensure_metrics_user(self):
        try:
            pwd.getpwnam(METRICS_USER)
            created = False
        except KeyError:
            subprocess.run(['useradd', '--system', '--no-create-home', '--user-group',
                            '--home-dir', '/', '--shell', '/usr/sbin/nologin', METRICS_USER],
                           check=True)
            created = True
        self._defer(_metrics_userdel, created)

    def ctl_as_metrics_user(self, *args):
        """memadvisectl as memadvise-metrics.service runs it: its user, no
        capability, no new privileges."""
        argv = ['setpriv', '--reuid=' + METRICS_USER, '--regid=' + METRICS_USER,
                '--clear-groups', '--inh-caps=-all', '--bounding-set=-all', '--no-new-privs',
                'env', '-i'] + ['%s=%s' % kv for kv in self.bus_env().items()]
        proc = subprocess.run(argv + [self.ctl_path] + [str(a) for a in args],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              universal_newlines=True, timeout=60)
        return proc

    def textfile_dir(self):
        """A directory as Debian's node exporter has it: root's, 0755."""
        path = os.path.join(self.tmpdir, 'node-exporter')
        os.mkdir(path, 0o755)
        os.chmod(path, 0o755)
        return path

    def apply_shipped_acl(self, path):
        """The tmpfiles.d entry memadvise installs, for @path instead of the
        node exporter's directory."""
        with open(os.path.join(SOURCE_ROOT, 'data', 'memadvise-metrics.tmpfiles.in')) as f:
            lines = [line for line in f if line.strip() and not line.startswith('#')]
        self.assertEqual(len(lines), 1)
        conf = os.path.join(self.tmpdir, 'memadvise-metrics.conf')
        with open(conf, 'w') as f:
            f.write(lines[0].replace('@textfiledir@', path))
        r = subprocess.run(['systemd-tmpfiles', '--create', conf], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, universal_newlines=True)
        self.assertEqual(r.returncode, 0, r.stdout)
        self.assertEqual(r.stdout, '')

    def start_node_exporter(self, directory, user):
        """The real prometheus-node-exporter, as @user, on 127.0.0.1 with
        only the textfile collector; returns its /metrics URL."""
        for _ in range(5):
            port = free_port()
            proc = self.run_as(user, [NODE_EXPORTER, '--web.listen-address=127.0.0.1:%d' % port,
                                      '--collector.disable-defaults', '--collector.textfile',
                                      '--collector.textfile.directory=' + directory],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            self._defer(ma_harness._kill, proc)
            url = 'http://127.0.0.1:%d/metrics' % port
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline and proc.poll() is None:
                try:
                    urllib.request.urlopen(url, timeout=5).read()
                    return url
                except OSError:
                    time.sleep(0.1)
            ma_harness._kill(proc)  # the port was taken meanwhile: another one
        self.fail('prometheus-node-exporter did not serve on 127.0.0.1')

    # -- cases -------------------------------------------------------------------

    @needs_swap('1G')
    def test_promtool_accepts_the_metrics(self):
        self.start()
        t = self.target(size=32 * MiB)
        self.some_calls(t)
        self.ctl('reclaim', '-t', t.pid, '-m', 'pageout', '-p', 100, '--no-ask-password')
        r = self.prometheus()
        self.assertEqual(r.err, '')
        self.assertPromtoolAccepts(r.out)
        self.assertEqual(types(r.out), FAMILIES)
        samples = parse(r.out)
        self.assertMatchesStatistics(samples)
        self.assertGreater(samples[('memadvise_advised_bytes_total', (('mode', 'pageout'),))], 0)
        self.assertEqual(samples[('memadvise_refused_calls_total',
                                  (('reason', 'invalid-args'),))], 1)
        self.assertEqual(samples[('memadvise_target_failures_total',
                                  (('reason', 'no-such-process'),))], 1)
        # The daemon gone: memadvise_up 0 alone, still accepted.
        self.daemon.terminate()
        self.daemon.wait(10)
        r = self.prometheus(rc=3)
        self.assertPromtoolAccepts(r.out)
        self.assertEqual(parse(r.out), {('memadvise_up', ()): 0})

    def test_node_exporter_serves_the_file_the_service_user_writes(self):
        self.start()
        self.ensure_metrics_user()
        t = self.target()
        r = self.ctl('reclaim', '-t', t.pid, '-p', 50, '--no-ask-password')
        self.assertEqual(r.rc, 0, r)
        directory = self.textfile_dir()
        prom = os.path.join(directory, 'memadvise.prom')

        # Without the shipped ACL the user may not write there.
        r = self.ctl_as_metrics_user('status', '--prometheus', '--output', prom)
        self.assertEqual(r.returncode, 1, r)
        self.assertIn('Permission denied', r.stderr)
        self.assertOneSentence(r.stderr)
        self.assertEqual(os.listdir(directory), [])

        self.apply_shipped_acl(directory)
        r = self.ctl_as_metrics_user('status', '--prometheus', '--output', prom)
        self.assertEqual(r.returncode, 0, r)
        self.assertEqual((r.stdout, r.stderr), ('', ''))
        self.assertEqual(os.listdir(directory), ['memadvise.prom'])
        st = os.stat(prom)
        self.assertEqual(st.st_uid, pwd.getpwnam(METRICS_USER).pw_uid)
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o644)
        with open(prom) as f:
            written = parse(f.read())
        self.assertMatchesStatistics(written)
        self.assertGreater(written[('memadvise_advised_bytes_total', (('mode', 'cold'),))], 0)

        # Scraped over HTTP from the real node exporter, run as another user.
        url = self.start_node_exporter(directory, self.add_user())
        scraped = urllib.request.urlopen(url, timeout=10).read().decode()
        self.assertEqual(parse(scraped), written)
        textfile = parse(scraped, 'node_textfile_')
        self.assertEqual(textfile[('node_textfile_scrape_error', ())], 0)
        self.assertIn(('node_textfile_mtime_seconds', (('file', prom),)), textfile)

    def test_counters_only_grow_across_calls(self):
        self.start()
        t = self.target()
        previous = parse(self.prometheus().out)
        for _ in range(3):
            self.some_calls(t)
            samples = parse(self.prometheus().out)
            self.assertEqual(set(samples), set(previous))
            for key, value in samples.items():
                if key[0].endswith('_total'):
                    self.assertGreaterEqual(value, previous[key], key)
            for key in (('memadvise_calls_total', (('method', 'plan'),)),
                        ('memadvise_calls_total', (('method', 'reclaim'),)),
                        ('memadvise_refused_calls_total', (('reason', 'invalid-args'),)),
                        ('memadvise_target_failures_total', (('reason', 'no-such-process'),)),
                        ('memadvise_advised_bytes_total', (('mode', 'cold'),))):
                self.assertGreater(samples[key], previous[key], key)
            self.assertEqual(samples[('memadvise_start_time_seconds', ())],
                             previous[('memadvise_start_time_seconds', ())])
            previous = samples

    def test_up_0_when_the_daemon_is_stopped_and_the_file_is_replaced_whole(self):
        self.start()
        t = self.target()
        self.ctl('reclaim', '-t', t.pid, '--no-ask-password')
        directory = self.textfile_dir()
        prom = os.path.join(directory, 'memadvise.prom')
        self.prometheus('--output', prom)
        with open(prom) as f:
            up = f.read()
        self.assertEqual(parse(up)[('memadvise_up', ())], 1)

        # A reader all along: every read is a whole file, never a part.
        reads = []
        done = threading.Event()

        def reader():
            while not done.is_set():
                with open(prom) as f:
                    reads.append(f.read())

        thread = threading.Thread(target=reader)
        thread.start()
        try:
            for _ in range(10):
                self.prometheus('--output', prom)
            self.daemon.terminate()
            self.daemon.wait(10)
            inode = os.stat(prom).st_ino
            r = self.prometheus('--output', prom, rc=3)
            self.assertNotEqual(os.stat(prom).st_ino, inode)
            for _ in range(10):
                self.prometheus('--output', prom, rc=3)
        finally:
            done.set()
            thread.join()

        self.assertIn('memadvised is not running', r.err)
        self.assertOneSentence(r.err)
        self.assertEqual(r.out, '')
        with open(prom) as f:
            down = f.read()
        self.assertEqual(parse(down), {('memadvise_up', ()): 0})
        self.assertPromtoolAccepts(down)
        self.assertEqual(os.listdir(directory), ['memadvise.prom'])
        self.assertGreater(len(reads), 20)
        self.assertEqual(set(reads) - {up, down}, set())

    def test_prometheus_flags_are_usage_errors_elsewhere(self):
        for args in (['status', '--prometheus', '--json'], ['status', '--output', 'x'],
                     ['status', '--prometheus', '--output', ''],
                     ['reclaim', '--prometheus', '-t', '1']):
            with self.subTest(args=args):
                r = self.ctl(*args)
                self.assertEqual(r.rc, 2, r)
                self.assertOneSentence(r.err)
                self.assertEqual(r.out, '')


class MetricsActivationTest(CtlTestCase):
    """On a bus that can start memadvised, metrics do not start it."""

    activatable = True

    def test_up_0_without_starting_an_activatable_daemon(self):
        self.start_polkitd()
        marker = os.path.join(self.tmpdir, 'activated')
        config = os.path.join(self.tmpdir, 'activated.conf')
        open(config, 'w').close()
        script = os.path.join(self.tmpdir, 'memadvised-activated')
        with open(script, 'w') as f:
            f.write('#!/bin/sh\necho started >>%s\nexec env DBUS_SYSTEM_BUS_ADDRESS=%s %s '
                    '--config %s\n' % (marker, self.bus_address, self.daemon_path, config))
        os.chmod(script, 0o755)
        with open(os.path.join(self.service_dir, 'org.memadvise.MemAdvise1.service'), 'w') as f:
            f.write('[D-BUS Service]\nName=org.memadvise.MemAdvise1\nExec=%s\nUser=root\n'
                    % script)
        self.reload_bus()

        r = self.ctl('status', '--prometheus')
        self.assertEqual(r.rc, 3, r)
        self.assertIn('does not start it', r.err)
        self.assertEqual(parse(r.out), {('memadvise_up', ()): 0})
        self.assertFalse(os.path.exists(marker))

        # The bus does start it for any other call: status, say.
        r = self.ctl('status')
        self.assertEqual(r.rc, 0, r)
        self._defer(ma_harness._kill_pid, self.name_owner_pid(ma_harness.BUS_NAME))
        with open(marker) as f:
            self.assertEqual(f.read(), 'started\n')
        r = self.ctl('status', '--prometheus')
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(parse(r.out)[('memadvise_up', ())], 1)


if __name__ == '__main__':
    main()
