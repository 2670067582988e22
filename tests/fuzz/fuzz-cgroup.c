/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * libFuzzer target: ma_cgroup_parse on arbitrary bytes.
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
  g_autofree char *path = NULL;

  memcpy (buf, data, size);
  if (ma_cgroup_parse (buf, size, &path, &error))
    {
      g_assert_no_error (error);
      /* A path is absolute, whole and no longer than the input. */
      if (path != NULL)
        {
          g_assert_cmpint (path[0], ==, '/');
          g_assert_cmpuint (strlen (path), <, size);
        }
    }
  else
    {
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
      g_assert_null (path);
    }
  return 0;
}
