/*
 * pauses.h - for the test programs that count the runtime's text log
 * checks: this program's fstat takes the place of libc's (the runtime's
 * checks are fstat calls) and counts them, and pause_us waits without a
 * system call.
 */
#ifndef PAUSES_H
#define PAUSES_H

#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>

static int fstat_calls;

int fstat(int fd, struct stat *st)
{
	fstat_calls++;
	return fstatat(fd, "", st, AT_EMPTY_PATH);
}

static void pause_us(long us)
{
	struct timespec t0, t;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do
		clock_gettime(CLOCK_MONOTONIC, &t);
	while ((t.tv_sec - t0.tv_sec) * 1000000000L + (t.tv_nsec - t0.tv_nsec) < us * 1000L);
}

#endif
