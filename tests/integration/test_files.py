#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The shipped bus policy, activation file, polkit actions and interface
XML: valid, and saying what DESIGN says."""
import configparser
import os
import subprocess
import unittest
import xml.etree.ElementTree as ET

import ma_harness

SRC = ma_harness.SOURCE_ROOT
HERE = os.path.dirname(os.path.abspath(__file__))


def xmllint(*args):
    return subprocess.run(['xmllint', '--noout', '--nonet'] + list(args),
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True)


class FilesTest(unittest.TestCase):

    def test_polkit_policy_is_valid(self):
        r = xmllint('--dtdvalid', '/usr/share/polkit-1/policyconfig-1.dtd',
                    os.path.join(SRC, 'polkit', 'org.memadvise.policy'))
        self.assertEqual(r.returncode, 0, r.stdout)

    def test_polkit_actions_and_defaults(self):
        root = ET.parse(os.path.join(SRC, 'polkit', 'org.memadvise.policy')).getroot()
        actions = {}
        for a in root.findall('action'):
            d = a.find('defaults')
            actions[a.get('id')] = tuple(d.find(k).text for k in
                                         ('allow_any', 'allow_inactive', 'allow_active'))
            self.assertTrue(a.find('description').text)
            self.assertTrue(a.find('message').text)
            self.assertEqual(a.find('message').get('gettext-domain'), 'memadvise')
        self.assertEqual(actions, {
            'org.memadvise.reclaim-own': ('auth_admin_keep', 'auth_admin_keep', 'yes'),
            'org.memadvise.reclaim-other': ('auth_admin_keep',) * 3,
            'org.memadvise.inspect-other': ('auth_admin_keep',) * 3,
        })

    def test_bus_policy_is_valid(self):
        r = xmllint('--dtdvalid', os.path.join(HERE, 'busconfig.dtd'),
                    os.path.join(SRC, 'dbus', 'org.memadvise.MemAdvise1.conf'))
        self.assertEqual(r.returncode, 0, r.stdout)

    def test_bus_policy_lets_only_root_own_and_everyone_call(self):
        root = ET.parse(os.path.join(SRC, 'dbus', 'org.memadvise.MemAdvise1.conf')).getroot()
        owners = [(p.get('user'), a.get('own')) for p in root.findall('policy')
                  for a in p.findall('allow') if a.get('own')]
        self.assertIn(('root', 'org.memadvise.MemAdvise1'), owners)
        default = root.find("policy[@context='default']")
        self.assertIsNone(default.find('allow[@own]'))
        ifaces = {a.get('send_interface') for a in default.findall('allow')
                  if a.get('send_destination') == 'org.memadvise.MemAdvise1'}
        self.assertEqual(ifaces, {'org.memadvise.MemAdvise1', 'org.freedesktop.DBus.Properties',
                                  'org.freedesktop.DBus.Introspectable',
                                  'org.freedesktop.DBus.Peer'})

    def test_interface_xml_is_valid(self):
        r = xmllint('--dtdvalid', '/usr/share/xml/dbus-1/introspect.dtd',
                    os.path.join(SRC, 'dbus', 'org.memadvise.MemAdvise1.xml'))
        self.assertEqual(r.returncode, 0, r.stdout)

    def test_activation_file(self):
        parser = configparser.ConfigParser()
        parser.optionxform = str
        parser.read(os.path.join(SRC, 'dbus', 'org.memadvise.MemAdvise1.service.in'))
        service = parser['D-BUS Service']
        self.assertEqual(service['Name'], 'org.memadvise.MemAdvise1')
        self.assertEqual(service['SystemdService'], 'memadvised.service')
        self.assertEqual(service['User'], 'root')
        self.assertTrue(service['Exec'].endswith('/memadvised'))

    def test_example_rule_names_reclaim_own_only(self):
        with open(os.path.join(SRC, 'polkit', '50-memadvise-group.rules.example')) as f:
            text = f.read()
        self.assertIn('org.memadvise.reclaim-own', text)
        self.assertNotIn('reclaim-other', text)
        self.assertNotIn('inspect-other', text)

    def test_default_config_has_every_key_commented(self):
        with open(os.path.join(SRC, 'data', 'memadvised.conf')) as f:
            lines = [line.strip() for line in f]
        for key in ('MaxJobs', 'MaxCallsPerMinutePerUser', 'AuthorizationTimeout',
                    'InteractiveAuthorizationTimeout', 'Names', 'Cgroups'):
            self.assertTrue(any(line.startswith('#' + key + '=') for line in lines), key)
        self.assertFalse([line for line in lines if '=' in line and not line.startswith('#')])


if __name__ == '__main__':
    ma_harness.main()
