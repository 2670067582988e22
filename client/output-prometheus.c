/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * status --prometheus: the daemon's statistics in the Prometheus text
 * exposition format, and the file node-exporter's textfile collector
 * reads, replaced atomically. Names, types and labels are the contract of
 * memadvisectl(1), METRICS: they are chosen here for each GetStatistics
 * key, never derived from a key, so a key a newer daemon adds is left out
 * until it is named here (tests/unit/test-prometheus.c fails until then).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "memadvisectl.h"

typedef struct
{
  const char *key;   /* a GetStatistics key, t */
  const char *label; /* the value of the family's label, or NULL */
} Sample;

typedef struct
{
  const char *name;
  const char *type; /* "counter" or "gauge" */
  const char *help;
  const char *label_name; /* NULL: no label */
  Sample samples[3];
  /* Or an a{st} key: one sample per entry, the known label values
   * always (0 when absent), so their series exist from the start. */
  const char *table_key;
  const char *const *known;
  gboolean usec; /* the key counts microseconds; the metric seconds */
} Family;

/* The daemon's fixed sets: refusals (memadvised(8), STATISTICS) and the
 * errors of failed targets (DESIGN: results' "error"). */
static const char *const refusal_reasons[]
    = { "access-denied", "busy", "invalid-args", "not-supported", NULL };
static const char *const failure_reasons[] = {
  "no-such-process", "exited",        "not-authorized", "protected",
  "kernel-thread",   "not-supported", "failed",         NULL,
};

static const Family families[] = {
  { "memadvise_start_time_seconds",
    "gauge",
    "When memadvised started, in seconds since the epoch.",
    NULL,
    { { "started-at", NULL } } },
  { "memadvise_calls_total",
    "counter",
    "Plan and Reclaim calls memadvised took on (the cgroup ones too), by method.",
    "method",
    { { "calls-plan", "plan" }, { "calls-reclaim", "reclaim" } } },
  { "memadvise_refused_calls_total",
    "counter",
    "Calls refused as a whole, by reason.",
    "reason",
    { { NULL } },
    "refused-calls",
    refusal_reasons },
  { "memadvise_dropped_calls_total",
    "counter",
    "Calls dropped because the caller left the bus while they waited their turn or for polkit.",
    NULL,
    { { "cancelled-calls", NULL } } },
  { "memadvise_timed_out_calls_total",
    "counter",
    "Calls whose work ran out of time (JobTimeout).",
    NULL,
    { { "timed-out-calls", NULL } } },
  { "memadvise_targets_total",
    "counter",
    "Target processes of Plan and Reclaim calls, by status (skipped: nothing eligible).",
    "status",
    { { "targets-ok", "ok" }, { "targets-skipped", "skipped" }, { "targets-failed", "failed" } } },
  { "memadvise_target_failures_total",
    "counter",
    "Failed target processes, by reason.",
    "reason",
    { { NULL } },
    "failures",
    failure_reasons },
  { "memadvise_advised_bytes_total",
    "counter",
    "Bytes process_madvise(2) accepted, by mode.",
    "mode",
    { { "advised-bytes-cold", "cold" }, { "advised-bytes-pageout", "pageout" } } },
  { "memadvise_reclaimed_bytes_total",
    "counter",
    "Drop of the resident memory (RSS) of Reclaim targets, before minus after.",
    NULL,
    { { "reclaimed-bytes", NULL } } },
  { "memadvise_refaulted_bytes_total",
    "counter",
    "Bytes of Reclaim targets that came back into memory after earlier pageouts.",
    NULL,
    { { "refaulted-bytes", NULL } } },
  { "memadvise_sampled_bytes_total",
    "counter",
    "Bytes paged out as samples to find idle memory (Reclaim with min-idle).",
    NULL,
    { { "sampled-bytes", NULL } } },
  { "memadvise_work_seconds_total",
    "counter",
    "Time memadvised spent planning and advising, in seconds.",
    NULL,
    { { "time-spent-usec", NULL } },
    NULL,
    NULL,
    TRUE },
  { "memadvise_tracked_processes",
    "gauge",
    "Processes whose pageouts memadvised remembers now.",
    NULL,
    { { "tracked-processes", NULL } } },
  { "memadvise_tracked_state_bytes",
    "gauge",
    "Memory memadvised holds now to remember those pageouts.",
    NULL,
    { { "tracked-state-bytes", NULL } } },
};

/* Keys left out on purpose: "targets" is the sum of memadvise_targets_total. */
static const char *const summed_keys[] = { "targets" };

/* Reasons come from the daemon's fixed sets; any other it sends is shown
 * if it looks like one, and at most this many, so that a series per
 * value stays a short list. */
#define MAX_EXTRA_REASONS 16
#define MAX_REASON_LENGTH 64

gboolean
ctl_prometheus_knows_key (const char *key)
{
  for (gsize f = 0; f < G_N_ELEMENTS (families); f++)
    {
      if (g_strcmp0 (families[f].table_key, key) == 0)
        return TRUE;
      for (gsize s = 0; s < G_N_ELEMENTS (families[f].samples); s++)
        if (g_strcmp0 (families[f].samples[s].key, key) == 0)
          return TRUE;
    }
  for (gsize i = 0; i < G_N_ELEMENTS (summed_keys); i++)
    if (g_str_equal (summed_keys[i], key))
      return TRUE;
  return FALSE;
}

static gboolean
value_to_u64 (GVariant *value, guint64 *out)
{
  if (value == NULL)
    return FALSE;
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_UINT64))
    *out = g_variant_get_uint64 (value);
  else if (g_variant_is_of_type (value, G_VARIANT_TYPE_UINT32))
    *out = g_variant_get_uint32 (value);
  else
    return FALSE;
  return TRUE;
}

static gboolean
is_reason (const char *text)
{
  gsize length = strlen (text);

  if (length == 0 || length > MAX_REASON_LENGTH || !g_ascii_isalnum (text[0]))
    return FALSE;
  for (gsize i = 0; i < length; i++)
    if (!(g_ascii_islower (text[i]) || g_ascii_isdigit (text[i]) || text[i] == '-'))
      return FALSE;
  return TRUE;
}

static void
append_value (GString *out, guint64 value, gboolean usec)
{
  /* Seconds from microseconds in integer arithmetic: exact, and with a
   * decimal point whatever the locale. */
  if (usec)
    g_string_append_printf (out, "%" G_GUINT64_FORMAT ".%06" G_GUINT64_FORMAT,
                            value / G_USEC_PER_SEC, value % G_USEC_PER_SEC);
  else
    g_string_append_printf (out, "%" G_GUINT64_FORMAT, value);
}

static void
append_sample (GString *out, const Family *family, const char *label, guint64 value)
{
  g_string_append (out, family->name);
  if (label != NULL)
    g_string_append_printf (out, "{%s=\"%s\"}", family->label_name, label);
  g_string_append_c (out, ' ');
  append_value (out, value, family->usec);
  g_string_append_c (out, '\n');
}

static void
append_header (GString *out, const Family *family)
{
  g_string_append_printf (out, "# HELP %s %s\n# TYPE %s %s\n", family->name, family->help,
                          family->name, family->type);
}

static int
compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

static void
append_table (GString *out, const Family *family, GVariant *table)
{
  const char *const *known = family->known;
  g_autoptr (GPtrArray) extra = g_ptr_array_new ();
  GVariantIter iter;
  const char *reason;
  GVariant *item;

  append_header (out, family);
  for (gsize i = 0; known[i] != NULL; i++)
    {
      guint64 value = 0;
      g_autoptr (GVariant) found = g_variant_lookup_value (table, known[i], NULL);

      value_to_u64 (found, &value);
      append_sample (out, family, known[i], value);
    }

  g_variant_iter_init (&iter, table);
  while (g_variant_iter_next (&iter, "{&s@*}", &reason, &item))
    {
      if (!g_strv_contains (known, reason) && is_reason (reason))
        g_ptr_array_add (extra, (gpointer) reason);
      g_variant_unref (item);
    }
  g_ptr_array_sort (extra, compare_strings);
  if (extra->len > MAX_EXTRA_REASONS)
    g_ptr_array_set_size (extra, MAX_EXTRA_REASONS);
  for (guint i = 0; i < extra->len; i++)
    {
      guint64 value = 0;
      g_autoptr (GVariant) found = g_variant_lookup_value (table, extra->pdata[i], NULL);

      if (value_to_u64 (found, &value))
        append_sample (out, family, extra->pdata[i], value);
    }
}

static void
append_family (GString *out, const Family *family, GVariant *statistics)
{
  gboolean header = FALSE;

  if (family->table_key != NULL)
    {
      g_autoptr (GVariant) table
          = g_variant_lookup_value (statistics, family->table_key, G_VARIANT_TYPE ("a{s*}"));

      if (table != NULL)
        append_table (out, family, table);
      return;
    }

  for (gsize s = 0; s < G_N_ELEMENTS (family->samples) && family->samples[s].key != NULL; s++)
    {
      g_autoptr (GVariant) found
          = g_variant_lookup_value (statistics, family->samples[s].key, NULL);
      guint64 value;

      /* A key an older daemon lacks: no sample, and no family without one. */
      if (!value_to_u64 (found, &value))
        continue;
      if (!header)
        append_header (out, family);
      header = TRUE;
      append_sample (out, family, family->samples[s].label, value);
    }
}

char *
ctl_prometheus_format (GVariant *statistics)
{
  GString *out = g_string_new (NULL);

  g_string_append_printf (out,
                          "# HELP memadvise_up Whether memadvised answered (1) or could not be "
                          "reached (0).\n"
                          "# TYPE memadvise_up gauge\n"
                          "memadvise_up %d\n",
                          statistics != NULL);
  if (statistics == NULL)
    return g_string_free (out, FALSE);
  g_return_val_if_fail (g_variant_is_of_type (statistics, G_VARIANT_TYPE_VARDICT),
                        g_string_free (out, FALSE));
  for (gsize f = 0; f < G_N_ELEMENTS (families); f++)
    append_family (out, &families[f], statistics);
  return g_string_free (out, FALSE);
}

static gboolean
write_all (int fd, const char *data, gsize length)
{
  while (length > 0)
    {
      ssize_t written = write (fd, data, length);

      if (written < 0 && errno == EINTR)
        continue;
      if (written == 0)
        errno = EIO;
      if (written <= 0)
        return FALSE;
      data += written;
      length -= (gsize) written;
    }
  return TRUE;
}

gboolean
ctl_prometheus_write_file (const char *path, const char *contents, GError **error)
{
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *base = g_path_get_basename (path);
  /* Hidden, and not *.prom, so the collector never reads it half written. */
  g_autofree char *tmp = g_strdup_printf ("%s/.%s.XXXXXX", dir, base);
  int fd;
  int saved_errno;

  fd = g_mkstemp_full (tmp, O_WRONLY | O_CLOEXEC, 0644);
  if (fd < 0)
    {
      saved_errno = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   "Cannot write the metrics in %s: %s.", dir, g_strerror (saved_errno));
      return FALSE;
    }
  /* Readable by node-exporter's user whatever the umask: the figures are
   * sums any caller of GetStatistics may read. Synced before the rename,
   * so a crash leaves the old file or the new one, never an empty one. */
  if (fchmod (fd, 0644) < 0 || !write_all (fd, contents, strlen (contents)) || fsync (fd) < 0)
    {
      saved_errno = errno;
      close (fd);
      g_unlink (tmp);
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   "Cannot write the metrics to %s: %s.", tmp, g_strerror (saved_errno));
      return FALSE;
    }
  if (close (fd) < 0 || g_rename (tmp, path) < 0)
    {
      saved_errno = errno;
      g_unlink (tmp);
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   "Cannot replace %s with the metrics: %s.", path, g_strerror (saved_errno));
      return FALSE;
    }
  return TRUE;
}
