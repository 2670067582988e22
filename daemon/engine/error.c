/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <string.h>

#include "ma-engine.h"

/* Not G_DEFINE_QUARK: clang-format spaces out the dashes of its bare
 * argument, which then names the quark "ma - engine - error - quark". */
GQuark
ma_error_quark (void)
{
  return g_quark_from_static_string ("ma-engine-error-quark");
}

const char *
ma_error_to_string (MaError code)
{
  switch (code)
    {
    case MA_ERROR_NO_SUCH_PROCESS:
      return "no-such-process";
    case MA_ERROR_EXITED:
      return "exited";
    case MA_ERROR_NOT_AUTHORIZED:
      return "not-authorized";
    case MA_ERROR_PROTECTED:
      return "protected";
    case MA_ERROR_KERNEL_THREAD:
      return "kernel-thread";
    case MA_ERROR_NOT_SUPPORTED:
      return "not-supported";
    case MA_ERROR_INVALID_ARGUMENT:
    case MA_ERROR_CANCELLED:
    case MA_ERROR_FAILED:
      break;
    }
  return "failed";
}

gboolean
ma_mode_from_string (const char *str, MaMode *out_mode)
{
  if (g_strcmp0 (str, "cold") == 0)
    *out_mode = MA_MODE_COLD;
  else if (g_strcmp0 (str, "pageout") == 0)
    *out_mode = MA_MODE_PAGEOUT;
  else
    return FALSE;
  return TRUE;
}

const char *
ma_mode_to_string (MaMode mode)
{
  return mode == MA_MODE_PAGEOUT ? "pageout" : "cold";
}
