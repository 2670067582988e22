#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""memadvise-session against the real memadvised on a private system bus:
real app cgroups under user@UID.service/app.slice holding ma-test-target
processes of a test user, user.xdg.inactive-since set as Mutter sets it,
dbusmock's gnome_screensaver on a private session bus and
low_memory_monitor on the private system bus. Decisions are read from
the daemon's statistics (calls-reclaim) and, in pageout mode, from the
targets' swap."""
import json
import os
import shutil
import subprocess
import tempfile
import time
import unittest

from gi.repository import Gio, GLib

import ma_harness
from ma_harness import MaTestCase, PYTHON, build_file, cgroup2_root, needs_swap, remove_cgroup

MiB = 1024 * 1024
XATTR = 'user.xdg.inactive-since'
SESSION_NAME = 'org.memadvise.Session1'
SESSION_PATH = '/org/memadvise/Session1'
LMM_NAME = 'org.freedesktop.LowMemoryMonitor'


def monotonic_us():
    return int(time.clock_gettime(time.CLOCK_MONOTONIC) * 1000000)


def swap_bytes(pid):
    return int(ma_harness.status_of(pid)['VmSwap'].split()[0]) * 1024


def agent_binary():
    return build_file('MA_SESSION', 'client/session/memadvise-session')


def _remove_cgroups(paths):
    """Removes the cgroups created, deepest first."""
    for path in sorted(paths, key=len, reverse=True):
        if os.path.isdir(path):
            remove_cgroup(path)


class SessionTestCase(MaTestCase):
    mode = 'cold'
    daemon_config = None  # memadvised.conf, as start_daemon() takes it

    def setUp(self):
        super().setUp()
        self.user = self.add_user()
        self.uid = self.uid_of(self.user)
        self.polkit = self.start_polkit_mock()
        # An active session's user may reclaim its own processes without
        # a prompt (reclaim-own allow_active=yes); the mock stands for it.
        self.polkit.SetAllowed('(as)', ['org.memadvise.reclaim-own'])
        self.start_daemon(config=self.daemon_config)
        self.start_session_bus()
        self.slice_rel = 'user.slice/user-%d.slice/user@%d.service/app.slice' % (self.uid, self.uid)
        self.created = []
        self._defer(_remove_cgroups, self.created)
        self.mkdirs(self.slice_rel)
        self.apps = 0

    def mkdirs(self, rel):
        path = cgroup2_root()
        for part in rel.split('/'):
            path = os.path.join(path, part)
            if not os.path.isdir(path):
                os.mkdir(path)
                self.created.append(path)
        return path

    def start_session_bus(self):
        socket = os.path.join(self.tmpdir, 'session_bus_socket')
        config = os.path.join(self.tmpdir, 'session.conf')
        with open(config, 'w') as f:
            f.write('''<!DOCTYPE busconfig PUBLIC
 "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=%s</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
''' % socket)
        proc = subprocess.Popen(['dbus-daemon', '--config-file=' + config, '--nofork',
                                 '--print-address'], stdout=subprocess.PIPE,
                                universal_newlines=True)
        self._defer(ma_harness._kill, proc)
        self.session_address = proc.stdout.readline().strip()
        self.assertTrue(self.session_address, 'the session dbus-daemon did not start')
        self.session_bus = Gio.DBusConnection.new_for_address_sync(
            self.session_address,
            Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT |
            Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION, None, None)
        self._defer(self.session_bus.close_sync, None)

    def session_env(self):
        env = self.bus_env()
        env['DBUS_SESSION_BUS_ADDRESS'] = self.session_address
        return env

    def wait_for_session_name(self, name, proc, timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            reply = self.session_bus.call_sync('org.freedesktop.DBus', '/org/freedesktop/DBus',
                                               'org.freedesktop.DBus', 'NameHasOwner',
                                               GLib.Variant('(s)', (name,)), None, 0, 5000, None)
            if reply.unpack()[0]:
                return
            self.assertIsNone(proc.poll(), '%s exited' % name)
            time.sleep(0.05)
        self.fail('%s did not appear on the session bus' % name)

    def add_app(self, app_id='org.example.App', size=16 * MiB):
        """An app scope holding a target of the test user with @size bytes
        of anonymous memory; returns (target, cgroup path)."""
        self.apps += 1
        unit = 'app-gnome-%s-%d.scope' % (app_id, 1000 + self.apps)
        path = self.mkdirs(os.path.join(self.slice_rel, unit))
        target = self.spawn_target(self.user)
        target.map('a', 'anon', size)
        with open(os.path.join(path, 'cgroup.procs'), 'w') as f:
            f.write(str(target.pid))
        return target, path

    def set_inactive_since(self, path, value):
        os.setxattr(path, XATTR, str(value).encode())

    def start_agent(self, cgroup=None, **keys):
        config = {'BackgroundSeconds': '2', 'BackoffSeconds': '3600', 'Mode': self.mode,
                  'Percent': '100', 'MaxBytesPerMinute': '0'}
        config.update({k: str(v) for k, v in keys.items()})
        path = os.path.join(self.tmpdir, 'session.conf')
        with open(path, 'w') as f:
            f.write('[Session]\n')
            for key, value in config.items():
                f.write('%s=%s\n' % (key, value))
        os.chmod(self.tmpdir, 0o755)
        os.chmod(path, 0o644)
        self.agent_log = open(os.path.join(self.tmpdir, 'agent.log'), 'w+')
        self._defer(self.agent_log.close)
        argv = (['runuser', '-u', self.user, '--', 'env', '-i'] +
                ['%s=%s' % kv for kv in self.session_env().items()] +
                ['G_DEBUG=fatal-criticals', agent_binary(), '--verbose', '--config', path])
        if cgroup is not None:
            # Started inside @cgroup, as systemd starts a unit.
            argv = ['sh', '-c', 'echo $$ > "$0"/cgroup.procs && exec "$@"', cgroup] + argv
        self.agent = subprocess.Popen(argv, stdout=self.agent_log, stderr=subprocess.STDOUT)
        self._defer(ma_harness._kill, self.agent)
        self.wait_for_session_name(SESSION_NAME, self.agent)
        self.wait_for_log('Watching the apps in %s' % self.slice_rel)

    def log_text(self):
        self.agent_log.flush()
        with open(self.agent_log.name) as f:
            return f.read()

    def wait_for_log(self, text, timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.log_text():
                return
            self.assertIsNone(self.agent.poll(), 'the agent exited:\n' + self.log_text())
            time.sleep(0.05)
        self.fail('%r not in the agent log:\n%s' % (text, self.log_text()))

    def reclaims(self):
        return self.statistics()['calls-reclaim']

    def wait_for_reclaims(self, count, timeout=15):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.reclaims() >= count:
                return
            self.assertIsNone(self.agent.poll(), 'the agent exited:\n' + self.log_text())
            time.sleep(0.1)
        self.fail('%d reclaims, not %d:\n%s' % (self.reclaims(), count, self.log_text()))

    def assertReclaimsStay(self, count, seconds):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.assertEqual(self.reclaims(), count, self.log_text())
            self.assertIsNone(self.agent.poll(), 'the agent exited:\n' + self.log_text())
            time.sleep(0.1)

    def call_session(self, method, app_id):
        self.session_bus.call_sync(SESSION_NAME, SESSION_PATH, SESSION_NAME, method,
                                   GLib.Variant('(s)', (app_id,)), None, 0, 5000, None)


class SessionTest(SessionTestCase):

    def test_background_app_is_reclaimed_after_the_delay(self):
        _, path = self.add_app()
        self.start_agent(BackgroundSeconds=3)
        self.set_inactive_since(path, monotonic_us())
        start = time.monotonic()
        self.wait_for_reclaims(1)
        self.assertGreaterEqual(time.monotonic() - start, 2.5)
        self.wait_for_log('Reclaimed org.example.App (background)')
        self.assertGreater(self.statistics()['advised-bytes-cold'], 0)
        # By its cgroup: memadvised lists the app's processes itself, so no
        # pid the agent read (and no pidfd) passes between them.
        log = self.daemon_log_text()
        self.assertIn('ReclaimCgroup from', log)
        self.assertNotIn('Reclaim from', log)
        self.assertNotIn('ReclaimPidfds from', log)

    def test_app_in_background_before_the_agent_started_is_reclaimed(self):
        _, path = self.add_app()
        self.set_inactive_since(path, monotonic_us() - 60 * 1000000)
        self.start_agent(BackgroundSeconds=30)
        self.wait_for_reclaims(1, timeout=10)

    def test_focused_app_is_never_reclaimed(self):
        _, path = self.add_app()
        self.set_inactive_since(path, -1)
        self.start_agent(BackgroundSeconds=1)
        self.assertReclaimsStay(0, 3)

    def test_focused_app_is_not_reclaimed_on_screen_lock(self):
        _, focused = self.add_app('org.example.Focused')
        _, background = self.add_app('org.example.Background')
        self.set_inactive_since(focused, -1)
        self.set_inactive_since(background, monotonic_us())
        screensaver = self.start_screensaver()
        self.start_agent(BackgroundSeconds=3600)
        screensaver.SetActive('(b)', True)
        self.wait_for_reclaims(1)
        self.wait_for_log('Reclaimed org.example.Background (screen lock)')
        self.assertReclaimsStay(1, 2)
        self.assertNotIn('Reclaimed org.example.Focused', self.log_text())

    def test_app_that_comes_to_the_front_before_the_delay_is_not_reclaimed(self):
        _, path = self.add_app()
        self.start_agent(BackgroundSeconds=3)
        self.set_inactive_since(path, monotonic_us())
        time.sleep(1)
        self.set_inactive_since(path, -1)
        self.assertReclaimsStay(0, 4)

    def test_screen_lock_reclaims_every_background_app(self):
        paths = [self.add_app('org.example.App%d' % i)[1] for i in range(3)]
        for path in paths:
            self.set_inactive_since(path, monotonic_us())
        screensaver = self.start_screensaver()
        self.start_agent(BackgroundSeconds=3600)
        self.assertReclaimsStay(0, 1)
        screensaver.SetActive('(b)', True)
        self.wait_for_reclaims(3)
        for i in range(3):
            self.wait_for_log('Reclaimed org.example.App%d (screen lock)' % i)

    def test_screen_unlock_reclaims_nothing(self):
        _, path = self.add_app()
        self.set_inactive_since(path, monotonic_us())
        screensaver = self.start_screensaver()
        self.start_agent(BackgroundSeconds=3600)
        screensaver.SetActive('(b)', False)
        self.wait_for_log('ActiveChanged(false)')
        self.assertReclaimsStay(0, 1)

    def test_low_memory_warning_reclaims_the_longest_idle_app(self):
        now = monotonic_us()
        _, older = self.add_app('org.example.Older')
        _, newer = self.add_app('org.example.Newer')
        self.set_inactive_since(newer, now - 10 * 1000000)
        self.set_inactive_since(older, now - 20 * 1000000)
        lmm = self.start_low_memory_monitor()
        # PSI's "some avg10" is never at or above 100: pressure always
        # "falls" after the first app, so exactly one is reclaimed.
        self.start_agent(BackgroundSeconds=3600, PressureRecoveredAvg10=100)
        self.wait_for_log('low-memory-monitor runs')
        lmm.EmitWarning('(y)', 100)
        self.wait_for_reclaims(1)
        self.wait_for_log('Reclaimed org.example.Older (memory pressure)')
        self.assertReclaimsStay(1, 2)

    def test_low_memory_warning_reclaims_until_pressure_falls(self):
        for i in range(3):
            self.set_inactive_since(self.add_app('org.example.App%d' % i)[1], monotonic_us())
        lmm = self.start_low_memory_monitor()
        # avg10 is always at or above 0: pressure never falls, so every
        # background app is reclaimed, one after the other.
        self.start_agent(BackgroundSeconds=3600, PressureRecoveredAvg10=0)
        self.wait_for_log('low-memory-monitor runs')
        lmm.EmitWarning('(y)', 50)
        self.wait_for_reclaims(3)
        self.assertReclaimsStay(3, 1)

    def test_forged_screen_lock_reclaims_nothing_the_real_one_does(self):
        # Another peer of the session bus sends ActiveChanged(true) as if it
        # were the screensaver: to everyone and to the agent alone, under
        # both interfaces. Only the owner of the name is followed.
        _, path = self.add_app()
        self.set_inactive_since(path, monotonic_us())
        screensaver = self.start_screensaver()
        self.start_agent(BackgroundSeconds=3600)
        self.wait_for_log('org.gnome.ScreenSaver is ')
        agent = self.session_bus.call_sync(
            'org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus',
            'GetNameOwner', GLib.Variant('(s)', (SESSION_NAME,)), None, 0, 5000, None).unpack()[0]
        for name, path in (('org.gnome.ScreenSaver', '/org/gnome/ScreenSaver'),
                           ('org.freedesktop.ScreenSaver', '/org/freedesktop/ScreenSaver'),
                           ('org.freedesktop.ScreenSaver', '/ScreenSaver')):
            for destination in (None, agent):
                self.session_bus.emit_signal(destination, path, name, 'ActiveChanged',
                                             GLib.Variant('(b)', (True,)))
        self.session_bus.flush_sync(None)
        self.assertReclaimsStay(0, 2)
        self.assertNotIn('ActiveChanged(true)', self.log_text())
        screensaver.SetActive('(b)', True)
        self.wait_for_reclaims(1)
        self.wait_for_log('Reclaimed org.example.App (screen lock)')

    def test_forged_low_memory_warning_reclaims_nothing_the_real_one_does(self):
        _, path = self.add_app()
        self.set_inactive_since(path, monotonic_us())
        lmm = self.start_low_memory_monitor()
        self.start_agent(BackgroundSeconds=3600, PressureRecoveredAvg10=100)
        self.wait_for_log('low-memory-monitor runs')
        agent = self.system_bus_name_of('memadvise-sessi')
        for destination in (None, agent):
            self.bus.emit_signal(destination, '/org/freedesktop/LowMemoryMonitor', LMM_NAME,
                                 'LowMemoryWarning', GLib.Variant('(y)', (255,)))
        self.bus.flush_sync(None)
        self.assertReclaimsStay(0, 2)
        self.assertNotIn('LowMemoryWarning', self.log_text())
        lmm.EmitWarning('(y)', 100)
        self.wait_for_reclaims(1)
        self.wait_for_log('Reclaimed org.example.App (memory pressure)')

    def system_bus_name_of(self, comm):
        """The unique name on the private system bus of the process whose
        comm is @comm."""
        names = self.bus.call_sync('org.freedesktop.DBus', '/org/freedesktop/DBus',
                                   'org.freedesktop.DBus', 'ListNames', None, None, 0, 5000,
                                   None).unpack()[0]
        for name in names:
            if not name.startswith(':'):
                continue
            pid = self.name_owner_pid(name)
            with open('/proc/%d/comm' % pid) as f:
                if f.read().strip() == comm:
                    return name
        self.fail('no connection of %s on the system bus' % comm)

    def test_app_backgrounded_through_session1_is_reclaimed(self):
        self.add_app('org.kde.dolphin')
        self.start_agent(BackgroundSeconds=2)
        self.call_session('AppForegrounded', 'org.kde.dolphin.desktop')
        self.assertReclaimsStay(0, 3)
        self.call_session('AppBackgrounded', 'org.kde.dolphin')
        self.wait_for_reclaims(1)
        self.wait_for_log('Reclaimed org.kde.dolphin (background)')

    def test_session1_rejects_an_empty_app_id(self):
        self.start_agent()
        with self.assertRaises(GLib.Error) as cm:
            self.call_session('AppBackgrounded', '')
        self.assertIn('org.freedesktop.DBus.Error.InvalidArgs', cm.exception.message)
        self.call_session('AppBackgrounded', 'org.example.NotRunning')

    def test_back_off_prevents_a_second_reclaim(self):
        _, path = self.add_app()
        self.set_inactive_since(path, monotonic_us())
        screensaver = self.start_screensaver()
        self.start_agent(BackgroundSeconds=1, BackoffSeconds=3600)
        self.wait_for_reclaims(1)
        screensaver.SetActive('(b)', True)
        self.wait_for_log('screen lock: reclaiming 0 background apps')
        self.assertReclaimsStay(1, 2)

    def test_back_off_ends(self):
        _, path = self.add_app()
        self.set_inactive_since(path, monotonic_us())
        screensaver = self.start_screensaver()
        self.start_agent(BackgroundSeconds=1, BackoffSeconds=2)
        self.wait_for_reclaims(1)
        time.sleep(2.5)
        screensaver.SetActive('(b)', True)
        self.wait_for_reclaims(2)

    def test_coming_to_the_front_resets_the_back_off(self):
        _, path = self.add_app()
        self.set_inactive_since(path, monotonic_us())
        self.start_agent(BackgroundSeconds=1, BackoffSeconds=3600)
        self.wait_for_reclaims(1)
        self.set_inactive_since(path, -1)
        self.wait_for_log('came to the front')
        self.set_inactive_since(path, monotonic_us())
        self.wait_for_reclaims(2)

    def test_rate_cap_defers_the_next_reclaim(self):
        for i in range(2):
            self.set_inactive_since(self.add_app('org.example.App%d' % i)[1], monotonic_us())
        # The first call may advise 4 MiB of the app's 16: then the minute's
        # budget is spent and the second app waits for the next minute.
        self.start_agent(BackgroundSeconds=1, MaxBytesPerMinute='4M')
        self.wait_for_reclaims(1)
        self.wait_for_log('rate cap reached')
        self.assertReclaimsStay(1, 3)
        self.assertLessEqual(self.statistics()['advised-bytes-cold'], 4 * MiB)

    def test_app_scope_created_after_start_is_watched(self):
        self.start_agent(BackgroundSeconds=1)
        _, path = self.add_app('org.example.Late')
        self.wait_for_log('app org.example.Late (app-gnome-org.example.Late-1001.scope) appeared')
        self.set_inactive_since(path, monotonic_us())
        self.wait_for_reclaims(1)

    def test_agent_started_as_an_autostart_app_finds_the_slice_and_spares_itself(self):
        # The user manager below a container's cgroup, not at systemd's
        # usual place: only /proc/self/cgroup leads the agent to it.
        self.slice_rel = 'memadvise-test-%d/user.slice/user-%d.slice/user@%d.service/app.slice' % (
            os.getpid(), self.uid, self.uid)
        self.mkdirs(self.slice_rel)
        own = self.mkdirs(os.path.join(self.slice_rel, 'app-gnome-memadvise\\x2dsession-999.scope'))
        self.set_inactive_since(own, monotonic_us())
        _, path = self.add_app()
        self.set_inactive_since(path, monotonic_us())
        self.start_agent(cgroup=own, BackgroundSeconds=1)
        self.wait_for_reclaims(1)
        self.wait_for_log('Reclaimed org.example.App (background)')
        self.assertReclaimsStay(1, 2)
        self.assertNotIn('memadvise-session (background)', self.log_text())

    def test_bad_configuration_is_refused(self):
        path = os.path.join(self.tmpdir, 'bad.conf')
        with open(path, 'w') as f:
            f.write('[Session]\nMode=dontneed\n')
        os.chmod(self.tmpdir, 0o755)
        os.chmod(path, 0o644)
        r = subprocess.run(['runuser', '-u', self.user, '--', agent_binary(), '--config', path],
                           env=self.session_env(), stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, universal_newlines=True, timeout=30)
        self.assertEqual(r.returncode, 2, r.stdout)
        self.assertIn('Mode=dontneed', r.stdout)

    def test_arguments_are_printed_back_without_control_characters(self):
        for args, shown in ((['\x1b[2J\x1b[31mX\x07'], 'Unexpected argument'),
                            (['--\x1b]0;pwned\x07'], 'Unknown option')):
            with self.subTest(args=args):
                r = subprocess.run([agent_binary()] + args, env=self.session_env(),
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   universal_newlines=True, timeout=30)
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assertIn(shown, r.stderr)
                self.assertNotIn('\x1b', r.stderr)
                self.assertNotIn('\x07', r.stderr)

    # -- mocks -------------------------------------------------------------

    def start_screensaver(self):
        env = dict(self.session_env())
        proc = subprocess.Popen([PYTHON, '-m', 'dbusmock', '--template', 'gnome_screensaver'],
                                env=env, stdout=subprocess.DEVNULL)
        self._defer(ma_harness._kill, proc)
        self.wait_for_session_name('org.gnome.ScreenSaver', proc)
        return Gio.DBusProxy.new_sync(self.session_bus, Gio.DBusProxyFlags.DO_NOT_LOAD_PROPERTIES,
                                      None, 'org.gnome.ScreenSaver', '/org/gnome/ScreenSaver',
                                      'org.gnome.ScreenSaver', None)

    def start_low_memory_monitor(self):
        # The harness's private system bus lets root own only polkit's name:
        # add low-memory-monitor's the way its own bus policy file does.
        config = os.path.join(self.tmpdir, 'system.conf')
        with open(config) as f:
            text = f.read()
        self.assertIn('</busconfig>', text)
        with open(config, 'w') as f:
            f.write(text.replace('</busconfig>', '<policy user="root"><allow own="%s"/>'
                                 '<allow send_destination="%s"/></policy>\n'
                                 '</busconfig>' % (LMM_NAME, LMM_NAME)))
        self.bus.call_sync('org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus',
                           'ReloadConfig', None, None, 0, 5000, None)
        proc = subprocess.Popen([PYTHON, '-m', 'dbusmock', '--system', '--template',
                                 'low_memory_monitor'], env=self.bus_env(),
                                stdout=subprocess.DEVNULL)
        self._defer(ma_harness._kill, proc)
        self.wait_for_name(LMM_NAME, proc=proc)
        return Gio.DBusProxy.new_sync(self.bus, Gio.DBusProxyFlags.DO_NOT_LOAD_PROPERTIES, None,
                                      LMM_NAME, '/org/freedesktop/LowMemoryMonitor',
                                      'org.freedesktop.DBus.Mock', None)


@needs_swap('4G')
class SessionSwapTest(SessionTestCase):
    mode = 'pageout'

    def test_pageout_moves_the_background_app_to_swap(self):
        target, path = self.add_app(size=32 * MiB)
        before = swap_bytes(target.pid)
        self.start_agent(BackgroundSeconds=1, MinFreeSwapPercent=0)
        self.set_inactive_since(path, monotonic_us())
        self.wait_for_reclaims(1)
        self.wait_for_log('Reclaimed org.example.App (background)')
        after = swap_bytes(target.pid)
        self.assertGreater(after - before, 16 * MiB)

    def test_app_whose_pageout_came_back_waits_twice_as_long(self):
        hot, hot_path = self.add_app('org.example.Hot', size=32 * MiB)
        _, cold_path = self.add_app('org.example.Cold', size=32 * MiB)
        hot.command('hot a 1 20')  # uses all of its memory again at once
        self.start_agent(BackgroundSeconds=3, MinFreeSwapPercent=0)
        for path in (hot_path, cold_path):
            self.set_inactive_since(path, monotonic_us())
        self.wait_for_reclaims(2)
        self.wait_for_log('Reclaimed org.example.Cold (background)')
        self.wait_for_log('Reclaimed org.example.Hot (background)')
        plans = self.statistics()['calls-plan']

        # Both come to the front and go back: each delay ends in a
        # PlanCgroup that says what came back of the last pageout.
        for path in (hot_path, cold_path):
            self.set_inactive_since(path, -1)
        time.sleep(0.5)
        for path in (hot_path, cold_path):
            self.set_inactive_since(path, monotonic_us())
        self.wait_for_reclaims(3)
        self.wait_for_log('org.example.Hot: ')
        self.assertIn('its next reclaim waits twice as long', self.log_text())
        self.assertEqual(self.log_text().count('Reclaimed org.example.Cold (background)'), 2)
        self.assertEqual(self.log_text().count('Reclaimed org.example.Hot (background)'), 1)
        self.assertEqual(self.statistics()['calls-plan'], plans + 2)
        # The hot app is reclaimed after twice the delay, 6 s.
        self.wait_for_reclaims(4)
        deadline = time.monotonic() + 5
        while self.log_text().count('Reclaimed org.example.Hot (background)') < 2:
            self.assertLess(time.monotonic(), deadline, self.log_text())
            time.sleep(0.05)
        hot.command('cool a')

    def test_pageout_falls_back_to_cold_when_swap_is_short(self):
        # Some swap in use, so less than 100% of it is free.
        other = self.spawn_target(self.user)
        other.map('a', 'anon', 8 * MiB)
        self.call(self.user, 'Reclaim', [other.pid], 'pageout', {'percent': ('u', 100)})
        self.assertGreater(swap_bytes(other.pid), 0)
        target, path = self.add_app(size=32 * MiB)
        before = swap_bytes(target.pid)
        self.start_agent(BackgroundSeconds=1, MinFreeSwapPercent=100)
        self.set_inactive_since(path, monotonic_us())
        self.wait_for_reclaims(2)
        self.wait_for_log('with cold instead of pageout')
        self.assertLess(swap_bytes(target.pid) - before, MiB)


# Keeps touching every page of SIZE bytes, for a minute at most.
THRASH = """
import sys, time
size = int(sys.argv[1])
memory = bytearray(size)
end = time.monotonic() + 60
while time.monotonic() < end:
    for offset in range(0, size, 4096):
        memory[offset] = (memory[offset] + 1) & 255
"""


def _rmdir_quietly(path):
    try:
        os.rmdir(path)
    except OSError:
        pass


@needs_swap('4G')
class PressureSwapTest(SessionTestCase):
    """Real memory pressure, where low-memory-monitor does not run."""

    def thrash(self, limit=64 * MiB, size=256 * MiB):
        """A process that keeps touching @size bytes in a memory cgroup
        limited to @limit: it stalls on swap all the time, which PSI counts."""
        path = '/sys/fs/cgroup/memory/memadvise-test-%d' % os.getpid()
        os.mkdir(path)
        self._defer(_rmdir_quietly, path)
        with open(os.path.join(path, 'memory.limit_in_bytes'), 'w') as f:
            f.write(str(limit))
        proc = subprocess.Popen([PYTHON, '-c', THRASH, str(size)])
        self._defer(ma_harness._kill, proc)
        with open(os.path.join(path, 'cgroup.procs'), 'w') as f:
            f.write(str(proc.pid))
        return proc

    def wait_for_calm(self, timeout=60):
        """Until memory stalls (PSI "some total", in µs) grow by less than
        a millisecond in a second: an earlier test's pressure, or its
        swapoff, must not fire the trigger before this one makes its own."""
        def stalled_us():
            with open('/proc/pressure/memory') as f:
                return int(f.readline().split('total=')[1])
        deadline = time.monotonic() + timeout
        before = stalled_us()
        while time.monotonic() < deadline:
            time.sleep(1)
            now = stalled_us()
            if now - before < 1000:
                return
            before = now
        self.fail('memory stalls did not calm down within %d s' % timeout)

    def test_psi_trigger_reclaims_when_low_memory_monitor_is_absent(self):
        self.wait_for_calm()
        _, app = self.add_app('org.example.Idle')
        self.set_inactive_since(app, monotonic_us())
        # Pressure never counts as fallen (avg10 < 100 is impossible to
        # miss): one app is enough to show the trigger fired.
        self.start_agent(BackgroundSeconds=3600, PressureRecoveredAvg10=100, PsiStallMs=100,
                         PsiWindowMs=2000)
        self.wait_for_log('PSI trigger "some 100000 2000000" set')
        self.assertReclaimsStay(0, 1)
        self.thrash()
        self.wait_for_reclaims(1, timeout=40)
        self.wait_for_log('Reclaimed org.example.Idle (memory pressure)')


class SessionBusyTest(SessionTestCase):
    """memadvised's queue is full for the user: the agent tries again."""

    daemon_config = {'Daemon': {'MaxJobs': '1', 'MaxQueuedPerUser': '0'}}

    def test_busy_reclaim_is_tried_again_later(self):
        _, path = self.add_app()
        # The user's only place is taken for 5 s (a min-idle wait), and no
        # call of the user may wait: the agent's first call is Busy.
        other = self.spawn_target(self.user)
        holder = self.call_async(self.user, 'Plan', [other.pid], 'cold',
                                 {'min-idle': ('u', 5)}, timeout=60)
        ma_harness.wait_log(self, 'for min-idle')
        self.set_inactive_since(path, monotonic_us())
        self.start_agent(BackgroundSeconds=1)
        self.wait_for_log('memadvised is busy')
        self.assertIn('MaxQueuedPerUser', self.log_text())
        self.assertEqual(self.call_finish(holder)['value'][0][0]['status'], 'ok')
        self.assertEqual(self.statistics()['refused-calls'], {'busy': 1})
        self.wait_for_reclaims(1, timeout=45)
        # (A trigger of memory pressure on a busy machine may come first.)
        self.wait_for_log('Reclaimed org.example.App (')


class KWinScriptTest(unittest.TestCase):
    """data/kde/contents/code/main.js under node with KWin's workspace and
    callDBus stood in for: the calls it makes on activation changes."""

    def run_script(self, plasma6, events):
        script = os.path.join(ma_harness.SOURCE_ROOT, 'data', 'kde', 'contents', 'code', 'main.js')
        harness = """
const fs = require('fs');
const vm = require('vm');
const calls = [];
const handlers = [];
const signal = { connect: (f) => handlers.push(f) };
const workspace = %s
    ? { windowActivated: signal, activeWindow: %s }
    : { clientActivated: signal, activeClient: %s };
const context = { workspace: workspace,
                  callDBus: (...args) => calls.push(args) };
vm.runInNewContext(fs.readFileSync(%s, 'utf8'), context);
for (const w of %s)
    handlers.forEach((f) => f(w));
console.log(JSON.stringify(calls));
""" % ('true' if plasma6 else 'false', json.dumps(events[0]), json.dumps(events[0]),
            json.dumps(script), json.dumps(events[1:]))
        r = subprocess.run(['node', '-e', harness], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, universal_newlines=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        calls = json.loads(r.stdout)
        for c in calls:
            self.assertEqual(c[:3], [SESSION_NAME, SESSION_PATH, SESSION_NAME])
            self.assertEqual(len(c), 5)
        return [(c[3], c[4]) for c in calls]

    def test_focus_changes_become_session1_calls(self):
        dolphin = {'desktopFileName': 'org.kde.dolphin'}
        konsole = {'desktopFileName': 'org.kde.konsole'}
        calls = self.run_script(True, [dolphin, konsole, konsole, None, dolphin])
        self.assertEqual(calls, [
            ('AppForegrounded', 'org.kde.dolphin'),
            ('AppBackgrounded', 'org.kde.dolphin'), ('AppForegrounded', 'org.kde.konsole'),
            ('AppBackgrounded', 'org.kde.konsole'),
            ('AppForegrounded', 'org.kde.dolphin'),
        ])

    def test_plasma5_and_windows_without_an_app(self):
        panel = {'desktopFileName': 'org.kde.plasmashell', 'specialWindow': True}
        nameless = {'desktopFileName': ''}
        kate = {'desktopFileName': 'org.kde.kate'}
        calls = self.run_script(False, [None, kate, panel, nameless, kate])
        self.assertEqual(calls, [
            ('AppForegrounded', 'org.kde.kate'),
            ('AppBackgrounded', 'org.kde.kate'),
            ('AppForegrounded', 'org.kde.kate'),
        ])


class SessionCommandTest(unittest.TestCase):
    """memadvisectl session enable|disable|status without systemd: the
    autostart override in ~/.config/autostart."""

    def setUp(self):
        self.home = tempfile.mkdtemp(prefix='ma-session-home-')
        self.addCleanup(shutil.rmtree, self.home, True)
        self.override = os.path.join(self.home, 'config', 'autostart', 'memadvise-session.desktop')

    def ctl(self, *args):
        ctl = build_file('MA_MEMADVISECTL', 'client/memadvisectl')
        env = {'PATH': os.environ.get('PATH', '/usr/bin:/bin'), 'HOME': self.home,
               'XDG_CONFIG_HOME': os.path.join(self.home, 'config'),
               'XDG_RUNTIME_DIR': self.home, 'LANG': 'C.UTF-8'}
        return subprocess.run([ctl, 'session'] + list(args), env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, universal_newlines=True, timeout=30)

    def test_enable_writes_the_autostart_override_and_disable_removes_it(self):
        r = self.ctl('status')
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn('Autostart:     disabled', r.stdout)
        r = self.ctl('enable')
        self.assertEqual(r.returncode, 0, r.stderr)
        kf = GLib.KeyFile()
        kf.load_from_file(self.override, GLib.KeyFileFlags.NONE)
        self.assertFalse(kf.get_boolean('Desktop Entry', 'Hidden'))
        self.assertTrue(kf.get_boolean('Desktop Entry', 'X-GNOME-Autostart-enabled'))
        self.assertEqual(kf.get_string('Desktop Entry', 'Exec'), 'memadvise-session')
        self.assertIn('Autostart:     enabled', self.ctl('status').stdout)
        r = self.ctl('disable')
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertFalse(os.path.exists(self.override))
        self.assertIn('Autostart:     disabled', self.ctl('status').stdout)

    def test_installed_autostart_entry_is_off(self):
        kf = GLib.KeyFile()
        kf.load_from_file(os.path.join(ma_harness.SOURCE_ROOT, 'data', 'session',
                                       'memadvise-session.desktop.in'), GLib.KeyFileFlags.NONE)
        self.assertTrue(kf.get_boolean('Desktop Entry', 'Hidden'))
        self.assertFalse(kf.get_boolean('Desktop Entry', 'X-GNOME-Autostart-enabled'))

    def test_unknown_session_command_is_a_usage_error(self):
        for args in (('start',), (), ('enable', 'now')):
            with self.subTest(args=args):
                r = self.ctl(*args)
                self.assertEqual(r.returncode, 2, r.stdout)
                self.assertIn('Usage: memadvisectl session', r.stderr)


if __name__ == '__main__':
    ma_harness.main()
