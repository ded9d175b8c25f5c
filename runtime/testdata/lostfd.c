/* lostfd: a forked child loses the log's descriptor and its path, as
 * CRIU's restored tasks do (they close every descriptor they inherit but
 * CRIU's own, in a mount namespace of their own), and logs N records of a
 * text-fallback site: those the log cannot take any more are printed as
 * text (on stderr) instead. The parent logs one record before and one
 * after. Usage: lostfd LOG N */
#include "testlog.h"
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc != 3)
		return 2;
	const char *log = argv[1];
	int n = atoi(argv[2]), status;
	char moved[4096];
	snprintf(moved, sizeof moved, "%s.moved", log);

	LOG_FB(-1);
	pid_t pid = fork();
	if (pid < 0)
		return 3;
	if (pid == 0) {
		for (int fd = 3; fd < 1024; fd++)
			close(fd);
		if (rename(log, moved) != 0)
			_exit(4);
		for (int i = 0; i < n; i++)
			LOG_FB(i);
		printf("child to_text %llu dropped %llu\n", logpack_to_text(), logpack_dropped());
		fflush(stdout);
		_exit(rename(moved, log) != 0 ? 5 : 0);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return 6;
	usleep(1000); /* a pause: the next record notes the text log's size */
	LOG_FB(-2);
	return 0;
}
