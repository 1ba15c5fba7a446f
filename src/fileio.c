/* fileio.c: atomic file writes.  Each regular file is written whole to an unnamed temporary file
 * in its folder (O_TMPFILE; where the file system has no O_TMPFILE, a named temporary
 * PATH.mixem-XXXXXX) and only then given its name: linkat() through /proc/self/fd, straight to
 * PATH when there is none, else to a temporary name renamed over the old file.  A kill during the
 * write leaves no name behind with O_TMPFILE; one between the link and the rename, or during a
 * write in the fallback, leaves a temporary, which the next write of PATH removes (see
 * remove_stale).  Several files are committed together: all are written first, then all are named,
 * so a failure in any of them replaces none.
 *
 * What PATH is decides how it is written:
 *   - a regular file, or nothing: replaced atomically as above (a hard link to the old file is
 *     broken: the other names keep the old contents);
 *   - a symbolic link: the file it points to is replaced, and the link stays a link;
 *   - not a regular file (a device such as /dev/null, a FIFO, a socket), or a name reached through
 *     /proc (/dev/stdout, /dev/fd/N): written through in place, every write checked; not atomic.
 */
#define _GNU_SOURCE 1
#include <config.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include <mixem/mixem.h>

typedef struct {
  const char *path;       /* as given, for messages and for writing through */
  char *target;           /* the regular file to replace (symbolic links followed) */
  gboolean through;       /* write PATH in place */
  gboolean append;        /* ... appending (a regular file reached through /proc) */
  gboolean present;       /* TARGET existed */
  gboolean existed;       /* ... non-empty */
  gboolean linked;        /* TARGET was created by linkat (undone by unlinking it) */
  const char *data;
  size_t len;
  int fd;                 /* the staged file, or -1 */
  char *tmp;              /* its name, once it has one (not with O_TMPFILE until commit) */
} staged;

static void
set_io_error (GError **error, const char *path, const char *what, int err)
{
  g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_IO, "%s: %s%s%s", path, what ? what : "",
               what ? ": " : "", g_strerror (err));
}

/* Is DIR (a folder) inside /proc, once its links are resolved? */
static gboolean
under_proc (const char *file)
{
  char *dir = g_path_get_dirname (file);
  char *real = realpath (dir, NULL);
  gboolean yes = real && (strcmp (real, "/proc") == 0 || g_str_has_prefix (real, "/proc/"));
  free (real);
  g_free (dir);
  return yes;
}

/* Decides how S->path is written (see the top of the file). */
static gboolean
resolve (staged *s, GError **error)
{
  struct stat st;
  const gboolean exists = stat (s->path, &st) == 0;
  if (exists && S_ISDIR (st.st_mode)) {
    set_io_error (error, s->path, NULL, EISDIR);
    return FALSE;
  }
  if (exists && !S_ISREG (st.st_mode)) {
    s->through = TRUE;
    return TRUE;
  }
  /* Follow symbolic links one at a time, so that a link to a missing file names the file to
   * create, and so that a link into /proc (/dev/stdout) is seen. */
  char *p = g_strdup (s->path);
  for (int hops = 0;; hops++) {
    if (under_proc (p)) {
      s->through = TRUE;
      s->append = exists;   /* never truncate what the shell opened */
      g_free (p);
      return TRUE;
    }
    struct stat ls;
    if (lstat (p, &ls) != 0 || !S_ISLNK (ls.st_mode))
      break;
    if (hops == 40) {
      set_io_error (error, s->path, NULL, ELOOP);
      g_free (p);
      return FALSE;
    }
    GError *e = NULL;
    char *link = g_file_read_link (p, &e);
    if (!link) {
      g_set_error (error, MIXEM_ERROR, MIXEM_ERROR_IO, "%s: %s", s->path, e->message);
      g_error_free (e);
      g_free (p);
      return FALSE;
    }
    char *next;
    if (g_path_is_absolute (link))
      next = link;
    else {
      char *dir = g_path_get_dirname (p);
      next = g_build_filename (dir, link, NULL);
      g_free (dir);
      g_free (link);
    }
    g_free (p);
    p = next;
  }
  s->target = p;
  s->present = exists;
  s->existed = exists && st.st_size > 0;
  return TRUE;
}

static gboolean
write_all (int fd, const char *data, size_t len, const char *path, GError **error)
{
  size_t done = 0;
  while (done < len) {
    const ssize_t w = write (fd, data + done, MIN (len - done, (size_t) 1 << 30));
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0) {
      set_io_error (error, path, "cannot write", w < 0 ? errno : EIO);
      return FALSE;
    }
    done += (size_t) w;
  }
  return TRUE;
}

/* Whether to use O_TMPFILE: MIXEM_TEST_NO_O_TMPFILE (for the tests of the fallback) turns it
 * off, and it needs /proc to name the file. */
static gboolean
use_o_tmpfile (void)
{
#ifdef O_TMPFILE
  return !g_getenv ("MIXEM_TEST_NO_O_TMPFILE") && g_file_test ("/proc/self/fd", G_FILE_TEST_IS_DIR);
#else
  return FALSE;
#endif
}

/* Temporary names are TARGET.mixem-XXXXXX, and the file behind one is locked (flock) by its
 * writer from before the name exists until it is renamed.  One that no process holds is left by a
 * kill (between link and rename with O_TMPFILE, any time in the fallback): the next write of the
 * same target removes it. */
#define TMP_INFIX ".mixem-"

static void
remove_stale (const char *target)
{
  char *dir = g_path_get_dirname (target), *base = g_path_get_basename (target);
  char *prefix = g_strconcat (base, TMP_INFIX, NULL);
  const size_t plen = strlen (prefix);
  GDir *d = g_dir_open (dir, 0, NULL);
  const char *name;
  while (d && (name = g_dir_read_name (d))) {
    if (strncmp (name, prefix, plen) != 0 || strlen (name) != plen + 6)
      continue;
    char *path = g_build_filename (dir, name, NULL);
    const int fd = open (path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    struct stat a, b;
    if (fd >= 0 && flock (fd, LOCK_EX | LOCK_NB) == 0 && fstat (fd, &a) == 0
        && lstat (path, &b) == 0 && S_ISREG (a.st_mode) && a.st_dev == b.st_dev
        && a.st_ino == b.st_ino)
      g_unlink (path);
    if (fd >= 0)
      close (fd);
    g_free (path);
  }
  if (d)
    g_dir_close (d);
  g_free (prefix);
  g_free (base);
  g_free (dir);
}

/* Writes S's data to a new temporary file beside its target. */
static gboolean
stage (staged *s, GError **error)
{
  remove_stale (s->target);
  char *dir = g_path_get_dirname (s->target);
  s->fd = -1;
#ifdef O_TMPFILE
  if (use_o_tmpfile ()) {
    s->fd = open (dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0666);
    if (s->fd < 0 && errno != EISDIR && errno != EOPNOTSUPP && errno != EINVAL) {
      set_io_error (error, s->path, "cannot create a file", errno);
      g_free (dir);
      return FALSE;
    }
  }
#endif
  g_free (dir);
  if (s->fd >= 0)
    flock (s->fd, LOCK_EX);   /* before it has a name: it is never taken for a stale one */
  for (int tries = 0; s->fd < 0 && tries < 10; tries++) {
    s->tmp = g_strconcat (s->target, TMP_INFIX "XXXXXX", NULL);
    s->fd = g_mkstemp_full (s->tmp, O_WRONLY | O_CLOEXEC, 0666);
    if (s->fd < 0) {
      set_io_error (error, s->path, "cannot create a file", errno);
      g_clear_pointer (&s->tmp, g_free);
      return FALSE;
    }
    /* Another writer's remove_stale may have taken it between mkstemp and flock: then it has no
     * name left, and another is made. */
    struct stat st;
    if (flock (s->fd, LOCK_EX) != 0 || fstat (s->fd, &st) != 0 || st.st_nlink == 0) {
      close (s->fd);
      s->fd = -1;
      g_clear_pointer (&s->tmp, g_free);
    }
  }
  if (s->fd < 0) {
    set_io_error (error, s->path, "cannot create a file", EEXIST);
    return FALSE;
  }
  if (!write_all (s->fd, s->data, s->len, s->path, error))
    return FALSE;
  /* As GLib does: make the new contents durable before they replace old ones. */
  if (s->existed && fsync (s->fd) != 0) {
    set_io_error (error, s->path, "cannot write", errno);
    return FALSE;
  }
  return TRUE;
}

/* Gives an unnamed staged file a name: its target if there is none yet (S->linked), else a
 * temporary name beside it. */
static gboolean
name_it (staged *s, GError **error)
{
  if (s->tmp)
    return TRUE;
  char proc[64];
  g_snprintf (proc, sizeof proc, "/proc/self/fd/%d", s->fd);
  if (!s->present) {
    if (linkat (AT_FDCWD, proc, AT_FDCWD, s->target, AT_SYMLINK_FOLLOW) == 0) {
      s->linked = TRUE;
      return TRUE;
    }
    if (errno != EEXIST) {
      set_io_error (error, s->path, "cannot create", errno);
      return FALSE;
    }
  }
  for (int tries = 0; tries < 100; tries++) {
    char *name = g_strdup_printf ("%s" TMP_INFIX "%06x", s->target, g_random_int () & 0xffffff);
    if (linkat (AT_FDCWD, proc, AT_FDCWD, name, AT_SYMLINK_FOLLOW) == 0) {
      s->tmp = name;
      return TRUE;
    }
    const int err = errno;
    g_free (name);
    if (err != EEXIST) {
      set_io_error (error, s->path, "cannot create", err);
      return FALSE;
    }
  }
  set_io_error (error, s->path, "cannot create", EEXIST);
  return FALSE;
}

static void
discard (staged *s)
{
  if (s->fd >= 0)
    close (s->fd);
  s->fd = -1;
  if (s->tmp)
    g_unlink (s->tmp);
  if (s->linked)
    g_unlink (s->target);
  g_clear_pointer (&s->tmp, g_free);
  g_clear_pointer (&s->target, g_free);
}

static gboolean
write_through (staged *s, GError **error)
{
  const int fd = open (s->path, O_WRONLY | O_CLOEXEC | (s->append ? O_APPEND : O_TRUNC));
  if (fd < 0) {
    set_io_error (error, s->path, "cannot open", errno);
    return FALSE;
  }
  gboolean ok = write_all (fd, s->data, s->len, s->path, error);
  if (close (fd) != 0 && ok) {
    set_io_error (error, s->path, "cannot write", errno);
    ok = FALSE;
  }
  return ok;
}

gboolean
mixem_write_files_atomic (size_t n, const char *const *paths, const char *const *data,
                          const gssize *lens, GError **error)
{
  staged *s = g_new0 (staged, n ? n : 1);
  gboolean ok = TRUE;
  for (size_t i = 0; i < n; i++) {
    s[i].path = paths[i];
    s[i].data = data[i];
    s[i].len = lens && lens[i] >= 0 ? (size_t) lens[i] : strlen (data[i]);
    s[i].fd = -1;
  }
  /* 1. Every regular file written whole, unnamed or under a temporary name. */
  for (size_t i = 0; i < n && ok; i++)
    ok = resolve (&s[i], error) && (s[i].through || stage (&s[i], error));
  /* 2. Those written in place (devices, FIFOs): not atomic, so before any file is replaced. */
  for (size_t i = 0; i < n && ok; i++)
    if (s[i].through)
      ok = write_through (&s[i], error);
  /* 3. Every staged file given a name (new targets their own: undone by unlinking them). */
  for (size_t i = 0; i < n && ok; i++)
    if (!s[i].through)
      ok = name_it (&s[i], error);
  /* 4. The renames over the old files, which fail only if the folder changes under us. */
  for (size_t i = 0; i < n && ok; i++) {
    if (s[i].through || !s[i].tmp)
      continue;
    if (g_rename (s[i].tmp, s[i].target) != 0) {
      set_io_error (error, s[i].path, "cannot replace", errno);
      ok = FALSE;
      break;
    }
    g_clear_pointer (&s[i].tmp, g_free);
    s[i].linked = FALSE;
  }
  const gboolean committed = ok;
  for (size_t i = 0; i < n; i++) {
    if (committed) {
      s[i].linked = FALSE;   /* in place: keep it */
      if (s[i].fd >= 0 && close (s[i].fd) != 0 && ok) {
        set_io_error (error, s[i].path, "cannot write", errno);
        ok = FALSE;
      }
      s[i].fd = -1;
    }
    discard (&s[i]);
  }
  g_free (s);
  return ok;
}

gboolean
mixem_write_file_atomic (const char *path, const char *data, gssize len, GError **error)
{
  return mixem_write_files_atomic (1, &path, &data, &len, error);
}
