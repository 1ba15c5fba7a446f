/* comm.c: mixem's communicator (comm.h, mixem/parallel.h) on MPI_COMM_WORLD, or the serial
 * one.  MPI is initialised only when asked (mixem_parallel_init), so that a plain run, a test
 * under valgrind, never starts it.  MPI's own state is process-wide, and so is the little kept
 * here: whether this library initialised it, and the bytes sent. */
#include <config.h>
#include <stdlib.h>
#include <string.h>
#ifdef HAVE_MPI
#include <mpi.h>
#endif
#include <mixem/error.h>
#include "comm.h"

static int world_rank = 0, world_size = 1;
static gboolean started_here = FALSE, active = FALSE;
static double bytes_sent = 0.0;

gboolean
mixem_parallel_launched (void)
{
#ifdef HAVE_MPI
  return g_getenv ("OMPI_COMM_WORLD_SIZE") != NULL || g_getenv ("PMIX_RANK") != NULL;
#else
  return FALSE;
#endif
}

gboolean
mixem_parallel_init (GError **error)
{
#ifdef HAVE_MPI
  int inited = 0, finalized = 0;
  MPI_Initialized (&inited);
  MPI_Finalized (&finalized);
  if (finalized) {
    g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_OPTION, "MPI has already been finalised");
    return FALSE;
  }
  if (!inited) {
    /* Only the main thread calls MPI; OpenMP threads work between the collectives. */
    int provided;
    if (MPI_Init_thread (NULL, NULL, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) {
      g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_IO, "MPI_Init_thread failed");
      return FALSE;
    }
    started_here = TRUE;
  }
  /* A failing rank's error comes back as a return code, so that every rank can say why. */
  MPI_Comm_set_errhandler (MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  MPI_Comm_rank (MPI_COMM_WORLD, &world_rank);
  MPI_Comm_size (MPI_COMM_WORLD, &world_size);
  active = TRUE;
  return TRUE;
#else
  g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_OPTION,
               "this mixem was built without MPI (configure --with-mpi, libopenmpi-dev)");
  return FALSE;
#endif
}

void
mixem_parallel_finalize (void)
{
#ifdef HAVE_MPI
  int finalized = 0;
  MPI_Finalized (&finalized);
  if (started_here && !finalized)
    MPI_Finalize ();
#endif
  started_here = FALSE;
  active = FALSE;
  world_rank = 0;
  world_size = 1;
}

int mixem_parallel_rank (void) { return world_rank; }
int mixem_parallel_size (void) { return world_size; }
double mixem_parallel_bytes_sent (void) { return bytes_sent; }

gboolean
mixem_parallel_agree (GError **error)
{
  const gboolean failed = error && *error;
  if (!active || world_size == 1)
    return !failed;
#ifdef HAVE_MPI
  /* The lowest failing rank (world_size if none), then its domain, code and message. */
  int mine = failed ? world_rank : world_size, first = world_size;
  MPI_Allreduce (&mine, &first, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
  bytes_sent += sizeof (int);
  if (first == world_size)
    return TRUE;
  int head[2] = { 0, 0 };
  char *msg = NULL;
  if (world_rank == first) {
    head[0] = (*error)->domain == MIXEM_ERROR ? (*error)->code : MIXEM_ERROR_IO;
    head[1] = (int) strlen ((*error)->message) + 1;
    msg = g_strdup ((*error)->message);
  }
  MPI_Bcast (head, 2, MPI_INT, first, MPI_COMM_WORLD);
  if (!msg)
    msg = g_malloc (head[1]);
  MPI_Bcast (msg, head[1], MPI_CHAR, first, MPI_COMM_WORLD);
  if (world_rank == first)
    bytes_sent += 2 * sizeof (int) + head[1];
  if (world_rank != first) {
    g_clear_error (error);
    g_set_error_literal (error, MIXEM_ERROR, head[0], msg);
  }
  g_free (msg);
#endif
  return FALSE;
}

void
mixem_comm_allgatherv (const double *mine, size_t n, double *all, const size_t *counts)
{
  if (!active || world_size == 1) {
    if (n && all != mine)
      memcpy (all, mine, n * sizeof (double));
    return;
  }
#ifdef HAVE_MPI
  int *cnt = g_new (int, world_size), *displ = g_new (int, world_size), at = 0;
  for (int r = 0; r < world_size; r++) {
    cnt[r] = (int) counts[r];
    displ[r] = at;
    at += cnt[r];
  }
  MPI_Allgatherv (mine, (int) n, MPI_DOUBLE, all, cnt, displ, MPI_DOUBLE, MPI_COMM_WORLD);
  bytes_sent += (double) n * sizeof (double);
  g_free (cnt);
  g_free (displ);
#endif
}

void
mixem_comm_allgather_size (size_t mine, size_t *all)
{
  if (!active || world_size == 1) {
    all[0] = mine;
    return;
  }
#ifdef HAVE_MPI
  guint64 m = mine, *a = g_new (guint64, world_size);
  MPI_Allgather (&m, 1, MPI_UINT64_T, a, 1, MPI_UINT64_T, MPI_COMM_WORLD);
  bytes_sent += sizeof m;
  for (int r = 0; r < world_size; r++)
    all[r] = (size_t) a[r];
  g_free (a);
#endif
}

void
mixem_comm_bcast (void *buf, size_t bytes, int root)
{
  if (!active || world_size == 1)
    return;
#ifdef HAVE_MPI
  MPI_Bcast (buf, (int) bytes, MPI_BYTE, root, MPI_COMM_WORLD);
  if (world_rank == root)
    bytes_sent += (double) bytes;
#endif
}

void
mixem_comm_max_doubles (double *v, size_t n)
{
  if (!active || world_size == 1 || n == 0)
    return;
#ifdef HAVE_MPI
  MPI_Allreduce (MPI_IN_PLACE, v, (int) n, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  bytes_sent += (double) n * sizeof (double);
#endif
}

size_t
mixem_comm_max_size (size_t mine)
{
  if (!active || world_size == 1)
    return mine;
#ifdef HAVE_MPI
  guint64 m = mine, r = 0;
  MPI_Allreduce (&m, &r, 1, MPI_UINT64_T, MPI_MAX, MPI_COMM_WORLD);
  bytes_sent += sizeof m;
  return (size_t) r;
#else
  return mine;
#endif
}
