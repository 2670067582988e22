/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The fair queue of calls (queue.c): places, per-uid shares, turns
 * between uids, bounds, calls that give their place back for polkit.
 */
#include "config.h"

#include "queue.h"

#define ALICE 1000
#define BOB 1001
#define CAROL 1002
#define ROOT 0

/* The data of the item: a small number naming the call. */
static guint
call_of (MaQueueItem *item)
{
  return GPOINTER_TO_UINT (ma_queue_item_get_data (item));
}

static MaQueueItem *
admit (MaQueue *queue, uid_t uid, guint call, MaQueueAdmission expected)
{
  MaQueueItem *item = NULL;

  g_assert_cmpint (ma_queue_admit (queue, uid, GUINT_TO_POINTER (call), &item), ==, expected);
  if (expected == MA_QUEUE_RUN || expected == MA_QUEUE_WAIT)
    g_assert_nonnull (item);
  else
    g_assert_null (item);
  return item;
}

/* Ends @item and returns the call that got its place, 0 for none. */
static guint
finish (MaQueue *queue, MaQueueItem *item, MaQueueItem **out_next)
{
  MaQueueItem *next;

  g_assert_true (ma_queue_item_is_running (item));
  ma_queue_remove (queue, item);
  next = ma_queue_next (queue);
  if (out_next != NULL)
    *out_next = next;
  return next != NULL ? call_of (next) : 0;
}

static void
test_queue_runs_max_at_once_then_in_arrival_order (void)
{
  g_autoptr (MaQueue) queue = ma_queue_new (2, 2, 16, 64);
  MaQueueItem *a = admit (queue, ALICE, 1, MA_QUEUE_RUN);
  MaQueueItem *b = admit (queue, BOB, 2, MA_QUEUE_RUN);
  MaQueueItem *next;

  admit (queue, ALICE, 3, MA_QUEUE_WAIT);
  admit (queue, ALICE, 4, MA_QUEUE_WAIT);
  g_assert_cmpuint (ma_queue_get_n_running (queue), ==, 2);
  g_assert_cmpuint (ma_queue_get_n_waiting (queue), ==, 2);
  g_assert_null (ma_queue_next (queue));

  g_assert_cmpuint (finish (queue, a, &a), ==, 3);
  g_assert_cmpuint (finish (queue, b, &b), ==, 4);
  g_assert_cmpuint (finish (queue, a, NULL), ==, 0);
  g_assert_cmpuint (finish (queue, b, &next), ==, 0);
  g_assert_cmpuint (ma_queue_get_n_running (queue), ==, 0);
  g_assert_cmpuint (ma_queue_get_n_waiting (queue), ==, 0);
}

/* One user's calls take at most their share of the places: another
 * user's call starts at once beside a flood. */
static void
test_queue_one_uid_takes_at_most_its_share (void)
{
  g_autoptr (MaQueue) queue = ma_queue_new (4, 2, 16, 64);
  MaQueueItem *running[3];

  running[0] = admit (queue, ALICE, 1, MA_QUEUE_RUN);
  running[1] = admit (queue, ALICE, 2, MA_QUEUE_RUN);
  for (guint i = 3; i <= 10; i++)
    admit (queue, ALICE, i, MA_QUEUE_WAIT);
  g_assert_null (ma_queue_next (queue));
  g_assert_cmpuint (ma_queue_get_n_running (queue), ==, 2);
  running[2] = admit (queue, BOB, 11, MA_QUEUE_RUN);
  g_assert_cmpuint (ma_queue_get_n_running (queue), ==, 3);

  /* Alice's next comes when one of hers ends, not before. */
  ma_queue_remove (queue, running[2]);
  g_assert_null (ma_queue_next (queue));
  g_assert_cmpuint (finish (queue, running[0], &running[0]), ==, 3);
  for (guint i = 4; i <= 10; i++)
    g_assert_cmpuint (finish (queue, running[0], &running[0]), ==, i);
  g_assert_cmpuint (finish (queue, running[0], NULL), ==, 0);
  g_assert_cmpuint (finish (queue, running[1], NULL), ==, 0);
}

/* With one place, users take turns whatever each queued; a user who
 * comes later goes before those served already. Root waits its turn as
 * anyone, and is not passed over either. */
static void
test_queue_uids_take_turns (void)
{
  g_autoptr (MaQueue) queue = ma_queue_new (1, 1, 16, 64);
  MaQueueItem *item = admit (queue, ALICE, 100, MA_QUEUE_RUN);
  g_autoptr (GString) order = g_string_new (NULL);
  guint call;

  for (guint i = 1; i <= 3; i++)
    admit (queue, ALICE, 100 + i, MA_QUEUE_WAIT);
  for (guint i = 1; i <= 3; i++)
    admit (queue, BOB, 200 + i, MA_QUEUE_WAIT);
  admit (queue, ROOT, 1, MA_QUEUE_WAIT);
  while ((call = finish (queue, item, &item)) != 0)
    {
      g_string_append_printf (order, "%u ", call);
      if (call == 201)
        admit (queue, CAROL, 300, MA_QUEUE_WAIT);
    }
  /* Bob and root never had a turn: Bob's call came first. Carol comes
   * after Bob's first and goes before everyone served. */
  g_assert_cmpstr (order->str, ==, "201 1 300 101 202 102 203 103 ");
}

static void
test_queue_bounds_per_uid_and_in_all (void)
{
  g_autoptr (MaQueue) queue = ma_queue_new (1, 1, 2, 3);
  MaQueueItem *item = admit (queue, ALICE, 1, MA_QUEUE_RUN);

  admit (queue, ALICE, 2, MA_QUEUE_WAIT);
  admit (queue, ALICE, 3, MA_QUEUE_WAIT);
  admit (queue, ALICE, 4, MA_QUEUE_FULL_FOR_UID);
  admit (queue, BOB, 5, MA_QUEUE_WAIT);
  admit (queue, CAROL, 6, MA_QUEUE_FULL);
  /* Root is bound as everyone. */
  admit (queue, ROOT, 7, MA_QUEUE_FULL);
  g_assert_cmpuint (ma_queue_get_n_waiting (queue), ==, 3);

  g_assert_cmpuint (finish (queue, item, &item), ==, 5);
  admit (queue, CAROL, 8, MA_QUEUE_WAIT);
  g_assert_cmpuint (finish (queue, item, &item), ==, 8);
  g_assert_cmpuint (finish (queue, item, &item), ==, 2);
  g_assert_cmpuint (finish (queue, item, &item), ==, 3);
  g_assert_cmpuint (finish (queue, item, NULL), ==, 0);
}

/* MaxQueuedPerUser=0: a call runs at once or is refused. */
static void
test_queue_without_waiting_refuses_what_cannot_start (void)
{
  g_autoptr (MaQueue) queue = ma_queue_new (2, 1, 0, 0);
  MaQueueItem *a = admit (queue, ALICE, 1, MA_QUEUE_RUN);
  MaQueueItem *b;

  admit (queue, ALICE, 2, MA_QUEUE_FULL_FOR_UID);
  b = admit (queue, BOB, 3, MA_QUEUE_RUN);
  admit (queue, CAROL, 4, MA_QUEUE_FULL_FOR_UID);
  ma_queue_remove (queue, a);
  ma_queue_remove (queue, b);
}

/* A call waiting for polkit gives its place back and holds none until it
 * is resumed; resumed, it goes before its uid's later calls. */
static void
test_queue_suspended_call_holds_no_place (void)
{
  g_autoptr (MaQueue) queue = ma_queue_new (1, 1, 16, 64);
  MaQueueItem *first = admit (queue, ALICE, 1, MA_QUEUE_RUN);
  MaQueueItem *item;

  admit (queue, ALICE, 2, MA_QUEUE_WAIT);
  admit (queue, ALICE, 3, MA_QUEUE_WAIT);
  ma_queue_suspend (queue, first);
  g_assert_false (ma_queue_item_is_running (first));
  g_assert_cmpuint (ma_queue_get_n_waiting (queue), ==, 3);
  item = ma_queue_next (queue);
  g_assert_cmpuint (call_of (item), ==, 2);
  /* Suspended, it is not handed a place. */
  ma_queue_remove (queue, item);
  item = ma_queue_next (queue);
  g_assert_cmpuint (call_of (item), ==, 3);
  admit (queue, ALICE, 4, MA_QUEUE_WAIT);
  ma_queue_resume (queue, first);
  g_assert_null (ma_queue_next (queue));
  g_assert_cmpuint (finish (queue, item, &item), ==, 1);
  g_assert_true (item == first);
  g_assert_cmpuint (finish (queue, item, &item), ==, 4);
  g_assert_cmpuint (finish (queue, item, NULL), ==, 0);
}

/* Calls that gave their place back (waiting for polkit) count against
 * the bounds: the places they left do not let a uid, or all, pile up
 * calls without end. */
static void
test_queue_suspended_calls_count_against_the_bounds (void)
{
  g_autoptr (MaQueue) queue = ma_queue_new (2, 1, 2, 3);
  MaQueueItem *items[5];

  /* Alice: one running and two waiting at most, places free or not. */
  for (guint call = 1; call <= 3; call++)
    {
      items[call - 1] = admit (queue, ALICE, call, MA_QUEUE_RUN);
      ma_queue_suspend (queue, items[call - 1]);
    }
  g_assert_cmpuint (ma_queue_get_n_running (queue), ==, 0);
  admit (queue, ALICE, 4, MA_QUEUE_FULL_FOR_UID);
  /* In all: two running and three waiting at most. */
  items[3] = admit (queue, BOB, 5, MA_QUEUE_RUN);
  ma_queue_suspend (queue, items[3]);
  items[4] = admit (queue, CAROL, 6, MA_QUEUE_RUN);
  admit (queue, ROOT, 7, MA_QUEUE_FULL);
  g_assert_cmpuint (ma_queue_get_n_waiting (queue), ==, 4);

  /* As the daemon ends its calls. */
  for (guint i = 0; i < G_N_ELEMENTS (items); i++)
    ma_queue_remove (queue, items[i]);
  g_assert_cmpuint (ma_queue_get_n_waiting (queue), ==, 0);
  g_assert_cmpuint (ma_queue_get_n_running (queue), ==, 0);
}

/* A waiting call whose caller left goes; those behind it move up. */
static void
test_queue_waiting_call_removed (void)
{
  g_autoptr (MaQueue) queue = ma_queue_new (1, 1, 16, 64);
  MaQueueItem *item = admit (queue, ALICE, 1, MA_QUEUE_RUN);
  MaQueueItem *gone = admit (queue, BOB, 2, MA_QUEUE_WAIT);

  admit (queue, BOB, 3, MA_QUEUE_WAIT);
  ma_queue_remove (queue, gone);
  g_assert_cmpuint (ma_queue_get_n_waiting (queue), ==, 1);
  g_assert_cmpuint (finish (queue, item, &item), ==, 3);
  g_assert_cmpuint (finish (queue, item, NULL), ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/queue/runs-max-at-once-then-in-arrival-order",
                   test_queue_runs_max_at_once_then_in_arrival_order);
  g_test_add_func ("/queue/one-uid-takes-at-most-its-share",
                   test_queue_one_uid_takes_at_most_its_share);
  g_test_add_func ("/queue/uids-take-turns", test_queue_uids_take_turns);
  g_test_add_func ("/queue/bounds-per-uid-and-in-all", test_queue_bounds_per_uid_and_in_all);
  g_test_add_func ("/queue/without-waiting-refuses-what-cannot-start",
                   test_queue_without_waiting_refuses_what_cannot_start);
  g_test_add_func ("/queue/suspended-call-holds-no-place",
                   test_queue_suspended_call_holds_no_place);
  g_test_add_func ("/queue/suspended-calls-count-against-the-bounds",
                   test_queue_suspended_calls_count_against_the_bounds);
  g_test_add_func ("/queue/waiting-call-removed", test_queue_waiting_call_removed);
  return g_test_run ();
}
