/* strings: every string length 0..100 at every alignment 0..15, once in
 * the middle of a buffer and once ending right before an unmapped page, so
 * the runtime's word-at-a-time strlen is checked where it could read too
 * far or stop short. Logs "str %s\n" with the string "<len>:<align>:" followed
 * by 'a'..'z' filler up to the length. */
#include "testlog.h"
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

static void fill(char *p, int len, int align)
{
	int n = snprintf(p, (size_t)len + 1, "%d:%d:", len, align);
	for (int i = n; i < len; i++)
		p[i] = (char)('a' + i % 26);
	p[len] = 0;
}

int main(void)
{
	long page = sysconf(_SC_PAGESIZE);
	char *buf = mmap(NULL, 2 * (size_t)page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED || mprotect(buf + page, (size_t)page, PROT_NONE) != 0)
		return 2;
	for (int len = 0; len <= 100; len++) {
		for (int align = 0; align < 16; align++) {
			char *mid = buf + 256 + align;
			fill(mid, len, align);
			LOG_STR(mid);
			/* the NUL is the last readable byte; align shifts the start */
			char *edge = buf + page - 1 - len - align;
			memmove(edge, mid, (size_t)len + 1);
			LOG_STR(edge);
		}
	}
	return 0;
}
