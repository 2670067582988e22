/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The system bus connection and the translation of failed calls into one
 * sentence and an exit status (shared/DESIGN.md: 1 failed, 2 usage,
 * 3 unreachable or unsupported, 4 not authorized).
 */
#include "config.h"

#include <string.h>
#include <unistd.h>

#include "memadvisectl.h"

MaDBusMemAdvise1 *
ctl_bus_proxy_new (GError **error)
{
  g_autoptr (GError) local_error = NULL;
  g_autoptr (GDBusConnection) connection = NULL;
  MaDBusMemAdvise1 *proxy;

  /* Replies carry the domain's errors as GErrors only once it is known. */
  (void) MA_DBUS_ERROR;
  connection = g_bus_get_sync (G_BUS_TYPE_SYSTEM, NULL, &local_error);
  if (connection == NULL)
    {
      g_set_error (error, CTL_ERROR, CTL_EXIT_UNAVAILABLE,
                   "Cannot connect to the system bus (%s); is dbus running?", local_error->message);
      return NULL;
    }
  /* The first call starts memadvised by D-Bus activation, as a plain call
   * would; properties are read only by the commands that show them. */
  proxy = ma_dbus_mem_advise1_proxy_new_sync (
      connection,
      G_DBUS_PROXY_FLAGS_DO_NOT_LOAD_PROPERTIES
          | G_DBUS_PROXY_FLAGS_DO_NOT_AUTO_START_AT_CONSTRUCTION,
      MA_DBUS_NAME, MA_DBUS_OBJECT_PATH, NULL, &local_error);
  if (proxy == NULL)
    g_propagate_error (error, ctl_bus_error (local_error, "query", FALSE));
  return proxy;
}

GDBusCallFlags
ctl_bus_call_flags (const CtlOptions *options)
{
  if (!options->no_ask_password && isatty (STDIN_FILENO))
    return G_DBUS_CALL_FLAGS_ALLOW_INTERACTIVE_AUTHORIZATION;
  return G_DBUS_CALL_FLAGS_NONE;
}

static gboolean
is_unreachable (const GError *error)
{
  if (error->domain == G_DBUS_ERROR)
    switch (error->code)
      {
      case G_DBUS_ERROR_SERVICE_UNKNOWN:
      case G_DBUS_ERROR_NAME_HAS_NO_OWNER:
      case G_DBUS_ERROR_SPAWN_EXEC_FAILED:
      case G_DBUS_ERROR_SPAWN_FORK_FAILED:
      case G_DBUS_ERROR_SPAWN_CHILD_EXITED:
      case G_DBUS_ERROR_SPAWN_CHILD_SIGNALED:
      case G_DBUS_ERROR_SPAWN_FAILED:
      case G_DBUS_ERROR_SPAWN_SETUP_FAILED:
      case G_DBUS_ERROR_SPAWN_CONFIG_INVALID:
      case G_DBUS_ERROR_SPAWN_SERVICE_INVALID:
      case G_DBUS_ERROR_SPAWN_SERVICE_NOT_FOUND:
      case G_DBUS_ERROR_SPAWN_PERMISSIONS_INVALID:
      case G_DBUS_ERROR_SPAWN_FILE_INVALID:
      case G_DBUS_ERROR_SPAWN_NO_MEMORY:
      case G_DBUS_ERROR_UNKNOWN_OBJECT:
      case G_DBUS_ERROR_UNKNOWN_INTERFACE:
        return TRUE;
      default:
        break;
      }
  return FALSE;
}

/* A remote message, stripped of its error name, as the end of a sentence. */
static char *
remote_message (const GError *error)
{
  g_autoptr (GError) copy = g_error_copy (error);
  g_autofree char *name = g_dbus_error_get_remote_error (error);
  char *message;

  g_dbus_error_strip_remote_error (copy);
  message = g_strstrip (g_strdup (copy->message));
  if (g_str_has_suffix (message, "."))
    message[strlen (message) - 1] = '\0';
  if (*message == '\0' && name != NULL)
    {
      g_free (message);
      message = g_steal_pointer (&name);
    }
  return message;
}

GError *
ctl_bus_error (const GError *call_error, const char *what, gboolean verbose)
{
  g_autofree char *message = remote_message (call_error);

  if (g_error_matches (call_error, MA_DBUS_ERROR, MA_DBUS_ERROR_NOT_SUPPORTED))
    return g_error_new (CTL_ERROR, CTL_EXIT_UNAVAILABLE,
                        "This kernel does not support process_madvise(2), which memadvise "
                        "needs (Linux 5.10 or later): %s.",
                        message);
  if (g_error_matches (call_error, MA_DBUS_ERROR, MA_DBUS_ERROR_BUSY))
    return g_error_new (CTL_ERROR, CTL_EXIT_FAILED, "memadvised is busy; try again later (%s).",
                        message);
  if (g_error_matches (call_error, G_DBUS_ERROR, G_DBUS_ERROR_ACCESS_DENIED)
      || g_error_matches (call_error, G_DBUS_ERROR, G_DBUS_ERROR_AUTH_FAILED)
      || g_error_matches (call_error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED))
    {
      /* The bus's own denials are long rule dumps: show them only on request. */
      if (verbose)
        return g_error_new (CTL_ERROR, CTL_EXIT_DENIED,
                            "Not authorized to %s the memory of any of these processes (%s).", what,
                            message);
      return g_error_new (CTL_ERROR, CTL_EXIT_DENIED,
                          "Not authorized to %s the memory of any of these processes.", what);
    }
  if (g_error_matches (call_error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS))
    return g_error_new (CTL_ERROR, CTL_EXIT_USAGE, "memadvised rejected the request: %s.", message);
  if (is_unreachable (call_error))
    return g_error_new (CTL_ERROR, CTL_EXIT_UNAVAILABLE,
                        "memadvised is not running and cannot be started on the system bus (%s).",
                        message);
  if (g_error_matches (call_error, G_DBUS_ERROR, G_DBUS_ERROR_NO_REPLY)
      || g_error_matches (call_error, G_IO_ERROR, G_IO_ERROR_CLOSED))
    return g_error_new (CTL_ERROR, CTL_EXIT_FAILED,
                        "memadvised stopped before answering the %s request (%s).", what, message);
  return g_error_new (CTL_ERROR, CTL_EXIT_FAILED, "The %s request to memadvised failed: %s.", what,
                      message);
}
