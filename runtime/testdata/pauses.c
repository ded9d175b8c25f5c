/* pauses: records with a pause before each, as CRIU logs; every EVERY-th
 * record (0: none) has a line written into the text log (stderr) before
 * it, in the pause. Prints how often the runtime called fstat (this
 * program's fstat takes the place of libc's: the runtime's text log
 * checks are fstat calls). Usage: pauses N PAUSE_US EVERY */
#include "testlog.h"
#include <fcntl.h>
#include <stdlib.h>
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

int main(int argc, char **argv)
{
	if (argc < 4)
		return 2;
	int n = atoi(argv[1]), every = atoi(argv[3]);
	long us = atol(argv[2]);
	for (int i = 0; i < n; i++) {
		pause_us(us);
		if (every && i % every == 0) {
			fprintf(stderr, "text %d\n", i);
			fflush(stderr);
		}
		LOG_SEQ(0, i, 0, 0);
	}
	printf("fstat %d\n", fstat_calls);
	return 0;
}
