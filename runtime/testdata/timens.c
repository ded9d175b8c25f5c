/* timens: a child in a time namespace whose CLOCK_MONOTONIC runs 1000 s
 * ahead of its parent's (CRIU's restore puts tasks in one) logs N records
 * a few microseconds apart, its text log (stderr) a file; prints how often
 * the runtime called fstat in the child (see pauses.h), or "skip" when
 * time namespaces are not available. Usage: timens N */
#include "testlog.h"
#include "pauses.h"
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	int n = atoi(argv[1]);
	LOG_SEQ(0, 0, 0, 0); /* the first claim: the rate's first clock pair */
	/* Without privileges, a user namespace of its own gives the right to
	 * set the time namespace's offsets. */
	if (unshare(CLONE_NEWTIME) != 0 && unshare(CLONE_NEWUSER | CLONE_NEWTIME) != 0) {
		printf("skip unshare: %s\n", strerror(errno));
		return 0;
	}
	int fd = open("/proc/self/timens_offsets", O_WRONLY);
	if (fd < 0 || write(fd, "monotonic 1000 0", 16) != 16) {
		printf("skip timens_offsets: %s\n", strerror(errno));
		return 0;
	}
	close(fd);
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0)
		return 3;
	if (pid == 0) {
		fstat_calls = 0;
		for (int i = 0; i < n; i++) {
			pause_us(3);
			LOG_SEQ(1, i, 0, 0);
		}
		printf("fstat %d\n", fstat_calls);
		return 0;
	}
	int status;
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return 4;
	return WEXITSTATUS(status);
}
