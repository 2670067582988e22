#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""meson install into a DESTDIR: every file lands where the system reads it
and the policy, bus, unit and helper files are valid.

    MA_BUILD_ROOT=BUILDDIR test_install.py [TestInstall.test_name]

Each test method is one meson test (suite 'install'), which sets
MA_BUILD_ROOT.
"""
import json
import os
import re
import shutil
import stat
import subprocess
import tempfile
import unittest

import ma_harness

BUILDDIR = os.environ.get('MA_BUILD_ROOT') or os.path.join(ma_harness.SOURCE_ROOT, 'build')


def introspect(what):
    out = subprocess.run(['meson', 'introspect', what, BUILDDIR], check=True,
                         stdout=subprocess.PIPE, universal_newlines=True).stdout
    return json.loads(out)


def pkg_variable(package, variable, define=None):
    argv = ['pkg-config', '--variable=' + variable, package]
    if define:
        argv[1:1] = ['--define-variable=%s=%s' % define]
    r = subprocess.run(argv, stdout=subprocess.PIPE, universal_newlines=True)
    return r.stdout.strip() if r.returncode == 0 and r.stdout.strip() else None


def parse_unit(path):
    """A systemd unit or D-Bus activation file as {section: {key: [values]}}."""
    sections = {}
    current = None
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith(('#', ';')):
                continue
            if line.startswith('[') and line.endswith(']'):
                current = sections.setdefault(line[1:-1], {})
                continue
            key, sep, value = line.partition('=')
            if not sep or current is None:
                raise ValueError('%s: not a key=value line: %r' % (path, line))
            current.setdefault(key.strip(), []).append(value.strip())
    return sections


class TestInstall(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        options = {o['name']: o['value'] for o in introspect('--buildoptions')}
        cls.prefix = options['prefix']

        def path(option):
            return os.path.join(cls.prefix, options[option])

        cls.bindir, cls.sbindir = path('bindir'), path('sbindir')
        cls.datadir, cls.mandir = path('datadir'), path('mandir')
        cls.sysconfdir = path('sysconfdir')
        # Where the system reads each kind of file, as the .pc files say,
        # relocated under the prefix (memadvise's own convention).
        cls.unitdir = (pkg_variable('systemd', 'systemdsystemunitdir', ('rootprefix', cls.prefix))
                       or os.path.join(cls.prefix, 'lib/systemd/system'))
        cls.userunitdir = (pkg_variable('systemd', 'systemduserunitdir', ('prefix', cls.prefix))
                           or os.path.join(cls.prefix, 'lib/systemd/user'))
        cls.sysusersdir = (pkg_variable('systemd', 'sysusersdir', ('prefix', cls.prefix))
                           or os.path.join(cls.prefix, 'lib/sysusers.d'))
        cls.tmpfilesdir = (pkg_variable('systemd', 'tmpfilesdir', ('prefix', cls.prefix))
                           or os.path.join(cls.prefix, 'lib/tmpfiles.d'))
        cls.textfiledir = options['prometheus_textfile_dir']
        cls.completionsdir = (pkg_variable('bash-completion', 'completionsdir',
                                           ('datadir', cls.datadir))
                              or os.path.join(cls.datadir, 'bash-completion/completions'))
        cls.actiondir = (pkg_variable('polkit-gobject-1', 'actiondir', ('prefix', cls.prefix))
                         or os.path.join(cls.datadir, 'polkit-1/actions'))

    def setUp(self):
        self.destdir = tempfile.mkdtemp(prefix='ma-install-')
        self.addCleanup(shutil.rmtree, self.destdir, True)
        r = subprocess.run(['meson', 'install', '-C', BUILDDIR, '--no-rebuild', '--quiet',
                            '--destdir', self.destdir],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           universal_newlines=True)
        self.assertEqual(r.returncode, 0, r.stdout)

    def dest(self, path):
        return os.path.join(self.destdir, path.lstrip('/'))

    def expected(self):
        return {
            'memadvisectl': os.path.join(self.bindir, 'memadvisectl'),
            'memadvised': os.path.join(self.sbindir, 'memadvised'),
            'unit': os.path.join(self.unitdir, 'memadvised.service'),
            'sysusers': os.path.join(self.sysusersdir, 'memadvised.conf'),
            'bus policy': os.path.join(self.datadir,
                                       'dbus-1/system.d/org.memadvise.MemAdvise1.conf'),
            'activation': os.path.join(self.datadir,
                                       'dbus-1/system-services/org.memadvise.MemAdvise1.service'),
            'interface': os.path.join(self.datadir,
                                      'dbus-1/interfaces/org.memadvise.MemAdvise1.xml'),
            'polkit policy': os.path.join(self.actiondir, 'org.memadvise.policy'),
            'config': os.path.join(self.sysconfdir, 'memadvise/memadvised.conf'),
            'completion': os.path.join(self.completionsdir, 'memadvisectl'),
            'memadvisectl(1)': os.path.join(self.mandir, 'man1/memadvisectl.1'),
            'memadvised(8)': os.path.join(self.mandir, 'man8/memadvised.8'),
            'memadvised.conf(5)': os.path.join(self.mandir, 'man5/memadvised.conf.5'),
            'memadvise-session': os.path.join(self.bindir, 'memadvise-session'),
            'session interface': os.path.join(self.datadir,
                                              'dbus-1/interfaces/org.memadvise.Session1.xml'),
            'session user unit': os.path.join(self.userunitdir, 'memadvise-session.service'),
            'session autostart': os.path.join(self.sysconfdir,
                                              'xdg/autostart/memadvise-session.desktop'),
            'kwin script': os.path.join(self.datadir,
                                        'kwin/scripts/memadvise-session/contents/code/main.js'),
            'memadvise-session(1)': os.path.join(self.mandir, 'man1/memadvise-session.1'),
            'metrics unit': os.path.join(self.unitdir, 'memadvise-metrics.service'),
            'metrics timer': os.path.join(self.unitdir, 'memadvise-metrics.timer'),
            'metrics sysusers': os.path.join(self.sysusersdir, 'memadvise-metrics.conf'),
            'metrics tmpfiles': os.path.join(self.tmpfilesdir, 'memadvise-metrics.conf'),
            'memadvise-metrics.service(8)': os.path.join(self.mandir,
                                                         'man8/memadvise-metrics.service.8'),
        }

    def unit_copy_with_programs_in_destdir(self, what, tmp):
        """A copy of unit @what in @tmp whose ExecStart runs the program in
        the DESTDIR (systemd-analyze checks that it exists)."""
        e = self.expected()
        with open(self.dest(e[what])) as f:
            text = f.read()
        for program in ('memadvised', 'memadvisectl'):
            text = text.replace('ExecStart=' + e[program], 'ExecStart=' + self.dest(e[program]))
        path = os.path.join(tmp, os.path.basename(e[what]))
        with open(path, 'w') as f:
            f.write(text)
        return path

    # -- cases -------------------------------------------------------------------

    def test_every_file_is_installed_where_the_system_reads_it(self):
        for what, path in self.expected().items():
            with self.subTest(what=what):
                self.assertTrue(os.path.isfile(self.dest(path)), '%s: %s missing' % (what, path))
        for what in ('memadvisectl', 'memadvised', 'memadvise-session'):
            mode = os.stat(self.dest(self.expected()[what])).st_mode
            self.assertTrue(mode & stat.S_IXOTH, what)

    def test_xml_files_are_valid(self):
        e = self.expected()
        for what, dtd in (('interface', '/usr/share/xml/dbus-1/introspect.dtd'),
                          ('session interface', '/usr/share/xml/dbus-1/introspect.dtd'),
                          ('polkit policy', '/usr/share/polkit-1/policyconfig-1.dtd'),
                          ('bus policy', None)):
            with self.subTest(what=what):
                argv = ['xmllint', '--noout', '--nonet']
                if dtd is not None:
                    self.assertTrue(os.path.exists(dtd), dtd)
                    argv += ['--dtdvalid', dtd]
                r = subprocess.run(argv + [self.dest(e[what])], stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, universal_newlines=True)
                self.assertEqual(r.returncode, 0, r.stdout)

    def test_bus_policy_loads_in_dbus_daemon(self):
        # busconfig.dtd as shipped predates send_destination and friends, so
        # the bus itself is the validator: it refuses a config it cannot parse.
        e = self.expected()
        tmp = tempfile.mkdtemp(prefix='ma-bus-')
        self.addCleanup(shutil.rmtree, tmp, True)
        config = os.path.join(tmp, 'bus.conf')
        with open(config, 'w') as f:
            f.write("""<!DOCTYPE busconfig PUBLIC
 "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=%s/socket</listen>
  <include>%s</include>
</busconfig>
""" % (tmp, self.dest(e['bus policy'])))
        bus = subprocess.Popen(['dbus-daemon', '--config-file=' + config, '--nofork',
                                '--print-address'], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, universal_newlines=True)
        address = bus.stdout.readline().strip()
        bus.terminate()
        _, err = bus.communicate(timeout=10)
        self.assertTrue(address.startswith('unix:path='), err)
        for line in err.splitlines():
            # The service user exists only once sysusers ran.
            if 'Unknown username "memadvise"' not in line and 'fd limit' not in line:
                self.fail('dbus-daemon: %s' % line)

    def test_unit_has_the_required_hardening(self):
        e = self.expected()
        unit = parse_unit(self.dest(e['unit']))
        service = unit['Service']
        required = {
            'Type': 'dbus', 'BusName': 'org.memadvise.MemAdvise1', 'User': 'memadvise',
            'ExecStart': e['memadvised'],
            'NoNewPrivileges': 'yes', 'ProtectSystem': 'strict', 'ProtectHome': 'yes',
            'PrivateTmp': 'yes', 'PrivateDevices': 'yes', 'PrivateNetwork': 'yes',
            'RestrictAddressFamilies': 'AF_UNIX', 'IPAddressDeny': 'any',
            'ProtectKernelTunables': 'yes', 'ProtectKernelModules': 'yes',
            'ProtectKernelLogs': 'yes', 'ProtectControlGroups': 'yes', 'ProtectClock': 'yes',
            'ProtectHostname': 'yes', 'RestrictNamespaces': 'yes', 'RestrictRealtime': 'yes',
            'LockPersonality': 'yes', 'MemoryDenyWriteExecute': 'yes', 'UMask': '0077',
            'RemoveIPC': 'yes', 'SystemCallArchitectures': 'native',
            'LimitNOFILE': '16384', 'TasksMax': '1024', 'MemoryMax': '1G',
        }
        for key, value in required.items():
            with self.subTest(key=key):
                self.assertEqual(service.get(key), [value])
        # A service's calls, less the privileged and resource ones except the
        # two scheduling calls the daemon makes, and never another process's
        # memory: tests/system checks the running daemon's filter.
        # CAP_SETUID and CAP_SETGID serve setfsuid and setfsgid alone.
        self.assertEqual(service['SystemCallFilter'], [
            '@system-service',
            '~@privileged @resources process_vm_readv process_vm_writev',
            'sched_setscheduler sched_setattr',
            'setfsuid capset',
            '~@setuid',
        ])
        caps = {'CAP_SYS_NICE', 'CAP_SYS_PTRACE', 'CAP_DAC_READ_SEARCH', 'CAP_SETUID', 'CAP_SETGID'}
        for key in ('AmbientCapabilities', 'CapabilityBoundingSet'):
            self.assertEqual(len(service[key]), 1)
            self.assertEqual(set(service[key][0].split()), caps, key)
        # ProtectProc= hides targets, PrivateUsers= their uids, DynamicUser=
        # cannot own the bus name, ProcSubset=pid hides /proc/swaps, and
        # RestrictSUIDSGID= fails openat2(2), which resolves cgroup paths.
        for key in ('ProtectProc', 'PrivateUsers', 'DynamicUser', 'ProcSubset',
                    'RestrictSUIDSGID'):
            self.assertNotIn(key, service)
        self.assertTrue(os.path.isfile(self.dest(service['ExecStart'][0])))
        self.assertIn('man:memadvised(8)', unit['Unit']['Documentation'][0])

    def test_unit_passes_systemd_analyze_verify(self):
        analyze = shutil.which('systemd-analyze')
        self.assertIsNotNone(analyze, 'systemd-analyze is part of the systemd package')
        # verify checks that ExecStart exists: point it into the DESTDIR.
        tmp = tempfile.mkdtemp(prefix='ma-unit-')
        self.addCleanup(shutil.rmtree, tmp, True)
        paths = [self.unit_copy_with_programs_in_destdir(what, tmp)
                 for what in ('unit', 'metrics unit', 'metrics timer')]
        for path in paths:
            with self.subTest(unit=os.path.basename(path)):
                r = subprocess.run([analyze, 'verify', '--man=no', path], stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, universal_newlines=True, cwd=tmp)
                self.assertEqual(r.returncode, 0, r.stdout)
                self.assertEqual(r.stdout.strip(), '')

    def test_metrics_units_are_installed_off(self):
        e = self.expected()
        service = parse_unit(self.dest(e['metrics unit']))
        timer = parse_unit(self.dest(e['metrics timer']))
        # Enabled only by hand: the service is the timer's, and nothing
        # links or presets either.
        self.assertNotIn('Install', service)
        self.assertEqual(timer['Install'], {'WantedBy': ['timers.target']})
        for top, dirs, files in os.walk(self.destdir):
            for name in dirs + files:
                self.assertFalse(name.endswith(('.wants', '.requires')) or 'preset' in name,
                                 os.path.join(top, name))
        # Every minute, and at once when started (OnCalendar keeps firing
        # while the service is skipped, which OnUnitActiveSec= would not).
        self.assertEqual(timer['Timer'], {'OnActiveSec': ['0'], 'OnCalendar': ['minutely'],
                                          'AccuracySec': ['1s']})

    def test_metrics_service_writes_the_textfile_as_its_own_user(self):
        e = self.expected()
        unit = parse_unit(self.dest(e['metrics unit']))
        service = unit['Service']
        prom = os.path.join(self.textfiledir, 'memadvise.prom')
        self.assertEqual(unit['Unit']['ConditionPathIsDirectory'], [self.textfiledir])
        self.assertIn('man:memadvise-metrics.service(8)', unit['Unit']['Documentation'][0])
        required = {
            'Type': 'oneshot',
            'ExecStart': '%s status --prometheus --output %s' % (e['memadvisectl'], prom),
            # Exit status 3: memadvised not running, the file says memadvise_up 0.
            'SuccessExitStatus': '3',
            'User': 'memadvise-metrics', 'Group': 'memadvise-metrics',
            'CapabilityBoundingSet': '', 'AmbientCapabilities': '',
            'ReadWritePaths': self.textfiledir,
            'NoNewPrivileges': 'yes', 'ProtectSystem': 'strict', 'ProtectHome': 'yes',
            'PrivateTmp': 'yes', 'PrivateDevices': 'yes', 'PrivateNetwork': 'yes',
            'PrivateUsers': 'yes', 'RestrictAddressFamilies': 'AF_UNIX',
            'ProtectKernelTunables': 'yes', 'ProtectKernelModules': 'yes',
            'ProtectKernelLogs': 'yes', 'ProtectControlGroups': 'yes', 'RestrictNamespaces': 'yes',
            'RestrictRealtime': 'yes', 'RestrictSUIDSGID': 'yes', 'LockPersonality': 'yes',
            'MemoryDenyWriteExecute': 'yes', 'SystemCallArchitectures': 'native',
        }
        for key, value in required.items():
            with self.subTest(key=key):
                self.assertEqual(service.get(key), [value])
        self.assertNotIn('DynamicUser', service)
        self.assertIn('@system-service', service['SystemCallFilter'])
        self.assertTrue(os.path.isfile(self.dest(e['memadvisectl'])))

    def test_metrics_service_exposure_is_low(self):
        tmp = tempfile.mkdtemp(prefix='ma-unit-')
        self.addCleanup(shutil.rmtree, tmp, True)
        path = self.unit_copy_with_programs_in_destdir('metrics unit', tmp)
        r = subprocess.run(['systemd-analyze', 'security', '--offline=true', path],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           universal_newlines=True, cwd=tmp)
        self.assertEqual(r.returncode, 0, r.stdout)
        level = re.search(r'Overall exposure level for memadvise-metrics.service: ([0-9.]+)',
                          r.stdout)
        self.assertIsNotNone(level, r.stdout)
        # 0.3 when written: what is left is AF_UNIX for the bus, the host's
        # root directory and a system call list that allows @resources.
        self.assertLessEqual(float(level.group(1)), 1.0, r.stdout)

    def test_metrics_user_may_write_the_textfile_directory_if_it_exists(self):
        e = self.expected()
        with open(self.dest(e['metrics sysusers'])) as f:
            lines = [line.split() for line in f if line.strip() and not line.startswith('#')]
        self.assertEqual([fields[:2] for fields in lines], [['u', 'memadvise-metrics']])
        r = subprocess.run(['systemd-sysusers', '--dry-run', '--root', self.destdir,
                            self.dest(e['metrics sysusers'])], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, universal_newlines=True)
        self.assertEqual(r.returncode, 0, r.stdout)
        self.assertIn('memadvise-metrics', r.stdout)

        with open(self.dest(e['metrics tmpfiles'])) as f:
            lines = [line.split() for line in f if line.strip() and not line.startswith('#')]
        self.assertEqual(lines, [['a+', self.textfiledir, '-', '-', '-', '-',
                                  'u:memadvise-metrics:rwx']])
        # Without a node exporter, the directory is not created (the ACL
        # itself is applied in the client suite, where the user exists).
        r = subprocess.run(['systemd-tmpfiles', '--create', '--root', self.destdir,
                            self.dest(e['metrics tmpfiles'])], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, universal_newlines=True)
        self.assertEqual(r.returncode, 0, r.stdout)
        self.assertFalse(os.path.lexists(self.dest(self.textfiledir)))

    def test_activation_file_names_the_daemon_and_the_unit(self):
        e = self.expected()
        service = parse_unit(self.dest(e['activation']))['D-BUS Service']
        self.assertEqual(service['Name'], ['org.memadvise.MemAdvise1'])
        self.assertEqual(service['Exec'], [e['memadvised']])
        self.assertEqual(service['SystemdService'], [os.path.basename(e['unit'])])

    def test_sysusers_creates_the_unit_s_user(self):
        e = self.expected()
        with open(self.dest(e['sysusers'])) as f:
            lines = [line.split() for line in f if line.strip() and not line.startswith('#')]
        self.assertEqual([fields[:2] for fields in lines], [['u', 'memadvise']])
        user = parse_unit(self.dest(e['unit']))['Service']['User'][0]
        self.assertEqual(user, 'memadvise')
        # systemd-sysusers accepts the file (--dry-run changes nothing).
        r = subprocess.run(['systemd-sysusers', '--dry-run', '--root', self.destdir,
                            self.dest(e['sysusers'])], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, universal_newlines=True)
        self.assertEqual(r.returncode, 0, r.stdout)
        self.assertIn('memadvise', r.stdout)

    def test_bash_completion_completes_commands_and_flags(self):
        e = self.expected()
        script = '''
source /usr/share/bash-completion/bash_completion
source "$1"
complete_line() {
  COMP_LINE=$1; COMP_POINT=${#COMP_LINE}
  read -r -a COMP_WORDS <<<"$COMP_LINE"
  [[ $COMP_LINE == *" " ]] && COMP_WORDS+=("")
  COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
  COMPREPLY=()
  _memadvisectl
  echo "${COMPREPLY[*]}"
}
complete_line "memadvisectl "
complete_line "memadvisectl --mo"
complete_line "memadvisectl --mode "
complete_line "memadvisectl status --"
'''
        r = subprocess.run(['bash', '-c', script, 'bash', self.dest(e['completion'])],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           universal_newlines=True)
        self.assertEqual(r.returncode, 0, r.stdout)
        lines = r.stdout.splitlines()
        self.assertEqual(lines[0].split(), ['reclaim', 'plan', 'status', 'session'])
        self.assertEqual(lines[1].split(), ['--mode'])
        self.assertEqual(lines[2].split(), ['cold', 'pageout'])
        self.assertEqual(sorted(lines[3].split()), ['--help', '--json', '--no-ask-password',
                                                    '--output', '--prometheus'])

    def test_man_pages_render_without_warnings(self):
        e = self.expected()
        for page in ('memadvisectl(1)', 'memadvised(8)', 'memadvised.conf(5)',
                     'memadvise-session(1)', 'memadvise-metrics.service(8)'):
            with self.subTest(page=page):
                r = subprocess.run(['groff', '-man', '-Tutf8', '-ww', '-z', self.dest(e[page])],
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   universal_newlines=True)
                self.assertEqual(r.returncode, 0, r.stdout)
                self.assertEqual(r.stdout, '')


if __name__ == '__main__':
    ma_harness.main()
