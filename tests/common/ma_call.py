#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
#
# One D-Bus call on the system bus, for ma_harness: run as a test user
# (runuser) so the daemon sees that user's bus credentials.
#
#   ma_call.py JSON
#   ma_call.py @FILE      (the JSON in FILE, for long pid lists)
#
# JSON: {"method": "Plan", "pids": [..], "mode": "cold",
#        "options": {"percent": ["u", 30]}, "interactive": false,
#        "timeout": 25, "exit_on_progress": false}
# or    {"method": "PlanCgroup", "cgroup": "a/b", "mode": .., "options": ..}
# or    {"method": "PlanPidfds", "pids": [..], ..}: opens a pidfd of each pid
#       (as this caller), or "fds": [N, ..]: pidfds it inherited
# or    {"method": "GetStatistics"} / {"method": "Get", "property": "Version"}
#       / {"method": "Introspect"}
# Prints one JSON object: {"value": ...} or {"error": NAME, "message": MSG},
# and, with exit_on_progress, exits (dropping the connection) at the first
# Progress signal after printing {"progress": [done, planned]}.
import json
import os
import sys

from gi.repository import Gio, GLib

BUS_NAME = 'org.memadvise.MemAdvise1'
PATH = '/org/memadvise/MemAdvise1'
IFACE = 'org.memadvise.MemAdvise1'


def to_json(value):
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    if isinstance(value, dict):
        return {k: to_json(v) for k, v in value.items()}
    return value


def build_call(spec):
    """(interface, method, arguments, fd list or None)."""
    method = spec['method']
    if method in ('PlanPidfds', 'ReclaimPidfds'):
        options = {k: GLib.Variant(t, v) for k, (t, v) in spec.get('options', {}).items()}
        fds = spec.get('fds') or [os.pidfd_open(pid) for pid in spec['pids']]
        fd_list = Gio.UnixFDList()
        handles = [fd_list.append(fd) for fd in fds]
        args = GLib.Variant('(ahsa{sv})', (handles, spec['mode'], options))
        return IFACE, method, args, fd_list
    return build_plain_call(spec) + (None,)


def build_plain_call(spec):
    method = spec['method']
    if method in ('Plan', 'Reclaim'):
        options = {k: GLib.Variant(t, v) for k, (t, v) in spec.get('options', {}).items()}
        args = GLib.Variant('(ausa{sv})', (spec['pids'], spec['mode'], options))
        return IFACE, method, args
    if method in ('PlanCgroup', 'ReclaimCgroup'):
        options = {k: GLib.Variant(t, v) for k, (t, v) in spec.get('options', {}).items()}
        args = GLib.Variant('(ssa{sv})', (spec['cgroup'], spec['mode'], options))
        return IFACE, method, args
    if method == 'GetStatistics':
        return IFACE, method, None
    if method == 'Get':
        return ('org.freedesktop.DBus.Properties', 'Get',
                GLib.Variant('(ss)', (IFACE, spec['property'])))
    if method == 'GetAll':
        return 'org.freedesktop.DBus.Properties', 'GetAll', GLib.Variant('(s)', (IFACE,))
    if method == 'Introspect':
        return 'org.freedesktop.DBus.Introspectable', 'Introspect', None
    raise SystemExit('unknown method ' + method)


def main():
    arg = sys.argv[1]
    if arg.startswith('@'):
        with open(arg[1:]) as f:
            arg = f.read()
    spec = json.loads(arg)
    bus = Gio.bus_get_sync(Gio.BusType.SYSTEM, None)
    iface, method, args, fd_list = build_call(spec)
    flags = Gio.DBusCallFlags.NONE
    if spec.get('interactive'):
        flags |= Gio.DBusCallFlags.ALLOW_INTERACTIVE_AUTHORIZATION
    loop = GLib.MainLoop()
    out = {}

    def on_progress(_conn, _sender, _path, _iface, _signal, params):
        out.setdefault('progress', []).append(list(params.unpack()))
        if spec.get('exit_on_progress'):
            print(json.dumps(out), flush=True)
            os._exit(0)

    bus.signal_subscribe(BUS_NAME, IFACE, 'Progress', PATH, None,
                         Gio.DBusSignalFlags.NONE, on_progress)

    def done(conn, result):
        try:
            if fd_list is not None:
                reply = conn.call_with_unix_fd_list_finish(result)[0]
            else:
                reply = conn.call_finish(result)
            out['value'] = to_json(reply.unpack())
        except GLib.Error as e:
            out['error'] = Gio.DBusError.get_remote_error(e)
            Gio.DBusError.strip_remote_error(e)
            out['message'] = e.message
        loop.quit()

    if fd_list is not None:
        bus.call_with_unix_fd_list(BUS_NAME, PATH, iface, method, args, None, flags,
                                   int(spec.get('timeout', 25) * 1000), fd_list, None, done)
    else:
        bus.call(BUS_NAME, PATH, iface, method, args, None, flags,
                 int(spec.get('timeout', 25) * 1000), None, done)
    loop.run()
    print(json.dumps(out), flush=True)


if __name__ == '__main__':
    main()
