/* withlib: an executable and a shared library (libpart.c), both rewritten
 * and both carrying the runtime, log alternately. Usage: withlib N */
#include "testlog.h"
#include <stdlib.h>
#include <unistd.h>

void lib_log(int from, int n);

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 100;
	for (int i = 0; i < n; i += 10) {
		for (int j = i; j < i + 10; j++)
			LOG_SEQ(0, j, getpid(), gettid());
		lib_log(i, 10);
	}
	LOG_STR("from the executable");
	printf("ok %d\n", logpack_enabled());
	return 0;
}
