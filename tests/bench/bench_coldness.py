#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Benchmarks of page-granular coldness (issue 12) through the real
# memadvised, run as its shipped unit runs it (the user memadvise with
# CAP_SYS_NICE, CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH: ma_harness's
# daemon_as_service). Measures and reports; never asserts.
#
#   bench_coldness.py node     a real runtime: node holding a 512 MiB
#                              ArrayBuffer (one mapping) of half-random
#                              pages, every 8th page read once a second.
#                              Two Reclaims (pageout, 50 %, min-idle 8: the
#                              sample, trials at 4 and 6 s, the plan at
#                              the end), the second starting 10 s after the
#                              first returned; the original tool's
#                              selection on an identical process in the
#                              same run. Per round, of the target's major
#                              faults: those during the wait (the sampling's
#                              cost: from the call to its first Progress,
#                              which the daemon sends as the advice after
#                              the wait begins; beside it the daemon's own
#                              sampled-bytes) and, of what the call left
#                              paged out, the share faulted back within 5 s
#                              of its return (the refault figure).
#                              Needs swap (with-swap 4G).
#   bench_coldness.py tracking 500 processes of 1 GiB address space each
#                              (every 64th page written, the rest never
#                              touched), each paged out twice while a thread
#                              touches its pages, so that the daemon keeps
#                              refault knowledge of all 500: the daemon's
#                              VmRSS and the state it reports, its CPU time
#                              (its process CPU clock, to the nanosecond)
#                              per tracked process over an idle minute and
#                              per Reclaim. Needs swap (with-swap 16G).
#
# Environment as for bench_daemon.py (MA_DAEMON, MA_TEST_TARGET,
# MA_SOURCE_ROOT). Prints RESULT lines for tests/bench/run.
import ctypes
import os
import subprocess
import sys
import time

import ma_harness
from bench_daemon import IoVec, MADV_PAGEOUT, SYS_pidfd_open, SYS_process_madvise, libc
from bench_daemon import log, report, status_kib
from gi.repository import Gio, GLib
from ma_harness import MaTestCase

MIB = 1024 * 1024
PAGE = 4096

NODE_PROGRAM = r'''
const size = 512 * 1024 * 1024, page = 4096;
const buf = new ArrayBuffer(size);
const u8 = new Uint8Array(buf);
const crypto = require('crypto');
// Half-random pages: random first half, constant second half.
for (let p = 0; p < size; p += page) {
  crypto.randomFillSync(u8, p, page / 2);
  u8.fill(0x5a, p + page / 2, p + page);
}
let sink = 0;
setInterval(() => {
  for (let p = 0; p < size; p += 8 * page) sink += u8[p];
}, 1000);
process.stdout.write('ready\n');
'''


def stat_majflt(pid):
    with open('/proc/%d/stat' % pid) as f:
        text = f.read()
    return int(text[text.rindex(')') + 2:].split()[9])


def cpu_seconds(pid):
    """CPU time of process @pid, all its threads (also those gone), to the
    nanosecond: its process CPU clock, as clock_getcpuclockid(3) makes it.
    /proc/PID/stat counts clock ticks (10 ms), too coarse for an idle
    daemon."""
    return time.clock_gettime((~pid << 3) | 2)  # MAKE_PROCESS_CPUCLOCK(pid, CPUCLOCK_SCHED)


def swap_pages(pid):
    return status_kib(pid, 'VmSwap') * 1024 // PAGE


def original_select(pid, percent):
    """The original memadvise tool's selection: eligible regions of maps,
    largest first, each whole until PERCENT of RSS is passed."""
    regions = []
    with open('/proc/%d/maps' % pid) as f:
        for line in f:
            fields = line.split()
            start, end = (int(x, 16) for x in fields[0].split('-'))
            perms, inode = fields[1], int(fields[4])
            name = fields[5] if len(fields) > 5 else ''
            if perms[0] != 'r' or perms[1] != 'w' or perms[2] == 'x' or perms[3] != 'p':
                continue
            if inode != 0 or (name and name != '[heap]'):
                continue
            regions.append((start, end - start))
    regions.sort(key=lambda r: -r[1])
    budget = status_kib(pid, 'VmRSS') * 1024 * percent // 100
    chosen, total = [], 0
    for r in regions:
        if total >= budget:
            break
        chosen.append(r)
        total += r[1]
    return chosen


def original_pageout(pid, regions):
    pidfd = libc.syscall(SYS_pidfd_open, pid, 0)
    iov = (IoVec * len(regions))(*[IoVec(s, n) for s, n in regions])
    done = libc.syscall(SYS_process_madvise, pidfd, iov, len(regions), MADV_PAGEOUT, 0)
    os.close(pidfd)
    if done < 0:
        raise OSError(ctypes.get_errno(), 'process_madvise')
    return done


class Bench(MaTestCase):
    daemon_as_service = True

    def runTest(self):
        pass

    def reclaim_watching(self, pid, options):
        """Reclaim of @pid as root, on the harness's connection. Returns the
        result and the target's (major faults, swapped pages) when the first
        Progress came: the advice after the min-idle wait begins."""
        ctx = GLib.MainContext.default()
        state = {}

        def on_progress(*_args):
            state.setdefault('at_advice', (stat_majflt(pid), swap_pages(pid)))

        def on_reply(conn, res):
            try:
                state['reply'] = conn.call_finish(res).unpack()[0]
            except GLib.Error as e:
                state['error'] = e

        sub = self.bus.signal_subscribe(None, ma_harness.INTERFACE, 'Progress',
                                        ma_harness.OBJECT_PATH, None, Gio.DBusSignalFlags.NONE,
                                        on_progress)
        opts = {k: GLib.Variant(t, v) for k, (t, v) in options.items()}
        self.bus.call(ma_harness.BUS_NAME, ma_harness.OBJECT_PATH, ma_harness.INTERFACE,
                      'Reclaim', GLib.Variant('(ausa{sv})', ([pid], 'pageout', opts)), None, 0,
                      120000, None, on_reply)
        while 'reply' not in state and 'error' not in state:
            ctx.iteration(True)
        while ctx.iteration(False):
            pass
        self.bus.signal_unsubscribe(sub)
        if 'error' in state:
            raise RuntimeError('Reclaim: %s' % state['error'].message)
        return state['reply'][0], state.get('at_advice')

    def refault_round(self, pid, pageout):
        """Runs @pageout(), which returns (result, (major faults, swapped
        pages) when its advice after the wait began, or None without a
        wait). Returns, in pages: faulted back during the wait; left paged
        out by the call (swapped right after plus faulted back during its
        advice); of those, faulted back within 5 s (the faults during the
        advice plus the drop of swapped pages); and the result."""
        swap0, maj0 = swap_pages(pid), stat_majflt(pid)
        result, at_advice = pageout()
        swap1, maj1 = swap_pages(pid), stat_majflt(pid)
        time.sleep(5)
        swap2 = swap_pages(pid)
        maj_w = at_advice[0] if at_advice else maj0
        during = maj1 - maj_w
        paged_out = max(swap1 - swap0, 0) + during
        back = during + max(swap1 - swap2, 0)
        return maj_w - maj0, paged_out, back, result

    # -- node ---------------------------------------------------------------

    def start_nodes(self, count):
        if not os.path.exists('/usr/bin/node'):
            raise RuntimeError('benchmark 3 needs node in /usr/bin (apt-get install nodejs)')
        user = self.add_user()
        script = os.path.join(self.tmpdir, 'hold.js')
        with open(script, 'w') as f:
            f.write(NODE_PROGRAM)
        os.chmod(script, 0o644)
        procs = []
        for _ in range(count):
            p = self.run_as(user, ['/usr/bin/node', script], stdout=subprocess.PIPE,
                            universal_newlines=True)
            self._defer(ma_harness._kill, p)
            procs.append(p)
        for p in procs:
            if p.stdout.readline().strip() != 'ready':
                raise RuntimeError('node did not start')
        return [int(subprocess.check_output(['pgrep', '-P', str(p.pid), 'node']).split()[0])
                for p in procs]

    def node(self):
        self.start_polkitd()
        self.start_daemon(config={'Daemon': {'MaxMinIdle': '60'}})
        mine, orig = self.start_nodes(2)
        time.sleep(3)
        options = {'percent': ('u', 50), 'min-idle': ('u', 8)}
        rows = {}
        for rnd in (1, 2):
            wait, paged, back, t = self.refault_round(
                mine, lambda: self.reclaim_watching(mine, options))
            regions = original_select(orig, 50)
            _, opaged, oback, advised = self.refault_round(
                orig, lambda: (original_pageout(orig, regions), None))
            pages = t['eligible-bytes'] // PAGE
            budget = (pages // 100 * 50 + ((pages % 100) * 50 + 99) // 100) * PAGE
            log('round %d: memadvise eligible %.1f MiB, planned %.1f MiB (50%% exactly: %s, '
                'advised %.1f MiB), %s; during the 8 s wait %.1f MiB faulted back (daemon: '
                'sampled-bytes %.1f MiB); paged out %.1f MiB, back within 5 s %.1f MiB (%.2f %%); '
                'refaulted-bytes %.1f MiB of paged-out-bytes %.1f MiB, held-bytes %.1f MiB; '
                'original %d regions, advised %.1f MiB, paged out %.1f MiB, back %.1f MiB '
                '(%.2f %%)'
                % (rnd, t['eligible-bytes'] / MIB, t['planned-bytes'] / MIB,
                   t['planned-bytes'] == budget, t['advised-bytes'] / MIB, t['coldness-source'],
                   wait * PAGE / MIB, t['sampled-bytes'] / MIB, paged * PAGE / MIB,
                   back * PAGE / MIB, 100 * back / max(paged, 1), t['refaulted-bytes'] / MIB,
                   t['paged-out-bytes'] / MIB, t['held-bytes'] / MIB, len(regions),
                   advised / MIB, opaged * PAGE / MIB, oback * PAGE / MIB,
                   100 * oback / max(opaged, 1)))
            rows[rnd] = (100 * back / max(paged, 1), 100 * oback / max(opaged, 1),
                         t['planned-bytes'] / max(t['eligible-bytes'], 1),
                         wait * PAGE / MIB, paged * PAGE / MIB, t['sampled-bytes'] / MIB)
            # The next round starts 10 s after this one returned: its 5 s of
            # refaults, the original's round and its 5 s.
        for rnd in (1, 2):
            pct, opct, share, wait_mib, paged_mib, sampled_mib = rows[rnd]
            report('node 512 MiB ArrayBuffer: refault %% round %d (of paged out, 5 s after)' % rnd,
                   pct, "original tool's selection, same round", opct, '%')
            report('node 512 MiB ArrayBuffer: faulted back during the wait, round %d' % rnd,
                   wait_mib, 'paged out by the call', paged_mib, 'MiB')
            report('node 512 MiB ArrayBuffer: sampled-bytes (daemon), round %d' % rnd,
                   sampled_mib, 'faulted back during the wait (major faults)', wait_mib, 'MiB')
            report('node 512 MiB ArrayBuffer: planned / eligible round %d' % rnd, share,
                   'asked for', 0.5, 'x')
        stats = self.statistics()
        log('statistics: refaulted-bytes %d, sampled-bytes %d, tracked %d processes, %d bytes'
            % (stats['refaulted-bytes'], stats['sampled-bytes'], stats['tracked-processes'],
               stats['tracked-state-bytes']))

    # -- tracking -----------------------------------------------------------

    def tracking(self, count=int(os.environ.get('MA_BENCH_TRACKED', '500')), batch=50):
        self.start_polkitd()
        self.start_daemon(config={'Daemon': {'MaxCallsPerMinutePerUser': '0'}})
        pid = self.daemon.pid
        time.sleep(0.5)
        rss_idle = status_kib(pid, 'VmRSS')
        # The peer of the idle minute below: one with nothing tracked.
        idle0 = cpu_seconds(pid)
        time.sleep(60)
        idle_nothing = cpu_seconds(pid) - idle0
        targets = []
        cpu0 = cpu_seconds(pid)
        calls = 0
        for first in range(0, count, batch):
            group = [self.spawn_target() for _ in range(min(batch, count - first))]
            for t in group:
                t.command('sparse s 1073741824 64')
                t.command('hot s 64 200')
            pids = [t.pid for t in group]
            for _ in range(2):
                results = self.call_root('Reclaim', pids, 'pageout', {'percent': ('u', 100)},
                                         timeout=600)
                calls += len(results)
                bad = [r for r in results if r['status'] == 'failed']
                if bad:
                    raise RuntimeError('Reclaim failed: %s' % bad[0])
                time.sleep(0.5)
            for t in group:
                t.command('cool s')
            targets += group
        cpu1 = cpu_seconds(pid)
        stats = self.statistics()
        time.sleep(1)
        rss_tracking = status_kib(pid, 'VmRSS')
        idle0 = cpu_seconds(pid)
        time.sleep(60)
        idle = cpu_seconds(pid) - idle0
        log('tracking %d processes: daemon VmRSS %d KiB idle before, %d KiB tracking; state %d '
            'bytes (%.1f KiB a process); daemon CPU %.2f s for %d Reclaim targets, %.6f s over an '
            'idle minute (%.6f s with nothing tracked)'
            % (stats['tracked-processes'], rss_idle, rss_tracking, stats['tracked-state-bytes'],
               stats['tracked-state-bytes'] / 1024 / max(stats['tracked-processes'], 1),
               cpu1 - cpu0, calls, idle, idle_nothing))
        report('daemon VmRSS tracking %d processes of 1 GiB' % stats['tracked-processes'],
               rss_tracking / 1024, 'daemon VmRSS idle, nothing tracked', rss_idle / 1024, 'MiB')
        report('daemon VmRSS tracking %d processes of 1 GiB' % stats['tracked-processes'],
               rss_tracking / 1024, 'the bound of issue 12', 16, 'MiB')
        report('refault state kept, per tracked process',
               stats['tracked-state-bytes'] / 1024 / max(stats['tracked-processes'], 1),
               'its cap (MA_REFAULTS_MAX_SIZE)', 16, 'KiB')
        report('daemon CPU over an idle minute, tracking %d processes'
               % stats['tracked-processes'], idle * 1e6,
               'the same, nothing tracked', idle_nothing * 1e6, 'us')
        report('daemon CPU per tracked process per idle minute',
               idle * 1e6 / max(stats['tracked-processes'], 1),
               'the minute (ratio: share of a CPU)', 60e6, 'us')
        report('daemon CPU per Reclaim target (plan, pageout, record)',
               (cpu1 - cpu0) * 1000 / max(calls, 1), 'one clock tick',
               1000 / os.sysconf('SC_CLK_TCK'), 'ms')
        for t in targets:
            t.kill()
        deadline = time.monotonic() + 30
        while self.statistics()['tracked-processes'] and time.monotonic() < deadline:
            time.sleep(0.2)
        log('after the processes exited: tracked %d processes, %d bytes'
            % (self.statistics()['tracked-processes'], self.statistics()['tracked-state-bytes']))


def main():
    if len(sys.argv) != 2 or sys.argv[1] not in ('node', 'tracking'):
        print('usage: bench_coldness.py node|tracking', file=sys.stderr)
        return 2
    bench = Bench()
    bench.setUp()
    try:
        getattr(bench, sys.argv[1])()
    finally:
        bench.tearDown()
    return 0


if __name__ == '__main__':
    sys.exit(main())
