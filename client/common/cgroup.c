/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Where the clients find cgroups: the root memadvised resolves paths in
 * (its rule, memadvised(8)), this process's own cgroup and the user
 * manager's.
 */
#include "config.h"

#include <linux/magic.h>
#include <string.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "ma-client.h"
#include "ma-dbus-names.h"

const char *
ma_client_cgroup2_root (GError **error)
{
  static const char *const roots[] = { MA_CGROUP2_ROOT, MA_CGROUP2_ROOT_HYBRID };

  for (gsize i = 0; i < G_N_ELEMENTS (roots); i++)
    {
      struct statfs st;

      if (statfs (roots[i], &st) == 0 && st.f_type == CGROUP2_SUPER_MAGIC)
        return roots[i];
    }
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
               "No cgroup2 hierarchy is mounted at %s or %s", MA_CGROUP2_ROOT,
               MA_CGROUP2_ROOT_HYBRID);
  return NULL;
}

char *
ma_client_own_cgroup (void)
{
  g_autofree char *contents = NULL;
  g_auto (GStrv) lines = NULL;

  if (!g_file_get_contents ("/proc/self/cgroup", &contents, NULL, NULL))
    return NULL;
  lines = g_strsplit (contents, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    if (g_str_has_prefix (lines[i], "0::/"))
      return g_strdup (lines[i] + strlen ("0::/"));
  return NULL;
}

char *
ma_client_user_manager_cgroup (const char *own_cgroup)
{
  g_autofree char *manager = g_strdup_printf ("user@%u.service", (guint) getuid ());

  if (own_cgroup != NULL)
    {
      g_auto (GStrv) parts = g_strsplit (own_cgroup, "/", -1);
      g_autoptr (GString) prefix = g_string_new (NULL);

      for (guint i = 0; parts[i] != NULL; i++)
        {
          if (i > 0)
            g_string_append_c (prefix, '/');
          g_string_append (prefix, parts[i]);
          if (g_str_equal (parts[i], manager))
            return g_string_free (g_steal_pointer (&prefix), FALSE);
        }
    }
  return g_strdup_printf ("user.slice/user-%u.slice/%s", (guint) getuid (), manager);
}
