/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * reclaim and plan (and the flags without a command): resolve the targets,
 * call ReclaimPidfds or PlanPidfds with pidfds of the processes resolved
 * (16 at a time, what one message of the system bus may carry), or
 * ReclaimCgroup or PlanCgroup once per cgroup of --cgroup, --unit or
 * --app; merge the results in order, show progress, print the table or
 * JSON.
 *
 * The call runs asynchronously so Progress signals and Ctrl-C are handled
 * while the daemon works. On Ctrl-C the client leaves the bus, which is
 * how the daemon learns to stop the work at its next batch.
 */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include <gio/gunixfdlist.h>
#include <glib-unix.h>

#include "memadvisectl.h"

/* One reclaim or plan: its calls, one after the other, and what came back. */
typedef struct
{
  const CtlOptions *options;
  MaDBusMemAdvise1 *proxy;
  GDBusCallFlags flags;
  GArray *processes;  /* by pidfd (CtlProcess): PlanPidfds or ReclaimPidfds, 16 a call */
  GArray *held;       /* indices into processes of those held by a pidfd */
  GPtrArray *cgroups; /* by cgroup: one PlanCgroup or ReclaimCgroup each */
  CtlProgress *progress;
  GPtrArray *chunks; /* GVariant aa{sv}: each pidfd call's results */
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

/* The calls the pidfds take: 16 a message on the system bus. */
static guint
n_pidfd_calls (const Run *run)
{
  return (run->held->len + MA_DBUS_MAX_PIDFDS - 1) / MA_DBUS_MAX_PIDFDS;
}

static GVariant *
build_options (const Run *run)
{
  const CtlOptions *options = run->options;
  GVariantBuilder builder;

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a{sv}"));
  /* Split into several calls, one request must still be answered as one:
   * no call fails because none of its own targets was authorized. */
  if (run->processes != NULL && n_pidfd_calls (run) > 1)
    g_variant_builder_add (&builder, "{sv}", "access-denied", g_variant_new_boolean (FALSE));
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
  if (options->map)
    g_variant_builder_add (&builder, "{sv}", "map", g_variant_new_boolean (TRUE));
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

/* What a call's results add to the progress of the whole request. */
static void
add_progress (Run *run, GVariant *results)
{
  GVariantIter iter;
  GVariant *entry;
  guint64 advised = 0, planned = 0;

  g_variant_iter_init (&iter, results);
  while ((entry = g_variant_iter_next_value (&iter)) != NULL)
    {
      guint64 bytes;

      if (g_variant_lookup (entry, "advised-bytes", "t", &bytes))
        advised += bytes;
      if (g_variant_lookup (entry, "planned-bytes", "t", &bytes))
        planned += bytes;
      g_variant_unref (entry);
    }
  ctl_progress_add_done (run->progress, advised, planned);
}

static void
on_call_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Run *run = user_data;
  MaDBusMemAdvise1 *proxy = MA_DBUS_MEM_ADVISE1 (source);
  g_autoptr (GVariant) results = NULL;
  gboolean dry_run = run->options->dry_run;
  gboolean ok;

  if (run->cgroups != NULL)
    ok = dry_run
             ? ma_dbus_mem_advise1_call_plan_cgroup_finish (proxy, &results, result, &run->error)
             : ma_dbus_mem_advise1_call_reclaim_cgroup_finish (proxy, &results, result,
                                                               &run->error);
  else
    ok = dry_run ? ma_dbus_mem_advise1_call_plan_pidfds_finish (proxy, &results, NULL, result,
                                                                &run->error)
                 : ma_dbus_mem_advise1_call_reclaim_pidfds_finish (proxy, &results, NULL, result,
                                                                   &run->error);
  if (ok && run->cgroups != NULL)
    merge_results (&run->merged, run->seen, results);
  else if (ok)
    g_ptr_array_add (run->chunks, g_variant_ref (results));
  if (ok)
    add_progress (run, results);
  g_main_loop_quit (run->loop);
}

/* The pidfd calls' results and the entries of pids that name no process,
 * in the order the processes were named. The daemon answers each call
 * with one entry per process, in the order given. */
static void
merge_pidfd_results (Run *run)
{
  g_autoptr (GPtrArray) entries = g_ptr_array_new_with_free_func ((GDestroyNotify) g_variant_unref);
  guint next = 0;

  for (guint c = 0; c < run->chunks->len; c++)
    {
      GVariantIter iter;
      GVariant *entry;

      g_variant_iter_init (&iter, g_ptr_array_index (run->chunks, c));
      while ((entry = g_variant_iter_next_value (&iter)) != NULL)
        g_ptr_array_add (entries, entry);
    }
  for (guint i = 0; i < run->processes->len; i++)
    {
      const CtlProcess *process = &g_array_index (run->processes, CtlProcess, i);

      if (process->pidfd < 0)
        g_variant_builder_add_value (&run->merged,
                                     ctl_process_missing_entry (process, !run->options->dry_run));
      else if (next < entries->len)
        g_variant_builder_add_value (&run->merged, g_ptr_array_index (entries, next++));
    }
}

/* Split calls were answered with results whatever was refused: as one
 * call, the request is refused when some target was refused and none
 * got anywhere (ok or skipped). */
static void
refuse_as_one_call (Run *run, GVariant *results)
{
  g_autoptr (CtlReport) report = ctl_report_new (run->options, results);
  gboolean refused = FALSE;

  if (run->processes == NULL || n_pidfd_calls (run) < 2)
    return;
  for (guint i = 0; i < report->targets->len; i++)
    {
      const CtlTarget *target = g_ptr_array_index (report->targets, i);

      if (ctl_target_is_ok (target))
        return;
      refused = refused || g_strcmp0 (target->error, "not-authorized") == 0;
    }
  if (refused)
    run->error = g_error_new (G_DBUS_ERROR, G_DBUS_ERROR_ACCESS_DENIED,
                              "You are not authorized to %s any of the processes named.",
                              run->options->dry_run ? "inspect" : "reclaim memory of");
}

/* Starts call @i of @run: PlanPidfds or ReclaimPidfds of the processes
 * 16 * @i on, or the cgroup method on cgroup @i. Waits without a timeout:
 * a pageout takes as long as it takes, and Ctrl-C ends it. */
static void
start_call (Run *run, guint i)
{
  const CtlOptions *options = run->options;
  GVariant *opts = build_options (run);

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
    g_autoptr (GUnixFDList) fd_list = g_unix_fd_list_new ();
    g_autoptr (GArray) handles = g_array_new (FALSE, FALSE, sizeof (gint32));
    guint end = MIN (run->held->len, (i + 1) * MA_DBUS_MAX_PIDFDS);
    GVariant *pidfds;

    for (guint k = i * MA_DBUS_MAX_PIDFDS; k < end; k++)
      {
        guint index = g_array_index (run->held, guint, k);
        int pidfd = g_array_index (run->processes, CtlProcess, index).pidfd;
        gint32 handle = g_unix_fd_list_append (fd_list, pidfd, NULL);

        g_array_append_val (handles, handle);
      }
    pidfds = g_variant_new_fixed_array (G_VARIANT_TYPE_HANDLE, handles->data, handles->len,
                                        sizeof (gint32));
    if (options->dry_run)
      ma_dbus_mem_advise1_call_plan_pidfds (run->proxy, pidfds, options->mode, opts, run->flags,
                                            G_MAXINT, fd_list, run->cancellable, on_call_done, run);
    else
      ma_dbus_mem_advise1_call_reclaim_pidfds (run->proxy, pidfds, options->mode, opts, run->flags,
                                               G_MAXINT, fd_list, run->cancellable, on_call_done,
                                               run);
  }
}

/* The calls, one after the other, so that a call holds one of the
 * daemon's job slots at a time; until one fails or Ctrl-C. */
static void
run_calls (Run *run)
{
  guint n_calls = run->cgroups != NULL ? run->cgroups->len : n_pidfd_calls (run);
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

  report->map_width = ctl_map_terminal_width ();
  report->map_color = ctl_map_use_color (options->no_color);
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
  g_clear_pointer (&run->processes, g_array_unref);
  g_clear_pointer (&run->held, g_array_unref);
  g_clear_pointer (&run->chunks, g_ptr_array_unref);
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
    run.processes = ctl_collect_processes (options, error);
  if (run.processes == NULL && run.cgroups == NULL)
    return (CtlExit) (*error)->code;
  run.held = g_array_new (FALSE, FALSE, sizeof (guint));
  run.chunks = g_ptr_array_new_with_free_func ((GDestroyNotify) g_variant_unref);
  for (guint i = 0; run.processes != NULL && i < run.processes->len; i++)
    if (g_array_index (run.processes, CtlProcess, i).pidfd >= 0)
      g_array_append_val (run.held, i);

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
  run.progress = progress;

  run.loop = g_main_loop_new (NULL, FALSE);
  run.cancellable = g_cancellable_new ();
  run.seen = g_hash_table_new (NULL, NULL);
  run_calls (&run);
  if (run.processes != NULL && run.error == NULL && !run.interrupted)
    merge_pidfd_results (&run);
  results = g_variant_ref_sink (g_variant_builder_end (&run.merged));
  if (run.error == NULL && !run.interrupted)
    refuse_as_one_call (&run, results);
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
