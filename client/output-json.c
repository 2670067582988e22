/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * --json: one object on stdout, exactly the schema of shared/DESIGN.md.
 * Byte counts are written as raw integers so 64-bit values stay exact.
 */
#include "config.h"

#include "json.h"
#include "memadvisectl.h"

static void
add_string_or_null (cJSON *object, const char *key, const char *value)
{
  if (value != NULL)
    cJSON_AddStringToObject (object, key, value);
  else
    cJSON_AddNullToObject (object, key);
}

static cJSON *
mem_object (const CtlMem *mem)
{
  cJSON *object = cJSON_CreateObject ();

  ctl_json_add_u64 (object, "rss", mem->rss);
  ctl_json_add_u64 (object, "anon", mem->anon);
  ctl_json_add_u64 (object, "swap", mem->swap);
  return object;
}

/* --map: the daemon's map, each mapping's cells as the characters of the
 * drawing, unscaled. */
static cJSON *
map_object (const CtlMap *map)
{
  cJSON *object = cJSON_CreateObject ();
  cJSON *mappings = cJSON_AddArrayToObject (object, "mappings");
  cJSON *ineligible;

  for (guint i = 0; i < map->mappings->len; i++)
    {
      const CtlMapMapping *m = &g_array_index (map->mappings, CtlMapMapping, i);
      g_autofree char *start = g_strdup_printf ("0x%" G_GINT64_MODIFIER "x", m->start);
      g_autofree char *end = g_strdup_printf ("0x%" G_GINT64_MODIFIER "x", m->end);
      g_autofree char *cells = ctl_map_cells_text (m);
      cJSON *item = cJSON_CreateObject ();

      cJSON_AddStringToObject (item, "start", start);
      cJSON_AddStringToObject (item, "end", end);
      cJSON_AddStringToObject (item, "cells", cells);
      cJSON_AddItemToArray (mappings, item);
    }
  ctl_json_add_u64 (object, "eligible_mappings", map->eligible_mappings);
  cJSON_AddBoolToObject (object, "truncated", map->truncated);
  ineligible = cJSON_AddArrayToObject (object, "ineligible");
  for (guint i = 0; i < map->ineligible->len; i++)
    {
      const CtlMapIneligible *x = &g_array_index (map->ineligible, CtlMapIneligible, i);
      cJSON *item = cJSON_CreateObject ();

      cJSON_AddStringToObject (item, "reason", x->reason);
      ctl_json_add_u64 (item, "mappings", x->count);
      ctl_json_add_u64 (item, "bytes", x->bytes);
      cJSON_AddItemToArray (ineligible, item);
    }
  return object;
}

static cJSON *
target_object (const CtlReport *report, const CtlTarget *target)
{
  cJSON *object = cJSON_CreateObject ();

  ctl_json_add_u64 (object, "pid", target->pid);
  add_string_or_null (object, "comm", target->comm);
  if (target->has_uid)
    ctl_json_add_u64 (object, "uid", target->uid);
  else
    cJSON_AddNullToObject (object, "uid");
  cJSON_AddStringToObject (object, "status", target->status);
  add_string_or_null (object, "error", target->error);
  add_string_or_null (object, "message", target->message);
  ctl_json_add_u64 (object, "eligible_bytes", target->eligible_bytes);
  ctl_json_add_u64 (object, "planned_bytes", target->planned_bytes);
  ctl_json_add_u64 (object, "advised_bytes", target->advised_bytes);
  ctl_json_add_u64 (object, "idle_bytes", target->idle_bytes);
  ctl_json_add_u64 (object, "idle_seconds", target->idle_seconds);
  ctl_json_add_u64 (object, "unknown_age_bytes", target->unknown_age_bytes);
  add_string_or_null (object, "coldness_source", target->coldness_source);
  ctl_json_add_u64 (object, "refaulted_bytes", target->refaulted_bytes);
  ctl_json_add_u64 (object, "paged_out_bytes", target->paged_out_bytes);
  ctl_json_add_u64 (object, "held_bytes", target->held_bytes);
  ctl_json_add_u64 (object, "sampled_bytes", target->sampled_bytes);
  cJSON_AddItemToObject (object, "before", mem_object (&target->before));
  if (report->dry_run || !target->has_after)
    cJSON_AddNullToObject (object, "after");
  else
    cJSON_AddItemToObject (object, "after", mem_object (&target->after));

  if (report->verbose)
    {
      cJSON *ranges = cJSON_AddArrayToObject (object, "ranges");

      for (guint i = 0; target->ranges != NULL && i < target->ranges->len; i++)
        {
          const CtlRange *range = &g_array_index (target->ranges, CtlRange, i);
          g_autofree char *start = g_strdup_printf ("0x%" G_GINT64_MODIFIER "x", range->start);
          cJSON *item = cJSON_CreateObject ();

          cJSON_AddStringToObject (item, "start", start);
          ctl_json_add_u64 (item, "length", range->length);
          ctl_json_add_u64 (item, "resident", range->resident);
          cJSON_AddItemToArray (ranges, item);
        }
      cJSON_AddBoolToObject (object, "ranges_truncated", target->ranges_truncated);
    }
  if (report->map && target->map != NULL)
    cJSON_AddItemToObject (object, "map", map_object (target->map));
  else if (report->map)
    cJSON_AddNullToObject (object, "map");
  return object;
}

gboolean
ctl_print_json (const CtlReport *report, GError **error)
{
  g_autoptr (cJSON) root = cJSON_CreateObject ();
  cJSON *targets;
  cJSON *totals;
  guint64 eligible, planned, advised, idle, unknown_age;
  guint32 idle_seconds;
  CtlColdnessTotals coldness;

  cJSON_AddStringToObject (root, "mode", report->mode);
  cJSON_AddBoolToObject (root, "dry_run", report->dry_run);
  ctl_json_add_u64 (root, "percent", report->percent);
  ctl_json_add_u64 (root, "max_bytes", report->max_bytes);
  cJSON_AddStringToObject (root, "order", report->order);
  ctl_json_add_u64 (root, "min_idle", report->min_idle);
  ctl_json_add_u64 (root, "threads", report->threads);

  targets = cJSON_AddArrayToObject (root, "targets");
  for (guint i = 0; i < report->targets->len; i++)
    cJSON_AddItemToArray (targets, target_object (report, g_ptr_array_index (report->targets, i)));

  ctl_report_totals (report, &eligible, &planned, &advised);
  totals = cJSON_AddObjectToObject (root, "totals");
  ctl_json_add_u64 (totals, "eligible_bytes", eligible);
  ctl_json_add_u64 (totals, "planned_bytes", planned);
  ctl_json_add_u64 (totals, "advised_bytes", advised);
  ctl_report_idle_totals (report, &idle, &unknown_age, &idle_seconds);
  ctl_json_add_u64 (totals, "idle_bytes", idle);
  ctl_json_add_u64 (totals, "unknown_age_bytes", unknown_age);
  ctl_report_coldness_totals (report, &coldness);
  ctl_json_add_u64 (totals, "refaulted_bytes", coldness.refaulted);
  ctl_json_add_u64 (totals, "paged_out_bytes", coldness.paged_out);
  ctl_json_add_u64 (totals, "sampled_bytes", coldness.sampled);

  return ctl_json_print (root, error);
}
