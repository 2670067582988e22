/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Parser of /proc/PID/mountinfo, for one question: which proc file system
 * is on top at /proc in that process's mount namespace, and with which of
 * the options that say what it shows (hidepid=, gid=; proc(5)).
 *
 * Bounded by the buffer length (no NUL terminator). Semantics beyond
 * ma-parse.h:
 * - Lines are "ID PARENT MAJ:MIN ROOT MOUNT-POINT OPTIONS [OPTIONAL...] -
 *   TYPE SOURCE SUPER-OPTIONS"; fields are separated by one space (the
 *   kernel escapes spaces in paths as \040). A line of another shape, a
 *   number that overflows and a last line without '\n' are errors.
 * - Only mounts whose mount point is "/proc" count. The one on top is the
 *   one no other mount at /proc is mounted on (the last listed, should
 *   there be several). When it is not a proc file system (something was
 *   mounted over /proc), or no mount is at /proc at all, the process's
 *   /proc shows nothing: @out->mounted is FALSE.
 * - hidepid= is "off", "noaccess", "invisible" or "ptraceable" (or 0, 1,
 *   2, 4, as older kernels write it); any other value is an error, since
 *   what the mount shows would be unknown. gid= is a decimal group id.
 * - On error *out is left untouched.
 */
#include "config.h"

#include <gio/gio.h>
#include <string.h>

#include "ma-parse.h"
#include "parse-util.h"

typedef struct
{
  gboolean at_proc; /* the mount point is /proc: the rest is filled */
  guint64 id;
  guint64 parent;
  gboolean is_proc;
  const char *options; /* the super options, up to the end of the line */
  const char *options_end;
} ProcMountLine;

/* The next space-separated field of [*p, end): FALSE when there is none. */
static gboolean
next_field (const char **p, const char *end, const char **field, gsize *field_len)
{
  const char *s = *p;
  const char *space;

  if (s >= end)
    return FALSE;
  space = memchr (s, ' ', (gsize) (end - s));
  *field = s;
  *field_len = (gsize) ((space != NULL ? space : end) - s);
  if (*field_len == 0)
    return FALSE;
  *p = space != NULL ? space + 1 : end;
  return TRUE;
}

static gboolean
field_is (const char *field, gsize len, const char *lit)
{
  return len == strlen (lit) && memcmp (field, lit, len) == 0;
}

static gboolean
parse_number_field (const char *field, gsize len, guint64 max, guint64 *out)
{
  const char *p = field;

  return ma_read_dec (&p, field + len, max, out) && p == field + len;
}

/* One line [p, end) without its '\n': FALSE when malformed. Of lines of
 * other mount points, only the first five fields are read. */
static gboolean
parse_line (const char *p, const char *end, ProcMountLine *line)
{
  const char *field;
  gsize len;
  guint i;

  memset (line, 0, sizeof *line);
  if (!next_field (&p, end, &field, &len)
      || !parse_number_field (field, len, G_MAXINT32, &line->id))
    return FALSE;
  if (!next_field (&p, end, &field, &len)
      || !parse_number_field (field, len, G_MAXINT32, &line->parent))
    return FALSE;
  /* MAJ:MIN, ROOT */
  for (i = 0; i < 2; i++)
    if (!next_field (&p, end, &field, &len))
      return FALSE;
  if (!next_field (&p, end, &field, &len))
    return FALSE;
  if (!field_is (field, len, "/proc"))
    return TRUE;
  line->at_proc = TRUE;
  /* OPTIONS, then the optional fields up to "-". */
  if (!next_field (&p, end, &field, &len))
    return FALSE;
  do
    if (!next_field (&p, end, &field, &len))
      return FALSE;
  while (!field_is (field, len, "-"));
  /* TYPE, SOURCE, SUPER-OPTIONS (the last field). */
  if (!next_field (&p, end, &field, &len))
    return FALSE;
  line->is_proc = field_is (field, len, "proc");
  if (!next_field (&p, end, &field, &len) || !next_field (&p, end, &field, &len) || p != end)
    return FALSE;
  line->options = field;
  line->options_end = field + len;
  return TRUE;
}

static gboolean
parse_hidepid (const char *value, gsize len, MaHidepid *out)
{
  static const struct
  {
    const char *name;
    const char *number;
    MaHidepid hidepid;
  } values[] = {
    { "off", "0", MA_HIDEPID_OFF },
    { "noaccess", "1", MA_HIDEPID_NOACCESS },
    { "invisible", "2", MA_HIDEPID_INVISIBLE },
    { "ptraceable", "4", MA_HIDEPID_PTRACEABLE },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (values); i++)
    if (field_is (value, len, values[i].name) || field_is (value, len, values[i].number))
      {
        *out = values[i].hidepid;
        return TRUE;
      }
  return FALSE;
}

static gboolean
parse_super_options (const ProcMountLine *line, MaProcMount *mount)
{
  const char *p = line->options;

  mount->hidepid = MA_HIDEPID_OFF;
  mount->has_gid = FALSE;
  while (p < line->options_end)
    {
      const char *comma = memchr (p, ',', (gsize) (line->options_end - p));
      const char *option_end = comma != NULL ? comma : line->options_end;
      gsize len = (gsize) (option_end - p);

      if (len > 8 && memcmp (p, "hidepid=", 8) == 0)
        {
          if (!parse_hidepid (p + 8, len - 8, &mount->hidepid))
            return FALSE;
        }
      else if (len > 4 && memcmp (p, "gid=", 4) == 0)
        {
          guint64 gid;

          if (!parse_number_field (p + 4, len - 4, G_MAXUINT32, &gid))
            return FALSE;
          mount->gid = (guint32) gid;
          mount->has_gid = TRUE;
        }
      p = option_end + (comma != NULL ? 1 : 0);
    }
  return TRUE;
}

gboolean
ma_mountinfo_parse_proc (const char *buf, gsize len, MaProcMount *out, GError **error)
{
  g_autoptr (GArray) mounts = g_array_new (FALSE, FALSE, sizeof (ProcMountLine));
  const char *p = buf;
  const char *end = buf + len;
  const ProcMountLine *top = NULL;
  MaProcMount mount = { 0 };
  guint64 line_no = 0;

  g_return_val_if_fail (buf != NULL || len == 0, FALSE);
  g_return_val_if_fail (out != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  while (p < end)
    {
      const char *nl = memchr (p, '\n', (gsize) (end - p));
      ProcMountLine line;

      line_no++;
      if (nl == NULL)
        return ma_parse_fail (error, "mountinfo", line_no,
                              "cut short (no newline at end of input)");
      if (!parse_line (p, nl, &line))
        return ma_parse_fail (error, "mountinfo", line_no, "malformed");
      if (line.at_proc)
        g_array_append_val (mounts, line);
      p = nl + 1;
    }

  /* On top: the last mount at /proc that no other mount at /proc is on. */
  for (guint i = 0; i < mounts->len; i++)
    {
      const ProcMountLine *m = &g_array_index (mounts, ProcMountLine, i);
      gboolean covered = FALSE;

      for (guint j = 0; j < mounts->len && !covered; j++)
        covered = j != i && g_array_index (mounts, ProcMountLine, j).parent == m->id;
      if (!covered)
        top = m;
    }

  if (top != NULL && top->is_proc)
    {
      if (!parse_super_options (top, &mount))
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       "mountinfo: the options of /proc are not understood: %.*s",
                       (int) (top->options_end - top->options), top->options);
          return FALSE;
        }
      mount.mounted = TRUE;
    }
  *out = mount;
  return TRUE;
}
