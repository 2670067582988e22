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

#include "ma-client.h"
#include "session.h"

/* Log lines name apps and units after the cgroups the session's launchers
 * made, and quote the daemon's messages about processes that name
 * themselves: each line is made printable before GLib writes it to the
 * journal or a terminal. */
static GLogWriterOutput
printable_writer (GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer user_data)
{
  g_autofree GLogField *copy = g_memdup2 (fields, n_fields * sizeof *fields);
  g_autofree char *message = NULL;

  for (gsize i = 0; i < n_fields; i++)
    if (g_str_equal (copy[i].key, "MESSAGE") && copy[i].length < 0)
      {
        message = ma_client_printable (copy[i].value);
        copy[i].value = message;
        break;
      }
  return g_log_writer_default (level, copy, n_fields, user_data);
}

static gboolean
on_signal (gpointer user_data)
{
  g_main_loop_quit (user_data);
  return G_SOURCE_REMOVE;
}

/* The command line: -1 to go on, else the exit status. */
static int
parse_args (int argc, char **argv, char **config_path, gboolean *verbose)
{
  g_autoptr (GOptionContext) context = NULL;
  g_autoptr (GError) error = NULL;
  gboolean version = FALSE;
  const GOptionEntry entries[] = {
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, config_path,
      "Read FILE instead of ~/.config/memadvise/session.conf", "FILE" },
    { "verbose", 'v', 0, G_OPTION_ARG_NONE, verbose, "Log every decision", NULL },
    { "version", 0, 0, G_OPTION_ARG_NONE, &version, "Print the version and exit", NULL },
    { NULL },
  };

  context = g_option_context_new (NULL);
  g_option_context_set_summary (context, "Reclaim memory of the apps in the background of this "
                                         "desktop session through memadvised.");
  g_option_context_add_main_entries (context, entries, NULL);
  /* The arguments are printed back printable, as all human output. */
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_autofree char *message = ma_client_printable (error->message);

      g_printerr ("%s\n", message);
      return 2;
    }
  if (version)
    {
      printf ("memadvise-session %s\n", PACKAGE_VERSION);
      return 0;
    }
  if (argc > 1)
    {
      g_autofree char *argument = ma_client_printable (argv[1]);

      g_printerr ("Unexpected argument “%s”.\n", argument);
      return 2;
    }
  return -1;
}

/* memadvised on the system bus, and the session bus when there is one. */
static gboolean
connect_buses (SessAgent *agent, GError **error)
{
  g_autoptr (GError) session_error = NULL;

  agent->system_bus = g_bus_get_sync (G_BUS_TYPE_SYSTEM, NULL, error);
  if (agent->system_bus == NULL)
    {
      g_prefix_error (error, "Cannot connect to the system bus: ");
      return FALSE;
    }
  /* Replies carry the domain's errors as GErrors only once it is known. */
  (void) MA_DBUS_ERROR;
  agent->memadvised = ma_dbus_mem_advise1_proxy_new_sync (
      agent->system_bus,
      G_DBUS_PROXY_FLAGS_DO_NOT_LOAD_PROPERTIES | G_DBUS_PROXY_FLAGS_DO_NOT_CONNECT_SIGNALS
          | G_DBUS_PROXY_FLAGS_DO_NOT_AUTO_START_AT_CONSTRUCTION,
      MA_DBUS_NAME, MA_DBUS_OBJECT_PATH, NULL, error);
  if (agent->memadvised == NULL)
    {
      g_prefix_error (error, "Cannot reach memadvised: ");
      return FALSE;
    }
  /* A reclaim may take minutes: the daemon works through the cgroup. */
  g_dbus_proxy_set_default_timeout (G_DBUS_PROXY (agent->memadvised), 10 * 60 * 1000);

  /* Without a session bus, GNOME's attribute and memory pressure still work. */
  agent->session_bus = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, &session_error);
  if (agent->session_bus == NULL)
    g_message ("No session bus (%s): no screen lock and no " MA_DBUS_SESSION_NAME,
               session_error->message);
  return TRUE;
}

/* Every watch: the apps, focus told over the bus, screen lock, pressure. */
static gboolean
start (SessAgent *agent, GError **error)
{
  agent->loop = g_main_loop_new (NULL, FALSE);
  sess_reclaim_init (agent);
  sess_kde_init (agent);
  if (!sess_apps_init (agent, error))
    return FALSE;
  sess_screensaver_init (agent);
  sess_pressure_init (agent);
  sess_reclaim_reschedule (agent);
  return TRUE;
}

/* Undoes whatever of connect_buses() and start() was done. */
static void
stop (SessAgent *agent)
{
  sess_screensaver_shutdown (agent);
  sess_pressure_shutdown (agent);
  sess_kde_shutdown (agent);
  sess_reclaim_shutdown (agent);
  sess_apps_shutdown (agent);
  g_clear_pointer (&agent->loop, g_main_loop_unref);
  g_clear_object (&agent->session_bus);
  g_clear_object (&agent->memadvised);
  g_clear_object (&agent->system_bus);
  g_clear_pointer (&agent->config, sess_config_free);
}

/* Exit status: 2 usage or configuration, 3 no bus or daemon, 1 no apps
 * to watch (memadvise-session(1)). */
int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *config_path = NULL;
  gboolean verbose = FALSE;
  SessAgent agent = { .inotify_fd = -1, .psi_fd = -1 };
  int status;

  setlocale (LC_ALL, "");
  g_log_set_writer_func (printable_writer, NULL, NULL);
  status = parse_args (argc, argv, &config_path, &verbose);
  if (status >= 0)
    return status;
  if (verbose)
    g_log_set_debug_enabled (TRUE);
  if (config_path == NULL)
    config_path = sess_config_default_path ();

  agent.config = sess_config_new_default ();
  if (!sess_config_load (agent.config, config_path, &error))
    status = 2;
  else if (!connect_buses (&agent, &error))
    status = 3;
  else if (!start (&agent, &error))
    status = 1;
  else
    {
      g_unix_signal_add (SIGTERM, on_signal, agent.loop);
      g_unix_signal_add (SIGINT, on_signal, agent.loop);
      g_message ("Watching the apps in %s", agent.slice_rel);
      g_main_loop_run (agent.loop);
      status = 0;
    }
  if (error != NULL)
    {
      g_autofree char *message = ma_client_printable (error->message);
      g_printerr ("%s\n", message);
    }
  stop (&agent);
  return status;
}
