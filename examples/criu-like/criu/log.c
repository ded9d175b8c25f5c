/*
 * log.c - the sink every pr_* call ends in, written the way CRIU's works:
 * the level filter is inside the sink (arguments are always evaluated),
 * each message is formatted into one static buffer behind an optional
 * "(SS.uuuuuu) " timestamp and "%6d: " pid prefix, and leaves in a single
 * write(2). errno is preserved across the call.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/time.h>
#include <unistd.h>

#include "log.h"

#define TS_PREFIX_LEN 12 /* "(SS.uuuuuu) " */

static unsigned int current_loglevel = DEFAULT_LOGLEVEL;
static int log_fd = STDERR_FILENO;
static struct timeval start;
static char buffer[8192];
/* Bytes of prefix in front of every message: room for the timestamp, then
 * the pid prefix of a forked task. */
static unsigned int buf_off;

static void reset_buf_off(void)
{
	buf_off = current_loglevel >= LOG_TIMESTAMP ? TS_PREFIX_LEN : 0;
}

void log_set_loglevel(unsigned int level)
{
	current_loglevel = level;
	reset_buf_off();
}

unsigned int log_get_loglevel(void)
{
	return current_loglevel;
}

int log_get_fd(void)
{
	return log_fd;
}

int log_init(const char *output)
{
	gettimeofday(&start, NULL);
	reset_buf_off();
	if (output && output[0] && !(output[0] == '-' && !output[1])) {
		int fd = open(output, O_CREAT | O_TRUNC | O_WRONLY | O_APPEND | O_CLOEXEC, 0600);

		if (fd < 0) {
			pr_perror("Can't create log file %s", output);
			return -1;
		}
		log_fd = fd;
	}
	return 0;
}

void log_fini(void)
{
	if (log_fd > STDERR_FILENO)
		close(log_fd);
	log_fd = STDERR_FILENO;
}

/* Called in every forked task: its lines carry its pid from now on. */
void log_init_by_pid(pid_t pid)
{
	reset_buf_off();
	buf_off += snprintf(buffer + buf_off, sizeof(buffer) - buf_off, "%6d: ", (int)pid);
}

static void print_ts(void)
{
	struct timeval now, d;
	char tmp[TS_PREFIX_LEN + 1];

	gettimeofday(&now, NULL);
	timersub(&now, &start, &d);
	/* Seconds get at least two digits; the prefix is exactly TS_PREFIX_LEN
	 * bytes until the run passes 99 seconds, as in CRIU. */
	snprintf(tmp, sizeof(tmp), "(%02u.%06u) ", (unsigned)d.tv_sec, (unsigned)d.tv_usec);
	memcpy(buffer, tmp, TS_PREFIX_LEN);
}

static void vprint_on_level(unsigned int loglevel, const char *format, va_list params)
{
	int fd, size, ret, off = 0;
	int saved_errno = errno;

	if (loglevel == LOG_MSG) {
		fd = STDOUT_FILENO;
		off = buf_off; /* user messages carry no prefix */
	} else {
		if (loglevel > current_loglevel)
			return;
		fd = log_fd;
		if (current_loglevel >= LOG_TIMESTAMP)
			print_ts();
	}

	size = vsnprintf(buffer + buf_off, sizeof(buffer) - buf_off, format, params);
	if (size < 0)
		size = 0;
	if ((unsigned)size >= sizeof(buffer) - buf_off)
		size = sizeof(buffer) - buf_off - 1;
	size += buf_off;

	while (off < size) {
		ret = write(fd, buffer + off, size - off);
		if (ret <= 0)
			break;
		off += ret;
	}

	errno = saved_errno;
}

void print_on_level(unsigned int loglevel, const char *format, ...)
{
	va_list params;

	va_start(params, format);
	vprint_on_level(loglevel, format, params);
	va_end(params);
}
