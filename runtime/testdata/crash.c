/* crash: SIGKILL in the middle of logging.
 *   crash self N     log N records, then SIGKILL itself
 *   crash threads    4 threads log 50000 records each, then wait; the test
 *                    kills the process while they log */
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
	for (int i = 1; i < 50000; i++)
		LOG_SEQ(w, i, pid, tid);
	for (;;)
		pause();
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
	for (long w = 0; w < 4; w++)
		pthread_create(&th, NULL, loop, (void *)w);
	while (__atomic_load_n(&started, __ATOMIC_ACQUIRE) < 4)
		;
	printf("running\n");
	fflush(stdout);
	for (;;)
		pause();
}
