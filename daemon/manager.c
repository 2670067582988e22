/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The org.memadvise.MemAdvise1 object: validates calls and hands them to
 * jobs.c. Properties are constant after start.
 */
#include "config.h"

#include "dbus-error.h"
#include "jobs.h"
#include "manager.h"

struct _MaManager
{
  MaDBusMemAdvise1Skeleton parent_instance;
  MaContext *context;
};

static void ma_manager_iface_init (MaDBusMemAdvise1Iface *iface);

G_DEFINE_TYPE_WITH_CODE (MaManager, ma_manager, MA_DBUS_TYPE_MEM_ADVISE1_SKELETON,
                         G_IMPLEMENT_INTERFACE (MA_DBUS_TYPE_MEM_ADVISE1, ma_manager_iface_init))

static gboolean
handle_advise (MaManager *self, GDBusMethodInvocation *invocation, gboolean reclaim, GVariant *pids,
               const char *mode, GVariant *options)
{
  g_autoptr (GError) error = NULL;
  MaRequest *request;

  request = ma_request_parse (pids, mode, options, self->context->settings, &error);
  if (request == NULL)
    {
      g_debug ("%s from %s: %s", reclaim ? "Reclaim" : "Plan",
               g_dbus_method_invocation_get_sender (invocation), error->message);
      ma_stats_add_refused_call (self->context->stats, "invalid-args");
      g_dbus_method_invocation_return_gerror (invocation, error);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
  if (!self->context->kernel_supported)
    {
      ma_request_free (request);
      ma_stats_add_refused_call (self->context->stats, "not-supported");
      g_dbus_method_invocation_return_error (invocation, MA_DAEMON_ERROR,
                                             MA_DAEMON_ERROR_NOT_SUPPORTED,
                                             "This kernel does not support process_madvise(2).");
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
  ma_job_start (self->context, g_object_ref (invocation), reclaim, request);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
handle_plan (MaDBusMemAdvise1 *object, GDBusMethodInvocation *invocation, GVariant *pids,
             const char *mode, GVariant *options)
{
  return handle_advise (MA_MANAGER (object), invocation, FALSE, pids, mode, options);
}

static gboolean
handle_reclaim (MaDBusMemAdvise1 *object, GDBusMethodInvocation *invocation, GVariant *pids,
                const char *mode, GVariant *options)
{
  return handle_advise (MA_MANAGER (object), invocation, TRUE, pids, mode, options);
}

static gboolean
handle_get_statistics (MaDBusMemAdvise1 *object, GDBusMethodInvocation *invocation)
{
  MaManager *self = MA_MANAGER (object);

  ma_dbus_mem_advise1_complete_get_statistics (object, invocation,
                                               ma_stats_to_variant (self->context->stats));
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static void
ma_manager_iface_init (MaDBusMemAdvise1Iface *iface)
{
  iface->handle_plan = handle_plan;
  iface->handle_reclaim = handle_reclaim;
  iface->handle_get_statistics = handle_get_statistics;
}

static void
ma_manager_init (MaManager *self)
{
  /* Handlers run in the main thread; they never block, work goes to jobs. */
  g_dbus_interface_skeleton_set_flags (G_DBUS_INTERFACE_SKELETON (self),
                                       G_DBUS_INTERFACE_SKELETON_FLAGS_NONE);
}

static void
ma_manager_class_init (MaManagerClass *klass)
{
}

MaManager *
ma_manager_new (MaContext *context)
{
  static const char *const modes[] = { "cold", "pageout", NULL };
  MaManager *self = g_object_new (MA_TYPE_MANAGER, NULL);

  self->context = context;
  ma_dbus_mem_advise1_set_version (MA_DBUS_MEM_ADVISE1 (self), PACKAGE_VERSION);
  ma_dbus_mem_advise1_set_kernel_supported (MA_DBUS_MEM_ADVISE1 (self), context->kernel_supported);
  ma_dbus_mem_advise1_set_modes (MA_DBUS_MEM_ADVISE1 (self), modes);
  return self;
}
