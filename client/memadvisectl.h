/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * memadvisectl: the unprivileged client of memadvised.
 *
 * Flags, JSON schema and exit codes are the contract in shared/DESIGN.md
 * and memadvisectl(1).
 */
#pragma once

#include <gio/gio.h>

#include "ma-dbus-error.h"
#include "ma-dbus-generated.h"
#include "ma-dbus-names.h"
#include "ma-client.h"

G_BEGIN_DECLS

/* Exit codes; the codes of CTL_ERROR are the exit status of a failure. */
typedef enum
{
  CTL_EXIT_OK = 0,
  CTL_EXIT_FAILED = 1,
  CTL_EXIT_USAGE = 2,
  CTL_EXIT_UNAVAILABLE = 3,
  CTL_EXIT_DENIED = 4,
} CtlExit;

#define CTL_ERROR (ctl_error_quark ())
GQuark ctl_error_quark (void);

typedef enum
{
  CTL_COMMAND_DEFAULT, /* no subcommand: the original tool's flags */
  CTL_COMMAND_RECLAIM,
  CTL_COMMAND_PLAN,
  CTL_COMMAND_STATUS,
} CtlCommand;

typedef struct
{
  CtlCommand command;
  GArray *pids; /* guint32, in the order given, duplicates kept */
  char **names; /* --name, NULL-terminated or NULL */
  /* At most one of --cgroup, --unit, --app, and then neither --target nor
   * --name: the targets are the members of cgroups (PlanCgroup). */
  char *cgroup;
  char *unit;
  gboolean user; /* --unit of the caller's user manager */
  char *app;
  int percent; /* G_OPTION_ARG_INT */
  char *mode;
  guint64 max_bytes;
  char *order; /* NULL: not given (the daemon's default, coldest) */
  /* Sent to the daemon only when given, so that an older daemon still
   * serves the original flags. */
  gboolean has_min_idle;
  guint min_idle; /* seconds */
  gboolean has_threads;
  guint threads; /* 0: one per online CPU */
  gboolean dry_run;
  gboolean verbose;
  gboolean map;      /* --map: draw each target's map (option map) */
  gboolean no_color; /* --no-color: plain characters on a terminal too */
  gboolean json;
  gboolean prometheus; /* status --prometheus */
  char *output;        /* status --prometheus --output FILE */
  gboolean no_progress;
  gboolean no_ask_password;
} CtlOptions;

void ctl_options_free (CtlOptions *options);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CtlOptions, ctl_options_free)

/* options.c: NULL with CTL_EXIT_USAGE on a usage error; NULL without an
 * error after --help or --version (exit 0). */
CtlOptions *ctl_options_parse (int argc, char **argv, GError **error);

/* A process a command names, held by a pidfd; or, with pidfd -1, a pid
 * that names none, and the sentence of its results entry. */
typedef struct
{
  guint32 pid;
  int pidfd;
  char *missing;
} CtlProcess;

/* processes.c */
void ctl_process_clear (CtlProcess *process);
int ctl_pidfd_open (guint32 pid);
gboolean ctl_pidfd_alive (int pidfd);
/* The processes of --target, then of --name, each once (CtlProcess,
 * cleared when the array is freed); NULL with @error when a name matches
 * nothing or there are too many. */
GArray *ctl_collect_processes (const CtlOptions *options, GError **error);
/* The results entry (a{sv}) of a pid that names no process, as the
 * daemon's would be. */
GVariant *ctl_process_missing_entry (const CtlProcess *process, gboolean reclaim);

/* resolve-name.c: appends to @processes (CtlProcess) every process matching
 * @name as pidof(8) does (comm, executable basename or argv[0] basename),
 * in pid order, each held by a pidfd; FALSE when none. */
gboolean ctl_resolve_name (const char *name, GArray *processes, GError **error);

/* resolve-cgroup.c: the cgroup path of a systemd unit (system manager, or the
 * caller's user manager with @user), CTL_EXIT_UNAVAILABLE where systemd
 * does not run; and the paths of the app-*-APP_ID-*.scope (and
 * app-*-APP_ID@*.service) units of the caller's user manager, sorted. */
char *ctl_resolve_unit (const char *name, gboolean user, GError **error);
GPtrArray *ctl_resolve_app (const char *app_id, GError **error);

typedef struct
{
  guint64 rss;
  guint64 anon;
  guint64 swap;
} CtlMem;

typedef struct
{
  guint64 start;
  guint64 length;
  guint64 resident;
} CtlRange;

/* A target's map, as the daemon sent it (memadvised(8), Maps). */
typedef struct
{
  guint64 start;
  guint64 end;
  guint n_cells;
  guint8 *cells; /* the daemon's states, 0 (not present) to 5 (planned) */
} CtlMapMapping;

typedef struct
{
  char *reason; /* as the daemon names it */
  guint32 count;
  guint64 bytes;
} CtlMapIneligible;

typedef struct
{
  GArray *mappings; /* CtlMapMapping */
  guint32 eligible_mappings;
  gboolean truncated; /* eligible mappings were left out */
  GArray *ineligible; /* CtlMapIneligible */
} CtlMap;

/* output-map.c: the map from the daemon's a{sv}; a member of the wrong
 * type counts as absent. */
CtlMap *ctl_map_new (GVariant *map);
void ctl_map_free (CtlMap *map);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CtlMap, ctl_map_free)
/* The character of a state (memadvisectl(1), MAP): '?' for one it does
 * not know. */
char ctl_map_char (guint8 state);
/* The cells of a mapping as characters. */
char *ctl_map_cells_text (const CtlMapMapping *mapping);
/* The lines of @map, each @indent spaces in and at most @width columns
 * wide (a bar of 8 cells at least): one per drawn mapping, address, size
 * and a bar of cells rescaled to fit, each the state of most of what it
 * covers (ties to the higher); how many were left out; the mappings that
 * are not eligible, by reason. With @color, the cells in SGR colours. */
char *ctl_map_draw (const CtlMap *map, guint width, guint indent, gboolean color);
/* One line saying what each character means; "advised" for planned after
 * Reclaim. */
char *ctl_map_legend (gboolean advised, gboolean color);
/* Standard output's terminal width, else $COLUMNS, else 80. */
guint ctl_map_terminal_width (void);
/* Colours: standard output is a terminal, not @no_color, and NO_COLOR is
 * unset or empty (no-color.org). */
gboolean ctl_map_use_color (gboolean no_color);

/* One entry of the daemon's results. Strings are NULL when absent. */
typedef struct
{
  guint32 pid;
  char *comm;
  gboolean has_uid;
  guint32 uid;
  char *status;
  char *error;
  char *message;
  guint64 eligible_bytes;
  guint64 planned_bytes;
  guint64 advised_bytes;
  guint64 idle_bytes;
  guint32 idle_seconds;
  guint64 unknown_age_bytes;
  /* What told the plan which memory is cold (memadvised(8), COLDNESS). */
  char *coldness_source;
  guint64 refaulted_bytes;
  guint64 paged_out_bytes;
  guint64 held_bytes;
  guint64 sampled_bytes;
  CtlMem before;
  gboolean has_after;
  CtlMem after;
  GArray *ranges;            /* CtlRange, or NULL when the daemon sent none */
  gboolean ranges_truncated; /* the daemon listed only the first ranges */
  CtlMap *map;               /* NULL when the daemon sent none */
} CtlTarget;

typedef struct
{
  char *mode;
  gboolean dry_run;
  guint percent;
  guint64 max_bytes;
  char *order;
  guint min_idle;
  guint threads; /* 0: one per online CPU */
  gboolean verbose;
  gboolean map;       /* --map: the table draws maps, the JSON has them */
  guint map_width;    /* columns for the table's maps */
  gboolean map_color; /* the table's maps in colour */
  GPtrArray *targets; /* CtlTarget */
} CtlReport;

/* report.c */
CtlReport *ctl_report_new (const CtlOptions *options, GVariant *results);
void ctl_report_free (CtlReport *report);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CtlReport, ctl_report_free)
gboolean ctl_target_is_ok (const CtlTarget *target);
CtlExit ctl_report_exit_status (const CtlReport *report);
void ctl_report_totals (const CtlReport *report, guint64 *eligible, guint64 *planned,
                        guint64 *advised);
/* Planned bytes known idle and of unknown age, over every target, and the
 * shortest idle time of the targets with idle bytes (0 when none has). */
void ctl_report_idle_totals (const CtlReport *report, guint64 *idle, guint64 *unknown_age,
                             guint32 *min_idle_seconds);
/* Over every target: what earlier pageouts left out and what of it came
 * back, and what came back during min-idle after this call's sample and
 * trial paged it out. */
typedef struct
{
  guint64 refaulted;
  guint64 paged_out;
  guint64 sampled;
  gboolean any_sampling; /* a target's plan went by a sample */
} CtlColdnessTotals;
void ctl_report_coldness_totals (const CtlReport *report, CtlColdnessTotals *out);

/* output-table.c, output-json.c: print @report on stdout. */
void ctl_print_table (const CtlReport *report);
gboolean ctl_print_json (const CtlReport *report, GError **error);

/* output-prometheus.c: GetStatistics' a{sv} in the Prometheus text
 * format (memadvisectl(1), METRICS); NULL statistics: memadvise_up 0 alone.
 * Whether a GetStatistics key has its metric or is left out on purpose;
 * keys it does not know are left out. Replacing @path atomically: a
 * temporary file in its directory, mode 0644, synced, then renamed; a
 * G_IO_ERROR with one sentence when it cannot. */
char *ctl_prometheus_format (GVariant *statistics);
gboolean ctl_prometheus_knows_key (const char *key);
gboolean ctl_prometheus_write_file (const char *path, const char *contents, GError **error);

/* bus.c: memadvised's proxy on the system bus, or NULL with a CTL_ERROR.
 * Properties are not loaded and the daemon is not started until the
 * first call (D-Bus activation). */
MaDBusMemAdvise1 *ctl_bus_proxy_new (GError **error);
/* Turns a failed call into a CTL_ERROR whose code is the exit status and
 * whose message is one sentence; @what names the call ("reclaim", ...). */
GError *ctl_bus_error (const GError *call_error, const char *what, gboolean verbose);
GDBusCallFlags ctl_bus_call_flags (const CtlOptions *options);

/* progress.c: a bar on stderr for the calls that report Progress. */
typedef struct _CtlProgress CtlProgress;
CtlProgress *ctl_progress_new (MaDBusMemAdvise1 *proxy);
void ctl_progress_clear (CtlProgress *progress);
/* A call of the request is done, having advised @done of @planned bytes:
 * the next call's Progress counts on from there. */
void ctl_progress_add_done (CtlProgress *progress, guint64 done, guint64 planned);
void ctl_progress_free (CtlProgress *progress);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CtlProgress, ctl_progress_free)

/* polkit-agent.c: a polkit text agent (pkttyagent) for this process while it
 * may ask for a password; NULL when none could be started. */
typedef struct _CtlAgent CtlAgent;
CtlAgent *ctl_agent_start (void);
void ctl_agent_stop (CtlAgent *agent);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CtlAgent, ctl_agent_stop)

/* Subcommands, one file each (memadvisectl-COMMAND.c): return the exit
 * status, with @error set unless it is 0 or the failure was already
 * reported per target. reclaim and plan (and the flags alone): */
CtlExit ctl_run_advise (const CtlOptions *options, GError **error);
/* status: */
CtlExit ctl_run_status (const CtlOptions *options, GError **error);
/* memadvisectl-session.c: memadvisectl session enable|disable|status. */
CtlExit ctl_run_session (int argc, char **argv, GError **error);

G_END_DECLS
