/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * A progress bar on stderr for Reclaim: the daemon sends Progress(done,
 * planned) to the calling connection only, after each batch.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "memadvisectl.h"

#define REDRAW_USEC (G_USEC_PER_SEC / 10)

struct _CtlProgress
{
  MaDBusMemAdvise1 *proxy;
  gulong handler;
  gint64 last_draw;
  gboolean drawn;
  /* Of the calls of the request that are done: a request split into
   * several calls shows as one. */
  guint64 base_done;
  guint64 base_planned;
};

static guint
terminal_width (void)
{
  struct winsize size = { 0 };

  if (ioctl (STDERR_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col >= 40)
    return size.ws_col;
  return 80;
}

static void
draw (CtlProgress *progress, guint64 done, guint64 planned)
{
  g_autofree char *done_str = ma_client_format_size (done);
  g_autofree char *planned_str = ma_client_format_size (planned);
  g_autofree char *figures = NULL;
  g_autoptr (GString) line = g_string_new ("\r");
  double fraction = planned > 0 ? MIN ((double) done / (double) planned, 1.0) : 1.0;
  guint width, filled;

  figures = g_strdup_printf (" %3u%%  %s of %s", (guint) (fraction * 100.0), done_str, planned_str);
  width = terminal_width () - 3 - (guint) strlen (figures) - 1;
  width = MIN (width, 50);
  filled = (guint) (fraction * width);

  g_string_append_c (line, '[');
  for (guint i = 0; i < width; i++)
    g_string_append_c (line, i < filled ? '#' : '-');
  g_string_append_c (line, ']');
  g_string_append (line, figures);
  g_string_append (line, "\033[K");
  fputs (line->str, stderr);
  fflush (stderr);
  progress->drawn = TRUE;
}

static void
on_progress (MaDBusMemAdvise1 *proxy, guint64 done, guint64 planned, gpointer user_data)
{
  CtlProgress *progress = user_data;
  gint64 now = g_get_monotonic_time ();

  if (done < planned && progress->drawn && now - progress->last_draw < REDRAW_USEC)
    return;
  progress->last_draw = now;
  draw (progress, progress->base_done + done, progress->base_planned + planned);
}

void
ctl_progress_add_done (CtlProgress *progress, guint64 done, guint64 planned)
{
  if (progress == NULL)
    return;
  progress->base_done += done;
  progress->base_planned += planned;
}

CtlProgress *
ctl_progress_new (MaDBusMemAdvise1 *proxy)
{
  CtlProgress *progress = g_new0 (CtlProgress, 1);

  progress->proxy = g_object_ref (proxy);
  progress->handler = g_signal_connect (proxy, "progress", G_CALLBACK (on_progress), progress);
  return progress;
}

/* Erases the bar so the table starts on a clean line. */
void
ctl_progress_clear (CtlProgress *progress)
{
  if (progress == NULL || !progress->drawn)
    return;
  fputs ("\r\033[K", stderr);
  fflush (stderr);
  progress->drawn = FALSE;
}

void
ctl_progress_free (CtlProgress *progress)
{
  if (progress == NULL)
    return;
  ctl_progress_clear (progress);
  g_signal_handler_disconnect (progress->proxy, progress->handler);
  g_object_unref (progress->proxy);
  g_free (progress);
}
