/* basic: every argument class, run-time levels, long records, errno.
 * Usage: basic N (N sequence records). Exits non-zero if a log call
 * changed errno. */
#include "testlog.h"
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 10;
	static const char s5[5] = {'a', 'b', 'c', 'd', 'e'}; /* no NUL: read with a bound */
	const char *volatile null = NULL;
	static char big[70001], mid[301];

	for (int i = 0; i < n; i++) {
		errno = 1000 + i;
		LOG_SEQ(0, i, getpid(), gettid());
		if (errno != 1000 + i)
			return 10;
	}
	errno = EACCES;
	LOG_ALL(-5, 4000000000u, -1234567890123L, 18446744073709551615UL, 2.5, 1.25L, "hello",
		(void *)0x1234, 2, "xyz", s5);
	if (errno != EACCES)
		return 11;
	errno = 0;
	LOG_ALL(2147483647, 0u, 0L, 0UL, -0.0, -3.0L, null, null, -1, "whole", s5);
	LOG_LVL(3, 7);
	LOG_LVL(0, 8); /* level 0 stays text */
	LOG_LVL(4, 9);
	LOG_ZERO();
	memset(big, 'b', sizeof big - 1);
	memset(mid, 'm', sizeof mid - 1);
	LOG_STR(mid);
	LOG_STR(big);
	LOG_STR(null);
	LOG_STR("");
	errno = 77;
	LOG_ZERO();
	if (errno != 77)
		return 12;
	/* After a pause the next call writes a text mark, which looks at the
	 * text log's descriptor (closed here): errno stays the program's, and
	 * %m records it. */
	close(2);
	usleep(5000);
	errno = EPERM;
	LOG_ALL(1, 1u, 1L, 1UL, 1.0, 1.0L, "paused", null, 0, "", s5);
	if (errno != EPERM)
		return 13;
	printf("done %d\n", logpack_enabled());
	return 0;
}
