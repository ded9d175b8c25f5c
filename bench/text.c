/*
 * text.c - CRIU's way of logging, as a benchmark baseline: a timestamp
 * prefix, vsnprintf into one static buffer and one write(2) per message,
 * straight to the log file (see CRIU-LOGGING.md). Also the fprintf
 * baseline: the same messages into a FILE with stdio's default buffering.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>
#include <errno.h>

#include "bench.h"

static int text_fd = -1;
static unsigned int text_level = 4;
static struct timeval text_start;
static char text_buf[8192];
unsigned long long text_bytes;

void text_init(int fd)
{
	text_fd = fd;
	gettimeofday(&text_start, NULL);
}

void text_log(unsigned int level, const char *fmt, ...)
{
	struct timeval now, d;
	va_list ap;
	int saved_errno = errno, off = 0, size;

	if (level > text_level)
		return;
	gettimeofday(&now, NULL);
	timersub(&now, &text_start, &d);
	snprintf(text_buf, 13, "(%02u.%06u) ", (unsigned)d.tv_sec, (unsigned)d.tv_usec);
	va_start(ap, fmt);
	size = vsnprintf(text_buf + 12, sizeof(text_buf) - 12, fmt, ap);
	va_end(ap);
	if (size < 0)
		size = 0;
	if ((size_t)size >= sizeof(text_buf) - 12)
		size = (int)sizeof(text_buf) - 13;
	size += 12;
	while (off < size) {
		ssize_t r = write(text_fd, text_buf + off, (size_t)(size - off));

		if (r <= 0)
			break;
		off += (int)r;
	}
	text_bytes += (unsigned long long)size;
	errno = saved_errno;
}

#define LOG(level, fmt, ...) text_log(level, fmt, __VA_ARGS__)
#define WL(name) wl_##name##_text
#include "mix.h"
#undef LOG
#undef WL

FILE *stdio_file;
unsigned long long stdio_bytes;

#define LOG(level, fmt, ...) ((level) <= 4 ? (void)(stdio_bytes += (unsigned)fprintf(stdio_file, fmt, __VA_ARGS__)) : (void)0)
#define WL(name) wl_##name##_stdio
#include "mix.h"
