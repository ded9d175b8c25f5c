/*
 * logpack.h - switching binary logging on and off from a program.
 *
 * Without any call, binary logging is on when the environment names a log
 * file: LOGPACK_FILE=path. While it is off, every rewritten log call does
 * exactly what the original call did.
 *
 * The environment, read when the log is opened (and ignored in a program
 * running in secure-execution mode: setuid, setgid, file capabilities):
 *   LOGPACK_FILE=path       the log (opened by a constructor at start-up);
 *                           %p in it is the pid, %% a percent sign. An
 *                           existing log is joined: each run appends a
 *                           session of its own. If it cannot be used, one
 *                           line on stderr says why; the program runs on
 *                           with its text logging.
 *   LOGPACK_SESSION=hex     set by a run that opens the log; a program it
 *                           execs with LOGPACK_FILE joins its session
 *   LOGPACK_MAX_BYTES=n     the log never grows past n bytes (records
 *                           beyond are counted as dropped)
 *   LOGPACK_CLOCK=ns        CLOCK_MONOTONIC timestamps even where the TSC
 *                           is usable
 *
 * A new log is created 0600 (the umask may narrow it) and made a log in
 * place under a record lock. Nothing but a logpack log owned by the
 * program's user is ever written to: a symbolic link, a file of another
 * kind or another user's is left alone.
 */
#ifndef LOGPACK_H
#define LOGPACK_H

#ifdef __cplusplus
extern "C" {
#endif

/* Flags for logpack_open and logpack_attach_fd: none yet. (An existing
 * log is always joined; LOGPACK_APPEND is kept for programs that name it.) */
#define LOGPACK_APPEND 1

/* Starts binary logging into path, as a new session: a new log is created,
 * an existing one joined. Records kept by logpack_early() go in first.
 * Returns 0, or -1 with errno set; logging then stays off and the program
 * is unaffected. */
int logpack_open(const char *path, int flags);

/* The same on a file descriptor opened for reading and writing, of an
 * existing log or an empty file. logpack keeps its own duplicate; the
 * caller may close fd. */
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

/* Records this process could not write (log full, disk full, size limit),
 * not counting those it printed as text instead (see logpack_to_text). */
unsigned long long logpack_dropped(void);

/* Records this process could not write and printed as text instead: the
 * calls of sites that keep their original call (all but those that print
 * as text anyway) fall back to it, so a full log loses none of them. */
unsigned long long logpack_to_text(void);

#ifdef __cplusplus
}
#endif

#endif
