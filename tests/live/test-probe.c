/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Live tests of the kernel probes, each in a process of its own: a probe
 * keeps its answer for the life of the process.
 */
#include "config.h"

#include <fcntl.h>
#include <sys/fsuid.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "live-common.h"

#define NOBODY 65534

/* From <linux/fs.h> of Linux 6.7, as the engine has it; only the size of
 * the argument and the request number matter for an empty range. */
struct probe_scan_arg
{
  guint64 fields[12];
};
#define PROBE_PAGEMAP_SCAN _IOWR ('f', 16, struct probe_scan_arg)

static gpointer
probe_as_nobody (gpointer data)
{
  gboolean *answer = data;

  /* Like the daemon's thread working for a caller: other filesystem ids. */
  setfsgid (NOBODY);
  setfsuid (NOBODY);
  g_assert_cmpint (setfsuid ((uid_t) -1), ==, NOBODY);
  *answer = ma_probe_pagemap_scan ();
  return NULL;
}

static void
test_pagemap_scan_probe_refused_open_is_not_kept (void)
{
  struct probe_scan_arg arg = { { sizeof arg } };
  gboolean as_nobody = TRUE, expected;
  int fd;

  g_assert_cmpint (geteuid (), ==, 0);
  g_thread_join (g_thread_new ("nobody", probe_as_nobody, &as_nobody));
  g_assert_false (as_nobody);

  /* Asked again with our own ids, the probe answers as the kernel does. */
  fd = open ("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
  g_assert_cmpint (fd, >=, 0);
  expected = ioctl (fd, PROBE_PAGEMAP_SCAN, &arg) == 0;
  close (fd);
  g_assert_cmpint (ma_probe_pagemap_scan (), ==, expected);
  g_assert_cmpint (ma_probe_pagemap_scan (), ==, expected);
}

int
main (int argc, char **argv)
{
  live_test_init (&argc, &argv);

  g_test_add_func ("/live/probe/pagemap-scan-refused-open-is-not-kept",
                   test_pagemap_scan_probe_refused_open_is_not_kept);

  return g_test_run ();
}
