/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * memadvised: the memadvise system service. See memadvised(8).
 */
#include "config.h"

#include <locale.h>
#include <malloc.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include <glib-unix.h>
#include <gio/gio.h>

#include "credentials.h"
#include "ma-dbus-error.h"
#include "ma-dbus-names.h"
#include "ma-engine.h"
#include "manager.h"

typedef struct
{
  MaContext context;
  MaManager *manager;
  GMainLoop *loop;
  guint owner_id;
  int exit_status;
} Daemon;

static void
bus_pid_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Daemon *daemon = user_data;
  g_autoptr (GVariant) reply = NULL;
  g_autoptr (GError) error = NULL;

  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &error);
  if (reply == NULL)
    {
      g_message ("Could not learn the bus daemon's pid (%s); it is not protected by pid",
                 error->message);
      return;
    }
  g_variant_get (reply, "(u)", &daemon->context.bus_pid);
}

static void
bus_acquired_cb (GDBusConnection *connection, const char *name, gpointer user_data)
{
  Daemon *daemon = user_data;
  g_autoptr (GError) error = NULL;

  daemon->context.connection = g_object_ref (connection);
  daemon->manager = ma_manager_new (&daemon->context);
  if (!g_dbus_interface_skeleton_export (G_DBUS_INTERFACE_SKELETON (daemon->manager), connection,
                                         MA_DBUS_OBJECT_PATH, &error))
    {
      g_warning ("Could not export %s: %s", MA_DBUS_OBJECT_PATH, error->message);
      daemon->exit_status = EXIT_FAILURE;
      g_main_loop_quit (daemon->loop);
      return;
    }
  /* The bus daemon never changes while we are connected: learn it once. */
  g_dbus_connection_call (connection, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                          "org.freedesktop.DBus", "GetConnectionUnixProcessID",
                          g_variant_new ("(s)", "org.freedesktop.DBus"), G_VARIANT_TYPE ("(u)"),
                          G_DBUS_CALL_FLAGS_NONE, -1, NULL, bus_pid_cb, daemon);
}

static void
name_acquired_cb (GDBusConnection *connection, const char *name, gpointer user_data)
{
  g_message ("memadvised %s started on the system bus as %s", PACKAGE_VERSION, name);
}

static void
name_lost_cb (GDBusConnection *connection, const char *name, gpointer user_data)
{
  Daemon *daemon = user_data;

  if (connection == NULL)
    g_warning ("Could not connect to the system bus");
  else if (daemon->manager == NULL)
    g_warning ("Could not own %s: it is not allowed, or another daemon has it "
               "(use --replace)",
               name);
  else
    g_message ("Lost the name %s (replaced?); exiting", name);
  daemon->exit_status = EXIT_FAILURE;
  g_main_loop_quit (daemon->loop);
}

static void
call_times_free (gpointer times)
{
  g_queue_free_full (times, g_free);
}

static gboolean
quit_cb (gpointer user_data)
{
  Daemon *daemon = user_data;

  g_message ("Stopping on a signal");
  g_main_loop_quit (daemon->loop);
  return G_SOURCE_CONTINUE;
}

typedef struct
{
  gboolean replace;
  gboolean verbose;
  char *config_path;
} Options;

static void
options_clear (Options *options)
{
  g_clear_pointer (&options->config_path, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Options, options_clear)

/* Planning a large process builds arrays of megabytes that live for one
 * call. A fixed mmap threshold gives each back when it is freed (glibc
 * otherwise raises the threshold after the first, and keeps later ones
 * in its heaps), and two arenas keep worker threads from each holding a
 * heap of freed memory: the daemon's footprint stays that of what it
 * keeps between calls (memadvised(8), "Kept between calls"). */
static void
tune_malloc (void)
{
  mallopt (M_MMAP_THRESHOLD, 128 * 1024);
  mallopt (M_ARENA_MAX, 2);
}

/* The command line: FALSE, with the status to exit with, when the daemon is not to run. */
static gboolean
parse_options (int *argc, char ***argv, Options *options, int *exit_status)
{
  gboolean version = FALSE;
  g_autoptr (GOptionContext) option_context = NULL;
  g_autoptr (GError) error = NULL;
  const GOptionEntry entries[] = {
    { "replace", 'r', 0, G_OPTION_ARG_NONE, &options->replace, "Replace a running memadvised",
      NULL },
    { "verbose", 'v', 0, G_OPTION_ARG_NONE, &options->verbose, "Log every call in detail", NULL },
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, &options->config_path,
      "Read the configuration from FILE (default " MA_SETTINGS_DEFAULT_PATH ")", "FILE" },
    { "version", 0, 0, G_OPTION_ARG_NONE, &version, "Print the version and exit", NULL },
    { NULL },
  };

  option_context = g_option_context_new ("- memadvise system service");
  g_option_context_add_main_entries (option_context, entries, NULL);
  if (!g_option_context_parse (option_context, argc, argv, &error))
    {
      g_printerr ("memadvised: %s\n", error->message);
      *exit_status = 2;
      return FALSE;
    }
  if (version)
    {
      g_print ("memadvised %s\n", PACKAGE_VERSION);
      *exit_status = EXIT_SUCCESS;
      return FALSE;
    }
  if (options->verbose)
    g_log_set_debug_enabled (TRUE);
  return TRUE;
}

/* The configuration file, or NULL (said on stderr) when it is invalid. */
static MaSettings *
load_settings (const char *config_path)
{
  g_autoptr (GError) error = NULL;
  MaSettings *settings;

  settings = ma_settings_load (config_path != NULL ? config_path : MA_SETTINGS_DEFAULT_PATH,
                               config_path != NULL, &error);
  if (settings == NULL)
    g_printerr ("memadvised: invalid configuration: %s\n", error->message);
  return settings;
}

/* What the configuration may hold open (memadvised(8), LIMITS AND
 * JOBS): the soft limit is raised to it where the hard one allows, and
 * MaxJobs (then MaxQueued) lowered to what the limit holds where it does
 * not, so that a call never fails for want of a file descriptor. */
static void
fit_fd_budget (MaSettings *settings)
{
  struct rlimit limit;
  guint64 budget = ma_settings_fd_budget (settings);

  if (getrlimit (RLIMIT_NOFILE, &limit) != 0)
    return;
  if (limit.rlim_cur < budget && limit.rlim_cur < limit.rlim_max)
    {
      limit.rlim_cur = MIN (limit.rlim_max, (rlim_t) budget);
      if (setrlimit (RLIMIT_NOFILE, &limit) < 0)
        getrlimit (RLIMIT_NOFILE, &limit);
    }
  if (ma_settings_fit_fd_limit (settings, limit.rlim_cur))
    g_warning ("The file descriptor limit (%" G_GUINT64_FORMAT ") is below the %" G_GUINT64_FORMAT
               " that MaxJobs and MaxQueued need: running %u calls at once instead, with at most "
               "%u waiting",
               (guint64) limit.rlim_cur, budget, settings->max_jobs, settings->max_queued);
}

/* What every call shares: the context, and what the kernel offers. */
static void
daemon_start (Daemon *daemon, MaSettings *settings, MaStats *stats, MaObservations *observations,
              gboolean verbose)
{
  /* Registers the error names before any reply can carry one. */
  (void) MA_DBUS_ERROR;

  daemon->context.settings = settings;
  daemon->context.stats = stats;
  daemon->context.observations = observations;
  daemon->context.verbose = verbose;
  daemon->context.kernel_supported = ma_probe_process_madvise ();
  daemon->context.calls_by_uid
      = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, call_times_free);
  daemon->context.queue = ma_queue_new (settings->max_jobs, settings->max_jobs_per_user,
                                        settings->max_queued_per_user, settings->max_queued);
  if (!daemon->context.kernel_supported)
    g_warning ("This kernel does not support process_madvise(2): every call will fail "
               "with NotSupported");
  /* Settled now, under the daemon's own ids: work for a caller runs with
   * theirs, which may not open the daemon's own pagemap to probe. */
  g_debug ("Residency from %s",
           ma_probe_pagemap_scan () ? "the PAGEMAP_SCAN ioctl" : "pagemap entries read with pread");
  ma_credentials_check_startup (&daemon->context.can_switch_credentials);
}

/* Owns the bus name and serves calls until a signal or a lost name ends the loop. */
static void
daemon_run (Daemon *daemon, gboolean replace)
{
  daemon->loop = g_main_loop_new (NULL, FALSE);
  g_unix_signal_add (SIGTERM, quit_cb, daemon);
  g_unix_signal_add (SIGINT, quit_cb, daemon);

  daemon->owner_id = g_bus_own_name (G_BUS_TYPE_SYSTEM, MA_DBUS_NAME,
                                     G_BUS_NAME_OWNER_FLAGS_ALLOW_REPLACEMENT
                                         | (replace ? G_BUS_NAME_OWNER_FLAGS_REPLACE : 0),
                                     bus_acquired_cb, name_acquired_cb, name_lost_cb, daemon, NULL);
  g_main_loop_run (daemon->loop);
}

/* The one teardown, whichever way daemon_run() ended. */
static void
daemon_stop (Daemon *daemon)
{
  g_bus_unown_name (daemon->owner_id);
  if (daemon->manager != NULL)
    g_dbus_interface_skeleton_unexport (G_DBUS_INTERFACE_SKELETON (daemon->manager));
  g_clear_object (&daemon->manager);
  g_clear_object (&daemon->context.connection);
  g_hash_table_unref (daemon->context.calls_by_uid);
  g_clear_handle_id (&daemon->context.dispatch_id, g_source_remove);
  ma_queue_free (daemon->context.queue);
  g_main_loop_unref (daemon->loop);
  g_message ("memadvised stopped");
}

int
main (int argc, char **argv)
{
  g_autoptr (MaSettings) settings = NULL;
  g_autoptr (MaStats) stats = NULL;
  g_autoptr (MaObservations) observations = NULL;
  g_auto (Options) options = { 0 };
  Daemon daemon = { .exit_status = EXIT_SUCCESS };
  int exit_status;

  tune_malloc ();
  setlocale (LC_ALL, "");
  if (!parse_options (&argc, &argv, &options, &exit_status))
    return exit_status;
  settings = load_settings (options.config_path);
  if (settings == NULL)
    return EXIT_FAILURE;
  stats = ma_stats_new ();
  observations = ma_observations_new ();
  fit_fd_budget (settings);

  daemon_start (&daemon, settings, stats, observations, options.verbose);
  daemon_run (&daemon, options.replace);
  daemon_stop (&daemon);
  return daemon.exit_status;
}
