/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * memadvisectl --map (client/output-map.c): a map as the daemon sends it,
 * drawn at several widths, plain and in colour, against the snapshots in
 * tests/fixtures/map-*.txt. A drawing that differs is written next to the
 * test binary as NAME.actual, for a diff.
 */
#include "config.h"

#include <string.h>

#include "memadvisectl.h"

/* Cells written as the characters they are drawn with. */
static GVariant *
cells_of (const char *text)
{
  static const char chars[] = ".s+#rP";
  gsize n = strlen (text);
  g_autofree guint8 *cells = g_new (guint8, n);

  for (gsize k = 0; k < n; k++)
    {
      const char *c = strchr (chars, text[k]);

      /* '?' stands for a state this client does not know. */
      cells[k] = c != NULL ? (guint8) (c - chars) : 9;
    }
  return g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, cells, n, 1);
}

static char *
repeat (const char *unit, guint times)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < times; i++)
    g_string_append (s, unit);
  return g_string_free (s, FALSE);
}

/* A heap of 4.1 MiB with every state; 16 KiB, a cell a page; a GiB whose
 * hot and cold cells alternate, then a small planned part; two pages, one
 * of a state from a newer daemon; two eligible mappings not drawn; the
 * others by reason, as the daemon sends them. */
static GVariant *
sample_map (void)
{
  g_autofree char *heap = NULL;
  g_autofree char *alternating = repeat ("+#", 64);
  g_autofree char *dots_72 = repeat (".", 72);
  g_autofree char *dots_52 = repeat (".", 52);
  g_autofree char *big = NULL;
  g_auto (GVariantBuilder) mappings = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("a(ttay)"));
  g_auto (GVariantBuilder) ineligible = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("a(sut)"));
  g_auto (GVariantDict) dict = G_VARIANT_DICT_INIT (NULL);

  {
    g_autofree char *p = repeat ("P", 64), *c = repeat ("+", 64), *h = repeat ("#", 32),
                    *r = repeat ("r", 32), *s = repeat ("s", 32), *a = repeat (".", 32);

    heap = g_strconcat (p, c, h, r, s, a, NULL);
  }
  big = g_strconcat (alternating, dots_72, "PPPP", dots_52, NULL);
  g_variant_builder_add (&mappings, "(tt@ay)", (guint64) 0x55d0c0a00000, (guint64) 0x55d0c0e21000,
                         cells_of (heap));
  g_variant_builder_add (&mappings, "(tt@ay)", (guint64) 0x7f3a1c000000, (guint64) 0x7f3a1c004000,
                         cells_of ("P+#."));
  g_variant_builder_add (&mappings, "(tt@ay)", (guint64) 0x7f3a20000000, (guint64) 0x7f3a60000000,
                         cells_of (big));
  g_variant_builder_add (&mappings, "(tt@ay)", (guint64) 0x7f3a60001000, (guint64) 0x7f3a60003000,
                         cells_of ("+?"));
  g_variant_builder_add (&ineligible, "(sut)", "file-backed", 23, (guint64) 2457600);
  g_variant_builder_add (&ineligible, "(sut)", "special", 5, (guint64) 172032);
  g_variant_builder_add (&ineligible, "(sut)", "not-read-write", 5, (guint64) 61440);
  g_variant_builder_add (&ineligible, "(sut)", "executable", 1, (guint64) 65536);
  g_variant_builder_add (&ineligible, "(sut)", "locked", 1, (guint64) 65536);
  g_variant_dict_insert_value (&dict, "mappings", g_variant_builder_end (&mappings));
  g_variant_dict_insert (&dict, "eligible-mappings", "u", 6);
  g_variant_dict_insert (&dict, "truncated", "b", TRUE);
  g_variant_dict_insert_value (&dict, "ineligible", g_variant_builder_end (&ineligible));
  return g_variant_ref_sink (g_variant_dict_end (&dict));
}

static void
assert_snapshot (const char *actual, const char *name)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "fixtures", name, NULL);
  g_autofree char *expected = NULL;
  g_autoptr (GError) error = NULL;

  g_assert_true (g_file_get_contents (path, &expected, NULL, &error));
  g_assert_no_error (error);
  if (!g_str_equal (actual, expected))
    {
      g_autofree char *file = g_strconcat (name, ".actual", NULL);
      g_autofree char *out = g_test_build_filename (G_TEST_BUILT, file, NULL);

      g_file_set_contents (out, actual, -1, NULL);
      g_test_message ("the drawing differs from %s: see %s", path, out);
    }
  g_assert_cmpstr (actual, ==, expected);
}

static void
check_drawing (guint width, guint indent, gboolean color, const char *snapshot)
{
  g_autoptr (GVariant) variant = sample_map ();
  g_autoptr (CtlMap) map = ctl_map_new (variant);
  g_autofree char *text = ctl_map_draw (map, width, indent, color);

  assert_snapshot (text, snapshot);
}

/* 80 columns: bars of 50 cells, the daemon's 256 of the large mappings
 * taken five or so to a cell, those of the small ones stretched. */
static void
test_ctl_map_80_columns_plain (void)
{
  check_drawing (80, 0, FALSE, "map-80.txt");
}

/* 40 columns: 10 cells; the small planned part of the GiB vanishes in
 * what is around it, the alternating half is hot (ties to the higher). */
static void
test_ctl_map_40_columns_plain (void)
{
  check_drawing (40, 0, FALSE, "map-40.txt");
}

/* Narrower than a bar of 8 fits: 8 cells anyway. */
static void
test_ctl_map_narrow_keeps_8_cells (void)
{
  check_drawing (20, 4, FALSE, "map-20-indented.txt");
}

/* Wider than the daemon's cells: 256 at most, one to one. */
static void
test_ctl_map_wide_is_the_daemons_cells (void)
{
  check_drawing (400, 9, FALSE, "map-400-indented.txt");
}

/* Colour: an SGR sequence where the state changes, a reset after the bar;
 * the characters are the same as without. */
static void
test_ctl_map_100_columns_color (void)
{
  g_autoptr (GVariant) variant = sample_map ();
  g_autoptr (CtlMap) map = ctl_map_new (variant);
  g_autofree char *color = ctl_map_draw (map, 100, 2, TRUE);
  g_autofree char *plain = ctl_map_draw (map, 100, 2, FALSE);
  g_autoptr (GRegex) sgr = g_regex_new ("\033\\[[0-9;]*m", 0, 0, NULL);
  g_autofree char *stripped = g_regex_replace_literal (sgr, color, -1, 0, "", 0, NULL);

  assert_snapshot (color, "map-100-color.txt");
  g_assert_cmpstr (stripped, ==, plain);
}

static void
test_ctl_map_legend (void)
{
  g_autofree char *plan = ctl_map_legend (FALSE, FALSE);
  g_autofree char *reclaim = ctl_map_legend (TRUE, TRUE);

  g_assert_cmpstr (plan, ==,
                   "Map: P planned, r came back after a pageout, # hot, + cold or of unknown age, "
                   "s in swap, . not present; a bar is a mapping, a cell an equal share of it\n");
  g_assert_cmpstr (reclaim, ==,
                   "Map: \033[0;1;32mP\033[0m advised, \033[0;33mr\033[0m came back after a "
                   "pageout, \033[0;31m#\033[0m hot, \033[0;36m+\033[0m cold or of unknown age, "
                   "\033[0;35ms\033[0m in swap, \033[0;90m.\033[0m not present; a bar is a "
                   "mapping, a cell an equal share of it\n");
}

/* A reason reaches the terminal without its control characters; a map
 * with nothing eligible says so. */
static void
test_ctl_map_nothing_eligible_and_control_characters (void)
{
  /* g_variant_parse() returns a reference that is not floating. */
  g_autoptr (GVariant) variant = g_variant_parse (
      G_VARIANT_TYPE_VARDICT,
      "{'mappings': <@a(ttay) []>, 'eligible-mappings': <@u 0>, "
      "'truncated': <false>, 'ineligible': <[('file\\u001b[2J', @u 2, @t 8192)]>}",
      NULL, NULL, NULL);
  g_autoptr (CtlMap) map = ctl_map_new (variant);
  g_autofree char *text = ctl_map_draw (map, 80, 2, TRUE);

  g_assert_cmpstr (text, ==, "  (no eligible mappings)\n  Not eligible: 2 file?[2J (8.0 KiB)\n");
}

/* The characters of a mapping's cells, unscaled, as --json gives them. */
static void
test_ctl_map_cells_text (void)
{
  g_autoptr (GVariant) variant = sample_map ();
  g_autoptr (CtlMap) map = ctl_map_new (variant);
  g_autofree char *second = ctl_map_cells_text (&g_array_index (map->mappings, CtlMapMapping, 1));
  g_autofree char *fourth = ctl_map_cells_text (&g_array_index (map->mappings, CtlMapMapping, 3));

  g_assert_cmpuint (map->mappings->len, ==, 4);
  g_assert_cmpuint (map->eligible_mappings, ==, 6);
  g_assert_true (map->truncated);
  g_assert_cmpstr (second, ==, "P+#.");
  g_assert_cmpstr (fourth, ==, "+?");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/ctl-map/80-columns-plain", test_ctl_map_80_columns_plain);
  g_test_add_func ("/ctl-map/40-columns-plain", test_ctl_map_40_columns_plain);
  g_test_add_func ("/ctl-map/narrow-keeps-8-cells", test_ctl_map_narrow_keeps_8_cells);
  g_test_add_func ("/ctl-map/wide-is-the-daemons-cells", test_ctl_map_wide_is_the_daemons_cells);
  g_test_add_func ("/ctl-map/100-columns-color", test_ctl_map_100_columns_color);
  g_test_add_func ("/ctl-map/legend", test_ctl_map_legend);
  g_test_add_func ("/ctl-map/nothing-eligible-and-control-characters",
                   test_ctl_map_nothing_eligible_and_control_characters);
  g_test_add_func ("/ctl-map/cells-text", test_ctl_map_cells_text);
  return g_test_run ();
}
