/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Text from elsewhere made safe for a terminal. A process names itself
 * (comm, with PR_SET_NAME), and the daemon's messages and the names of app
 * units come from outside this process too: printed raw, an escape
 * sequence among them would drive the terminal of whoever reads the
 * output (clear it, recolour it, set its title, move the cursor).
 */
#include "config.h"

#include <string.h>

#include "ma-client.h"

/* Characters that change how a terminal shows what follows them: the C0
 * and C1 controls and DEL (ESC among them: an escape sequence without its
 * ESC is plain text), the line and paragraph separators, and the
 * bidirectional formatting characters, which reorder the text after them
 * (an "evil" name could show as another). */
static gboolean
is_unprintable (gunichar c)
{
  if (c < 0x20 || (c >= 0x7f && c <= 0x9f))
    return TRUE;
  switch (c)
    {
    case 0x061c: /* ARABIC LETTER MARK */
    case 0x200e: /* LEFT-TO-RIGHT MARK */
    case 0x200f: /* RIGHT-TO-LEFT MARK */
    case 0x2028: /* LINE SEPARATOR */
    case 0x2029: /* PARAGRAPH SEPARATOR */
      return TRUE;
    default:
      /* Embeddings and overrides (LRE RLE PDF LRO RLO), isolates (LRI
       * RLI FSI PDI). */
      return (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069);
    }
}

char *
ma_client_printable (const char *text)
{
  g_autofree char *valid = NULL;
  GString *out;

  if (text == NULL)
    return NULL;
  valid = g_utf8_make_valid (text, -1);
  out = g_string_sized_new (strlen (valid));
  for (const char *p = valid; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (is_unprintable (c))
        g_string_append_c (out, '?');
      else
        g_string_append_unichar (out, c);
    }
  return g_string_free (out, FALSE);
}
