/* threads: 4 threads log while the main thread closes and reopens the log
 * (logpack_close / logpack_open) over and over: the runtime's rules for
 * shared data, checked by ThreadSanitizer when built with
 * -fsanitize=thread. Usage: threads LOG ROUNDS */
#include "testlog.h"
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

static volatile int stop;

static void *writer(void *arg)
{
	int w = (int)(long)arg, i = 0;
	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		LOG_SEQ(w, i, getpid(), gettid());
		LOG_STR(i % 7 ? "short" : "a string long enough to leave the fast path of the encoder behind it");
		i++;
	}
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc < 3)
		return 2;
	int rounds = atoi(argv[2]);
	pthread_t th[4];
	if (logpack_open(argv[1], 0) != 0)
		return 3;
	for (long k = 0; k < 4; k++)
		if (pthread_create(&th[k], NULL, writer, (void *)k) != 0)
			return 4;
	for (int r = 0; r < rounds; r++) {
		usleep(2000);
		logpack_close();
		usleep(500);
		if (logpack_open(argv[1], 0) != 0)
			return 5;
	}
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	for (int k = 0; k < 4; k++)
		pthread_join(th[k], NULL);
	logpack_close();
	printf("done\n");
	return 0;
}
