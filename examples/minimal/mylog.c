/*
 * mylog.c - the smallest program with its own log function. Built with
 *
 *   logpack cc --log-func 'mylog(level, fmt, ...)' -- gcc -o build/hello mylog.c
 *
 * it writes a binary log when LOGPACK_FILE is set, and text to stderr
 * otherwise, exactly as the plain build does.
 */
#include <stdarg.h>
#include <stdio.h>

enum { LOG_ERR = 1, LOG_INFO = 3, LOG_DEBUG = 4 };

static int verbosity = LOG_DEBUG;

void mylog(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

void mylog(int level, const char *fmt, ...)
{
	va_list ap;

	if (level > verbosity)
		return;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

int main(int argc, char **argv)
{
	unsigned long sum = 0;
	int i;

	mylog(LOG_INFO, "%s: starting with %d arguments\n", argv[0], argc - 1);
	for (i = 0; i < 5; i++) {
		sum += (unsigned long)i * i;
		mylog(LOG_DEBUG, "step %d: sum=%lu (%#lx)\n", i, sum, sum);
	}
	if (sum != 30)
		mylog(LOG_ERR, "unexpected sum %lu\n", sum);
	mylog(LOG_INFO, "done: %.3f%% of %s\n", 100.0, "the work");
	return 0;
}
