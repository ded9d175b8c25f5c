/* signal: a signal handler logs while the interrupted code is logging
 * (CRIU logs from its SIGCHLD handler). Usage: signal N
 * Writer 0 logs N records; a 50 us interval timer's handler logs writer 1
 * records. A call interrupted inside the runtime must not be damaged; the
 * handler's record is then dropped and counted. Prints "ok HANDLED". */
#include "testlog.h"
#include <signal.h>
#include <stdlib.h>
#include <sys/time.h>
#include <unistd.h>

static volatile int handled;

static void on_alarm(int sig)
{
	(void)sig;
	int e = errno;
	errno = 999;
	LOG_SEQ(1, handled, getpid(), gettid());
	if (errno != 999)
		_exit(20);
	handled++;
	errno = e;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 100000;
	struct sigaction sa = {.sa_handler = on_alarm, .sa_flags = SA_RESTART};
	struct itimerval it = {{0, 50}, {0, 50}};
	if (sigaction(SIGALRM, &sa, NULL) != 0 || setitimer(ITIMER_REAL, &it, NULL) != 0)
		return 2;
	int pid = getpid(), tid = gettid();
	for (int i = 0; i < n; i++) {
		errno = i;
		LOG_SEQ(0, i, pid, tid);
		if (errno != i)
			return 3;
	}
	struct itimerval off = {{0, 0}, {0, 0}};
	setitimer(ITIMER_REAL, &off, NULL);
	printf("ok %d %llu\n", handled, logpack_dropped());
	return 0;
}
