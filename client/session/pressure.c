/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Memory pressure: low-memory-monitor's LowMemoryWarning on the system bus
 * while it runs, else a PSI trigger on /proc/pressure/memory. Either one
 * starts reclaiming background apps, longest idle first, until the PSI
 * "some avg10" figure falls under PressureRecoveredAvg10.
 *
 * The warning counts only from the name's current owner (owner-signal.c):
 * a warning any other peer of the system bus sends (to everyone, or to
 * this agent alone) is not followed.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <glib-unix.h>

#include "session.h"

#define LMM_NAME "org.freedesktop.LowMemoryMonitor"
#define LMM_PATH "/org/freedesktop/LowMemoryMonitor"
#define PSI_PATH "/proc/pressure/memory"

gboolean
sess_pressure_high (SessAgent *agent)
{
  g_autofree char *contents = NULL;
  double avg10;

  if (!g_file_get_contents (PSI_PATH, &contents, NULL, NULL))
    return FALSE; /* no PSI: one app a warning */
  if (sscanf (contents, "some avg10=%lf", &avg10) != 1)
    return FALSE;
  return avg10 >= agent->config->pressure_recovered_avg10;
}

static void
on_low_memory_warning (GDBusConnection *connection, const char *sender, const char *path,
                       const char *interface, const char *signal, GVariant *parameters,
                       gpointer user_data)
{
  SessAgent *agent = user_data;
  guint8 level;

  if (!g_variant_is_of_type (parameters, G_VARIANT_TYPE ("(y)")))
    return;
  g_variant_get (parameters, "(y)", &level);
  g_message ("LowMemoryWarning(%u) from %s", level, sender);
  if (level > 0)
    sess_reclaim_pressure (agent);
}

static gboolean
on_psi (int fd, GIOCondition condition, gpointer user_data)
{
  SessAgent *agent = user_data;

  if (condition & G_IO_ERR)
    {
      g_warning ("The PSI trigger on " PSI_PATH " failed; no longer watching it");
      agent->psi_source = 0;
      return G_SOURCE_REMOVE;
    }
  /* The trigger is watched only while low-memory-monitor is absent. */
  g_message ("PSI trigger: memory pressure");
  sess_reclaim_pressure (agent);
  return G_SOURCE_CONTINUE;
}

static void
psi_start (SessAgent *agent)
{
  g_autofree char *trigger = NULL;
  int fd;

  if (agent->psi_fd >= 0)
    return;
  fd = open (PSI_PATH, O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0)
    {
      g_message ("No PSI trigger (%s: %s); memory pressure is seen through "
                 "low-memory-monitor only",
                 PSI_PATH, g_strerror (errno));
      return;
    }
  /* Unprivileged triggers need a window that is a multiple of 2 s. */
  trigger = g_strdup_printf ("some %u %u", agent->config->psi_stall_ms * 1000,
                             agent->config->psi_window_ms * 1000);
  if (write (fd, trigger, strlen (trigger) + 1) < 0)
    {
      g_message ("Cannot set the PSI trigger \"%s\" on %s: %s", trigger, PSI_PATH,
                 g_strerror (errno));
      close (fd);
      return;
    }
  agent->psi_fd = fd;
  agent->psi_source = g_unix_fd_add (fd, G_IO_PRI | G_IO_ERR, on_psi, agent);
  g_debug ("PSI trigger \"%s\" set", trigger);
}

static void
psi_stop (SessAgent *agent)
{
  g_clear_handle_id (&agent->psi_source, g_source_remove);
  if (agent->psi_fd >= 0)
    close (agent->psi_fd);
  agent->psi_fd = -1;
}

/* low-memory-monitor runs: its warnings, not PSI; gone: PSI again. */
static void
on_lmm_owner_changed (gpointer user_data, gboolean has_owner)
{
  SessAgent *agent = user_data;

  if (has_owner)
    {
      g_debug ("low-memory-monitor runs: following its warnings");
      psi_stop (agent);
    }
  else
    psi_start (agent);
}

void
sess_pressure_init (SessAgent *agent)
{
  agent->psi_fd = -1;
  if (!agent->config->pressure)
    return;
  agent->lmm
      = sess_owner_signal_new (agent->system_bus, LMM_NAME, LMM_PATH, LMM_NAME, "LowMemoryWarning",
                               on_low_memory_warning, on_lmm_owner_changed, agent);
}

void
sess_pressure_shutdown (SessAgent *agent)
{
  g_clear_pointer (&agent->lmm, sess_owner_signal_free);
  psi_stop (agent);
}
