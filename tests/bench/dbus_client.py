#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
#
# One D-Bus client of the benchmarks, on a connection of its own to the bus
# in DBUS_SYSTEM_BUS_ADDRESS (run as a test user with ma_harness.run_as, so
# the daemon sees that user's credentials).
#
#   dbus_client.py CALL COUNT [PID]
#
# CALL: plan (Plan of PID, mode cold, percent 30), ping
# (org.freedesktop.DBus.Peer.Ping to the daemon), get (Properties.Get of
# Version). Prints "ready" once connected, waits for a line on stdin (so
# that several clients start together), makes COUNT calls one after the
# other and prints one JSON object: {"latency_us": [...], "errors": N}.
import json
import os
import sys
import time

from gi.repository import Gio, GLib

BUS_NAME = 'org.memadvise.MemAdvise1'
PATH = '/org/memadvise/MemAdvise1'
IFACE = 'org.memadvise.MemAdvise1'


def main():
    call, count = sys.argv[1], int(sys.argv[2])
    pid = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    bus = Gio.DBusConnection.new_for_address_sync(
        os.environ['DBUS_SYSTEM_BUS_ADDRESS'],
        Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT |
        Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION, None, None)
    if call == 'plan':
        args = ('Plan', IFACE, GLib.Variant('(ausa{sv})', ([pid], 'cold', {})))
    elif call == 'ping':
        args = ('Ping', 'org.freedesktop.DBus.Peer', None)
    elif call == 'get':
        args = ('Get', 'org.freedesktop.DBus.Properties',
                GLib.Variant('(ss)', (IFACE, 'Version')))
    else:
        raise SystemExit('unknown call %s' % call)
    method, iface, params = args
    print('ready', flush=True)
    sys.stdin.readline()
    latency, errors = [], 0
    for _ in range(count):
        start = time.perf_counter_ns()
        try:
            bus.call_sync(BUS_NAME, PATH, iface, method, params, None, 0, 30000, None)
        except GLib.Error:
            errors += 1
        latency.append((time.perf_counter_ns() - start) / 1000)
    print(json.dumps({'latency_us': latency, 'errors': errors}), flush=True)


if __name__ == '__main__':
    main()
