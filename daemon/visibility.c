/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <linux/capability.h>
#include <string.h>

#include "visibility.h"

void
ma_visibility_fallback (MaCallerView *view, uid_t uid, gid_t gid)
{
  memset (view, 0, sizeof *view);
  view->uid = view->fsuid = uid;
  view->fsgid = gid;
  view->in_daemon_userns = TRUE;
  view->mounts[0] = (MaProcMount){ .mounted = TRUE, .hidepid = MA_HIDEPID_INVISIBLE };
  view->n_mounts = 1;
}

gboolean
ma_visibility_ptraceable (const MaTargetFacts *facts, const MaCallerView *caller)
{
  if (caller->uid == 0 || (caller->cap_eff & (1ull << CAP_SYS_PTRACE)) != 0)
    return TRUE;
  /* From another user namespace the caller would need CAP_SYS_PTRACE in
   * the daemon's. */
  if (!caller->in_daemon_userns)
    return FALSE;
  /* The creator of a user namespace holds every capability in it and
   * below it: the target's uids and groups do not matter then. */
  if (facts->userns_nested)
    return facts->userns_caller_owned;
  for (guint i = 0; i < 3; i++)
    if (facts->uids[i] != caller->fsuid || facts->gids[i] != caller->fsgid)
      return FALSE;
  /* Dumpable (the kernel makes /proc/PID root's otherwise), and nothing
   * permitted that the caller does not hold. */
  return facts->proc_owner == caller->fsuid && (facts->cap_prm & ~caller->cap_eff) == 0;
}

static gboolean
in_group (const MaCallerView *caller, guint32 gid)
{
  if (gid == caller->fsgid)
    return TRUE;
  for (guint i = 0; i < caller->n_groups; i++)
    if (caller->groups[i] == gid)
      return TRUE;
  return FALSE;
}

/* What one proc mount shows (fs/proc/base.c, has_pid_permissions()). */
static MaSeen
seen_in (const MaProcMount *mount, gboolean ptraceable, const MaCallerView *caller)
{
  gboolean member;

  if (!mount->mounted)
    return MA_SEEN_NOTHING;
  member = mount->has_gid && in_group (caller, mount->gid);
  switch (mount->hidepid)
    {
    case MA_HIDEPID_OFF:
      return MA_SEEN_READABLE;
    case MA_HIDEPID_NOACCESS:
      return ptraceable || member ? MA_SEEN_READABLE : MA_SEEN_EXISTS;
    case MA_HIDEPID_INVISIBLE:
      return ptraceable || member ? MA_SEEN_READABLE : MA_SEEN_NOTHING;
    case MA_HIDEPID_PTRACEABLE:
    default:
      return ptraceable ? MA_SEEN_READABLE : MA_SEEN_NOTHING;
    }
}

MaSeen
ma_visibility_seen (const MaTargetFacts *facts, const MaCallerView *caller)
{
  gboolean ptraceable;
  MaSeen seen = MA_SEEN_READABLE;

  if (caller->uid == 0)
    return MA_SEEN_READABLE;
  ptraceable = ma_visibility_ptraceable (facts, caller);
  for (guint i = 0; i < caller->n_mounts; i++)
    seen = MIN (seen, seen_in (&caller->mounts[i], ptraceable, caller));
  return seen;
}
