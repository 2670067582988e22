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
#                              Two pageouts at 50 %, 10 s apart, with
#                              memadvisectl (round 1 with --min-idle 8,
#                              round 2 with the refault feedback of round
#                              1); the original tool's selection on an
#                              identical process in the same run. Refault:
#                              of what a round paged out, the share faulted
#                              back within 5 s. Needs swap (with-swap 4G).
#   bench_coldness.py tracking 500 processes of 1 GiB address space each
#                              (every 64th page written, the rest never
#                              touched), each paged out twice while a thread
#                              touches its pages, so that the daemon keeps
#                              refault knowledge of all 500: the daemon's
#                              VmRSS and the state it reports, its CPU time
#                              per tracked process over an idle minute and
#                              per Reclaim. Needs swap (with-swap 16G).
#
# Environment as for bench_daemon.py (MA_DAEMON, MA_TEST_TARGET,
# MA_SOURCE_ROOT, MA_MEMADVISECTL). Prints RESULT lines for tests/bench/run.
import ctypes
import json
import os
import subprocess
import sys
import time

import ma_harness
from bench_daemon import IoVec, MADV_PAGEOUT, SYS_pidfd_open, SYS_process_madvise, libc
from bench_daemon import log, report, status_kib
from ma_harness import MaTestCase, build_file

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


def cpu_ticks(pid):
    with open('/proc/%d/stat' % pid) as f:
        text = f.read()
    fields = text[text.rindex(')') + 2:].split()
    return int(fields[11]) + int(fields[12])


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

    def setUp(self):
        super().setUp()
        self.ctl_path = build_file('MA_MEMADVISECTL', 'client/memadvisectl')

    def ctl(self, args):
        proc = self.run_as(None, [self.ctl_path] + args + ['--json', '--no-progress'],
                           stdout=subprocess.PIPE, universal_newlines=True)
        out, _ = proc.communicate(timeout=300)
        if proc.returncode != 0:
            raise RuntimeError('memadvisectl %s: exit %d: %s' % (args, proc.returncode, out))
        return json.loads(out)

    def refault_round(self, pid, pageout):
        """Runs @pageout(); returns (paged-out pages, faulted back within 5 s),
        counted as bench-refault counts them: swapped right after plus major
        faults during; major faults during plus the drop of swapped pages."""
        swap0, maj0 = swap_pages(pid), stat_majflt(pid)
        result = pageout()
        swap1, maj1 = swap_pages(pid), stat_majflt(pid)
        time.sleep(5)
        swap2 = swap_pages(pid)
        during = maj1 - maj0
        paged_out = max(swap1 - swap0, 0) + during
        back = during + max(swap1 - swap2, 0)
        return paged_out, back, result

    # -- node ---------------------------------------------------------------

    def node(self):
        if not os.path.exists('/usr/bin/node'):
            raise RuntimeError('benchmark 3 needs node in /usr/bin (apt-get install nodejs)')
        self.start_polkitd()
        self.start_daemon(config={'Daemon': {'MaxMinIdle': '60'}})
        user = self.add_user()
        script = os.path.join(self.tmpdir, 'hold.js')
        with open(script, 'w') as f:
            f.write(NODE_PROGRAM)
        os.chmod(script, 0o644)
        procs = []
        for _ in range(2):
            p = self.run_as(user, ['/usr/bin/node', script], stdout=subprocess.PIPE,
                            universal_newlines=True)
            self._defer(ma_harness._kill, p)
            procs.append(p)
        for p in procs:
            if p.stdout.readline().strip() != 'ready':
                raise RuntimeError('node did not start')
        pids = [int(subprocess.check_output(['pgrep', '-P', str(p.pid), 'node']).split()[0])
                for p in procs]
        time.sleep(3)
        mine, orig = pids
        rows = {}
        for rnd, options in ((1, ['--min-idle', '8']), (2, [])):
            def memadvise():
                return self.ctl(['reclaim', '-t', str(mine), '-m', 'pageout', '-p', '50'] +
                                options)
            paged, back, data = self.refault_round(mine, memadvise)
            t = data['targets'][0]
            regions = original_select(orig, 50)
            opaged, oback, advised = self.refault_round(
                orig, lambda: original_pageout(orig, regions))
            pages = t['eligible_bytes'] // PAGE
            budget = (pages // 100 * 50 + ((pages % 100) * 50 + 99) // 100) * PAGE
            log('round %d: memadvise eligible %.1f MiB, planned %.1f MiB (50%% exactly: %s), '
                'paged out %.1f MiB, back within 5 s %.1f MiB (%.2f %%); original %d regions, '
                'advised %.1f MiB, paged out %.1f MiB, back %.1f MiB (%.2f %%)'
                % (rnd, t['eligible_bytes'] / MIB, t['planned_bytes'] / MIB,
                   t['planned_bytes'] == budget, paged * PAGE / MIB, back * PAGE / MIB,
                   100 * back / max(paged, 1), len(regions), advised / MIB, opaged * PAGE / MIB,
                   oback * PAGE / MIB, 100 * oback / max(opaged, 1)))
            rows[rnd] = (100 * back / max(paged, 1), 100 * oback / max(opaged, 1),
                         t['planned_bytes'] / max(t['eligible_bytes'], 1), budget, t)
            if rnd == 1:
                time.sleep(5)  # rounds 10 s apart: 5 s of the refault window + 5 s
        for rnd in (1, 2):
            pct, opct, share, _, _ = rows[rnd]
            report('node 512 MiB ArrayBuffer: refault %% round %d (of paged out, 5 s)' % rnd,
                   pct, "original tool's selection, same round", opct, '%')
            report('node 512 MiB ArrayBuffer: planned / eligible round %d' % rnd, share,
                   'asked for', 0.5, 'x')
        # Coldness figures the daemon reported for round 2 (what the follow-up
        # client prints): from the daemon's statistics.
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
        targets = []
        cpu0 = cpu_ticks(pid)
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
        cpu1 = cpu_ticks(pid)
        stats = self.statistics()
        time.sleep(1)
        rss_tracking = status_kib(pid, 'VmRSS')
        hz = os.sysconf('SC_CLK_TCK')
        time.sleep(60)
        cpu2 = cpu_ticks(pid)
        log('tracking %d processes: daemon VmRSS %d KiB idle before, %d KiB tracking; state %d '
            'bytes (%.1f KiB a process); daemon CPU %.2f s for %d Reclaim targets, %.3f s over an '
            'idle minute' % (stats['tracked-processes'], rss_idle, rss_tracking,
                             stats['tracked-state-bytes'],
                             stats['tracked-state-bytes'] / 1024
                             / max(stats['tracked-processes'], 1),
                             (cpu1 - cpu0) / hz, calls, (cpu2 - cpu1) / hz))
        report('daemon VmRSS tracking %d processes of 1 GiB' % stats['tracked-processes'],
               rss_tracking / 1024, 'daemon VmRSS idle, nothing tracked', rss_idle / 1024, 'MiB')
        report('daemon VmRSS tracking %d processes of 1 GiB' % stats['tracked-processes'],
               rss_tracking / 1024, 'the bound of issue 12', 16, 'MiB')
        report('refault state kept, per tracked process',
               stats['tracked-state-bytes'] / 1024 / max(stats['tracked-processes'], 1),
               'its cap (MA_REFAULTS_MAX_SIZE)', 16, 'KiB')
        report('daemon CPU per tracked process per idle minute',
               (cpu2 - cpu1) / hz * 1000 / max(stats['tracked-processes'], 1),
               'one clock tick per process', 1000 / hz, 'ms')
        report('daemon CPU per Reclaim target (plan, pageout, record)',
               (cpu1 - cpu0) / hz * 1000 / max(calls, 1), 'one clock tick', 1000 / hz, 'ms')
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
