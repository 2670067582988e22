/* SPDX-License-Identifier: GPL-2.0-or-later
 *
 * ma-test-target: the process the live, integration and bench tests reclaim.
 *
 * Protocol: one command a line on stdin, exactly one reply line on stdout
 * each (flushed). A reply is `ok ...` or `err MESSAGE`. At start it prints
 * `ready PID`. It exits on `exit [CODE]` or when stdin closes.
 *
 *   map NAME KIND SIZE [lowentropy]  -> ok START_HEX LENGTH
 *       SIZE in bytes (page-rounded up). KIND is one of
 *         anon      MAP_PRIVATE|MAP_ANONYMOUS, rw
 *         heap      grown with sbrk, so it lies in [heap]
 *         locked    anon, then mlock
 *         shared    MAP_SHARED|MAP_ANONYMOUS
 *         memfd     memfd_create + MAP_SHARED
 *         shm       SysV shmget/shmat, IPC_RMID right after attaching
 *         exec      anon rwx (like JIT code)
 *         guard     PROT_NONE, never filled
 *         file      MAP_PRIVATE of an unlinked temp file, written through the mapping
 *         readonly  anon, filled, then mprotect PROT_READ
 *       Private anonymous regions are followed by an unmapped page, so
 *       two of them never merge into one VMA.
 *       The data is pseudo-random, seeded from NAME and different on every
 *       page; with `lowentropy` each page holds one unique word followed by
 *       a constant pattern, so zram stores it for almost nothing.
 *   many NAME COUNT SIZE [lowentropy] -> ok
 *       COUNT anonymous rw mappings of SIZE bytes, filled, each followed by
 *       an unmapped page so the kernel cannot merge them (COUNT VMAs).
 *   checksum NAME     -> ok HEX         64-bit hash of the contents (faults pages in)
 *   checksum-all      -> ok NAME=HEX ... every region, in creation order
 *   residency NAME [OFFSET LENGTH] -> ok PAGES PRESENT SWAPPED  from
 *                        /proc/self/pagemap, without touching the pages; of
 *                        a part (bytes, page-aligned) of a one-span region
 *   mlock NAME, munlock NAME, unmap NAME, touch NAME -> ok
 *       touch reads every page, faulting swapped pages back in.
 *   mlockall          -> ok  mlockall(MCL_CURRENT | MCL_FUTURE): nothing is eligible
 *   hot NAME STRIDE [PAUSE_MS [OFFSET LENGTH]] -> ok
 *       starts a thread that keeps writing every STRIDE-th page of NAME
 *       (STRIDE 1: every page; 4: pages 0, 4, 8, ...), one pass after
 *       another with PAUSE_MS milliseconds (default 0) between passes. A
 *       write stores the byte it read, so contents and checksums stay the
 *       same. With OFFSET and LENGTH (bytes, page-aligned), only that part
 *       of a one-span region: hot pages inside one mapping. A region may
 *       have several hot threads (on different parts).
 *   cool NAME         -> ok  stops its threads and waits for them
 *   hotrate NAME      -> ok TOUCHES PASSES NSEC   pages touched and passes
 *                        made since the first `hot`, and nanoseconds since
 *                        then (passes of its first thread)
 *   sparse NAME SIZE STRIDE -> ok START_HEX LENGTH
 *       one anonymous rw mapping of SIZE bytes of which only every
 *       STRIDE-th page is written (low entropy, as `lowentropy`): a large
 *       address range with little memory in it.
 *   name HEX          -> ok  PR_SET_NAME to the bytes HEX spells (control
 *                        characters too, as a hostile process may name itself)
 *   exec PATH         execs PATH with no other argument, stdin and stdout
 *                        kept; no reply: the new program's first line is
 *                        the answer (`ready PID` when PATH is a copy of
 *                        this program, setuid or not)
 *   exit [CODE]       exits with CODE (default 0)
 *
 * A heap region cannot be unmapped (`err`). The regions of `many` are
 * treated as one region by every command. Before every reply the target
 * moves the pages it just faulted onto the LRU, so that MADV_PAGEOUT from
 * outside can take every one of them.
 */

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/shm.h>
#include <unistd.h>

#include <glib.h>
#include <pthread.h>
#include <time.h>

typedef enum
{
  KIND_ANON,
  KIND_HEAP,
  KIND_LOCKED,
  KIND_SHARED,
  KIND_MEMFD,
  KIND_SHM,
  KIND_EXEC,
  KIND_GUARD,
  KIND_FILE,
  KIND_READONLY,
  KIND_MANY,
} Kind;

static const char *const kind_names[] = {
  "anon", "heap", "locked", "shared", "memfd", "shm", "exec", "guard", "file", "readonly",
};

typedef struct
{
  guint8 *addr;
  gsize length;
} Span;

typedef struct _Hot Hot;

typedef struct
{
  char *name;
  Kind kind;
  GArray *spans;   /* Span; one except for `many` */
  GPtrArray *hots; /* Hot *, the threads of `hot` */
} Region;

/* A thread writing every stride-th page of a region (`hot`). */
struct _Hot
{
  pthread_t thread;
  GArray *spans; /* its part of the region (a copy); the region outlives the thread */
  gsize stride;
  guint pause_ms;
  gint64 started_ns;
  volatile gint stop;
  volatile guint64 touches; /* written by the thread only */
  volatile guint64 passes;
};

static GPtrArray *regions; /* Region *, in creation order */
static gsize page_size;
static int pagemap_fd = -1;

static void hot_stop (Region *region);

static void
region_free (gpointer data)
{
  Region *region = data;

  hot_stop (region);
  g_ptr_array_unref (region->hots);
  g_free (region->name);
  g_array_unref (region->spans);
  g_free (region);
}

static Region *
region_lookup (const char *name)
{
  for (guint i = 0; i < regions->len; i++)
    {
      Region *region = g_ptr_array_index (regions, i);
      if (g_str_equal (region->name, name))
        return region;
    }
  return NULL;
}

/* Pages just faulted in wait in per-CPU batches before they reach the LRU,
 * where MADV_PAGEOUT cannot isolate them (up to 31 a CPU). MADV_COLD drains
 * the batch of the CPU it runs on: run it, on a page of our own that holds
 * no data, on every CPU we may run on, before every reply. */
static void
drain_lru_batches (void)
{
  static void *dummy;
  cpu_set_t allowed;

  if (!dummy)
    dummy = mmap (NULL, page_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (dummy == MAP_FAILED || sched_getaffinity (0, sizeof allowed, &allowed) < 0)
    return;
  for (int cpu = 0; cpu < CPU_SETSIZE; cpu++)
    {
      cpu_set_t one;

      if (!CPU_ISSET (cpu, &allowed))
        continue;
      CPU_ZERO (&one);
      CPU_SET (cpu, &one);
      if (sched_setaffinity (0, sizeof one, &one) == 0)
        madvise (dummy, page_size, MADV_COLD);
    }
  sched_setaffinity (0, sizeof allowed, &allowed);
}

static void reply (const char *format, ...) G_GNUC_PRINTF (1, 2);

static void
reply (const char *format, ...)
{
  va_list args;

  drain_lru_batches ();
  va_start (args, format);
  vfprintf (stdout, format, args);
  va_end (args);
  fputc ('\n', stdout);
  fflush (stdout);
}

static guint64
seed_from_name (const char *name)
{
  guint64 h = 0xcbf29ce484222325ull;

  for (const char *p = name; *p; p++)
    h = (h ^ (guint8) *p) * 0x100000001b3ull;
  return h;
}

static guint64
splitmix64 (guint64 *state)
{
  guint64 z = (*state += 0x9e3779b97f4a7c15ull);

  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

/* Fills pages with data derived from @state; every page differs. */
static void
fill (guint8 *addr, gsize length, guint64 *state, gboolean lowentropy)
{
  guint64 *words = (guint64 *) addr;
  gsize n_words = length / sizeof (guint64);
  gsize words_per_page = page_size / sizeof (guint64);

  if (!lowentropy)
    {
      guint64 x = splitmix64 (state) | 1;

      /* xorshift64: fast enough for gigabytes */
      for (gsize i = 0; i < n_words; i++)
        {
          x ^= x << 13;
          x ^= x >> 7;
          x ^= x << 17;
          words[i] = x;
        }
      *state ^= x;
      return;
    }

  for (gsize i = 0; i < n_words; i++)
    words[i] = (i % words_per_page == 0) ? splitmix64 (state) : 0x5a5a5a5a00000000ull | (i & 0xff);
}

static guint64
hash_spans (GArray *spans, Kind kind)
{
  guint64 h = 0xcbf29ce484222325ull;

  for (guint s = 0; s < spans->len; s++)
    {
      Span *span = &g_array_index (spans, Span, s);
      const volatile guint64 *words = (const volatile guint64 *) span->addr;

      /* A guard region cannot be read: only its length counts. */
      if (kind == KIND_GUARD)
        {
          h = (h ^ span->length) * 0x100000001b3ull;
          continue;
        }
      for (gsize i = 0; i < span->length / sizeof (guint64); i++)
        h = (h ^ words[i]) * 0x100000001b3ull;
    }
  return h;
}

static gboolean
parse_size (const char *str, gsize *out)
{
  guint64 value;

  if (!g_ascii_string_to_unsigned (str, 10, 1, G_MAXSIZE / 2, &value, NULL))
    return FALSE;
  *out = (value + page_size - 1) / page_size * page_size;
  return TRUE;
}

static gboolean
parse_kind (const char *str, Kind *out)
{
  for (guint i = 0; i < G_N_ELEMENTS (kind_names); i++)
    if (g_str_equal (str, kind_names[i]))
      {
        *out = i;
        return TRUE;
      }
  return FALSE;
}

/* Extends [heap] by @length page-aligned bytes. */
static guint8 *
heap_grow (gsize length)
{
  guintptr cur = (guintptr) sbrk (0);
  guintptr aligned = (cur + page_size - 1) / page_size * page_size;

  if (sbrk (aligned - cur + length) == (void *) -1)
    return NULL;
  return (guint8 *) aligned;
}

static guint8 *
map_file (gsize length, char **error)
{
  g_autofree char *path = g_build_filename (g_get_tmp_dir (), "ma-test-target-XXXXXX", NULL);
  int fd = g_mkstemp (path);
  guint8 *addr;

  if (fd < 0)
    {
      *error = g_strdup_printf ("mkstemp: %s", g_strerror (errno));
      return NULL;
    }
  unlink (path);
  if (ftruncate (fd, length) < 0)
    {
      *error = g_strdup_printf ("ftruncate: %s", g_strerror (errno));
      close (fd);
      return NULL;
    }
  addr = mmap (NULL, length, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  close (fd);
  if (addr == MAP_FAILED)
    {
      *error = g_strdup_printf ("mmap: %s", g_strerror (errno));
      return NULL;
    }
  return addr;
}

static guint8 *
map_memfd (gsize length, char **error)
{
  int fd = memfd_create ("ma-test-target", MFD_CLOEXEC);
  guint8 *addr;

  if (fd < 0 || ftruncate (fd, length) < 0)
    {
      *error = g_strdup_printf ("memfd: %s", g_strerror (errno));
      if (fd >= 0)
        close (fd);
      return NULL;
    }
  addr = mmap (NULL, length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  close (fd);
  if (addr == MAP_FAILED)
    {
      *error = g_strdup_printf ("mmap: %s", g_strerror (errno));
      return NULL;
    }
  return addr;
}

static guint8 *
map_shm (gsize length, char **error)
{
  int id = shmget (IPC_PRIVATE, length, IPC_CREAT | 0600);
  void *addr;

  if (id < 0)
    {
      *error = g_strdup_printf ("shmget: %s", g_strerror (errno));
      return NULL;
    }
  addr = shmat (id, NULL, 0);
  /* Removed now: the segment goes away with the last detach, even on a crash. */
  shmctl (id, IPC_RMID, NULL);
  if (addr == (void *) -1)
    {
      *error = g_strdup_printf ("shmat: %s", g_strerror (errno));
      return NULL;
    }
  return addr;
}

static guint8 *
map_anon (gsize length, int prot, int flags, char **error)
{
  void *addr = mmap (NULL, length, prot, flags | MAP_ANONYMOUS, -1, 0);

  if (addr == MAP_FAILED)
    {
      *error = g_strdup_printf ("mmap: %s", g_strerror (errno));
      return NULL;
    }
  return addr;
}

static void
cmd_map (char **argv, guint argc)
{
  g_autofree char *error = NULL;
  gboolean lowentropy;
  guint64 seed;
  guint8 *addr = NULL;
  gsize length;
  Kind kind;
  Region *region;
  Span span;

  if (argc < 4 || argc > 5 || (argc == 5 && !g_str_equal (argv[4], "lowentropy")))
    {
      reply ("err usage: map NAME KIND SIZE [lowentropy]");
      return;
    }
  if (region_lookup (argv[1]))
    {
      reply ("err region %s exists", argv[1]);
      return;
    }
  if (!parse_kind (argv[2], &kind))
    {
      reply ("err unknown kind %s", argv[2]);
      return;
    }
  if (!parse_size (argv[3], &length))
    {
      reply ("err bad size %s", argv[3]);
      return;
    }
  lowentropy = argc == 5;
  seed = seed_from_name (argv[1]);

  switch (kind)
    {
    case KIND_ANON:
    case KIND_LOCKED:
    case KIND_READONLY:
      /* An unmapped page after it keeps it from merging with the next
       * region: every region is a VMA of its own. */
      addr = map_anon (length + page_size, PROT_READ | PROT_WRITE, MAP_PRIVATE, &error);
      if (addr && munmap (addr + length, page_size) < 0)
        {
          reply ("err munmap: %s", g_strerror (errno));
          return;
        }
      break;
    case KIND_HEAP:
      addr = heap_grow (length);
      if (!addr)
        error = g_strdup_printf ("sbrk: %s", g_strerror (errno));
      break;
    case KIND_SHARED:
      addr = map_anon (length, PROT_READ | PROT_WRITE, MAP_SHARED, &error);
      break;
    case KIND_MEMFD:
      addr = map_memfd (length, &error);
      break;
    case KIND_SHM:
      addr = map_shm (length, &error);
      break;
    case KIND_EXEC:
      addr = map_anon (length, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE, &error);
      break;
    case KIND_GUARD:
      addr = map_anon (length, PROT_NONE, MAP_PRIVATE, &error);
      break;
    case KIND_FILE:
      addr = map_file (length, &error);
      break;
    case KIND_MANY:
    default:
      g_assert_not_reached ();
    }
  if (!addr)
    {
      reply ("err %s", error);
      return;
    }

  if (kind != KIND_GUARD)
    fill (addr, length, &seed, lowentropy);
  if (kind == KIND_LOCKED && mlock (addr, length) < 0)
    {
      reply ("err mlock: %s", g_strerror (errno));
      return;
    }
  if (kind == KIND_READONLY && mprotect (addr, length, PROT_READ) < 0)
    {
      reply ("err mprotect: %s", g_strerror (errno));
      return;
    }

  region = g_new0 (Region, 1);
  region->name = g_strdup (argv[1]);
  region->kind = kind;
  region->spans = g_array_new (FALSE, FALSE, sizeof (Span));
  region->hots = g_ptr_array_new ();
  span = (Span){ addr, length };
  g_array_append_val (region->spans, span);
  g_ptr_array_add (regions, region);

  reply ("ok %" G_GINTPTR_MODIFIER "x %" G_GSIZE_FORMAT, (guintptr) addr, length);
}

static void
cmd_many (char **argv, guint argc)
{
  g_autofree char *error = NULL;
  guint64 count;
  guint64 seed;
  gsize length, slot;
  guint8 *base;
  Region *region;

  if (argc < 4 || argc > 5 || (argc == 5 && !g_str_equal (argv[4], "lowentropy")))
    {
      reply ("err usage: many NAME COUNT SIZE [lowentropy]");
      return;
    }
  if (region_lookup (argv[1]))
    {
      reply ("err region %s exists", argv[1]);
      return;
    }
  if (!g_ascii_string_to_unsigned (argv[2], 10, 1, 1000000, &count, NULL))
    {
      reply ("err bad count %s", argv[2]);
      return;
    }
  if (!parse_size (argv[3], &length))
    {
      reply ("err bad size %s", argv[3]);
      return;
    }
  seed = seed_from_name (argv[1]);

  /* One reservation, then a hole punched after every mapping: holes, not
   * PROT_NONE pages, so COUNT mappings cost COUNT VMAs, not 2 * COUNT. */
  slot = length + page_size;
  base = map_anon (slot * count, PROT_READ | PROT_WRITE, MAP_PRIVATE, &error);
  if (!base)
    {
      reply ("err %s", error);
      return;
    }

  region = g_new0 (Region, 1);
  region->name = g_strdup (argv[1]);
  region->kind = KIND_MANY;
  region->spans = g_array_sized_new (FALSE, FALSE, sizeof (Span), count);
  region->hots = g_ptr_array_new ();
  for (guint64 i = 0; i < count; i++)
    {
      Span span = { base + i * slot, length };

      if (munmap (span.addr + length, page_size) < 0)
        {
          region_free (region);
          {
            reply ("err munmap: %s", g_strerror (errno));
            return;
          }
        }
      fill (span.addr, length, &seed, argc == 5);
      g_array_append_val (region->spans, span);
    }
  g_ptr_array_add (regions, region);
  reply ("ok");
}

static void
cmd_sparse (char **argv, guint argc)
{
  g_autofree char *error = NULL;
  guint64 stride, seed;
  gsize length;
  guint8 *addr;
  Region *region;
  Span span;

  if (argc != 4 || !parse_size (argv[2], &length)
      || !g_ascii_string_to_unsigned (argv[3], 10, 1, G_MAXUINT32, &stride, NULL))
    {
      reply ("err usage: sparse NAME SIZE STRIDE");
      return;
    }
  if (region_lookup (argv[1]))
    {
      reply ("err region %s exists", argv[1]);
      return;
    }
  addr = map_anon (length + page_size, PROT_READ | PROT_WRITE, MAP_PRIVATE, &error);
  if (!addr || munmap (addr + length, page_size) < 0)
    {
      reply ("err %s", error ? error : g_strerror (errno));
      return;
    }
  seed = seed_from_name (argv[1]);
  for (gsize off = 0; off < length; off += stride * page_size)
    fill (addr + off, page_size, &seed, TRUE);
  region = g_new0 (Region, 1);
  region->name = g_strdup (argv[1]);
  region->kind = KIND_ANON;
  region->spans = g_array_new (FALSE, FALSE, sizeof (Span));
  region->hots = g_ptr_array_new ();
  span = (Span){ addr, length };
  g_array_append_val (region->spans, span);
  g_ptr_array_add (regions, region);
  reply ("ok %" G_GINTPTR_MODIFIER "x %" G_GSIZE_FORMAT, (guintptr) addr, length);
}

static gboolean
residency (GArray *spans, guint64 *pages, guint64 *present, guint64 *swapped)
{
  *pages = *present = *swapped = 0;

  for (guint s = 0; s < spans->len; s++)
    {
      Span *span = &g_array_index (spans, Span, s);
      gsize n = span->length / page_size;
      g_autofree guint64 *entries = g_new (guint64, n);
      off_t offset = (guintptr) span->addr / page_size * sizeof (guint64);
      gsize want = n * sizeof (guint64);
      gsize done = 0;

      while (done < want)
        {
          ssize_t r = pread (pagemap_fd, (char *) entries + done, want - done, offset + done);
          if (r < 0 && errno == EINTR)
            continue;
          if (r <= 0)
            return FALSE;
          done += r;
        }
      for (gsize i = 0; i < n; i++)
        {
          if (entries[i] & (1ull << 63))
            (*present)++;
          else if (entries[i] & (1ull << 62))
            (*swapped)++;
        }
      *pages += n;
    }
  return TRUE;
}

static void
touch (Region *region)
{
  for (guint s = 0; s < region->spans->len; s++)
    {
      Span *span = &g_array_index (region->spans, Span, s);

      for (gsize off = 0; off < span->length; off += page_size)
        (void) *(volatile guint8 *) (span->addr + off);
    }
}

static gboolean
for_each_span (Region *region, int (*func) (const void *, size_t), const char *what)
{
  for (guint s = 0; s < region->spans->len; s++)
    {
      Span *span = &g_array_index (region->spans, Span, s);

      if (func (span->addr, span->length) < 0)
        {
          reply ("err %s: %s", what, g_strerror (errno));
          return FALSE;
        }
    }
  return TRUE;
}

static gint64
now_ns (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (gint64) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void *
hot_thread (void *data)
{
  Hot *hot = data;
  struct timespec pause = { hot->pause_ms / 1000, (long) (hot->pause_ms % 1000) * 1000000 };

  while (!g_atomic_int_get (&hot->stop))
    {
      for (guint s = 0; s < hot->spans->len && !g_atomic_int_get (&hot->stop); s++)
        {
          Span *span = &g_array_index (hot->spans, Span, s);

          for (gsize off = 0; off < span->length; off += hot->stride * page_size)
            {
              volatile guint8 *p = span->addr + off;

              /* A write (the page becomes dirty and accessed) that keeps
               * the contents. */
              *p = *p;
              hot->touches++;
            }
        }
      hot->passes++;
      if (hot->pause_ms)
        nanosleep (&pause, NULL);
    }
  return NULL;
}

static void
hot_stop (Region *region)
{
  for (guint i = 0; i < region->hots->len; i++)
    {
      Hot *hot = g_ptr_array_index (region->hots, i);

      g_atomic_int_set (&hot->stop, 1);
      pthread_join (hot->thread, NULL);
      g_array_unref (hot->spans);
      g_free (hot);
    }
  g_ptr_array_set_size (region->hots, 0);
}

static void
cmd_hot (char **argv, guint argc)
{
  guint64 stride, pause_ms = 0, offset = 0, length = 0;
  Region *region;
  Hot *hot;
  int r;

  if (argc < 3 || argc == 5 || argc > 6
      || !g_ascii_string_to_unsigned (argv[2], 10, 1, G_MAXUINT32, &stride, NULL)
      || (argc >= 4 && !g_ascii_string_to_unsigned (argv[3], 10, 0, 60000, &pause_ms, NULL))
      || (argc == 6
          && (!g_ascii_string_to_unsigned (argv[4], 10, 0, G_MAXSIZE, &offset, NULL)
              || !g_ascii_string_to_unsigned (argv[5], 10, 1, G_MAXSIZE, &length, NULL)
              || offset % page_size || length % page_size)))
    {
      reply ("err usage: hot NAME STRIDE [PAUSE_MS [OFFSET LENGTH]]");
      return;
    }
  region = region_lookup (argv[1]);
  if (!region)
    {
      reply ("err no region %s", argv[1]);
      return;
    }
  if (region->kind == KIND_GUARD || region->kind == KIND_READONLY)
    {
      reply ("err region %s cannot be written", argv[1]);
      return;
    }
  hot = g_new0 (Hot, 1);
  if (argc == 6)
    {
      Span *whole = &g_array_index (region->spans, Span, 0);
      Span part = { whole->addr + offset, length };

      if (region->spans->len != 1 || offset + length > whole->length)
        {
          g_free (hot);
          reply ("err OFFSET LENGTH outside region %s", argv[1]);
          return;
        }
      hot->spans = g_array_new (FALSE, FALSE, sizeof (Span));
      g_array_append_val (hot->spans, part);
    }
  else
    hot->spans = g_array_copy (region->spans);
  hot->stride = stride;
  hot->pause_ms = pause_ms;
  hot->started_ns = now_ns ();
  r = pthread_create (&hot->thread, NULL, hot_thread, hot);
  if (r != 0)
    {
      g_array_unref (hot->spans);
      g_free (hot);
      reply ("err pthread_create: %s", g_strerror (r));
      return;
    }
  g_ptr_array_add (region->hots, hot);
  reply ("ok");
}

static void
cmd_unmap (Region *region)
{
  if (region->kind == KIND_HEAP)
    {
      reply ("err a heap region cannot be unmapped");
      return;
    }
  hot_stop (region);

  for (guint s = 0; s < region->spans->len; s++)
    {
      Span *span = &g_array_index (region->spans, Span, s);
      int r = region->kind == KIND_SHM ? shmdt (span->addr) : munmap (span->addr, span->length);

      if (r < 0)
        {
          reply ("err unmap: %s", g_strerror (errno));
          return;
        }
    }
  g_ptr_array_remove (regions, region);
  reply ("ok");
}

static void
cmd_checksum_all (void)
{
  g_autoptr (GString) line = g_string_new ("ok");

  for (guint i = 0; i < regions->len; i++)
    {
      Region *region = g_ptr_array_index (regions, i);
      g_string_append_printf (line, " %s=%016" G_GINT64_MODIFIER "x", region->name,
                              hash_spans (region->spans, region->kind));
    }
  reply ("%s", line->str);
}

/* Commands that take exactly one region name. */
static void
cmd_region (const char *cmd, char **argv, guint argc)
{
  Region *region;

  if (argc != 2)
    {
      reply ("err usage: %s NAME", cmd);
      return;
    }
  region = region_lookup (argv[1]);
  if (!region)
    {
      reply ("err no region %s", argv[1]);
      return;
    }

  if (g_str_equal (cmd, "checksum"))
    {
      reply ("ok %016" G_GINT64_MODIFIER "x", hash_spans (region->spans, region->kind));
    }
  else if (g_str_equal (cmd, "residency"))
    {
      guint64 pages, present, swapped;

      if (!residency (region->spans, &pages, &present, &swapped))
        {
          reply ("err pagemap: %s", g_strerror (errno));
          return;
        }
      reply ("ok %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT, pages, present,
             swapped);
    }
  else if (g_str_equal (cmd, "mlock"))
    {
      if (for_each_span (region, mlock, "mlock"))
        reply ("ok");
    }
  else if (g_str_equal (cmd, "munlock"))
    {
      if (for_each_span (region, munlock, "munlock"))
        reply ("ok");
    }
  else if (g_str_equal (cmd, "touch"))
    {
      if (region->kind == KIND_GUARD)
        {
          reply ("err a guard region cannot be read");
          return;
        }
      touch (region);
      reply ("ok");
    }
  else if (g_str_equal (cmd, "unmap"))
    {
      cmd_unmap (region);
    }
  else if (g_str_equal (cmd, "cool"))
    {
      hot_stop (region);
      reply ("ok");
    }
  else if (g_str_equal (cmd, "hotrate"))
    {
      guint64 touches = 0;
      Hot *first;

      if (region->hots->len == 0)
        {
          reply ("err region %s is not hot", argv[1]);
          return;
        }
      first = g_ptr_array_index (region->hots, 0);
      for (guint i = 0; i < region->hots->len; i++)
        touches += ((Hot *) g_ptr_array_index (region->hots, i))->touches;
      reply ("ok %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " %" G_GINT64_FORMAT, touches,
             (guint64) first->passes, now_ns () - first->started_ns);
    }
  else
    {
      g_assert_not_reached ();
    }
}

static void
cmd_residency_part (char **argv)
{
  Region *region = region_lookup (argv[1]);
  g_autoptr (GArray) part = g_array_new (FALSE, FALSE, sizeof (Span));
  guint64 offset, length, pages, present, swapped;
  Span *whole;

  if (!region || region->spans->len != 1
      || !g_ascii_string_to_unsigned (argv[2], 10, 0, G_MAXSIZE, &offset, NULL)
      || !g_ascii_string_to_unsigned (argv[3], 10, 1, G_MAXSIZE, &length, NULL)
      || offset % page_size || length % page_size)
    {
      reply ("err usage: residency NAME [OFFSET LENGTH] of a one-span region");
      return;
    }
  whole = &g_array_index (region->spans, Span, 0);
  if (offset + length > whole->length)
    {
      reply ("err OFFSET LENGTH outside region %s", argv[1]);
      return;
    }
  g_array_append_vals (part, &(Span){ whole->addr + offset, length }, 1);
  if (!residency (part, &pages, &present, &swapped))
    {
      reply ("err pagemap: %s", g_strerror (errno));
      return;
    }
  reply ("ok %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT, pages, present,
         swapped);
}

static void
cmd_name (const char *hex)
{
  char name[16] = { 0 };
  gsize len = strlen (hex);

  if (len % 2 != 0 || len / 2 >= sizeof name)
    {
      reply ("err name: 1 to 15 bytes in hex");
      return;
    }
  for (gsize i = 0; i < len / 2; i++)
    {
      int hi = g_ascii_xdigit_value (hex[2 * i]), lo = g_ascii_xdigit_value (hex[2 * i + 1]);

      if (hi < 0 || lo < 0)
        {
          reply ("err name: not hex: %s", hex);
          return;
        }
      name[i] = (char) (hi * 16 + lo);
    }
  if (prctl (PR_SET_NAME, name) < 0)
    reply ("err prctl: %s", g_strerror (errno));
  else
    reply ("ok");
}

static void
dispatch (char **argv, guint argc)
{
  const char *cmd = argv[0];

  if (g_str_equal (cmd, "map"))
    cmd_map (argv, argc);
  else if (g_str_equal (cmd, "many"))
    cmd_many (argv, argc);
  else if (g_str_equal (cmd, "hot"))
    cmd_hot (argv, argc);
  else if (g_str_equal (cmd, "sparse"))
    cmd_sparse (argv, argc);
  else if (g_str_equal (cmd, "residency") && argc == 4)
    cmd_residency_part (argv);
  else if (g_str_equal (cmd, "checksum-all") && argc == 1)
    cmd_checksum_all ();
  else if (g_strv_contains ((const char *const[]){ "checksum", "residency", "mlock", "munlock",
                                                   "touch", "unmap", "cool", "hotrate", NULL },
                            cmd))
    cmd_region (cmd, argv, argc);
  else if (g_str_equal (cmd, "mlockall") && argc == 1)
    {
      if (mlockall (MCL_CURRENT | MCL_FUTURE) < 0)
        reply ("err mlockall: %s", g_strerror (errno));
      else
        reply ("ok");
    }
  else if (g_str_equal (cmd, "name") && argc == 2)
    cmd_name (argv[1]);
  else if (g_str_equal (cmd, "exec") && argc == 2)
    {
      execl (argv[1], argv[1], (char *) NULL);
      reply ("err exec %s: %s", argv[1], g_strerror (errno));
    }
  else if (g_str_equal (cmd, "exit") && argc <= 2)
    {
      guint64 code = 0;

      if (argc == 2 && !g_ascii_string_to_unsigned (argv[1], 10, 0, 255, &code, NULL))
        {
          reply ("err bad exit code %s", argv[1]);
          return;
        }
      exit ((int) code);
    }
  else
    reply ("err unknown command %s", cmd);
}

int
main (int argc, char **argv)
{
  char *line = NULL;
  size_t line_size = 0;

  page_size = sysconf (_SC_PAGESIZE);
  regions = g_ptr_array_new_with_free_func (region_free);
  pagemap_fd = open ("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
  if (pagemap_fd < 0)
    {
      fprintf (stderr, "ma-test-target: /proc/self/pagemap: %s\n", g_strerror (errno));
      return 1;
    }

  reply ("ready %d", (int) getpid ());

  while (getline (&line, &line_size, stdin) >= 0)
    {
      g_auto (GStrv) words = g_strsplit_set (g_strstrip (line), " \t", -1);
      g_autoptr (GPtrArray) args = g_ptr_array_new ();

      for (char **w = words; *w; w++)
        if (**w)
          g_ptr_array_add (args, *w);
      if (args->len == 0)
        {
          reply ("err empty command");
          continue;
        }
      g_ptr_array_add (args, NULL);
      dispatch ((char **) args->pdata, args->len - 1);
    }

  free (line);
  return 0;
}
