package corpus

// The fixed files of the tree. log.h and log.c follow CRIU's logging as
// described in CRIU-LOGGING.md: one sink, print_on_level, and the pr_*
// macros over it.

const logH = `#ifndef CORPUS_LOG_H__
#define CORPUS_LOG_H__

#ifndef CR_NOGLIBC
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#endif

#define LOG_UNSET	(-1)
#define LOG_MSG		0 /* user message: stdout, no prefix */
#define LOG_ERROR	1
#define LOG_WARN	2
#define LOG_INFO	3
#define LOG_DEBUG	4
#define DEFAULT_LOGLEVEL LOG_WARN

#ifndef LOG_PREFIX
#define LOG_PREFIX
#endif

#ifdef CR_NOGLIBC
/* Code without glibc has its own tiny printf and writes raw lines. */
#define print_on_level pie_print_on_level
#endif

extern void print_on_level(unsigned int loglevel, const char *format, ...)
	__attribute__((__format__(__printf__, 2, 3)));

#define print_once(loglevel, fmt, ...)					\
	do {								\
		static int __print_once;				\
		if (!__print_once) {					\
			print_on_level(loglevel, fmt, ##__VA_ARGS__);	\
			__print_once = 1;				\
		}							\
	} while (0)

#define pr_msg(fmt, ...) print_on_level(LOG_MSG, fmt, ##__VA_ARGS__)
#define pr_info(fmt, ...) print_on_level(LOG_INFO, LOG_PREFIX fmt, ##__VA_ARGS__)
#define pr_err(fmt, ...)						\
	print_on_level(LOG_ERROR, "Error (%s:%d): " LOG_PREFIX fmt, __FILE__, __LINE__, ##__VA_ARGS__)
#define pr_err_once(fmt, ...)						\
	print_once(LOG_ERROR, "Error (%s:%d): " LOG_PREFIX fmt, __FILE__, __LINE__, ##__VA_ARGS__)
#define pr_warn(fmt, ...)						\
	print_on_level(LOG_WARN, "Warn  (%s:%d): " LOG_PREFIX fmt, __FILE__, __LINE__, ##__VA_ARGS__)
#define pr_warn_once(fmt, ...)						\
	print_once(LOG_WARN, "Warn  (%s:%d): " LOG_PREFIX fmt, __FILE__, __LINE__, ##__VA_ARGS__)
#define pr_debug(fmt, ...) print_on_level(LOG_DEBUG, LOG_PREFIX fmt, ##__VA_ARGS__)
#define pr_perror(fmt, ...) pr_err(fmt ": %s\n", ##__VA_ARGS__, strerror(errno))
#define pr_pwarn(fmt, ...) pr_warn(fmt ": %s\n", ##__VA_ARGS__, strerror(errno))

#endif /* CORPUS_LOG_H__ */
`

const logC = `#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static int log_fd = STDERR_FILENO;
static unsigned int current_loglevel = DEFAULT_LOGLEVEL;
static int log_ts = 1;
static char log_prefix[16];
static struct timespec log_start;

int log_init(const char *path, unsigned int level, int ts);
int log_get_fd(void);
int log_init_by_pid(int pid);

int log_init(const char *path, unsigned int level, int ts)
{
	current_loglevel = level;
	log_ts = ts;
	clock_gettime(CLOCK_MONOTONIC, &log_start);
	if (path) {
		int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);

		if (fd < 0)
			return -1;
		log_fd = fd;
	}
	return 0;
}

int log_get_fd(void)
{
	return log_fd;
}

/* A forked task prefixes its lines with its (virtual) pid, as CRIU's restored tasks do. */
int log_init_by_pid(int pid)
{
	snprintf(log_prefix, sizeof(log_prefix), "%6d: ", pid);
	return 0;
}

/* "(SS.uuuuuu) ": time since logging started, as CRIU prints it. */
static int print_ts(char *buf, size_t n)
{
	struct timespec now;
	long sec, usec;

	clock_gettime(CLOCK_MONOTONIC, &now);
	sec = now.tv_sec - log_start.tv_sec;
	usec = (now.tv_nsec - log_start.tv_nsec) / 1000;
	if (usec < 0) {
		usec += 1000000;
		sec--;
	}
	return snprintf(buf, n, "(%02ld.%06ld) ", sec, usec);
}

void print_on_level(unsigned int loglevel, const char *format, ...)
{
	static char buffer[8192];
	int fd, off = 0, n, saved_errno = errno;
	va_list params;

	if (loglevel == LOG_MSG) {
		fd = STDOUT_FILENO;
	} else {
		if (loglevel > current_loglevel)
			return;
		fd = log_fd;
		if (log_ts && current_loglevel >= LOG_INFO) {
			off = print_ts(buffer, sizeof(buffer));
			off += snprintf(buffer + off, sizeof(buffer) - off, "%s", log_prefix);
		}
	}
	va_start(params, format);
	n = vsnprintf(buffer + off, sizeof(buffer) - off, format, params);
	va_end(params);
	if (n < 0)
		n = 0;
	if ((size_t)n > sizeof(buffer) - off - 1)
		n = sizeof(buffer) - off - 1;
	if (write(fd, buffer, off + n) < 0)
		n = 0;
	errno = saved_errno;
}
`

const utilH = `#ifndef CORPUS_UTIL_H__
#define CORPUS_UTIL_H__

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

const char *corpus_str(int k);
const char *corpus_str_or_null(int k);
void *corpus_ptr(int k);

#endif
`

const utilC = `#include <stdint.h>

#include "util.h"

static const char *const strs[] = {
	"", "/proc/self/mountinfo", "tmpfs", "eth0", "a b c", "100%", "\"quoted\"",
	"tab\there", "\xc3\xbcnicode", "x", "/dev/null", "pipe:[12345]", "socket:[987]",
	"anon_inode:[eventpoll]", "/usr/lib/x86_64-linux-gnu/libc.so.6",
	"a rather long string that goes on for a while to make the record longer than most of the others in the log",
};

const char *corpus_str(int k)
{
	return strs[(unsigned int)k % (sizeof(strs) / sizeof(strs[0]))];
}

const char *corpus_str_or_null(int k)
{
	if ((unsigned int)k % 3 == 0)
		return NULL;
	return corpus_str(k);
}

void *corpus_ptr(int k)
{
	if ((unsigned int)k % 5 == 0)
		return NULL;
	return (void *)(uintptr_t)(0x7f0000000000UL + (unsigned long)(unsigned int)k * 4096UL);
}
`

const asmAnswerH = `#ifndef CORPUS_ASM_ANSWER_H__
#define CORPUS_ASM_ANSWER_H__
#ifdef __ASSEMBLY__
#define ANSWER 42
#else
int corpus_asm_answer(void);
#endif
#endif
`

const answerS = `#include "asm-answer.h"

	.text
	.globl	corpus_asm_answer
	.type	corpus_asm_answer, @function
corpus_asm_answer:
	movl	$ANSWER, %eax
	ret
	.size	corpus_asm_answer, .-corpus_asm_answer
	.section .note.GNU-stack,"",@progbits
`

const libC = `/* A client library: no log calls of its own. */
int corpus_lib_answer(void);

int corpus_lib_answer(void)
{
	return 42;
}
`

// versionC is copied by make into criu/version.c (a generated source),
// which is compiled twice: into the program and into the library.
const versionC = `#include "log.h"

#ifndef CORPUS_VERSION
#define CORPUS_VERSION "0.0"
#endif

const char *corpus_version(void);

const char *corpus_version(void)
{
	pr_debug("version " CORPUS_VERSION " built for %s\n", SYSCONFDIR);
	return CORPUS_VERSION;
}
`

const mainHead = `/* main.c: runs every call site of the corpus with deterministic values. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "util.h"
#include "asm-answer.h"

#ifndef CONFIG_HAS_PROBE
#error "the feature probe failed"
#endif

int log_init(const char *path, unsigned int level, int ts);
int log_get_fd(void);
int log_init_by_pid(int pid);
const char *corpus_version(void);
void pie_setup(int fd);
void pie_run(int a);

`

const mainBody1 = `
int main(int argc, char **argv)
{
	const char *log_file = NULL;
	unsigned int level = DEFAULT_LOGLEVEL;
	int ts = 1, i, ret = 0, status;
	pid_t pid;

	for (i = 1; i < argc; i++) {
		if (!strncmp(argv[i], "-v", 2))
			level = argv[i][2] ? (unsigned int)atoi(argv[i] + 2) : LOG_INFO;
		else if (!strcmp(argv[i], "--log-file") && i + 1 < argc)
			log_file = argv[++i];
		else if (!strcmp(argv[i], "--no-ts"))
			ts = 0;
		else {
			fprintf(stderr, "usage: %s [-vN] [--log-file FILE] [--no-ts]\n", argv[0]);
			return 2;
		}
	}
	if (log_init(log_file, level, ts)) {
		perror("log_init");
		return 1;
	}
	pr_msg("corpus: logging at level %u\n", level);
	pr_info("sysconfdir %s, version %s\n", SYSCONFDIR, corpus_version());
	pr_info("asm answer %d\n", corpus_asm_answer());

`

const mainBody2 = `
	/* A forked task logs into the same log, with the line prefix it sets
	 * (log_init_by_pid; CRIU's restored tasks pass their pid). */
	pid = fork();
	if (pid == 0) {
		log_init_by_pid(5);
		CHILD_RUN;
		exit(0);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status)) {
		fprintf(stderr, "child %d failed\n", (int)pid);
		return 1;
	}

	/* The no-glibc code writes raw lines into the same log, last. */
	pie_setup(log_get_fd());
	pie_run(7);
	pr_msg("corpus: done (%d)\n", ret);
	return 0;
}
`

// Call sites of main.c: two pr_info and the log_init_by_pid prefix site
// (plus the version unit's pr_debug, counted apart) and two pr_msg.
const (
	mainSites     = 3
	mainTextSites = 2
)

const pieHead = `/* parasite.c: code that runs without glibc (-DCR_NOGLIBC -ffreestanding -nostdlib). */
#include <stddef.h>

#include "log.h"

#undef LOG_PREFIX
#define LOG_PREFIX "pie: "

void pie_run(int a);

`

const pieLogC = `/* log-simple.c: the no-glibc printf: %s %d %x %p %u with l/ll/z only. */
#include <stdarg.h>
#include <stddef.h>

#include "log.h"

void pie_setup(int fd);

static int pie_fd = -1;

void pie_setup(int fd)
{
	pie_fd = fd;
}

static long sys_write(int fd, const void *buf, unsigned long n)
{
	long ret;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "0"(1L), "D"((long)fd), "S"(buf), "d"(n)
			 : "rcx", "r11", "memory");
	return ret;
}

static char *put_str(char *p, char *end, const char *s)
{
	if (!s)
		s = "(null)";
	while (*s && p < end)
		*p++ = *s++;
	return p;
}

static char *put_num(char *p, char *end, unsigned long long v, unsigned int base, int neg)
{
	char tmp[24];
	int n = 0;

	do {
		tmp[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	if (neg && p < end)
		*p++ = '-';
	while (n > 0 && p < end)
		*p++ = tmp[--n];
	return p;
}

void print_on_level(unsigned int loglevel, const char *fmt, ...)
{
	char buf[1024], *p = buf, *end = buf + sizeof(buf);
	va_list ap;

	(void)loglevel;
	va_start(ap, fmt);
	while (*fmt && p < end) {
		int l = 0;

		if (*fmt != '%') {
			*p++ = *fmt++;
			continue;
		}
		fmt++;
		while (*fmt == 'l') {
			l++;
			fmt++;
		}
		if (*fmt == 'z') {
			l = 1;
			fmt++;
		}
		switch (*fmt) {
		case 's':
			p = put_str(p, end, va_arg(ap, const char *));
			break;
		case 'd': {
			long long v = l >= 2 ? va_arg(ap, long long) : l ? va_arg(ap, long) : va_arg(ap, int);

			p = put_num(p, end, v < 0 ? -(unsigned long long)v : (unsigned long long)v, 10, v < 0);
			break;
		}
		case 'u':
		case 'x': {
			unsigned long long v = l >= 2 ? va_arg(ap, unsigned long long) :
					   l ? va_arg(ap, unsigned long) : va_arg(ap, unsigned int);

			p = put_num(p, end, v, *fmt == 'x' ? 16 : 10, 0);
			break;
		}
		case 'p':
			p = put_str(p, end, "0x");
			p = put_num(p, end, (unsigned long)va_arg(ap, void *), 16, 0);
			break;
		default:
			*p++ = '%';
			if (*fmt && p < end)
				*p++ = *fmt;
		}
		if (*fmt)
			fmt++;
	}
	va_end(ap);
	if (pie_fd >= 0)
		sys_write(pie_fd, buf, p - buf);
}
`

const makefile = `# A CRIU-like tree, generated by logpack's internal/corpus.
#   make [-jN] [CC="logpack cc --preset criu -- gcc"] [WERROR=0] [USERCFLAGS=...]
ifeq ($(origin CC),default)
CC := gcc
endif
LD := ld

WARNINGS := -Wall -Wformat-security -Wdeclaration-after-statement -Wstrict-prototypes -Wimplicit-fallthrough
ifneq ($(WERROR),0)
WARNINGS += -Werror
endif
DEFINES := -D_FILE_OFFSET_BITS=64 -D_GNU_SOURCE -DCONFIG_X86_64 -DSYSCONFDIR='"/etc/corpus"' -DCORPUS_VERSION='"1.0"'

# Feature probes: compiled from stdin while make parses, as CRIU does.
PROBE_C := $(shell echo 'int main(void) { return 0; }' | $(CC) $(WARNINGS) -x c - -o /dev/null >/dev/null 2>&1 && echo y)
ifeq ($(PROBE_C),y)
DEFINES += -DCONFIG_HAS_PROBE
endif
PROBE_ASM := $(shell echo 'nop' | $(CC) -x assembler-with-cpp - -c -o /dev/null >/dev/null 2>&1 && echo y)
ifneq ($(PROBE_ASM),y)
$(error the assembler probe failed)
endif

CFLAGS := -O2 -g $(WARNINGS) $(USERCFLAGS)
CPPFLAGS := -iquote include $(DEFINES)
PIE_CFLAGS := -O2 -g $(WARNINGS) -DCR_NOGLIBC -ffreestanding -fno-stack-protector -nostdlib -fpie

SRCS := $(sort $(filter-out criu/version.c,$(wildcard criu/*.c))) criu/version.c
OBJS := $(SRCS:.c=.o)
DEPS := $(SRCS:.c=.d)
PIE_OBJS := $(patsubst %.c,%.o,$(sort $(wildcard criu/pie/*.c)))

all: criu/criu lib/libcorpus.so plugins/demo/demo.so

.PHONY: all clean

criu/version.c: criu/version.c.in
	cp $< $@

# The separate dependency pass.
criu/%.d: criu/%.c
	$(CC) -M -MT $@ -MT $(@:.d=.o) $(CPPFLAGS) $< -o $@

criu/%.o: criu/%.c
	$(CC) -c $(CFLAGS) $(CPPFLAGS) $< -o $@

criu/pie/%.o: criu/pie/%.c
	$(CC) -c $(PIE_CFLAGS) $(CPPFLAGS) $< -o $@

criu/arch/x86/%.o: criu/arch/x86/%.S
	$(CC) -c -D__ASSEMBLY__ $(CPPFLAGS) $< -o $@

criu/built-in.o: $(OBJS)
	$(LD) -r -o $@ $^

criu/pie/built-in.o: $(PIE_OBJS)
	$(LD) -r -o $@ $^

criu/criu: criu/built-in.o criu/pie/built-in.o criu/arch/x86/answer.o
	$(CC) $(LDFLAGS) -o $@ $^

lib/%.o: lib/%.c
	$(CC) -c -fPIC $(CFLAGS) $(CPPFLAGS) $< -o $@

# The generated source, compiled a second time.
lib/version.o: criu/version.c
	$(CC) -c -fPIC $(CFLAGS) $(CPPFLAGS) $< -o $@

lib/libcorpus.so: lib/corpus-lib.o lib/version.o
	$(CC) -shared $(LDFLAGS) -o $@ $^

# A plugin compiled and linked in one step, from its own directory.
plugins/demo/demo.so: plugins/demo/demo-plugin.c include/log.h include/util.h
	cd plugins/demo && $(CC) $(CFLAGS) -iquote ../../include $(DEFINES) -shared -fPIC -o demo.so demo-plugin.c

clean:
	rm -f criu/*.o criu/*.d criu/pie/*.o criu/arch/x86/*.o lib/*.o lib/*.so plugins/demo/*.so criu/criu criu/version.c

ifeq ($(filter clean,$(MAKECMDGOALS)),)
-include $(DEPS)
endif
`
