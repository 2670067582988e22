/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Swap configured and free, for memadvisectl and memadvise-session.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Total and free swap in bytes over every active device in /proc/swaps. */
gboolean ctl_read_swap (guint64 *out_total, guint64 *out_free, GError **error);

G_END_DECLS
