/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * memadvised's parsing of the arguments of Plan, Reclaim, PlanCgroup,
 * ReclaimCgroup, PlanPidfds and ReclaimPidfds (ma_request_parse*): every bad input is InvalidArgs
 * naming its argument or option key, and good ones give the request DESIGN says.
 * tests/integration/test_bad_input.py checks a few of these on the bus.
 */
#include "config.h"

#include <gio/gio.h>
#include <stdarg.h>
#include <string.h>

#include "request.h"

static GVariant *
pids_of (const guint32 *pids, gsize n)
{
  return g_variant_ref_sink (
      g_variant_new_fixed_array (G_VARIANT_TYPE_UINT32, pids, n, sizeof (guint32)));
}

static GVariant *
one_pid (void)
{
  static const guint32 pid = 4242;

  return pids_of (&pid, 1);
}

/* a{sv} from "key", GVariant pairs (floating values), NULL-terminated. */
static GVariant *
options_of (const char *key, ...)
{
  GVariantBuilder builder;
  va_list args;

  g_variant_builder_init (&builder, G_VARIANT_TYPE_VARDICT);
  va_start (args, key);
  for (const char *k = key; k != NULL; k = va_arg (args, const char *))
    g_variant_builder_add (&builder, "{sv}", k, va_arg (args, GVariant *));
  va_end (args);
  return g_variant_ref_sink (g_variant_builder_end (&builder));
}

static MaRequest *
parse_ok (GVariant *pids, const char *mode, GVariant *options, const MaSettings *settings)
{
  g_autoptr (GVariant) owned_pids = pids;
  g_autoptr (GVariant) owned_options = options != NULL ? options : options_of (NULL);
  g_autoptr (GError) error = NULL;
  MaRequest *request = ma_request_parse (owned_pids, mode, owned_options, settings, &error);

  g_assert_no_error (error);
  g_assert_nonnull (request);
  return request;
}

/* Plan/Reclaim and the cgroup calls refuse @options alike, naming @key
 * (and @also, when given) in one sentence. */
static void
assert_invalid_options (const MaSettings *settings, const char *mode, GVariant *options,
                        const char *key, const char *also)
{
  g_autoptr (GVariant) owned = options;
  g_autoptr (GVariant) pids = one_pid ();

  for (guint cgroup_call = 0; cgroup_call < 2; cgroup_call++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (MaRequest) request = NULL;

      if (cgroup_call)
        request = ma_request_parse_options (mode, owned, settings, &error);
      else
        request = ma_request_parse (pids, mode, owned, settings, &error);
      g_assert_null (request);
      g_assert_error (error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS);
      g_assert_nonnull (strstr (error->message, key));
      if (also != NULL)
        g_assert_nonnull (strstr (error->message, also));
      g_assert_true (g_str_has_suffix (error->message, "."));
    }
}

static void
assert_invalid_pids (GVariant *pids)
{
  g_autoptr (MaSettings) settings = ma_settings_new ();
  g_autoptr (GVariant) owned = pids;
  g_autoptr (GVariant) options = options_of (NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (MaRequest) request = ma_request_parse (owned, "cold", options, settings, &error);

  g_assert_null (request);
  g_assert_error (error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS);
  g_assert_nonnull (strstr (error->message, "pids"));
}

static void
test_request_defaults (void)
{
  g_autoptr (MaSettings) settings = ma_settings_new ();
  g_autoptr (MaRequest) request = parse_ok (one_pid (), "cold", NULL, settings);

  g_assert_cmpint (request->mode, ==, MA_MODE_COLD);
  g_assert_cmpuint (request->percent, ==, 30);
  g_assert_cmpuint (request->max_bytes, ==, 0);
  g_assert_false (request->ranges);
  g_assert_false (request->map);
  g_assert_cmpint (request->order, ==, MA_ORDER_COLDEST);
  g_assert_cmpuint (request->min_idle, ==, 0);
  g_assert_cmpuint (request->threads, ==, MAX (g_get_num_processors (), 1));
  g_assert_cmpuint (request->pids->len, ==, 1);
  g_assert_cmpuint (g_array_index (request->pids, guint32, 0), ==, 4242);
}

static void
test_request_every_option (void)
{
  g_autoptr (MaSettings) settings = ma_settings_new ();
  g_autoptr (MaRequest) request = NULL;

  settings->max_threads = 64;
  request = parse_ok (
      one_pid (), "pageout",
      options_of ("percent", g_variant_new_uint32 (100), "max-bytes",
                  g_variant_new_uint64 (G_MAXUINT64), "ranges", g_variant_new_boolean (TRUE),
                  "order", g_variant_new_string ("coldest"), "min-idle",
                  g_variant_new_uint32 (settings->max_min_idle), "threads",
                  g_variant_new_uint32 (3), "map", g_variant_new_boolean (TRUE), NULL),
      settings);
  g_assert_cmpint (request->mode, ==, MA_MODE_PAGEOUT);
  g_assert_cmpuint (request->percent, ==, 100);
  g_assert_cmpuint (request->max_bytes, ==, G_MAXUINT64);
  g_assert_true (request->ranges);
  g_assert_true (request->map);
  g_assert_cmpuint (request->min_idle, ==, settings->max_min_idle);
  g_assert_cmpuint (request->threads, ==, 3);
}

static void
test_request_valid_values_are_accepted (void)
{
  g_autoptr (MaSettings) settings = ma_settings_new ();
  const char *const orders[] = { "coldest", "address" };

  for (gsize i = 0; i < G_N_ELEMENTS (orders); i++)
    {
      g_autoptr (MaRequest) request
          = parse_ok (one_pid (), "cold",
                      options_of ("order", g_variant_new_string (orders[i]), NULL), settings);

      g_assert_cmpint (request->order, ==, i == 0 ? MA_ORDER_COLDEST : MA_ORDER_ADDRESS);
    }
  for (guint32 percent = 1; percent <= 100; percent += 99)
    {
      g_autoptr (MaRequest) request
          = parse_ok (one_pid (), "cold",
                      options_of ("percent", g_variant_new_uint32 (percent), NULL), settings);

      g_assert_cmpuint (request->percent, ==, percent);
    }
  {
    g_autoptr (MaRequest) request = parse_ok (
        one_pid (), "cold",
        options_of ("min-idle", g_variant_new_uint32 (0), "order", g_variant_new_string ("address"),
                    "threads", g_variant_new_uint32 (0), NULL),
        settings);

    g_assert_cmpuint (request->min_idle, ==, 0);
  }
}

static void
test_request_mode_must_be_cold_or_pageout (void)
{
  g_autoptr (MaSettings) settings = ma_settings_new ();
  const char *const bad[] = { "dontneed", "", "COLD", "cold ", "free" };

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    assert_invalid_options (settings, bad[i], options_of (NULL), "mode", NULL);
}

static void
test_request_percent_out_of_range_or_wrong_type (void)
{
  g_autoptr (MaSettings) settings = ma_settings_new ();

  assert_invalid_options (settings, "cold", options_of ("percent", g_variant_new_uint32 (0), NULL),
                          "percent", NULL);
  assert_invalid_options (
      settings, "cold", options_of ("percent", g_variant_new_uint32 (101), NULL), "percent", NULL);
  assert_invalid_options (
      settings, "cold", options_of ("percent", g_variant_new_string ("30"), NULL), "percent", NULL);
  assert_invalid_options (settings, "cold", options_of ("percent", g_variant_new_int32 (30), NULL),
                          "percent", NULL);
}

static void
test_request_options_of_the_wrong_type (void)
{
  g_autoptr (MaSettings) settings = ma_settings_new ();

  assert_invalid_options (settings, "cold",
                          options_of ("max-bytes", g_variant_new_uint32 (5), NULL), "max-bytes",
                          NULL);
  assert_invalid_options (
      settings, "cold", options_of ("ranges", g_variant_new_string ("yes"), NULL), "ranges", NULL);
  assert_invalid_options (settings, "cold", options_of ("map", g_variant_new_uint32 (1), NULL),
                          "map", NULL);
  assert_invalid_options (settings, "cold", options_of ("order", g_variant_new_uint32 (1), NULL),
                          "order", NULL);
  assert_invalid_options (settings, "cold", options_of ("min-idle", g_variant_new_uint64 (2), NULL),
                          "min-idle", NULL);
  assert_invalid_options (
      settings, "cold", options_of ("threads", g_variant_new_string ("2"), NULL), "threads", NULL);
}

static void
test_request_unknown_option_key (void)
{
  g_autoptr (MaSettings) settings = ma_settings_new ();

  assert_invalid_options (settings, "cold",
                          options_of ("frobnicate", g_variant_new_boolean (TRUE), NULL),
                          "frobnicate", NULL);
}

static void
test_request_order_must_be_coldest_or_address (void)
{
  g_autoptr (MaSettings) settings = ma_settings_new ();

  assert_invalid_options (settings, "cold",
                          options_of ("order", g_variant_new_string ("hottest"), NULL), "order",
                          NULL);
  assert_invalid_options (settings, "cold", options_of ("order", g_variant_new_string (""), NULL),
                          "order", NULL);
}

static void
test_request_min_idle_is_capped_by_max_min_idle (void)
{
  g_autoptr (MaSettings) settings = ma_settings_new ();

  settings->max_min_idle = 5;
  assert_invalid_options (settings, "cold", options_of ("min-idle", g_variant_new_uint32 (6), NULL),
                          "min-idle", "MaxMinIdle");
  g_autoptr (MaRequest) request = parse_ok (
      one_pid (), "cold", options_of ("min-idle", g_variant_new_uint32 (5), NULL), settings);
  g_assert_cmpuint (request->min_idle, ==, 5);

  /* MaxMinIdle=0 refuses every wait, and only a wait. */
  settings->max_min_idle = 0;
  assert_invalid_options (settings, "cold", options_of ("min-idle", g_variant_new_uint32 (1), NULL),
                          "min-idle", NULL);
  g_clear_pointer (&request, ma_request_free);
  request = parse_ok (one_pid (), "cold", options_of ("min-idle", g_variant_new_uint32 (0), NULL),
                      settings);
  g_assert_cmpuint (request->min_idle, ==, 0);
}

static void
test_request_min_idle_needs_order_coldest (void)
{
  g_autoptr (MaSettings) settings = ma_settings_new ();

  assert_invalid_options (settings, "cold",
                          options_of ("min-idle", g_variant_new_uint32 (1), "order",
                                      g_variant_new_string ("address"), NULL),
                          "min-idle", "coldest");
}

static void
test_request_threads_are_clamped_to_max_threads (void)
{
  g_autoptr (MaSettings) settings = ma_settings_new ();
  guint cpus = (guint) MAX (g_get_num_processors (), 1);
  g_autoptr (MaRequest) request = NULL;

  settings->max_threads = 1;
  request = parse_ok (one_pid (), "pageout",
                      options_of ("threads", g_variant_new_uint32 (64), NULL), settings);
  g_assert_cmpuint (request->threads, ==, 1);

  /* MaxThreads=0: the online CPUs are the cap. */
  settings->max_threads = 0;
  g_clear_pointer (&request, ma_request_free);
  request = parse_ok (one_pid (), "pageout",
                      options_of ("threads", g_variant_new_uint32 (G_MAXUINT32), NULL), settings);
  g_assert_cmpuint (request->threads, ==, cpus);
}

static void
test_request_pids_empty_or_too_many (void)
{
  g_autofree guint32 *many = g_new (guint32, 100000);

  for (guint i = 0; i < 100000; i++)
    many[i] = i + 1;
  assert_invalid_pids (pids_of (many, 0));
  assert_invalid_pids (pids_of (many, MA_DBUS_MAX_PIDS + 1));
  assert_invalid_pids (pids_of (many, 100000));
}

static void
test_request_1024_distinct_pids_are_accepted (void)
{
  g_autoptr (MaSettings) settings = ma_settings_new ();
  g_autofree guint32 *pids = g_new (guint32, MA_DBUS_MAX_PIDS);
  g_autoptr (MaRequest) request = NULL;

  for (guint i = 0; i < MA_DBUS_MAX_PIDS; i++)
    pids[i] = 4000000 + i;
  request = parse_ok (pids_of (pids, MA_DBUS_MAX_PIDS), "cold", NULL, settings);
  g_assert_cmpuint (request->pids->len, ==, MA_DBUS_MAX_PIDS);
}

static void
test_request_a_pid_named_twice_is_one_target_at_its_first_position (void)
{
  static const guint32 pids[] = { 7, 0, 5, 7, 1, 0, 5, 9 };
  static const guint32 expected[] = { 7, 0, 5, 1, 9 };
  g_autoptr (MaSettings) settings = ma_settings_new ();
  g_autoptr (MaRequest) request
      = parse_ok (pids_of (pids, G_N_ELEMENTS (pids)), "cold", NULL, settings);

  /* Pid 0 and 1 are per-target failures later, not invalid arguments. */
  g_assert_cmpmem (request->pids->data, request->pids->len * sizeof (guint32), expected,
                   sizeof expected);
}

static void
test_request_cgroup_calls_start_without_pids (void)
{
  g_autoptr (MaSettings) settings = ma_settings_new ();
  g_autoptr (GVariant) options = options_of ("percent", g_variant_new_uint32 (50), NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (MaRequest) request = ma_request_parse_options ("pageout", options, settings, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (request->pids->len, ==, 0);
  g_assert_cmpuint (request->percent, ==, 50);
  g_assert_cmpint (request->mode, ==, MA_MODE_PAGEOUT);
}

static GVariant *
handles_of (const gint32 *handles, gsize n)
{
  return g_variant_ref_sink (
      g_variant_new_fixed_array (G_VARIANT_TYPE_HANDLE, handles, n, sizeof (gint32)));
}

static void
test_request_pidfds_index_the_messages_files (void)
{
  static const gint32 handles[] = { 2, 0, 2, 1, 0 };
  static const gint32 expected[] = { 2, 0, 1 };
  g_autoptr (MaSettings) settings = ma_settings_new ();
  g_autoptr (GVariant) good = handles_of (handles, G_N_ELEMENTS (handles));
  g_autoptr (GVariant) options = options_of ("access-denied", g_variant_new_boolean (FALSE), NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (MaRequest) request
      = ma_request_parse_pidfds (good, 3, "cold", options, settings, &error);
  gint32 many[MA_DBUS_MAX_PIDFDS + 1];
  static const struct
  {
    gint32 handle;
    guint n_fds;
  } bad[] = { { 3, 3 }, { -1, 3 }, { 0, 0 } };

  /* A handle named twice is one target, at its first position. */
  g_assert_no_error (error);
  g_assert_cmpmem (request->handles->data, request->handles->len * sizeof (gint32), expected,
                   sizeof expected);
  g_assert_cmpuint (request->pids->len, ==, 0);
  g_assert_cmpuint (request->pidfds->len, ==, 0);
  g_assert_false (request->access_denied);

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GVariant) one = handles_of (&bad[i].handle, 1);
      g_autoptr (GError) local_error = NULL;

      g_assert_null (
          ma_request_parse_pidfds (one, bad[i].n_fds, "cold", options, settings, &local_error));
      g_assert_error (local_error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS);
      g_assert_nonnull (strstr (local_error->message, "pidfds"));
    }
  /* 1 to 16, what one message of the system bus may carry. */
  for (guint n = 0; n <= MA_DBUS_MAX_PIDFDS + 1; n += MA_DBUS_MAX_PIDFDS + 1)
    {
      g_autoptr (GVariant) some = NULL;
      g_autoptr (GError) local_error = NULL;

      for (guint i = 0; i < n; i++)
        many[i] = (gint32) i;
      some = handles_of (many, n);
      g_assert_null (ma_request_parse_pidfds (some, n, "cold", options, settings, &local_error));
      g_assert_error (local_error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS);
    }
  {
    g_autoptr (GVariant) sixteen = NULL;
    g_autoptr (MaRequest) full = NULL;

    for (guint i = 0; i < MA_DBUS_MAX_PIDFDS; i++)
      many[i] = (gint32) i;
    sixteen = handles_of (many, MA_DBUS_MAX_PIDFDS);
    full = ma_request_parse_pidfds (sixteen, MA_DBUS_MAX_PIDFDS, "cold", options, settings, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (full->handles->len, ==, MA_DBUS_MAX_PIDFDS);
  }
}

static void
test_request_access_denied_option (void)
{
  g_autoptr (MaSettings) settings = ma_settings_new ();
  g_autoptr (MaRequest) plain = parse_ok (one_pid (), "cold", NULL, settings);

  /* By default a call whose targets were all refused is AccessDenied. */
  g_assert_true (plain->access_denied);
  assert_invalid_options (settings, "cold",
                          options_of ("access-denied", g_variant_new_uint32 (0), NULL),
                          "access-denied", NULL);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/request/defaults", test_request_defaults);
  g_test_add_func ("/request/every-option", test_request_every_option);
  g_test_add_func ("/request/valid-values-are-accepted", test_request_valid_values_are_accepted);
  g_test_add_func ("/request/mode-must-be-cold-or-pageout",
                   test_request_mode_must_be_cold_or_pageout);
  g_test_add_func ("/request/percent-out-of-range-or-wrong-type",
                   test_request_percent_out_of_range_or_wrong_type);
  g_test_add_func ("/request/options-of-the-wrong-type", test_request_options_of_the_wrong_type);
  g_test_add_func ("/request/unknown-option-key", test_request_unknown_option_key);
  g_test_add_func ("/request/order-must-be-coldest-or-address",
                   test_request_order_must_be_coldest_or_address);
  g_test_add_func ("/request/min-idle-is-capped-by-max-min-idle",
                   test_request_min_idle_is_capped_by_max_min_idle);
  g_test_add_func ("/request/min-idle-needs-order-coldest",
                   test_request_min_idle_needs_order_coldest);
  g_test_add_func ("/request/threads-are-clamped-to-max-threads",
                   test_request_threads_are_clamped_to_max_threads);
  g_test_add_func ("/request/pids-empty-or-too-many", test_request_pids_empty_or_too_many);
  g_test_add_func ("/request/1024-distinct-pids-are-accepted",
                   test_request_1024_distinct_pids_are_accepted);
  g_test_add_func ("/request/a-pid-named-twice-is-one-target-at-its-first-position",
                   test_request_a_pid_named_twice_is_one_target_at_its_first_position);
  g_test_add_func ("/request/pidfds-index-the-messages-files",
                   test_request_pidfds_index_the_messages_files);
  g_test_add_func ("/request/access-denied-option", test_request_access_denied_option);
  g_test_add_func ("/request/cgroup-calls-start-without-pids",
                   test_request_cgroup_calls_start_without_pids);

  return g_test_run ();
}
