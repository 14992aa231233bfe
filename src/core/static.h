/*
 * static — the fingerprint of the files under assets/.
 *
 * Kore serves assets/ itself (kore.conf's filemap). Pages link them as
 * /assets/...?v=<version>, where the version is a hash of every file, so a
 * deploy that changes any of them changes every link and no browser keeps a
 * stale stylesheet or script.
 */
#ifndef SPANNER_STATIC_H
#define SPANNER_STATIC_H

/* Reads every file under dir once (at start, in Kore's parent). 0 or -1 (logged). */
int static_load(const char *dir);
const char *static_version(void);

#endif
