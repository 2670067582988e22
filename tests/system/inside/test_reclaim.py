#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Reclaim through the installed daemon: root by pid, --name, --cgroup and
--unit; an ordinary user's own process under the example group rule and in
an active seat0 session; another user's process refused."""
from ma_system import SystemCase, main, run

PAGEOUT_ALL = ['-m', 'pageout', '-p', '100']


class Root(SystemCase):

    def test_root_pages_out_a_process_by_pid(self):
        t = self.target([])
        checksum = self.filled(t)
        result = self.ctl_json(['reclaim', '-t', str(t.pid)] + PAGEOUT_ALL)
        self.assertEqual([(x['pid'], x['status']) for x in result['targets']], [(t.pid, 'ok')])
        self.assert_paged_out(t, checksum)

    def test_root_pages_out_processes_by_name(self):
        targets = [self.target([]) for _ in range(2)]
        checksums = [self.filled(t) for t in targets]
        result = self.ctl_json(['reclaim', '--name', 'ma-test-target'] + PAGEOUT_ALL)
        self.assertEqual(sorted((x['pid'], x['status']) for x in result['targets']),
                         sorted((t.pid, 'ok') for t in targets))
        for t, checksum in zip(targets, checksums):
            self.assert_paged_out(t, checksum)

    def test_root_pages_out_a_cgroup(self):
        t = self.system_unit_target('barshog.service')
        checksum = self.filled(t)
        result = self.ctl_json(['reclaim', '--cgroup', 'system.slice/barshog.service']
                               + PAGEOUT_ALL)
        self.assertEqual([(x['pid'], x['status']) for x in result['targets']], [(t.pid, 'ok')])
        self.assert_paged_out(t, checksum)

    def test_root_pages_out_a_transient_system_unit(self):
        # As `systemd-run --unit=barshog` makes it.
        t = self.system_unit_target('barshog.service')
        checksum = self.filled(t)
        r = self.ctl(['reclaim', '--unit', 'barshog.service'] + PAGEOUT_ALL)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn('ok', r.stdout)
        self.assert_paged_out(t, checksum)
        # A name without a type is a service, as for systemctl.
        result = self.ctl_json(['plan', '--unit', 'barshog'])
        self.assertEqual([x['pid'] for x in result['targets']], [t.pid])

    def test_unit_that_is_not_loaded_is_one_sentence_not_a_crash(self):
        r = self.ctl(['reclaim', '--unit', 'memadvise-case-nothing.service'])
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertEqual(r.stderr.strip().count('\n'), 0, r.stderr)
        self.assertIn('memadvise-case-nothing.service', r.stderr)


class Users(SystemCase):

    def test_user_reclaims_her_own_process_under_the_group_rule(self):
        self.add_user('alice')
        t = self.system_unit_target('alicehog.service', user='alice')
        checksum = self.filled(t)
        # No session and no rule: a server asks for an administrator.
        r = self.ctl(['reclaim', '-t', str(t.pid)] + PAGEOUT_ALL, user='alice')
        self.assertEqual(r.returncode, 4, r.stdout + r.stderr)
        self.assert_untouched(t, checksum)

        self.allow_group('alice')
        result = self.ctl_json(['reclaim', '-t', str(t.pid)] + PAGEOUT_ALL, user='alice')
        self.assertEqual([(x['pid'], x['status']) for x in result['targets']], [(t.pid, 'ok')])
        self.assert_paged_out(t, checksum)

    def test_another_users_process_is_refused_and_untouched(self):
        self.add_user('alice')
        self.add_user('bob')
        self.allow_group('alice', 'bob')
        t = self.system_unit_target('bobhog.service', user='bob')
        checksum = self.filled(t)
        r = self.ctl(['reclaim', '-t', str(t.pid)] + PAGEOUT_ALL, user='alice')
        self.assertEqual(r.returncode, 4, r.stdout + r.stderr)
        self.assertEqual(r.stdout, '')
        self.assertIn('Not authorized', r.stderr)
        self.assert_untouched(t, checksum)

    def test_reclaim_own_needs_no_rule_in_an_active_seat_session(self):
        self.add_user('alice')
        t = self.system_unit_target('alicehog.service', user='alice')
        checksum = self.filled(t)
        r = self.ctl(['reclaim', '-t', str(t.pid)] + PAGEOUT_ALL, user='alice')
        self.assertEqual(r.returncode, 4, r.stdout + r.stderr)

        # A login session on seat0, as a display manager opens one.
        session = run(['systemd-run', '--quiet', '--wait', '--pipe', '--collect',
                       '--property=PAMName=login', '--property=User=alice',
                       '--property=Environment=XDG_SEAT=seat0 XDG_SESSION_TYPE=tty '
                       'XDG_SESSION_CLASS=user',
                       'sh', '-c', 'loginctl show-session "$XDG_SESSION_ID" '
                       '--property=Seat --property=Active --property=Remote --property=Class'])
        self.assertEqual(sorted(session.stdout.split()),
                         ['Active=yes', 'Class=user', 'Remote=no', 'Seat=seat0'])
        result = self.ctl_json(['reclaim', '-t', str(t.pid)] + PAGEOUT_ALL, user='alice',
                               where='seat')
        self.assertEqual([(x['pid'], x['status']) for x in result['targets']], [(t.pid, 'ok')])
        self.assert_paged_out(t, checksum)


if __name__ == '__main__':
    main([Root, Users])
