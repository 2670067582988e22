/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The org.memadvise.MemAdvise1 object: validates calls and hands them to
 * jobs.c. Properties are constant after start.
 */
#include "config.h"

#include <gio/gunixfdlist.h>
#include <unistd.h>

#include "cgroups.h"
#include "ma-dbus-error.h"
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

/* Answers a call whose arguments are invalid, as @error says. */
static void
refuse_invalid (MaContext *context, GDBusMethodInvocation *invocation, const char *method,
                const GError *error)
{
  g_debug ("%s from %s: %s", method, g_dbus_method_invocation_get_sender (invocation),
           error->message);
  ma_stats_add_refused_call (context->stats, "invalid-args");
  g_dbus_method_invocation_return_gerror (invocation, error);
}

/* Answers a call that cannot go on: invalid arguments (@request is NULL
 * and @error says why) or a kernel without process_madvise (then it frees
 * @request). Returns TRUE if it answered. */
static gboolean
refuse_call (MaManager *self, GDBusMethodInvocation *invocation, const char *method,
             MaRequest **request, const GError *error)
{
  if (*request == NULL)
    {
      refuse_invalid (self->context, invocation, method, error);
      return TRUE;
    }
  if (!self->context->kernel_supported)
    {
      g_clear_pointer (request, ma_request_free);
      ma_stats_add_refused_call (self->context->stats, "not-supported");
      g_dbus_method_invocation_return_error (invocation, MA_DBUS_ERROR, MA_DBUS_ERROR_NOT_SUPPORTED,
                                             "This kernel does not support process_madvise(2).");
      return TRUE;
    }
  return FALSE;
}

/* The file descriptors @invocation's message carries, taken out of it
 * (*@out_n of them), NULL for none. A message keeps its fd list until the
 * call is answered, and a call may wait minutes in the queue or for
 * polkit: taken, it holds only the pidfds it keeps (memadvised(8), "File
 * descriptors"), and a plain call whose message carries some holds none. */
static int *
steal_message_fds (GDBusMethodInvocation *invocation, gint *out_n)
{
  GUnixFDList *fd_list
      = g_dbus_message_get_unix_fd_list (g_dbus_method_invocation_get_message (invocation));

  *out_n = 0;
  if (fd_list == NULL || g_unix_fd_list_get_length (fd_list) == 0)
    return NULL;
  return g_unix_fd_list_steal_fds (fd_list, out_n);
}

static void
close_fds (int *fds, gint n)
{
  for (gint i = 0; i < n; i++)
    if (fds[i] >= 0)
      close (fds[i]);
  g_free (fds);
}

/* A call that takes no file descriptors holds none of those it was sent. */
static void
drop_message_fds (GDBusMethodInvocation *invocation)
{
  gint n_fds;
  int *fds = steal_message_fds (invocation, &n_fds);

  close_fds (fds, n_fds);
}

static gboolean
handle_advise (MaManager *self, GDBusMethodInvocation *invocation, gboolean reclaim, GVariant *pids,
               const char *mode, GVariant *options)
{
  g_autoptr (GError) error = NULL;
  MaRequest *request;

  drop_message_fds (invocation);
  request = ma_request_parse (pids, mode, options, self->context->settings, &error);
  if (refuse_call (self, invocation, reclaim ? "Reclaim" : "Plan", &request, error))
    return G_DBUS_METHOD_INVOCATION_HANDLED;
  ma_job_start (self->context, g_object_ref (invocation), reclaim, request, NULL);
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

/* Moves the pidfds of @request's handles from @fds into it; FALSE with an
 * InvalidArgs when one is not a pidfd. */
static gboolean
take_pidfds (MaRequest *request, int *fds, GError **error)
{
  for (guint i = 0; i < request->handles->len; i++)
    {
      gint32 handle = g_array_index (request->handles, gint32, i);
      int fd = fds[handle];

      fds[handle] = -1;
      g_array_append_val (request->pidfds, fd);
      if (!ma_pidfd_check (fd, NULL))
        {
          g_set_error (error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS,
                       "Argument pidfds: handle %d is not a pidfd.", handle);
          return FALSE;
        }
    }
  return TRUE;
}

static gboolean
handle_advise_pidfds (MaManager *self, GDBusMethodInvocation *invocation, gboolean reclaim,
                      GVariant *pidfds, const char *mode, GVariant *options)
{
  g_autoptr (GError) error = NULL;
  gint n_fds;
  int *fds = steal_message_fds (invocation, &n_fds);
  MaRequest *request;

  request = ma_request_parse_pidfds (pidfds, (guint) n_fds, mode, options, self->context->settings,
                                     &error);
  if (request != NULL && !take_pidfds (request, fds, &error))
    g_clear_pointer (&request, ma_request_free);
  close_fds (fds, n_fds);
  if (refuse_call (self, invocation, reclaim ? "ReclaimPidfds" : "PlanPidfds", &request, error))
    return G_DBUS_METHOD_INVOCATION_HANDLED;
  ma_job_start (self->context, g_object_ref (invocation), reclaim, request, NULL);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
handle_plan_pidfds (MaDBusMemAdvise1 *object, GDBusMethodInvocation *invocation,
                    GUnixFDList *fd_list, GVariant *pidfds, const char *mode, GVariant *options)
{
  return handle_advise_pidfds (MA_MANAGER (object), invocation, FALSE, pidfds, mode, options);
}

static gboolean
handle_reclaim_pidfds (MaDBusMemAdvise1 *object, GDBusMethodInvocation *invocation,
                       GUnixFDList *fd_list, GVariant *pidfds, const char *mode, GVariant *options)
{
  return handle_advise_pidfds (MA_MANAGER (object), invocation, TRUE, pidfds, mode, options);
}

static gboolean
handle_advise_cgroup (MaManager *self, GDBusMethodInvocation *invocation, gboolean reclaim,
                      const char *cgroup, const char *mode, GVariant *options)
{
  g_autoptr (GError) error = NULL;
  MaRequest *request;

  drop_message_fds (invocation);
  request = ma_request_parse_options (mode, options, self->context->settings, &error);
  if (request != NULL && !ma_cgroup_path_check (cgroup, &error))
    g_clear_pointer (&request, ma_request_free);
  if (refuse_call (self, invocation, reclaim ? "ReclaimCgroup" : "PlanCgroup", &request, error))
    return G_DBUS_METHOD_INVOCATION_HANDLED;

  /* The members are listed when the call's turn comes, as its first
   * work: a large subtree is work like any other, within the limits. */
  ma_job_start (self->context, g_object_ref (invocation), reclaim, request, cgroup);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
handle_plan_cgroup (MaDBusMemAdvise1 *object, GDBusMethodInvocation *invocation, const char *cgroup,
                    const char *mode, GVariant *options)
{
  return handle_advise_cgroup (MA_MANAGER (object), invocation, FALSE, cgroup, mode, options);
}

static gboolean
handle_reclaim_cgroup (MaDBusMemAdvise1 *object, GDBusMethodInvocation *invocation,
                       const char *cgroup, const char *mode, GVariant *options)
{
  return handle_advise_cgroup (MA_MANAGER (object), invocation, TRUE, cgroup, mode, options);
}

static gboolean
handle_get_statistics (MaDBusMemAdvise1 *object, GDBusMethodInvocation *invocation)
{
  MaManager *self = MA_MANAGER (object);

  guint tracked;
  guint64 tracked_bytes;

  ma_observations_count (self->context->observations, &tracked, &tracked_bytes);
  ma_dbus_mem_advise1_complete_get_statistics (
      object, invocation, ma_stats_to_variant (self->context->stats, tracked, tracked_bytes));
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static void
ma_manager_iface_init (MaDBusMemAdvise1Iface *iface)
{
  iface->handle_plan = handle_plan;
  iface->handle_reclaim = handle_reclaim;
  iface->handle_plan_cgroup = handle_plan_cgroup;
  iface->handle_reclaim_cgroup = handle_reclaim_cgroup;
  iface->handle_plan_pidfds = handle_plan_pidfds;
  iface->handle_reclaim_pidfds = handle_reclaim_pidfds;
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
