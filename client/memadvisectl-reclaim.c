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

/* One reclaim or plan: its calls, one after the other, and what came back. */
typedef struct
{
  const CtlOptions *options;
  MaDBusMemAdvise1 *proxy;
  GDBusCallFlags flags;
  GArray *pids;       /* by pid: the one Plan or Reclaim call */
  GPtrArray *cgroups; /* by cgroup: one PlanCgroup or ReclaimCgroup each */
  GMainLoop *loop;
  GCancellable *cancellable;
  GVariantBuilder merged; /* aa{sv}: every pid once, as first reported */
  GHashTable *seen;
  GError *error;
  gboolean interrupted;
} Run;

static gboolean
on_interrupt (gpointer user_data)
{
  Run *run = user_data;

  run->interrupted = TRUE;
  g_main_loop_quit (run->loop);
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
  if (ma_client_read_swap (&total, &free_bytes, NULL) && total == 0)
    g_printerr ("Note: no swap is configured, so pageout cannot free anonymous memory: "
                "the pages stay resident (cold mode still marks them for early eviction).\n");
}

static void
on_call_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Run *run = user_data;
  MaDBusMemAdvise1 *proxy = MA_DBUS_MEM_ADVISE1 (source);
  g_autoptr (GVariant) results = NULL;
  gboolean by_cgroup = run->cgroups != NULL;
  gboolean ok;

  if (run->options->dry_run)
    ok = by_cgroup
             ? ma_dbus_mem_advise1_call_plan_cgroup_finish (proxy, &results, result, &run->error)
             : ma_dbus_mem_advise1_call_plan_finish (proxy, &results, result, &run->error);
  else
    ok = by_cgroup
             ? ma_dbus_mem_advise1_call_reclaim_cgroup_finish (proxy, &results, result, &run->error)
             : ma_dbus_mem_advise1_call_reclaim_finish (proxy, &results, result, &run->error);
  if (ok)
    merge_results (&run->merged, run->seen, results);
  g_main_loop_quit (run->loop);
}

/* Starts call @i of @run: Plan or Reclaim of the pids, or the cgroup
 * method on cgroup @i. Waits without a timeout: a pageout takes as long
 * as it takes, and Ctrl-C ends it. */
static void
start_call (Run *run, guint i)
{
  const CtlOptions *options = run->options;
  GVariant *opts = build_options (options);

  if (run->cgroups != NULL)
    {
      const char *cgroup = run->cgroups->pdata[i];

      if (options->dry_run)
        ma_dbus_mem_advise1_call_plan_cgroup (run->proxy, cgroup, options->mode, opts, run->flags,
                                              G_MAXINT, run->cancellable, on_call_done, run);
      else
        ma_dbus_mem_advise1_call_reclaim_cgroup (run->proxy, cgroup, options->mode, opts,
                                                 run->flags, G_MAXINT, run->cancellable,
                                                 on_call_done, run);
      return;
    }

  {
    GVariant *pids = g_variant_new_fixed_array (G_VARIANT_TYPE_UINT32, run->pids->data,
                                                run->pids->len, sizeof (guint32));

    if (options->dry_run)
      ma_dbus_mem_advise1_call_plan (run->proxy, pids, options->mode, opts, run->flags, G_MAXINT,
                                     run->cancellable, on_call_done, run);
    else
      ma_dbus_mem_advise1_call_reclaim (run->proxy, pids, options->mode, opts, run->flags, G_MAXINT,
                                        run->cancellable, on_call_done, run);
  }
}

/* The calls, one after the other, so that a call holds one of the
 * daemon's job slots at a time; until one fails or Ctrl-C. */
static void
run_calls (Run *run)
{
  guint n_calls = run->cgroups != NULL ? run->cgroups->len : 1;
  guint sigint_id = g_unix_signal_add (SIGINT, on_interrupt, run);
  guint sigterm_id = g_unix_signal_add (SIGTERM, on_interrupt, run);

  for (guint i = 0; i < n_calls && !run->interrupted && run->error == NULL; i++)
    {
      start_call (run, i);
      g_main_loop_run (run->loop);
    }
  g_source_remove (sigint_id);
  g_source_remove (sigterm_id);
}

/* Leaving the bus is what stops the daemon's work for this call. */
static CtlExit
fail_interrupted (Run *run, GError **error)
{
  g_cancellable_cancel (run->cancellable);
  g_dbus_connection_close_sync (g_dbus_proxy_get_connection (G_DBUS_PROXY (run->proxy)), NULL,
                                NULL);
  g_set_error (error, CTL_ERROR, CTL_EXIT_FAILED,
               "Interrupted: the %s was cancelled, memadvised stops at its next batch "
               "and what was advised so far stays advised.",
               run->options->dry_run ? "plan" : "reclaim");
  return CTL_EXIT_FAILED;
}

static CtlExit
print_report (const CtlOptions *options, GVariant *results, GError **error)
{
  g_autoptr (CtlReport) report = ctl_report_new (options, results);

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

static void
run_clear (Run *run)
{
  g_clear_pointer (&run->pids, g_array_unref);
  g_clear_pointer (&run->cgroups, g_ptr_array_unref);
  g_clear_object (&run->proxy);
  g_clear_pointer (&run->loop, g_main_loop_unref);
  g_clear_object (&run->cancellable);
  g_clear_pointer (&run->seen, g_hash_table_unref);
  g_clear_error (&run->error);
  g_variant_builder_clear (&run->merged);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Run, run_clear)

CtlExit
ctl_run_advise (const CtlOptions *options, GError **error)
{
  g_auto (Run) run = { .options = options };
  g_autoptr (CtlProgress) progress = NULL;
  g_autoptr (CtlAgent) agent = NULL;
  g_autoptr (GVariant) results = NULL;

  g_variant_builder_init (&run.merged, G_VARIANT_TYPE ("aa{sv}"));
  if (options->cgroup != NULL || options->unit != NULL || options->app != NULL)
    run.cgroups = collect_cgroups (options, error);
  else
    run.pids = collect_pids (options, error);
  if (run.pids == NULL && run.cgroups == NULL)
    return (CtlExit) (*error)->code;

  run.proxy = ctl_bus_proxy_new (error);
  if (run.proxy == NULL)
    return (CtlExit) (*error)->code;

  warn_without_swap (options);

  run.flags = ctl_bus_call_flags (options);
  /* Root is authorized by polkit itself and never asked. */
  if ((run.flags & G_DBUS_CALL_FLAGS_ALLOW_INTERACTIVE_AUTHORIZATION) && getuid () != 0)
    agent = ctl_agent_start ();
  if (!options->dry_run && !options->json && !options->no_progress && isatty (STDERR_FILENO))
    progress = ctl_progress_new (run.proxy);

  run.loop = g_main_loop_new (NULL, FALSE);
  run.cancellable = g_cancellable_new ();
  run.seen = g_hash_table_new (NULL, NULL);
  run_calls (&run);
  results = g_variant_ref_sink (g_variant_builder_end (&run.merged));
  ctl_progress_clear (progress);
  g_clear_pointer (&agent, ctl_agent_stop);

  if (run.interrupted)
    {
      g_clear_pointer (&progress, ctl_progress_free);
      return fail_interrupted (&run, error);
    }
  if (run.error != NULL)
    {
      GError *mapped
          = ctl_bus_error (run.error, options->dry_run ? "inspect" : "reclaim", options->verbose);
      CtlExit status = (CtlExit) mapped->code;

      g_propagate_error (error, mapped);
      return status;
    }
  return print_report (options, results, error);
}
