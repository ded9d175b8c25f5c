/* pauses: records with a pause before each, as CRIU logs; every EVERY-th
 * record (0: none) has a line written into the text log (stderr) before
 * it, in the pause. Prints how often the runtime called fstat (see
 * pauses.h). With "pipe", the text log the program names
 * (logpack_text_fd) is a pipe, as CRIU's restored tasks' is.
 * Usage: pauses N PAUSE_US EVERY [pipe] */
#include "testlog.h"
#include "pauses.h"
#include <stdlib.h>
#include <unistd.h>

static int pipe_fd = -1;

static int text_pipe(void)
{
	return pipe_fd;
}

int main(int argc, char **argv)
{
	if (argc < 4)
		return 2;
	if (argc > 4 && strcmp(argv[4], "pipe") == 0) {
		int p[2];
		if (pipe(p) != 0)
			return 3;
		pipe_fd = p[1];
		logpack_text_fd(text_pipe);
	}
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
