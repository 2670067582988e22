/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * memadvise-session: the desktop session agent. It watches the user's app
 * cgroups and reclaims the ones in the background through memadvised's
 * ReclaimCgroup. How it decides is memadvise-session(1).
 */
#pragma once

#include <gio/gio.h>

#include "ma-dbus-error.h"
#include "ma-dbus-generated.h"
#include "ma-dbus-names.h"

G_BEGIN_DECLS

/* config.c */
typedef struct
{
  gint64 background_us; /* BackgroundMinutes / BackgroundSeconds */
  gint64 backoff_us;    /* BackoffMinutes / BackoffSeconds */
  char *mode;           /* "cold" or "pageout" */
  guint percent;        /* 1-100 */
  guint min_free_swap_percent;
  guint refault_backoff_percent; /* more of a pageout back than this: wait twice as long */
  guint64 max_bytes_per_minute;  /* 0: no cap */
  gboolean screen_lock;
  gboolean pressure;
  double pressure_recovered_avg10; /* PSI "some avg10" under which pressure has fallen */
  guint psi_stall_ms;
  guint psi_window_ms;
} SessConfig;

SessConfig *sess_config_new_default (void);
void sess_config_free (SessConfig *config);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SessConfig, sess_config_free)
/* Reads @path over the defaults; a missing file is not an error. */
gboolean sess_config_load (SessConfig *config, const char *path, GError **error);
char *sess_config_default_path (void);

/* One app cgroup under the user's app.slice. */
typedef struct
{
  char *cgroup; /* relative to the hierarchy root, as ReclaimCgroup takes it */
  char *unit;   /* app-gnome-org.example.App-1234.scope */
  char *app_id; /* org.example.App */
  gboolean focused;
  gint64 background_since;   /* CLOCK_MONOTONIC µs; -1: unknown or focused */
  gboolean due_done;         /* the background delay fired for this background period */
  gint64 last_reclaim;       /* CLOCK_MONOTONIC µs; 0: never */
  guint front_count;         /* times it came to the front: a call's reply
                              * starts no back-off if it changed meanwhile */
  gboolean refaults_unknown; /* its last reclaim paged out: ask what came back */
  gboolean asking;           /* a PlanCgroup asks that now */
  gboolean slow;             /* much came back: the delay before its next reclaim doubles */
} SessApp;

/* Bytes advised at a moment, for the rate cap. */
typedef struct
{
  gint64 at;
  guint64 bytes;
} SessSpent;

typedef struct _SessAgent SessAgent;
typedef struct _SessOwnerSignal SessOwnerSignal; /* owner-signal.c */

typedef enum
{
  SESS_TRIGGER_BACKGROUND,
  SESS_TRIGGER_SCREEN_LOCK,
  SESS_TRIGGER_PRESSURE,
} SessTrigger;

struct _SessAgent
{
  SessConfig *config;
  GMainLoop *loop;
  GDBusConnection *system_bus;
  MaDBusMemAdvise1 *memadvised; /* its proxy on system_bus */
  GDBusConnection *session_bus;

  /* apps.c */
  char *slice_rel;  /* .../user@UID.service/app.slice */
  char *slice_abs;  /* the same in the cgroup2 mount */
  char *own_cgroup; /* the agent's own cgroup: never a target */
  GHashTable *apps; /* unit name -> SessApp */
  int inotify_fd;
  guint inotify_source;

  /* reclaim.c */
  GQueue queue; /* units waiting for a reclaim, and why */
  gboolean calling;
  guint timer;      /* the next app whose background delay ends */
  guint rate_timer; /* the rate cap lets the next call through */
  guint busy_timer; /* memadvised was busy: the next call waits for this */
  GArray *spent;    /* SessSpent: bytes advised in the last minute */
  gboolean pressure_episode;

  /* screensaver.c, pressure.c, kde.c */
  GPtrArray *screensavers; /* SessOwnerSignal: ActiveChanged of each ScreenSaver name */
  SessOwnerSignal *lmm;    /* LowMemoryWarning of low-memory-monitor */
  int psi_fd;
  guint psi_source;
  guint session_name;
  gpointer session_skeleton;
};

/* apps.c */
gboolean sess_apps_init (SessAgent *agent, GError **error);
void sess_apps_shutdown (SessAgent *agent);
SessApp *sess_apps_lookup (SessAgent *agent, const char *unit);

/* gnome.c: applies user.xdg.inactive-since of @app's cgroup. */
void sess_gnome_read (SessAgent *agent, SessApp *app);
gboolean sess_gnome_parse (const char *value, gboolean *focused, gint64 *since);

/* policy.c: the rules, as functions of the configuration, an app's state
 * and the time (CLOCK_MONOTONIC µs). */
gboolean sess_policy_eligible (const SessConfig *config, const SessApp *app, gint64 now);
/* When @app's background delay (and back-off) ends; -1 when it waits for
 * nothing: in front, of unknown state, or its delay already fired. */
gint64 sess_policy_due (const SessConfig *config, const SessApp *app);
/* The app came to the front, or went to the background at @since: TRUE
 * when that changed its state. */
gboolean sess_policy_to_front (SessApp *app);
gboolean sess_policy_to_background (SessApp *app, gint64 since);
/* A call for @app, started when its front_count was @front_count, has
 * returned at @now: its back-off starts, unless it came to the front
 * meanwhile. */
void sess_policy_reclaimed (SessApp *app, guint front_count, gint64 now);
/* A pageout of @app advised memory: before its next background reclaim
 * the agent asks what of it came back. */
void sess_policy_paged_out (SessApp *app);
/* Whether @app's background delay ends in asking that first. */
gboolean sess_policy_wants_refaults (const SessApp *app);
/* What came back: @refaulted of the @paged_out bytes memadvised's pageouts
 * left out of @app's processes. More than RefaultBackoffPercent of it, and
 * @app waits twice the background delay before its next reclaim; returns
 * whether it does. */
gboolean sess_policy_refaults (const SessConfig *config, SessApp *app, guint64 refaulted,
                               guint64 paged_out);
/* Longest in the background first (GCompareFunc of SessApp pointers). */
int sess_policy_compare_idle (gconstpointer a, gconstpointer b);
const char *sess_policy_choose_mode (const SessConfig *config, guint64 swap_total,
                                     guint64 swap_free);
/* Bytes the rate cap still allows at @now; G_MAXUINT64 without a cap.
 * Drops the entries of @spent (SessSpent, oldest first) older than a
 * minute; *@refill_at is when the oldest one left will be. */
guint64 sess_policy_allowance (const SessConfig *config, GArray *spent, gint64 now,
                               gint64 *refill_at);

/* reclaim.c: applies the rules; one ReclaimCgroup call at a time. */
void sess_reclaim_init (SessAgent *agent);
void sess_reclaim_shutdown (SessAgent *agent);
void sess_reclaim_to_front (SessAgent *agent, SessApp *app);
void sess_reclaim_to_background (SessAgent *agent, SessApp *app, gint64 since);
/* Queues every app whose background delay has ended; arms a timer for the next. */
void sess_reclaim_reschedule (SessAgent *agent);
void sess_reclaim_all (SessAgent *agent, SessTrigger trigger);
void sess_reclaim_pressure (SessAgent *agent);
void sess_reclaim_forget (SessAgent *agent, const char *unit);

/* refaults.c: asks memadvised (PlanCgroup) what came back of @app's last
 * pageout, then reschedules. */
void sess_refaults_ask (SessAgent *agent, SessApp *app);

/* owner-signal.c: @signal of @interface at @path (NULL: any) from the
 * current owner of @name on @bus only; @owner_changed (or NULL) is told
 * when an owner appears (TRUE) or goes (FALSE). */
typedef void (*SessOwnerChanged) (gpointer user_data, gboolean has_owner);
SessOwnerSignal *sess_owner_signal_new (GDBusConnection *bus, const char *name, const char *path,
                                        const char *interface, const char *signal,
                                        GDBusSignalCallback callback,
                                        SessOwnerChanged owner_changed, gpointer user_data);
void sess_owner_signal_free (SessOwnerSignal *follow);

/* screensaver.c */
void sess_screensaver_init (SessAgent *agent);
void sess_screensaver_shutdown (SessAgent *agent);

/* pressure.c */
void sess_pressure_init (SessAgent *agent);
void sess_pressure_shutdown (SessAgent *agent);
gboolean sess_pressure_high (SessAgent *agent);

/* kde.c */
void sess_kde_init (SessAgent *agent);
void sess_kde_shutdown (SessAgent *agent);

G_END_DECLS
