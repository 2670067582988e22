/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Helpers the live engine tests share: run the engine on a ma-test-target
 * and check what every plan must satisfy.
 */
#pragma once

#include "ma-engine.h"
#include "ma-target-client.h"

G_BEGIN_DECLS

/* g_test_init(), and a one-line failure (TAP "Bail out!") unless root:
 * the engine needs CAP_SYS_NICE, pagemap and other users' processes. */
void live_test_init (int *argc, char ***argv);

#define KiB ((guint64) 1024)
#define MiB (1024 * KiB)
#define GiB (1024 * MiB)

/* Opens @pid and plans; asserts both succeed and that the plan is well formed. */
MaPlan *live_plan (pid_t pid, MaMode mode, guint percent, guint64 max_bytes, MaTarget **out_target);
/* Plans @request on an open target: no error, a plan of its mode, valid
 * (live_assert_plan_valid()). */
MaPlan *live_plan_request (MaTarget *target, const MaPlanRequest *request);

/* Checks the invariants of any plan: page-aligned, non-overlapping ranges
 * whose resident bytes sum to planned_bytes, within eligible_bytes. */
void live_assert_plan_valid (const MaPlan *plan);

/* TRUE if a planned range overlaps [start, start + length). */
gboolean live_plan_overlaps (const MaPlan *plan, guint64 start, guint64 length);

/* Applies @plan and asserts it succeeded. */
void live_apply (MaTarget *target, const MaPlan *plan, MaApplyResult *out);

/* Asserts the region has every page present and none swapped. */
void live_assert_resident (TestTarget *target, const char *name);
/* Asserts the region has every page in swap. */
void live_assert_swapped (TestTarget *target, const char *name);

G_END_DECLS
