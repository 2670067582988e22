#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The harness itself: test cases of concurrent runs take turns, and an
installed policy file survives them."""
import os
import tempfile

import ma_harness
from ma_harness import MaTestCase


def holds_lock(pid, path):
    """Whether @pid holds (not waits for) a flock on @path, by /proc/locks:
    unlike trying the lock, this does not depend on other checkouts' runs."""
    st = os.stat(path)
    want = '%02x:%02x:%d' % (os.major(st.st_dev), os.minor(st.st_dev), st.st_ino)
    with open('/proc/locks') as f:
        for line in f:
            words = line.split()
            if words[1] == '->':  # a waiter
                continue
            if words[1] == 'FLOCK' and int(words[4]) == pid and words[5] == want:
                return True
    return False


class HarnessTest(MaTestCase):

    def test_a_test_case_holds_the_machine_wide_lock(self):
        self.assertTrue(holds_lock(os.getpid(), ma_harness.LOCK_PATH))

    def test_cleanup_releases_the_lock(self):
        self.tearDown()
        try:
            self.assertFalse(holds_lock(os.getpid(), ma_harness.LOCK_PATH))
        finally:
            self.setUp()

    def test_installed_policy_is_put_back(self):
        dest = os.path.join(ma_harness.ACTIONS_DIR, 'org.memadvise.policy')
        with open(os.path.join(ma_harness.SOURCE_ROOT, 'polkit', 'org.memadvise.policy')) as f:
            self.assertEqual(open(dest).read(), f.read())
        # What a packaged memadvise would have installed before a run.
        self.tearDown()
        original = ma_harness._save_file(dest)
        try:
            ma_harness._remove(dest)
            with open(dest, 'w') as f:
                f.write('<!-- packaged -->\n')
            os.chmod(dest, 0o640)
            self.setUp()
            self.assertNotEqual(open(dest).read(), '<!-- packaged -->\n')
            self.tearDown()
            with open(dest) as f:
                self.assertEqual(f.read(), '<!-- packaged -->\n')
            self.assertEqual(os.stat(dest).st_mode & 0o7777, 0o640)
        finally:
            ma_harness._restore_file(dest, original)
            self.setUp()

    def test_policy_behind_a_symbolic_link_is_not_written_through(self):
        dest = os.path.join(ma_harness.ACTIONS_DIR, 'org.memadvise.policy')
        self.tearDown()
        original = ma_harness._save_file(dest)
        with tempfile.NamedTemporaryFile('w', suffix='.policy', delete=False) as f:
            f.write('<!-- packaged -->\n')
        try:
            ma_harness._remove(dest)
            os.symlink(f.name, dest)
            self.setUp()
            self.assertFalse(os.path.islink(dest))
            with open(f.name) as g:
                self.assertEqual(g.read(), '<!-- packaged -->\n')
            self.tearDown()
            self.assertEqual(os.readlink(dest), f.name)
        finally:
            ma_harness._restore_file(dest, original)
            os.unlink(f.name)
            self.setUp()


if __name__ == '__main__':
    ma_harness.main()
