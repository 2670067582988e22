/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "json.h"
#include "memadvisectl.h"

void
ctl_json_add_u64 (cJSON *object, const char *key, guint64 value)
{
  g_autofree char *text = g_strdup_printf ("%" G_GUINT64_FORMAT, value);

  cJSON_AddItemToObject (object, key, cJSON_CreateRaw (text));
}

gboolean
ctl_json_print (cJSON *root, GError **error)
{
  char *printed = cJSON_Print (root);

  if (printed == NULL)
    {
      g_set_error_literal (error, CTL_ERROR, CTL_EXIT_FAILED,
                           "Out of memory while writing the JSON output.");
      return FALSE;
    }
  g_print ("%s\n", printed);
  cJSON_free (printed);
  return TRUE;
}
