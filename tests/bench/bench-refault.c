/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * bench-refault (issue 5): does a pageout take cold memory, or memory the
 * process is about to use again?
 *
 * Two identical targets, each holding 256 MiB of cold, 64 MiB of hot and
 * 64 MiB of mixed anonymous memory, pseudo-random: with --one-mapping all
 * in ONE mapping (hot, mixed, cold in that order, as the kernel merges
 * anonymous mappings placed back to back: issue 12), otherwise in
 * separate mappings (cold in --cold-chunks of them). A thread in each
 * target keeps writing every page of "hot" and every 4th page of "mixed"
 * (ma-test-target's `hot` command). Each target is then paged out at 50%:
 *
 *   memadvise  the engine as memadvised runs it for `reclaim -m pageout
 *              --min-idle 8` under its shipped unit (no clear_refs):
 *              ma_target_sample, --observe-ms (8 s) while the threads
 *              run with ma_target_trial as memadvised times them
 *              (ma_trial_due_usec), ma_target_plan (order coldest, with
 *              the sample), ma_target_apply (pageout).
 *   original   the original memadvise tool's selection, re-implemented
 *              here: eligible regions of /proc/PID/maps (anonymous,
 *              private, rw, not x, not [stack]/[vvar]/[vdso]/[vsyscall]),
 *              largest first, each taken whole until PERCENT of the total
 *              RSS is passed, advised with one process_madvise(MADV_PAGEOUT),
 *              after the same wait.
 *
 * For both it prints: bytes paged out by the call (advised, swap growth,
 * pages the target's pagemap shows swapped right after, per region), and
 * refaults in two windows, each as major faults of the target
 * (/proc/PID/stat field 12) and the system's pswpin:
 *
 *   during the wait   what the sample and the trial cost: hot pages they
 *                     paged out and the target faulted back before the
 *                     plan (memadvise only; the engine's own count, the
 *                     plan's sampled_bytes, beside it);
 *   after the call    the fraction of what the call left paged out (still
 *                     swapped right after, plus what faulted back while
 *                     its advice ran) faulted back by 5 s later (issue
 *                     12's refault figure),
 *
 * and the hot threads' touch rates before (the wait up to the first trial)
 * and after (from the advice's start to the end of the 5 s).
 *
 * Needs swap (pageout writes ~550 MiB): run under tests/with-swap --size 2G.
 *
 *   bench-refault [--one-mapping] [--cold-chunks N] [--percent P]
 *                 [--observe-ms MS] [--after-ms MS] [--pause-ms MS]
 *
 * --cold-chunks N splits the cold 256 MiB into N mappings (default 1, as
 * in the issue); --pause-ms is the hot threads' pause between passes
 * (default 5: every hot page is written ~200 times a second at little CPU).
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "bench-common.h"
#include "ma-engine.h"
#include "ma-parse.h"
#include "ma-target-client.h"

#define MIB (G_GUINT64_CONSTANT (1024) * 1024)

static gboolean one_mapping = FALSE;
static guint cold_chunks = 1;
static guint percent = 50;
static guint observe_ms = 8000;
static guint after_ms = 5000;
static guint pause_ms = 5;

typedef struct
{
  const char *method;
  guint64 advised;       /* bytes process_madvise accepted for the call's result */
  guint64 swap_growth;   /* VmSwap right after the call - before the wait */
  guint64 swapped_after; /* pages of the regions swapped right after */
  guint64 swapped_later; /* ... and after_ms later */
  guint64 swapped_cold, swapped_hot, swapped_mixed;
  guint64 majflt_wait, majflt_during, majflt_after; /* wait, advice, after_ms */
  guint64 pswpin_wait, pswpin_during, pswpin_after; /* whole system */
  double rate_before[2], rate_after[2];             /* hot, mixed: touches a second */
  double apply_ms;
  guint64 budget;       /* bytes the selection aimed at */
  guint64 probed;       /* bytes the sample and the trial advised (memadvise) */
  guint64 sampled_back; /* of them, back by the plan: the plan's sampled_bytes */
} Outcome;

/* /proc/PID/stat and status, read with the engine's parsers. */
static guint64
read_majflt (pid_t pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/stat", (int) pid);
  g_autofree char *text = NULL;
  g_autoptr (GError) error = NULL;
  gsize len;
  MaStat stat;

  g_assert_true (g_file_get_contents (path, &text, &len, NULL));
  g_assert_true (ma_stat_parse (text, len, &stat, &error));
  g_assert_no_error (error);
  return stat.maj_flt;
}

static MaMemStat
read_memstat (pid_t pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/status", (int) pid);
  g_autofree char *text = NULL;
  g_autoptr (GError) error = NULL;
  gsize len;
  MaStatus status;

  g_assert_true (g_file_get_contents (path, &text, &len, NULL));
  g_assert_true (ma_status_parse (text, len, &status, &error));
  g_assert_no_error (error);
  return status.mem;
}

static guint64
read_vmstat (const char *key)
{
  g_autofree char *text = NULL;
  g_autofree char *needle = g_strdup_printf ("\n%s ", key);
  const char *p;

  g_assert_true (g_file_get_contents ("/proc/vmstat", &text, NULL, NULL));
  p = strstr (text, needle);
  return p ? g_ascii_strtoull (p + strlen (needle), NULL, 10) : 0;
}

/* In one mapping, the parts: hot, mixed, cold. */
static const struct
{
  const char *name;
  guint64 offset, length;
} parts[] = {
  { "hot", 0, 64 * MIB },
  { "mixed", 64 * MIB, 64 * MIB },
  { "cold0", 128 * MIB, 256 * MIB },
};

static guint64
swapped_pages (TestTarget *t, const char *name)
{
  guint64 pages, present, swapped;

  if (one_mapping)
    for (guint i = 0; i < G_N_ELEMENTS (parts); i++)
      if (g_str_equal (parts[i].name, name))
        {
          g_autofree char *reply
              = test_target_command (t, "residency all %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT,
                                     parts[i].offset, parts[i].length);

          g_assert_cmpint (sscanf (reply,
                                   "%" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT,
                                   &pages, &present, &swapped),
                           ==, 3);
          return swapped;
        }
  test_target_residency (t, name, &pages, &present, &swapped);
  return swapped;
}

static guint64
swapped_cold (TestTarget *t)
{
  guint64 sum = 0;

  for (guint i = 0; i < cold_chunks; i++)
    {
      g_autofree char *name = g_strdup_printf ("cold%u", i);
      sum += swapped_pages (t, name);
    }
  return sum;
}

typedef struct
{
  guint64 touches;
  gint64 nsec;
} Rate;

static Rate
hotrate (TestTarget *t, const char *name)
{
  /* In one mapping both threads are the region's: their touches together. */
  g_autofree char *reply = test_target_command (t, "hotrate %s", one_mapping ? "all" : name);
  Rate rate = { 0 };
  guint64 passes;

  g_assert_cmpint (sscanf (reply, "%" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " %" G_GINT64_FORMAT,
                           &rate.touches, &passes, &rate.nsec),
                   ==, 3);
  return rate;
}

static double
rate_between (Rate a, Rate b)
{
  return b.nsec > a.nsec ? (double) (b.touches - a.touches) * 1e9 / (b.nsec - a.nsec) : 0;
}

static TestTarget *
spawn_scenario (void)
{
  TestTarget *t = test_target_spawn ();
  guint64 chunk = 256 * MIB / cold_chunks;

  if (one_mapping)
    {
      test_target_map (t, "all", "anon", 384 * MIB, FALSE, NULL);
      g_free (test_target_command (t, "hot all 1 %u 0 %" G_GUINT64_FORMAT, pause_ms, 64 * MIB));
      g_free (test_target_command (t, "hot all 4 %u %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT,
                                   pause_ms, 64 * MIB, 64 * MIB));
      return t;
    }

  for (guint i = 0; i < cold_chunks; i++)
    {
      g_autofree char *name = g_strdup_printf ("cold%u", i);
      test_target_map (t, name, "anon", chunk, FALSE, NULL);
    }
  test_target_map (t, "hot", "anon", 64 * MIB, FALSE, NULL);
  test_target_map (t, "mixed", "anon", 64 * MIB, FALSE, NULL);
  g_free (test_target_command (t, "hot hot 1 %u", pause_ms));
  g_free (test_target_command (t, "hot mixed 4 %u", pause_ms));
  return t;
}

/* The original tool's selection. */
typedef struct
{
  guint64 start, length;
} Region;

static int
compare_length_desc (gconstpointer a, gconstpointer b)
{
  const Region *x = a, *y = b;

  return x->length < y->length ? 1 : x->length > y->length ? -1 : 0;
}

static GArray *
original_select (pid_t pid, guint64 *out_budget)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/maps", (int) pid);
  g_autofree char *text = NULL;
  g_auto (GStrv) lines = NULL;
  g_autoptr (GArray) eligible = g_array_new (FALSE, FALSE, sizeof (Region));
  GArray *chosen = g_array_new (FALSE, FALSE, sizeof (Region));
  guint64 budget, sum = 0;

  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] && *lines[i]; i++)
    {
      unsigned long start, end, offset, inode;
      char perms[5], dev[16];
      int consumed = 0;
      const char *name;
      Region region;

      g_assert_cmpint (sscanf (lines[i], "%lx-%lx %4s %lx %15s %lu %n", &start, &end, perms,
                               &offset, dev, &inode, &consumed),
                       >=, 6);
      name = consumed ? lines[i] + consumed : "";
      if (perms[0] != 'r' || perms[1] != 'w' || perms[2] == 'x' || perms[3] != 'p')
        continue;
      if (inode != 0 || (*name && !g_str_equal (name, "[heap]")))
        continue;
      region = (Region){ start, end - start };
      g_array_append_val (eligible, region);
    }
  g_array_sort (eligible, compare_length_desc);

  budget = read_memstat (pid).rss * percent / 100;
  for (guint i = 0; i < eligible->len && sum < budget; i++)
    {
      Region *region = &g_array_index (eligible, Region, i);
      g_array_append_val (chosen, *region);
      sum += region->length;
    }
  *out_budget = budget;
  return chosen;
}

static guint64
original_apply (pid_t pid, GArray *regions)
{
  g_autofree struct iovec *iov = g_new (struct iovec, regions->len);
  int pidfd = syscall (SYS_pidfd_open, pid, 0);
  ssize_t done;

  g_assert_cmpint (pidfd, >=, 0);
  g_assert_cmpuint (regions->len, <=, IOV_MAX);
  for (guint i = 0; i < regions->len; i++)
    {
      Region *region = &g_array_index (regions, Region, i);
      iov[i] = (struct iovec){ (void *) (guintptr) region->start, region->length };
    }
  done = syscall (SYS_process_madvise, pidfd, iov, (size_t) regions->len, MADV_PAGEOUT, 0);
  if (done < 0)
    g_error ("process_madvise: %s", g_strerror (errno));
  close (pidfd);
  return done;
}

/* The engine's part of the wait, as memadvised does it: the sample, then
 * MA_TRIALS trials when ma_trial_due_usec() says. The original tool just
 * waits as long. The hot threads' rate before is taken over the time to
 * the first trial. */
static MaSample *
wait_engine (MaTarget *target, TestTarget *t, Outcome *out)
{
  MaPlanRequest request = {
    .mode = MA_MODE_PAGEOUT,
    .percent = percent,
    .order = MA_ORDER_COLDEST,
    .hold_usec = 600 * G_USEC_PER_SEC,
  };
  gint64 wait_usec = (gint64) observe_ms * 1000, start = g_get_monotonic_time ();
  g_autoptr (GError) error = NULL;
  MaSample *sample = NULL;
  Rate hot0, mixed0, hot1, mixed1;

  if (target != NULL)
    {
      sample = ma_target_sample (target, &request, &error);
      g_assert_no_error (error);
    }
  hot0 = hotrate (t, "hot");
  mixed0 = hotrate (t, "mixed");
  for (guint i = 0; i < MA_TRIALS; i++)
    {
      g_autoptr (MaPlan) trial = NULL;
      MaApplyResult result;
      gint64 due = start + ma_trial_due_usec (i, wait_usec);

      g_usleep (MAX (due - g_get_monotonic_time (), 0));
      if (i == 0)
        {
          hot1 = hotrate (t, "hot");
          mixed1 = hotrate (t, "mixed");
          out->rate_before[0] = rate_between (hot0, hot1);
          out->rate_before[1] = rate_between (mixed0, mixed1);
        }
      if (target == NULL)
        continue;
      g_assert_true (ma_target_trial (target, &request, sample, NULL, &trial, &result, &error));
      g_assert_no_error (error);
      g_printerr ("memadvise trial %u: planned %.1f MiB (%.2f MiB of the sample and trials "
                  "still out, %.2f MiB back), advised %.1f MiB\n",
                  i + 1, (double) trial->planned_bytes / MIB,
                  (double) trial->sampled_out_bytes / MIB, (double) trial->sampled_bytes / MIB,
                  (double) result.advised_bytes / MIB);
    }
  g_usleep (MAX (start + wait_usec - g_get_monotonic_time (), 0));
  return sample;
}

static void
run_method (TestTarget *t, gboolean engine, Outcome *out)
{
  pid_t pid = test_target_get_pid (t);
  g_autoptr (GError) error = NULL;
  g_autoptr (MaTarget) target = NULL;
  g_autoptr (MaSample) sample = NULL;
  g_autoptr (MaPlan) plan = NULL;
  g_autoptr (GArray) regions = NULL;
  Rate hot1, mixed1, hot2, mixed2;
  guint64 majflt0, majflt_w, majflt1, majflt2, pswpin0, pswpin_w, pswpin1, pswpin2, swap0;
  guint64 cold0, hotp0, mixedp0;
  gint64 start;

  out->method = engine ? "memadvise" : "original";
  /* Counted from before the wait: what the call pages out then is part of it. */
  cold0 = swapped_cold (t);
  hotp0 = swapped_pages (t, "hot");
  mixedp0 = swapped_pages (t, "mixed");
  swap0 = read_memstat (pid).swap;
  majflt0 = read_majflt (pid);
  pswpin0 = read_vmstat ("pswpin");
  if (engine)
    {
      target = ma_target_open (pid, &error);
      g_assert_no_error (error);
    }
  sample = wait_engine (target, t, out);
  majflt_w = read_majflt (pid);
  pswpin_w = read_vmstat ("pswpin");

  /* The rate after spans the advice and the window after it. */
  hot1 = hotrate (t, "hot");
  mixed1 = hotrate (t, "mixed");
  start = bench_now_ns ();
  if (engine)
    {
      MaPlanRequest request = {
        .mode = MA_MODE_PAGEOUT,
        .percent = percent,
        .order = MA_ORDER_COLDEST,
        .sample = sample,
        .hold_usec = 600 * G_USEC_PER_SEC,
      };
      MaApplyResult result = { 0 };

      plan = ma_target_plan (target, &request, &error);
      g_assert_no_error (error);
      ma_target_apply (target, plan, NULL, NULL, NULL, &result, &error);
      g_assert_no_error (error);
      out->advised = result.advised_bytes + plan->sampled_out_bytes;
      out->budget = plan->planned_bytes;
      out->probed = ma_sample_get_bytes (sample);
      out->sampled_back = plan->sampled_bytes;
      g_printerr ("memadvise plan (%s): eligible %.1f MiB, planned %.1f MiB (of it %.2f MiB of "
                  "the sample and trial still out), %.2f MiB of them back, %u ranges\n",
                  ma_coldness_source_to_string (plan->coldness_source),
                  (double) plan->eligible_bytes / MIB, (double) plan->planned_bytes / MIB,
                  (double) plan->sampled_out_bytes / MIB, (double) plan->sampled_bytes / MIB,
                  plan->ranges->len);
    }
  else
    {
      regions = original_select (pid, &out->budget);
      out->advised = original_apply (pid, regions);
      g_printerr ("original selection: budget %" G_GUINT64_FORMAT
                  " MiB, %u regions, %" G_GUINT64_FORMAT " MiB\n",
                  out->budget / MIB, regions->len, out->advised / MIB);
    }
  out->apply_ms = (bench_now_ns () - start) / 1e6;
  majflt1 = read_majflt (pid);
  pswpin1 = read_vmstat ("pswpin");
  out->swap_growth = read_memstat (pid).swap - swap0;
  out->swapped_cold = swapped_cold (t) - cold0;
  out->swapped_hot = swapped_pages (t, "hot") - hotp0;
  out->swapped_mixed = swapped_pages (t, "mixed") - mixedp0;
  out->swapped_after = out->swapped_cold + out->swapped_hot + out->swapped_mixed;

  g_usleep (after_ms * 1000);
  hot2 = hotrate (t, "hot");
  mixed2 = hotrate (t, "mixed");
  out->rate_after[0] = rate_between (hot1, hot2);
  out->rate_after[1] = rate_between (mixed1, mixed2);
  majflt2 = read_majflt (pid);
  pswpin2 = read_vmstat ("pswpin");
  out->swapped_later = swapped_cold (t) - cold0 + swapped_pages (t, "hot") - hotp0
                       + swapped_pages (t, "mixed") - mixedp0;
  out->majflt_wait = majflt_w - majflt0;
  out->majflt_during = majflt1 - majflt_w;
  out->majflt_after = majflt2 - majflt1;
  out->pswpin_wait = pswpin_w - pswpin0;
  out->pswpin_during = pswpin1 - pswpin_w;
  out->pswpin_after = pswpin2 - pswpin1;
}

/* Pages the call left written to swap: those still swapped right after it
 * and those already faulted back while its advice ran (hot pages come
 * back within milliseconds, before the call returns). The target takes no
 * other major faults: its code and libraries are resident long before. */
static guint64
paged_out_pages (const Outcome *o)
{
  return o->swapped_after + o->majflt_during;
}

static guint64
faulted_back_pages (const Outcome *o)
{
  return o->majflt_during + (o->swapped_after - MIN (o->swapped_later, o->swapped_after));
}

static double
faulted_back_fraction (const Outcome *o)
{
  return paged_out_pages (o) ? (double) faulted_back_pages (o) / paged_out_pages (o) : 0;
}

static void
print_outcome (const Outcome *o)
{
  gsize page = ma_page_size ();

  g_printerr ("== %s (pageout %u%%)\n", o->method, percent);
  g_printerr ("  during the %.0f s wait: %" G_GUINT64_FORMAT " major faults, %" G_GUINT64_FORMAT
              " pswpin (system); sample and trial advised %.1f MiB, %.2f MiB of it back by the "
              "plan (engine's count)\n",
              observe_ms / 1e3, o->majflt_wait, o->pswpin_wait, (double) o->probed / MIB,
              (double) o->sampled_back / MIB);
  g_printerr ("  paged out by the call: advised %.1f MiB, swap growth %.1f MiB, swapped pages "
              "%.1f MiB (cold %.1f, hot %.1f, mixed %.1f); the advice took %.0f ms\n",
              (double) o->advised / MIB, (double) o->swap_growth / MIB,
              (double) o->swapped_after * page / MIB, (double) o->swapped_cold * page / MIB,
              (double) o->swapped_hot * page / MIB, (double) o->swapped_mixed * page / MIB,
              o->apply_ms);
  g_printerr ("  refaults during the advice: %" G_GUINT64_FORMAT " major faults, %" G_GUINT64_FORMAT
              " pswpin (system)\n",
              o->majflt_during, o->pswpin_during);
  g_printerr ("  refaults in the %.0f s after: %" G_GUINT64_FORMAT
              " major faults, %" G_GUINT64_FORMAT
              " pswpin (system), swapped pages %" G_GUINT64_FORMAT " -> %" G_GUINT64_FORMAT "\n",
              after_ms / 1e3, o->majflt_after, o->pswpin_after, o->swapped_after, o->swapped_later);
  g_printerr ("  paged out %.1f MiB (still swapped + faulted back during the advice), faulted "
              "back within %.0f s: %.1f MiB, %.2f%%\n",
              (double) paged_out_pages (o) * page / MIB, after_ms / 1e3,
              (double) faulted_back_pages (o) * page / MIB, 100 * faulted_back_fraction (o));
  g_printerr (
      "  touch rate (before: the wait to the first trial; after: from the advice's start to "
      "the window's end) hot: %.3g/s before, %.3g/s after; mixed: %.3g/s before, %.3g/s "
      "after\n",
      o->rate_before[0], o->rate_after[0], o->rate_before[1], o->rate_after[1]);
}

int
main (int argc, char **argv)
{
  GOptionEntry entries[] = {
    { "one-mapping", 0, 0, G_OPTION_ARG_NONE, &one_mapping, "Hot, mixed and cold in one mapping",
      NULL },
    { "cold-chunks", 0, 0, G_OPTION_ARG_INT, &cold_chunks, "Split cold into N mappings", "N" },
    { "percent", 0, 0, G_OPTION_ARG_INT, &percent, "Percent to page out", "P" },
    { "observe-ms", 0, 0, G_OPTION_ARG_INT, &observe_ms, "Observation before planning", "MS" },
    { "after-ms", 0, 0, G_OPTION_ARG_INT, &after_ms, "Window for refaults after", "MS" },
    { "pause-ms", 0, 0, G_OPTION_ARG_INT, &pause_ms, "Hot threads' pause between passes", "MS" },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("- refaults after a 50% pageout");
  g_autoptr (GError) error = NULL;
  g_autoptr (TestTarget) a = NULL;
  g_autoptr (TestTarget) b = NULL;
  g_autofree char *suffix = NULL;
  g_autofree char *figure = NULL;
  Outcome engine = { 0 }, original = { 0 };
  guint64 total = 0, used = 0;
  gsize page = ma_page_size ();

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("%s\n", error->message);
      return 2;
    }
  if (cold_chunks < 1 || cold_chunks > 256 || percent < 1 || percent > 100)
    {
      g_printerr ("--cold-chunks 1-256, --percent 1-100\n");
      return 2;
    }
  g_assert_true (ma_probe_swap (&total, &used, NULL));
  if (total - used < 900 * MIB)
    {
      g_printerr (
          "bench-refault needs 900 MiB of free swap (run under tests/with-swap --size 2G)\n");
      return 1;
    }

  a = spawn_scenario ();
  b = spawn_scenario ();
  g_assert_cmpuint (test_target_checksum (a, one_mapping ? "all" : "cold0"), ==,
                    test_target_checksum (b, one_mapping ? "all" : "cold0"));
  g_usleep (G_USEC_PER_SEC);

  run_method (a, TRUE, &engine);
  run_method (b, FALSE, &original);
  print_outcome (&engine);
  print_outcome (&original);

  suffix = one_mapping       ? g_strdup (", one mapping")
           : cold_chunks > 1 ? g_strdup_printf (", %u separate maps", cold_chunks + 2)
                             : g_strdup (", 3 separate maps");
  figure = g_strdup_printf ("refault: %% paged out faulted back in %us%s", after_ms / 1000, suffix);
  bench_report_value (figure, 100 * faulted_back_fraction (&engine), "%",
                      "original tool's selection", 100 * faulted_back_fraction (&original));
  g_free (figure);
  figure = g_strdup_printf ("refault: faulted back during the wait (sampling cost)%s", suffix);
  bench_report_value (figure, (double) engine.majflt_wait * page / MIB, "MiB",
                      "memadvise paged out", (double) paged_out_pages (&engine) * page / MIB);
  g_free (figure);
  figure = g_strdup_printf ("refault: paged out%s", suffix);
  bench_report_value (figure, (double) paged_out_pages (&engine) * page / MIB, "MiB",
                      "original tool's selection",
                      (double) paged_out_pages (&original) * page / MIB);
  g_free (figure);
  figure = g_strdup_printf ("refault: major faults, wait + advice + %us after%s", after_ms / 1000,
                            suffix);
  bench_report_value (figure, engine.majflt_wait + engine.majflt_during + engine.majflt_after,
                      "faults", "original tool's selection",
                      original.majflt_wait + original.majflt_during + original.majflt_after);
  g_free (figure);
  figure = g_strdup_printf ("refault: advised during the wait (sample + trial)%s", suffix);
  bench_report_value (figure, (double) engine.probed / MIB, "MiB", "memadvise paged out",
                      (double) paged_out_pages (&engine) * page / MIB);
  g_free (figure);
  figure = g_strdup_printf ("refault: hot touch rate after/before%s", suffix);
  bench_report_value (figure, engine.rate_after[0] / engine.rate_before[0], "x",
                      "original tool's selection",
                      original.rate_after[0] / original.rate_before[0]);
  return 0;
}
