/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The units the desktop starts apps in, as the XDG desktop's systemd
 * integration names them: app[-LAUNCHER]-APPID-RANDOM.scope and
 * app[-LAUNCHER]-APPID[@RANDOM].service, where a "-" inside APPID (or
 * LAUNCHER) is escaped as \x2d, the way systemd-escape does it.
 */
#include "config.h"

#include <string.h>

#include "ma-client.h"

/* @s with systemd's \xNN escapes undone. */
static char *
unescape (const char *s)
{
  GString *out = g_string_new (NULL);

  for (const char *p = s; *p != '\0'; p++)
    {
      if (p[0] == '\\' && p[1] == 'x' && g_ascii_isxdigit (p[2]) && g_ascii_isxdigit (p[3]))
        {
          g_string_append_c (
              out, (char) (g_ascii_xdigit_value (p[2]) * 16 + g_ascii_xdigit_value (p[3])));
          p += 3;
        }
      else
        g_string_append_c (out, *p);
    }
  return g_string_free (out, FALSE);
}

char *
ma_client_app_id_from_unit (const char *unit)
{
  g_autofree char *base = NULL;
  g_auto (GStrv) parts = NULL;
  guint n;

  if (!g_str_has_prefix (unit, "app-"))
    return NULL;
  if (g_str_has_suffix (unit, ".scope"))
    {
      char *dash;

      base = g_strndup (unit + strlen ("app-"), strlen (unit) - strlen ("app-.scope"));
      dash = strrchr (base, '-');
      if (dash == NULL)
        return NULL; /* a scope always has its RANDOM part */
      *dash = '\0';
    }
  else if (g_str_has_suffix (unit, ".service"))
    {
      char *at;

      base = g_strndup (unit + strlen ("app-"), strlen (unit) - strlen ("app-.service"));
      at = strchr (base, '@');
      if (at != NULL)
        *at = '\0';
    }
  else
    return NULL;

  /* [LAUNCHER-]APPID: unescaped dashes separate the parts. */
  parts = g_strsplit (base, "-", -1);
  n = g_strv_length (parts);
  if (n == 0 || n > 2 || *parts[n - 1] == '\0')
    return NULL;
  return unescape (parts[n - 1]);
}
