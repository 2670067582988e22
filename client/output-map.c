/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * --map: each target's map (memadvised(8), Maps) drawn as text, one line a
 * mapping: its address, its size and a bar of cells, each an equal share
 * of the mapping, the width of the terminal. The daemon sends up to 256
 * cells a mapping; a bar shows, in each of its cells, the state of most of
 * what it covers, a tie going to the higher state, as the daemon's cells
 * do of pages. Drawing is a pure function of the map, the width and
 * whether to colour, for the snapshot tests (tests/unit/test-ctl-map.c).
 */
#include "config.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include "memadvisectl.h"

/* The daemon's states (MaMapState), and one for a state this client does
 * not know, drawn '?'. */
enum
{
  STATE_ABSENT,
  STATE_SWAPPED,
  STATE_COLD,
  STATE_HOT,
  STATE_CAME_BACK,
  STATE_PLANNED,
  STATE_UNKNOWN,
  N_STATES
};

static const char state_chars[N_STATES] = { '.', 's', '+', '#', 'r', 'P', '?' };
/* SGR colours: grey, magenta, cyan, red, yellow, bold green, default. */
static const char *const state_colors[N_STATES] = { "90", "35", "36", "31", "33", "1;32", "39" };

/* "0x" and 12 hex digits, the size, the brackets and the spaces between. */
#define ADDRESS_WIDTH 14
#define SIZE_WIDTH 10
#define PREFIX_WIDTH (ADDRESS_WIDTH + 2 + SIZE_WIDTH + 2 + 2)
#define MIN_BAR 8
#define MAX_BAR 256

static void
clear_mapping (gpointer data)
{
  g_free (((CtlMapMapping *) data)->cells);
}

static void
clear_ineligible (gpointer data)
{
  g_free (((CtlMapIneligible *) data)->reason);
}

void
ctl_map_free (CtlMap *map)
{
  if (map == NULL)
    return;
  g_array_unref (map->mappings);
  g_array_unref (map->ineligible);
  g_free (map);
}

static void
parse_mappings (CtlMap *map, GVariant *mappings)
{
  GVariantIter iter;
  GVariant *cells;
  CtlMapMapping m;

  g_variant_iter_init (&iter, mappings);
  while (g_variant_iter_next (&iter, "(tt@ay)", &m.start, &m.end, &cells))
    {
      gsize n;
      const guint8 *data = g_variant_get_fixed_array (cells, &n, sizeof (guint8));

      m.n_cells = (guint) n;
      m.cells = g_memdup2 (data, n);
      g_array_append_val (map->mappings, m);
      g_variant_unref (cells);
    }
}

static void
parse_ineligible (CtlMap *map, GVariant *ineligible)
{
  GVariantIter iter;
  CtlMapIneligible x;

  g_variant_iter_init (&iter, ineligible);
  while (g_variant_iter_next (&iter, "(sut)", &x.reason, &x.count, &x.bytes))
    g_array_append_val (map->ineligible, x);
}

CtlMap *
ctl_map_new (GVariant *variant)
{
  g_autoptr (GVariantDict) dict = g_variant_dict_new (variant);
  g_autoptr (GVariant) mappings = NULL;
  g_autoptr (GVariant) ineligible = NULL;
  CtlMap *map = g_new0 (CtlMap, 1);

  map->mappings = g_array_new (FALSE, FALSE, sizeof (CtlMapMapping));
  g_array_set_clear_func (map->mappings, clear_mapping);
  map->ineligible = g_array_new (FALSE, FALSE, sizeof (CtlMapIneligible));
  g_array_set_clear_func (map->ineligible, clear_ineligible);
  mappings = g_variant_dict_lookup_value (dict, "mappings", G_VARIANT_TYPE ("a(ttay)"));
  if (mappings != NULL)
    parse_mappings (map, mappings);
  ineligible = g_variant_dict_lookup_value (dict, "ineligible", G_VARIANT_TYPE ("a(sut)"));
  if (ineligible != NULL)
    parse_ineligible (map, ineligible);
  if (!g_variant_dict_lookup (dict, "eligible-mappings", "u", &map->eligible_mappings))
    map->eligible_mappings = map->mappings->len;
  if (!g_variant_dict_lookup (dict, "truncated", "b", &map->truncated))
    map->truncated = FALSE;
  return map;
}

static guint
known (guint8 state)
{
  return state < STATE_UNKNOWN ? state : STATE_UNKNOWN;
}

char
ctl_map_char (guint8 state)
{
  return state_chars[known (state)];
}

char *
ctl_map_cells_text (const CtlMapMapping *mapping)
{
  char *text = g_malloc (mapping->n_cells + 1);

  for (guint k = 0; k < mapping->n_cells; k++)
    text[k] = ctl_map_char (mapping->cells[k]);
  text[mapping->n_cells] = '\0';
  return text;
}

/* Cell @j of a bar of @width over @n cells: in units of 1 / (n * width) of
 * the mapping, cell i of the daemon's spans [i * width, (i + 1) * width)
 * and the bar's [j * n, (j + 1) * n). The state covering most of it. */
static guint
scaled_cell (const guint8 *cells, guint n, guint width, guint j)
{
  guint64 weight[N_STATES] = { 0 };
  guint64 lo = (guint64) j * n, hi = (guint64) (j + 1) * n;
  guint best = STATE_ABSENT;

  for (guint64 i = lo / width; i < n && i * width < hi; i++)
    weight[known (cells[i])] += MIN (hi, (i + 1) * width) - MAX (lo, i * width);
  for (guint s = STATE_ABSENT + 1; s < N_STATES; s++)
    if (weight[s] > 0 && weight[s] >= weight[best])
      best = s;
  return best;
}

static void
append_bar (GString *out, const CtlMapMapping *m, guint width, gboolean color)
{
  guint last = N_STATES;

  g_string_append_c (out, '[');
  for (guint j = 0; j < width; j++)
    {
      guint s = m->n_cells > 0 ? scaled_cell (m->cells, m->n_cells, width, j) : STATE_ABSENT;

      if (color && s != last)
        g_string_append_printf (out, "\033[0;%sm", state_colors[s]);
      last = s;
      g_string_append_c (out, state_chars[s]);
    }
  if (color)
    g_string_append (out, "\033[0m");
  g_string_append_c (out, ']');
}

static void
append_ineligible (GString *out, const CtlMap *map, guint indent)
{
  g_string_append_printf (out, "%*sNot eligible:", (int) indent, "");
  if (map->ineligible->len == 0)
    g_string_append (out, " none");
  for (guint i = 0; i < map->ineligible->len; i++)
    {
      const CtlMapIneligible *x = &g_array_index (map->ineligible, CtlMapIneligible, i);
      g_autofree char *reason = ma_client_printable (x->reason);
      g_autofree char *size = ma_client_format_size (x->bytes);

      g_string_append_printf (out, "%s %u %s (%s)", i > 0 ? "," : "", x->count, reason, size);
    }
  g_string_append_c (out, '\n');
}

char *
ctl_map_draw (const CtlMap *map, guint width, guint indent, gboolean color)
{
  GString *out = g_string_new (NULL);
  guint bar = MIN_BAR;

  if (width > indent + PREFIX_WIDTH + MIN_BAR)
    bar = MIN (width - indent - PREFIX_WIDTH, MAX_BAR);
  for (guint i = 0; i < map->mappings->len; i++)
    {
      const CtlMapMapping *m = &g_array_index (map->mappings, CtlMapMapping, i);
      g_autofree char *size = ma_client_format_size (m->end - m->start);

      g_string_append_printf (out, "%*s0x%012" G_GINT64_MODIFIER "x  %*s  ", (int) indent, "",
                              m->start, SIZE_WIDTH, size);
      append_bar (out, m, bar, color);
      g_string_append_c (out, '\n');
    }
  if (map->eligible_mappings == 0)
    g_string_append_printf (out, "%*s(no eligible mappings)\n", (int) indent, "");
  else if (map->truncated || map->mappings->len < map->eligible_mappings)
    g_string_append_printf (out, "%*s(%u of the %u eligible mappings are drawn)\n", (int) indent,
                            "", map->mappings->len, map->eligible_mappings);
  append_ineligible (out, map, indent);
  return g_string_free (out, FALSE);
}

char *
ctl_map_legend (gboolean advised, gboolean color)
{
  const guint order[]
      = { STATE_PLANNED, STATE_CAME_BACK, STATE_HOT, STATE_COLD, STATE_SWAPPED, STATE_ABSENT };
  const char *const names[] = {
    [STATE_ABSENT] = "not present",
    [STATE_SWAPPED] = "in swap",
    [STATE_COLD] = "cold or of unknown age",
    [STATE_HOT] = "hot",
    [STATE_CAME_BACK] = "came back after a pageout",
    [STATE_PLANNED] = advised ? "advised" : "planned",
  };
  GString *out = g_string_new ("Map:");

  for (guint i = 0; i < G_N_ELEMENTS (order); i++)
    {
      guint s = order[i];

      if (color)
        g_string_append_printf (out, " \033[0;%sm%c\033[0m %s", state_colors[s], state_chars[s],
                                names[s]);
      else
        g_string_append_printf (out, " %c %s", state_chars[s], names[s]);
      g_string_append_c (out, i + 1 < G_N_ELEMENTS (order) ? ',' : ';');
    }
  g_string_append (out, " a bar is a mapping, a cell an equal share of it\n");
  return g_string_free (out, FALSE);
}

guint
ctl_map_terminal_width (void)
{
  struct winsize ws;
  const char *columns = g_getenv ("COLUMNS");
  guint64 value;

  if (isatty (STDOUT_FILENO) && ioctl (STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
    return ws.ws_col;
  if (columns != NULL && g_ascii_string_to_unsigned (columns, 10, 1, 100000, &value, NULL))
    return (guint) value;
  return 80;
}

gboolean
ctl_map_use_color (gboolean no_color)
{
  const char *env = g_getenv ("NO_COLOR");

  return !no_color && (env == NULL || *env == '\0') && isatty (STDOUT_FILENO);
}
