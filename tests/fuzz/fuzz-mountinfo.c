/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * libFuzzer target: ma_mountinfo_parse_proc on arbitrary bytes.
 */
#include "config.h"

#include <gio/gio.h>
#include <stdint.h>
#include <string.h>

#include "ma-parse.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  /* Exactly sized, no NUL after it: ASan flags any read past the end. */
  g_autofree char *buf = g_malloc (size > 0 ? size : 1);
  g_autoptr (GError) error = NULL;
  MaProcMount mount;

  memcpy (buf, data, size);
  if (ma_mountinfo_parse_proc (buf, size, &mount, &error))
    {
      g_assert_no_error (error);
      /* Only the four modes proc(5) knows, and only of a proc at /proc. */
      g_assert_true (mount.hidepid == MA_HIDEPID_OFF || mount.hidepid == MA_HIDEPID_NOACCESS
                     || mount.hidepid == MA_HIDEPID_INVISIBLE
                     || mount.hidepid == MA_HIDEPID_PTRACEABLE);
      g_assert_true (mount.mounted || (mount.hidepid == MA_HIDEPID_OFF && !mount.has_gid));
      if (mount.mounted)
        g_assert_nonnull (memmem (buf, size, " /proc ", 7));
    }
  else
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  return 0;
}
