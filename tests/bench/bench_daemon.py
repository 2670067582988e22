#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Benchmarks of the real memadvised on a private system bus (ma_harness),
# issue 6. Measures and reports; never asserts on time.
#
#   bench_daemon.py e2e-pageout   memadvisectl pageout of 512 MiB (client ->
#                                 bus -> daemon -> kernel) against ONE bare
#                                 process_madvise(MADV_PAGEOUT) over an
#                                 identical 512 MiB process (and against two
#                                 concurrent bare calls over its halves);
#                                 memadvisectl --dry-run of a process of
#                                 40,000 mappings against `cat
#                                 /proc/PID/smaps` (and `cat maps`).
#                                 Needs swap: tests/with-swap --size 4G.
#   bench_daemon.py dbus          Plan round trip (own small process, as a
#                                 test user), p50/p99 over 1,000 calls per
#                                 client with 1 and 8 concurrent clients,
#                                 each on its own connection, against
#                                 org.freedesktop.DBus.Peer.Ping to the
#                                 daemon; Properties.Get latency while a
#                                 2 GiB pageout runs against idle.
#                                 Needs swap: tests/with-swap --size 4G.
#   bench_daemon.py memory        the daemon's VmRSS and open fds idle, after
#                                 10,000 Plan calls and after 10,000 more.
#
# Environment: MA_DAEMON, MA_MEMADVISECTL, MA_TEST_TARGET, MA_SOURCE_ROOT and
# PYTHONPATH, as for the integration tests; MA_BENCH_RUNS, the rounds of the
# pageout comparison (default 5; the median of each is reported). Prints
# RESULT lines for tests/bench/run (see bench-common.h) and details on stderr.
import ctypes
import json
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time

from gi.repository import GLib

from ma_harness import MaTestCase, BUS_NAME, OBJECT_PATH, INTERFACE, build_file

HERE = os.path.dirname(os.path.abspath(__file__))

MIB = 1024 * 1024
SYS_pidfd_open = 434
SYS_process_madvise = 440
MADV_PAGEOUT = 21
DAEMON_CONFIG = {'Daemon': {'MaxJobs': '16', 'MaxCallsPerMinutePerUser': '0'}}

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long


class IoVec(ctypes.Structure):
    _fields_ = [('base', ctypes.c_void_p), ('len', ctypes.c_size_t)]


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def report(figure, value, limit, limit_value, unit='ms'):
    ratio = value / limit_value if limit_value else 0.0
    print('RESULT\t%s\t%.3f\t%s\t%.3f\t%.3f\t%s' % (figure, value, limit, limit_value, ratio, unit),
          flush=True)


def percentile(samples, p):
    s = sorted(samples)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


def bare_pageout_ms(pid, ranges):
    """One process_madvise(MADV_PAGEOUT) per entry of @ranges (a list of
    lists of (start, length)), the entries concurrently, each in a thread of
    its own; returns the wall time of the whole."""
    pidfd = libc.syscall(SYS_pidfd_open, pid, 0)
    if pidfd < 0:
        raise OSError(ctypes.get_errno(), 'pidfd_open')
    results = [None] * len(ranges)
    barrier = threading.Barrier(len(ranges) + 1)

    def work(i):
        iov = (IoVec * len(ranges[i]))(*[IoVec(s, n) for s, n in ranges[i]])
        barrier.wait()
        results[i] = libc.syscall(SYS_process_madvise, pidfd, iov, len(ranges[i]),
                                  MADV_PAGEOUT, 0)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(ranges))]
    for t in threads:
        t.start()
    barrier.wait()
    start = time.perf_counter()
    for t in threads:
        t.join()
    elapsed = (time.perf_counter() - start) * 1000
    os.close(pidfd)
    for i, r in enumerate(results):
        want = sum(n for _, n in ranges[i])
        if r != want:
            raise RuntimeError('process_madvise advised %s of %d bytes' % (r, want))
    return elapsed


def status_kib(pid, key):
    with open('/proc/%d/status' % pid) as f:
        for line in f:
            if line.startswith(key + ':'):
                return int(line.split()[1])
    raise KeyError(key)


class Bench(MaTestCase):
    def runTest(self):
        pass

    def setUp(self):
        super().setUp()
        self.ctl = build_file('MA_MEMADVISECTL', 'client/memadvisectl')

    def ctl_ms(self, args, user=None):
        """memadvisectl ARGS --json as @user; (wall ms, parsed JSON)."""
        start = time.perf_counter()
        proc = self.run_as(user, [self.ctl] + args + ['--json'], stdout=subprocess.PIPE,
                           universal_newlines=True)
        out, _ = proc.communicate(timeout=300)
        elapsed = (time.perf_counter() - start) * 1000
        if proc.returncode != 0:
            raise RuntimeError('memadvisectl %s: exit %d: %s' % (args, proc.returncode, out))
        return elapsed, json.loads(out)

    def cat_ms(self, path):
        start = time.perf_counter()
        subprocess.run(['cat', path], stdout=subprocess.DEVNULL, check=True)
        return (time.perf_counter() - start) * 1000

    # -- e2e-pageout ---------------------------------------------------------

    def e2e_pageout(self):
        runs = int(os.environ.get('MA_BENCH_RUNS', '5'))
        self.start_polkitd()
        self.start_daemon(config=DAEMON_CONFIG)
        size = 512 * MIB
        e2e, bare1, bare2 = [], [], []
        for r in range(runs):
            # Fresh identical targets each run: one for memadvisectl, one
            # for one bare call, one for two concurrent bare calls.
            targets = [self.spawn_target() for _ in range(3)]
            spans = []
            for t in targets:
                _, start, length = t.map('region', 'anon', size).split()
                spans.append((int(start, 16), int(length)))
            sums = {t.checksum('region') for t in targets}
            assert len(sums) == 1, sums
            order = [0, 1, 2] if r % 2 == 0 else [2, 1, 0]
            for which in order:
                t, (start, length) = targets[which], spans[which]
                if which == 0:
                    ms, data = self.ctl_ms(['--target', str(t.pid), '--mode', 'pageout',
                                            '--percent', '100', '--no-progress'])
                    advised = data['totals']['advised_bytes']
                    e2e.append(ms)
                elif which == 1:
                    bare1.append(bare_pageout_ms(t.pid, [[(start, length)]]))
                else:
                    half = length // 2
                    bare2.append(bare_pageout_ms(t.pid, [[(start, half)],
                                                         [(start + half, length - half)]]))
            swapped = [t.residency('region')[2] for t in targets]
            log('run %d: memadvisectl %.1f ms (advised %d MiB), one bare call %.1f ms, '
                'two concurrent bare calls %.1f ms; swapped pages %s'
                % (r, e2e[-1], advised // MIB, bare1[-1], bare2[-1], swapped))
            for t in targets:
                t.kill()
        # The machine's speed drifts between runs (one bare call took 360 to
        # 640 ms here); the three of one run are measured back to back.
        paired1 = [a / b for a, b in zip(e2e, bare1)]
        paired2 = [a / b for a, b in zip(e2e, bare2)]
        log('per-run ratios: memadvisectl / one bare call %s (median %.3f); '
            'memadvisectl / two concurrent bare calls %s (median %.3f); '
            'two concurrent / one bare call: median %.3f'
            % (['%.2f' % x for x in paired1], statistics.median(paired1),
               ['%.2f' % x for x in paired2], statistics.median(paired2),
               statistics.median([a / b for a, b in zip(bare2, bare1)])))
        e2e_ms = statistics.median(e2e)
        report('pageout 512 MiB end to end (memadvisectl)', e2e_ms,
               'one process_madvise(MADV_PAGEOUT), 1 iovec', statistics.median(bare1))
        report('pageout 512 MiB end to end (memadvisectl)', e2e_ms,
               'two concurrent process_madvise, 256 MiB each', statistics.median(bare2))

        t = self.spawn_target()
        t.command('many v 40000 4096')
        plan, smaps, maps = [], [], []
        for r in range(9):
            ms, data = self.ctl_ms(['--target', str(t.pid), '--percent', '100', '--dry-run'])
            plan.append(ms)
            smaps.append(self.cat_ms('/proc/%d/smaps' % t.pid))
            maps.append(self.cat_ms('/proc/%d/maps' % t.pid))
        log('plan 40,000 mappings: memadvisectl --dry-run %s ms (planned %d MiB); '
            'cat smaps %s ms; cat maps %s ms'
            % (['%.1f' % x for x in plan], data['totals']['planned_bytes'] // MIB,
               ['%.1f' % x for x in smaps], ['%.1f' % x for x in maps]))
        report('plan 40,000 maps end to end (memadvisectl -d)', statistics.median(plan),
               'cat /proc/PID/smaps', statistics.median(smaps))
        report('plan 40,000 maps end to end (memadvisectl -d)', statistics.median(plan),
               'cat /proc/PID/maps', statistics.median(maps))
        t.kill()

    # -- dbus ----------------------------------------------------------------

    def clients(self, user, call, n, count, pid=0):
        """@n concurrent dbus_client.py processes; all latencies in ms."""
        procs = [self.run_as(user, ['/usr/bin/python3', self.client_script, call, str(count),
                                    str(pid)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             universal_newlines=True) for _ in range(n)]
        for p in procs:
            assert p.stdout.readline().strip() == 'ready'
        for p in procs:
            p.stdin.write('go\n')
            p.stdin.flush()
        latency, errors = [], 0
        for p in procs:
            out, _ = p.communicate(timeout=600)
            data = json.loads(out)
            latency += [x / 1000 for x in data['latency_us']]
            errors += data['errors']
        if errors:
            raise RuntimeError('%d of %d %s calls failed' % (errors, n * count, call))
        return latency

    def install_client(self):
        self.client_script = os.path.join(self.tmpdir, 'dbus_client.py')
        shutil.copy(os.path.join(HERE, 'dbus_client.py'), self.client_script)
        os.chmod(self.client_script, 0o755)

    def get_latencies_ms(self, until=None, count=None):
        out = []
        while (until is not None and until.poll() is None) or (count is not None and
                                                               len(out) < count):
            start = time.perf_counter()
            self.bus.call_sync(BUS_NAME, OBJECT_PATH, 'org.freedesktop.DBus.Properties', 'Get',
                               GLib.Variant('(ss)', (INTERFACE, 'Version')), None, 0, 30000, None)
            out.append((time.perf_counter() - start) * 1000)
        return out

    def dbus(self, count=1000):
        self.install_client()
        self.start_polkitd()
        self.start_daemon(config=DAEMON_CONFIG)
        user = self.add_user()
        t = self.spawn_target(user)
        t.map('small', 'anon', 4 * MIB)
        self.clients(user, 'plan', 1, 50, t.pid)  # warm up
        for n in (1, 8):
            plan = self.clients(user, 'plan', n, count, t.pid)
            ping = self.clients(user, 'ping', n, count)
            log('%d client(s), %d calls each: Plan p50 %.3f p99 %.3f max %.3f ms; '
                'Ping p50 %.3f p99 %.3f max %.3f ms'
                % (n, count, percentile(plan, 50), percentile(plan, 99), max(plan),
                   percentile(ping, 50), percentile(ping, 99), max(ping)))
            for p in (50, 99):
                report('Plan round trip p%d, %d client%s' % (p, n, 's' if n > 1 else ''),
                       percentile(plan, p), 'Peer.Ping to the daemon p%d' % p,
                       percentile(ping, p))

        big = self.spawn_target()
        big.map('big', 'anon', 2048 * MIB)
        idle = self.get_latencies_ms(count=2000)
        proc = self.run_as(None, [self.ctl, '--target', str(big.pid), '--mode', 'pageout',
                                  '--percent', '100', '--no-progress', '--json'],
                           stdout=subprocess.PIPE, universal_newlines=True)
        start = time.perf_counter()
        busy = self.get_latencies_ms(until=proc)
        elapsed = (time.perf_counter() - start) * 1000
        out, _ = proc.communicate()
        data = json.loads(out)
        log('Properties.Get during a 2 GiB pageout (%.0f ms, advised %d MiB, %d calls): '
            'p50 %.3f p99 %.3f max %.3f ms; idle (%d calls): p50 %.3f p99 %.3f max %.3f ms'
            % (elapsed, data['totals']['advised_bytes'] // MIB, len(busy),
               percentile(busy, 50), percentile(busy, 99), max(busy), len(idle),
               percentile(idle, 50), percentile(idle, 99), max(idle)))
        for name, func in (('p50', lambda s: percentile(s, 50)),
                           ('p99', lambda s: percentile(s, 99)), ('max', max)):
            report('Properties.Get %s during 2 GiB pageout' % name, func(busy),
                   'Properties.Get %s idle' % name, func(idle))
        big.kill()

    # -- memory --------------------------------------------------------------

    def memory(self, count=10000):
        self.install_client()
        self.start_polkitd()
        self.start_daemon(config=DAEMON_CONFIG)
        user = self.add_user()
        t = self.spawn_target(user)
        t.map('small', 'anon', 4 * MIB)
        pid = self.daemon.pid

        def sample():
            return status_kib(pid, 'VmRSS'), len(os.listdir('/proc/%d/fd' % pid))

        self.clients(user, 'plan', 1, 10, t.pid)  # warm up: first-call allocations
        time.sleep(0.5)
        points = [sample()]
        for _ in range(2):
            self.clients(user, 'plan', 1, count, t.pid)
            time.sleep(0.5)
            points.append(sample())
        log('daemon VmRSS (KiB), open fds: idle %s, after %d Plan calls %s, after %d %s'
            % (points[0], count, points[1], 2 * count, points[2]))
        report('daemon VmRSS after %d Plan calls' % count, points[1][0] / 1024,
               'daemon VmRSS idle', points[0][0] / 1024, 'MiB')
        report('daemon VmRSS after %d Plan calls' % (2 * count), points[2][0] / 1024,
               'daemon VmRSS after %d' % count, points[1][0] / 1024, 'MiB')
        report('daemon open fds after %d Plan calls' % count, points[1][1],
               'daemon open fds idle', points[0][1], 'fds')
        report('daemon open fds after %d Plan calls' % (2 * count), points[2][1],
               'daemon open fds after %d' % count, points[1][1], 'fds')


def main():
    if len(sys.argv) != 2 or sys.argv[1] not in ('e2e-pageout', 'dbus', 'memory'):
        print('usage: bench_daemon.py e2e-pageout|dbus|memory', file=sys.stderr)
        return 2
    bench = Bench()
    bench.setUp()
    try:
        getattr(bench, sys.argv[1].replace('-', '_'))()
    finally:
        bench.tearDown()
    return 0


if __name__ == '__main__':
    sys.exit(main())
