#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""memadvise-metrics.service and .timer as installed: off by default, the
metrics file written whole by the unit's own unprivileged user into the
node exporter's textfile directory, the timer running it."""
import os
import pwd
import shutil

from ma_system import SystemCase, main, run

SERVICE = 'memadvise-metrics.service'
TIMER = 'memadvise-metrics.timer'
TEXTFILE_DIR = '/var/lib/prometheus/node-exporter'
PROM = os.path.join(TEXTFILE_DIR, 'memadvise.prom')


class Metrics(SystemCase):

    def setUp(self):
        super().setUp()
        # What prometheus-node-exporter's package makes (root's, 0755),
        # then the ACL memadvise's tmpfiles.d entry adds to it.
        made = not os.path.isdir(TEXTFILE_DIR)
        os.makedirs(TEXTFILE_DIR, exist_ok=True)
        self.addCleanup(self.remove_textfiles, made)
        run(['systemd-tmpfiles', '--create', 'memadvise-metrics.conf'])

    def remove_textfiles(self, made):
        run(['systemctl', 'disable', '--now', TIMER], check=False)
        if os.path.exists(PROM):
            os.unlink(PROM)
        if made:
            shutil.rmtree('/var/lib/prometheus')

    def test_timer_is_off_until_enabled_and_then_writes_the_file(self):
        r = run(['systemctl', 'is-enabled', TIMER], check=False)
        self.assertEqual(r.stdout.strip(), 'disabled')
        self.assertFalse(os.path.exists(PROM))

        run(['systemctl', 'enable', '--now', TIMER])
        self.wait_for(lambda: os.path.exists(PROM), 30, 'the timer to write ' + PROM)
        self.assertEqual(run(['systemctl', 'is-active', TIMER]).stdout.strip(), 'active')
        self.assertIn('memadvise-metrics.service',
                      run(['systemctl', 'show', '--property=Triggers', '--value', TIMER]).stdout)

    def test_service_writes_the_metrics_as_its_own_user(self):
        run(['systemctl', 'start', SERVICE])
        st = os.stat(PROM)
        self.assertEqual(pwd.getpwuid(st.st_uid).pw_name, 'memadvise-metrics')
        self.assertEqual(st.st_mode & 0o777, 0o644)
        with open(PROM) as f:
            text = f.read()
        self.assertIn('\nmemadvise_up 1\n', '\n' + text)
        self.assertIn('# TYPE memadvise_calls_total counter\n', text)
        # Written whole: no temporary file left beside it.
        self.assertEqual(sorted(os.listdir(TEXTFILE_DIR)), ['memadvise.prom'])
        # The unit's user holds nothing: no capabilities, no other user's files.
        user = pwd.getpwnam('memadvise-metrics')
        self.assertEqual(user.pw_shell, '/usr/sbin/nologin')
        unit = run(['systemctl', 'show', '--property=User,CapabilityBoundingSet,'
                    'NoNewPrivileges,PrivateNetwork', SERVICE]).stdout.split()
        self.assertIn('User=memadvise-metrics', unit)
        self.assertIn('CapabilityBoundingSet=', unit)
        self.assertIn('NoNewPrivileges=yes', unit)
        score = run(['systemd-analyze', 'security', '--no-pager', SERVICE],
                    check=False).stdout.strip().splitlines()[-1]
        print('systemd-analyze security %s: %s' % (SERVICE, score), flush=True)

    def test_up_0_when_the_daemon_cannot_be_reached(self):
        # The bus refuses the activation: memadvised is masked.
        run(['systemctl', 'stop', 'memadvised.service'])
        run(['systemctl', 'mask', '--runtime', 'memadvised.service'])
        self.addCleanup(run, ['systemctl', 'unmask', '--runtime', 'memadvised.service'])
        run(['systemctl', 'start', SERVICE])
        with open(PROM) as f:
            text = f.read()
        self.assertIn('\nmemadvise_up 0\n', '\n' + text)
        self.assertNotIn('memadvise_calls_total', text)


if __name__ == '__main__':
    main([Metrics])
