/* procs: the parent, 4 fork children, 1 raw clone child (no atfork
 * handlers run) and 4 threads log N records each at the same time.
 * Writer w logs "seq w i pid tid" for i = 0..N-1. Usage: procs N */
#include "testlog.h"
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static int n;
static volatile int go;

static void work(int w)
{
	int pid = getpid(), tid = gettid();
	while (!go)
		;
	for (int i = 0; i < n; i++)
		LOG_SEQ(w, i, pid, tid);
}

static void *thread(void *arg)
{
	work((int)(long)arg);
	return NULL;
}

int main(int argc, char **argv)
{
	n = argc > 1 ? atoi(argv[1]) : 1000;
	pid_t kids[5];
	pthread_t th[4];

	LOG_ZERO(); /* the children inherit a described site and a chunk */
	LOG_SEQ(-1, 0, getpid(), gettid());
	go = 1;
	for (int k = 0; k < 4; k++) {
		kids[k] = fork();
		if (kids[k] < 0)
			return 2;
		if (kids[k] == 0) {
			work(1 + k);
			_exit(0);
		}
	}
	long r = syscall(SYS_clone, SIGCHLD, 0, NULL, NULL, 0);
	if (r < 0)
		return 3;
	if (r == 0) {
		work(5);
		syscall(SYS_exit_group, 0);
	}
	kids[4] = (pid_t)r;
	for (int k = 0; k < 4; k++)
		if (pthread_create(&th[k], NULL, thread, (void *)(long)(6 + k)) != 0)
			return 4;
	work(0);
	for (int k = 0; k < 4; k++)
		pthread_join(th[k], NULL);
	for (int k = 0; k < 5; k++) {
		int st;
		if (waitpid(kids[k], &st, 0) != kids[k] || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
			return 5;
	}
	printf("ok %llu\n", logpack_dropped());
	return 0;
}
