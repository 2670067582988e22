/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Command line: the original tool's flags, kept with their short forms and
 * defaults, and systemctl-style commands each with their own --help.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "memadvisectl.h"

/* Not G_DEFINE_QUARK: clang-format spaces out the dashes of its bare
 * argument. */
GQuark
ctl_error_quark (void)
{
  return g_quark_from_static_string ("memadvisectl-error-quark");
}

#define DEFAULT_PERCENT 30
#define DEFAULT_MODE "cold"

void
ctl_options_free (CtlOptions *options)
{
  if (options == NULL)
    return;
  g_clear_pointer (&options->pids, g_array_unref);
  g_clear_pointer (&options->names, g_strfreev);
  g_free (options->mode);
  g_free (options->order);
  g_free (options->cgroup);
  g_free (options->unit);
  g_free (options->app);
  g_free (options->output);
  g_free (options);
}

/* Accepts "PID[,PID...]"; repeated options add to the list. */
static gboolean
parse_targets (CtlOptions *options, char **args, GError **error)
{
  for (guint a = 0; args != NULL && args[a] != NULL; a++)
    {
      g_auto (GStrv) items = g_strsplit (args[a], ",", -1);

      for (guint i = 0; items[i] != NULL; i++)
        {
          const char *item = g_strstrip (items[i]);
          guint64 pid = 0;
          guint32 pid32;

          if (!g_ascii_string_to_unsigned (item, 10, 1, G_MAXINT32, &pid, NULL))
            {
              g_set_error (error, CTL_ERROR, CTL_EXIT_USAGE,
                           "“%s” is not a process id (in --target %s).", item, args[a]);
              return FALSE;
            }
          pid32 = (guint32) pid;
          g_array_append_val (options->pids, pid32);
        }
    }
  return TRUE;
}

typedef struct
{
  char **targets;
  char *max_bytes;
  char *min_idle;
  char *threads;
  gboolean version;
} RawArgs;

/* A count given as a string, so that "-1" and "x" are usage errors
 * rather than wrapped or silently zero. */
static gboolean
parse_count (const char *flag, const char *text, const char *what, guint *out, GError **error)
{
  guint64 value;

  if (text == NULL)
    return TRUE;
  if (!g_ascii_string_to_unsigned (text, 10, 0, G_MAXUINT32, &value, NULL))
    {
      g_set_error (error, CTL_ERROR, CTL_EXIT_USAGE, "%s must be a number of %s, not “%s”.", flag,
                   what, text);
      return FALSE;
    }
  *out = (guint) value;
  return TRUE;
}

typedef struct
{
  const char *name;
  CtlCommand command;
  const char *brief;
  const char *summary;
} CommandInfo;

static const CommandInfo commands[] = {
  { "reclaim", CTL_COMMAND_RECLAIM, "Reclaim memory of processes now",
    "Advise the kernel to reclaim memory of the target processes now (MADV_COLD or "
    "MADV_PAGEOUT). With --dry-run, only plan it." },
  { "plan", CTL_COMMAND_PLAN, "Show what reclaim would do, do nothing",
    "Show what reclaim would advise, and advise nothing (the same as --dry-run)." },
  { "status", CTL_COMMAND_STATUS, "Show the daemon, kernel support, swap and statistics",
    "Show the daemon's version, kernel support, swap configured and free, and the daemon's "
    "statistics." },
};

static const CommandInfo *
find_command (const char *name)
{
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    if (g_str_equal (commands[i].name, name))
      return &commands[i];
  return NULL;
}

static char *
default_summary (void)
{
  GString *s = g_string_new ("Reclaim cold memory from running processes through memadvised.\n\n"
                             "Commands:\n");

  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    g_string_append_printf (s, "  %-9s %s\n", commands[i].name, commands[i].brief);
  /* Dispatched in memadvisectl.c before these flags are parsed. */
  g_string_append_printf (s, "  %-9s %s\n", "session",
                          "Turn the desktop session agent on or off, or show it");
  g_string_append (s, "\nWithout a command, the flags work as in the original memadvise: "
                      "--dry-run plans, otherwise memory is reclaimed.\n"
                      "Run “memadvisectl COMMAND --help” for the flags of a command.");
  return g_string_free (s, FALSE);
}

static GOptionGroup *
build_group (CtlCommand command, CtlOptions *options, RawArgs *raw)
{
  g_autoptr (GArray) entries = g_array_new (TRUE, TRUE, sizeof (GOptionEntry));
  const GOptionEntry advise[] = {
    { "target", 't', 0, G_OPTION_ARG_STRING_ARRAY, &raw->targets,
      "Process ids to reclaim (repeatable)", "PID[,PID...]" },
    { "name", 0, 0, G_OPTION_ARG_STRING_ARRAY, &options->names,
      "Every process whose command name or executable is NAME, as pidof (repeatable)", "NAME" },
    { "cgroup", 0, 0, G_OPTION_ARG_STRING, &options->cgroup,
      "Every process of the cgroup PATH and the cgroups below it", "PATH" },
    { "unit", 0, 0, G_OPTION_ARG_STRING, &options->unit,
      "Every process of the systemd unit UNIT (with --user, of your user manager)", "UNIT" },
    { "user", 0, 0, G_OPTION_ARG_NONE, &options->user,
      "--unit names a unit of your systemd user manager", NULL },
    { "app", 0, 0, G_OPTION_ARG_STRING, &options->app,
      "Every process of the app APP_ID's units under your user manager", "APP_ID" },
    { "percent", 'p', 0, G_OPTION_ARG_INT, &options->percent,
      "Percent of each target's resident eligible memory (1-100, default 30)", "N" },
    { "mode", 'm', 0, G_OPTION_ARG_STRING, &options->mode,
      "cold: deactivate, evicted first under pressure; pageout: evict now to swap (default cold)",
      "cold|pageout" },
    { "max-bytes", 'b', 0, G_OPTION_ARG_STRING, &raw->max_bytes,
      "Cap per target, in bytes or with a K, M, G or T suffix (default: no cap)", "N" },
    { "order", 0, 0, G_OPTION_ARG_STRING, &options->order,
      "coldest: least recently used mappings first; address: by address (default coldest)",
      "coldest|address" },
    { "min-idle", 0, 0, G_OPTION_ARG_STRING, &raw->min_idle,
      "Observe accesses this long before planning; the call waits (default 0)", "SECONDS" },
    { "threads", 0, 0, G_OPTION_ARG_STRING, &raw->threads,
      "Threads for pageout, capped by the daemon (default 0: one per online CPU)", "N" },
    { "verbose", 'v', 0, G_OPTION_ARG_NONE, &options->verbose,
      "List the planned ranges of each target", NULL },
    { "map", 0, 0, G_OPTION_ARG_NONE, &options->map,
      "Draw each eligible mapping of each target as a bar of its pages' states", NULL },
    { "no-color", 0, 0, G_OPTION_ARG_NONE, &options->no_color,
      "Plain characters, no colours, also on a terminal", NULL },
    { "json", 'j', 0, G_OPTION_ARG_NONE, &options->json, "Print one JSON object on stdout", NULL },
    { "no-ask-password", 0, 0, G_OPTION_ARG_NONE, &options->no_ask_password,
      "Never ask for a password to authorize", NULL },
  };
  const GOptionEntry dry_run = { "dry-run",
                                 'd',
                                 0,
                                 G_OPTION_ARG_NONE,
                                 &options->dry_run,
                                 "Only plan: show what would be advised, advise nothing",
                                 NULL };
  const GOptionEntry no_progress = { "no-progress",
                                     0,
                                     0,
                                     G_OPTION_ARG_NONE,
                                     &options->no_progress,
                                     "Do not draw a progress bar on the terminal",
                                     NULL };
  const GOptionEntry status[] = {
    { "json", 'j', 0, G_OPTION_ARG_NONE, &options->json, "Print one JSON object on stdout", NULL },
    { "prometheus", 0, 0, G_OPTION_ARG_NONE, &options->prometheus,
      "Print the statistics as Prometheus metrics; never starts memadvised", NULL },
    { "output", 0, 0, G_OPTION_ARG_FILENAME, &options->output,
      "With --prometheus: replace FILE atomically instead of printing", "FILE" },
    { "no-ask-password", 0, 0, G_OPTION_ARG_NONE, &options->no_ask_password,
      "Never ask for a password to authorize", NULL },
  };
  const GOptionEntry version_entry
      = { "version", 0, 0, G_OPTION_ARG_NONE, &raw->version, "Print the version of memadvisectl",
          NULL };
  GOptionGroup *group;

  switch (command)
    {
    case CTL_COMMAND_DEFAULT:
    case CTL_COMMAND_RECLAIM:
      g_array_append_vals (entries, advise, G_N_ELEMENTS (advise));
      g_array_append_vals (entries, &dry_run, 1);
      g_array_append_vals (entries, &no_progress, 1);
      break;
    case CTL_COMMAND_PLAN:
      g_array_append_vals (entries, advise, G_N_ELEMENTS (advise));
      break;
    case CTL_COMMAND_STATUS:
      g_array_append_vals (entries, status, G_N_ELEMENTS (status));
      break;
    }
  if (command == CTL_COMMAND_DEFAULT)
    g_array_append_vals (entries, &version_entry, 1);

  group = g_option_group_new ("memadvisectl", "", "", NULL, NULL);
  g_option_group_add_entries (group, (const GOptionEntry *) (gpointer) entries->data);
  return group;
}

/* Targets come from pids and names, or from exactly one cgroup source. */
static gboolean
validate_selection (const CtlOptions *options, GError **error)
{
  gboolean by_pid = options->pids->len > 0 || options->names != NULL;
  guint by_cgroup = (options->cgroup != NULL) + (options->unit != NULL) + (options->app != NULL);

  if (by_cgroup > 1 || (by_cgroup == 1 && by_pid))
    {
      g_set_error_literal (error, CTL_ERROR, CTL_EXIT_USAGE,
                           "Use only one of --target/--name, --cgroup, --unit and --app.");
      return FALSE;
    }
  if (options->user && options->unit == NULL)
    {
      g_set_error_literal (error, CTL_ERROR, CTL_EXIT_USAGE, "--user goes with --unit.");
      return FALSE;
    }
  if (!by_pid && by_cgroup == 0)
    {
      g_set_error_literal (
          error, CTL_ERROR, CTL_EXIT_USAGE,
          "No target given: use --target PID, --name NAME, --cgroup PATH, --unit UNIT or --app "
          "APP_ID.");
      return FALSE;
    }
  return TRUE;
}

static gboolean
validate_status (const CtlOptions *options, GError **error)
{
  const char *problem = NULL;

  if (options->prometheus && options->json)
    problem = "Use only one of --json and --prometheus.";
  else if (options->output != NULL && !options->prometheus)
    problem = "--output goes with --prometheus.";
  else if (options->output != NULL && *options->output == '\0')
    problem = "--output needs a file name.";
  if (problem != NULL)
    g_set_error_literal (error, CTL_ERROR, CTL_EXIT_USAGE, problem);
  return problem == NULL;
}

static gboolean
validate (CtlOptions *options, const RawArgs *raw, GError **error)
{
  if (options->command == CTL_COMMAND_STATUS)
    return validate_status (options, error);

  if (!parse_targets (options, raw->targets, error))
    return FALSE;
  if (raw->max_bytes != NULL)
    {
      g_autoptr (GError) local_error = NULL;

      if (!ma_client_parse_size (raw->max_bytes, &options->max_bytes, &local_error))
        {
          g_set_error (error, CTL_ERROR, CTL_EXIT_USAGE, "--max-bytes: %s.", local_error->message);
          return FALSE;
        }
    }
  if (options->percent < 1 || options->percent > 100)
    {
      g_set_error (error, CTL_ERROR, CTL_EXIT_USAGE, "--percent must be between 1 and 100, not %d.",
                   options->percent);
      return FALSE;
    }
  if (!g_str_equal (options->mode, "cold") && !g_str_equal (options->mode, "pageout"))
    {
      g_set_error (error, CTL_ERROR, CTL_EXIT_USAGE,
                   "--mode must be “cold” or “pageout”, not “%s”.", options->mode);
      return FALSE;
    }
  if (options->order != NULL && !g_str_equal (options->order, "coldest")
      && !g_str_equal (options->order, "address"))
    {
      g_set_error (error, CTL_ERROR, CTL_EXIT_USAGE,
                   "--order must be “coldest” or “address”, not “%s”.", options->order);
      return FALSE;
    }
  if (!parse_count ("--min-idle", raw->min_idle, "seconds", &options->min_idle, error)
      || !parse_count ("--threads", raw->threads, "threads", &options->threads, error))
    return FALSE;
  options->has_min_idle = raw->min_idle != NULL;
  options->has_threads = raw->threads != NULL;
  if (!validate_selection (options, error))
    return FALSE;
  if (options->command == CTL_COMMAND_PLAN)
    options->dry_run = TRUE;
  return TRUE;
}

CtlOptions *
ctl_options_parse (int argc, char **argv, GError **error)
{
  g_autoptr (CtlOptions) options = g_new0 (CtlOptions, 1);
  g_autoptr (GOptionContext) context = NULL;
  g_autoptr (GError) local_error = NULL;
  g_autofree char *prgname = NULL;
  g_autofree char *summary = NULL;
  const CommandInfo *info = NULL;
  RawArgs raw = { 0 };
  CtlOptions *result = NULL;
  int parse_argc = argc;
  char **parse_argv = argv;
  gboolean ok;

  options->pids = g_array_new (FALSE, FALSE, sizeof (guint32));
  options->percent = DEFAULT_PERCENT;
  options->command = CTL_COMMAND_DEFAULT;

  if (argc > 1 && argv[1][0] != '-')
    {
      info = find_command (argv[1]);
      if (info == NULL)
        {
          g_set_error (error, CTL_ERROR, CTL_EXIT_USAGE,
                       "Unknown command “%s”; the commands are reclaim, plan, status and session.",
                       argv[1]);
          return NULL;
        }
      options->command = info->command;
      parse_argc = argc - 1;
      parse_argv = argv + 1;
    }

  /* The usage line is "PRGNAME [OPTION…] PARAMETERS". */
  if (info != NULL)
    {
      prgname = g_strdup_printf ("memadvisectl %s", info->name);
      context = g_option_context_new (NULL);
      g_option_context_set_summary (context, info->summary);
    }
  else
    {
      prgname = g_strdup ("memadvisectl");
      context = g_option_context_new ("[COMMAND]");
      summary = default_summary ();
      g_option_context_set_summary (context, summary);
      g_option_context_set_description (
          context, "Exit status: 0 every target ok or skipped, 1 a target or the call failed, "
                   "2 usage error,\n3 memadvised unreachable or kernel unsupported, 4 not "
                   "authorized for any target.\nSee memadvisectl(1).");
    }
  g_option_context_set_main_group (context, build_group (options->command, options, &raw));

  g_set_prgname (prgname);
  ok = g_option_context_parse (context, &parse_argc, &parse_argv, &local_error);
  g_set_prgname ("memadvisectl");
  if (!ok)
    {
      g_set_error (error, CTL_ERROR, CTL_EXIT_USAGE, "%s.", local_error->message);
      goto out;
    }

  if (raw.version)
    {
      g_print ("memadvisectl %s\n", PACKAGE_VERSION);
      goto out;
    }
  if (parse_argc > 1)
    {
      if (info == NULL && find_command (parse_argv[1]) != NULL)
        g_set_error (error, CTL_ERROR, CTL_EXIT_USAGE,
                     "The command “%s” must come before the flags.", parse_argv[1]);
      else
        g_set_error (error, CTL_ERROR, CTL_EXIT_USAGE, "Unexpected argument “%s”.", parse_argv[1]);
      goto out;
    }

  if (options->mode == NULL)
    options->mode = g_strdup (DEFAULT_MODE);
  if (validate (options, &raw, error))
    result = g_steal_pointer (&options);

out:
  g_strfreev (raw.targets);
  g_free (raw.max_bytes);
  g_free (raw.min_idle);
  g_free (raw.threads);
  return result;
}
