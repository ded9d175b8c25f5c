/* crash: SIGKILL in the middle of logging.
 *   crash self N     log N records, then SIGKILL itself
 *   crash threads    4 threads log without end; the test kills the process */
#include "testlog.h"
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

static int started;

static void *loop(void *arg)
{
	int w = (int)(long)arg, pid = getpid(), tid = gettid();
	LOG_SEQ(w, 0, pid, tid);
	__atomic_fetch_add(&started, 1, __ATOMIC_RELEASE);
	for (int i = 1;; i++)
		LOG_SEQ(w, i, pid, tid);
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc > 2 && strcmp(argv[1], "self") == 0) {
		int n = atoi(argv[2]);
		for (int i = 0; i < n; i++)
			LOG_SEQ(0, i, getpid(), gettid());
		kill(getpid(), SIGKILL);
		return 1;
	}
	pthread_t th;
	for (long w = 1; w < 4; w++)
		pthread_create(&th, NULL, loop, (void *)w);
	LOG_SEQ(0, 0, getpid(), gettid());
	while (__atomic_load_n(&started, __ATOMIC_ACQUIRE) < 3)
		;
	printf("running\n");
	fflush(stdout);
	int pid = getpid(), tid = gettid();
	for (int i = 1;; i++)
		LOG_SEQ(0, i, pid, tid);
	return 0;
}
