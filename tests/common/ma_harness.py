# SPDX-License-Identifier: GPL-2.0-or-later
"""Harness for tests that run the real memadvised on a private system bus.

Stable API (memadvisectl's integration tests import it too):

    from ma_harness import MaTestCase, Target, CallError

    class T(MaTestCase):
        def test_x(self):
            user = self.add_user()                 # a fresh test user (name)
            self.start_polkitd()                   # real polkitd (or
            self.start_polkit_mock()               #  dbusmock's template)
            self.start_daemon(config={'Daemon': {'MaxJobs': '2'}})
            t = self.spawn_target(user)            # ma-test-target as user
            t.command('map a anon 4194304')        # -> 'ok START LEN'
            results = self.call(user, 'Plan', [t.pid], 'cold',
                                {'percent': ('u', 50)})
            results = self.call(user, 'PlanCgroup', mode='cold', cgroup='a/b')
            self.assertEqual(results[0]['status'], 'ok')
            with self.assertRaisesCallError('org.freedesktop.DBus.Error.InvalidArgs'):
                self.call(user, 'Plan', [], 'cold')

MaTestCase.setUp takes an exclusive flock on /run/lock/memadvise-tests.lock
(test cases of concurrent runs on one machine share the polkit directories,
so they take turns), starts a private bus (dbus-daemon, system type, socket
in a world-reachable temp dir) and installs polkit/org.memadvise.policy into
/usr/share/polkit-1/actions, saving any policy file already there.
Everything a test creates (users, groups, rules, the policy file, processes,
the temp dir) is removed in tearDown and, should tearDown not run, at exit
or on SIGTERM; a saved policy file is put back, then the lock released.

Environment: MA_DAEMON (memadvised), MA_MEMADVISECTL (memadvisectl),
MA_SESSION (memadvise-session), MA_TEST_TARGET (ma-test-target),
MA_DENY_SETUID (ma-deny-setuid),
MA_SOURCE_ROOT (the source tree), MA_BUILD_ROOT (the build tree) and
PYTHONPATH (this directory); tests/meson.build sets them for every suite.

Each test case is one meson test. `main()` lists them (--list, for meson)
and runs one; a case of a MaTestCase fails at once, in one line, when not
run as root. A case that needs swap is marked with @needs_swap(SIZE), on
its method or its class: meson runs it under tests/with-swap --size SIZE.

A class with `daemon_as_service = True` runs memadvised as the shipped unit
does: as the system user `memadvise` (created for the test when the machine
has none, and removed afterwards) with exactly CAP_SYS_NICE, CAP_SYS_PTRACE,
CAP_DAC_READ_SEARCH, CAP_SETUID and CAP_SETGID, ambient, and no_new_privs
(setpriv, as quickstart does), under the unit's seccomp filter of the
setuid family (tests/service/ma-deny-setuid, $MA_DENY_SETUID), and with the
unit's LimitNOFILE= (prlimit).

A class with `activatable = True` gets a bus that activates services:
a file NAME.service written into `self.service_dir` (then `reload_bus()`)
is started on the first call to NAME that allows it, as root.

`self.run_as(user, argv)` runs any program as a user with
DBUS_SYSTEM_BUS_ADDRESS pointing at the private bus (user None: root);
`self.bus_env()` gives that environment for your own subprocesses.
"""
import atexit
import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

from gi.repository import Gio, GLib

BUS_NAME = 'org.memadvise.MemAdvise1'
OBJECT_PATH = '/org/memadvise/MemAdvise1'
INTERFACE = 'org.memadvise.MemAdvise1'
POLKIT_NAME = 'org.freedesktop.PolicyKit1'
POLKITD = '/usr/lib/polkit-1/polkitd'
ACTIONS_DIR = '/usr/share/polkit-1/actions'
RULES_DIR = '/etc/polkit-1/rules.d'
PYTHON = '/usr/bin/python3'
LOCK_PATH = '/run/lock/memadvise-tests.lock'
SERVICE_USER = 'memadvise'
# memadvised.service: AmbientCapabilities= and CapabilityBoundingSet=.
SERVICE_CAPS = '+sys_nice,+sys_ptrace,+dac_read_search,+setuid,+setgid'

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_ROOT = os.environ.get('MA_SOURCE_ROOT', os.path.dirname(os.path.dirname(HERE)))


def build_file(env, rel):
    """A built program: $@env, as meson sets it, else @rel in ./build."""
    path = os.environ.get(env)
    if path:
        return path
    candidate = os.path.join(SOURCE_ROOT, 'build', rel)
    if os.path.exists(candidate):
        return candidate
    raise RuntimeError('%s is not set and %s was not found' % (env, candidate))


def needs_swap(size):
    """Marks a test method or class that needs swap: meson runs it under
    tests/with-swap --size @size (such as '4G')."""
    def mark(obj):
        obj.ma_swap_size = size
        return obj
    return mark


def unit_nofile():
    """LimitNOFILE= of the shipped unit as (soft, hard); systemd's default
    (1024:524288) where it sets none."""
    with open(os.path.join(SOURCE_ROOT, 'data', 'memadvised.service.in')) as f:
        for line in f:
            if line.startswith('LimitNOFILE='):
                soft, _, hard = line.split('=', 1)[1].strip().partition(':')
                return int(soft), int(hard or soft)
    return 1024, 524288


class CallError(Exception):
    """A D-Bus error reply: .name is the error name, .message the text."""

    def __init__(self, name, message):
        super().__init__('%s: %s' % (name, message))
        self.name = name
        self.message = message


# Cleanups run LIFO, once, from tearDown, atexit or SIGTERM.
_cleanups = []


def _run_cleanups():
    while _cleanups:
        func, args = _cleanups.pop()
        try:
            func(*args)
        except Exception as e:  # a cleanup must not stop the others
            print('cleanup %s failed: %s' % (func.__name__, e), file=sys.stderr)


def _on_sigterm(signum, _frame):
    _run_cleanups()
    os._exit(128 + signum)


atexit.register(_run_cleanups)
signal.signal(signal.SIGTERM, _on_sigterm)


def _kill(proc):
    # runuser answers SIGTERM by waiting two seconds before it kills what it
    # runs, and leaves that child's zombie to init: kill the child instead,
    # and runuser reaps it and exits at once.
    if proc.poll() is None and os.path.basename(str(proc.args[0])) == 'runuser':
        subprocess.run(['pkill', '-KILL', '-P', str(proc.pid)], check=False)
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            pass
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    for stream in (proc.stdin, proc.stdout, proc.stderr):
        if stream is not None:
            stream.close()


def _kill_pid(pid):
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _remove(path):
    if os.path.lexists(path):
        os.unlink(path)


def _lock_tests():
    """Waits for the machine-wide test lock; returns its open file."""
    f = open(LOCK_PATH, 'a')
    try:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        print('waiting for %s: another memadvise test run holds it' % LOCK_PATH,
              file=sys.stderr, flush=True)
        fcntl.flock(f, fcntl.LOCK_EX)
    return f


def _unlock_tests(f):
    fcntl.flock(f, fcntl.LOCK_UN)
    f.close()


def _save_file(path):
    """What _restore_file needs to put @path back: None if it is absent."""
    if os.path.islink(path):
        return ('link', os.readlink(path))
    if os.path.exists(path):
        with open(path, 'rb') as f:
            return ('file', f.read(), os.stat(path).st_mode & 0o7777)
    return None


def _restore_file(path, saved):
    _remove(path)
    if saved is None:
        return
    if saved[0] == 'link':
        os.symlink(saved[1], path)
        return
    _, content, mode = saved
    tmp = path + '.ma-restore'
    with open(tmp, 'wb') as f:
        f.write(content)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def _userdel(name):
    # Processes of the user would make userdel fail: none may survive.
    subprocess.run(['pkill', '-KILL', '-u', name], check=False)
    for _ in range(50):
        if subprocess.run(['pgrep', '-u', name], stdout=subprocess.DEVNULL).returncode != 0:
            break
        time.sleep(0.1)
    subprocess.run(['userdel', '-r', '-f', name], check=False,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _ensure_service_user():
    """Creates the system user memadvise as sysusers would; returns
    whether it was created (and so must be removed)."""
    import pwd
    try:
        pwd.getpwnam(SERVICE_USER)
        return False
    except KeyError:
        pass
    subprocess.run(['useradd', '--system', '--no-create-home', '--user-group',
                    '--home-dir', '/', '--shell', '/usr/sbin/nologin', SERVICE_USER], check=True)
    return True


def _service_userdel():
    # Its home is /: never userdel -r. Its processes (the daemon) are the
    # test's own and stopped by then; any left would keep userdel from it.
    subprocess.run(['pkill', '-KILL', '-u', SERVICE_USER], check=False)
    for _ in range(50):
        if subprocess.run(['pgrep', '-u', SERVICE_USER], stdout=subprocess.DEVNULL).returncode != 0:
            break
        time.sleep(0.1)
    subprocess.run(['userdel', SERVICE_USER], check=False)
    subprocess.run(['groupdel', SERVICE_USER], check=False, stderr=subprocess.DEVNULL)


def _groupdel(name):
    subprocess.run(['groupdel', name], check=False, stderr=subprocess.DEVNULL)


class Target:
    """A ma-test-target process (see tests/target/ma-test-target.c)."""

    def __init__(self, proc):
        self.proc = proc
        line = proc.stdout.readline().split()
        if len(line) != 2 or line[0] != 'ready':
            raise RuntimeError('ma-test-target did not start: %r' % line)
        self.pid = int(line[1])

    def command(self, line):
        """Sends one command; returns the reply line. Raises on 'err'."""
        self.proc.stdin.write(line + '\n')
        self.proc.stdin.flush()
        reply = self.proc.stdout.readline().strip()
        if not reply.startswith('ok'):
            raise RuntimeError('ma-test-target: %s -> %s' % (line, reply))
        return reply

    def map(self, name, kind, size, lowentropy=False):
        return self.command('map %s %s %d%s' % (name, kind, size,
                                                ' lowentropy' if lowentropy else ''))

    def exec(self, path):
        """Execs @path (a copy of ma-test-target, setuid or not) under the
        same pid; returns when the new program is ready."""
        self.proc.stdin.write('exec %s\n' % path)
        self.proc.stdin.flush()
        line = self.proc.stdout.readline().split()
        if line != ['ready', str(self.pid)]:
            raise RuntimeError('ma-test-target: exec %s -> %r' % (path, line))

    def checksum(self, name):
        return self.command('checksum %s' % name).split()[1]

    def residency(self, name):
        """(pages, present, swapped) without touching the pages."""
        _, pages, present, swapped = self.command('residency %s' % name).split()
        return int(pages), int(present), int(swapped)

    def kill(self):
        _kill_pid(self.pid)
        _kill(self.proc)


def status_of(pid):
    """Fields of /proc/PID/status as a dict of strings."""
    with open('/proc/%d/status' % pid) as f:
        return dict(line.rstrip('\n').split(':\t', 1) for line in f if ':\t' in line)


def wait_hanging(mock, timeout=10):
    """Waits until dbusmock's polkitd @mock holds a hanging call; False if
    none came within @timeout seconds."""
    for _ in range(int(timeout / 0.05)):
        if mock.HaveHangingCalls():
            return True
        time.sleep(0.05)
    return False


def wait_log(test, text, count=1, timeout=10):
    """Waits until the daemon of @test has logged @text @count times."""
    for _ in range(int(timeout / 0.05)):
        if test.daemon_log_text().count(text) >= count:
            return
        time.sleep(0.05)
    test.fail('memadvised did not log %r %d times:\n%s' % (text, count, test.daemon_log_text()))


def cgroup2_root():
    """The cgroup2 hierarchy memadvised resolves paths in: /sys/fs/cgroup
    on a pure v2 system, its unified/ mount on a hybrid one."""
    if os.path.exists('/sys/fs/cgroup/cgroup.controllers'):
        return '/sys/fs/cgroup'
    return '/sys/fs/cgroup/unified'


def remove_cgroup(path):
    """Moves what is left in the cgroup tree at @path to the root, then
    removes the tree, deepest first."""
    root = cgroup2_root()
    for top, _, _ in os.walk(path, topdown=False):
        try:
            with open(os.path.join(top, 'cgroup.procs')) as f:
                pids = f.read().split()
        except OSError:  # a threaded cgroup: its processes are its domain's
            pids = []
        for pid in pids:
            try:
                with open(os.path.join(root, 'cgroup.procs'), 'w') as f:
                    f.write(pid)
            except OSError:
                pass  # exited meanwhile
        os.rmdir(top)


def swap_total_bytes():
    total = 0
    with open('/proc/swaps') as f:
        for line in f.readlines()[1:]:
            total += int(line.split()[2]) * 1024
    return total


class MaTestCase(unittest.TestCase):
    """Private system bus, policy installed; helpers for the rest."""

    daemon_path = None
    target_path = None
    daemon_as_service = False  # memadvised as the shipped unit runs it
    activatable = False  # the bus activates what self.service_dir names

    def setUp(self):
        self.daemon_path = build_file('MA_DAEMON', 'daemon/memadvised')
        self.target_path = build_file('MA_TEST_TARGET', 'tests/target/ma-test-target')
        self._cleanup_mark = len(_cleanups)
        # First taken, last released: every other cleanup runs under it.
        self._defer(_unlock_tests, _lock_tests())
        self.tmpdir = tempfile.mkdtemp(prefix='ma-itest-')
        self._defer(shutil.rmtree, self.tmpdir, True)
        # Test users reach the bus socket and the helper through it.
        os.chmod(self.tmpdir, 0o755)
        self.call_helper = os.path.join(self.tmpdir, 'ma_call.py')
        shutil.copy(os.path.join(HERE, 'ma_call.py'), self.call_helper)
        os.chmod(self.call_helper, 0o755)
        self._users = 0
        self.daemon = None
        self.daemon_may_fail = False  # set by tests that expect a failed start
        self.polkitd = None
        # Before the bus: it resolves the user of its policy when it starts.
        if self.daemon_as_service and _ensure_service_user():
            self._defer(_service_userdel)
        self._start_bus()
        self.install_policy()

    def tearDown(self):
        while len(_cleanups) > self._cleanup_mark:
            func, args = _cleanups.pop()
            try:
                func(*args)
            except Exception as e:
                print('cleanup %s failed: %s' % (func.__name__, e), file=sys.stderr)
        if (self.daemon is not None and not self.daemon_may_fail and
                self.daemon.returncode not in (0, None, -15)):
            self.fail('memadvised exited with %s' % self.daemon.returncode)

    def _defer(self, func, *args):
        _cleanups.append((func, args))

    # -- bus ---------------------------------------------------------------

    def _start_bus(self):
        socket = os.path.join(self.tmpdir, 'system_bus_socket')
        config = os.path.join(self.tmpdir, 'system.conf')
        service_dir = ''
        if self.activatable:
            self.service_dir = os.path.join(self.tmpdir, 'system-services')
            os.mkdir(self.service_dir)
            service_dir = '<servicedir>%s</servicedir>' % self.service_dir
        with open(config, 'w') as f:
            f.write('''<!DOCTYPE busconfig PUBLIC
 "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=%s</listen>
  <auth>EXTERNAL</auth>
  %s
  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
    <allow send_destination="org.freedesktop.DBus"
           send_interface="org.freedesktop.DBus.Introspectable"/>
    <allow send_destination="org.freedesktop.DBus"
           send_interface="org.freedesktop.DBus.Properties"/>
    <allow send_destination="org.freedesktop.DBus"
           send_interface="org.freedesktop.DBus.Peer"/>
  </policy>
  <!-- polkitd (real or mocked) runs as root in the tests, not as polkitd -->
  <policy user="root">
    <allow own="org.freedesktop.PolicyKit1"/>
  </policy>
  <include>/usr/share/dbus-1/system.d/org.freedesktop.PolicyKit1.conf</include>
  <include>%s</include>
</busconfig>
''' % (socket, service_dir, os.path.join(SOURCE_ROOT, 'dbus', 'org.memadvise.MemAdvise1.conf')))
        self.bus_proc = subprocess.Popen(
            ['dbus-daemon', '--config-file=' + config, '--nofork', '--print-address'],
            stdout=subprocess.PIPE, universal_newlines=True)
        self._defer(_kill, self.bus_proc)
        self.bus_address = self.bus_proc.stdout.readline().strip()
        if not self.bus_address:
            raise RuntimeError('dbus-daemon did not start')
        os.environ['DBUS_SYSTEM_BUS_ADDRESS'] = self.bus_address
        self.bus = Gio.DBusConnection.new_for_address_sync(
            self.bus_address,
            Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT |
            Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION, None, None)
        self._defer(self.bus.close_sync, None)

    def reload_bus(self):
        """Makes the bus read its configuration and service files again."""
        self.bus.call_sync('org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus',
                           'ReloadConfig', None, None, 0, 5000, None)

    def bus_env(self):
        env = {k: v for k, v in os.environ.items()
               if k in ('PATH', 'LANG', 'LC_ALL', 'ASAN_OPTIONS', 'UBSAN_OPTIONS', 'LSAN_OPTIONS',
                        'G_SLICE')}
        env['DBUS_SYSTEM_BUS_ADDRESS'] = self.bus_address
        return env

    def name_owner_pid(self, name):
        reply = self.bus.call_sync('org.freedesktop.DBus', '/org/freedesktop/DBus',
                                   'org.freedesktop.DBus', 'GetConnectionUnixProcessID',
                                   GLib.Variant('(s)', (name,)), None, 0, -1, None)
        return reply.unpack()[0]

    def wait_for_name(self, name, timeout=10, proc=None):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            reply = self.bus.call_sync('org.freedesktop.DBus', '/org/freedesktop/DBus',
                                       'org.freedesktop.DBus', 'NameHasOwner',
                                       GLib.Variant('(s)', (name,)), None, 0, -1, None)
            if reply.unpack()[0]:
                return
            if proc is not None and proc.poll() is not None:
                raise RuntimeError('%s exited with %d before owning %s'
                                   % (proc.args[0], proc.returncode, name))
            time.sleep(0.05)
        raise RuntimeError('%s did not appear on the bus' % name)

    # -- polkit ------------------------------------------------------------

    def install_policy(self):
        """Installs the tree's actions file, saving an installed one (a
        packaged memadvise on this machine) to put back afterwards."""
        dest = os.path.join(ACTIONS_DIR, 'org.memadvise.policy')
        self._defer(_restore_file, dest, _save_file(dest))
        # Never through a symbolic link into a packaged file.
        _remove(dest)
        shutil.copy(os.path.join(SOURCE_ROOT, 'polkit', 'org.memadvise.policy'), dest)

    def install_rule(self, name, text):
        """Installs /etc/polkit-1/rules.d/NAME; call before start_polkitd()."""
        os.makedirs(RULES_DIR, exist_ok=True)
        dest = os.path.join(RULES_DIR, name)
        self._defer(_remove, dest)
        with open(dest, 'w') as f:
            f.write(text)

    def install_group_rule(self, group):
        """The shipped example rule, granting reclaim-own to @group."""
        with open(os.path.join(SOURCE_ROOT, 'polkit', '50-memadvise-group.rules.example')) as f:
            text = f.read()
        self.assertIn('"memadvise-users"', text)
        self.install_rule('50-memadvise-test-%d.rules' % os.getpid(),
                          text.replace('"memadvise-users"', json.dumps(group)))

    def start_polkitd(self):
        """The real polkitd, as root, on the private bus."""
        self.polkitd = subprocess.Popen([POLKITD, '--no-debug'], env=self.bus_env(),
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self._defer(_kill, self.polkitd)
        self.wait_for_name(POLKIT_NAME, proc=self.polkitd)

    def start_polkit_mock(self):
        """dbusmock's polkitd template; returns a proxy of its Mock interface
        (SetAllowed, SimulateHang, SimulateHangActions, ReleaseHangingCalls)."""
        self.polkitd = subprocess.Popen(
            [PYTHON, '-m', 'dbusmock', '--system', '--template', 'polkitd'],
            env=self.bus_env(), stdout=subprocess.DEVNULL)
        self._defer(_kill, self.polkitd)
        self.wait_for_name(POLKIT_NAME, proc=self.polkitd)
        return Gio.DBusProxy.new_sync(self.bus, Gio.DBusProxyFlags.DO_NOT_LOAD_PROPERTIES, None,
                                      POLKIT_NAME, '/org/freedesktop/PolicyKit1/Authority',
                                      'org.freedesktop.DBus.Mock', None)

    # -- users and processes ----------------------------------------------

    def add_group(self, name=None):
        name = name or 'magrp%d' % os.getpid()
        self._defer(_groupdel, name)
        subprocess.run(['groupadd', name], check=True)
        return name

    def add_user(self, groups=()):
        """Creates a test user (no home); returns its name."""
        self._users += 1
        name = 'matest%d%s' % (os.getpid(), chr(ord('a') + self._users - 1))
        self._defer(_userdel, name)
        argv = ['useradd', '--no-create-home', '--shell', '/bin/sh', name]
        if groups:
            argv[1:1] = ['--groups', ','.join(groups)]
        subprocess.run(argv, check=True)
        return name

    def uid_of(self, user):
        import pwd
        return pwd.getpwnam(user).pw_uid

    def run_as(self, user, argv, proc_options=None, **kwargs):
        """Popen of @argv as @user (None: root) on the private bus. With
        @proc_options ('hidepid=invisible', ...) it runs in a mount
        namespace of its own whose /proc is mounted with them."""
        prefix = ['runuser', '-u', user, '--'] if user is not None else []
        if proc_options is not None:
            prefix = ['unshare', '--mount', '--propagation', 'private', 'sh', '-c',
                      'mount -t proc -o "$0" proc /proc && exec "$@"', proc_options] + prefix
        return subprocess.Popen(prefix + ['env', '-i'] +
                                ['%s=%s' % kv for kv in self.bus_env().items()] + argv,
                                **kwargs)

    def spawn_target(self, user=None):
        proc = self.run_as(user, [self.target_path], stdin=subprocess.PIPE,
                           stdout=subprocess.PIPE, universal_newlines=True)
        self._defer(_kill, proc)
        target = Target(proc)
        self._defer(_kill_pid, target.pid)
        return target

    # -- the daemon --------------------------------------------------------

    def start_daemon(self, config=None, args=(), wait=True):
        """Starts memadvised with a test configuration ({group: {key: value}})."""
        config = config or {}
        path = os.path.join(self.tmpdir, 'memadvised.conf')
        with open(path, 'w') as f:
            for group, keys in config.items():
                f.write('[%s]\n' % group)
                for key, value in keys.items():
                    f.write('%s=%s\n' % (key, value))
        env = self.bus_env()
        env['G_DEBUG'] = 'fatal-criticals'
        self.daemon_log = open(os.path.join(self.tmpdir, 'memadvised.log'), 'w+')
        prefix = []
        if self.daemon_as_service:
            # LimitNOFILE=, NoNewPrivileges=yes, then SystemCallFilter=~@setuid.
            prefix = ['prlimit', '--nofile=%d:%d' % unit_nofile(), '--',
                      'setpriv', '--reuid=' + SERVICE_USER, '--regid=' + SERVICE_USER,
                      '--init-groups', '--inh-caps=' + SERVICE_CAPS,
                      '--ambient-caps=' + SERVICE_CAPS, '--bounding-set=-all,' + SERVICE_CAPS,
                      '--no-new-privs',
                      build_file('MA_DENY_SETUID', 'tests/service/ma-deny-setuid')]
        self.daemon = subprocess.Popen(prefix + [self.daemon_path, '--config', path, '--verbose'] +
                                       list(args), env=env, stdout=self.daemon_log,
                                       stderr=subprocess.STDOUT)
        self._defer(self._stop_daemon)
        if wait:
            self.wait_for_name(BUS_NAME, proc=self.daemon)
        return self.daemon

    def _stop_daemon(self):
        _kill(self.daemon)
        self.daemon_log.seek(0)
        log = self.daemon_log.read()
        self.daemon_log.close()
        if os.environ.get('MA_SHOW_DAEMON_LOG') or (self.daemon.returncode not in (0, -15) and
                                                    not self.daemon_may_fail):
            sys.stderr.write('--- memadvised log ---\n%s\n' % log)

    def daemon_log_text(self):
        self.daemon_log.flush()
        with open(self.daemon_log.name) as f:
            return f.read()

    # -- calls -------------------------------------------------------------

    def call_async(self, user, method, pids=None, mode=None, options=None, proc_options=None,
                   pass_fds=(), **extra):
        """Starts a call as @user; returns the Popen (see call_finish).
        PlanPidfds and ReclaimPidfds take @pids too: the caller opens a
        pidfd of each; or extra fds=[N, ...], pidfds the test opened and
        passes in @pass_fds. @proc_options: see run_as()."""
        spec = dict(method=method, **extra)
        if pids is not None:
            spec.update(pids=list(pids))
        if pids is not None or 'cgroup' in extra or 'fds' in extra:
            spec.update(mode=mode, options={k: list(v) for k, v in (options or {}).items()})
        text = json.dumps(spec)
        if len(text) > 65536:
            fd, path = tempfile.mkstemp(dir=self.tmpdir, suffix='.json')
            with os.fdopen(fd, 'w') as f:
                f.write(text)
            os.chmod(path, 0o644)
            text = '@' + path
        return self.run_as(user, [PYTHON, self.call_helper, text], proc_options=proc_options,
                           pass_fds=pass_fds, stdout=subprocess.PIPE, universal_newlines=True)

    def call_finish(self, proc, timeout=60):
        out, _ = proc.communicate(timeout=timeout)
        data = json.loads(out)
        if 'error' in data:
            raise CallError(data['error'], data['message'])
        return data

    def call(self, user, method, pids=None, mode=None, options=None, **extra):
        """Calls @method as @user (None: root) and returns its first out
        argument; raises CallError on an error reply. Options map a key to
        (variant type, value); the rest is call_async()'s."""
        data = self.call_finish(self.call_async(user, method, pids, mode, options, **extra))
        return data['value'][0]

    def call_root(self, method, pids, mode, options=None, timeout=60):
        """An in-process call as root (cheaper than call(None, ...))."""
        opts = {k: GLib.Variant(t, v) for k, (t, v) in (options or {}).items()}
        try:
            reply = self.bus.call_sync(BUS_NAME, OBJECT_PATH, INTERFACE, method,
                                       GLib.Variant('(ausa{sv})', (pids, mode, opts)),
                                       None, 0, timeout * 1000, None)
        except GLib.Error as e:
            name = Gio.DBusError.get_remote_error(e)
            Gio.DBusError.strip_remote_error(e)
            raise CallError(name, e.message)
        return reply.unpack()[0]

    def get_property(self, name):
        reply = self.bus.call_sync(BUS_NAME, OBJECT_PATH, 'org.freedesktop.DBus.Properties',
                                   'Get', GLib.Variant('(ss)', (INTERFACE, name)),
                                   None, 0, 5000, None)
        return reply.unpack()[0]

    def statistics(self):
        reply = self.bus.call_sync(BUS_NAME, OBJECT_PATH, INTERFACE, 'GetStatistics', None,
                                   None, 0, 5000, None)
        return reply.unpack()[0]

    def assertRaisesCallError(self, name):
        test = self

        class Context:
            def __enter__(self):
                return self

            def __exit__(self, exc_type, exc, tb):
                if exc_type is None:
                    test.fail('no error; expected %s' % name)
                if not issubclass(exc_type, CallError):
                    return False
                test.assertEqual(exc.name, name, exc.message)
                self.exception = exc
                return True

        return Context()


def _cases(suite):
    for t in suite:
        if isinstance(t, unittest.TestSuite):
            yield from _cases(t)
        else:
            yield t


def _swap_size(test):
    method = getattr(test, test._testMethodName)
    return getattr(method, 'ma_swap_size', None) or getattr(type(test), 'ma_swap_size', None)


def main():
    """unittest's main, plus --list: one case a line, "Class.test_name",
    followed by the swap size when it needs swap (for tests/meson.build)."""
    module = sys.modules['__main__']
    loader = unittest.defaultTestLoader
    if len(sys.argv) == 2 and sys.argv[1] == '--list':
        for t in _cases(loader.loadTestsFromModule(module)):
            size = _swap_size(t)
            print(t.id().split('.', 1)[1] + (' ' + size if size else ''))
        return
    names = [a for a in sys.argv[1:] if not a.startswith('-')]
    if names:
        suite = loader.loadTestsFromNames(names, module)
    else:
        suite = loader.loadTestsFromModule(module)
    if os.geteuid() != 0 and any(isinstance(t, MaTestCase) for t in _cases(suite)):
        print('%s: needs root (it starts a private system bus, polkitd and memadvised, and makes '
              'test users); run it as root, as tests/run does.' % ' '.join(names or [sys.argv[0]]),
              file=sys.stderr)
        sys.exit(1)
    unittest.main(verbosity=2)
