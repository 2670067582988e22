/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * What memadvisectl's two JSON outputs (--json of reclaim/plan, status
 * --json) share.
 */
#pragma once

#include <cjson/cJSON.h>
#include <glib.h>

G_BEGIN_DECLS

G_DEFINE_AUTOPTR_CLEANUP_FUNC (cJSON, cJSON_Delete)

/* Adds @value to @object as a raw integer: a cJSON number is a double,
 * which would round byte counts above 2^53. */
void ctl_json_add_u64 (cJSON *object, const char *key, guint64 value);

/* Prints @root and a newline on stdout. */
gboolean ctl_json_print (cJSON *root, GError **error);

G_END_DECLS
