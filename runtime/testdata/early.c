/* early: records logged after logpack_early() and before logpack_open()
 * reach the log first. Usage: early N PATH (N records before the open,
 * N after; the early buffer drops what does not fit). */
#include "testlog.h"
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 3)
		return 2;
	int n = atoi(argv[1]);
	logpack_early();
	for (int i = 0; i < n; i++)
		LOG_SEQ(0, i, getpid(), gettid());
	LOG_LVL(4, 1);
	unsigned long long early_dropped = logpack_dropped();
	if (logpack_open(argv[2], 0) != 0)
		return 3;
	for (int i = n; i < 2 * n; i++)
		LOG_SEQ(0, i, getpid(), gettid());
	LOG_LVL(4, 2);
	logpack_close();
	LOG_ZERO(); /* text again */
	printf("ok %llu %d\n", early_dropped, logpack_enabled());
	return 0;
}
