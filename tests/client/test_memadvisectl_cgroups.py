#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""memadvisectl --cgroup, --app and --unit against the real memadvised and
real cgroups under the cgroup2 root; one meson test per test method."""
import os

from test_memadvisectl import CtlTestCase, MiB, main
from ma_harness import cgroup2_root, remove_cgroup

APP_ID = 'org.example.Foo'


class CgroupCtlTest(CtlTestCase):

    def setUp(self):
        super().setUp()
        self.group = self.add_group()
        self.user = self.add_user(groups=[self.group])
        self.uid = self.uid_of(self.user)
        self.install_group_rule(self.group)

    def make_cgroup(self, rel):
        """Creates @rel and any missing parent; removes what it created."""
        root = cgroup2_root()
        first = rel.split('/')
        for i in range(1, len(first) + 1):
            if not os.path.exists(os.path.join(root, *first[:i])):
                self._defer(remove_cgroup, os.path.join(root, *first[:i]))
                break
        os.makedirs(os.path.join(root, rel), exist_ok=True)
        return rel

    def member(self, rel, size=16 * MiB):
        t = self.target(self.user, size=size)
        with open(os.path.join(cgroup2_root(), rel, 'cgroup.procs'), 'w') as f:
            f.write(str(t.pid))
        return t

    def app_slice(self):
        return ('user.slice/user-%d.slice/user@%d.service/app.slice' % (self.uid, self.uid))

    def test_cgroup_plan_json_and_table(self):
        self.start()
        rel = self.make_cgroup('memadvise-ctl-test-%d/child' % os.getpid())
        top = rel.split('/')[0]
        t1 = self.member(top)
        t2 = self.member(rel)
        data = self.ctl_json('--cgroup', top, '--dry-run', '-j', user=self.user)
        self.assertIs(data['dry_run'], True)
        self.assertEqual([x['pid'] for x in data['targets']], sorted([t1.pid, t2.pid]))
        for x in data['targets']:
            self.assertTarget(x, x['pid'])
            self.assertEqual(x['status'], 'ok')
            self.assertEqual(x['uid'], self.uid)
            self.assertIsNone(x['after'])
            self.assertGreaterEqual(x['eligible_bytes'], 16 * MiB)
        r = self.ctl('plan', '--cgroup', '/' + rel, user=self.user)
        self.assertEqual(r.rc, 0, r)
        self.assertIn(str(t2.pid), r.out)
        self.assertNotIn(str(t1.pid), r.out)

    def test_cgroup_reclaim_keeps_contents(self):
        self.start()
        top = self.make_cgroup('memadvise-ctl-test-%d' % os.getpid())
        t = self.member(top)
        before = t.checksum('a')
        data = self.ctl_json('--cgroup', top, '-p', '100', '-j', user=self.user)
        self.assertEqual([x['pid'] for x in data['targets']], [t.pid])
        self.assertEqual(data['targets'][0]['status'], 'ok')
        self.assertGreaterEqual(data['targets'][0]['advised_bytes'], 16 * MiB)
        self.assertIsNotNone(data['targets'][0]['after'])
        self.assertEqual(t.checksum('a'), before)

    def test_cgroup_empty_gives_no_targets(self):
        self.start()
        top = self.make_cgroup('memadvise-ctl-test-%d' % os.getpid())
        data = self.ctl_json('--cgroup', top, '-d', '-j', user=self.user)
        self.assertEqual(data['targets'], [])
        self.assertEqual(data['totals']['eligible_bytes'], 0)
        r = self.ctl('--cgroup', top, '-d', user=self.user)
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(r.err, '')

    def test_cgroup_invalid_path_exit_2(self):
        self.start()
        top = self.make_cgroup('memadvise-ctl-test-%d' % os.getpid())
        for path in ('../' + top, top + '/../' + top, top + '//x', 'memadvise-no-such-%d' % 1,
                     top + '/cgroup.procs'):
            with self.subTest(path=path):
                r = self.ctl('--cgroup', path, '-d', user=self.user)
                self.assertEqual(r.rc, 2, r)
                self.assertOneSentence(r.err)
                self.assertEqual(r.out, '')

    def test_app_finds_the_apps_scopes_under_the_user_manager(self):
        self.start()
        app = self.app_slice()
        gnome = self.make_cgroup(app + '/app-gnome-%s-1234.scope' % APP_ID)
        plain = self.make_cgroup(app + '/app-%s-5678.scope' % APP_ID)
        service = self.make_cgroup(app + '/app-gnome-%s@abc.service' % APP_ID)
        other = self.make_cgroup(app + '/app-gnome-%sBar-99.scope' % APP_ID)
        outside = self.make_cgroup('memadvise-ctl-test-%d/app-gnome-%s-1.scope'
                                   % (os.getpid(), APP_ID))
        members = [self.member(gnome), self.member(plain), self.member(service)]
        not_members = [self.member(other), self.member(outside)]
        data = self.ctl_json('--app', APP_ID, '-d', '-j', user=self.user)
        pids = [x['pid'] for x in data['targets']]
        self.assertEqual(sorted(pids), sorted(t.pid for t in members))
        for t in not_members:
            self.assertNotIn(t.pid, pids)
        for x in data['targets']:
            self.assertEqual(x['status'], 'ok')
        # Reclaim: one call per scope, results merged into one report.
        stats = self.stats()
        data = self.ctl_json('--app', APP_ID, '-j', user=self.user)
        self.assertEqual(sorted(x['pid'] for x in data['targets']),
                         sorted(t.pid for t in members))
        self.assertEqual(data['totals']['advised_bytes'],
                         sum(x['advised_bytes'] for x in data['targets']))
        self.assertEqual(self.stats()['calls-reclaim'] - stats['calls-reclaim'], 3)

    def test_app_without_a_running_scope_fails(self):
        self.start()
        app = self.make_cgroup(self.app_slice())
        self.make_cgroup(app + '/app-gnome-%sBar-1.scope' % APP_ID)
        r = self.ctl('--app', APP_ID, '-d', user=self.user)
        self.assertEqual(r.rc, 1, r)
        self.assertIn(APP_ID, r.err)
        self.assertOneSentence(r.err)

    def test_unit_without_systemd_exit_3(self):
        self.start()
        # This machine runs no systemd (sd_booted(3) is false).
        self.assertFalse(os.path.isdir('/run/systemd/system'))
        for args in (['--unit', 'foo.service'], ['--unit', 'foo', '-d', '-j'],
                     ['--user', '--unit', 'app-gnome-x-1.scope']):
            with self.subTest(args=args):
                r = self.ctl(*args, user=self.user)
                self.assertEqual(r.rc, 3, r)
                self.assertIn('systemd', r.err)
                self.assertOneSentence(r.err)
                self.assertEqual(r.out, '')
        self.assertEqual(self.stats()['calls-plan'] + self.stats()['calls-reclaim'], 0)

    def test_cgroup_unit_app_exclusive_exit_2(self):
        self.start()
        for args in (['--cgroup', 'a', '--target', '1'], ['--app', APP_ID, '--name', 'sh'],
                     ['--unit', 'x.service', '-t', '1'], ['--cgroup', 'a', '--unit', 'b'],
                     ['--cgroup', 'a', '--app', 'b'], ['--user', '--cgroup', 'a'],
                     ['--app', 'a/b'], ['--unit', 'a/b'], ['--unit', 'x.device']):
            with self.subTest(args=args):
                r = self.ctl(*args, user=self.user)
                self.assertEqual(r.rc, 2, r)
                self.assertOneSentence(r.err)
                self.assertEqual(r.out, '')
        self.assertEqual(self.stats()['calls-plan'] + self.stats()['calls-reclaim'], 0)


if __name__ == '__main__':
    main()
