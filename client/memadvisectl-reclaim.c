/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * reclaim and plan (and the flags without a command): resolve the targets,
 * call Reclaim or Plan (ReclaimCgroup or PlanCgroup once per cgroup of
 * --cgroup, --unit or --app, results merged), show progress, print the
 * table or JSON.
 *
 * The call runs asynchronously so Progress signals and Ctrl-C are handled
 * while the daemon works. On Ctrl-C the client leaves the bus, which is
 * how the daemon learns to stop the work at its next batch.
 */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include <glib-unix.h>

#include "memadvisectl.h"

typedef struct
{
  GMainLoop *loop;
  GVariant *reply;
  GError *error;
  gboolean interrupted;
} Call;

static void
on_call_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Call *call = user_data;

  call->reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &call->error);
  g_main_loop_quit (call->loop);
}

static gboolean
on_interrupt (gpointer user_data)
{
  Call *call = user_data;

  call->interrupted = TRUE;
  g_main_loop_quit (call->loop);
  return G_SOURCE_CONTINUE;
}

/* The targets in the order given, each once: --target first, then --name. */
static GArray *
collect_pids (const CtlOptions *options, GError **error)
{
  g_autoptr (GArray) all = g_array_new (FALSE, FALSE, sizeof (guint32));
  g_autoptr (GArray) pids = g_array_new (FALSE, FALSE, sizeof (guint32));
  g_autoptr (GHashTable) seen = g_hash_table_new (NULL, NULL);

  g_array_append_vals (all, options->pids->data, options->pids->len);
  for (guint i = 0; options->names != NULL && options->names[i] != NULL; i++)
    if (!ctl_resolve_name (options->names[i], all, error))
      return NULL;

  for (guint i = 0; i < all->len; i++)
    {
      guint32 pid = g_array_index (all, guint32, i);

      if (g_hash_table_add (seen, GUINT_TO_POINTER (pid)))
        g_array_append_val (pids, pid);
    }

  if (pids->len > MA_DBUS_MAX_PIDS)
    {
      g_set_error (
          error, CTL_ERROR, CTL_EXIT_USAGE,
          "Too many targets: %u processes were named and memadvised takes at most %u per call.",
          pids->len, MA_DBUS_MAX_PIDS);
      return NULL;
    }
  return g_steal_pointer (&pids);
}

static GVariant *
build_options (const CtlOptions *options)
{
  GVariantBuilder builder;

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a{sv}"));
  g_variant_builder_add (&builder, "{sv}", "percent",
                         g_variant_new_uint32 ((guint32) options->percent));
  g_variant_builder_add (&builder, "{sv}", "max-bytes", g_variant_new_uint64 (options->max_bytes));
  g_variant_builder_add (&builder, "{sv}", "ranges", g_variant_new_boolean (options->verbose));
  if (options->order != NULL)
    g_variant_builder_add (&builder, "{sv}", "order", g_variant_new_string (options->order));
  if (options->has_min_idle)
    g_variant_builder_add (&builder, "{sv}", "min-idle", g_variant_new_uint32 (options->min_idle));
  if (options->has_threads)
    g_variant_builder_add (&builder, "{sv}", "threads", g_variant_new_uint32 (options->threads));
  return g_variant_builder_end (&builder);
}

static GVariant *
build_parameters (const CtlOptions *options, GArray *pids)
{
  return g_variant_new (
      "(@au&s@a{sv})",
      g_variant_new_fixed_array (G_VARIANT_TYPE_UINT32, pids->data, pids->len, sizeof (guint32)),
      options->mode, build_options (options));
}

/* The cgroup paths of --cgroup, --unit or --app; NULL with @error set. */
static GPtrArray *
collect_cgroups (const CtlOptions *options, GError **error)
{
  g_autoptr (GPtrArray) paths = NULL;
  char *path;

  if (options->app != NULL)
    return ctl_resolve_app (options->app, error);
  if (options->unit != NULL)
    path = ctl_resolve_unit (options->unit, options->user, error);
  else
    path = g_strdup (options->cgroup);
  if (path == NULL)
    return NULL;
  paths = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (paths, path);
  return g_steal_pointer (&paths);
}

/* The entries of @results not seen in an earlier call, into @builder. */
static void
merge_results (GVariantBuilder *builder, GHashTable *seen, GVariant *results)
{
  GVariantIter iter;
  GVariant *entry;

  g_variant_iter_init (&iter, results);
  while ((entry = g_variant_iter_next_value (&iter)) != NULL)
    {
      guint32 pid = 0;

      g_variant_lookup (entry, "pid", "u", &pid);
      if (g_hash_table_add (seen, GUINT_TO_POINTER (pid)))
        g_variant_builder_add_value (builder, entry);
      g_variant_unref (entry);
    }
}

static void
warn_without_swap (const CtlOptions *options)
{
  guint64 total = 0, free_bytes = 0;

  if (!g_str_equal (options->mode, "pageout") || options->json)
    return;
  if (ctl_read_swap (&total, &free_bytes, NULL) && total == 0)
    g_printerr ("Note: no swap is configured, so pageout cannot free anonymous memory: "
                "the pages stay resident (cold mode still marks them for early eviction).\n");
}

CtlExit
ctl_run_advise (const CtlOptions *options, GError **error)
{
  g_autoptr (GArray) pids = NULL;
  g_autoptr (GPtrArray) cgroups = NULL;
  g_autoptr (GDBusConnection) connection = NULL;
  g_autoptr (GMainLoop) loop = NULL;
  g_autoptr (GCancellable) cancellable = NULL;
  g_autoptr (CtlProgress) progress = NULL;
  g_autoptr (CtlAgent) agent = NULL;
  g_autoptr (CtlReport) report = NULL;
  g_autoptr (GVariant) results = NULL;
  g_autoptr (GHashTable) seen = g_hash_table_new (NULL, NULL);
  const char *what = options->dry_run ? "inspect" : "reclaim";
  gboolean by_cgroup = options->cgroup != NULL || options->unit != NULL || options->app != NULL;
  GDBusCallFlags flags = ctl_bus_call_flags (options);
  GVariantBuilder merged;
  Call call = { 0 };
  guint sigint_id, sigterm_id, n_calls;

  if (by_cgroup)
    cgroups = collect_cgroups (options, error);
  else
    pids = collect_pids (options, error);
  if (pids == NULL && cgroups == NULL)
    return (CtlExit) (*error)->code;
  n_calls = by_cgroup ? cgroups->len : 1;

  connection = ctl_bus_connect (error);
  if (connection == NULL)
    return CTL_EXIT_UNAVAILABLE;

  warn_without_swap (options);

  /* Root is authorized by polkit itself and never asked. */
  if ((flags & G_DBUS_CALL_FLAGS_ALLOW_INTERACTIVE_AUTHORIZATION) && getuid () != 0)
    agent = ctl_agent_start ();

  if (!options->dry_run && !options->json && !options->no_progress && isatty (STDERR_FILENO))
    progress = ctl_progress_new (connection);

  loop = g_main_loop_new (NULL, FALSE);
  cancellable = g_cancellable_new ();
  call.loop = loop;
  sigint_id = g_unix_signal_add (SIGINT, on_interrupt, &call);
  sigterm_id = g_unix_signal_add (SIGTERM, on_interrupt, &call);

  /* One call per cgroup, one after the other, so that a call holds one of
   * the daemon's job slots at a time. */
  g_variant_builder_init (&merged, G_VARIANT_TYPE ("aa{sv}"));
  for (guint i = 0; i < n_calls && !call.interrupted && call.error == NULL; i++)
    {
      GVariant *parameters;
      const char *method;

      if (by_cgroup)
        {
          method = options->dry_run ? "PlanCgroup" : "ReclaimCgroup";
          parameters = g_variant_new ("(s&s@a{sv})", (const char *) cgroups->pdata[i],
                                      options->mode, build_options (options));
        }
      else
        {
          method = options->dry_run ? "Plan" : "Reclaim";
          parameters = build_parameters (options, pids);
        }
      g_dbus_connection_call (connection, MA_DBUS_NAME, MA_DBUS_OBJECT_PATH, MA_DBUS_INTERFACE,
                              method, parameters, G_VARIANT_TYPE ("(aa{sv})"), flags, G_MAXINT,
                              cancellable, on_call_done, &call);
      g_main_loop_run (loop);
      if (call.reply != NULL)
        {
          g_autoptr (GVariant) part = g_variant_get_child_value (call.reply, 0);

          merge_results (&merged, seen, part);
          g_clear_pointer (&call.reply, g_variant_unref);
        }
    }
  results = g_variant_ref_sink (g_variant_builder_end (&merged));

  g_source_remove (sigint_id);
  g_source_remove (sigterm_id);
  ctl_progress_clear (progress);
  g_clear_pointer (&agent, ctl_agent_stop);

  if (call.interrupted)
    {
      /* Leaving the bus is what stops the daemon's work for this call. */
      g_cancellable_cancel (cancellable);
      g_clear_pointer (&progress, ctl_progress_free);
      g_dbus_connection_close_sync (connection, NULL, NULL);
      g_set_error (error, CTL_ERROR, CTL_EXIT_FAILED,
                   "Interrupted: the %s was cancelled, memadvised stops at its next batch "
                   "and what was advised so far stays advised.",
                   options->dry_run ? "plan" : "reclaim");
      g_clear_error (&call.error);
      return CTL_EXIT_FAILED;
    }

  if (call.error != NULL)
    {
      g_autoptr (GError) call_error = g_steal_pointer (&call.error);
      GError *mapped = ctl_bus_error (call_error, what, options->verbose);
      CtlExit status = (CtlExit) mapped->code;

      g_propagate_error (error, mapped);
      return status;
    }

  report = ctl_report_new (options, results);

  if (options->json)
    {
      if (!ctl_print_json (report, error))
        return CTL_EXIT_FAILED;
    }
  else
    ctl_print_table (report);
  fflush (stdout);

  return ctl_report_exit_status (report);
}
