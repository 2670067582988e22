/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * What a target's namespaces say about who may see and touch it: its user
 * namespace (who created it, what is mapped into it), whether it shares
 * the daemon's pid namespace, and the proc file system at /proc in its
 * mount namespace. Everything is read through the target's verified
 * /proc/PID directory.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ma-private.h"

/* A user namespace can nest 32 deep (the kernel's limit). */
#define MAX_USERNS_DEPTH 33

static gboolean
same_inode (const struct stat *a, const struct stat *b)
{
  return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

static gboolean
map_of_maps_root (MaTarget *target, const char *name, gboolean *out, GError **error)
{
  g_autofree char *buf = NULL;
  gsize len;

  buf = ma_read_file_at (target->proc_fd, name, &len, error);
  if (buf == NULL)
    return FALSE;
  if (!ma_idmap_parse_maps (buf, len, 0, out, error))
    {
      g_prefix_error (error, "Process %d: ", (int) target->pid);
      return FALSE;
    }
  return TRUE;
}

gboolean
ma_target_read_userns (MaTarget *target, uid_t uid, MaUserns *out, GError **error)
{
  MaUserns userns = { 0 };
  struct stat own, st;
  gboolean all_owned = TRUE;
  uid_t owner = (uid_t) -1;
  int fd;

  if (stat ("/proc/self/ns/user", &own) < 0)
    {
      ma_set_error_from_errno (error, errno, getpid (), "stat /proc/self/ns/user");
      return FALSE;
    }
  fd = openat (target->proc_fd, "ns/user", O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    {
      ma_set_error_from_errno (error, errno, target->pid, "open ns/user");
      return FALSE;
    }
  /* From the target's namespace up to the daemon's: each owner is given
   * as a uid of the daemon's namespace. */
  for (guint depth = 0; fd >= 0; depth++)
    {
      int parent;

      if (fstat (fd, &st) < 0 || depth == MAX_USERNS_DEPTH)
        {
          ma_set_error_from_errno (error, depth == MAX_USERNS_DEPTH ? ELOOP : errno, target->pid,
                                   "walk up its user namespaces");
          close (fd);
          return FALSE;
        }
      if (same_inode (&st, &own))
        break;
      userns.nested = TRUE;
      if (ioctl (fd, NS_GET_OWNER_UID, &owner) < 0)
        {
          ma_set_error_from_errno (error, errno, target->pid, "NS_GET_OWNER_UID");
          close (fd);
          return FALSE;
        }
      if (owner != uid)
        all_owned = FALSE;
      parent = ioctl (fd, NS_GET_PARENT);
      if (parent < 0 && errno != EPERM)
        {
          ma_set_error_from_errno (error, errno, target->pid, "NS_GET_PARENT");
          close (fd);
          return FALSE;
        }
      /* EPERM: the parent is outside the daemon's namespace, so the target
       * is not below it and nobody in it owns the target's. */
      if (parent < 0)
        owner = (uid_t) -1;
      close (fd);
      fd = parent;
    }
  if (fd >= 0)
    close (fd);

  if (userns.nested)
    {
      gboolean uid_0 = FALSE, gid_0 = FALSE;

      /* @owner is now that of the namespace just below the daemon's. */
      userns.owned_top = owner == uid;
      userns.owned = userns.owned_top && all_owned;
      if (!map_of_maps_root (target, "uid_map", &uid_0, error)
          || !map_of_maps_root (target, "gid_map", &gid_0, error))
        return FALSE;
      userns.root_mapped = uid_0 || gid_0;
    }
  *out = userns;
  return TRUE;
}

gboolean
ma_target_shares_pid_ns (MaTarget *target, gboolean *out, GError **error)
{
  struct stat own, st;

  if (stat ("/proc/self/ns/pid", &own) < 0)
    {
      ma_set_error_from_errno (error, errno, getpid (), "stat /proc/self/ns/pid");
      return FALSE;
    }
  if (fstatat (target->proc_fd, "ns/pid", &st, 0) < 0)
    {
      ma_set_error_from_errno (error, errno, target->pid, "stat ns/pid");
      return FALSE;
    }
  *out = same_inode (&st, &own);
  return TRUE;
}

static gboolean
read_proc_mount (int dir_fd, pid_t pid, MaProcMount *out, GError **error)
{
  g_autofree char *buf = NULL;
  gsize len;

  buf = ma_read_file_at (dir_fd, "mountinfo", &len, error);
  if (buf == NULL)
    return FALSE;
  if (!ma_mountinfo_parse_proc (buf, len, out, error))
    {
      g_prefix_error (error, "Process %d: ", (int) pid);
      return FALSE;
    }
  return TRUE;
}

gboolean
ma_target_read_proc_mount (MaTarget *target, MaProcMount *out, GError **error)
{
  return read_proc_mount (target->proc_fd, target->pid, out, error);
}

gboolean
ma_read_own_proc_mount (MaProcMount *out, GError **error)
{
  int fd = open ("/proc/self", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  gboolean ok;

  if (fd < 0)
    {
      ma_set_error_from_errno (error, errno, getpid (), "open /proc/self");
      return FALSE;
    }
  ok = read_proc_mount (fd, getpid (), out, error);
  close (fd);
  return ok;
}
