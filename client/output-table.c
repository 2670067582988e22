/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The human output: one row per target with IEC units, the message of each
 * target that is not ok under its row, and a one-line total. Every string
 * the daemon sent is printed through ma_client_printable(): a comm is
 * whatever the process named itself.
 */
#include "config.h"

#include <string.h>

#include "memadvisectl.h"

typedef struct
{
  const char *title;
  gboolean right;
} Column;

static char *
size_cell (guint64 bytes)
{
  return ma_client_format_size (bytes);
}

static char *
change_cell (guint64 before, guint64 after)
{
  g_autofree char *b = ma_client_format_size (before);
  g_autofree char *a = ma_client_format_size (after);

  return g_strdup_printf ("%s -> %s", b, a);
}

static GPtrArray *
target_row (const CtlReport *report, const CtlTarget *target)
{
  GPtrArray *row = g_ptr_array_new_with_free_func (g_free);
  gboolean failed = !ctl_target_is_ok (target);

  g_ptr_array_add (row, g_strdup_printf ("%u", target->pid));
  g_ptr_array_add (row, target->comm != NULL ? ma_client_printable (target->comm) : g_strdup ("-"));
  if (failed && target->eligible_bytes == 0)
    {
      g_ptr_array_add (row, g_strdup ("-"));
      g_ptr_array_add (row, g_strdup ("-"));
    }
  else
    {
      g_ptr_array_add (row, size_cell (target->eligible_bytes));
      g_ptr_array_add (row, size_cell (target->planned_bytes));
    }
  if (!report->dry_run)
    g_ptr_array_add (row, failed && target->advised_bytes == 0 ? g_strdup ("-")
                                                               : size_cell (target->advised_bytes));

  if (failed && target->before.rss == 0)
    {
      g_ptr_array_add (row, g_strdup ("-"));
      g_ptr_array_add (row, g_strdup ("-"));
    }
  else if (report->dry_run || !target->has_after)
    {
      g_ptr_array_add (row, size_cell (target->before.rss));
      g_ptr_array_add (row, size_cell (target->before.swap));
    }
  else
    {
      g_ptr_array_add (row, change_cell (target->before.rss, target->after.rss));
      g_ptr_array_add (row, change_cell (target->before.swap, target->after.swap));
    }
  g_ptr_array_add (row, ma_client_printable (target->status));
  return row;
}

static void
print_row (GPtrArray *row, const Column *columns, const gsize *widths)
{
  g_autoptr (GString) line = g_string_new (NULL);

  for (guint i = 0; i < row->len; i++)
    {
      const char *cell = g_ptr_array_index (row, i);
      int width = (int) widths[i];

      if (i > 0)
        g_string_append (line, "  ");
      if (columns[i].right)
        g_string_append_printf (line, "%*s", width, cell);
      else if (i + 1 == row->len)
        g_string_append (line, cell);
      else
        g_string_append_printf (line, "%-*s", width, cell);
    }
  g_print ("%s\n", line->str);
}

static void
print_details (const CtlReport *report, const CtlTarget *target, gsize indent)
{
  if (!ctl_target_is_ok (target) || g_strcmp0 (target->status, "skipped") == 0)
    {
      const char *text = target->message != NULL ? target->message : target->error;
      g_autofree char *printable = ma_client_printable (text);

      if (printable != NULL)
        g_print ("%*s%s\n", (int) indent, "", printable);
    }

  if (report->verbose && target->ranges != NULL)
    for (guint i = 0; i < target->ranges->len; i++)
      {
        const CtlRange *range = &g_array_index (target->ranges, CtlRange, i);
        g_autofree char *length = ma_client_format_size (range->length);
        g_autofree char *resident = ma_client_format_size (range->resident);

        g_print ("%*s0x%012" G_GINT64_MODIFIER "x-0x%012" G_GINT64_MODIFIER "x  %s, %s resident\n",
                 (int) indent, "", range->start, range->start + range->length, length, resident);
      }
  if (report->verbose && target->ranges_truncated)
    g_print ("%*s(only the first %u ranges are listed)\n", (int) indent, "", target->ranges->len);
  if (report->map && target->map != NULL)
    {
      g_autofree char *map
          = ctl_map_draw (target->map, report->map_width, (guint) indent, report->map_color);

      g_print ("%s", map);
    }
}

/* After the total, when a map was drawn: what its characters mean. */
static void
print_legend (const CtlReport *report)
{
  g_autofree char *legend = NULL;
  gboolean drawn = FALSE;

  for (guint i = 0; i < report->targets->len && report->map; i++)
    drawn = drawn || ((const CtlTarget *) g_ptr_array_index (report->targets, i))->map != NULL;
  if (!drawn)
    return;
  legend = ctl_map_legend (!report->dry_run, report->map_color);
  g_print ("%s", legend);
}

static char *
duration_text (guint32 seconds)
{
  if (seconds >= 2 * 3600)
    return g_strdup_printf ("%u h", seconds / 3600);
  if (seconds >= 2 * 60)
    return g_strdup_printf ("%u min", seconds / 60);
  return g_strdup_printf ("%u s", seconds);
}

/* Under the total, when an observation told which planned memory nobody
 * touched: how much, and the shortest time any target's was idle. */
static void
print_idle (const CtlReport *report, guint64 planned)
{
  guint64 idle, unknown_age;
  guint32 seconds;
  g_autofree char *idle_str = NULL;
  g_autofree char *planned_str = NULL;
  g_autofree char *duration = NULL;

  ctl_report_idle_totals (report, &idle, &unknown_age, &seconds);
  if (idle == 0)
    return;
  idle_str = ma_client_format_size (idle);
  planned_str = ma_client_format_size (planned);
  duration = duration_text (seconds);
  g_print ("Known idle: %s of the %s planned, untouched for at least %s; the rest of unknown "
           "age.\n",
           idle_str, planned_str, duration);
}

/* Under the total: what came back of earlier pageouts, and of this call's
 * sample and trials during min-idle (kept in memory now). */
static void
print_coldness (const CtlReport *report)
{
  CtlColdnessTotals totals;

  ctl_report_coldness_totals (report, &totals);
  if (totals.paged_out > 0)
    {
      g_autofree char *back = ma_client_format_size (totals.refaulted);
      g_autofree char *out = ma_client_format_size (totals.paged_out);

      g_print ("Came back since the last pageout: %s of %s\n", back, out);
    }
  if (totals.any_sampling)
    {
      g_autofree char *back = ma_client_format_size (totals.sampled);

      g_print ("Came back while sampling during the wait: %s, kept in memory\n", back);
    }
}

void
ctl_print_table (const CtlReport *report)
{
  const Column reclaim_columns[] = {
    { "PID", TRUE },
    { "COMM", FALSE },
    { "ELIGIBLE", TRUE },
    { "PLANNED", TRUE },
    { "ADVISED", TRUE },
    { "RSS BEFORE -> AFTER", FALSE },
    { "SWAP BEFORE -> AFTER", FALSE },
    { "STATUS", FALSE },
  };
  const Column plan_columns[] = {
    { "PID", TRUE }, { "COMM", FALSE }, { "ELIGIBLE", TRUE }, { "PLANNED", TRUE },
    { "RSS", TRUE }, { "SWAP", TRUE },  { "STATUS", FALSE },
  };
  const Column *columns = report->dry_run ? plan_columns : reclaim_columns;
  gsize n_columns = report->dry_run ? G_N_ELEMENTS (plan_columns) : G_N_ELEMENTS (reclaim_columns);
  g_autoptr (GPtrArray) rows = g_ptr_array_new_with_free_func ((GDestroyNotify) g_ptr_array_unref);
  g_autoptr (GPtrArray) header = g_ptr_array_new_with_free_func (g_free);
  g_autofree gsize *widths = g_new0 (gsize, n_columns);
  guint64 eligible, planned, advised;
  guint64 rss_before = 0, rss_after = 0, swap_before = 0, swap_after = 0;
  guint n_ok = 0, n_skipped = 0, n_failed = 0;
  g_autofree char *eligible_str = NULL;
  g_autofree char *planned_str = NULL;
  g_autofree char *advised_str = NULL;
  g_autoptr (GString) total = g_string_new (NULL);

  for (gsize i = 0; i < n_columns; i++)
    g_ptr_array_add (header, g_strdup (columns[i].title));
  g_ptr_array_add (rows, g_ptr_array_ref (header));
  for (guint i = 0; i < report->targets->len; i++)
    g_ptr_array_add (rows, target_row (report, g_ptr_array_index (report->targets, i)));

  for (guint r = 0; r < rows->len; r++)
    {
      GPtrArray *row = g_ptr_array_index (rows, r);

      for (guint c = 0; c < row->len; c++)
        widths[c] = MAX (widths[c], strlen (g_ptr_array_index (row, c)));
    }

  print_row (header, columns, widths);
  for (guint i = 0; i < report->targets->len; i++)
    {
      const CtlTarget *target = g_ptr_array_index (report->targets, i);

      print_row (g_ptr_array_index (rows, i + 1), columns, widths);
      print_details (report, target, widths[0] + 2);

      if (g_strcmp0 (target->status, "ok") == 0)
        n_ok++;
      else if (g_strcmp0 (target->status, "skipped") == 0)
        n_skipped++;
      else
        n_failed++;
      if (target->has_after)
        {
          rss_before += target->before.rss;
          rss_after += target->after.rss;
          swap_before += target->before.swap;
          swap_after += target->after.swap;
        }
    }

  ctl_report_totals (report, &eligible, &planned, &advised);
  eligible_str = ma_client_format_size (eligible);
  planned_str = ma_client_format_size (planned);
  advised_str = ma_client_format_size (advised);
  g_string_append_printf (total,
                          "Total: %u %s (%u ok, %u skipped, %u failed), eligible %s, "
                          "planned %s",
                          report->targets->len, report->targets->len == 1 ? "target" : "targets",
                          n_ok, n_skipped, n_failed, eligible_str, planned_str);
  if (report->dry_run)
    g_string_append (total, " (dry run, nothing advised)");
  else
    {
      g_autofree char *rss = change_cell (rss_before, rss_after);
      g_autofree char *swap = change_cell (swap_before, swap_after);

      g_string_append_printf (total, ", advised %s, RSS %s, swap %s", advised_str, rss, swap);
    }
  g_print ("%s\n", total->str);
  print_idle (report, planned);
  print_coldness (report);
  print_legend (report);
}
