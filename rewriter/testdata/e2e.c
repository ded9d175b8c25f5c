/* e2e.c - log calls of every shape the rewriter handles, run as text and
 * as binary records. Level 0 lines start with "USER:" (they stay text). */
#include <stdio.h>
#include <stdlib.h>
#include <stdarg.h>
#include <stdint.h>
#include <stddef.h>

#undef LOG_PREFIX
#define LOG_PREFIX "e2e: "
#include "log.h"

void print_on_level(unsigned int loglevel, const char *format, ...)
{
	va_list ap;

	/* E2E_LEVELS=1: each message after its level, for the test to know
	 * which ones print as text while binary logging is on. */
	if (getenv("E2E_LEVELS"))
		printf("<%u>", loglevel);
	va_start(ap, format);
	vprintf(format, ap);
	va_end(ap);
}

static int counter;
static const char *volatile nul; /* NULL, hidden from gcc's checks */
static int next(void) { return ++counter; }
static int bump(int *k) { return ++*k; }
/* s, after a failing call that sets errno */
static const char *failing(const char *s) { errno = EBADF; return s; }
static int level_calls;
static unsigned int debug_level(void) { level_calls++; return LOG_DEBUG; }
static unsigned int (*level_of)(void) = debug_level;
static void callback(int x) { (void)x; }
/* __func__ in a function that returns a function pointer */
static void (*callback_of(int x))(int)
{
	pr_info("%s: %d\n", __func__, x);
	return callback;
}

static void shapes(int n, const char *s)
{
	int i;
	long double ld = 1.25L;
	uint64_t big = 0xfedcba9876543210ull;

	pr_info("plain %d %s\n", n, s);
	/* C leaves the order of argument evaluation unspecified; the rewritten
	 * call evaluates them in the order the compiler evaluates the
	 * original's (gcc: the last first). */
	pr_debug("side effects %d %d\n", n++, next());
	pr_debug("order %d %d %d\n", n, bump(&n), n);
	/* the error of the call, not of the argument evaluated after it */
	errno = ENOENT;
	pr_err("Can't open %s: %s\n", failing(s), strerror(errno));
	/* a level read through a pointer is a call: once per log call */
	print_on_level((*level_of)(), "level through a pointer\n");
	pr_info("level calls %d\n", level_calls);
	callback_of(n)(n);
	if (n > 3)
		pr_warn("unbraced %d\n", n);
	else
		pr_err("else branch %d\n", n);
	for (i = 0; i < 3; i++)
		pr_debug("loop %d\n", i);
	errno = ENOENT;
	pr_perror("Can't open %s", s);
	errno = EACCES;
	print_on_level(LOG_ERROR, "percent m: %m|%-30m|%5.4m|\n");
	pr_info("strerror: %s|%-30s|\n", strerror(errno), strerror(errno));
	pr_info("%.*s|%*d|%-*s|\n", 3, s, 6, n, 5, "ab");
	pr_info("floats %f %e %g %a %Lf %La\n", 3.5, 1e10, 0.0001, 1.0, ld, ld);
	pr_info("hex %" PRIx64 " %#lx %#o %hhd %hd %c\n", big, 255ul, 8u, 300, 70000, 'x');
	pr_info("null %s %p %p %.3s|\n", nul, (void *)0, (void *)0x1234, nul);
	pr_info("folded %s %d %5s %x\n", "lit", 42, "pad", 255);
	pr_info("%s in %s\n", "func", __func__);
	pr_msg("USER: a user message %d\n", n);
	for (i = 0; i < 3; i++)
		print_on_level(i % 2 ? 3 : 0, "%s runtime level %d\n", i % 2 ? "LOG:" : "USER:", i);
	for (i = 0; i < 3; i++)
		pr_warn_once("once %d\n", i);
	pr_info("counter %d\n", counter);
	pr_info("adjacent " "literals " "%s\n", "ok");
	pr_info("100%% done\n");
	pr_info("positional %2$s %1$d\n", 7, "seven");
}

int main(void)
{
	shapes(3, "abcdef");
	shapes(4, "xyz");
	return 0;
}
