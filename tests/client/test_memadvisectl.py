#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""memadvisectl against the real memadvised on a private system bus.

Each test method is one meson test (suite 'client').
"""
import fcntl
import json
import os
import pty
import re
import select
import shutil
import signal
import subprocess
import termios
import threading
import time

from gi.repository import Gio, GLib

from ma_harness import (SOURCE_ROOT, MaTestCase, build_file, main, needs_swap, status_of,
                        swap_total_bytes)

MiB = 1 << 20
TOP_KEYS = {'mode', 'dry_run', 'percent', 'max_bytes', 'order', 'min_idle', 'threads', 'targets',
            'totals'}
TARGET_KEYS = {'pid', 'comm', 'uid', 'status', 'error', 'message', 'eligible_bytes',
               'planned_bytes', 'advised_bytes', 'idle_bytes', 'idle_seconds',
               'unknown_age_bytes', 'coldness_source', 'refaulted_bytes', 'paged_out_bytes',
               'held_bytes', 'sampled_bytes', 'before', 'after'}
MEM_KEYS = {'rss', 'anon', 'swap'}
TOTAL_KEYS = {'eligible_bytes', 'planned_bytes', 'advised_bytes', 'idle_bytes',
              'unknown_age_bytes', 'refaulted_bytes', 'paged_out_bytes', 'sampled_bytes'}
COLDNESS_TOTALS = ('refaulted_bytes', 'paged_out_bytes', 'sampled_bytes')
IEC = r'\d+(\.\d)? (B|KiB|MiB|GiB|TiB)'


class Result:
    def __init__(self, rc, out, err):
        self.rc = rc
        self.out = out
        self.err = err

    def __repr__(self):
        return 'rc=%s\nstdout:\n%s\nstderr:\n%s' % (self.rc, self.out, self.err)


class CtlTestCase(MaTestCase):
    """The helpers of the memadvisectl tests (test_memadvisectl_cgroups.py
    uses them too)."""

    def setUp(self):
        super().setUp()
        self.ctl_path = build_file('MA_MEMADVISECTL', 'client/memadvisectl')

    # -- helpers -----------------------------------------------------------

    def start(self):
        self.start_polkitd()
        self.start_daemon()

    def target(self, user=None, size=64 * MiB, kind='anon', lowentropy=False):
        t = self.spawn_target(user)
        t.map('a', kind, size, lowentropy)
        return t

    def ctl(self, *args, user=None, stdin=subprocess.DEVNULL, env=None, timeout=120):
        argv = [self.ctl_path] + [str(a) for a in args]
        if env is not None:
            proc = subprocess.Popen(argv, env=env, stdin=stdin, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, universal_newlines=True)
        else:
            proc = self.run_as(user, argv, stdin=stdin, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, universal_newlines=True)
        out, err = proc.communicate(timeout=timeout)
        return Result(proc.returncode, out, err)

    def ctl_json(self, *args, rc=0, **kwargs):
        r = self.ctl(*args, **kwargs)
        self.assertEqual(r.rc, rc, r)
        return json.loads(r.out)

    def ctl_pty(self, *args, user=None, stdin_tty=True, on_output=None, timeout=120):
        """Runs memadvisectl with stderr (and stdin) on a pseudo-terminal.
        Returns (Result with err = everything the terminal received).
        on_output(proc, text_so_far) is called as terminal output arrives."""
        master, slave = pty.openpty()
        argv = [self.ctl_path] + [str(a) for a in args]

        def controlling_terminal():
            # As in a login: the pty is the session's controlling terminal,
            # which is where pkttyagent asks for a password.
            fcntl.ioctl(slave, termios.TIOCSCTTY, 0)

        proc = self.run_as(user, argv, stdin=slave if stdin_tty else subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=slave, universal_newlines=False,
                           start_new_session=True, preexec_fn=controlling_terminal)
        os.close(slave)
        stdout_chunks = []
        reader = threading.Thread(target=lambda: stdout_chunks.append(proc.stdout.read()))
        reader.start()
        received = b''
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.05)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # EIO: every slave end is closed
                    break
                if not chunk:
                    break
                received += chunk
                if on_output is not None:
                    on_output(proc, received.decode(errors='replace'))
            elif proc.poll() is not None:
                break
        else:
            proc.kill()
            self.fail('memadvisectl did not finish in %d s' % timeout)
        os.close(master)
        proc.wait(timeout=30)
        reader.join(30)
        return Result(proc.returncode, b''.join(stdout_chunks).decode(),
                      received.decode(errors='replace'))

    def assertOneSentence(self, text):
        lines = text.strip('\n').split('\n')
        self.assertEqual(len(lines), 1, 'expected one line on stderr: %r' % text)
        self.assertTrue(lines[0][:1].isupper() or lines[0][:1] in '-“'
                        or lines[0].startswith('memadvised '),
                        'not a sentence: %r' % text)
        for raw in ('GDBus.Error', 'org.freedesktop.DBus.Error', 'GError', '(g-'):
            self.assertNotIn(raw, text)

    def assertTarget(self, target, pid):
        self.assertEqual(set(target), TARGET_KEYS, target)
        self.assertEqual(target['pid'], pid)

    def stats(self):
        return self.statistics()


class MemadvisectlTest(CtlTestCase):

    # -- each original flag, long and short -------------------------------

    def test_flag_target_long_and_short(self):
        self.start()
        t1, t2 = self.target(), self.target()
        for args in (['--target', t1.pid, '--target', t2.pid],
                     ['-t', '%d,%d' % (t1.pid, t2.pid)],
                     ['--target=%d,%d' % (t1.pid, t2.pid)],
                     ['-t', t1.pid, '-t', '%d,%d' % (t2.pid, t1.pid)]):
            with self.subTest(args=args):
                data = self.ctl_json('-d', '-j', *args)
                self.assertEqual([x['pid'] for x in data['targets']], [t1.pid, t2.pid])
                for x in data['targets']:
                    self.assertEqual(x['status'], 'ok')
        r = self.ctl('-t', 'abc')
        self.assertEqual(r.rc, 2, r)
        self.assertOneSentence(r.err)

    def test_flag_percent_long_and_short(self):
        self.start()
        t = self.target(size=128 * MiB)
        for args in (['--percent', '50'], ['-p', '50'], ['--percent=50']):
            with self.subTest(args=args):
                data = self.ctl_json('-t', t.pid, '-d', '-j', *args)
                self.assertEqual(data['percent'], 50)
                x = data['targets'][0]
                self.assertGreater(x['eligible_bytes'], 128 * MiB)
                self.assertAlmostEqual(x['planned_bytes'] / x['eligible_bytes'], 0.5, delta=0.01)
        for bad in ('0', '101', '-5', 'x'):
            r = self.ctl('-t', t.pid, '-p', bad)
            self.assertEqual(r.rc, 2, r)
            self.assertOneSentence(r.err)

    def test_flag_mode_long_and_short(self):
        self.start()
        t = self.target()
        for args in (['--mode', 'pageout'], ['-m', 'pageout'], ['--mode=cold']):
            with self.subTest(args=args):
                data = self.ctl_json('-t', t.pid, '-d', '-j', *args)
                self.assertEqual(data['mode'], args[-1].split('=')[-1])
                self.assertEqual(data['targets'][0]['status'], 'ok')
        r = self.ctl('-t', t.pid, '-m', 'hot')
        self.assertEqual(r.rc, 2, r)
        self.assertIn('--mode', r.err)
        self.assertOneSentence(r.err)

    def test_flag_dry_run_long_and_short(self):
        self.start()
        t = self.target()
        for flag in ('--dry-run', '-d'):
            with self.subTest(flag=flag):
                before = self.stats()
                data = self.ctl_json('-t', t.pid, '-j', flag)
                after = self.stats()
                self.assertIs(data['dry_run'], True)
                x = data['targets'][0]
                self.assertIsNone(x['after'])
                self.assertEqual(x['advised_bytes'], 0)
                self.assertGreater(x['planned_bytes'], 0)
                self.assertEqual(after['calls-plan'], before['calls-plan'] + 1)
                self.assertEqual(after['calls-reclaim'], before['calls-reclaim'])

    def test_flag_verbose_long_and_short(self):
        self.start()
        t = self.target()
        for flag in ('--verbose', '-v'):
            with self.subTest(flag=flag):
                data = self.ctl_json('-t', t.pid, '-d', '-j', flag)
                x = data['targets'][0]
                self.assertEqual(set(x), TARGET_KEYS | {'ranges', 'ranges_truncated'})
                self.assertIs(x['ranges_truncated'], False)
                self.assertGreater(len(x['ranges']), 0)
                for r in x['ranges']:
                    self.assertEqual(set(r), {'start', 'length', 'resident'})
                    self.assertRegex(r['start'], r'^0x[0-9a-f]+$')
                    self.assertEqual(int(r['start'], 16) % os.sysconf('SC_PAGE_SIZE'), 0)
                    self.assertIsInstance(r['length'], int)
                    self.assertLessEqual(r['resident'], r['length'])
                self.assertEqual(sum(r['resident'] for r in x['ranges']), x['planned_bytes'])
                table = self.ctl('-t', t.pid, '-d', flag)
                self.assertEqual(table.rc, 0, table)
                self.assertRegex(table.out, r'\n +0x[0-9a-f]+-0x[0-9a-f]+  %s, %s resident\n'
                                 % (IEC, IEC))

    def test_verbose_says_when_the_daemon_cut_the_ranges(self):
        self.start()
        t = self.spawn_target()
        t.command('sparse s %d 2' % (256 * MiB))
        data = self.ctl_json('-t', t.pid, '-d', '-j', '-v', '-p', '100')
        x = data['targets'][0]
        self.assertIs(x['ranges_truncated'], True)
        self.assertEqual(len(x['ranges']), 16384)
        self.assertGreaterEqual(x['planned_bytes'], 128 * MiB)
        table = self.ctl('-t', t.pid, '-d', '-v', '-p', '100')
        self.assertEqual(table.rc, 0, table)
        self.assertIn('(only the first 16384 ranges are listed)\n', table.out)

    def test_flag_json_long_and_short(self):
        self.start()
        t = self.target()
        for flag in ('--json', '-j'):
            with self.subTest(flag=flag):
                data = self.ctl_json('-t', t.pid, flag)
                self.assertEqual(set(data), TOP_KEYS)
        r = self.ctl('-t', t.pid)
        self.assertEqual(r.rc, 0, r)
        self.assertRaises(ValueError, json.loads, r.out)

    def test_flag_max_bytes_long_and_short(self):
        self.start()
        t = self.target(size=64 * MiB)
        for args, expected in ((['--max-bytes', '1048576'], MiB),
                               (['-b', '1M'], MiB),
                               (['-b', '1024K'], MiB),
                               (['--max-bytes=3MiB'], 3 * MiB),
                               (['-b', '2G'], 2 << 30),
                               (['-b', '1t'], 1 << 40)):
            with self.subTest(args=args):
                data = self.ctl_json('-t', t.pid, '-d', '-j', *args)
                self.assertEqual(data['max_bytes'], expected)
                self.assertLessEqual(data['targets'][0]['planned_bytes'], expected)
                self.assertGreater(data['targets'][0]['planned_bytes'], 0)
        for bad in ('1X', 'M', '-1', '1.5G', '99999999999999999999'):
            r = self.ctl('-t', t.pid, '-b', bad)
            self.assertEqual(r.rc, 2, r)
            self.assertOneSentence(r.err)

    def test_defaults_are_the_original_tool_s(self):
        self.start()
        t = self.target()
        before = self.stats()
        data = self.ctl_json('-t', t.pid, '-j')
        after = self.stats()
        self.assertEqual((data['mode'], data['percent'], data['max_bytes'], data['dry_run']),
                         ('cold', 30, 0, False))
        self.assertEqual(after['calls-reclaim'], before['calls-reclaim'] + 1)
        self.assertEqual(after['advised-bytes-cold'] - before['advised-bytes-cold'],
                         data['targets'][0]['advised_bytes'])

    # -- order, min-idle, threads ---------------------------------------------

    def test_flag_order(self):
        self.start()
        t = self.target()
        t.map('b', 'anon', 32 * MiB)
        data = self.ctl_json('-t', t.pid, '-d', '-j')
        self.assertEqual(data['order'], 'coldest')
        for args in (['--order', 'address'], ['--order=address'], ['plan', '--order', 'address'],
                     ['reclaim', '-d', '--order', 'address']):
            with self.subTest(args=args):
                if args[0] in ('plan', 'reclaim'):
                    data = self.ctl_json(args[0], '-t', t.pid, '-j', '-v', *args[1:])
                else:
                    data = self.ctl_json('-t', t.pid, '-d', '-j', '-v', *args)
                self.assertEqual(data['order'], 'address')
                starts = [int(r['start'], 16) for r in data['targets'][0]['ranges']]
                self.assertEqual(starts, sorted(starts))
        data = self.ctl_json('-t', t.pid, '-d', '-j', '--order', 'coldest')
        self.assertEqual(data['order'], 'coldest')
        for bad in ('hottest', '', 'Address'):
            r = self.ctl('-t', t.pid, '-d', '--order', bad)
            self.assertEqual(r.rc, 2, r)
            self.assertIn('--order', r.err)
            self.assertOneSentence(r.err)

    def test_flag_min_idle(self):
        self.start()
        t = self.target()
        start = time.monotonic()
        data = self.ctl_json('plan', '-t', t.pid, '-j', '--min-idle', '2')
        self.assertGreaterEqual(time.monotonic() - start, 2)
        self.assertEqual(data['min_idle'], 2)
        x = data['targets'][0]
        self.assertGreaterEqual(x['idle_seconds'], 2)
        self.assertGreater(x['idle_bytes'], 0)
        self.assertEqual(x['idle_bytes'] + x['unknown_age_bytes'], x['planned_bytes'])
        self.assertEqual(self.ctl_json('-t', t.pid, '-d', '-j')['min_idle'], 0)
        for bad in ('-1', 'x', '1.5', '4294967296'):
            r = self.ctl('-t', t.pid, '-d', '--min-idle', bad)
            self.assertEqual(r.rc, 2, r)
            self.assertIn('--min-idle', r.err)
            self.assertOneSentence(r.err)
        # Above the daemon's MaxMinIdle (300 by default): the daemon refuses.
        r = self.ctl('-t', t.pid, '-d', '--min-idle', '301')
        self.assertEqual(r.rc, 2, r)
        self.assertIn('min-idle', r.err)
        self.assertOneSentence(r.err)

    def test_flag_threads(self):
        self.start()
        t = self.target()
        data = self.ctl_json('-t', t.pid, '-j', '-m', 'pageout', '--threads', '1')
        self.assertEqual(data['threads'], 1)
        self.assertEqual(data['targets'][0]['status'], 'ok')
        self.assertRegex(self.daemon_log_text(), r'Reclaim from .*, threads 1\n')
        data = self.ctl_json('plan', '-t', t.pid, '-j', '--threads', '0')
        self.assertEqual(data['threads'], 0)
        self.assertEqual(self.ctl_json('-t', t.pid, '-d', '-j')['threads'], 0)
        for bad in ('-2', 'two'):
            r = self.ctl('-t', t.pid, '--threads', bad)
            self.assertEqual(r.rc, 2, r)
            self.assertIn('--threads', r.err)
            self.assertOneSentence(r.err)

    def test_new_flags_per_command(self):
        for command in ('reclaim', 'plan'):
            r = self.ctl(command, '--help')
            for flag in ('--order=coldest|address', '--min-idle=SECONDS', '--threads=N'):
                self.assertIn(flag, r.out)
        r = self.ctl('--help')
        self.assertIn('--min-idle', r.out)
        r = self.ctl('status', '--order', 'address')
        self.assertEqual(r.rc, 2, r)
        self.assertOneSentence(r.err)

    def test_json_idle_keys_after_a_reclaim(self):
        self.start()
        t1, t2 = self.target(), self.target()
        pids = '%d,%d' % (t1.pid, t2.pid)
        first = self.ctl_json('-t', pids, '-j')
        for x in first['targets']:
            self.assertEqual((x['idle_bytes'], x['idle_seconds']), (0, 0))
            self.assertEqual(x['unknown_age_bytes'], x['planned_bytes'])
        time.sleep(2)
        data = self.ctl_json('-t', pids, '-j', '-d')
        self.assertEqual((data['order'], data['min_idle'], data['threads']), ('coldest', 0, 0))
        for x in data['targets']:
            self.assertIsInstance(x['idle_bytes'], int)
            self.assertIsInstance(x['idle_seconds'], int)
            self.assertIsInstance(x['unknown_age_bytes'], int)
            self.assertGreater(x['idle_bytes'], 0)
            self.assertGreaterEqual(x['idle_seconds'], 2)
            self.assertEqual(x['idle_bytes'] + x['unknown_age_bytes'], x['planned_bytes'])
        for key in ('idle_bytes', 'unknown_age_bytes'):
            self.assertEqual(data['totals'][key], sum(x[key] for x in data['targets']))

    def test_table_says_how_much_was_known_idle(self):
        self.start()
        t = self.target()
        r = self.ctl('-t', t.pid, '-d')
        self.assertEqual(r.rc, 0, r)
        self.assertNotIn('Known idle', r.out)
        self.assertEqual(self.ctl('-t', t.pid).rc, 0)
        time.sleep(2)
        r = self.ctl('-t', t.pid, '-d')
        self.assertEqual(r.rc, 0, r)
        lines = r.out.splitlines()
        self.assertRegex(lines[-2], r'^Total: ')
        m = re.match(r'^Known idle: (?P<idle>%s) of the (?P<planned>%s) planned, untouched for '
                     r'at least (?P<seconds>\d+) s; the rest of unknown age\.$' % (IEC, IEC),
                     lines[-1])
        self.assertIsNotNone(m, lines[-1])
        self.assertGreaterEqual(int(m.group('seconds')), 2)
        self.assertIn('planned %s' % m.group('planned'), lines[-2])
        data = self.ctl_json('-t', t.pid, '-d', '-j')
        self.assertGreater(data['totals']['idle_bytes'], 0)

    # -- subcommands ---------------------------------------------------------

    def test_command_reclaim(self):
        self.start()
        t = self.target()
        before = self.stats()
        data = self.ctl_json('reclaim', '-t', t.pid, '-j', '-m', 'pageout', '-p', '40')
        self.assertEqual(self.stats()['calls-reclaim'], before['calls-reclaim'] + 1)
        self.assertEqual((data['mode'], data['percent'], data['dry_run']), ('pageout', 40, False))
        self.assertIsNotNone(data['targets'][0]['after'])
        data = self.ctl_json('reclaim', '--dry-run', '-t', t.pid, '-j')
        self.assertIs(data['dry_run'], True)

    def test_command_plan(self):
        self.start()
        t = self.target()
        before = self.stats()
        data = self.ctl_json('plan', '--target', t.pid, '--json', '--max-bytes', '2M')
        self.assertEqual(self.stats()['calls-plan'], before['calls-plan'] + 1)
        self.assertEqual(self.stats()['calls-reclaim'], before['calls-reclaim'])
        self.assertIs(data['dry_run'], True)
        self.assertIsNone(data['targets'][0]['after'])
        self.assertEqual(data['targets'][0]['advised_bytes'], 0)

    def test_command_status(self):
        self.start()
        t = self.target()
        self.ctl_json('-t', t.pid, '-j')
        r = self.ctl('status')
        self.assertEqual(r.rc, 0, r)
        self.assertRegex(r.out, r'Version: +%s\n' % re.escape(self.get_property('Version')))
        self.assertRegex(r.out, r'Kernel support: +yes')
        self.assertRegex(r.out, r'Modes: +cold, pageout')
        if swap_total_bytes() == 0:
            self.assertRegex(r.out, r'Swap: +none configured')
        else:
            self.assertRegex(r.out, r'Swap: +%s configured, %s free' % (IEC, IEC))
        self.assertRegex(r.out, r'\n  Reclaim calls: +1\n')
        self.assertRegex(r.out, r'\n  Calls dropped: +0\n')
        self.assertRegex(r.out, r'\n  Calls timed out: +0\n')
        self.assertNotIn('calls-reclaim', r.out)
        for label in ('Came back after pageout', 'Came back while sampling', 'Processes tracked',
                      'Memory for tracking'):
            self.assertRegex(r.out, r'\n  %s: +\S' % label)
        for key in ('refaulted-bytes', 'sampled-bytes', 'tracked-processes', 'tracked-state'):
            self.assertNotIn(key, r.out)
        self.assertNotIn('cancelled-calls', r.out)
        data = self.ctl_json('status', '--json')
        self.assertEqual(data['version'], self.get_property('Version'))
        self.assertIs(data['kernel_supported'], True)
        self.assertEqual(data['modes'], ['cold', 'pageout'])
        self.assertEqual(data['swap']['total_bytes'], swap_total_bytes())
        self.assertLessEqual(data['swap']['free_bytes'], data['swap']['total_bytes'])
        stats = self.stats()
        self.assertEqual(data['statistics']['calls_reclaim'], stats['calls-reclaim'])
        self.assertEqual(data['statistics']['advised_bytes_cold'], stats['advised-bytes-cold'])

    def test_command_help_is_per_command(self):
        top = self.ctl('--help')
        self.assertEqual(top.rc, 0, top)
        for command in ('reclaim', 'plan', 'status', 'session'):
            self.assertRegex(top.out, r'\n  %s +\S' % command)
        reclaim = self.ctl('reclaim', '--help')
        plan = self.ctl('plan', '--help')
        status = self.ctl('status', '-h')
        for r in (reclaim, plan, status):
            self.assertEqual(r.rc, 0, r)
        self.assertIn('memadvisectl reclaim [OPTION', reclaim.out)
        self.assertIn('--dry-run', reclaim.out)
        self.assertIn('--no-progress', reclaim.out)
        self.assertIn('memadvisectl plan [OPTION', plan.out)
        self.assertNotRegex(plan.out, r'-d, --dry-run')
        self.assertIn('--max-bytes', plan.out)
        self.assertIn('memadvisectl status [OPTION', status.out)
        self.assertNotIn('--target', status.out)
        self.assertIn('--json', status.out)
        for args in (['frobnicate'], ['-t', '1', 'status'], ['status', '-t', '1']):
            r = self.ctl(*args)
            self.assertEqual(r.rc, 2, r)
            self.assertOneSentence(r.err)

    # -- output ----------------------------------------------------------------

    def test_table_reclaim(self):
        self.start()
        t = self.target()
        r = self.ctl('-t', t.pid)
        self.assertEqual(r.rc, 0, r)
        lines = r.out.splitlines()
        self.assertRegex(lines[0], r'^ *PID  COMM +ELIGIBLE +PLANNED +ADVISED  RSS BEFORE -> AFTER'
                         r' +SWAP BEFORE -> AFTER +STATUS$')
        self.assertRegex(lines[1], r'^ *%d  ma-test-target +%s +%s +%s  %s -> %s +%s -> %s +ok$'
                         % ((t.pid,) + (IEC,) * 7))
        self.assertRegex(lines[2], r'^Total: 1 target \(1 ok, 0 skipped, 0 failed\), eligible %s, '
                         r'planned %s, advised %s, RSS %s -> %s, swap %s -> %s$' % ((IEC,) * 7))
        self.assertEqual(len(lines), 3)
        self.assertEqual(r.err, '')

    def test_table_plan_shows_messages_of_failed_targets(self):
        self.start()
        t = self.target()
        gone = self.target()
        gone.kill()
        r = self.ctl('-d', '-t', '%d,%d' % (t.pid, gone.pid))
        self.assertEqual(r.rc, 1, r)
        lines = r.out.splitlines()
        self.assertRegex(lines[0], r'^ *PID  COMM +ELIGIBLE +PLANNED +RSS +SWAP  STATUS$')
        self.assertRegex(lines[1], r'^ *%d  ma-test-target +%s +%s +%s +%s  ok$'
                         % ((t.pid,) + (IEC,) * 4))
        self.assertRegex(lines[2], r'^ *%d  - +- +- +- +-  failed$' % gone.pid)
        data = self.ctl_json('-d', '-j', '-t', gone.pid, rc=1)
        self.assertEqual(lines[3].strip(), data['targets'][0]['message'])
        self.assertRegex(lines[4], r'^Total: 2 targets \(1 ok, 0 skipped, 1 failed\), eligible %s,'
                         r' planned %s \(dry run, nothing advised\)$' % (IEC, IEC))

    def test_table_prints_no_control_characters_a_process_named_itself(self):
        # PR_SET_NAME: clear the screen, turn red, ring the bell; or blink.
        # The table and the messages show "?" for each
        # control character; JSON keeps the name exactly, escaped.
        name = '\x1b[2J\x1b[31mX\x07'
        protected = '\x1b[5mP\x07'
        self.start_daemon(config={'Protect': {'Names': protected}})
        user = self.add_user()
        t = self.target(user)
        t.command('name ' + name.encode().hex())
        self.assertEqual(status_of(t.pid)['Name'], name)
        r = self.ctl('plan', '-t', t.pid, user=user)
        self.assertEqual(r.rc, 0, r)
        self.assertRegex(r.out.splitlines()[1], r'^ *%d  \?\[2J\?\[31mX\? ' % t.pid)
        self.assertNoControls(r)
        data = self.ctl_json('plan', '-j', '-t', t.pid, user=user)
        self.assertEqual(data['targets'][0]['comm'], name)
        # A message that quotes the name, under its row.
        other = self.target(user)
        other.command('name ' + protected.encode().hex())
        r = self.ctl('plan', '-t', '%d,%d' % (t.pid, other.pid), user=user)
        self.assertEqual(r.rc, 1, r)
        self.assertIn('(?[5mP?) is protected', r.out)
        self.assertNoControls(r)

    def assertNoControls(self, result):
        for text in (result.out, result.err):
            self.assertFalse(re.search('[\x00-\x09\x0b-\x1f\x7f-\x9f]', text), repr(text))

    def test_json_schema_reclaim(self):
        self.start()
        t1, t2 = self.target(size=32 * MiB), self.target(size=48 * MiB)
        status1 = status_of(t1.pid)
        data = self.ctl_json('-t', '%d,%d' % (t1.pid, t2.pid), '-j', '-p', '60')
        self.assertEqual(set(data), TOP_KEYS)
        self.assertEqual(data['mode'], 'cold')
        self.assertIs(data['dry_run'], False)
        self.assertEqual(data['percent'], 60)
        self.assertEqual(data['max_bytes'], 0)
        self.assertEqual(len(data['targets']), 2)
        for x, t, size in ((data['targets'][0], t1, 32 * MiB), (data['targets'][1], t2, 48 * MiB)):
            self.assertTarget(x, t.pid)
            self.assertEqual(x['comm'], 'ma-test-target')
            self.assertEqual(x['uid'], 0)
            self.assertEqual(x['status'], 'ok')
            self.assertIsNone(x['error'])
            self.assertIsNone(x['message'])
            self.assertGreaterEqual(x['eligible_bytes'], size)
            self.assertLessEqual(x['planned_bytes'], x['eligible_bytes'])
            self.assertAlmostEqual(x['planned_bytes'] / x['eligible_bytes'], 0.6, delta=0.01)
            self.assertEqual(x['advised_bytes'], x['planned_bytes'])
            for key in ('before', 'after'):
                self.assertEqual(set(x[key]), MEM_KEYS)
                for v in x[key].values():
                    self.assertIsInstance(v, int)
                self.assertGreaterEqual(x[key]['rss'], x[key]['anon'])
                self.assertGreaterEqual(x[key]['anon'], size)
            self.assertNotIn('ranges', x)
        rss_kib = int(status1['VmRSS'].split()[0])
        self.assertAlmostEqual(data['targets'][0]['before']['rss'], rss_kib * 1024, delta=MiB)
        self.assertEqual(set(data['totals']), TOTAL_KEYS)
        for key in TOTAL_KEYS:
            self.assertEqual(data['totals'][key], sum(x[key] for x in data['targets']))

    def test_json_schema_dry_run(self):
        self.start()
        t = self.target()
        data = self.ctl_json('-t', t.pid, '-j', '-d', '-m', 'pageout', '-b', '4M')
        self.assertEqual(set(data), TOP_KEYS)
        self.assertEqual((data['mode'], data['dry_run'], data['percent'], data['max_bytes']),
                         ('pageout', True, 30, 4 * MiB))
        x = data['targets'][0]
        self.assertTarget(x, t.pid)
        self.assertIsNone(x['after'])
        self.assertEqual(x['advised_bytes'], 0)
        self.assertEqual(x['planned_bytes'], 4 * MiB)
        self.assertEqual(set(x['before']), MEM_KEYS)
        self.assertEqual(data['totals'], {'eligible_bytes': x['eligible_bytes'],
                                          'planned_bytes': 4 * MiB, 'advised_bytes': 0,
                                          'idle_bytes': 0, 'unknown_age_bytes': 4 * MiB,
                                          'refaulted_bytes': 0, 'paged_out_bytes': 0,
                                          'sampled_bytes': 0})

    def test_json_failed_target(self):
        self.start()
        gone = self.target()
        gone.kill()
        data = self.ctl_json('-t', gone.pid, '-j', rc=1)
        x = data['targets'][0]
        self.assertTarget(x, gone.pid)
        self.assertEqual(x['status'], 'failed')
        self.assertEqual(x['error'], 'no-such-process')
        self.assertIsInstance(x['message'], str)
        self.assertTrue(x['message'])
        self.assertIsNone(x['comm'])
        self.assertIsNone(x['uid'])
        self.assertIsNone(x['after'])
        self.assertEqual(data['totals'], dict.fromkeys(TOTAL_KEYS, 0))

    # -- exit codes --------------------------------------------------------------

    def test_exit_0_every_target_ok(self):
        self.start()
        t1, t2 = self.target(), self.target()
        r = self.ctl('-t', '%d,%d' % (t1.pid, t2.pid))
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(r.err, '')

    def test_exit_1_some_target_failed(self):
        self.start()
        t = self.target()
        gone = self.target()
        gone.kill()
        data = self.ctl_json('-t', '%d,%d' % (t.pid, gone.pid), '-j', rc=1)
        self.assertEqual([x['status'] for x in data['targets']], ['ok', 'failed'])
        self.assertIsNotNone(data['targets'][0]['after'])

    def test_exit_2_usage(self):
        self.start()
        t = self.target()
        too_many = ','.join(str(p) for p in range(1, 1026))
        for args in ([], ['-p', '0', '-t', t.pid], ['-t', t.pid, '--bogus'], ['-t', '0'],
                     ['-t', '%d,' % t.pid], ['-t', t.pid, 'extra'], ['--name', 'a/b'],
                     ['-t', too_many]):
            with self.subTest(args=args if too_many not in args else '1025 pids'):
                r = self.ctl(*args)
                self.assertEqual(r.rc, 2, r)
                self.assertOneSentence(r.err)
                self.assertEqual(r.out, '')
        self.assertEqual(self.stats()['calls-plan'] + self.stats()['calls-reclaim'], 0)

    def test_exit_3_no_system_bus(self):
        env = dict(self.bus_env())
        env['DBUS_SYSTEM_BUS_ADDRESS'] = 'unix:path=%s/no-such-socket' % self.tmpdir
        for args in (['-t', os.getpid()], ['status']):
            r = self.ctl(*args, env=env)
            self.assertEqual(r.rc, 3, r)
            self.assertIn('system bus', r.err)
            self.assertOneSentence(r.err)

    def test_exit_3_daemon_not_running(self):
        # The bus runs but nothing owns or can activate the name.
        t = self.target()
        for args in (['-t', t.pid], ['-d', '-t', t.pid, '-j'], ['status']):
            r = self.ctl(*args)
            self.assertEqual(r.rc, 3, r)
            self.assertIn('memadvised is not running', r.err)
            self.assertOneSentence(r.err)
            self.assertEqual(r.out, '')

    def test_exit_4_not_authorized_for_any_target(self):
        self.start()
        user = self.add_user()
        root_target = self.target()
        for args in (['-t', root_target.pid], ['-d', '-t', root_target.pid],
                     ['-t', root_target.pid, '-j']):
            with self.subTest(args=args):
                r = self.ctl(*args, user=user)
                self.assertEqual(r.rc, 4, r)
                self.assertIn('Not authorized', r.err)
                self.assertOneSentence(r.err)
        # Planning one's own process needs no authorization.
        own = self.target(user)
        data = self.ctl_json('-d', '-j', '-t', own.pid, user=user)
        self.assertEqual(data['targets'][0]['uid'], self.uid_of(user))

    # -- --name -----------------------------------------------------------------

    def test_name_resolves_as_pidof(self):
        self.start()
        t1, t2 = self.target(), self.target()
        data = self.ctl_json('--name', 'ma-test-target', '-d', '-j')
        pids = [x['pid'] for x in data['targets']]
        self.assertIn(t1.pid, pids)
        self.assertIn(t2.pid, pids)
        self.assertEqual(len(pids), len(set(pids)))
        expected = sorted(int(p) for p in subprocess.run(
            ['pidof', 'ma-test-target'], stdout=subprocess.PIPE,
            universal_newlines=True).stdout.split())
        self.assertEqual(sorted(pids), expected)
        # With --target: each process once, --target's first.
        data = self.ctl_json('-t', t2.pid, '--name', 'ma-test-target', '-d', '-j')
        pids = [x['pid'] for x in data['targets']]
        self.assertEqual(pids[0], t2.pid)
        self.assertEqual(pids.count(t2.pid), 1)

    def test_name_matches_executable_beyond_comm(self):
        self.start()
        # comm is cut to 15 bytes; pidof also finds the full executable name.
        long_name = 'ma-test-target-with-a-long-name'
        copy = os.path.join(self.tmpdir, long_name)
        shutil.copy(self.target_path, copy)
        os.chmod(copy, 0o755)
        self.target_path = copy
        t = self.target()
        self.assertEqual(status_of(t.pid)['Name'], long_name[:15])
        for name in (long_name, long_name[:15]):
            data = self.ctl_json('--name', name, '-d', '-j')
            self.assertEqual([x['pid'] for x in data['targets']], [t.pid])

    def test_name_without_match_fails(self):
        self.start()
        r = self.ctl('--name', 'no-such-process-name-%d' % os.getpid())
        self.assertEqual(r.rc, 1, r)
        self.assertIn('No running process is named', r.err)
        self.assertOneSentence(r.err)
        # Kernel threads are not processes pidof names.
        r = self.ctl('--name', 'kthreadd')
        self.assertEqual(r.rc, 1, r)

    # -- pidfds ------------------------------------------------------------------

    def test_targets_go_to_the_daemon_as_pidfds_16_a_call(self):
        # More than one message of the system bus carries: split into calls
        # of 16, answered as one, in the order named.
        self.start()
        user = self.add_user()
        targets = [self.target(user, size=4 * MiB) for _ in range(20)]
        pids = [t.pid for t in targets]
        before = self.stats()
        data = self.ctl_json('plan', '-j', '-t', ','.join(map(str, reversed(pids))), user=user)
        self.assertEqual([x['pid'] for x in data['targets']], list(reversed(pids)))
        self.assertEqual({x['status'] for x in data['targets']}, {'ok'})
        self.assertEqual(self.stats()['calls-plan'], before['calls-plan'] + 2)
        # A pid that names no process is answered as the daemon would.
        gone = self.target(user)
        gone.kill()
        data = self.ctl_json('plan', '-j', '-t', '%d,%d' % (gone.pid, pids[0]), user=user, rc=1)
        self.assertEqual([(x['pid'], x['error']) for x in data['targets']],
                         [(gone.pid, 'no-such-process'), (pids[0], None)])
        self.assertEqual(data['targets'][0]['message'], 'There is no process %d.' % gone.pid)

    def test_split_calls_are_authorized_as_one(self):
        self.start()
        alice, bob = self.add_user(), self.add_user()
        others = [self.target(bob, size=1 * MiB) for _ in range(17)]
        own = self.target(alice, size=4 * MiB)
        pids = ','.join(str(t.pid) for t in others)
        # None authorized, in either call: refused as one call is.
        r = self.ctl('plan', '-t', pids, user=alice)
        self.assertEqual(r.rc, 4, r)
        self.assertIn('Not authorized', r.err)
        self.assertOneSentence(r.err)
        # The second call's own process makes the request one with a
        # target authorized: every refusal is in the results.
        data = self.ctl_json('plan', '-j', '-t', pids + ',%d' % own.pid, user=alice, rc=1)
        self.assertEqual([x['error'] for x in data['targets']], ['not-authorized'] * 17 + [None])

    def test_targets_of_another_pid_namespace(self):
        # The caller's pids are not the daemon's: passed as pidfds they
        # name the same processes; the daemon tells no pid of its own.
        self.start()
        user = self.add_user()
        argv = ['unshare', '--pid', '--fork', '--mount-proc', 'runuser', '-u', user, '--', 'env',
                '-i'] + ['%s=%s' % kv for kv in self.bus_env().items()] + [
            'sh', '-c', 'sleep 30 & sleep 0.3; exec "$0" plan -j -t $!', self.ctl_path]
        r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           universal_newlines=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        target = json.loads(r.stdout)['targets'][0]
        self.assertEqual((target['pid'], target['comm']), (0, 'sleep'))
        self.assertIn(target['status'], ('ok', 'skipped'))

    # -- progress, interactive authorization, Ctrl-C ------------------------

    def test_progress_bar_on_a_terminal(self):
        self.start()
        t = self.target(size=512 * MiB)
        r = self.ctl_pty('-t', t.pid, '-p', '100', stdin_tty=False)
        self.assertEqual(r.rc, 0, r)
        self.assertRegex(r.err, r'\r\[#*-*\] +\d+%  ' + IEC + ' of ' + IEC + '\x1b\\[K')
        self.assertRegex(r.err, r'\[#+\] 100%')
        self.assertTrue(r.err.endswith('\r\x1b[K'), repr(r.err[-40:]))
        self.assertRegex(r.out, r'\n *%d  ma-test-target ' % t.pid)
        # No bar without a terminal, with --no-progress, with --json or on a plan.
        for args in (['--no-progress'], ['-j'], ['-d']):
            r = self.ctl_pty('-t', t.pid, *args, stdin_tty=False)
            self.assertEqual(r.rc, 0, r)
            self.assertNotIn('%', r.err)
            self.assertNotIn('\x1b[K', r.err)
        r = self.ctl('-t', t.pid)
        self.assertNotIn('\x1b[K', r.err)

    def _start_flag_recorder(self):
        """Owns the daemon's name with a stand-in that records, for each
        Plan/Reclaim call, whether the message allows interactive
        authorization, and answers with no results."""
        seen = []
        ready = threading.Event()
        state = {}

        def on_call(_conn, _sender, _path, _iface, method, _params, invocation):
            flags = invocation.get_message().get_flags()
            interactive = flags & Gio.DBusMessageFlags.ALLOW_INTERACTIVE_AUTHORIZATION
            seen.append((method, bool(interactive)))
            invocation.return_value(GLib.Variant('(aa{sv})', ([],)))

        def serve():
            context = GLib.MainContext.new()
            context.push_thread_default()
            conn = Gio.DBusConnection.new_for_address_sync(
                self.bus_address, Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT |
                Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION, None, None)
            with open(os.path.join(SOURCE_ROOT, 'dbus', 'org.memadvise.MemAdvise1.xml')) as f:
                node = Gio.DBusNodeInfo.new_for_xml(f.read())
            conn.register_object('/org/memadvise/MemAdvise1', node.interfaces[0], on_call,
                                 None, None)
            conn.call_sync('org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus',
                           'RequestName', GLib.Variant('(su)', ('org.memadvise.MemAdvise1', 4)),
                           None, 0, -1, None)
            state['loop'] = GLib.MainLoop.new(context, False)
            state['conn'] = conn
            ready.set()
            state['loop'].run()
            conn.close_sync(None)
            context.pop_thread_default()

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        self.assertTrue(ready.wait(10))

        def stop():
            state['loop'].quit()
            thread.join(10)
        self.addCleanup(stop)
        return seen

    def test_interactive_authorization_only_on_a_terminal(self):
        seen = self._start_flag_recorder()
        pid = os.getpid()
        cases = ((['-t', pid], True, True),
                 (['-t', pid, '--no-ask-password'], True, False),
                 (['-d', '-t', pid], True, True),
                 (['plan', '-t', pid, '--no-ask-password'], True, False),
                 (['-t', pid], False, False))
        for args, tty, expected in cases:
            with self.subTest(args=args, tty=tty):
                if tty:
                    r = self.ctl_pty(*args)
                else:
                    r = self.ctl(*args)
                self.assertEqual(r.rc, 0, r)
                self.assertEqual(len(seen), 1)
                method, interactive = seen.pop()
                # memadvisectl holds the targets by pidfds (PlanPidfds, ReclaimPidfds).
                self.assertEqual(method, 'PlanPidfds' if '-d' in args or 'plan' in args
                                 else 'ReclaimPidfds')
                self.assertIs(interactive, expected)

    # 16384 mappings of 256 KiB, stored uncompressed by zram.
    @needs_swap('6G')
    def test_swap_ctrl_c_cancels_a_long_pageout(self):
        self.assertGreater(swap_total_bytes(), 0, 'this test runs under tests/with-swap')
        self.start()
        # The daemon checks for cancellation between batches of at most
        # IOV_MAX ranges: 16384 separate mappings make 16 batches.
        count, each = 16384, 256 * 1024
        size = count * each
        t = self.spawn_target(None)
        t.command('many a %d %d' % (count, each))
        pages = size // os.sysconf('SC_PAGE_SIZE')
        interrupted = []

        def on_output(proc, text):
            # Interrupt once the bar shows work under way but not done.
            m = re.findall(r'\] +(\d+)%', text)
            if m and not interrupted and 0 < int(m[-1]) < 80:
                interrupted.append(int(m[-1]))
                os.kill(proc.pid, signal.SIGINT)

        stats_before = self.stats()
        r = self.ctl_pty('-t', t.pid, '-m', 'pageout', '-p', '100', stdin_tty=False,
                         on_output=on_output)
        self.assertTrue(interrupted, 'the pageout ended before it could be interrupted: %r' % r)
        self.assertEqual(r.rc, 1, r)
        self.assertIn('Interrupted', r.err)
        self.assertEqual(r.out, '')
        # The daemon stops at its next batch: the swapped amount settles
        # well short of the whole region.
        deadline = time.monotonic() + 30
        previous = None
        while time.monotonic() < deadline:
            time.sleep(0.5)
            _, _, swapped = t.residency('a')
            if swapped == previous:
                break
            previous = swapped
        self.assertEqual(swapped, previous, 'the pageout did not stop')
        self.assertGreater(swapped, 0)
        self.assertLess(swapped, pages * 0.9)
        # The daemon finished the call, counting nothing as fully done, and
        # serves the next one.
        stats_after = self.stats()
        self.assertEqual(stats_after['calls-reclaim'], stats_before['calls-reclaim'] + 1)
        advised = stats_after['advised-bytes-pageout'] - stats_before['advised-bytes-pageout']
        self.assertLess(advised, size * 0.9)
        data = self.ctl_json('-d', '-j', '-t', t.pid)
        self.assertEqual(data['targets'][0]['status'], 'ok')


class QueueCtlTest(CtlTestCase):
    """memadvisectl waits its turn in the daemon's queue."""

    def test_eight_concurrent_reclaims_of_one_user_all_succeed(self):
        # Each call keeps its place for its second of min-idle, two of one
        # user at a time: past MaxJobs, four of them were Busy.
        group = self.add_group()
        alice = self.add_user(groups=[group])
        self.install_group_rule(group)
        self.start()
        targets = [self.target(alice, size=16 * MiB) for _ in range(8)]
        argv = [self.ctl_path, '-m', 'cold', '-p', '10', '--min-idle', '1']
        procs = [self.run_as(alice, argv + ['-t', str(t.pid)], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, universal_newlines=True) for t in targets]
        results = [Result(p.wait(120), p.stdout.read(), p.stderr.read()) for p in procs]
        for p in procs:
            p.stdout.close()
            p.stderr.close()
        for r in results:
            self.assertEqual(r.rc, 0, r)
            self.assertNotIn('busy', r.err)
        stats = self.stats()
        self.assertEqual(stats['calls-reclaim'], 8)
        self.assertEqual(stats['targets-ok'], 8)
        self.assertNotIn('busy', stats['refused-calls'])


if __name__ == '__main__':
    main()
