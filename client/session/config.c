/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * ~/.config/memadvise/session.conf: the [Session] group of a GKeyFile. The
 * keys and their defaults are in memadvise-session(1).
 */
#include "config.h"

#include "ma-client.h"
#include "session.h"

#define GROUP "Session"
#define MINUTE_US (60 * G_USEC_PER_SEC)

SessConfig *
sess_config_new_default (void)
{
  SessConfig *config = g_new0 (SessConfig, 1);

  config->background_us = 10 * MINUTE_US;
  config->backoff_us = 30 * MINUTE_US;
  config->mode = g_strdup ("cold");
  config->percent = 30;
  config->min_free_swap_percent = 20;
  config->refault_backoff_percent = 20;
  config->max_bytes_per_minute = 1024 * 1024 * 1024;
  config->screen_lock = TRUE;
  config->pressure = TRUE;
  config->pressure_recovered_avg10 = 5.0;
  config->psi_stall_ms = 150;
  config->psi_window_ms = 2000;
  return config;
}

void
sess_config_free (SessConfig *config)
{
  if (config == NULL)
    return;
  g_free (config->mode);
  g_free (config);
}

char *
sess_config_default_path (void)
{
  return g_build_filename (g_get_user_config_dir (), "memadvise", "session.conf", NULL);
}

static gboolean
read_uint (GKeyFile *kf, const char *key, guint64 min, guint64 max, gboolean *found, guint64 *out,
           GError **error)
{
  g_autofree char *value = g_key_file_get_string (kf, GROUP, key, NULL);
  guint64 v;

  *found = value != NULL;
  if (value == NULL)
    return TRUE;
  g_strstrip (value);
  if (!g_ascii_string_to_unsigned (value, 10, min, max, &v, NULL))
    {
      g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                   "%s=%s: expected a whole number from %" G_GUINT64_FORMAT
                   " to %" G_GUINT64_FORMAT,
                   key, value, min, max);
      return FALSE;
    }
  *out = v;
  return TRUE;
}

/* Minutes, or seconds when the ...Seconds key is given (for tests). */
static gboolean
read_duration (GKeyFile *kf, const char *minutes_key, const char *seconds_key, gint64 *out,
               GError **error)
{
  gboolean found;
  guint64 v;

  if (!read_uint (kf, seconds_key, 0, 7 * 24 * 3600, &found, &v, error))
    return FALSE;
  if (found)
    {
      *out = (gint64) v * G_USEC_PER_SEC;
      return TRUE;
    }
  if (!read_uint (kf, minutes_key, 0, 7 * 24 * 60, &found, &v, error))
    return FALSE;
  if (found)
    *out = (gint64) v * MINUTE_US;
  return TRUE;
}

static gboolean
read_bool (GKeyFile *kf, const char *key, gboolean *out, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  gboolean v;

  if (!g_key_file_has_key (kf, GROUP, key, NULL))
    return TRUE;
  v = g_key_file_get_boolean (kf, GROUP, key, &local_error);
  if (local_error != NULL)
    {
      g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                   "%s: expected true or false", key);
      return FALSE;
    }
  *out = v;
  return TRUE;
}

static const char *const known_keys[] = {
  "BackgroundMinutes",
  "BackgroundSeconds",
  "BackoffMinutes",
  "BackoffSeconds",
  "Mode",
  "Percent",
  "MinFreeSwapPercent",
  "RefaultBackoffPercent",
  "MaxBytesPerMinute",
  "ScreenLock",
  "Pressure",
  "PressureRecoveredAvg10",
  "PsiStallMs",
  "PsiWindowMs",
  NULL,
};

/* Every key in [Session] must be known: a misspelt one is an error, not a default. */
static gboolean
check_known_keys (GKeyFile *kf, const char *path, GError **error)
{
  g_auto (GStrv) keys = g_key_file_get_keys (kf, GROUP, NULL, NULL);

  for (gsize i = 0; keys != NULL && keys[i] != NULL; i++)
    if (!g_strv_contains (known_keys, keys[i]))
      {
        g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_KEY_NOT_FOUND,
                     "%s: unknown key %s in [" GROUP "]", path, keys[i]);
        return FALSE;
      }
  return TRUE;
}

/* Mode: which advice the agent asks for. */
static gboolean
read_mode (GKeyFile *kf, SessConfig *config, GError **error)
{
  g_autofree char *mode = g_key_file_get_string (kf, GROUP, "Mode", NULL);

  if (mode == NULL)
    return TRUE;
  g_strstrip (mode);
  if (!g_str_equal (mode, "cold") && !g_str_equal (mode, "pageout"))
    {
      g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                   "Mode=%s: expected cold or pageout", mode);
      return FALSE;
    }
  g_free (config->mode);
  config->mode = g_steal_pointer (&mode);
  return TRUE;
}

/* A whole number from @min to @max into *@out, left as it is when the key is absent. */
static gboolean
read_guint (GKeyFile *kf, const char *key, guint64 min, guint64 max, guint *out, GError **error)
{
  gboolean found;
  guint64 v;

  if (!read_uint (kf, key, min, max, &found, &v, error))
    return FALSE;
  if (found)
    *out = (guint) v;
  return TRUE;
}

/* MaxBytesPerMinute: a size as memadvisectl --max-bytes takes it. */
static gboolean
read_max_bytes (GKeyFile *kf, SessConfig *config, GError **error)
{
  g_autofree char *size = g_key_file_get_string (kf, GROUP, "MaxBytesPerMinute", NULL);
  g_autoptr (GError) size_error = NULL;

  if (size == NULL)
    return TRUE;
  g_strstrip (size);
  if (!ma_client_parse_size (size, &config->max_bytes_per_minute, &size_error))
    {
      g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE, "MaxBytesPerMinute: %s",
                   size_error->message);
      return FALSE;
    }
  return TRUE;
}

/* PressureRecoveredAvg10: the pressure below which the agent goes on. */
static gboolean
read_recovered_avg10 (GKeyFile *kf, SessConfig *config, GError **error)
{
  g_autofree char *avg10 = g_key_file_get_string (kf, GROUP, "PressureRecoveredAvg10", NULL);
  char *end = NULL;
  double d;

  if (avg10 == NULL)
    return TRUE;
  g_strstrip (avg10);
  d = g_ascii_strtod (avg10, &end);
  if (end == avg10 || *end != '\0' || !(d >= 0.0 && d <= 100.0))
    {
      g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                   "PressureRecoveredAvg10=%s: expected a percentage", avg10);
      return FALSE;
    }
  config->pressure_recovered_avg10 = d;
  return TRUE;
}

/* Every value of [Session], in the order the first bad one is reported. */
static gboolean
read_values (GKeyFile *kf, SessConfig *config, GError **error)
{
  return read_duration (kf, "BackgroundMinutes", "BackgroundSeconds", &config->background_us, error)
         && read_duration (kf, "BackoffMinutes", "BackoffSeconds", &config->backoff_us, error)
         && read_mode (kf, config, error)
         && read_guint (kf, "Percent", 1, 100, &config->percent, error)
         && read_guint (kf, "MinFreeSwapPercent", 0, 100, &config->min_free_swap_percent, error)
         && read_guint (kf, "RefaultBackoffPercent", 0, 100, &config->refault_backoff_percent,
                        error)
         && read_guint (kf, "PsiStallMs", 1, 10000, &config->psi_stall_ms, error)
         && read_guint (kf, "PsiWindowMs", 500, 10000, &config->psi_window_ms, error)
         && read_max_bytes (kf, config, error) && read_recovered_avg10 (kf, config, error)
         && read_bool (kf, "ScreenLock", &config->screen_lock, error)
         && read_bool (kf, "Pressure", &config->pressure, error);
}

gboolean
sess_config_load (SessConfig *config, const char *path, GError **error)
{
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autoptr (GError) local_error = NULL;

  if (!g_key_file_load_from_file (kf, path, G_KEY_FILE_NONE, &local_error))
    {
      if (g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        return TRUE;
      g_propagate_prefixed_error (error, g_steal_pointer (&local_error), "%s: ", path);
      return FALSE;
    }
  if (!check_known_keys (kf, path, error))
    return FALSE;
  if (!read_values (kf, config, error))
    {
      g_prefix_error (error, "%s: ", path);
      return FALSE;
    }
  return TRUE;
}
