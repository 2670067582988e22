#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Which process a target is, whose it is, and what a caller may learn of
it (issue 13): a process of the caller that becomes root between the
daemon's check and its work, sandboxed apps (bwrap --unshare-user),
/proc mounted hidepid=, callers in another pid namespace, and targets
given as pidfds."""
import os
import shutil
import signal
import subprocess

from gi.repository import Gio, GLib

import ma_harness
from ma_harness import MaTestCase, Target

MiB = 1024 * 1024
ACCESS_DENIED = 'org.freedesktop.DBus.Error.AccessDenied'
INVALID_ARGS = 'org.freedesktop.DBus.Error.InvalidArgs'
RECLAIM_OWN = 'org.memadvise.reclaim-own'
RECLAIM_OTHER = 'org.memadvise.reclaim-other'
CAP_SETGID, CAP_SETUID = 6, 7
# Every key a results entry always has, with what an entry of a process
# that was never read holds.
UNREAD = {'comm': '', 'uid': 0xffffffff, 'eligible-bytes': 0, 'planned-bytes': 0,
          'advised-bytes': 0, 'rss-before': 0, 'anon-before': 0, 'swap-before': 0}


def descendants(pid):
    """The pids below @pid, from /proc/PID/task/*/children."""
    found = []
    todo = [pid]
    while todo:
        parent = todo.pop()
        for task in os.listdir('/proc/%d/task' % parent):
            try:
                with open('/proc/%d/task/%s/children' % (parent, task)) as f:
                    children = [int(c) for c in f.read().split()]
            except OSError:
                continue
            found += children
            todo += children
    return found


def comm_of(pid):
    with open('/proc/%d/comm' % pid) as f:
        return f.read().strip()


class IdentityTestCase(MaTestCase):

    def setUp(self):
        super().setUp()
        self.group = self.add_group()
        self.alice = self.add_user(groups=[self.group])
        self.bob = self.add_user()

    def target(self, user, size=8 * MiB):
        t = self.spawn_target(user)
        t.map('a', 'anon', size)
        return t

    def setuid_root_target_copy(self):
        """A setuid-root copy of ma-test-target that test users may run."""
        path = os.path.join(self.tmpdir, 'ma-test-target-setuid')
        shutil.copy(self.target_path, path)
        os.chown(path, 0, 0)
        os.chmod(path, 0o4755)
        return path

    def bwrap_target(self, user, size=8 * MiB):
        """ma-test-target of @user in a sandbox as Flatpak makes one: a
        user namespace and a pid namespace of its own (bwrap). Its pid is
        the one the daemon's pid namespace gives it."""
        proc = self.run_as(user, ['bwrap', '--unshare-user', '--unshare-pid', '--die-with-parent',
                                  '--dev-bind', '/', '/', self.target_path],
                           stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                           universal_newlines=True)
        self._defer(ma_harness._kill, proc)
        t = Target(proc)
        hosts = [p for p in descendants(proc.pid) if comm_of(p) == 'ma-test-target']
        self.assertEqual(len(hosts), 1, hosts)
        t.pid = hosts[0]
        self._defer(ma_harness._kill_pid, t.pid)
        status = ma_harness.status_of(t.pid)
        self.assertEqual(status['NSpid'].split()[0], str(t.pid))
        self.assertEqual(status['CapEff'], '0000000000000000')
        t.map('a', 'anon', size)
        return t


class OwnProcessBecomesRootTest(IdentityTestCase):
    """Finding 1, as the shipped unit runs the daemon: a process of the
    caller that execs a setuid-root program after the daemon classified it
    as the caller's own."""
    daemon_as_service = True

    def setUp(self):
        super().setUp()
        self.mock = self.start_polkit_mock()
        self.start_daemon()

    def test_service_daemon_runs_with_the_units_capabilities_and_filter(self):
        pid = self.name_owner_pid(ma_harness.BUS_NAME)
        status = ma_harness.status_of(pid)
        cap_eff = int(status['CapEff'], 16)
        self.assertTrue(cap_eff & (1 << CAP_SETUID) and cap_eff & (1 << CAP_SETGID), status)
        self.assertEqual(status['NoNewPrivs'], '1')
        self.assertEqual(status['Seccomp'], '2')
        self.assertNotIn('CAP_SETUID/CAP_SETGID are missing', self.daemon_log_text())
        # The filter kills the setuid family, and leaves the rest alone.
        deny = ma_harness.build_file('MA_DENY_SETUID', 'tests/service/ma-deny-setuid')
        r = subprocess.run([deny, '/usr/bin/setpriv', '--reuid=65534', '/bin/true'])
        self.assertEqual(r.returncode, -signal.SIGSYS)
        self.assertEqual(subprocess.run([deny, '/bin/true']).returncode, 0)

    def become_root_while_min_idle_waits(self, call, own):
        """Starts @call, waits until the daemon has classified @own as the
        caller's and waits for min-idle, then makes @own a root process
        holding memory of root's. Returns the results."""
        proc = call()
        ma_harness.wait_log(self, 'for min-idle')
        own.exec(self.setuid_root_target_copy())
        own.map('root', 'anon', 8 * MiB)
        uid = str(self.uid_of(self.alice))
        self.assertEqual(ma_harness.status_of(own.pid)['Uid'].split(), [uid, '0', '0', '0'])
        return self.call_finish(proc)['value'][0]

    def assertNothingOf(self, r, why='kernel refused'):
        """Nothing of the target in @r: refused, saying @why."""
        self.assertEqual((r['status'], r.get('error')), ('failed', 'not-authorized'), r)
        self.assertIn(why, r['message'])
        for key in ('eligible-bytes', 'planned-bytes', 'advised-bytes', 'rss-before'):
            self.assertEqual(r[key], 0, key)
        self.assertEqual(r['ranges'], [])

    def test_reclaim_of_own_process_that_becomes_root_advises_nothing(self):
        # Classified as hers, then the wait: the kernel's own check, made
        # with her filesystem ids at each read and advice, refuses.
        self.mock.SetAllowed('(as)', ['org.memadvise.reclaim-own'])
        own = self.target(self.alice)
        results = self.become_root_while_min_idle_waits(
            lambda: self.call_async(self.alice, 'Reclaim', [own.pid], 'cold',
                                    {'percent': ('u', 100), 'ranges': ('b', True),
                                     'min-idle': ('u', 2)}), own)
        self.assertNothingOf(results[0])

    def test_plan_of_own_process_that_becomes_root_shows_nothing(self):
        # Plan on one's own process needs no authorization at all.
        own = self.target(self.alice)
        results = self.become_root_while_min_idle_waits(
            lambda: self.call_async(self.alice, 'Plan', [own.pid], 'cold',
                                    {'percent': ('u', 100), 'ranges': ('b', True),
                                     'min-idle': ('u', 2)}), own)
        self.assertNothingOf(results[0])

    def test_own_process_that_becomes_root_while_polkit_waits_is_authorized_anew(self):
        # While polkit is asked the call holds no pidfd; opened again
        # afterwards, the process is classified again: root's now, it
        # needs reclaim-other, which was not granted.
        actions = ['org.memadvise.reclaim-own']
        self.mock.SimulateHangActions('(as)', actions)
        self.mock.SetAllowed('(as)', actions)
        own = self.target(self.alice)
        proc = self.call_async(self.alice, 'Reclaim', [own.pid], 'cold',
                               {'percent': ('u', 100), 'ranges': ('b', True)})
        self.assertTrue(ma_harness.wait_hanging(self.mock), 'the daemon asked polkit nothing')
        own.exec(self.setuid_root_target_copy())
        own.map('root', 'anon', 8 * MiB)
        self.mock.ReleaseHangingCalls()
        r = self.call_finish(proc)['value'][0][0]
        self.assertNothingOf(r, 'org.memadvise.reclaim-other needed')


class ReopenedTargetTest(IdentityTestCase):
    """A call that waits for polkit closes its targets and opens them again
    once authorized (memadvised(8), LIMITS AND JOBS): what the pid or the
    pidfd names then is classified and authorized anew."""

    def setUp(self):
        super().setUp()
        self.mock = self.start_polkit_mock()
        self.mock.SetAllowed('(as)', [RECLAIM_OWN])
        self.mock.SimulateHangActions('(as)', [RECLAIM_OWN])
        self.start_daemon()

    def waiting_call(self, method, target, **extra):
        proc = self.call_async(self.alice, method, [target.pid], 'cold',
                               {'percent': ('u', 100)}, **extra)
        self.assertTrue(ma_harness.wait_hanging(self.mock), 'the daemon asked polkit nothing')
        return proc

    def root_process_with_pid(self, pid):
        """A new process of root's that has @pid, which an exited process
        had."""
        for _ in range(20):
            with open('/proc/sys/kernel/ns_last_pid', 'w') as f:
                f.write(str(pid - 1))
            new = self.target(None)
            if new.pid == pid:
                return new
            new.kill()
        self.fail('pid %d was never reused in 20 attempts' % pid)

    def assertExitedWhileWaiting(self, method):
        own = self.target(self.alice)
        pid = own.pid
        proc = self.waiting_call(method, own)
        own.kill()
        new = self.root_process_with_pid(pid)
        self.mock.ReleaseHangingCalls()
        r = self.call_finish(proc)['value'][0][0]
        # Never root's process that has the pid now: that one would be
        # not-authorized (reclaim-other), or advised. The entry is of the
        # process classified, the caller's.
        self.assertEqual((r['status'], r['error']), ('failed', 'exited'), r)
        self.assertIn('exited while the call waited for authorization', r['message'])
        self.assertEqual((r['advised-bytes'], r['uid']), (0, self.uid_of(self.alice)))
        self.assertEqual(new.pid, pid)

    def test_pid_whose_process_exits_while_polkit_waits_is_exited(self):
        self.assertExitedWhileWaiting('Reclaim')

    def test_pidfd_whose_process_exits_while_polkit_waits_is_exited(self):
        self.assertExitedWhileWaiting('ReclaimPidfds')

    def test_own_process_that_becomes_root_while_polkit_waits_is_shown_as_its_proc_shows(self):
        # Classified own (reclaim-own, granted), it is root's when opened
        # again: reclaim-other, not granted. The grant for what it was
        # shows none of what it is to a caller whose /proc hides it.
        own = self.target(self.alice)
        proc = self.waiting_call('Reclaim', own, proc_options='hidepid=noaccess')
        own.exec(self.setuid_root_target_copy())
        self.mock.ReleaseHangingCalls()
        r = self.call_finish(proc)['value'][0][0]
        self.assertEqual((r['status'], r['error']), ('failed', 'not-authorized'), r)
        self.assertIn(RECLAIM_OTHER, r['message'])
        self.assertEqual((r['comm'], r['uid'], r['advised-bytes']), ('', 0xffffffff, 0), r)


class SandboxedAppTest(IdentityTestCase):
    """Finding 8: an app of the caller in a user namespace of its own."""

    def setUp(self):
        super().setUp()
        self.install_group_rule(self.group)
        self.start_polkitd()
        self.start_daemon()

    def test_plan_and_reclaim_of_own_bwrap_process(self):
        t = self.bwrap_target(self.alice)
        before = t.checksum('a')
        r = self.call(self.alice, 'Plan', [t.pid], 'cold', {'percent': ('u', 100)})[0]
        self.assertEqual(r['status'], 'ok', r.get('message'))
        self.assertEqual(r['uid'], self.uid_of(self.alice))
        self.assertGreaterEqual(r['planned-bytes'], 8 * MiB)
        r = self.call(self.alice, 'Reclaim', [t.pid], 'cold', {'percent': ('u', 100)})[0]
        self.assertEqual(r['status'], 'ok', r.get('message'))
        self.assertGreaterEqual(r['advised-bytes'], 8 * MiB)
        self.assertEqual(t.checksum('a'), before)

    def test_bwrap_process_of_another_user_is_other(self):
        t = self.bwrap_target(self.bob)
        with self.assertRaisesCallError(ACCESS_DENIED):
            self.call(self.alice, 'Plan', [t.pid], 'cold')
        with self.assertRaisesCallError(ACCESS_DENIED):
            self.call(self.alice, 'Reclaim', [t.pid], 'cold')


class ServiceSandboxedAppTest(SandboxedAppTest):
    """The same with the daemon as the shipped unit runs it."""
    daemon_as_service = True


class HiddenProcessTest(IdentityTestCase):
    """Finding 5: a caller learns through the daemon nothing its /proc
    does not show it."""

    def setUp(self):
        super().setUp()
        self.install_group_rule(self.group)
        self.start_polkitd()

    def free_pid(self):
        with open('/proc/sys/kernel/pid_max') as f:
            pid = int(f.read()) - 1
        while os.path.exists('/proc/%d' % pid):
            pid -= 1
        return pid

    def plan_as(self, user, pids, proc_options, **extra):
        return self.call_finish(self.call_async(user, 'Plan', pids, 'cold',
                                                proc_options=proc_options, **extra))['value'][0]

    def test_hidden_process_is_answered_as_no_process(self):
        self.start_daemon()
        other = self.target(self.bob)
        own = self.target(self.alice)
        free = self.free_pid()
        for options in ('hidepid=invisible', 'hidepid=ptraceable'):
            hidden, missing, mine = self.plan_as(self.alice, [other.pid, free, own.pid], options)
            # Exactly as for a pid that names nothing: no polkit, no
            # AccessDenied, no name, no owner, the same sentence.
            for r, pid in ((hidden, other.pid), (missing, free)):
                self.assertEqual(r['pid'], pid)
                self.assertEqual((r['status'], r['error']), ('failed', 'no-such-process'), r)
                self.assertEqual(r['message'], 'There is no process %d.' % pid)
            self.assertEqual({k: v for k, v in hidden.items() if k not in ('pid', 'message')},
                             {k: v for k, v in missing.items() if k not in ('pid', 'message')})
            for key, value in UNREAD.items():
                self.assertEqual(hidden[key], value, key)
            self.assertEqual(mine['status'], 'ok')
            self.assertEqual(mine['comm'], 'ma-test-target')
            # Alone, the hidden one is answered like the free pid too.
            hidden = self.plan_as(self.alice, [other.pid], options)[0]
            self.assertEqual(hidden['error'], 'no-such-process')
        # The caller's own /proc as the host mounts it: refused as before.
        with self.assertRaisesCallError(ACCESS_DENIED):
            self.call(self.alice, 'Plan', [other.pid], 'cold')

    def test_noaccess_shows_that_a_process_exists_not_its_name(self):
        self.start_daemon()
        other = self.target(self.bob)
        own = self.target(self.alice)
        with self.assertRaisesCallError(ACCESS_DENIED):
            self.plan_as(self.alice, [other.pid], 'hidepid=noaccess')
        refused, mine = self.plan_as(self.alice, [other.pid, own.pid], 'hidepid=noaccess')
        self.assertEqual((refused['status'], refused['error']), ('failed', 'not-authorized'))
        self.assertEqual((refused['comm'], refused['uid']), ('', 0xffffffff))
        self.assertEqual((mine['comm'], mine['uid']), ('ma-test-target', self.uid_of(self.alice)))
        # With /proc as the host mounts it, name and owner are anyone's.
        refused = self.call(self.alice, 'Plan', [other.pid, own.pid], 'cold')[0]
        self.assertEqual((refused['comm'], refused['uid']),
                         ('ma-test-target', self.uid_of(self.bob)))
        # Root sees everything.
        r = self.plan_as(None, [other.pid], 'hidepid=invisible')[0]
        self.assertEqual((r['status'], r['comm']), ('ok', 'ma-test-target'))

    def test_protected_process_is_named_only_to_who_may_read_it(self):
        self.start_daemon(config={'Protect': {'Names': 'ma-test-target'}})
        other = self.target(self.bob)
        own = self.target(self.alice)
        unprotected = self.target(self.alice)
        unprotected.command('name ' + b'unprotected'.hex())
        refused, mine, _ = self.plan_as(self.alice, [other.pid, own.pid, unprotected.pid],
                                        'hidepid=noaccess')
        # Not told that it is protected, nor its name: not authorized.
        self.assertEqual((refused['status'], refused['error']), ('failed', 'not-authorized'))
        self.assertNotIn('ma-test-target', refused['message'])
        self.assertNotIn('protected', refused['message'])
        self.assertEqual(refused['comm'], '')
        # Its own process it may read: protected, by its name.
        self.assertEqual(mine['error'], 'protected')
        self.assertIn('(ma-test-target)', mine['message'])
        # Root is authorized for it.
        r = self.plan_as(None, [other.pid], 'hidepid=noaccess')[0]
        self.assertEqual(r['error'], 'protected')
        self.assertIn('(ma-test-target)', r['message'])

    def test_gid_member_sees_every_process(self):
        self.start_daemon()
        other = self.target(self.bob)
        gid = int(subprocess.run(['getent', 'group', self.group], stdout=subprocess.PIPE,
                                 universal_newlines=True, check=True).stdout.split(':')[2])
        with self.assertRaisesCallError(ACCESS_DENIED):
            self.plan_as(self.alice, [other.pid], 'hidepid=invisible,gid=%d' % gid)
        # bob is not in the group.
        r = self.plan_as(self.bob, [self.target(self.alice).pid],
                         'hidepid=invisible,gid=%d' % gid)[0]
        self.assertEqual(r['error'], 'no-such-process')

    def test_own_sandboxed_app_is_seen(self):
        self.start_daemon()
        t = self.bwrap_target(self.alice)
        r = self.plan_as(self.alice, [t.pid], 'hidepid=invisible')[0]
        self.assertEqual((r['status'], r['comm']), ('ok', 'ma-test-target'), r)

    def test_cgroup_members_the_caller_cannot_see_are_left_out(self):
        self.start_daemon()
        root = ma_harness.cgroup2_root()
        rel = 'ma-test-identity-%d' % os.getpid()
        path = os.path.join(root, rel)
        os.mkdir(path)
        self._defer(ma_harness.remove_cgroup, path)
        own, other = self.target(self.alice), self.target(self.bob)
        for t in (own, other):
            with open(os.path.join(path, 'cgroup.procs'), 'w') as f:
                f.write(str(t.pid))
        results = self.call_finish(self.call_async(self.alice, 'PlanCgroup', mode='cold',
                                                   cgroup=rel,
                                                   proc_options='hidepid=invisible'))['value'][0]
        self.assertEqual([r['pid'] for r in results], [own.pid])
        self.assertEqual(results[0]['status'], 'ok')
        # Nor was polkit asked about it (an agent would have prompted).
        self.assertNotIn('not authorized', self.daemon_log_text())
        results = self.call(None, 'PlanCgroup', mode='cold', cgroup=rel)
        self.assertEqual(sorted(r['pid'] for r in results), sorted([own.pid, other.pid]))

    def test_caller_in_another_pid_namespace_passes_pidfds(self):
        self.start_daemon()
        own = self.target(self.alice)
        unshared = ['unshare', '--pid', '--fork', '--mount-proc', 'runuser', '-u', self.alice, '--',
                    'env', '-i'] + ['%s=%s' % kv for kv in self.bus_env().items()]
        proc = subprocess.Popen(unshared + [ma_harness.PYTHON, self.call_helper,
                                            '{"method": "Plan", "pids": [%d], "mode": "cold", '
                                            '"options": {}}' % own.pid],
                                stdout=subprocess.PIPE, universal_newlines=True)
        with self.assertRaisesCallError(INVALID_ARGS) as cm:
            self.call_finish(proc)
        self.assertIn('pid namespace', cm.exception.message)
        # A pidfd names the process whatever the namespace: its pid, a
        # number of the daemon's, is not told.
        pidfd = os.pidfd_open(own.pid)
        self._defer(os.close, pidfd)
        proc = subprocess.Popen(unshared + [ma_harness.PYTHON, self.call_helper,
                                            '{"method": "PlanPidfds", "fds": [%d], "mode": "cold",'
                                            ' "options": {}}' % pidfd],
                                stdout=subprocess.PIPE, universal_newlines=True,
                                pass_fds=[pidfd])
        r = self.call_finish(proc)['value'][0][0]
        self.assertEqual((r['status'], r['pid'], r['comm']), ('ok', 0, 'ma-test-target'))


class PidfdTest(IdentityTestCase):
    """Finding 9: targets given as pidfds."""

    def setUp(self):
        super().setUp()
        self.install_group_rule(self.group)
        self.start_polkitd()
        self.start_daemon()

    def call_pidfds(self, method, fds, mode='cold', options=None):
        """An in-process call as root with the pidfds @fds."""
        fd_list = Gio.UnixFDList()
        handles = [fd_list.append(fd) for fd in fds]
        opts = {k: GLib.Variant(t, v) for k, (t, v) in (options or {}).items()}
        try:
            reply, _ = self.bus.call_with_unix_fd_list_sync(
                ma_harness.BUS_NAME, ma_harness.OBJECT_PATH, ma_harness.INTERFACE, method,
                GLib.Variant('(ahsa{sv})', (handles, mode, opts)), None, 0, 60000, fd_list, None)
        except GLib.Error as e:
            name = Gio.DBusError.get_remote_error(e)
            Gio.DBusError.strip_remote_error(e)
            raise ma_harness.CallError(name, e.message)
        return reply.unpack()[0]

    def pidfd(self, pid):
        fd = os.pidfd_open(pid)
        self._defer(os.close, fd)
        return fd

    def test_plan_and_reclaim_by_pidfd(self):
        own, other = self.target(self.alice), self.target(self.bob)
        results = self.call(self.alice, 'PlanPidfds', [own.pid], 'cold',
                            {'percent': ('u', 100)})
        self.assertEqual([(r['pid'], r['status']) for r in results], [(own.pid, 'ok')])
        results = self.call(self.alice, 'ReclaimPidfds', [own.pid, other.pid], 'cold',
                            {'percent': ('u', 100)})
        self.assertEqual([r['pid'] for r in results], [own.pid, other.pid])
        self.assertEqual(results[0]['status'], 'ok')
        self.assertGreaterEqual(results[0]['advised-bytes'], 8 * MiB)
        self.assertEqual(results[1]['error'], 'not-authorized')
        # As for pids: every target refused is AccessDenied...
        with self.assertRaisesCallError(ACCESS_DENIED):
            self.call(self.alice, 'ReclaimPidfds', [other.pid], 'cold')
        # ... unless the caller asks for the results (it splits one request).
        r = self.call(self.alice, 'ReclaimPidfds', [other.pid], 'cold',
                      {'access-denied': ('b', False)})[0]
        self.assertEqual(r['error'], 'not-authorized')

    def test_pidfd_of_exited_process_is_exited_never_the_pids_new_process(self):
        for _ in range(20):
            # Root's: spawned without runuser, the target is the first new
            # process, which is what ns_last_pid steers.
            old = self.target(None)
            pid = old.pid
            fd = self.pidfd(pid)
            old.kill()
            # The next process gets the old pid, as far as other processes
            # on the machine let it.
            with open('/proc/sys/kernel/ns_last_pid', 'w') as f:
                f.write(str(pid - 1))
            new = self.target(None)
            if new.pid != pid:
                continue
            r = self.call_pidfds('PlanPidfds', [fd])[0]
            self.assertEqual((r['status'], r['error'], r['pid']), ('failed', 'exited', 0), r)
            self.assertEqual(r['planned-bytes'], 0)
            # The pid itself names the new process.
            self.assertEqual(self.call(None, 'Plan', [pid], 'cold')[0]['status'], 'ok')
            return
        self.fail('the pid of an exited target was never reused in 20 attempts')

    def test_other_files_and_bad_handles_are_invalid_args(self):
        t = self.target(self.alice)
        with open('/dev/null') as null:
            with self.assertRaisesCallError(INVALID_ARGS):
                self.call_pidfds('PlanPidfds', [self.pidfd(t.pid), null.fileno()])
        fd_list = Gio.UnixFDList()
        fd_list.append(self.pidfd(t.pid))
        with self.assertRaises(GLib.Error) as cm:
            self.bus.call_with_unix_fd_list_sync(
                ma_harness.BUS_NAME, ma_harness.OBJECT_PATH, ma_harness.INTERFACE, 'PlanPidfds',
                GLib.Variant('(ahsa{sv})', ([0, 1], 'cold', {})), None, 0, 10000, fd_list, None)
        self.assertEqual(Gio.DBusError.get_remote_error(cm.exception), INVALID_ARGS)

    def test_two_pidfds_of_one_process_are_one_target(self):
        a, b = self.target(self.alice), self.target(self.alice)
        results = self.call_pidfds('PlanPidfds', [self.pidfd(a.pid), self.pidfd(b.pid),
                                                  self.pidfd(a.pid)])
        self.assertEqual([r['pid'] for r in results], [a.pid, b.pid])


if __name__ == '__main__':
    ma_harness.main()
