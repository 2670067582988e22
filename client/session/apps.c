/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The user's apps: the app-*.scope and app-*.service cgroups in
 * user@UID.service/app.slice, found from the agent's own cgroup and
 * watched with inotify (IN_CREATE/IN_DELETE for apps, IN_ATTRIB for the
 * user.xdg.inactive-since attribute Mutter sets on them).
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <glib-unix.h>

#include "ma-client.h"
#include "session.h"

static void
app_free (SessApp *app)
{
  g_free (app->cgroup);
  g_free (app->unit);
  g_free (app->app_id);
  g_free (app);
}

SessApp *
sess_apps_lookup (SessAgent *agent, const char *unit)
{
  return g_hash_table_lookup (agent->apps, unit);
}

static void
app_added (SessAgent *agent, const char *unit)
{
  g_autofree char *app_id = NULL;
  g_autofree char *cgroup = NULL;
  SessApp *app;

  if (g_hash_table_contains (agent->apps, unit))
    return;
  app_id = ma_client_app_id_from_unit (unit);
  if (app_id == NULL)
    return;
  cgroup = g_build_path ("/", agent->slice_rel, unit, NULL);
  if (agent->own_cgroup != NULL && g_str_equal (cgroup, agent->own_cgroup))
    return; /* the agent itself, started as an autostart app */

  app = g_new0 (SessApp, 1);
  app->unit = g_strdup (unit);
  app->app_id = g_steal_pointer (&app_id);
  app->cgroup = g_steal_pointer (&cgroup);
  app->background_since = -1;
  g_hash_table_insert (agent->apps, app->unit, app);
  g_debug ("app %s (%s) appeared", app->app_id, app->unit);
  sess_gnome_read (agent, app);
}

static void
app_removed (SessAgent *agent, const char *unit)
{
  if (!g_hash_table_contains (agent->apps, unit))
    return;
  g_debug ("app %s went away", unit);
  sess_reclaim_forget (agent, unit);
  g_hash_table_remove (agent->apps, unit);
}

static gboolean
scan (SessAgent *agent, GError **error)
{
  g_autoptr (GDir) dir = g_dir_open (agent->slice_abs, 0, error);
  g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  GHashTableIter iter;
  gpointer key;
  const char *name;

  if (dir == NULL)
    return FALSE;
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (agent->slice_abs, name, NULL);
      SessApp *app;

      if (!g_file_test (path, G_FILE_TEST_IS_DIR))
        continue;
      app = sess_apps_lookup (agent, name);
      if (app != NULL)
        sess_gnome_read (agent, app); /* known: its state may have changed unseen */
      else
        {
          app_added (agent, name); /* reads its state itself */
          app = sess_apps_lookup (agent, name);
        }
      if (app != NULL)
        g_hash_table_add (seen, app->unit);
    }
  g_hash_table_iter_init (&iter, agent->apps);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    if (!g_hash_table_contains (seen, key))
      {
        sess_reclaim_forget (agent, key);
        g_hash_table_iter_remove (&iter);
      }
  return TRUE;
}

static gboolean
on_inotify (int fd, GIOCondition condition, gpointer user_data)
{
  SessAgent *agent = user_data;
  char buf[4096] __attribute__ ((aligned (__alignof__(struct inotify_event))));
  ssize_t len;

  while ((len = read (fd, buf, sizeof buf)) > 0)
    {
      for (char *p = buf; p < buf + len;)
        {
          const struct inotify_event *ev = (const struct inotify_event *) p;
          p += sizeof (struct inotify_event) + ev->len;

          if (ev->mask & (IN_Q_OVERFLOW | IN_IGNORED))
            {
              g_autoptr (GError) error = NULL;
              if (!scan (agent, &error))
                g_warning ("Cannot read %s: %s", agent->slice_abs, error->message);
              continue;
            }
          if (ev->len == 0 || !(ev->mask & IN_ISDIR))
            continue;
          if (ev->mask & (IN_CREATE | IN_MOVED_TO))
            app_added (agent, ev->name);
          else if (ev->mask & (IN_DELETE | IN_MOVED_FROM))
            app_removed (agent, ev->name);
          else if (ev->mask & IN_ATTRIB)
            {
              SessApp *app = sess_apps_lookup (agent, ev->name);
              if (app != NULL)
                sess_gnome_read (agent, app);
            }
        }
    }
  if (len < 0 && errno != EAGAIN && errno != EINTR)
    g_warning ("Cannot read inotify events: %s", g_strerror (errno));
  sess_reclaim_reschedule (agent);
  return G_SOURCE_CONTINUE;
}

gboolean
sess_apps_init (SessAgent *agent, GError **error)
{
  const char *root = ma_client_cgroup2_root (error);
  g_autofree char *manager = NULL;

  if (root == NULL)
    return FALSE;
  agent->own_cgroup = ma_client_own_cgroup ();
  manager = ma_client_user_manager_cgroup (agent->own_cgroup);
  agent->slice_rel = g_build_filename (manager, "app.slice", NULL);
  agent->slice_abs = g_build_filename (root, agent->slice_rel, NULL);
  agent->apps = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) app_free);

  agent->inotify_fd = inotify_init1 (IN_NONBLOCK | IN_CLOEXEC);
  if (agent->inotify_fd < 0)
    {
      int errsv = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv), "inotify: %s",
                   g_strerror (errsv));
      return FALSE;
    }
  if (inotify_add_watch (agent->inotify_fd, agent->slice_abs,
                         IN_CREATE | IN_DELETE | IN_MOVED_TO | IN_MOVED_FROM | IN_ATTRIB
                             | IN_ONLYDIR)
      < 0)
    {
      int errsv = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv),
                   "Cannot watch %s (%s); is this a systemd user session?", agent->slice_abs,
                   g_strerror (errsv));
      return FALSE;
    }
  agent->inotify_source = g_unix_fd_add (agent->inotify_fd, G_IO_IN, on_inotify, agent);
  g_debug ("watching %s", agent->slice_abs);
  return scan (agent, error);
}

void
sess_apps_shutdown (SessAgent *agent)
{
  g_clear_handle_id (&agent->inotify_source, g_source_remove);
  if (agent->inotify_fd >= 0)
    close (agent->inotify_fd);
  agent->inotify_fd = -1;
  g_clear_pointer (&agent->apps, g_hash_table_unref);
  g_clear_pointer (&agent->slice_rel, g_free);
  g_clear_pointer (&agent->slice_abs, g_free);
  g_clear_pointer (&agent->own_cgroup, g_free);
}
