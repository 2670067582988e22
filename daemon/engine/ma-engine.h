/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * memadvise reclaim engine: the public C API.
 *
 * The engine opens a target as a pidfd, reads its memory map, plans which
 * resident anonymous private pages to advise (coldest first, within a budget)
 * and applies MADV_COLD or MADV_PAGEOUT with process_madvise(2) in batches.
 * It knows nothing of D-Bus or polkit; the daemon owns it.
 *
 * The contract for eligibility, budgets and result fields is
 * shared/DESIGN.md; the rules the code follows are in memadvised(8).
 */
#pragma once

#include <glib.h>
#include <gio/gio.h>
#include <sys/types.h>

G_BEGIN_DECLS

/* Errors. The nick of each code (ma_error_to_string) is the `error` value
 * of a failed target in the D-Bus results. */
typedef enum
{
  MA_ERROR_NO_SUCH_PROCESS,
  MA_ERROR_EXITED,
  MA_ERROR_NOT_AUTHORIZED,
  MA_ERROR_PROTECTED,
  MA_ERROR_KERNEL_THREAD,
  MA_ERROR_NOT_SUPPORTED,
  MA_ERROR_FAILED,
  MA_ERROR_INVALID_ARGUMENT,
  MA_ERROR_CANCELLED,
} MaError;

#define MA_ERROR (ma_error_quark ())
GQuark ma_error_quark (void);
const char *ma_error_to_string (MaError code);

typedef enum
{
  MA_MODE_COLD,    /* MADV_COLD */
  MA_MODE_PAGEOUT, /* MADV_PAGEOUT */
} MaMode;

gboolean ma_mode_from_string (const char *str, MaMode *out_mode);
const char *ma_mode_to_string (MaMode mode);

/* Probes of the running kernel and system. */
gboolean ma_probe_process_madvise (void); /* FALSE: ENOSYS */
gboolean ma_probe_pagemap_scan (void);    /* PAGEMAP_SCAN ioctl (Linux 6.7+) */
/* Total and used swap in bytes, from /proc/swaps. FALSE if unreadable. */
gboolean ma_probe_swap (guint64 *out_total, guint64 *out_used, GError **error);
gsize ma_page_size (void);

/* Figures from /proc/PID/status, in bytes. */
typedef struct
{
  guint64 rss;
  guint64 anon;
  guint64 swap;
} MaMemStat;

/* A target process, held by its pidfd. Everything read from /proc/PID after
 * ma_target_open() is read through a directory fd that was verified, with
 * the pidfd, to belong to the same live process. */
typedef struct _MaTarget MaTarget;

/* Opens @pid and reads its facts, and fails unless it may be worked on
 * (ma_target_check_usable()). */
MaTarget *ma_target_open (pid_t pid, GError **error);
/* The same, but a process that may not be worked on (a zombie, a kernel
 * thread, pid 1, the daemon itself, a thread id) is opened too, with its
 * facts, so that the daemon can decide what the caller may be told of it
 * before it says why it refuses it. Fails when there is no such process
 * (MA_ERROR_NO_SUCH_PROCESS) or it cannot be read. */
MaTarget *ma_target_open_any (pid_t pid, GError **error);
/* The same from a pidfd the daemon was given, which it duplicates: the
 * process is never looked up by its pid, so a pid the kernel reused
 * cannot be hit. A pidfd whose process has exited fails with
 * MA_ERROR_EXITED, one of a process outside the daemon's pid namespace or
 * of a thread (PIDFD_THREAD) with MA_ERROR_NO_SUCH_PROCESS. */
MaTarget *ma_target_open_pidfd (int pidfd, GError **error);
/* TRUE when @fd is a pidfd. Looks only at the file's name and fdinfo,
 * never calls into the file's own file system (which may be a FUSE one
 * that never answers). MA_ERROR_INVALID_ARGUMENT otherwise. */
gboolean ma_pidfd_check (int fd, GError **error);
/* Why the target may not be worked on: MA_ERROR_PROTECTED (pid 1, the
 * daemon itself), MA_ERROR_KERNEL_THREAD, MA_ERROR_EXITED (a zombie) or
 * MA_ERROR_NO_SUCH_PROCESS (a thread id). TRUE when none applies. */
gboolean ma_target_check_usable (MaTarget *target, GError **error);
void ma_target_free (MaTarget *target);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MaTarget, ma_target_free)

pid_t ma_target_get_pid (MaTarget *target);
int ma_target_get_pidfd (MaTarget *target);
/* The /proc/PID directory fd of the target (owned by the target). */
int ma_target_get_proc_fd (MaTarget *target);
const char *ma_target_get_comm (MaTarget *target);
/* uids[0..3]: real, effective, saved, filesystem; as read at open. */
const uid_t *ma_target_get_uids (MaTarget *target);
/* The same of the groups. */
const gid_t *ma_target_get_gids (MaTarget *target);
/* Effective, permitted and ambient capability sets, as read at open. */
guint64 ma_target_get_cap_eff (MaTarget *target);
guint64 ma_target_get_cap_prm (MaTarget *target);
/* The owner of /proc/PID (the kernel makes it root for non-dumpable tasks). */
uid_t ma_target_get_proc_owner (MaTarget *target);

/* Clock ticks after boot when the process started: with the pid, it names
 * the process for as long as the system runs (pids are reused, this pair
 * is not). */
guint64 ma_target_get_start_time (MaTarget *target);

/* TRUE while the pidfd's process has not exited; FALSE with
 * MA_ERROR_EXITED otherwise. */
gboolean ma_target_check_alive (MaTarget *target, GError **error);
/* Reads the target's credentials again (uids, groups, capabilities, the
 * owner of /proc/PID, which says whether it is dumpable) and fails with
 * MA_ERROR_NOT_AUTHORIZED when any differs from what was read at open:
 * an exec of a setuid program, say. For after reading or advising a
 * process on the strength of what it was when opened. */
gboolean ma_target_verify_credentials (MaTarget *target, GError **error);

/* The target's user namespace, as seen from the daemon's. */
typedef struct
{
  gboolean nested; /* below the daemon's user namespace, not in it */
  /* Nested, and the namespace just below the daemon's was created by the
   * uid asked about: that uid holds every capability in it and in all
   * namespaces below it, the target's (the kernel's rule). */
  gboolean owned_top;
  gboolean owned; /* owned_top, and every level down to the target's too */
  /* Uid 0 or gid 0 of the daemon's namespace is mapped into it: a setuid
   * root program run inside would run as the real root. */
  gboolean root_mapped;
} MaUserns;

gboolean ma_target_read_userns (MaTarget *target, uid_t uid, MaUserns *out, GError **error);
/* Whether the target is in the daemon's pid namespace. */
gboolean ma_target_shares_pid_ns (MaTarget *target, gboolean *out, GError **error);

/* What a proc file system shows (proc(5), hidepid=). */
typedef enum
{
  MA_HIDEPID_OFF = 0,
  MA_HIDEPID_NOACCESS = 1,   /* others' /proc/PID directories, not what is in them */
  MA_HIDEPID_INVISIBLE = 2,  /* not even those */
  MA_HIDEPID_PTRACEABLE = 4, /* only what the reader may ptrace */
} MaHidepid;

typedef struct
{
  gboolean mounted; /* FALSE: nothing, or something else, is at /proc */
  MaHidepid hidepid;
  gboolean has_gid;
  guint32 gid; /* gid=: its members see every process */
} MaProcMount;

/* The proc file system on top at /proc in the target's mount namespace,
 * from its mountinfo. */
gboolean ma_target_read_proc_mount (MaTarget *target, MaProcMount *out, GError **error);
/* The same of the daemon's own mount namespace. */
gboolean ma_read_own_proc_mount (MaProcMount *out, GError **error);
gboolean ma_target_read_memstat (MaTarget *target, MaMemStat *out, GError **error);
/* The target's cgroup v2 path as /proc/PID/cgroup gives it ("/a/b.scope");
 * NULL in @out_path when it is in no cgroup2 hierarchy. */
gboolean ma_target_read_cgroup (MaTarget *target, char **out_path, GError **error);

/* An observation of a target's memory accesses, for ranking by coldness.
 *
 * Starting one clears the accessed bits of the target's anonymous pages
 * (/proc/PID/clear_refs, "2"); a plan made later with it reads, per
 * mapping, how much was referenced since (smaps Referenced). A mapping
 * with nothing referenced is known idle for the observation's age. This
 * kernel has neither idle page tracking nor soft-dirty bits nor DAMON
 * virtual-address monitoring, so accesses are known per mapping, not per
 * page. Side effect: the kernel's own aging of those pages restarts from
 * "not referenced", as after a reclaim scan. memadvised(8) says more. */
typedef struct _MaObservation MaObservation;

MaObservation *ma_observation_start (MaTarget *target, GError **error);
void ma_observation_free (MaObservation *observation);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MaObservation, ma_observation_free)
/* TRUE if @observation was started on this very process (pid and start
 * time), not on an earlier process with the same pid. */
gboolean ma_observation_is_for (const MaObservation *observation, MaTarget *target);
gint64 ma_observation_get_age_usec (const MaObservation *observation);

/* What memadvised's own pageouts taught it about a process, page by page
 * (refault.c): the pages it paged out and has not seen back, and those
 * that came back (hot). Immutable once made; at most
 * MA_REFAULTS_MAX_SIZE bytes of memory, coarser (never claiming a page
 * paged out that was not) when a process's pattern needs more. Keyed by
 * pid and start time. memadvised(8), COLDNESS, says how it is used. */
typedef struct _MaRefaults MaRefaults;

#define MA_REFAULTS_MAX_SIZE (16 * 1024)

void ma_refaults_free (MaRefaults *refaults);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MaRefaults, ma_refaults_free)
gboolean ma_refaults_is_for (const MaRefaults *refaults, MaTarget *target);
gsize ma_refaults_get_size (const MaRefaults *refaults); /* memory it takes */
guint64 ma_refaults_get_out_bytes (const MaRefaults *refaults);
guint64 ma_refaults_get_hot_bytes (const MaRefaults *refaults);

/* Access sampling (sample.c), during the min-idle wait of a pageout: a
 * spread sample of a target's eligible resident pages is paged out at its
 * start, and the budget itself during it (the trials); at its end,
 * the pages that came back (or never left: the kernel keeps pages in use)
 * are hot, page by page, and the spread sample's pages mark their granule
 * of address space. memadvised(8), COLDNESS, says more. */
typedef struct _MaSample MaSample;

void ma_sample_free (MaSample *sample);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MaSample, ma_sample_free)
gboolean ma_sample_is_for (const MaSample *sample, MaTarget *target);
/* Bytes process_madvise accepted for the sample and its trials. */
guint64 ma_sample_get_bytes (const MaSample *sample);
gint64 ma_sample_get_age_usec (const MaSample *sample);

/* Where a plan's order came from, finest first. */
typedef enum
{
  MA_COLDNESS_NONE,       /* nothing known: largest mappings first */
  MA_COLDNESS_REFERENCED, /* per mapping: smaps Referenced since an observation */
  MA_COLDNESS_REFAULT,    /* per page: what came back after memadvised paged it out */
  MA_COLDNESS_SAMPLING,   /* per granule: sampled pages that came back, with refaults */
} MaColdnessSource;

const char *ma_coldness_source_to_string (MaColdnessSource source);

typedef enum
{
  MA_ORDER_COLDEST, /* least referenced share first, then largest, then lowest address */
  MA_ORDER_ADDRESS, /* by address */
} MaOrder;

typedef struct
{
  MaMode mode;
  guint percent;     /* 1..100 of resident eligible bytes */
  guint64 max_bytes; /* 0: no cap */
  MaOrder order;
  /* Threads that apply a pageout plan; 0: one per online CPU. Cold mode
   * always uses one: MADV_COLD only moves pages between LRU lists. */
  guint threads;
  /* Optional: accesses since then rank the mappings (with
   * MA_ORDER_COLDEST). Ignored unless it is for the same process. */
  const MaObservation *observation;
  /* Optional, with MA_ORDER_COLDEST, ignored unless for the same process:
   * page-granular knowledge from earlier pageouts and from a sample taken
   * by this call (its pages still out count toward the budget). */
  const MaRefaults *refaults;
  const MaSample *sample;
  /* Pages that came back are not planned for pageout within this long of
   * being found back; after it they are planned last. */
  gint64 hold_usec;
  /* A map of the target's pages with the plan (MaMap), drawing at most
   * map_mappings of its eligible mappings. */
  gboolean map;
  guint map_mappings;
} MaPlanRequest;

/* Pages out a spread sample of @target's eligible resident memory for a
 * plan of @request (whose budget bounds it: at most a quarter of it). The
 * sample is what ma_target_trial() and ma_target_plan() later read back.
 * NULL with @error when the target cannot be read or advised; a sample of
 * no pages when it has nothing eligible or too small a budget. */
MaSample *ma_target_sample (MaTarget *target, const MaPlanRequest *request, GError **error);

/* The state of a cell of a map: what most of its pages are, ties to the
 * higher value. A page is in the first of these that holds, highest
 * first: planned (in the plan's ranges, or paged out by this call's
 * sample; drawn again after the advice, ma_target_redraw_map(), only
 * those still resident: advised); came back (resident again after memadvised paged it out); hot
 * (resident and known used: came back or kept at an earlier pageout, or
 * sampled hot; without those, its mapping's share referenced since an
 * observation); cold (resident, not known used: cold or of unknown age);
 * swapped (in swap); absent (not present: never touched, or dropped). */
typedef enum
{
  MA_MAP_ABSENT,
  MA_MAP_SWAPPED,
  MA_MAP_COLD,
  MA_MAP_HOT,
  MA_MAP_CAME_BACK,
  MA_MAP_PLANNED,
} MaMapState;

/* Cells of a mapping of a map: one per page up to this many pages, then
 * this many, each an equal share of the mapping (in whole pages). */
#define MA_MAP_MAX_CELLS 256

typedef struct
{
  guint64 start;
  guint64 end;
  guint n_cells;
  guint8 cells[MA_MAP_MAX_CELLS]; /* MaMapState */
} MaMapMapping;

/* Mappings left out for one reason of eligibility. */
typedef struct
{
  const char *reason; /* as the engine names it: "file-backed", "shared", ... */
  guint count;
  guint64 bytes; /* of address space */
} MaMapIneligible;

/* A plan's view of its target, mapping by mapping (map.c), from what the
 * plan read: smaps or maps, pagemap (resident pages, and for the map
 * those in swap), the refault knowledge and the sample. */
typedef struct
{
  GArray *mappings;   /* MaMapMapping: eligible mappings by address, the first ones */
  guint n_eligible;   /* eligible mappings in all */
  GArray *ineligible; /* MaMapIneligible, one per reason that occurs */
} MaMap;

void ma_map_free (MaMap *map);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MaMap, ma_map_free)

/* One planned range: whole pages, every one resident when planned. */
typedef struct
{
  guint64 start;
  guint64 length;
  guint64 resident;
} MaRange;

typedef struct
{
  MaMode mode;
  guint64 eligible_bytes; /* resident eligible bytes */
  guint64 planned_bytes;  /* resident bytes the ranges cover */
  guint n_vmas;
  guint n_eligible_vmas;
  GArray *ranges;   /* MaRange, in the order they will be advised */
  MaMemStat before; /* with a sample: before the sample advised anything */
  gint64 plan_usec;
  gboolean swap_configured; /* FALSE: anonymous pageout frees nothing */
  guint threads;            /* threads ma_target_apply() will use */
  /* Planned bytes in mappings not referenced at all during the
   * observation (known idle for idle_usec), and the rest, of unknown age. */
  guint64 idle_bytes;
  gint64 idle_usec;
  guint64 unknown_age_bytes;
  gboolean read_smaps; /* FALSE: planned from maps and pagemap alone */
  MaColdnessSource coldness_source;
  /* Of the pages earlier pageouts left out (paged_out_bytes), those back
   * now; resident pages held back for coming back (not in the plan). */
  guint64 paged_out_bytes;
  guint64 refaulted_bytes;
  guint64 held_bytes;
  /* Of the pages the request's sample and its trials advised, those in
   * memory now (they came back, one swap-in each, or the kernel kept
   * them) and those still out (they count in eligible_bytes and
   * planned_bytes, not in ranges). */
  guint64 sampled_bytes;
  guint64 sampled_out_bytes;
  struct _MaPlanLearnt *learnt;  /* for ma_refaults_update() */
  MaMap *map;                    /* with the request's map */
  struct _MaMapBasis *map_basis; /* for ma_target_redraw_map() */
} MaPlan;

MaPlan *ma_target_plan (MaTarget *target, const MaPlanRequest *request, GError **error);
void ma_plan_free (MaPlan *plan);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MaPlan, ma_plan_free)

/* Called in the thread that called ma_target_apply(), after each batch
 * that thread advised and, with several threads, once more at the end. */
typedef void (*MaProgressFunc) (guint64 done_bytes, guint64 planned_bytes, gpointer user_data);

/* A range the kernel refuses at apply time (planned, then locked, unmapped
 * or turned hugetlb) is tried again in halves, at most this many levels
 * deep: what is still refused then is skipped, at most 1/16 of the range
 * more than the kernel refused. */
#define MA_APPLY_SPLIT_DEPTH 4
/* The process_madvise calls one apply may make because of refusals (the
 * halves, and the rest of a batch after a refused range), over all its
 * threads. Past it, what a batch has left after a refusal is skipped, so an
 * apply makes at most this many calls more than it has batches. */
#define MA_APPLY_MAX_REFUSAL_CALLS 1024

typedef struct
{
  guint64 advised_bytes; /* what process_madvise accepted */
  guint64 skipped_bytes; /* planned but refused by the kernel (VMA changed) */
  guint n_calls;
  guint n_skipped_ranges;
  MaMemStat after;
  gint64 apply_usec;
} MaApplyResult;

/* Applies @plan with plan->threads threads (the calling one among them)
 * taking batches in order from one queue. Stops between
 * batches when @cancellable is cancelled
 * (MA_ERROR_CANCELLED, with @out filled with what was done). Fails with
 * MA_ERROR_EXITED if the target is gone before or during the work. */
gboolean ma_target_apply (MaTarget *target, const MaPlan *plan, GCancellable *cancellable,
                          MaProgressFunc progress, gpointer progress_data, MaApplyResult *out,
                          GError **error);

/* After ma_target_apply() of @plan made with a map: draws the same
 * mappings again from a fresh read of pagemap (memadvised(8), Maps), so
 * that the map shows the target after the advice: of the pages the call
 * advised (the plan's, and its sample's and trials' still out), those
 * still resident are MA_MAP_PLANNED, those paged out and in swap
 * MA_MAP_SWAPPED. Replaces plan->map; nothing without one. FALSE with
 * @error when pagemap cannot be read, and plan->map is dropped: the
 * plan's map no longer describes the target. */
gboolean ma_target_redraw_map (MaTarget *target, MaPlan *plan, GError **error);

/* A min-idle wait of @wait_usec with a sample holds MA_TRIALS trials: the
 * first is due halfway, each next one halfway through what is left, the
 * plan at the end. Each tries what the ones before could not tell. */
#define MA_TRIALS 2
gint64 ma_trial_due_usec (guint trial, gint64 wait_usec);

/* The trial, for a pageout (whatever @request's mode): plans @request's
 * budget with @sample (of @target) as it reads back now, the request's
 * refaults and holds, and pages it out with plan->threads threads, no
 * progress. Which pages it advised and which the kernel kept is added to
 * @sample, for the plan at the end of the wait: the trial's pages still
 * out then are part of that plan, those back are hot. *@out_plan is the
 * trial's plan once made (to be freed), applied as far as @out says, also
 * when the advice stopped: cancelled between batches (MA_ERROR_CANCELLED;
 * @sample then knows the pages that left) or the target gone. */
gboolean ma_target_trial (MaTarget *target, const MaPlanRequest *request, MaSample *sample,
                          GCancellable *cancellable, MaPlan **out_plan, MaApplyResult *out,
                          GError **error);

/* What memadvised knows of @target after @plan (a pageout, applied as far
 * as @applied says, or a plan that was not applied: then only what it
 * learnt by reading) and @previous (optional, for the same process): reads
 * which planned pages left. @plan may be NULL when only @sample was taken. */
MaRefaults *ma_refaults_update (MaTarget *target, const MaPlan *plan, gboolean applied,
                                const MaSample *sample, const MaRefaults *previous, GError **error);

G_END_DECLS
