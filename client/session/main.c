/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * memadvise-session: reclaims memory of the user's background apps
 * through memadvised. See memadvise-session(1).
 */
#include "config.h"

#include <locale.h>
#include <signal.h>
#include <stdio.h>

#include <glib-unix.h>

#include "session.h"

static gboolean
on_signal (gpointer user_data)
{
  g_main_loop_quit (user_data);
  return G_SOURCE_REMOVE;
}

int
main (int argc, char **argv)
{
  g_autoptr (GOptionContext) context = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GError) session_error = NULL;
  g_autofree char *config_path = NULL;
  gboolean version = FALSE;
  gboolean verbose = FALSE;
  SessAgent agent = { .inotify_fd = -1, .psi_fd = -1 };
  const GOptionEntry entries[] = {
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, &config_path,
      "Read FILE instead of ~/.config/memadvise/session.conf", "FILE" },
    { "verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose, "Log every decision", NULL },
    { "version", 0, 0, G_OPTION_ARG_NONE, &version, "Print the version and exit", NULL },
    { NULL },
  };

  setlocale (LC_ALL, "");
  context = g_option_context_new (NULL);
  g_option_context_set_summary (context, "Reclaim memory of the apps in the background of this "
                                         "desktop session through memadvised.");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("%s\n", error->message);
      return 2;
    }
  if (version)
    {
      printf ("memadvise-session %s\n", PACKAGE_VERSION);
      return 0;
    }
  if (argc > 1)
    {
      g_printerr ("Unexpected argument “%s”.\n", argv[1]);
      return 2;
    }
  if (verbose)
    g_log_set_debug_enabled (TRUE);
  if (config_path == NULL)
    config_path = sess_config_default_path ();

  agent.config = sess_config_new_default ();
  if (!sess_config_load (agent.config, config_path, &error))
    {
      g_printerr ("%s\n", error->message);
      sess_config_free (agent.config);
      return 2;
    }

  agent.system_bus = g_bus_get_sync (G_BUS_TYPE_SYSTEM, NULL, &error);
  if (agent.system_bus == NULL)
    {
      g_printerr ("Cannot connect to the system bus: %s\n", error->message);
      sess_config_free (agent.config);
      return 3;
    }
  /* Replies carry the domain's errors as GErrors only once it is known. */
  (void) MA_DBUS_ERROR;
  agent.memadvised = ma_dbus_mem_advise1_proxy_new_sync (
      agent.system_bus,
      G_DBUS_PROXY_FLAGS_DO_NOT_LOAD_PROPERTIES | G_DBUS_PROXY_FLAGS_DO_NOT_CONNECT_SIGNALS
          | G_DBUS_PROXY_FLAGS_DO_NOT_AUTO_START_AT_CONSTRUCTION,
      MA_DBUS_NAME, MA_DBUS_OBJECT_PATH, NULL, &error);
  if (agent.memadvised == NULL)
    {
      g_printerr ("Cannot reach memadvised: %s\n", error->message);
      g_clear_object (&agent.system_bus);
      sess_config_free (agent.config);
      return 3;
    }
  /* A reclaim may take minutes: the daemon works through the cgroup. */
  g_dbus_proxy_set_default_timeout (G_DBUS_PROXY (agent.memadvised), 10 * 60 * 1000);
  /* Without a session bus, GNOME's attribute and memory pressure still work. */
  agent.session_bus = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, &session_error);
  if (agent.session_bus == NULL)
    g_message ("No session bus (%s): no screen lock and no org.memadvise.Session1",
               session_error->message);

  agent.loop = g_main_loop_new (NULL, FALSE);
  agent.subscriptions = g_ptr_array_new ();
  sess_policy_init (&agent);
  sess_kde_init (&agent);
  if (!sess_apps_init (&agent, &error))
    {
      g_printerr ("%s\n", error->message);
      sess_kde_shutdown (&agent);
      sess_apps_shutdown (&agent);
      sess_policy_shutdown (&agent);
      g_ptr_array_unref (agent.subscriptions);
      g_main_loop_unref (agent.loop);
      g_clear_object (&agent.session_bus);
      g_clear_object (&agent.memadvised);
      g_clear_object (&agent.system_bus);
      sess_config_free (agent.config);
      return 1;
    }
  sess_screensaver_init (&agent);
  sess_pressure_init (&agent);
  sess_policy_reschedule (&agent);

  g_unix_signal_add (SIGTERM, on_signal, agent.loop);
  g_unix_signal_add (SIGINT, on_signal, agent.loop);
  g_message ("Watching the apps in %s", agent.slice_rel);
  g_main_loop_run (agent.loop);

  for (guint i = 0; i < agent.subscriptions->len; i++)
    g_dbus_connection_signal_unsubscribe (agent.session_bus,
                                          GPOINTER_TO_UINT (agent.subscriptions->pdata[i]));
  g_ptr_array_unref (agent.subscriptions);
  sess_pressure_shutdown (&agent);
  sess_kde_shutdown (&agent);
  sess_policy_shutdown (&agent);
  sess_apps_shutdown (&agent);
  g_main_loop_unref (agent.loop);
  g_clear_object (&agent.session_bus);
  g_clear_object (&agent.memadvised);
  g_clear_object (&agent.system_bus);
  sess_config_free (agent.config);
  return 0;
}
