/* cancel: threads that log long strings (the log grows all the time) are
 * cancelled (pthread_cancel) and joined, over and over; the process must
 * go on, and log afterwards. Usage: cancel LOG ROUNDS */
#include "testlog.h"
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

static char big[3000];

static void *worker(void *arg)
{
	int w = (int)(long)arg;
	for (int i = 0;; i++) {
		LOG_SEQ(w, i, getpid(), gettid());
		LOG_STR(big);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc < 3)
		return 2;
	memset(big, 'x', sizeof big - 1);
	int rounds = atoi(argv[2]);
	if (logpack_open(argv[1], 0) != 0)
		return 3;
	for (int r = 0; r < rounds; r++) {
		pthread_t th;
		if (pthread_create(&th, NULL, worker, (void *)(long)r) != 0)
			return 4;
		usleep(1000);
		pthread_cancel(th);
		pthread_join(th, NULL);
	}
	LOG_SEQ(0, 1, getpid(), gettid());
	printf("ok %llu\n", logpack_dropped());
	return 0;
}
