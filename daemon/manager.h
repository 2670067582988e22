/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "context.h"
#include "ma-dbus-generated.h"

G_BEGIN_DECLS

#define MA_TYPE_MANAGER (ma_manager_get_type ())
G_DECLARE_FINAL_TYPE (MaManager, ma_manager, MA, MANAGER, MaDBusMemAdvise1Skeleton)

/* The object at /org/memadvise/MemAdvise1. @context outlives it. */
MaManager *ma_manager_new (MaContext *context);

G_END_DECLS
