/* comm.h: the library's communicator over the ranks of MPI_COMM_WORLD, inside the library only:
 * with one rank (no MPI, or MPI not initialised) every function is the serial identity, so that
 * callers need no #ifdef.  Every function here is collective unless it says otherwise. */
#ifndef MIXEM_COMM_H
#define MIXEM_COMM_H

#include <stddef.h>
#include <glib.h>
#include <mixem/parallel.h>

/* Gathers N doubles from each rank (COUNTS[r] of rank r, known to all) into ALL, in rank order. */
void mixem_comm_allgatherv (const double *mine, size_t n, double *all, const size_t *counts);
/* Gathers one size_t from each rank into ALL (size entries). */
void mixem_comm_allgather_size (size_t mine, size_t *all);
/* BYTES bytes of BUF from rank ROOT to all. */
void mixem_comm_bcast (void *buf, size_t bytes, int root);
/* The largest of every rank's value. */
size_t mixem_comm_max_size (size_t mine);
/* V[0..N-1], in place, the elementwise largest over the ranks. */
void mixem_comm_max_doubles (double *v, size_t n);

/* A part's row offsets: rank r holds global rows [OFF[r], OFF[r + 1]); NULL when DS is whole. */
const size_t *mixem_dataset_part_offsets (const mixem_dataset *ds);
/* A part's chunk of rows (64 blocks): every pass over it uses blocks of GRAIN / 64 rows. */
size_t mixem_dataset_part_grain (const mixem_dataset *ds);

/* Rank ME of NP's part of a CSV, as mixem_dataset_read_csv_part reads it under mpirun -n NP but
 * in one process, every byte range counted here (not collective): for the tests. */
mixem_dataset *mixem_dataset_read_csv_as_rank (const char *path, const mixem_csv_options *opts,
                                               size_t grain, int np, int me, GError **error);

#endif
