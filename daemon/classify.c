/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "classify.h"

gboolean
ma_target_is_own (MaTarget *target, uid_t caller_uid)
{
  const uid_t *uids = ma_target_get_uids (target);

  for (guint i = 0; i < 4; i++)
    if (uids[i] != caller_uid)
      return FALSE;
  if (ma_target_get_proc_owner (target) != caller_uid)
    return FALSE;
  return ma_target_get_cap_eff (target) == 0 && ma_target_get_cap_prm (target) == 0;
}

/* The cgroup v2 path of @target ("0::/path"), NULL if unknown. */
static char *
read_cgroup (MaTarget *target)
{
  char buf[4096];
  ssize_t n;
  int fd;

  fd = openat (ma_target_get_proc_fd (target), "cgroup", O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return NULL;
  do
    n = read (fd, buf, sizeof buf - 1);
  while (n < 0 && errno == EINTR);
  close (fd);
  if (n <= 0)
    return NULL;
  buf[n] = '\0';

  for (char *line = buf; line != NULL && *line != '\0';)
    {
      char *next = strchr (line, '\n');

      if (next != NULL)
        *next++ = '\0';
      if (g_str_has_prefix (line, "0::"))
        return g_strdup (line + 3);
      line = next;
    }
  return NULL;
}

static gboolean
cgroup_is_below (const char *cgroup, const char *protected_path)
{
  gsize len = strlen (protected_path);

  while (len > 1 && protected_path[len - 1] == '/')
    len--;
  if (strncmp (cgroup, protected_path, len) != 0)
    return FALSE;
  return cgroup[len] == '\0' || cgroup[len] == '/' || len == 1;
}

gboolean
ma_target_is_protected (MaTarget *target, const MaProtection *protection, char **out_message)
{
  guint32 pid = (guint32) ma_target_get_pid (target);
  const char *comm = ma_target_get_comm (target);
  g_autofree char *cgroup = NULL;

  if (protection->bus_pid != 0 && pid == protection->bus_pid)
    {
      *out_message = g_strdup_printf ("Process %u is the bus daemon and is never touched.", pid);
      return TRUE;
    }
  if (protection->polkit_pid != 0 && pid == protection->polkit_pid)
    {
      *out_message = g_strdup_printf ("Process %u is polkitd and is never touched.", pid);
      return TRUE;
    }
  for (guint i = 0; protection->names != NULL && protection->names[i] != NULL; i++)
    {
      /* comm is at most 15 bytes: a longer configured name matches its
       * prefix. A shorter comm's NUL is compared too, so it matches only
       * a name of its own length. */
      if (strncmp (comm, protection->names[i], 15) == 0)
        {
          *out_message = g_strdup_printf (
              "Process %u (%s) is protected by the configuration (Names).", pid, comm);
          return TRUE;
        }
    }
  if (protection->cgroups != NULL && protection->cgroups[0] != NULL)
    {
      cgroup = read_cgroup (target);
      for (guint i = 0; cgroup != NULL && protection->cgroups[i] != NULL; i++)
        if (cgroup_is_below (cgroup, protection->cgroups[i]))
          {
            *out_message = g_strdup_printf ("Process %u is in the protected cgroup %s (Cgroups).",
                                            pid, protection->cgroups[i]);
            return TRUE;
          }
    }
  return FALSE;
}
