/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * memadvisectl: reclaim cold memory from running processes through the
 * memadvised system service. See memadvisectl(1).
 */
#include "config.h"

#include <locale.h>
#include <stdio.h>

#include "memadvisectl.h"

/* One sentence on stderr. It may quote the daemon or systemd, or a name
 * given on the command line: printable, as all human output. */
static void
print_error (const GError *error)
{
  g_autofree char *message = ma_client_printable (error->message);

  g_printerr ("%s\n", message);
}

int
main (int argc, char **argv)
{
  g_autoptr (CtlOptions) options = NULL;
  g_autoptr (GError) error = NULL;
  CtlExit status;

  setlocale (LC_ALL, "");

  if (argc > 1 && g_str_equal (argv[1], "session"))
    {
      status = ctl_run_session (argc - 1, argv + 1, &error);
      if (error != NULL)
        print_error (error);
      return status;
    }

  options = ctl_options_parse (argc, argv, &error);
  if (options == NULL)
    {
      if (error == NULL)
        return CTL_EXIT_OK; /* --version */
      print_error (error);
      return CTL_EXIT_USAGE;
    }

  if (options->command == CTL_COMMAND_STATUS)
    status = ctl_run_status (options, &error);
  else
    status = ctl_run_advise (options, &error);

  if (error != NULL)
    print_error (error);
  return status;
}
