/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <unistd.h>

#include "request.h"

void
ma_request_free (MaRequest *request)
{
  if (request == NULL)
    return;
  g_clear_pointer (&request->pids, g_array_unref);
  g_clear_pointer (&request->handles, g_array_unref);
  for (guint i = 0; request->pidfds != NULL && i < request->pidfds->len; i++)
    close (g_array_index (request->pidfds, int, i));
  g_clear_pointer (&request->pidfds, g_array_unref);
  g_free (request->cgroup);
  g_free (request);
}

static gboolean
parse_pids (GVariant *pids, MaRequest *request, GError **error)
{
  g_autoptr (GHashTable) seen = NULL;
  const guint32 *values;
  gsize n, i;

  values = g_variant_get_fixed_array (pids, &n, sizeof (guint32));
  if (n == 0 || n > MA_DBUS_MAX_PIDS)
    {
      g_set_error (error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS,
                   "Argument pids must name 1 to %d processes, not %" G_GSIZE_FORMAT ".",
                   MA_DBUS_MAX_PIDS, n);
      return FALSE;
    }

  /* A pid named twice is one target, at its first position. */
  seen = g_hash_table_new (g_direct_hash, g_direct_equal);
  request->pids = g_array_sized_new (FALSE, FALSE, sizeof (guint32), (guint) n);
  for (i = 0; i < n; i++)
    {
      guint32 pid = values[i];

      if (g_hash_table_contains (seen, GUINT_TO_POINTER (pid)))
        continue;
      g_hash_table_add (seen, GUINT_TO_POINTER (pid));
      g_array_append_val (request->pids, pid);
    }
  return TRUE;
}

static gboolean
parse_handles (GVariant *handles, guint n_fds, MaRequest *request, GError **error)
{
  const gint32 *values;
  gsize n;

  values = g_variant_get_fixed_array (handles, &n, sizeof (gint32));
  if (n == 0 || n > MA_DBUS_MAX_PIDFDS)
    {
      g_set_error (error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS,
                   "Argument pidfds must hold 1 to %d pidfds, not %" G_GSIZE_FORMAT ".",
                   MA_DBUS_MAX_PIDFDS, n);
      return FALSE;
    }
  request->handles = g_array_sized_new (FALSE, FALSE, sizeof (gint32), (guint) n);
  for (gsize i = 0; i < n; i++)
    {
      gint32 handle = values[i];
      gboolean seen = FALSE;

      if (handle < 0 || (guint) handle >= n_fds)
        {
          g_set_error (error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS,
                       "Argument pidfds: handle %d names none of the %u file descriptors the "
                       "message carries.",
                       handle, n_fds);
          return FALSE;
        }
      /* A handle given twice is one target, at its first position. */
      for (guint j = 0; j < request->handles->len && !seen; j++)
        seen = g_array_index (request->handles, gint32, j) == handle;
      if (!seen)
        g_array_append_val (request->handles, handle);
    }
  return TRUE;
}

static gboolean
check_type (const char *key, GVariant *value, const GVariantType *type, GError **error)
{
  if (g_variant_is_of_type (value, type))
    return TRUE;
  g_set_error (error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS,
               "Option %s must be of type %.*s, not %s.", key,
               (int) g_variant_type_get_string_length (type), g_variant_type_peek_string (type),
               g_variant_get_type_string (value));
  return FALSE;
}

/* The threads a pageout may use: one per online CPU by default, and never
 * more than the configured cap; a larger request is clamped, not refused,
 * because the right number depends on the machine, not on the caller. */
static guint
resolve_threads (guint requested, const MaSettings *settings)
{
  guint cpus = (guint) MAX (g_get_num_processors (), 1);
  guint cap = settings->max_threads > 0 ? settings->max_threads : cpus;

  return MIN (requested > 0 ? requested : cpus, cap);
}

static gboolean
parse_options (GVariant *options, const MaSettings *settings, MaRequest *request, GError **error)
{
  guint threads = 0;
  GVariantIter iter;
  const char *key;
  GVariant *next;

  /* iter_next, not iter_loop: a value is then freed however the loop body
   * is left, including the early returns of an invalid option. */
  g_variant_iter_init (&iter, options);
  while (g_variant_iter_next (&iter, "{&sv}", &key, &next))
    {
      g_autoptr (GVariant) value = next;

      if (g_str_equal (key, "percent"))
        {
          guint32 percent;

          if (!check_type (key, value, G_VARIANT_TYPE_UINT32, error))
            return FALSE;
          percent = g_variant_get_uint32 (value);
          if (percent < 1 || percent > 100)
            {
              g_set_error (error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS,
                           "Option percent must be 1 to 100, not %u.", percent);
              return FALSE;
            }
          request->percent = percent;
        }
      else if (g_str_equal (key, "max-bytes"))
        {
          if (!check_type (key, value, G_VARIANT_TYPE_UINT64, error))
            return FALSE;
          request->max_bytes = g_variant_get_uint64 (value);
        }
      else if (g_str_equal (key, "ranges"))
        {
          if (!check_type (key, value, G_VARIANT_TYPE_BOOLEAN, error))
            return FALSE;
          request->ranges = g_variant_get_boolean (value);
        }
      else if (g_str_equal (key, "map"))
        {
          if (!check_type (key, value, G_VARIANT_TYPE_BOOLEAN, error))
            return FALSE;
          request->map = g_variant_get_boolean (value);
        }
      else if (g_str_equal (key, "order"))
        {
          const char *order;

          if (!check_type (key, value, G_VARIANT_TYPE_STRING, error))
            return FALSE;
          order = g_variant_get_string (value, NULL);
          if (g_str_equal (order, "coldest"))
            request->order = MA_ORDER_COLDEST;
          else if (g_str_equal (order, "address"))
            request->order = MA_ORDER_ADDRESS;
          else
            {
              g_set_error (error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS,
                           "Option order must be \"coldest\" or \"address\".");
              return FALSE;
            }
        }
      else if (g_str_equal (key, "min-idle"))
        {
          guint32 min_idle;

          if (!check_type (key, value, G_VARIANT_TYPE_UINT32, error))
            return FALSE;
          min_idle = g_variant_get_uint32 (value);
          if (min_idle > settings->max_min_idle)
            {
              g_set_error (error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS,
                           "Option min-idle must be at most %u seconds (MaxMinIdle), not %u.",
                           settings->max_min_idle, min_idle);
              return FALSE;
            }
          request->min_idle = min_idle;
        }
      else if (g_str_equal (key, "access-denied"))
        {
          if (!check_type (key, value, G_VARIANT_TYPE_BOOLEAN, error))
            return FALSE;
          request->access_denied = g_variant_get_boolean (value);
        }
      else if (g_str_equal (key, "threads"))
        {
          if (!check_type (key, value, G_VARIANT_TYPE_UINT32, error))
            return FALSE;
          threads = g_variant_get_uint32 (value);
        }
      else
        {
          g_set_error (error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS, "Unknown option %s.", key);
          return FALSE;
        }
    }

  /* Ranking is what an observation is for: with address order, waiting
   * would only delay the call. */
  if (request->min_idle > 0 && request->order != MA_ORDER_COLDEST)
    {
      g_set_error (error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS,
                   "Option min-idle needs order \"coldest\".");
      return FALSE;
    }
  request->threads = resolve_threads (threads, settings);
  return TRUE;
}

/* @pids NULL: a request without pids yet (they come from a cgroup). */
static MaRequest *
parse (GVariant *pids, const char *mode, GVariant *options, const MaSettings *settings,
       GError **error)
{
  g_autoptr (MaRequest) request = g_new0 (MaRequest, 1);

  request->percent = 30;
  request->order = MA_ORDER_COLDEST;
  request->access_denied = TRUE;
  if (!ma_mode_from_string (mode, &request->mode))
    {
      g_set_error (error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS,
                   "Argument mode must be \"cold\" or \"pageout\".");
      return NULL;
    }
  if (pids != NULL && !parse_pids (pids, request, error))
    return NULL;
  if (!parse_options (options, settings, request, error))
    return NULL;
  if (request->pids == NULL)
    request->pids = g_array_new (FALSE, FALSE, sizeof (guint32));
  return g_steal_pointer (&request);
}

MaRequest *
ma_request_parse (GVariant *pids, const char *mode, GVariant *options, const MaSettings *settings,
                  GError **error)
{
  return parse (pids, mode, options, settings, error);
}

MaRequest *
ma_request_parse_options (const char *mode, GVariant *options, const MaSettings *settings,
                          GError **error)
{
  return parse (NULL, mode, options, settings, error);
}

MaRequest *
ma_request_parse_pidfds (GVariant *handles, guint n_fds, const char *mode, GVariant *options,
                         const MaSettings *settings, GError **error)
{
  g_autoptr (MaRequest) request = parse (NULL, mode, options, settings, error);

  if (request == NULL || !parse_handles (handles, n_fds, request, error))
    return NULL;
  request->pidfds = g_array_new (FALSE, FALSE, sizeof (int));
  return g_steal_pointer (&request);
}
