/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * GNOME: Mutter sets user.xdg.inactive-since on each app's cgroup: "-1"
 * while the app has focus, otherwise the CLOCK_MONOTONIC time in
 * microseconds when it lost focus (as uresourced reads it).
 */
#include "config.h"

#include <errno.h>
#include <sys/xattr.h>

#include "session.h"

#define XATTR "user.xdg.inactive-since"

gboolean
sess_gnome_parse (const char *value, gboolean *focused, gint64 *since)
{
  gint64 v;

  if (!g_ascii_string_to_signed (value, 10, -1, G_MAXINT64, &v, NULL))
    return FALSE;
  *focused = v < 0;
  *since = v;
  return TRUE;
}

void
sess_gnome_read (SessAgent *agent, SessApp *app)
{
  g_autofree char *path = g_build_filename (agent->slice_abs, app->unit, NULL);
  char buf[64];
  ssize_t len = getxattr (path, XATTR, buf, sizeof buf - 1);
  gboolean focused;
  gint64 since;

  if (len < 0)
    {
      if (errno != ENODATA && errno != ENOENT)
        g_debug ("%s: cannot read " XATTR ": %s", app->unit, g_strerror (errno));
      return;
    }
  buf[len] = '\0';
  g_strstrip (buf);
  if (!sess_gnome_parse (buf, &focused, &since))
    {
      g_debug ("%s: ignoring " XATTR "=%s", app->unit, buf);
      return;
    }
  if (focused)
    sess_reclaim_to_front (agent, app);
  else
    sess_reclaim_to_background (agent, app, since);
}
