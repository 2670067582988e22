/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <errno.h>
#include <linux/capability.h>
#include <sys/fsuid.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <gio/gio.h>

#include "credentials.h"

/* capget/capset act on the calling thread only, which is the point here;
 * raw syscalls avoid a libcap dependency for two calls. */
static gboolean
cap_get (struct __user_cap_data_struct data[2])
{
  struct __user_cap_header_struct header = { _LINUX_CAPABILITY_VERSION_3, 0 };

  return syscall (SYS_capget, &header, data) == 0;
}

static gboolean
cap_set (const struct __user_cap_data_struct data[2])
{
  struct __user_cap_header_struct header = { _LINUX_CAPABILITY_VERSION_3, 0 };

  return syscall (SYS_capset, &header, data) == 0;
}

gboolean
ma_credentials_has_cap (int cap)
{
  struct __user_cap_data_struct data[2] = { { 0 } };

  if (!cap_get (data))
    return FALSE;
  return (data[cap / 32].effective & (1u << (cap % 32))) != 0;
}

gboolean
ma_credentials_check_startup (gboolean *out_can_switch)
{
  gboolean ok = TRUE;

  if (!ma_credentials_has_cap (CAP_SYS_NICE))
    {
      g_warning ("CAP_SYS_NICE is missing: process_madvise(2) will refuse every target. "
                 "Run memadvised as root or grant it CAP_SYS_NICE.");
      ok = FALSE;
    }
  if (!ma_credentials_has_cap (CAP_SYS_PTRACE))
    g_warning ("CAP_SYS_PTRACE is missing: only processes of the daemon's own user "
               "can be planned or reclaimed.");
  *out_can_switch = ma_credentials_has_cap (CAP_SETUID) && ma_credentials_has_cap (CAP_SETGID);
  if (!*out_can_switch)
    g_message ("CAP_SETUID/CAP_SETGID are missing: own-process work cannot run with the "
               "caller's filesystem ids and relies on the daemon's classification alone.");
  return ok;
}

gboolean
ma_credentials_switch_to (uid_t uid, gid_t gid, gboolean keep_ptrace, MaCredentialsSwitch *sw,
                          GError **error)
{
  struct __user_cap_data_struct data[2] = { { 0 } };

  sw->active = FALSE;
  sw->was_active = FALSE;
  if (!cap_get (data))
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno),
                   "Could not read capabilities: %s", g_strerror (errno));
      return FALSE;
    }
  sw->old_effective[0] = data[0].effective;
  sw->old_effective[1] = data[1].effective;

  /* The ids first: setfsuid needs CAP_SETUID, dropped just below. It
   * reports nothing, so read the values back to know they took. */
  sw->old_fsgid = (gid_t) setfsgid (gid);
  sw->old_fsuid = (uid_t) setfsuid (uid);
  sw->active = TRUE;
  if ((uid_t) setfsuid ((uid_t) -1) != uid || (gid_t) setfsgid ((gid_t) -1) != gid)
    {
      ma_credentials_restore (sw);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
                   "Could not take the caller's filesystem ids.");
      return FALSE;
    }

  /* Only CAP_SYS_NICE, which process_madvise(2) needs, stays effective:
   * CAP_SYS_PTRACE is not the only capability that opens another user's
   * smaps (CAP_SYS_ADMIN and CAP_PERFMON do on recent kernels). Kept,
   * CAP_SYS_PTRACE lets the thread past the check of the target's user
   * namespace; the caller's fsuid still decides the file permissions of
   * pagemap and clear_refs. */
  data[0].effective &= 1u << CAP_SYS_NICE | (keep_ptrace ? 1u << CAP_SYS_PTRACE : 0);
  data[1].effective = 0;
  if (!cap_set (data))
    {
      int errsv = errno;
      ma_credentials_restore (sw);
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv),
                   "Could not drop capabilities: %s", g_strerror (errsv));
      return FALSE;
    }
  sw->was_active = TRUE;
  return TRUE;
}

void
ma_credentials_restore (MaCredentialsSwitch *sw)
{
  struct __user_cap_data_struct data[2] = { { 0 } };

  if (!sw->active)
    return;
  /* The effective set first: putting the fsuid back needs CAP_SETUID. */
  if (!cap_get (data))
    g_error ("Could not read capabilities to restore a worker thread: %s", g_strerror (errno));
  data[0].effective = sw->old_effective[0];
  data[1].effective = sw->old_effective[1];
  if (!cap_set (data))
    g_error ("Could not restore the capabilities of a worker thread: %s", g_strerror (errno));
  setfsuid (sw->old_fsuid);
  setfsgid (sw->old_fsgid);
  if ((uid_t) setfsuid ((uid_t) -1) != sw->old_fsuid
      || (gid_t) setfsgid ((gid_t) -1) != sw->old_fsgid)
    g_error ("Could not restore the filesystem ids of a worker thread.");
  sw->active = FALSE;
}
