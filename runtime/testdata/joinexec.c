/* joinexec: processes started by exec with LOGPACK_FILE inherited join the
 * log of their run.
 *   joinexec parent N  writer 0 logs N records; a fork child execs
 *                      "joinexec child N" (writer 1); writer 0 logs N more,
 *                      then the process execs "joinexec final N" (writer 2,
 *                      same pid)
 * With JOINEXEC_CD set, the parent changes to that directory after its
 * first N records (a relative LOGPACK_FILE names the same log after it). */
#include "testlog.h"
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static void logn(int w, int from, int n)
{
	for (int i = from; i < from + n; i++)
		LOG_SEQ(w, i, getpid(), gettid());
}

int main(int argc, char **argv)
{
	if (argc < 3)
		return 2;
	int n = atoi(argv[2]);
	if (strcmp(argv[1], "child") == 0) {
		logn(1, 0, n);
		return 0;
	}
	if (strcmp(argv[1], "final") == 0) {
		logn(2, 0, n);
		printf("ok\n");
		return 0;
	}
	logn(0, 0, n);
	if (getenv("JOINEXEC_CD") && chdir(getenv("JOINEXEC_CD")) != 0)
		return 6;
	pid_t pid = fork();
	if (pid == 0) {
		execl("/proc/self/exe", argv[0], "child", argv[2], (char *)NULL);
		_exit(3);
	}
	int st;
	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return 4;
	logn(0, n, n);
	fflush(stdout);
	execl("/proc/self/exe", argv[0], "final", argv[2], (char *)NULL);
	return 5;
}
