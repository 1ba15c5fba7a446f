/* mixem/parallel.h: fits across machines (Open MPI).  A dataset read as a part holds one rank's
 * share of the rows; a fit, a score or a prediction on it is then a collective over the ranks of
 * MPI_COMM_WORLD, each rank holding the same model at the end (README, "Fits across machines").
 * No MPI type appears here: a build without MPI has the same functions, with one rank. */
#ifndef MIXEM_PARALLEL_H
#define MIXEM_PARALLEL_H

#include <stddef.h>
#include <glib.h>
#include <mixem/dataset.h>

G_BEGIN_DECLS

/* Whether this build has MPI and the process was started by mpirun (Open MPI's environment). */
gboolean mixem_parallel_launched (void);
/* Initialises MPI once (FALSE with an error in a build without MPI).  Nothing calls MPI before
 * this, so that a plain run never starts it. */
gboolean mixem_parallel_init (GError **error);
/* Ends MPI if mixem_parallel_init started it (at most once; later calls do nothing). */
void mixem_parallel_finalize (void);
int mixem_parallel_rank (void);   /* 0 when MPI was not initialised */
int mixem_parallel_size (void);   /* 1 when MPI was not initialised */
/* Collective: FALSE on every rank when some rank comes with *ERROR set; then every rank's
 * *ERROR is the lowest such rank's error, so that all report the same message. */
gboolean mixem_parallel_agree (GError **error);
/* The bytes this rank has sent in mixem's collectives so far (for benchmarks). */
double mixem_parallel_bytes_sent (void);

/* This rank's share of the .npy file PATH: a contiguous range of rows, cut at multiples of
 * GRAIN rows (64 * the fit's block_size; 0: 64 * 256), the ranks in order, some perhaps empty.
 * Collective; the file's shape, names and errors are agreed by every rank. */
mixem_dataset *mixem_dataset_read_npy_part (const char *path, size_t grain, GError **error);
/* The same, NaN cells being missing values with ALLOW_MISSING (mixem_dataset_read_npy_missing):
 * every rank then sees the data as having missing cells when any rank's share has one. */
mixem_dataset *mixem_dataset_read_npy_part_missing (const char *path, size_t grain,
                                                    gboolean allow_missing, GError **error);
/* The same for a CSV file (missing values as in mixem_dataset_read_csv), cut by bytes: each rank counts the lines of its 1/P of the file's
 * bytes, the counts are gathered, and each parses only its rows, from the byte range that holds
 * the first (the header from the file's start). */
mixem_dataset *mixem_dataset_read_csv_part (const char *path, const mixem_csv_options *opts,
                                            size_t grain, GError **error);
/* Shard files PATHS (NULL-terminated; .npy or CSV, with the same columns) as one dataset of
 * their rows in that order; with PART, this rank's share of those rows, cut as above (a rank
 * reads every shard's header, counts the rows of the CSV shards s with s mod P its rank, and
 * reads the pieces of the shards its rows fall in).
 * Collective with PART. */
mixem_dataset *mixem_dataset_read_shards (const char *const *paths, const mixem_csv_options *opts,
                                          gboolean part, size_t grain, GError **error);

/* The global index of DS's first row (0 unless DS is a part). */
size_t mixem_dataset_first_row (const mixem_dataset *ds);
/* The number of rows of all parts together (mixem_dataset_rows unless DS is a part). */
size_t mixem_dataset_all_rows (const mixem_dataset *ds);
/* Whether DS is one rank's share of rows spread over the ranks. */
gboolean mixem_dataset_is_part (const mixem_dataset *ds);

G_END_DECLS

#endif
