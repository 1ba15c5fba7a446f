/* npyload.h: the drivers' reader of the benchmark's files: a float64 (or uint8) .npy array in C
 * order, memory-mapped, and the starting parameters from the mixem model file gen.py wrote
 * (parsed with json-glib).  Header-only, for the C and C++ drivers alike. */
#ifndef BENCH_NPYLOAD_H
#define BENCH_NPYLOAD_H

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* The data of PATH, a 2-D float64 .npy in C order: N rows of D values, mapped read-only. */
static const double *
npy_map (const char *path, size_t *n, size_t *d)
{
  int fd = open (path, O_RDONLY);
  struct stat st;
  if (fd < 0 || fstat (fd, &st) != 0) {
    perror (path);
    exit (1);
  }
  const unsigned char *u = (const unsigned char *) mmap (NULL, (size_t) st.st_size, PROT_READ,
                                                         MAP_PRIVATE, fd, 0);
  close (fd);
  if (u == MAP_FAILED || memcmp (u, "\x93NUMPY\x01", 7) != 0) {
    fprintf (stderr, "%s: not a version 1 .npy file\n", path);
    exit (1);
  }
  const size_t hlen = u[8] | (size_t) u[9] << 8;
  const char *h = (const char *) u + 10;
  if (!strstr (h, "'<f8'") || strstr (h, "'fortran_order': True")) {
    fprintf (stderr, "%s: float64 in C order expected\n", path);
    exit (1);
  }
  const char *shape = strstr (h, "'shape': (");
  if (!shape || sscanf (shape, "'shape': (%zu, %zu)", n, d) != 2) {
    fprintf (stderr, "%s: a 2-D shape expected\n", path);
    exit (1);
  }
  return (const double *) (const void *) (u + 10 + hlen);
}

static double
now_seconds (void)
{
  struct timespec t;
  clock_gettime (CLOCK_MONOTONIC, &t);
  return (double) t.tv_sec + 1e-9 * (double) t.tv_nsec;
}

/* Peak resident set size of this process, in MiB. */
static double
peak_rss_mib (void)
{
  struct rusage r;
  getrusage (RUSAGE_SELF, &r);
  return (double) r.ru_maxrss / 1024.0;
}

#endif
