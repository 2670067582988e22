/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <string.h>

#include "classify.h"

gboolean
ma_classify_own_facts (const MaTargetFacts *facts, uid_t caller_uid)
{
  for (guint i = 0; i < G_N_ELEMENTS (facts->uids); i++)
    if (facts->uids[i] != caller_uid)
      return FALSE;
  if (facts->proc_owner != caller_uid)
    return FALSE;
  return facts->cap_eff == 0 && facts->cap_prm == 0;
}

gboolean
ma_classify_cgroup_is_below (const char *cgroup, const char *top)
{
  gsize len;

  while (*cgroup == '/')
    cgroup++;
  while (*top == '/')
    top++;
  len = strlen (top);
  while (len > 0 && top[len - 1] == '/')
    len--;
  if (len == 0)
    return TRUE;
  if (strncmp (cgroup, top, len) != 0)
    return FALSE;
  return cgroup[len] == '\0' || cgroup[len] == '/';
}

gboolean
ma_classify_protected_facts (const MaTargetFacts *facts, const MaProtection *protection,
                             char **out_message)
{
  guint32 pid = facts->pid;

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
      if (strncmp (facts->comm, protection->names[i], 15) == 0)
        {
          *out_message = g_strdup_printf (
              "Process %u (%s) is protected by the configuration (Names).", pid, facts->comm);
          return TRUE;
        }
    }
  for (guint i = 0;
       facts->cgroup != NULL && protection->cgroups != NULL && protection->cgroups[i] != NULL; i++)
    if (ma_classify_cgroup_is_below (facts->cgroup, protection->cgroups[i]))
      {
        *out_message = g_strdup_printf ("Process %u is in the protected cgroup %s (Cgroups).", pid,
                                        protection->cgroups[i]);
        return TRUE;
      }
  return FALSE;
}

void
ma_classify_facts_of (MaTarget *target, MaTargetFacts *facts)
{
  memset (facts, 0, sizeof *facts);
  facts->pid = (guint32) ma_target_get_pid (target);
  facts->comm = ma_target_get_comm (target);
  memcpy (facts->uids, ma_target_get_uids (target), sizeof facts->uids);
  memcpy (facts->gids, ma_target_get_gids (target), sizeof facts->gids);
  facts->proc_owner = ma_target_get_proc_owner (target);
  facts->cap_eff = ma_target_get_cap_eff (target);
  facts->cap_prm = ma_target_get_cap_prm (target);
}

gboolean
ma_classify_own (MaTarget *target, uid_t caller_uid)
{
  MaTargetFacts facts;

  ma_classify_facts_of (target, &facts);
  return ma_classify_own_facts (&facts, caller_uid);
}

gboolean
ma_classify_protected (MaTarget *target, const MaProtection *protection, char **out_message)
{
  g_autofree char *cgroup = NULL;
  MaTargetFacts facts;

  ma_classify_facts_of (target, &facts);
  if (protection->cgroups != NULL && protection->cgroups[0] != NULL)
    {
      g_autoptr (GError) error = NULL;

      /* Unreadable, the process has gone: opening it again will say so. */
      if (!ma_target_read_cgroup (target, &cgroup, &error))
        g_debug ("process %u: cannot read its cgroup: %s", facts.pid, error->message);
      facts.cgroup = cgroup;
    }
  return ma_classify_protected_facts (&facts, protection, out_message);
}
