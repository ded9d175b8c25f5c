/*
 * logpack.h - switching binary logging on and off from a program.
 *
 * Without any call, binary logging is on when the environment names a log
 * file: LOGPACK_FILE=path. While it is off, every rewritten log call does
 * exactly what the original call did.
 *
 * The environment, read when the log is opened:
 *   LOGPACK_FILE=path       the log (opened by a constructor at start-up)
 *   LOGPACK_SESSION=hex     set by the process that creates the log; a
 *                           process exec'd with it and LOGPACK_FILE joins
 *                           that log instead of starting it anew
 *   LOGPACK_MAX_BYTES=n     the log never grows past n bytes (records
 *                           beyond are counted as dropped)
 *   LOGPACK_PREFAULT=thread fault the log's pages in from a background
 *                           thread instead of when a chunk is claimed
 *   LOGPACK_CLOCK=ns        CLOCK_MONOTONIC timestamps even where the TSC
 *                           is usable
 */
#ifndef LOGPACK_H
#define LOGPACK_H

#ifdef __cplusplus
extern "C" {
#endif

/* Flags for logpack_open and logpack_attach_fd. */
#define LOGPACK_APPEND 1 /* join an existing log instead of starting anew */

/* Starts binary logging into path (created 0644 if missing; an existing
 * file is started anew unless LOGPACK_APPEND or it is this run's log).
 * Records kept by logpack_early() go in first. Returns 0, or -1 with errno
 * set; logging then stays off and the program is unaffected. */
int logpack_open(const char *path, int flags);

/* The same on a file descriptor opened for reading and writing. logpack
 * keeps its own duplicate; the caller may close fd. */
int logpack_attach_fd(int fd, int flags);

/* Starts recording into a small in-memory buffer before the log file is
 * known; logpack_open later writes these records first. If the buffer fills
 * up, further records are counted as dropped. */
void logpack_early(void);

/* Makes everything recorded so far durable (msync). Records are already
 * safe from a crash of the process without it; this is for power loss. */
int logpack_flush(void);

/* Stops binary logging in this process; later calls print as text again. */
void logpack_close(void);

/* Non-zero while binary logging is on. */
int logpack_enabled(void);

/* Records this process could not write (log full, disk full, size limit). */
unsigned long long logpack_dropped(void);

#ifdef __cplusplus
}
#endif

#endif
