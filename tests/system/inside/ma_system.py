#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""What the system suite's cases share. They run inside the machine
(tests/system/machine), as root, each as a transient unit of its systemd,
against memadvise installed to /usr from the checkout at /srv/memadvise.

    ma_system.py install     build and install memadvise as a distribution
                             would (meson, sysusers, daemon-reload, dbus)
    ma_system.py uninstall   remove it again

A case is a method of a SystemCase in one of the test_*.py files here:

    class Reclaim(SystemCase):
        def test_x(self):
            user = self.add_user('alice')          # removed again afterwards
            t = self.system_unit_target('hog.service', user='alice')
            t.map('a', 64 * MIB)
            r = self.ctl(['reclaim', '-t', str(t.pid)], user='alice')
            self.assertEqual(r.returncode, 4, r.stderr)

Everything a case makes (users, groups, polkit rules, units, processes)
is removed by its cleanups, so the cases run in any order.
"""
import json
import os
import pwd
import subprocess
import sys
import time
import unittest

SRC = '/srv/memadvise'
STATE = '/var/lib/memadvise-system'
BUILD = os.path.join(STATE, 'build')
TARGET = os.path.join(STATE, 'ma-test-target')
CTL = '/usr/bin/memadvisectl'
UNIT = 'memadvised.service'
RULE_EXAMPLE = '/usr/share/doc/memadvise/50-memadvise-group.rules.example'
RULE = '/etc/polkit-1/rules.d/50-memadvise-group.rules'
GROUP = 'memadvise-users'
MIB = 1024 * 1024
PAGE = os.sysconf('SC_PAGE_SIZE')
SEAT_SESSION_ENV = 'XDG_SEAT=seat0 XDG_SESSION_TYPE=tty XDG_SESSION_CLASS=user'


def run(argv, check=True, input=None, timeout=120, env=None):
    r = subprocess.run(argv, input=input, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True, timeout=timeout, env=env)
    if check and r.returncode != 0:
        raise RuntimeError('%s: exit %d\n%s%s'
                           % (' '.join(argv), r.returncode, r.stdout, r.stderr))
    return r


def processes_of(uid):
    """Pids whose real uid is uid."""
    pids = []
    for entry in os.listdir('/proc'):
        if entry.isdigit():
            try:
                with open('/proc/%s/status' % entry) as f:
                    uids = next(line for line in f if line.startswith('Uid:')).split()
            except (OSError, StopIteration):
                continue
            if int(uids[1]) == uid:
                pids.append(int(entry))
    return pids


def step(what, argv, **kwargs):
    t0 = time.monotonic()
    print('+ ' + ' '.join(argv), flush=True)
    r = subprocess.run(argv, **kwargs)
    if r.returncode != 0:
        sys.exit('%s failed (exit %d)' % (what, r.returncode))
    return time.monotonic() - t0


def install():
    """The README's "Building by hand", as a distribution builds it."""
    os.makedirs(STATE, exist_ok=True)
    if not os.path.exists(os.path.join(BUILD, 'build.ninja')):
        step('meson setup', ['meson', 'setup', BUILD, SRC, '--prefix=/usr', '-Dtests=false'])
    t = step('build', ['ninja', '-C', BUILD])
    print('memadvise built in %.1f s' % t, flush=True)
    step('install', ['meson', 'install', '-C', BUILD, '--no-rebuild', '--quiet'])
    step('sysusers', ['systemd-sysusers', '/usr/lib/sysusers.d/memadvised.conf',
                      '/usr/lib/sysusers.d/memadvise-metrics.conf'])
    step('daemon-reload', ['systemctl', 'daemon-reload'])
    step('reload dbus', ['systemctl', 'reload', 'dbus'])
    # An upgrade: a running daemon is restarted on the new binary.
    step('try-restart', ['systemctl', 'try-restart', UNIT])
    if not os.path.exists(TARGET):
        flags = run(['pkg-config', '--cflags', '--libs', 'glib-2.0']).stdout.split()
        step('ma-test-target', ['cc', '-O2', '-D_GNU_SOURCE', '-pthread', '-o', TARGET,
                                os.path.join(SRC, 'tests/target/ma-test-target.c')] + flags)


def installed_paths():
    """Every path meson install created, from its log (files, then the
    directories it made)."""
    with open(os.path.join(BUILD, 'meson-logs', 'install-log.txt')) as f:
        return [line.rstrip('\n') for line in f if not line.startswith('#') and line.strip()]


def uninstall():
    """Stop, uninstall, and make systemd and the bus forget it."""
    run(['systemctl', 'stop', UNIT])
    run(['ninja', '-C', BUILD, 'uninstall'])
    run(['systemctl', 'daemon-reload'])
    run(['systemctl', 'reload', 'dbus'])


class Target:
    """A ma-test-target process (tests/target/ma-test-target.c) on pipes:
    started directly, through systemd-run --pipe, or in a scope."""

    def __init__(self, argv):
        self.argv = argv
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     universal_newlines=True)
        line = self.proc.stdout.readline().split()
        if len(line) != 2 or line[0] != 'ready':
            self.proc.kill()
            raise RuntimeError('%s did not start: %r' % (' '.join(argv), line))
        self.pid = int(line[1])

    def command(self, line):
        self.proc.stdin.write(line + '\n')
        self.proc.stdin.flush()
        reply = self.proc.stdout.readline().strip()
        if not reply.startswith('ok'):
            raise RuntimeError('ma-test-target %d: %s -> %s' % (self.pid, line, reply))
        return reply

    def map(self, name, size):
        """A private anonymous region of pseudo-random data."""
        return self.command('map %s anon %d' % (name, size))

    def checksum(self, name):
        return self.command('checksum %s' % name).split()[1]

    def residency(self, name):
        """(pages, present, swapped), read without touching the pages."""
        _, pages, present, swapped = self.command('residency %s' % name).split()
        return int(pages), int(present), int(swapped)

    def close(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write('exit\n')
                self.proc.stdin.flush()
            except BrokenPipeError:
                pass
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdin.close()
        self.proc.stdout.close()


class SystemCase(unittest.TestCase):
    maxDiff = None

    def setUp(self):
        self.cursor = run(['journalctl', '--quiet', '--lines=0', '--show-cursor']
                          ).stdout.strip().split('cursor: ', 1)[-1]

    # -- users and authorization -------------------------------------------------

    def add_user(self, name, linger=False):
        """A fresh user with a home; with linger, her user manager runs."""
        run(['useradd', '--create-home', '--user-group', name])
        self.addCleanup(self._remove_user, name)
        uid = pwd.getpwnam(name).pw_uid
        if linger:
            run(['loginctl', 'enable-linger', name])
            self.wait_for(lambda: run(['systemctl', 'is-active', 'user@%d.service' % uid],
                                      check=False).stdout.strip() == 'active'
                          and os.path.exists('/run/user/%d/bus' % uid),
                          30, 'the user manager of %s' % name)
        return uid

    def _remove_user(self, name):
        uid = pwd.getpwnam(name).pw_uid
        run(['loginctl', 'disable-linger', name], check=False)
        run(['loginctl', 'terminate-user', name], check=False)
        run(['systemctl', 'stop', 'user@%d.service' % uid], check=False)
        deadline = time.monotonic() + 10
        while processes_of(uid) and time.monotonic() < deadline:
            time.sleep(0.2)
        for pid in processes_of(uid):
            print('killing pid %d of %s, left by the case' % (pid, name), flush=True)
            try:
                os.kill(pid, 9)
            except ProcessLookupError:
                pass
        run(['userdel', '--remove', '--force', name], check=False)

    def allow_group(self, *users):
        """The README's example rule for servers: the group memadvise-users
        may reclaim its own processes without a session."""
        run(['groupadd', '--system', GROUP])
        self.addCleanup(run, ['groupdel', GROUP], check=False)
        for user in users:
            run(['usermod', '--append', '--groups', GROUP, user])
        run(['install', '-m', '644', RULE_EXAMPLE, RULE])
        self.addCleanup(self._remove_rule, users[0])
        self._wait_for_polkit(users[0], True)

    def _remove_rule(self, user):
        os.unlink(RULE)
        self._wait_for_polkit(user, False)

    def _wait_for_polkit(self, user, allowed):
        """Until polkitd has (re)read its rules: reclaim-own for a process
        of user, as pkcheck asks it."""
        probe = subprocess.Popen(['setpriv', '--reuid=' + user, '--regid=' + user,
                                  '--init-groups', 'sleep', '60'])
        self.addCleanup(probe.wait)
        self.addCleanup(probe.kill)
        self.wait_for(lambda: (run(['pkcheck', '--action-id', 'org.memadvise.reclaim-own',
                                    '--process', str(probe.pid)], check=False).returncode == 0)
                      == allowed, 20, 'polkitd to read its rules')

    def open_seat_session(self, user):
        """A login session of user on seat0, active, as a display manager
        opens one for the desktop (XDG_SEAT in its PAM environment); it
        lasts until the case ends."""
        uid = pwd.getpwnam(user).pw_uid
        unit = 'memadvise-case-seat-%s.service' % user
        run(['systemd-run', '--quiet', '--collect', '--unit=' + unit, '--property=PAMName=login',
             '--property=User=' + user, '--property=Environment=' + SEAT_SESSION_ENV,
             'sleep', 'infinity'])
        self.addCleanup(run, ['systemctl', 'stop', unit], check=False)

        def active_on_seat0():
            for line in run(['loginctl', 'list-sessions', '--no-legend']).stdout.splitlines():
                fields = line.split()
                if fields[1:4] == [str(uid), user, 'seat0']:
                    props = run(['loginctl', 'show-session', fields[0], '--property=Active']
                                ).stdout.strip()
                    return props == 'Active=yes'
            return False
        self.wait_for(active_on_seat0, 20, 'an active seat0 session of %s' % user)

    # -- running memadvisectl --------------------------------------------------------

    def ctl(self, args, user=None, where='plain', timeout=120):
        """memadvisectl ARGS as root or as a user: 'plain' (runuser: no
        session, no user manager), 'manager' (a transient service of her
        user manager), or 'seat' (a logind session on seat0)."""
        argv = [CTL] + args
        if user is None:
            return run(argv, check=False, timeout=timeout)
        if where == 'plain':
            return run(['runuser', '-u', user, '--'] + argv, check=False, timeout=timeout)
        if where == 'manager':
            return self.in_manager(user, argv, check=False)
        if where == 'seat':
            return run(['systemd-run', '--quiet', '--wait', '--pipe', '--collect',
                        '--service-type=exec', '--property=PAMName=login',
                        '--property=User=%s' % user,
                        '--property=Environment=%s' % SEAT_SESSION_ENV] + argv,
                       check=False, timeout=timeout)
        raise ValueError(where)

    def ctl_json(self, args, user=None, where='plain', expect=0):
        r = self.ctl(args + ['--json'], user=user, where=where)
        self.assertEqual(r.returncode, expect, 'memadvisectl %s: %s%s' % (' '.join(args),
                                                                          r.stdout, r.stderr))
        return json.loads(r.stdout)

    def in_manager(self, user, argv, check=True):
        """argv as a transient service of her user manager."""
        return run(['systemd-run', '--machine=%s@' % user, '--user', '--quiet', '--wait',
                    '--pipe', '--collect', '--service-type=exec'] + argv, check=check)

    def user_systemctl(self, user, *args, check=True):
        return run(['systemctl', '--machine=%s@' % user, '--user'] + list(args), check=check)

    # -- targets -------------------------------------------------------------------------

    def target(self, argv_prefix):
        t = Target(argv_prefix + [TARGET])
        self.addCleanup(t.close)
        return t

    def system_unit_target(self, unit, user=None):
        """ma-test-target as a transient system service, as systemd-run
        --unit=UNIT makes it."""
        argv = ['systemd-run', '--quiet', '--pipe', '--collect', '--unit=' + unit]
        if user is not None:
            argv.append('--uid=' + user)
        t = self.target(argv)
        self.addCleanup(run, ['systemctl', 'stop', unit], check=False)
        return t

    def user_unit_target(self, user, unit):
        """A service of her user manager (app-…@N.service)."""
        t = self.target(['systemd-run', '--machine=%s@' % user, '--user', '--quiet', '--pipe',
                         '--collect', '--unit=' + unit])
        self.addCleanup(run, ['systemctl', '--machine=%s@' % user, '--user', 'stop', unit],
                        check=False)
        return t

    def user_scope_target(self, user, unit):
        """A scope of her user manager (app-…-N.scope), as a desktop's
        launcher makes one: systemd-run --user --scope, run by her."""
        uid = pwd.getpwnam(user).pw_uid
        return self.target(['runuser', '-u', user, '--', 'env',
                            'XDG_RUNTIME_DIR=/run/user/%d' % uid,
                            'DBUS_SESSION_BUS_ADDRESS=unix:path=/run/user/%d/bus' % uid,
                            'systemd-run', '--user', '--quiet', '--scope', '--unit=' + unit])

    # -- checks ----------------------------------------------------------------------------

    def wait_for(self, predicate, timeout, what):
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                self.fail('timed out after %d s waiting for %s' % (timeout, what))
            time.sleep(0.2)

    def filled(self, target, name='a', size=64 * MIB):
        """Maps and fills a region; returns its checksum."""
        target.map(name, size)
        return target.checksum(name)

    def assert_paged_out(self, target, checksum, name='a'):
        pages, present, swapped = target.residency(name)
        self.assertGreaterEqual(swapped, pages * 9 // 10,
                                'pid %d: %d of %d pages in swap' % (target.pid, swapped, pages))
        self.assertEqual(target.checksum(name), checksum, 'contents changed')

    def assert_untouched(self, target, checksum, name='a'):
        pages, present, swapped = target.residency(name)
        self.assertEqual((present, swapped), (pages, 0), 'pid %d was advised' % target.pid)
        self.assertEqual(target.checksum(name), checksum, 'contents changed')

    def journal(self, *match):
        """Journal entries since the case started, as dicts."""
        run(['journalctl', '--sync'])
        # Not --after-cursor: with matches it skips the first matching entry
        # (it assumes the cursor's own entry matches).
        r = run(['journalctl', '--output=json', '--cursor=' + self.cursor] + list(match))
        entries = [json.loads(line) for line in r.stdout.splitlines() if line.strip()]
        return [e for e in entries if e['__CURSOR'] != self.cursor]

    def wait_for_journal(self, predicate, *match, what='a journal entry'):
        """The first entry since the case started for which predicate is
        true; journald may take a moment to have it."""
        found = []
        self.wait_for(lambda: found.extend(e for e in self.journal(*match) if predicate(e))
                      or found, 10, what)
        return found[0]

    def daemon_pid(self):
        return int(run(['systemctl', 'show', '--property=MainPID', '--value', UNIT]
                       ).stdout.strip())


def list_cases(classes):
    loader = unittest.defaultTestLoader
    return ['%s.%s' % (c.__name__, name) for c in classes
            for name in loader.getTestCaseNames(c)]


def main(classes):
    """--list for meson (run on the host), else one case by name."""
    if sys.argv[1:] == ['--list']:
        print('\n'.join(list_cases(classes)))
        return
    unittest.main(module='__main__', verbosity=2)


if __name__ == '__main__':
    if sys.argv[1:] == ['install']:
        install()
    elif sys.argv[1:] == ['uninstall']:
        uninstall()
    else:
        sys.exit(__doc__)
