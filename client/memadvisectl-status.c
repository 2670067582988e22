/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * status: the daemon's version and kernel support, the swap this machine
 * has (pageout needs it) and the daemon's statistics; with --prometheus,
 * the statistics alone as metrics (output-prometheus.c).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "json.h"
#include "memadvisectl.h"

typedef struct
{
  char *version;
  gboolean kernel_supported;
  char **modes;
  GVariant *statistics; /* a{sv}, or NULL when not available */
  char *statistics_error;
  gboolean have_swap;
  guint64 swap_total;
  guint64 swap_free;
} Status;

static void
status_clear (Status *status)
{
  g_free (status->version);
  g_strfreev (status->modes);
  g_clear_pointer (&status->statistics, g_variant_unref);
  g_free (status->statistics_error);
}

/* The properties, all at once: the proxy was made without them. */
static gboolean
load_properties (MaDBusMemAdvise1 *proxy, GDBusCallFlags flags, GError **error)
{
  g_autoptr (GVariant) reply = NULL;
  g_autoptr (GVariant) properties = NULL;
  g_autoptr (GError) call_error = NULL;
  GVariantIter iter;
  const char *name;
  GVariant *value;

  reply = g_dbus_proxy_call_sync (G_DBUS_PROXY (proxy), "org.freedesktop.DBus.Properties.GetAll",
                                  g_variant_new ("(s)", MA_DBUS_INTERFACE), flags, -1, NULL,
                                  &call_error);
  if (reply == NULL)
    {
      g_propagate_error (error, ctl_bus_error (call_error, "query", FALSE));
      return FALSE;
    }
  properties = g_variant_get_child_value (reply, 0);
  g_variant_iter_init (&iter, properties);
  while (g_variant_iter_next (&iter, "{&sv}", &name, &value))
    {
      g_dbus_proxy_set_cached_property (G_DBUS_PROXY (proxy), name, value);
      g_variant_unref (value);
    }
  return TRUE;
}

static gboolean
query (MaDBusMemAdvise1 *proxy, const CtlOptions *options, Status *status, GError **error)
{
  g_autoptr (GError) call_error = NULL;
  GDBusCallFlags flags = ctl_bus_call_flags (options);
  const char *const *modes;

  if (!load_properties (proxy, flags, error))
    return FALSE;
  status->version = g_strdup (ma_dbus_mem_advise1_get_version (proxy));
  if (status->version == NULL)
    status->version = g_strdup ("unknown");
  status->kernel_supported = ma_dbus_mem_advise1_get_kernel_supported (proxy);
  modes = ma_dbus_mem_advise1_get_modes (proxy);
  status->modes = modes != NULL ? g_strdupv ((char **) modes) : g_new0 (char *, 1);

  if (!ma_dbus_mem_advise1_call_get_statistics_sync (proxy, flags, -1, &status->statistics, NULL,
                                                     &call_error))
    {
      g_autoptr (GError) mapped = ctl_bus_error (call_error, "query", FALSE);

      /* Statistics are extra: say why they are missing, show the rest. */
      if (mapped->code != CTL_EXIT_DENIED)
        {
          g_propagate_error (error, g_steal_pointer (&mapped));
          return FALSE;
        }
      status->statistics_error = g_strdup ("not authorized");
    }

  status->have_swap = ma_client_read_swap (&status->swap_total, &status->swap_free, NULL);
  return TRUE;
}

static int
compare_strings (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(char *const *) a, *(char *const *) b);
}

/* The statistics keys, sorted, so the output is stable. */
static GPtrArray *
statistics_keys (GVariant *statistics)
{
  GPtrArray *keys = g_ptr_array_new_with_free_func (g_free);
  GVariantIter iter;
  char *key;

  g_variant_iter_init (&iter, statistics);
  while (g_variant_iter_next (&iter, "{sv}", &key, NULL))
    g_ptr_array_add (keys, key);
  g_ptr_array_sort (keys, compare_strings);
  return keys;
}

static gboolean
variant_to_u64 (GVariant *value, guint64 *out)
{
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_UINT64))
    *out = g_variant_get_uint64 (value);
  else if (g_variant_is_of_type (value, G_VARIANT_TYPE_UINT32))
    *out = g_variant_get_uint32 (value);
  else if (g_variant_is_of_type (value, G_VARIANT_TYPE_UINT16))
    *out = g_variant_get_uint16 (value);
  else if (g_variant_is_of_type (value, G_VARIANT_TYPE_BYTE))
    *out = g_variant_get_byte (value);
  else
    return FALSE;
  return TRUE;
}

static char *format_statistic (const char *key, GVariant *value);

/* Replaces *@text by its printable form, which it returns. */
static const char *
printable (char **text)
{
  char *safe = ma_client_printable (*text);

  g_free (*text);
  *text = safe;
  return safe;
}

/* a{s*} counters (failures by error, refusals by reason): "busy 2, ...". */
static char *
format_table (GVariant *value)
{
  g_autoptr (GString) text = g_string_new (NULL);
  GVariantIter iter;
  const char *key;
  GVariant *item;

  g_variant_iter_init (&iter, value);
  while (g_variant_iter_next (&iter, "{&s@*}", &key, &item))
    {
      g_autofree char *item_text = format_statistic (key, item);

      g_string_append_printf (text, "%s%s %s", text->len > 0 ? ", " : "", key, item_text);
      g_variant_unref (item);
    }
  if (text->len == 0)
    g_string_append (text, "none");
  return g_strdup (text->str);
}

/* A value for people: sizes in IEC units, times in seconds, dates. */
static char *
format_statistic (const char *key, GVariant *value)
{
  guint64 number = 0;

  if (g_variant_is_of_type (value, G_VARIANT_TYPE_VARIANT))
    {
      g_autoptr (GVariant) inner = g_variant_get_variant (value);
      return format_statistic (key, inner);
    }
  if (variant_to_u64 (value, &number))
    {
      if (g_str_has_suffix (key, "bytes") || g_str_has_prefix (key, "advised-bytes"))
        return ma_client_format_size (number);
      if (g_str_has_suffix (key, "-usec"))
        return g_strdup_printf ("%.3f s", (double) number / G_USEC_PER_SEC);
      if (g_str_has_suffix (key, "-at") && number <= G_MAXINT64)
        {
          g_autoptr (GDateTime) time = g_date_time_new_from_unix_local ((gint64) number);

          if (time != NULL)
            return g_date_time_format (time, "%Y-%m-%d %H:%M:%S");
        }
      return g_strdup_printf ("%" G_GUINT64_FORMAT, number);
    }
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_STRING))
    return g_variant_dup_string (value, NULL);
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_BOOLEAN))
    return g_strdup (g_variant_get_boolean (value) ? "yes" : "no");
  if (g_variant_is_of_type (value, G_VARIANT_TYPE ("a{s*}")))
    return format_table (value);
  return g_variant_print (value, FALSE);
}

/* Labels for the statistics memadvised(8) lists, in the order shown. The
 * raw keys are for D-Bus and --json; a key a newer daemon adds is shown
 * under its own name, after these. */
static const struct
{
  const char *key;
  const char *label;
} statistic_labels[] = {
  { "started-at", "Running since" },
  { "calls-plan", "Plan calls" },
  { "calls-reclaim", "Reclaim calls" },
  { "refused-calls", "Calls refused" },
  { "cancelled-calls", "Calls dropped" },
  { "timed-out-calls", "Calls timed out" },
  { "targets", "Targets" },
  { "targets-ok", "Targets ok" },
  { "targets-skipped", "Targets skipped" },
  { "targets-failed", "Targets failed" },
  { "failures", "Failures" },
  { "advised-bytes-cold", "Advised, cold" },
  { "advised-bytes-pageout", "Advised, pageout" },
  { "reclaimed-bytes", "RSS freed" },
  { "time-spent-usec", "Time spent" },
  { "refaulted-bytes", "Came back after pageout" },
  { "sampled-bytes", "Came back while sampling" },
  { "tracked-processes", "Processes tracked" },
  { "tracked-state-bytes", "Memory for tracking" },
};

/* The labels' column: as wide as the widest label and its colon. */
static int
label_width (void)
{
  gsize width = 0;

  for (gsize i = 0; i < G_N_ELEMENTS (statistic_labels); i++)
    width = MAX (width, strlen (statistic_labels[i].label) + 1);
  return (int) width;
}

static void
print_statistic (const Status *status, const char *key, const char *label)
{
  g_autoptr (GVariant) value = g_variant_lookup_value (status->statistics, key, NULL);
  g_autofree char *text = NULL;
  g_autofree char *with_colon = NULL;

  if (value == NULL)
    return;
  text = format_statistic (key, value);
  with_colon = g_strconcat (label, ":", NULL);
  /* Keys and texts are the daemon's: printable, as everything it sends. */
  g_print ("  %-*s %s\n", label_width (), printable (&with_colon), printable (&text));
}

static void
print_statistics (const Status *status)
{
  g_autoptr (GPtrArray) keys = statistics_keys (status->statistics);

  g_print ("Statistics:\n");
  for (gsize i = 0; i < G_N_ELEMENTS (statistic_labels); i++)
    print_statistic (status, statistic_labels[i].key, statistic_labels[i].label);
  for (guint i = 0; i < keys->len; i++)
    {
      const char *key = g_ptr_array_index (keys, i);
      gboolean known = FALSE;

      for (gsize k = 0; k < G_N_ELEMENTS (statistic_labels) && !known; k++)
        known = g_str_equal (statistic_labels[k].key, key);
      if (!known)
        print_statistic (status, key, key);
    }
}

static void
print_human (const Status *status)
{
  g_autofree char *modes = g_strjoinv (", ", status->modes);
  g_autofree char *version = ma_client_printable (status->version);

  g_print ("Version:          %s\n", version);
  g_print ("Kernel support:   %s\n", status->kernel_supported
                                         ? "yes (process_madvise available)"
                                         : "no (this kernel lacks process_madvise; Linux 5.10+)");
  g_print ("Modes:            %s\n", printable (&modes));
  if (!status->have_swap)
    g_print ("Swap:             unknown\n");
  else if (status->swap_total == 0)
    g_print ("Swap:             none configured (pageout cannot free anonymous memory)\n");
  else
    {
      g_autofree char *total = ma_client_format_size (status->swap_total);
      g_autofree char *free_str = ma_client_format_size (status->swap_free);

      g_print ("Swap:             %s configured, %s free\n", total, free_str);
    }

  if (status->statistics == NULL)
    {
      g_print ("Statistics:       %s\n", status->statistics_error);
      return;
    }
  print_statistics (status);
}

static cJSON *
variant_to_json (GVariant *value)
{
  guint64 number = 0;

  if (g_variant_is_of_type (value, G_VARIANT_TYPE_VARIANT))
    {
      g_autoptr (GVariant) inner = g_variant_get_variant (value);
      return variant_to_json (inner);
    }
  if (g_variant_is_of_type (value, G_VARIANT_TYPE ("a{s*}")))
    {
      cJSON *object = cJSON_CreateObject ();
      GVariantIter iter;
      const char *key;
      GVariant *item;

      g_variant_iter_init (&iter, value);
      while (g_variant_iter_next (&iter, "{&s@*}", &key, &item))
        {
          cJSON_AddItemToObject (object, key, variant_to_json (item));
          g_variant_unref (item);
        }
      return object;
    }

  if (variant_to_u64 (value, &number))
    {
      g_autofree char *text = g_strdup_printf ("%" G_GUINT64_FORMAT, number);
      return cJSON_CreateRaw (text);
    }
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_INT64))
    {
      g_autofree char *text = g_strdup_printf ("%" G_GINT64_FORMAT, g_variant_get_int64 (value));
      return cJSON_CreateRaw (text);
    }
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_INT32))
    return cJSON_CreateNumber (g_variant_get_int32 (value));
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_DOUBLE))
    return cJSON_CreateNumber (g_variant_get_double (value));
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_BOOLEAN))
    return cJSON_CreateBool (g_variant_get_boolean (value));
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_STRING))
    return cJSON_CreateString (g_variant_get_string (value, NULL));
  {
    g_autofree char *text = g_variant_print (value, FALSE);
    return cJSON_CreateString (text);
  }
}

static gboolean
print_json (const Status *status, GError **error)
{
  g_autoptr (cJSON) root = cJSON_CreateObject ();
  cJSON *swap;

  cJSON_AddStringToObject (root, "version", status->version);
  cJSON_AddBoolToObject (root, "kernel_supported", status->kernel_supported);
  cJSON_AddItemToObject (root, "modes",
                         cJSON_CreateStringArray ((const char *const *) status->modes,
                                                  (int) g_strv_length (status->modes)));
  if (status->have_swap)
    {
      swap = cJSON_AddObjectToObject (root, "swap");
      ctl_json_add_u64 (swap, "total_bytes", status->swap_total);
      ctl_json_add_u64 (swap, "free_bytes", status->swap_free);
    }
  else
    cJSON_AddNullToObject (root, "swap");

  if (status->statistics != NULL)
    {
      g_autoptr (GPtrArray) keys = statistics_keys (status->statistics);
      cJSON *statistics = cJSON_AddObjectToObject (root, "statistics");

      for (guint i = 0; i < keys->len; i++)
        {
          const char *key = g_ptr_array_index (keys, i);
          g_autoptr (GVariant) value = g_variant_lookup_value (status->statistics, key, NULL);
          g_autofree char *json_key = g_strdelimit (g_strdup (key), "-", '_');

          cJSON_AddItemToObject (statistics, json_key, variant_to_json (value));
        }
    }
  else
    cJSON_AddNullToObject (root, "statistics");

  return ctl_json_print (root, error);
}

/* --prometheus: never starts memadvised (a stopped daemon is what
 * memadvise_up 0 shows; metrics every minute must not undo a stop), and
 * prints or writes the metrics even when it cannot be reached. */
static CtlExit
run_prometheus (const CtlOptions *options, GError **error)
{
  g_autoptr (MaDBusMemAdvise1) proxy = NULL;
  g_autoptr (GVariant) statistics = NULL;
  g_autoptr (GError) query_error = NULL;
  g_autoptr (GError) call_error = NULL;
  g_autofree char *text = NULL;

  proxy = ctl_bus_proxy_new (&query_error);
  if (proxy != NULL
      && !ma_dbus_mem_advise1_call_get_statistics_sync (proxy, G_DBUS_CALL_FLAGS_NO_AUTO_START, -1,
                                                        &statistics, NULL, &call_error))
    {
      if (g_error_matches (call_error, G_DBUS_ERROR, G_DBUS_ERROR_NAME_HAS_NO_OWNER)
          || g_error_matches (call_error, G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN))
        query_error = g_error_new_literal (
            CTL_ERROR, CTL_EXIT_UNAVAILABLE,
            "memadvised is not running (--prometheus does not start it): memadvise_up is 0.");
      else
        query_error = ctl_bus_error (call_error, "query", FALSE);
    }

  text = ctl_prometheus_format (statistics);
  if (options->output != NULL)
    {
      g_autoptr (GError) write_error = NULL;

      /* A file not written is the worse failure: the old figures stay. */
      if (!ctl_prometheus_write_file (options->output, text, &write_error))
        {
          g_set_error_literal (error, CTL_ERROR, CTL_EXIT_FAILED, write_error->message);
          return CTL_EXIT_FAILED;
        }
    }
  else if (fputs (text, stdout) < 0 || fflush (stdout) != 0)
    {
      g_set_error (error, CTL_ERROR, CTL_EXIT_FAILED, "Cannot print the metrics: %s.",
                   g_strerror (errno));
      return CTL_EXIT_FAILED;
    }

  if (query_error == NULL)
    return CTL_EXIT_OK;
  g_propagate_error (error, g_steal_pointer (&query_error));
  return (CtlExit) (*error)->code;
}

CtlExit
ctl_run_status (const CtlOptions *options, GError **error)
{
  g_autoptr (MaDBusMemAdvise1) proxy = NULL;
  Status status = { 0 };
  CtlExit exit_status = CTL_EXIT_OK;

  if (options->prometheus)
    return run_prometheus (options, error);

  proxy = ctl_bus_proxy_new (error);
  if (proxy == NULL)
    return (CtlExit) (*error)->code;

  if (!query (proxy, options, &status, error))
    {
      exit_status = (CtlExit) (*error)->code;
      status_clear (&status);
      return exit_status;
    }

  if (options->json)
    {
      if (!print_json (&status, error))
        exit_status = CTL_EXIT_FAILED;
    }
  else
    print_human (&status);
  fflush (stdout);

  /* Kernel unsupported is exit status 3, as for the other commands. */
  if (exit_status == CTL_EXIT_OK && !status.kernel_supported)
    exit_status = CTL_EXIT_UNAVAILABLE;
  status_clear (&status);
  return exit_status;
}
