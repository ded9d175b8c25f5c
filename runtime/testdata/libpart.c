/* libpart: a shared library with its own rewritten calls and its own copy
 * of the runtime; withlib.c links it. */
#include "testlog.h"
#include <unistd.h>

void lib_log(int from, int n)
{
	for (int i = from; i < from + n; i++)
		LOG_SEQ(1, i, getpid(), gettid());
	LOG_STR("from the library");
}
