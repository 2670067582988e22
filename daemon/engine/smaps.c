/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Parser of /proc/PID/smaps and /proc/PID/maps.
 *
 * The text describes a process we do not trust and is fuzzed, so every read
 * is bounded by the buffer length (the buffer is not NUL-terminated) and
 * every number is overflow-checked. One pass, no allocation per line: a
 * process may have tens of thousands of mappings.
 *
 * Semantics beyond ma-parse.h:
 * - A line is a field if it starts with an ASCII uppercase letter followed
 *   by non-blank bytes up to a ':' ("Key:", as the kernel writes them; the
 *   kernel writes addresses in lowercase hex). Every other line, including
 *   an empty line or one of spaces, must be a valid header.
 * - Header numbers may have any number of leading zeros; hex digits of
 *   either case are accepted; the name is whatever follows the blanks after
 *   the inode (a path may hold spaces and end in " (deleted)").
 * - A VmFlags token that is not a known two-letter code is ignored.
 * - A mapping is appended once its block is complete (at the next header or
 *   at the end of the input). On error the block being parsed is dropped, so
 *   @vmas holds exactly the complete blocks before the faulty one.
 * - The kernel ends every line with '\n'. A last line without one was cut
 *   short and is an error, whether it looks like a header or a field: a cut
 *   field could lose a digit or a VmFlags code (say "lo") that eligibility
 *   needs. Since a cut line may have been a field of the block before it,
 *   that block is dropped too.
 * - A known field (Rss, Referenced, Anonymous, Swap, Locked, VmFlags) twice
 *   in one block is an error; the kernel never writes that.
 */
#include "config.h"

#include <gio/gio.h>
#include <stdarg.h>
#include <string.h>

#include "ma-parse.h"
#include "parse-util.h"

/* Fields of a block that were already seen, to reject duplicates. */
enum
{
  SEEN_RSS = 1 << 0,
  SEEN_REFERENCED = 1 << 1,
  SEEN_ANONYMOUS = 1 << 2,
  SEEN_SWAP = 1 << 3,
  SEEN_LOCKED = 1 << 4,
  SEEN_VMFLAGS = 1 << 5,
};

static inline gboolean
expect_char (const char **p, const char *end, char c)
{
  if (*p >= end || **p != c)
    return FALSE;
  (*p)++;
  return TRUE;
}

static inline gboolean
bytes_equal (const char *s, gsize n, const char *lit, gsize lit_len)
{
  return n == lit_len && memcmp (s, lit, n) == 0;
}

#define EQ(s, n, lit) bytes_equal ((s), (n), lit, sizeof (lit) - 1)

static MaNameKind
classify_name (const char *s, gsize n)
{
  if (n == 0)
    return MA_NAME_NONE;
  /* The kernel prints files as absolute paths, so a file cannot pose as one
   * of the bracketed names; an anon name cannot hold '[' or ']'. */
  if (s[0] != '[' || n < 2 || s[n - 1] != ']')
    return MA_NAME_PATH;

  if (EQ (s, n, "[heap]"))
    return MA_NAME_HEAP;
  if (EQ (s, n, "[stack]"))
    return MA_NAME_STACK;
  if (EQ (s, n, "[vvar]") || EQ (s, n, "[vvar_vclock]"))
    return MA_NAME_VVAR;
  if (EQ (s, n, "[vdso]"))
    return MA_NAME_VDSO;
  if (EQ (s, n, "[vsyscall]"))
    return MA_NAME_VSYSCALL;
  if (n > 8 && memcmp (s, "[stack:", 7) == 0)
    {
      /* Linux < 4.5 named thread stacks [stack:TID]. */
      for (gsize i = 7; i < n - 1; i++)
        if (s[i] < '0' || s[i] > '9')
          return MA_NAME_OTHER;
      return MA_NAME_STACK;
    }
  if (n >= 7 && memcmp (s, "[anon:", 6) == 0)
    return MA_NAME_ANON;
  if (n >= 13 && memcmp (s, "[anon_shmem:", 12) == 0)
    return MA_NAME_ANON_SHMEM;
  return MA_NAME_OTHER;
}

/* "start-end perms offset major:minor inode [name]", without the '\n'. */
static gboolean
parse_header (const char *p, const char *end, MaVma *vma)
{
  guint64 major, minor;
  const char *name;

  memset (vma, 0, sizeof *vma);

  if (!ma_read_hex (&p, end, 16, &vma->start) || !expect_char (&p, end, '-')
      || !ma_read_hex (&p, end, 16, &vma->end) || !expect_char (&p, end, ' '))
    return FALSE;
  /* Later stages compute end - start: an empty or reversed range is nonsense. */
  if (vma->end <= vma->start)
    return FALSE;

  if (end - p < 5)
    return FALSE;
  if (p[0] == 'r')
    vma->perms |= MA_PERM_READ;
  else if (p[0] != '-')
    return FALSE;
  if (p[1] == 'w')
    vma->perms |= MA_PERM_WRITE;
  else if (p[1] != '-')
    return FALSE;
  if (p[2] == 'x')
    vma->perms |= MA_PERM_EXEC;
  else if (p[2] != '-')
    return FALSE;
  if (p[3] == 's')
    vma->perms |= MA_PERM_SHARED;
  else if (p[3] != 'p')
    return FALSE;
  if (p[4] != ' ')
    return FALSE;
  p += 5;

  if (!ma_read_hex (&p, end, 16, &vma->offset) || !expect_char (&p, end, ' ')
      || !ma_read_hex (&p, end, 8, &major) || !expect_char (&p, end, ':')
      || !ma_read_hex (&p, end, 8, &minor) || !expect_char (&p, end, ' ')
      || !ma_read_dec (&p, end, G_MAXUINT64, &vma->inode))
    return FALSE;
  vma->dev_major = (guint32) major;
  vma->dev_minor = (guint32) minor;

  /* The inode ends the line, or a space does: the kernel pads before the
   * name and leaves a trailing space when there is none. */
  if (p < end && *p != ' ')
    return FALSE;
  while (p < end && *p == ' ')
    p++;
  name = p;
  vma->name_kind = classify_name (name, (gsize) (end - name));
  return TRUE;
}

/* "   1234 kB" after the colon of a counter, in bytes. */
static gboolean
parse_kb (const char *p, const char *end, guint64 *out)
{
  guint64 kb;

  while (p < end && *p == ' ')
    p++;
  if (!ma_read_dec (&p, end, G_MAXUINT64, &kb) || !expect_char (&p, end, ' '))
    return FALSE;
  if (end - p != 2 || p[0] != 'k' || p[1] != 'B')
    return FALSE;
  if (kb > G_MAXUINT64 / 1024)
    return FALSE;
  *out = kb * 1024;
  return TRUE;
}

/* " rd wr mr mw me ac sd " after "VmFlags:". Codes the engine does not use,
 * and any token that is not a code, are ignored: the kernel adds codes. */
static guint32
parse_vmflags (const char *p, const char *end)
{
  guint32 flags = 0;

  while (p < end)
    {
      const char *tok;

      while (p < end && *p == ' ')
        p++;
      tok = p;
      while (p < end && *p != ' ')
        p++;
      if (p - tok != 2)
        continue;
      switch (((guint) (guchar) tok[0] << 8) | (guchar) tok[1])
        {
        case ('r' << 8) | 'd':
          flags |= MA_VMF_RD;
          break;
        case ('w' << 8) | 'r':
          flags |= MA_VMF_WR;
          break;
        case ('e' << 8) | 'x':
          flags |= MA_VMF_EX;
          break;
        case ('s' << 8) | 'h':
          flags |= MA_VMF_SH;
          break;
        case ('l' << 8) | 'o':
          flags |= MA_VMF_LO;
          break;
        case ('i' << 8) | 'o':
          flags |= MA_VMF_IO;
          break;
        case ('p' << 8) | 'f':
          flags |= MA_VMF_PF;
          break;
        case ('h' << 8) | 't':
          flags |= MA_VMF_HT;
          break;
        case ('m' << 8) | 'm':
          flags |= MA_VMF_MM;
          break;
        case ('d' << 8) | 'd':
          flags |= MA_VMF_DD;
          break;
        case ('g' << 8) | 'd':
          flags |= MA_VMF_GD;
          break;
        default:
          break;
        }
    }
  return flags;
}

#define ONES G_GUINT64_CONSTANT (0x0101010101010101)
#define HIGHS G_GUINT64_CONSTANT (0x8080808080808080)

/* Non-zero iff a byte of @w equals the byte repeated in @pattern; on a
 * little-endian load the lowest set bit marks the first such byte. */
static inline guint64
word_has (guint64 w, guint64 pattern)
{
  w ^= pattern;
  return (w - ONES) & ~w & HIGHS;
}

/* The first '\n' in [p, end), or NULL; with @stop_at_key also the first ':'
 * or ' '. Lines are a few dozen bytes, so this is inline and a word at a
 * time (only whole words inside [p, end) are loaded): a per-byte loop or a
 * memchr call per line was most of the cost of a 40,000-mapping smaps. */
static inline const char *
find_stop (const char *p, const char *end, gboolean stop_at_key)
{
#if G_BYTE_ORDER == G_LITTLE_ENDIAN
  while (end - p >= 8)
    {
      guint64 w;
      guint64 hit;

      memcpy (&w, p, 8);
      hit = word_has (w, ONES * '\n');
      if (stop_at_key)
        hit |= word_has (w, ONES * ':') | word_has (w, ONES * ' ');
      if (hit != 0)
        return p + (__builtin_ctzll (hit) >> 3);
      p += 8;
    }
#endif
  for (; p < end; p++)
    if (*p == '\n' || (stop_at_key && (*p == ':' || *p == ' ')))
      return p;
  return NULL;
}

/* A known field of the current block: stores it, or FALSE if malformed. */
static gboolean
parse_field (const char *key, gsize key_len, const char *value, const char *end, MaVma *vma,
             guint *seen, guint64 line_no, GError **error)
{
  guint64 *counter;
  guint bit;

  switch (key_len)
    {
    case 3:
      if (memcmp (key, "Rss", 3) != 0)
        return TRUE;
      counter = &vma->rss;
      bit = SEEN_RSS;
      vma->has_counters = TRUE;
      break;
    case 4:
      if (memcmp (key, "Swap", 4) != 0)
        return TRUE;
      counter = &vma->swap;
      bit = SEEN_SWAP;
      break;
    case 6:
      if (memcmp (key, "Locked", 6) != 0)
        return TRUE;
      counter = &vma->locked;
      bit = SEEN_LOCKED;
      break;
    case 9:
      if (memcmp (key, "Anonymous", 9) != 0)
        return TRUE;
      counter = &vma->anonymous;
      bit = SEEN_ANONYMOUS;
      break;
    case 10:
      if (memcmp (key, "Referenced", 10) != 0)
        return TRUE;
      counter = &vma->referenced;
      bit = SEEN_REFERENCED;
      break;
    case 7:
      if (memcmp (key, "VmFlags", 7) != 0)
        return TRUE;
      if (*seen & SEEN_VMFLAGS)
        return ma_parse_fail (error, "smaps", line_no, "VmFlags given twice in one mapping");
      *seen |= SEEN_VMFLAGS;
      vma->vmflags = parse_vmflags (value, end);
      vma->has_vmflags = TRUE;
      return TRUE;
    default:
      return TRUE;
    }

  if (*seen & bit)
    return ma_parse_fail (error, "smaps", line_no, "%.*s given twice in one mapping", (int) key_len,
                          key);
  *seen |= bit;
  if (!parse_kb (value, end, counter))
    return ma_parse_fail (error, "smaps", line_no, "%.*s is not a size in kB that fits 64 bits",
                          (int) key_len, key);
  return TRUE;
}

gboolean
ma_smaps_parse (const char *buf, gsize len, GArray *vmas, GError **error)
{
  const char *p = buf;
  const char *end;
  guint64 line_no = 0;
  MaVma cur;
  gboolean have_cur = FALSE;
  guint seen = 0;

  g_return_val_if_fail (buf != NULL || len == 0, FALSE);
  g_return_val_if_fail (vmas != NULL, FALSE);
  g_return_val_if_fail (g_array_get_element_size (vmas) == sizeof (MaVma), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  /* Checked first: NULL + 0 is undefined behaviour. */
  if (len == 0)
    return TRUE;
  end = buf + len;

  while (p < end)
    {
      /* A field is "Key:" with an uppercase first letter and no blank in
       * the key, as the kernel writes them; any other line is a header.
       * (Headers start with a lowercase hex digit.) */
      gboolean field = g_ascii_isupper (*p);
      const char *k = field ? find_stop (p, end, TRUE) : p;
      const char *eol;

      line_no++;
      field = field && k != NULL && *k == ':';
      eol = k != NULL ? find_stop (k, end, FALSE) : NULL;
      /* What a cut line was cannot be known ("Rs" may be a field or a
       * header), so the block it would belong to or end is dropped too. */
      if (eol == NULL)
        return ma_parse_fail (error, "smaps", line_no,
                              "line cut short (no newline at end of input)");

      if (field)
        {
          if (!have_cur)
            return ma_parse_fail (error, "smaps", line_no, "field line before any mapping header");
          if (!parse_field (p, (gsize) (k - p), k + 1, eol, &cur, &seen, line_no, error))
            return FALSE;
        }
      else
        {
          if (have_cur)
            g_array_append_val (vmas, cur);
          have_cur = FALSE;
          if (!parse_header (p, eol, &cur))
            return ma_parse_fail (error, "smaps", line_no, "malformed mapping header");
          have_cur = TRUE;
          seen = 0;
        }

      p = eol + 1;
    }

  if (have_cur)
    g_array_append_val (vmas, cur);
  return TRUE;
}
