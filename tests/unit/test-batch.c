/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Batching of planned ranges into process_madvise calls: at most IOV_MAX
 * iovecs and MAX_RW_COUNT bytes a call, every byte handed out once, in order.
 */
#include "config.h"

#include "ma-parse.h"

#define PAGE 4096u
#define GiB (1024ull * 1024 * 1024)

/* Runs the cursor to the end; checks each batch's limits and that the spans
 * cover the ranges exactly, in order. Returns the number of batches. */
static guint
drain (const MaRange *ranges, guint n, guint max_iov, guint64 max_bytes)
{
  g_autofree MaSpan *spans = g_new (MaSpan, max_iov);
  MaBatchCursor cursor = { .ranges = ranges, .n_ranges = n };
  guint batches = 0, index = 0, k;
  guint64 consumed = 0;
  guint got;

  while ((got = ma_batch_next (&cursor, spans, max_iov, max_bytes)) > 0)
    {
      guint64 total = 0;

      g_assert_cmpuint (got, <=, max_iov);
      for (k = 0; k < got; k++)
        {
          g_assert_cmpuint (index, <, n);
          g_assert_cmphex (spans[k].start, ==, ranges[index].start + consumed);
          g_assert_cmpuint (spans[k].length, >, 0);
          total += spans[k].length;
          consumed += spans[k].length;
          g_assert_cmpuint (consumed, <=, ranges[index].length);
          if (consumed == ranges[index].length)
            {
              index++;
              consumed = 0;
            }
        }
      g_assert_cmpuint (total, <=, max_bytes);
      batches++;
    }
  g_assert_cmpuint (index, ==, n);
  return batches;
}

static void
test_max_rw_count_is_int_max_page_aligned (void)
{
  g_assert_cmphex (ma_max_rw_count (4096), ==, 0x7ffff000);
  g_assert_cmphex (ma_max_rw_count (65536), ==, 0x7fff0000);
}

static void
test_more_ranges_than_iov_max_take_several_calls (void)
{
  g_autofree MaRange *ranges = g_new (MaRange, 3000);
  guint i;

  for (i = 0; i < 3000; i++)
    ranges[i] = (MaRange){ 0x10000000ull + i * 2ull * PAGE, PAGE, PAGE };
  g_assert_cmpuint (drain (ranges, 3000, MA_IOV_MAX, ma_max_rw_count (PAGE)), ==, 3);
}

static void
test_range_over_max_rw_count_is_split (void)
{
  MaRange ranges[] = { { 0x7f0000000000ull, 5 * GiB, 5 * GiB } };

  g_assert_cmpuint (drain (ranges, 1, MA_IOV_MAX, ma_max_rw_count (PAGE)), ==, 3);
}

static void
test_bytes_limit_cuts_between_ranges (void)
{
  MaRange ranges[] = {
    { 0x10000000ull, GiB, GiB },
    { 0x60000000ull, GiB, GiB },
    { 0xa0000000ull, GiB, GiB },
  };

  /* 3 GiB at most 0x7ffff000 a call: two calls cannot hold it, three can. */
  g_assert_cmpuint (drain (ranges, 3, MA_IOV_MAX, ma_max_rw_count (PAGE)), ==, 2);
  g_assert_cmpuint (drain (ranges, 3, MA_IOV_MAX, GiB), ==, 3);
  g_assert_cmpuint (drain (ranges, 3, 1, ma_max_rw_count (PAGE)), ==, 3);
}

static void
test_batches_stay_page_aligned (void)
{
  MaRange ranges[] = { { 0x10000000ull, 3 * GiB, 3 * GiB } };
  MaBatchCursor cursor = { .ranges = ranges, .n_ranges = 1 };
  MaSpan spans[4];
  guint got, k;

  while ((got = ma_batch_next (&cursor, spans, 4, ma_max_rw_count (PAGE))) > 0)
    for (k = 0; k < got; k++)
      {
        g_assert_cmpuint (spans[k].start % PAGE, ==, 0);
        g_assert_cmpuint (spans[k].length % PAGE, ==, 0);
      }
}

static void
test_empty_plan_has_no_batches (void)
{
  MaBatchCursor cursor = { .ranges = NULL, .n_ranges = 0 };
  MaSpan spans[1];

  g_assert_cmpuint (ma_batch_next (&cursor, spans, 1, ma_max_rw_count (PAGE)), ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/batch/max-rw-count-is-int-max-page-aligned",
                   test_max_rw_count_is_int_max_page_aligned);
  g_test_add_func ("/batch/more-ranges-than-iov-max-take-several-calls",
                   test_more_ranges_than_iov_max_take_several_calls);
  g_test_add_func ("/batch/range-over-max-rw-count-is-split",
                   test_range_over_max_rw_count_is_split);
  g_test_add_func ("/batch/bytes-limit-cuts-between-ranges", test_bytes_limit_cuts_between_ranges);
  g_test_add_func ("/batch/batches-stay-page-aligned", test_batches_stay_page_aligned);
  g_test_add_func ("/batch/empty-plan-has-no-batches", test_empty_plan_has_no_batches);

  return g_test_run ();
}
