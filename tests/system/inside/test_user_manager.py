#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""A real systemd user manager (a lingering user): --user --unit and --app
on app units named as the desktops name them, the session agent as a user
unit, and coldness (a min-idle reclaim) under the unit."""
import os
import pwd
import time

from ma_system import MIB, SystemCase, main, run

PAGEOUT_ALL = ['-m', 'pageout', '-p', '100']
AGENT = 'memadvise-session.service'
XATTR = 'user.xdg.inactive-since'


def overlaps(ranges, start, length):
    """Whether memadvisectl's --verbose ranges touch [start, start + length)."""
    return any(int(r['start'], 16) < start + length and start < int(r['start'], 16) + r['length']
               for r in ranges)


class UserManager(SystemCase):

    def setUp(self):
        super().setUp()
        self.add_user('alice', linger=True)
        self.allow_group('alice')

    def test_user_unit_is_resolved_by_her_user_manager(self):
        unit = 'app-gnome-org.example.Hog@4243.service'
        t = self.user_unit_target('alice', unit)
        checksum = self.filled(t)
        r = self.ctl(['reclaim', '--user', '--unit', unit] + PAGEOUT_ALL, user='alice',
                     where='manager')
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assert_paged_out(t, checksum)

    def test_app_finds_her_app_units_as_each_desktop_names_them(self):
        hog = [self.user_scope_target('alice', 'app-gnome-org.example.Hog-4242.scope'),
               self.user_unit_target('alice', 'app-gnome-org.example.Hog@4243.service'),
               self.user_unit_target('alice', 'app-org.example.Hog@4244.service')]
        other = self.user_scope_target('alice', 'app-gnome-org.example.Hogwarts-4245.scope')
        checksums = [self.filled(t) for t in hog]
        other_checksum = self.filled(other)
        result = self.ctl_json(['reclaim', '--app', 'org.example.Hog'] + PAGEOUT_ALL,
                               user='alice', where='manager')
        self.assertEqual(sorted((x['pid'], x['status']) for x in result['targets']),
                         sorted((t.pid, 'ok') for t in hog))
        for t, checksum in zip(hog, checksums):
            self.assert_paged_out(t, checksum)
        self.assert_untouched(other, other_checksum)

    def test_app_id_with_a_dash_is_found_escaped(self):
        t = self.user_scope_target('alice', r'app-gnome-org.example.my\x2dapp-4246.scope')
        result = self.ctl_json(['plan', '--app', 'org.example.my-app'], user='alice',
                               where='manager')
        self.assertEqual([x['pid'] for x in result['targets']], [t.pid])

    def test_min_idle_pages_out_the_cold_part_and_keeps_the_hot_one(self):
        # Coldness under the unit: the daemon cannot clear another user's
        # accessed bits, so it samples during min-idle (memadvised(8),
        # "Access sampling"). One mapping each: its first 16 MiB hot.
        hog = self.system_unit_target('alicehog.service', user='alice')
        twin = self.system_unit_target('alicetwin.service', user='alice')
        starts = {}
        for t in (hog, twin):
            starts[t.pid] = int(t.map('all', 64 * MIB).split()[1], 16)
            t.command('hot all 1 2 0 %d' % (16 * MIB))
        checksum = hog.checksum('all')
        half = ['-m', 'pageout', '-p', '50', '--verbose']

        # Without a signal the hot part, first in the mapping, goes first.
        blind = self.ctl_json(['plan', '-t', str(twin.pid)] + half, user='alice')
        self.assertTrue(overlaps(blind['targets'][0]['ranges'], starts[twin.pid], 16 * MIB))

        result = self.ctl_json(['reclaim', '-t', str(hog.pid), '--min-idle', '3'] + half,
                               user='alice')
        self.assertEqual(result['min_idle'], 3)
        x = result['targets'][0]
        self.assertEqual((x['pid'], x['status']), (hog.pid, 'ok'), x['message'])
        self.assertEqual(x['advised_bytes'], x['planned_bytes'])
        self.assertGreaterEqual(x['planned_bytes'], 30 * MIB)
        self.assertFalse(overlaps(x['ranges'], starts[hog.pid], 16 * MIB), x['ranges'][:8])
        for t in (hog, twin):
            t.command('cool all')
        self.assertEqual(hog.checksum('all'), checksum)


class SessionAgent(SystemCase):
    """memadvise-session as a desktop user runs it: her user manager, an
    active seat0 session (no polkit rule), apps as app-gnome-*.scope."""

    def setUp(self):
        super().setUp()
        self.uid = self.add_user('alice', linger=True)
        self.open_seat_session('alice')
        self.slice = ('/sys/fs/cgroup/user.slice/user-%d.slice/user@%d.service/app.slice'
                      % (self.uid, self.uid))

    def write_home_file(self, rel, text):
        """A file of hers, written by her."""
        path = os.path.join(pwd.getpwnam('alice').pw_dir, rel)
        run(['runuser', '-u', 'alice', '--', 'mkdir', '-p', os.path.dirname(path)])
        run(['runuser', '-u', 'alice', '--', 'sh', '-c', 'cat > "$1"', 'sh', path], input=text)

    def set_inactive_since(self, unit, value):
        """As Mutter does, as her: on the app's cgroup, "-1" while it has
        focus, else CLOCK_MONOTONIC microseconds of when it lost focus."""
        run(['runuser', '-u', 'alice', '--', 'python3', '-c',
             'import os, sys; os.setxattr(sys.argv[1], sys.argv[2], sys.argv[3].encode())',
             os.path.join(self.slice, unit), XATTR, value])

    def test_agent_reclaims_the_app_in_the_background_and_never_the_focused_one(self):
        self.write_home_file('.config/memadvise/session.conf',
                             '[Session]\nBackgroundSeconds=2\nMode=pageout\nPercent=100\n')
        r = self.ctl(['session', 'enable'], user='alice', where='manager')
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.addCleanup(self.user_systemctl, 'alice', 'disable', '--now', AGENT, check=False)
        self.assertEqual(self.user_systemctl('alice', 'is-active', AGENT).stdout.strip(),
                         'active')

        front_unit = 'app-gnome-org.example.Front-4251.scope'
        back_unit = 'app-gnome-org.example.Back-4250.scope'
        front = self.user_scope_target('alice', front_unit)
        back = self.user_scope_target('alice', back_unit)
        front_checksum, back_checksum = self.filled(front), self.filled(back)
        self.set_inactive_since(front_unit, '-1')
        now_us = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
        self.set_inactive_since(back_unit, str(now_us))

        self.wait_for(lambda: back.residency('a')[2] >= back.residency('a')[0] * 9 // 10, 30,
                      'the agent to page out the app in the background')
        self.wait_for_journal(lambda e: e.get('MESSAGE', '').startswith(
            'Reclaimed org.example.Back (background)'), '_SYSTEMD_USER_UNIT=' + AGENT,
            what="the agent's note of it")
        self.assert_paged_out(back, back_checksum)
        self.assert_untouched(front, front_checksum)

    def test_agent_is_a_user_unit_that_starts_with_the_graphical_session(self):
        r = self.ctl(['session', 'enable'], user='alice', where='manager')
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.addCleanup(self.user_systemctl, 'alice', 'disable', '--now', AGENT, check=False)
        self.assertEqual(self.user_systemctl('alice', 'is-enabled', AGENT).stdout.strip(),
                         'enabled')
        status = self.ctl(['session', 'status'], user='alice', where='manager')
        self.assertIn('User unit:     %s enabled' % AGENT, status.stdout)
        self.assertIn('Running:       yes', status.stdout)
        # On systemd the XDG autostart entry stays out of the way.
        self.assertNotIn('memadvise', self.user_systemctl(
            'alice', 'list-units', '--all', '--no-legend', 'app-*autostart*').stdout)

        # A desktop session pulls in graphical-session.target, which starts
        # the agent (WantedBy=) and, when it ends, stops it (PartOf=).
        self.user_systemctl('alice', 'stop', AGENT)
        self.write_home_file('.config/systemd/user/memadvise-case-desktop.target',
                             '[Unit]\nBindsTo=graphical-session.target\n'
                             'Before=graphical-session.target\n')
        self.user_systemctl('alice', 'daemon-reload')
        self.user_systemctl('alice', 'start', 'memadvise-case-desktop.target')
        self.assertEqual(self.user_systemctl('alice', 'is-active', AGENT).stdout.strip(),
                         'active')
        self.user_systemctl('alice', 'stop', 'memadvise-case-desktop.target')
        self.assertEqual(self.user_systemctl('alice', 'is-active', AGENT, check=False
                                             ).stdout.strip(), 'inactive')

        r = self.ctl(['session', 'disable'], user='alice', where='manager')
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(self.user_systemctl('alice', 'is-enabled', AGENT, check=False
                                             ).stdout.strip(), 'disabled')


if __name__ == '__main__':
    main([UserManager, SessionAgent])
