/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Parsers of /proc/PID/status and of the flags field of /proc/PID/stat.
 *
 * Both are bounded by the buffer length (no NUL terminator) and
 * overflow-checked: they feed the decision whether a process is the
 * caller's own, so a misread must be an error, never a default.
 *
 * Semantics beyond ma-parse.h (status):
 * - Lines are "Key:<tab>value". Lines of unknown keys, and lines that are
 *   not "Key:" at all, are ignored; a known key given twice is an error.
 * - A last line without '\n' was cut short and is an error (the kernel
 *   ends every line with one).
 * - Name: one tab after the colon is skipped, then up to 63 bytes are
 *   copied as the kernel escaped them; a NUL byte in it is an error (it
 *   would silently shorten the name).
 * - has_caps is TRUE when CapInh, CapPrm, CapEff and CapBnd were all read;
 *   CapAmb is optional (Linux < 4.3 lacks it) and then 0.
 * - On error *out is left untouched.
 */
#include "config.h"

#include <gio/gio.h>
#include <stdarg.h>
#include <string.h>

#include "ma-parse.h"
#include "parse-util.h"

enum
{
  SEEN_NAME = 1 << 0,
  SEEN_STATE = 1 << 1,
  SEEN_UID = 1 << 2,
  SEEN_CAP_INH = 1 << 3,
  SEEN_CAP_PRM = 1 << 4,
  SEEN_CAP_EFF = 1 << 5,
  SEEN_CAP_BND = 1 << 6,
  SEEN_CAP_AMB = 1 << 7,
  SEEN_KTHREAD = 1 << 8,
  SEEN_VMRSS = 1 << 9,
  SEEN_RSSANON = 1 << 10,
  SEEN_VMSWAP = 1 << 11,
  SEEN_VMLCK = 1 << 12,
  SEEN_GID = 1 << 13,
};

#define SEEN_ALL_CAPS (SEEN_CAP_INH | SEEN_CAP_PRM | SEEN_CAP_EFF | SEEN_CAP_BND)

static inline gboolean
only_blanks_left (const char *p, const char *end)
{
  return ma_skip_blanks (p, end) == end;
}

static gboolean
parse_hex_value (const char *p, const char *end, guint64 *out)
{
  p = ma_skip_blanks (p, end);
  return ma_read_hex (&p, end, 16, out) && only_blanks_left (p, end);
}

/* "    1234 kB", in bytes. */
static gboolean
parse_kb_value (const char *p, const char *end, guint64 *out)
{
  guint64 kb;

  p = ma_skip_blanks (p, end);
  if (!ma_read_dec (&p, end, G_MAXUINT64 / 1024, &kb))
    return FALSE;
  if (end - p < 3 || p[0] != ' ' || p[1] != 'k' || p[2] != 'B' || !only_blanks_left (p + 3, end))
    return FALSE;
  *out = kb * 1024;
  return TRUE;
}

/* Four ids, as the Uid: and Gid: lines give them. */
static gboolean
parse_uids (const char *p, const char *end, uid_t uids[4])
{
  for (int i = 0; i < 4; i++)
    {
      guint64 v;
      const char *before = p;

      p = ma_skip_blanks (p, end);
      /* Values are separated by blanks; "1000" then "1000" glued is one. */
      if (i > 0 && p == before)
        return FALSE;
      if (!ma_read_dec (&p, end, G_MAXUINT32, &v))
        return FALSE;
      uids[i] = (uid_t) v;
    }
  return only_blanks_left (p, end);
}

static gboolean
parse_name (const char *p, const char *end, char name[64])
{
  gsize n;

  /* Only the separator tab: a name may itself begin with blanks. */
  if (p < end && *p == '\t')
    p++;
  n = MIN ((gsize) (end - p), 63);
  if (memchr (p, '\0', (gsize) (end - p)) != NULL)
    return FALSE;
  memcpy (name, p, n);
  name[n] = '\0';
  return TRUE;
}

static inline gboolean
key_is (const char *key, gsize key_len, const char *lit)
{
  gsize lit_len = strlen (lit);
  return key_len == lit_len && memcmp (key, lit, lit_len) == 0;
}

/* Name, State, Uid, Gid and Kthread: which process it is and whose. */
static guint
parse_identity_field (const char *key, gsize key_len, const char *v, const char *end, MaStatus *st,
                      gboolean *ok)
{
  const char *s;

  if (key_is (key, key_len, "Name"))
    {
      *ok = parse_name (v, end, st->name);
      return SEEN_NAME;
    }
  if (key_is (key, key_len, "State"))
    {
      s = ma_skip_blanks (v, end);
      *ok = s < end && g_ascii_isalpha (*s);
      if (*ok)
        st->state = *s;
      return SEEN_STATE;
    }
  if (key_is (key, key_len, "Uid"))
    {
      *ok = parse_uids (v, end, st->uids);
      st->has_uids = *ok;
      return SEEN_UID;
    }
  if (key_is (key, key_len, "Gid"))
    {
      *ok = parse_uids (v, end, st->gids);
      st->has_gids = *ok;
      return SEEN_GID;
    }
  if (key_is (key, key_len, "Kthread"))
    {
      s = ma_skip_blanks (v, end);
      *ok = s < end && (*s == '0' || *s == '1') && only_blanks_left (s + 1, end);
      if (*ok)
        st->kthread = *s - '0';
      return SEEN_KTHREAD;
    }
  return 0;
}

/* CapInh, CapPrm, CapEff, CapBnd and CapAmb: what the process may do. */
static guint
parse_caps_field (const char *key, gsize key_len, const char *v, const char *end, MaStatus *st,
                  gboolean *ok)
{
  guint64 *out;
  guint bit;

  if (key_is (key, key_len, "CapInh"))
    {
      bit = SEEN_CAP_INH;
      out = &st->cap_inh;
    }
  else if (key_is (key, key_len, "CapPrm"))
    {
      bit = SEEN_CAP_PRM;
      out = &st->cap_prm;
    }
  else if (key_is (key, key_len, "CapEff"))
    {
      bit = SEEN_CAP_EFF;
      out = &st->cap_eff;
    }
  else if (key_is (key, key_len, "CapBnd"))
    {
      bit = SEEN_CAP_BND;
      out = &st->cap_bnd;
    }
  else if (key_is (key, key_len, "CapAmb"))
    {
      bit = SEEN_CAP_AMB;
      out = &st->cap_amb;
    }
  else
    return 0;
  *ok = parse_hex_value (v, end, out);
  return bit;
}

/* VmRSS, VmLck, RssAnon and VmSwap: the process's memory, in bytes. */
static guint
parse_memory_field (const char *key, gsize key_len, const char *v, const char *end, MaStatus *st,
                    gboolean *ok)
{
  if (key_is (key, key_len, "VmRSS"))
    {
      *ok = parse_kb_value (v, end, &st->mem.rss);
      st->has_mm = *ok;
      return SEEN_VMRSS;
    }
  if (key_is (key, key_len, "VmLck"))
    {
      *ok = parse_kb_value (v, end, &st->vm_lck);
      return SEEN_VMLCK;
    }
  if (key_is (key, key_len, "RssAnon"))
    {
      *ok = parse_kb_value (v, end, &st->mem.anon);
      return SEEN_RSSANON;
    }
  if (key_is (key, key_len, "VmSwap"))
    {
      *ok = parse_kb_value (v, end, &st->mem.swap);
      return SEEN_VMSWAP;
    }
  return 0;
}

/* One "Key: value" line of status; value runs from @v to @end. */
static gboolean
parse_status_field (const char *key, gsize key_len, const char *v, const char *end, MaStatus *st,
                    guint *seen, guint64 line_no, GError **error)
{
  gboolean ok = FALSE;
  guint bit;

  /* Each step returns the key's SEEN_ bit and in *ok whether its value was
   * well-formed, or 0 when the key is not one of its own. */
  bit = parse_identity_field (key, key_len, v, end, st, &ok);
  if (bit == 0)
    bit = parse_caps_field (key, key_len, v, end, st, &ok);
  if (bit == 0)
    bit = parse_memory_field (key, key_len, v, end, st, &ok);
  if (bit == 0)
    return TRUE;

  if (*seen & bit)
    return ma_parse_fail (error, "status", line_no, "%.*s given twice", (int) key_len, key);
  *seen |= bit;
  if (!ok)
    return ma_parse_fail (error, "status", line_no, "malformed %.*s value", (int) key_len, key);
  return TRUE;
}

gboolean
ma_status_parse (const char *buf, gsize len, MaStatus *out, GError **error)
{
  MaStatus st = { 0 };
  const char *p = buf;
  const char *end;
  guint64 line_no = 0;
  guint seen = 0;

  g_return_val_if_fail (buf != NULL || len == 0, FALSE);
  g_return_val_if_fail (out != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  st.kthread = -1;

  end = len > 0 ? buf + len : buf;
  while (p < end)
    {
      const char *nl = memchr (p, '\n', (gsize) (end - p));
      const char *colon;

      line_no++;
      if (nl == NULL)
        return ma_parse_fail (error, "status", line_no,
                              "line cut short (no newline at end of input)");

      colon = memchr (p, ':', (gsize) (nl - p));
      if (colon != NULL && colon > p
          && !parse_status_field (p, (gsize) (colon - p), colon + 1, nl, &st, &seen, line_no,
                                  error))
        return FALSE;
      p = nl + 1;
    }

  st.has_caps = (seen & SEEN_ALL_CAPS) == SEEN_ALL_CAPS;
  *out = st;
  return TRUE;
}

/* Fields of /proc/PID/stat after the comm: state (3) to flags (9). */
/* Fields of /proc/PID/stat that may be negative (signed in the kernel). */
static gboolean
stat_field_is_signed (guint field)
{
  return (field >= 4 && field <= 8) || (field >= 16 && field <= 19) || field == 21;
}

/* Checks "pid (comm) S" and reads fields 4 to 3 + @n into @values (a
 * negative value is stored as 0). The text must go on after the last one:
 * the kernel writes 52 fields, so a text ending right after the digits was
 * cut and may have lost some. */
static gboolean
stat_read_fields (const char *buf, gsize len, guint n, guint64 *values, GError **error)
{
  const char *p;
  const char *end;
  guint64 v;
  guint i;

  if (len == 0)
    goto malformed;
  end = buf + len;

  /* "pid (comm) ": the comm is target-controlled and may hold ") ", so
   * only the last ')' of the text can end it. */
  p = buf;
  if (!ma_read_dec (&p, end, G_MAXUINT64, &v) || end - p < 2 || p[0] != ' ' || p[1] != '(')
    goto malformed;
  p = memrchr (p + 2, ')', (gsize) (end - (p + 2)));
  if (p == NULL)
    goto malformed;
  p++;

  /* Field 3, the state letter. */
  if (end - p < 2 || p[0] != ' ' || !g_ascii_isalpha (p[1]))
    goto malformed;
  p += 2;

  for (i = 0; i < n; i++)
    {
      gboolean negative = FALSE;

      if (p >= end || *p != ' ')
        goto malformed;
      p++;
      if (p < end && *p == '-' && stat_field_is_signed (4 + i))
        {
          negative = TRUE;
          p++;
        }
      if (!ma_read_dec (&p, end, G_MAXUINT64, &v))
        goto malformed;
      values[i] = negative ? 0 : v;
    }
  if (p >= end || (*p != ' ' && *p != '\n'))
    goto malformed;
  return TRUE;

malformed:
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
               "stat: malformed text before or at field %u", 3 + n);
  return FALSE;
}

gboolean
ma_stat_parse_flags (const char *buf, gsize len, guint64 *out_flags, GError **error)
{
  guint64 values[6];

  g_return_val_if_fail (buf != NULL || len == 0, FALSE);
  g_return_val_if_fail (out_flags != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!stat_read_fields (buf, len, G_N_ELEMENTS (values), values, error))
    return FALSE;
  *out_flags = values[9 - 4];
  return TRUE;
}

gboolean
ma_stat_parse (const char *buf, gsize len, MaStat *out, GError **error)
{
  guint64 values[19];

  g_return_val_if_fail (buf != NULL || len == 0, FALSE);
  g_return_val_if_fail (out != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!stat_read_fields (buf, len, G_N_ELEMENTS (values), values, error))
    return FALSE;
  out->flags = values[9 - 4];
  out->maj_flt = values[12 - 4];
  out->start_time = values[22 - 4];
  return TRUE;
}
