/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <gio/gio.h>

#include "observations.h"
#include "settings.h"

typedef struct
{
  const char *key;
  gsize offset;
  guint min;
  guint max;
} UintKey;

static const UintKey daemon_keys[] = {
  { "MaxJobs", G_STRUCT_OFFSET (MaSettings, max_jobs), 1, 1024 },
  { "MaxJobsPerUser", G_STRUCT_OFFSET (MaSettings, max_jobs_per_user), 1, 1024 },
  { "MaxQueuedPerUser", G_STRUCT_OFFSET (MaSettings, max_queued_per_user), 0, 1024 },
  { "MaxQueued", G_STRUCT_OFFSET (MaSettings, max_queued), 0, 1024 },
  /* A day: a deadline, not a schedule. */
  { "JobTimeout", G_STRUCT_OFFSET (MaSettings, job_timeout), 1, 86400 },
  { "MaxCallsPerMinutePerUser", G_STRUCT_OFFSET (MaSettings, max_calls_per_minute), 0, 100000 },
  { "AuthorizationTimeout", G_STRUCT_OFFSET (MaSettings, auth_timeout), 1, 3600 },
  { "InteractiveAuthorizationTimeout", G_STRUCT_OFFSET (MaSettings, interactive_auth_timeout), 1,
    3600 },
  /* Observations older than an hour are dropped (observations.c): a longer
   * wait could not find its own. */
  { "MaxMinIdle", G_STRUCT_OFFSET (MaSettings, max_min_idle), 0, 3600 },
  { "MaxThreads", G_STRUCT_OFFSET (MaSettings, max_threads), 0, 1024 },
  /* What the daemon knows of a process is kept for an hour at most. */
  { "RefaultHoldSeconds", G_STRUCT_OFFSET (MaSettings, refault_hold), 0, 3600 },
};

static const char *const daemon_bool_keys[] = { "TrackAccess", NULL };

static const char *const protect_keys[] = { "Names", "Cgroups", NULL };

guint64
ma_settings_fd_budget (const MaSettings *settings)
{
  return MA_FDS_OWN + MA_OBSERVATION_MAX_ENTRIES + (guint64) settings->max_jobs * MA_FDS_PER_JOB
         + (guint64) settings->max_queued * MA_FDS_PER_WAITING_CALL;
}

gboolean
ma_settings_fit_fd_limit (MaSettings *settings, guint64 limit)
{
  guint64 fixed = MA_FDS_OWN + MA_OBSERVATION_MAX_ENTRIES;
  guint64 waiting = (guint64) settings->max_queued * MA_FDS_PER_WAITING_CALL;
  guint fit = 1;

  if (ma_settings_fd_budget (settings) <= limit)
    return FALSE;
  if (limit > fixed + waiting)
    fit = MAX (1, (limit - fixed - waiting) / MA_FDS_PER_JOB);
  settings->max_jobs = MIN (settings->max_jobs, fit);
  settings->max_jobs_per_user = MIN (settings->max_jobs_per_user, settings->max_jobs);
  /* Not even one call beside the waiting ones: fewer may wait. */
  if (ma_settings_fd_budget (settings) > limit)
    {
      guint64 left = limit > fixed + MA_FDS_PER_JOB ? limit - fixed - MA_FDS_PER_JOB : 0;

      settings->max_queued = (guint) MIN (settings->max_queued, left / MA_FDS_PER_WAITING_CALL);
      settings->max_queued_per_user = MIN (settings->max_queued_per_user, settings->max_queued);
    }
  return TRUE;
}

MaSettings *
ma_settings_new (void)
{
  MaSettings *settings = g_new0 (MaSettings, 1);

  settings->max_jobs = 4;
  settings->max_jobs_per_user = 2;
  settings->max_queued_per_user = 16;
  settings->max_queued = 64;
  settings->job_timeout = 120;
  settings->max_calls_per_minute = 60;
  settings->auth_timeout = 20;
  settings->interactive_auth_timeout = 300;
  settings->max_min_idle = 300;
  settings->max_threads = 0;
  settings->track_access = TRUE;
  settings->refault_hold = 600;
  settings->protect_names = g_new0 (char *, 1);
  settings->protect_cgroups = g_new0 (char *, 1);
  return settings;
}

void
ma_settings_free (MaSettings *settings)
{
  if (settings == NULL)
    return;
  g_strfreev (settings->protect_names);
  g_strfreev (settings->protect_cgroups);
  g_free (settings);
}

/* Unknown groups and keys are reported, not fatal: a newer configuration
 * must not keep an older daemon from starting. */
static void
warn_unknown_keys (GKeyFile *keyfile, const char *path)
{
  g_auto (GStrv) groups = g_key_file_get_groups (keyfile, NULL);

  for (guint i = 0; groups[i] != NULL; i++)
    {
      g_auto (GStrv) keys = NULL;
      gboolean is_daemon = g_str_equal (groups[i], "Daemon");
      gboolean is_protect = g_str_equal (groups[i], "Protect");

      if (!is_daemon && !is_protect)
        {
          g_message ("%s: ignoring unknown group [%s]", path, groups[i]);
          continue;
        }
      keys = g_key_file_get_keys (keyfile, groups[i], NULL, NULL);
      for (guint k = 0; keys != NULL && keys[k] != NULL; k++)
        {
          gboolean known = FALSE;

          if (is_daemon)
            {
              for (guint d = 0; d < G_N_ELEMENTS (daemon_keys); d++)
                known |= g_str_equal (keys[k], daemon_keys[d].key);
              known |= g_strv_contains (daemon_bool_keys, keys[k]);
            }
          else
            known = g_strv_contains (protect_keys, keys[k]);
          if (!known)
            g_message ("%s: ignoring unknown key %s in [%s]", path, keys[k], groups[i]);
        }
    }
}

static gboolean
load_protect_list (GKeyFile *keyfile, const char *key, char ***out, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  g_auto (GStrv) list = NULL;
  g_autoptr (GPtrArray) kept = g_ptr_array_new_with_free_func (g_free);

  list = g_key_file_get_string_list (keyfile, "Protect", key, NULL, &local_error);
  if (g_error_matches (local_error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_KEY_NOT_FOUND)
      || g_error_matches (local_error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_GROUP_NOT_FOUND))
    return TRUE;
  if (local_error != NULL)
    {
      g_propagate_prefixed_error (error, g_steal_pointer (&local_error), "[Protect] %s: ", key);
      return FALSE;
    }
  for (guint i = 0; list[i] != NULL; i++)
    {
      g_autofree char *item = g_strstrip (g_strdup (list[i]));

      if (*item == '\0')
        continue;
      if (g_str_equal (key, "Cgroups") && item[0] != '/')
        {
          g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                       "[Protect] Cgroups: \"%s\" is not an absolute cgroup path", item);
          return FALSE;
        }
      g_ptr_array_add (kept, g_steal_pointer (&item));
    }
  g_ptr_array_add (kept, NULL);
  g_strfreev (*out);
  *out = (char **) g_ptr_array_steal (kept, NULL);
  return TRUE;
}

MaSettings *
ma_settings_load (const char *path, gboolean required, GError **error)
{
  g_autoptr (MaSettings) settings = ma_settings_new ();
  g_autoptr (GKeyFile) keyfile = g_key_file_new ();
  g_autoptr (GError) local_error = NULL;

  if (!g_key_file_load_from_file (keyfile, path, G_KEY_FILE_NONE, &local_error))
    {
      if (!required && g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        return g_steal_pointer (&settings);
      g_propagate_prefixed_error (error, g_steal_pointer (&local_error), "%s: ", path);
      return NULL;
    }

  warn_unknown_keys (keyfile, path);

  for (guint i = 0; i < G_N_ELEMENTS (daemon_keys); i++)
    {
      const UintKey *k = &daemon_keys[i];
      guint64 value;

      if (!g_key_file_has_key (keyfile, "Daemon", k->key, NULL))
        continue;
      value = g_key_file_get_uint64 (keyfile, "Daemon", k->key, &local_error);
      if (local_error != NULL)
        {
          g_propagate_prefixed_error (error, g_steal_pointer (&local_error),
                                      "%s: [Daemon] %s: ", path, k->key);
          return NULL;
        }
      if (value < k->min || value > k->max)
        {
          g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                       "%s: [Daemon] %s must be %u to %u, not %" G_GUINT64_FORMAT, path, k->key,
                       k->min, k->max, value);
          return NULL;
        }
      G_STRUCT_MEMBER (guint, settings, k->offset) = (guint) value;
    }

  if (g_key_file_has_key (keyfile, "Daemon", "TrackAccess", NULL))
    {
      settings->track_access
          = g_key_file_get_boolean (keyfile, "Daemon", "TrackAccess", &local_error);
      if (local_error != NULL)
        {
          g_propagate_prefixed_error (error, g_steal_pointer (&local_error),
                                      "%s: [Daemon] TrackAccess: ", path);
          return NULL;
        }
    }

  if (!load_protect_list (keyfile, "Names", &settings->protect_names, error)
      || !load_protect_list (keyfile, "Cgroups", &settings->protect_cgroups, error))
    {
      g_prefix_error (error, "%s: ", path);
      return NULL;
    }

  return g_steal_pointer (&settings);
}
