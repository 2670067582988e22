/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Byte counts in IEC units: parsed for --max-bytes and MaxBytesPerMinute,
 * printed in tables and logs.
 */
#include "config.h"

#include <string.h>

#include "ma-client.h"

gboolean
ma_client_parse_size (const char *str, guint64 *out_bytes, GError **error)
{
  static const char units[] = "KMGT";
  g_autofree char *digits = NULL;
  const char *p = str;
  const char *suffix;
  guint64 value = 0;
  guint shift = 0;

  while (g_ascii_isdigit (*p))
    p++;
  if (p == str)
    goto invalid;
  digits = g_strndup (str, p - str);
  if (!g_ascii_string_to_unsigned (digits, 10, 0, G_MAXUINT64, &value, NULL))
    goto invalid;

  suffix = p;
  if (*suffix != '\0')
    {
      const char *unit = strchr (units, g_ascii_toupper (*suffix));

      if (unit != NULL)
        {
          shift = 10 * (guint) (unit - units + 1);
          suffix++;
          if (g_str_equal (suffix, "iB") || g_str_equal (suffix, "B"))
            suffix += strlen (suffix);
        }
      else if (g_str_equal (suffix, "B"))
        suffix++;
      if (*suffix != '\0')
        goto invalid;
    }

  if (shift > 0 && value > (G_MAXUINT64 >> shift))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "“%s” is too large", str);
      return FALSE;
    }
  *out_bytes = value << shift;
  return TRUE;

invalid:
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
               "“%s” is not a size: use bytes or a number with K, M, G or T (as 512M or 2G)", str);
  return FALSE;
}

char *
ma_client_format_size (guint64 bytes)
{
  static const char *const units[] = { "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
  double value = (double) bytes;
  guint unit = 0;

  if (bytes < 1024)
    return g_strdup_printf ("%" G_GUINT64_FORMAT " B", bytes);

  value /= 1024.0;
  while (value >= 1024.0 && unit + 1 < G_N_ELEMENTS (units))
    {
      value /= 1024.0;
      unit++;
    }
  return g_strdup_printf ("%.1f %s", value, units[unit]);
}
