/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Cgroup paths as call arguments: validation, resolution beneath the
 * cgroup2 root and the member pids of a subtree. The path only selects
 * targets; each process is still checked and authorized on its own.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <limits.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "cgroups.h"
#include "ma-dbus-names.h"

/* Pure cgroup2 systems mount it here, hybrid ones at unified/ (systemd
 * keeps the same tree there as in name=systemd): the clients' rule too. */
static const char *const cgroup2_roots[] = { MA_CGROUP2_ROOT, MA_CGROUP2_ROOT_HYBRID };

gboolean
ma_cgroup_path_check (const char *path, GError **error)
{
  g_auto (GStrv) parts = NULL;
  const char *rest = path[0] == '/' ? path + 1 : path;

  if (path[0] == '\0')
    {
      g_set_error (error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS,
                   "Argument cgroup must not be empty.");
      return FALSE;
    }
  if (strlen (path) >= PATH_MAX)
    {
      g_set_error (error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS, "Argument cgroup is too long.");
      return FALSE;
    }
  if (rest[0] == '\0')
    return TRUE;

  parts = g_strsplit (rest, "/", -1);
  for (guint i = 0; parts[i] != NULL; i++)
    {
      if (parts[i][0] == '\0' || g_str_equal (parts[i], ".") || g_str_equal (parts[i], ".."))
        {
          g_set_error (error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS,
                       "Argument cgroup must not have empty, \".\" or \"..\" components.");
          return FALSE;
        }
    }
  return TRUE;
}

static gboolean
is_cgroup2 (int fd)
{
  struct statfs st;

  return fstatfs (fd, &st) == 0 && st.f_type == CGROUP2_SUPER_MAGIC;
}

/* The cgroup2 root as an O_PATH directory. On a pure cgroup2 system the
 * root has cgroup.controllers; /sys/fs/cgroup is a tmpfs on hybrid ones. */
static int
open_root (GError **error)
{
  for (guint i = 0; i < G_N_ELEMENTS (cgroup2_roots); i++)
    {
      int fd = open (cgroup2_roots[i], O_PATH | O_DIRECTORY | O_CLOEXEC);

      if (fd < 0)
        continue;
      if (is_cgroup2 (fd))
        return fd;
      close (fd);
    }
  g_set_error (error, G_DBUS_ERROR, G_DBUS_ERROR_FAILED,
               "No cgroup2 hierarchy is mounted at " MA_CGROUP2_ROOT " or " MA_CGROUP2_ROOT_HYBRID
               ".");
  return -1;
}

static int
resolve (int root_fd, const char *path)
{
  struct open_how how = {
    .flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC,
    .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
  };
  const char *rest = path[0] == '/' ? path + 1 : path;
  long fd;

  do
    fd = syscall (SYS_openat2, root_fd, rest[0] == '\0' ? "." : rest, &how, sizeof how);
  while (fd < 0 && errno == EINTR);
  return (int) fd;
}

/* Adds the pids of cgroup.procs in @dir_fd; FALSE with errno on failure. */
static gboolean
read_procs (int dir_fd, GHashTable *pids, guint max, gboolean *too_many)
{
  g_autoptr (GString) buf = g_string_new (NULL);
  char chunk[4096];
  ssize_t n;
  int fd;
  char *p;

  fd = openat (dir_fd, "cgroup.procs", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return FALSE;
  for (;;)
    {
      n = read (fd, chunk, sizeof chunk);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break;
      g_string_append_len (buf, chunk, n);
    }
  if (n < 0)
    {
      int saved = errno;

      close (fd);
      errno = saved;
      return FALSE;
    }
  close (fd);

  p = buf->str;
  while (*p != '\0')
    {
      char *end;
      guint64 pid = g_ascii_strtoull (p, &end, 10);

      if (end == p)
        break;
      if (pid > 0 && pid <= G_MAXUINT32)
        g_hash_table_add (pids, GUINT_TO_POINTER ((guint32) pid));
      if (g_hash_table_size (pids) > max)
        {
          *too_many = TRUE;
          return TRUE;
        }
      p = end;
      while (*p == '\n')
        p++;
    }
  return TRUE;
}

/* Walks the subtree through directory fds only: a cgroup renamed or moved
 * meanwhile cannot redirect the walk elsewhere. Takes @dir_fd. */
static gboolean
collect (int dir_fd, GHashTable *pids, guint max, gboolean *too_many, guint depth)
{
  DIR *dir;
  struct dirent *entry;
  gboolean ok = TRUE;

  /* The members of a threaded subtree are listed at its domain, whose
   * children refuse reads (EOPNOTSUPP); a cgroup removed meanwhile has none
   * (ENODEV, ENOENT). */
  if (!read_procs (dir_fd, pids, max, too_many) && errno != EOPNOTSUPP && errno != ENODEV
      && errno != ENOENT)
    {
      close (dir_fd);
      return FALSE;
    }
  /* The kernel caps cgroup depth far below this; it only bounds recursion. */
  if (*too_many || depth >= 256)
    {
      close (dir_fd);
      return TRUE;
    }

  dir = fdopendir (dir_fd);
  if (dir == NULL)
    {
      close (dir_fd);
      return FALSE;
    }
  while (ok && !*too_many && (entry = readdir (dir)) != NULL)
    {
      int child;

      if (entry->d_type != DT_DIR || g_str_equal (entry->d_name, ".")
          || g_str_equal (entry->d_name, ".."))
        continue;
      child = openat (dirfd (dir), entry->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (child < 0)
        {
          /* Removed since readdir: it has no members any more. */
          if (errno == ENOENT)
            continue;
          ok = FALSE;
          break;
        }
      ok = collect (child, pids, max, too_many, depth + 1);
    }
  closedir (dir);
  return ok;
}

static int
compare_pids (gconstpointer a, gconstpointer b)
{
  guint32 x = *(const guint32 *) a, y = *(const guint32 *) b;

  return x < y ? -1 : x > y;
}

GArray *
ma_cgroup_list_members (const char *path, guint max, GError **error)
{
  g_autoptr (GHashTable) set = g_hash_table_new (g_direct_hash, g_direct_equal);
  g_autoptr (GArray) pids = NULL;
  gboolean too_many = FALSE;
  GHashTableIter iter;
  gpointer key;
  int root_fd, fd, saved;

  if (!ma_cgroup_path_check (path, error))
    return NULL;
  root_fd = open_root (error);
  if (root_fd < 0)
    return NULL;
  fd = resolve (root_fd, path);
  saved = errno;
  close (root_fd);
  if (fd < 0)
    {
      g_set_error (error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS,
                   "Argument cgroup names no cgroup in the hierarchy: %s.", g_strerror (saved));
      return NULL;
    }
  if (!is_cgroup2 (fd))
    {
      close (fd);
      g_set_error (error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS,
                   "Argument cgroup names no cgroup in the hierarchy.");
      return NULL;
    }

  if (!collect (fd, set, max, &too_many, 0))
    {
      saved = errno;
      g_set_error (error, G_DBUS_ERROR, G_DBUS_ERROR_FAILED,
                   "Could not read the members of cgroup %s: %s.", path, g_strerror (saved));
      return NULL;
    }
  if (too_many)
    {
      g_set_error (error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS,
                   "Cgroup %s has more than %u processes.", path, max);
      return NULL;
    }

  pids = g_array_sized_new (FALSE, FALSE, sizeof (guint32), g_hash_table_size (set));
  g_hash_table_iter_init (&iter, set);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    {
      guint32 pid = GPOINTER_TO_UINT (key);

      g_array_append_val (pids, pid);
    }
  g_array_sort (pids, compare_pids);
  return g_steal_pointer (&pids);
}
