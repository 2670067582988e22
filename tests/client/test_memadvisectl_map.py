#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""memadvisectl --map against the real memadvised running as the shipped
unit does: the drawing of a ma-test-target whose layout is known, its JSON,
colours on a terminal only, and what a pageout leaves in swap and what
comes back; one meson test per test method."""
import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import termios
import time

from ma_harness import needs_swap
from test_memadvisectl import TARGET_KEYS, TOP_KEYS, CtlTestCase, MiB, Result, main

SGR = re.compile(r'\x1b\[[0-9;]*m')
MAP_LINE = re.compile(r'^( *)0x([0-9a-f]+)  +(\d+(?:\.\d)? (?:B|KiB|MiB|GiB|TiB))  \[(.*)\]$')
CELLS = 256


def drawn(out):
    """{start address: (line without colours, bar)} of every map line."""
    lines = {}
    for line in out.split('\n'):
        plain = SGR.sub('', line)
        m = MAP_LINE.match(plain)
        if m:
            lines[int(m.group(2), 16)] = (plain, m.group(4))
    return lines


class MapCtlTest(CtlTestCase):
    daemon_as_service = True

    def layout(self, user=None):
        """A target with one mapping of each kind the map tells apart:
        64 MiB all touched, 64 MiB with one page in 16 touched, and a
        guard, a file and a locked mapping, which are not eligible."""
        t = self.spawn_target(user)
        regions = {}
        for name, kind, size in (('a', 'anon', 64 * MiB), ('g', 'guard', MiB),
                                 ('f', 'file', MiB), ('l', 'locked', MiB)):
            regions[name] = int(t.map(name, kind, size).split()[1], 16)
        regions['s'] = int(t.command('sparse s %d 16' % (64 * MiB)).split()[1], 16)
        return t, regions

    def map_json(self, *args, **kwargs):
        data = self.ctl_json('plan', '--map', '-j', *args, **kwargs)
        self.assertEqual(set(data), TOP_KEYS)
        x = data['targets'][0]
        self.assertEqual(set(x), TARGET_KEYS | {'map'})
        return x

    def ctl_env(self, variables, *args, user=None):
        """memadvisectl with environment @variables ('COLUMNS=90', ...)."""
        proc = self.run_as(user, ['env'] + list(variables) + [self.ctl_path] +
                           [str(a) for a in args], stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           universal_newlines=True)
        out, err = proc.communicate(timeout=120)
        return Result(proc.returncode, out, err)

    @staticmethod
    def cells_at(x, start):
        for m in x['map']['mappings']:
            if int(m['start'], 16) == start:
                return m
        raise AssertionError('no mapping at %x in %r' % (start, x['map']))

    def test_plan_map_json_of_a_known_layout(self):
        self.start()
        user = self.add_user()
        t, regions = self.layout(user)
        x = self.map_json('-t', t.pid, '-p', '5', user=user)
        self.assertEqual(x['status'], 'ok', x)
        a = self.cells_at(x, regions['a'])
        self.assertEqual(int(a['end'], 16) - regions['a'], 64 * MiB)
        # The largest mapping first, from its start: the budget, all of it
        # from a, then a's other pages, resident and of unknown age.
        self.assertEqual(len(a['cells']), CELLS)
        self.assertRegex(a['cells'], r'^P+\++$')
        cell = 64 * MiB // CELLS
        self.assertAlmostEqual(a['cells'].count('P'), x['planned_bytes'] / cell, delta=1)
        # One page in 16 resident: no cell is mostly resident.
        self.assertEqual(self.cells_at(x, regions['s'])['cells'], '.' * CELLS)
        m = x['map']
        self.assertEqual(m['eligible_mappings'], len(m['mappings']))
        self.assertFalse(m['truncated'])
        ineligible = {i['reason']: i for i in m['ineligible']}
        self.assertGreaterEqual(ineligible['not-read-write']['bytes'], MiB)
        self.assertGreaterEqual(ineligible['locked']['bytes'], MiB)
        self.assertGreaterEqual(ineligible['file-backed']['mappings'], 1)
        for i in m['ineligible']:
            self.assertEqual(set(i), {'reason', 'mappings', 'bytes'})
        # Without --map the schema is the one it was.
        data = self.ctl_json('plan', '-j', '-t', t.pid, user=user)
        self.assertEqual(set(data['targets'][0]), TARGET_KEYS)

    def test_plan_map_drawing_fits_columns(self):
        self.start()
        t, regions = self.layout()
        for columns in (60, 100, 200):
            with self.subTest(columns=columns):
                r = self.ctl_env(['COLUMNS=%d' % columns], 'plan', '-t', t.pid, '--map', '-p',
                                 '100')
                self.assertEqual(r.rc, 0, r)
                self.assertNotIn('\x1b', r.out)  # not a terminal
                lines = drawn(r.out)
                line, bar = lines[regions['a']]
                self.assertEqual(len(line), columns, line)
                self.assertEqual(bar, 'P' * len(bar))
                self.assertEqual(lines[regions['s']][1], '.' * len(bar))
                self.assertNotIn(regions['g'], lines)
                self.assertNotIn(regions['l'], lines)
                self.assertRegex(r.out, r'\n +Not eligible: (\d+ [a-z-]+ \([^)]+\)(, )?)+\n')
                self.assertRegex(r.out, r'\nMap: P planned, r came back after a pageout, # hot, '
                                 r'\+ cold or of unknown age, s in swap, \. not present; ')

    def test_a_refused_target_has_no_map(self):
        self.start()
        alice, bob = self.add_user(), self.add_user()
        theirs, their_regions = self.layout(bob)
        own, own_regions = self.layout(alice)
        targets = '%d,%d' % (theirs.pid, own.pid)
        data = self.ctl_json('plan', '--map', '-j', '--no-ask-password', '-t', targets,
                             user=alice, rc=1)
        refused, planned = data['targets']
        self.assertEqual(refused['error'], 'not-authorized')
        self.assertIsNone(refused['map'])
        self.assertEqual(planned['status'], 'ok', planned)
        self.cells_at(planned, own_regions['a'])
        r = self.ctl('plan', '--map', '--no-ask-password', '-t', targets, user=alice)
        self.assertEqual(r.rc, 1, r)
        lines = drawn(r.out)
        self.assertIn(own_regions['a'], lines)
        self.assertNotIn(their_regions['a'], lines)
        self.assertEqual(r.out.count('Not eligible:'), 1)

    def on_terminal(self, *args, columns=100):
        """memadvisectl with standard output on a pseudo-terminal of
        @columns; returns what the terminal received."""
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack('HHHH', 40, columns, 0, 0))
        proc = self.run_as(None, [str(a) for a in args], stdin=subprocess.DEVNULL, stdout=slave,
                           stderr=subprocess.PIPE, universal_newlines=False)
        os.close(slave)
        received = b''
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.1)
            if not ready:
                if proc.poll() is not None:
                    break
                continue
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the slave end is closed
                break
            if not chunk:
                break
            received += chunk
        os.close(master)
        err = proc.stderr.read().decode()
        proc.stderr.close()
        proc.wait(30)
        return Result(proc.returncode, received.decode().replace('\r\n', '\n'), err)

    def test_colours_on_a_terminal_only(self):
        self.start()
        t, regions = self.layout()
        plan = [self.ctl_path, 'plan', '-t', t.pid, '--map', '-p', '100']
        r = self.on_terminal(*plan, columns=120)
        self.assertEqual(r.rc, 0, r)
        self.assertIn('\x1b[0;1;32mP', r.out)  # planned, bold green
        self.assertIn('\x1b[0;90m.', r.out)  # not present, grey
        self.assertRegex(r.out, r'Map: \x1b\[0;1;32mP\x1b\[0m planned')
        line, _ = drawn(r.out)[regions['a']]
        self.assertEqual(len(line), 120, line)  # the terminal's width
        for args in (['env', 'NO_COLOR=1'] + plan, plan + ['--no-color']):
            with self.subTest(args=args):
                r = self.on_terminal(*args, columns=120)
                self.assertEqual(r.rc, 0, r)
                self.assertNotIn('\x1b', r.out)
                self.assertEqual(len(drawn(r.out)[regions['a']][0]), 120)
        # NO_COLOR set but empty is as unset.
        r = self.on_terminal('env', 'NO_COLOR=', *plan)
        self.assertIn('\x1b[0;1;32m', r.out)

    @needs_swap('1G')
    def test_swap_reclaim_map_then_what_came_back(self):
        self.start()
        t = self.spawn_target()
        start = int(t.map('b', 'anon', 32 * MiB).split()[1], 16)
        reclaim = self.ctl_json('reclaim', '-t', t.pid, '-m', 'pageout', '-p', '100', '--map',
                                '-j')
        x = reclaim['targets'][0]
        self.assertEqual(x['status'], 'ok', x)
        _, present, _ = t.residency('b')
        self.assertLessEqual(present, 16)
        # Drawn after the pageout: in swap, bar a cell the kernel kept.
        cells = self.cells_at(x, start)['cells']
        self.assertGreaterEqual(cells.count('s'), CELLS - 1, cells)
        self.assertLessEqual(set(cells), {'s', 'P'})
        # The first half comes back; the second stays in swap.
        t.command('hot b 1 0 0 %d' % (16 * MiB))
        deadline = time.monotonic() + 10
        while t.residency('b')[1] < 16 * MiB // os.sysconf('SC_PAGE_SIZE'):
            self.assertLess(time.monotonic(), deadline, 'the first half did not come back')
            time.sleep(0.1)
        t.command('cool b')
        # A page of budget, from the pages that did not come back.
        x = self.map_json('-t', t.pid, '-p', '1', '-b', '4096')
        self.assertEqual(x['coldness_source'], 'refault', x)
        self.assertEqual(self.cells_at(x, start)['cells'], 'r' * (CELLS // 2) + 's' * (CELLS // 2))
        r = self.ctl('reclaim', '-t', t.pid, '-m', 'cold', '-p', '1', '-b', '4096', '--map')
        self.assertEqual(r.rc, 0, r)
        _, bar = drawn(r.out)[start]
        self.assertRegex(bar, r'^r+s+$')
        self.assertRegex(r.out, r'\nMap: P advised, ')

    @needs_swap('1G')
    def test_swap_reclaim_map_drawn_after_the_work(self):
        """reclaim --map draws the target after the advice: what the pageout
        took is in swap, not planned as the plan read it; what cold mode
        advised is still in memory, advised."""
        self.start()
        t, regions = self.layout()
        page = os.sysconf('SC_PAGE_SIZE')
        per_cell = 64 * MiB // CELLS // page
        # A bar of the daemon's 256 cells, one for one (256 is the most).
        r = self.ctl_env(['COLUMNS=400'], 'reclaim', '-t', t.pid, '-m', 'pageout',
                         '-p', '50', '--map')
        self.assertEqual(r.rc, 0, r)
        lines = drawn(r.out)
        _, bar = lines[regions['a']]
        self.assertEqual(len(bar), CELLS)
        # The largest mapping first, from its start: more than half of a
        # (half of all, and a holds nearly all) is in swap now; the rest
        # of a was not advised and is in memory.
        self.assertRegex(bar, r'^s+\++$')
        self.assertGreater(bar.count('s'), CELLS // 2)
        pages, present, swapped = t.residency('a')
        self.assertEqual(present + swapped, pages)
        self.assertAlmostEqual(bar.count('s'), swapped / per_cell, delta=1)
        # The pages of the cells drawn in swap are all in swap.
        offset = (bar.count('s') - 1) * per_cell * page
        self.assertEqual(t.command('residency a 0 %d' % offset).split()[3],
                         str(offset // page))
        self.assertEqual(lines[regions['s']][1], '.' * CELLS)
        self.assertRegex(r.out, r'\nMap: P advised, ')
        # Cold mode leaves what it advised in memory: advised.
        cold, cold_regions = self.layout()
        r = self.ctl_env(['COLUMNS=400'], 'reclaim', '-t', cold.pid, '-m', 'cold',
                         '-p', '50', '--map')
        self.assertEqual(r.rc, 0, r)
        _, bar = drawn(r.out)[cold_regions['a']]
        self.assertRegex(bar, r'^P+\++$')
        self.assertGreater(bar.count('P'), CELLS // 2)
        self.assertEqual(cold.residency('a')[1], 64 * MiB // page)


if __name__ == '__main__':
    main()
