/*
 * emitbench.c - what one log call costs, three ways, in one run:
 *
 *   logpack  the rewritten call (its signature's encoder, as logpack cc
 *            emits it) into a crash-safe log file, TSC timestamps on,
 *            sustained over many calls
 *   generic  the same through logpack_emit with an argument array (what
 *            logpack rewrite emits in source mode)
 *   text     CRIU's way: timestamp prefix + vsnprintf + one write(2) per
 *            message to a file
 *   floor    a hand-written encoder of the same record into RAM with an
 *            rdtsc timestamp: the lower bound for any binary logger
 *
 * on "Some message %s %s %c %li %d %lu\n". Each is repeated and the median
 * repetition reported, with bytes per record.
 *
 * Build: gcc -O2 -I runtime/c -I runtime/bench runtime/bench/emitbench.c runtime/bench/bench_enc.c
 * (bench_enc.c is the runtime with the encoder the call needs.)
 * Usage: emitbench [-n CALLS] [-t TEXT_CALLS] [-r REPS] [-d DIR] [-k] [MODE...]
 * (-k keeps the last logpack log as DIR/emitbench.lpk, for the decoder.)
 * Output: one line per mode, "MODE ns/call=MEDIAN min=MIN cpu=C proccpu=P sys=S
 * bytes/record=Y reps=a,b,c": wall-clock median and minimum over the
 * repetitions, the median CPU time of the calling thread (what a call costs
 * when not preempted: the better figure on a busy machine), of the whole
 * process, and the thread's system time (rusage), all in ns per call. For
 * the file modes, bytes/record counts the
 * log's size on disk after the run (st_blocks), file_ratio its size against
 * its record bytes; for logpack, faults/MiB counts the calling thread's
 * page faults per MiB of log.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>

#include "logpack.h"
#include "bench_site.h"

static double clock_of(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* Wall time, and the CPU time of this thread and of the whole process (a
 * prefault thread included): on a shared machine the thread's CPU time is
 * what a call costs when the logging thread is not preempted. */
struct stamp {
	double wall, thread, proc, sys, faults;
};

static struct stamp now(void)
{
	/* The thread's system time: what the kernel spent for it (page
	 * faults, the file's growth), apart from the encoding. */
	struct rusage ru;
	getrusage(RUSAGE_THREAD, &ru);
	return (struct stamp){clock_of(CLOCK_MONOTONIC), clock_of(CLOCK_THREAD_CPUTIME_ID),
			      clock_of(CLOCK_PROCESS_CPUTIME_ID),
			      ru.ru_stime.tv_sec * 1e9 + ru.ru_stime.tv_usec * 1e3, (double)(ru.ru_minflt + ru.ru_majflt)};
}

/* ---- CRIU-style text ---- */

static int text_fd = -1;
static char text_buf[8192];
static struct timeval text_start;
static unsigned long long text_bytes;

static void __attribute__((format(printf, 2, 3))) text_log(unsigned level, const char *fmt, ...)
{
	struct timeval now, d;
	va_list ap;
	(void)level;
	gettimeofday(&now, NULL);
	timersub(&now, &text_start, &d);
	int off = snprintf(text_buf, sizeof text_buf, "(%02u.%06u) ", (unsigned)d.tv_sec, (unsigned)d.tv_usec);
	va_start(ap, fmt);
	int n = vsnprintf(text_buf + off, sizeof text_buf - off, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof text_buf - off - 1)
		n = (int)sizeof text_buf - off - 1;
	if (write(text_fd, text_buf, off + n) > 0)
		text_bytes += off + n;
}

/* ---- the in-RAM floor ----
 *
 * The same record bytes as logpack writes, from code that knows the
 * record's layout at compile time: no site, no class list, no room or
 * clock checks, no thread state, a buffer that is always mapped and warm.
 * Each step uses the cheapest way known (unrolled varints, an inline
 * strlen over aligned 16-byte blocks, copies without calls), so that the
 * distance from logpack to it is what logpack's generality costs. */

static unsigned char *floor_buf, *floor_pos, *floor_end;
static uint64_t floor_last;
static unsigned long long floor_bytes;

static inline __attribute__((always_inline)) unsigned char *uv(unsigned char *p, uint64_t v)
{
	if (v < 0x80) {
		p[0] = (unsigned char)v;
		return p + 1;
	}
	p[0] = (unsigned char)(v | 0x80);
	if (v < (1u << 14)) {
		p[1] = (unsigned char)(v >> 7);
		return p + 2;
	}
	p[1] = (unsigned char)(v >> 7 | 0x80);
	if (v < (1u << 21)) {
		p[2] = (unsigned char)(v >> 14);
		return p + 3;
	}
	p += 2;
	v >>= 14;
	while (v >= 0x80) {
		*p++ = (unsigned char)(v | 0x80);
		v >>= 7;
	}
	*p++ = (unsigned char)v;
	return p;
}

static inline __attribute__((always_inline)) size_t floor_strlen(const char *s)
{
	const __m128i *b = (const __m128i *)((uintptr_t)s & ~(uintptr_t)15);
	unsigned off = (unsigned)((uintptr_t)s & 15);
	unsigned m = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_load_si128(b), _mm_setzero_si128())) >> off;
	if (m)
		return (size_t)__builtin_ctz(m);
	m = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_load_si128(b + 1), _mm_setzero_si128()));
	if (m)
		return 16 - off + (size_t)__builtin_ctz(m);
	return strlen(s);
}

static inline __attribute__((always_inline)) unsigned char *str(unsigned char *p, const char *s)
{
	size_t n = floor_strlen(s);
	p = uv(p, n + 1);
	if (n >= 8 && n <= 16) {
		memcpy(p, s, 8);
		memcpy(p + n - 8, s + n - 8, 8);
	} else if (n >= 4 && n < 8) {
		memcpy(p, s, 4);
		memcpy(p + n - 4, s + n - 4, 4);
	} else {
		memcpy(p, s, n);
	}
	return p + n;
}

static inline void floor_log(const char *a, const char *b, int c, long d, int e, unsigned long f)
{
	unsigned char *rec = floor_pos, *p = rec + 1;
	uint64_t ts = __rdtsc();
	if (__builtin_expect(floor_end - rec < 512, 0)) {
		/* A ring: the buffer stays in mapped, warm pages. */
		floor_bytes += (unsigned long long)(rec - floor_buf);
		rec = floor_buf;
		p = rec + 1;
	}
	*p++ = 16; /* the site index */
	p = uv(p, ts - floor_last);
	floor_last = ts;
	p = str(p, a);
	p = str(p, b);
	p = uv(p, ((uint64_t)c << 1) ^ (uint64_t)(c >> 31));
	p = uv(p, ((uint64_t)d << 1) ^ (uint64_t)(d >> 63));
	p = uv(p, ((uint64_t)e << 1) ^ (uint64_t)(e >> 31));
	p = uv(p, f);
	*rec = (unsigned char)(p - rec - 1);
	floor_pos = p;
}

/* ---- the call sites ---- */

/* Arguments vary per call as they would in a program; the strings are
 * those of the NanoLog benchmark message. */
static const char *volatile s1 = "string1", *volatile s2 = "string2";

static void __attribute__((noinline)) run_logpack(long n)
{
	for (long i = 0; i < n; i++)
		(logpack_on() ? logpack_enc_sszzzu(&logpack_site_bench, s1, s2, (int)'x', (long)i, (int)(i & 1023),
						   (unsigned long)(i * 3))
			      : (void)text_log(3, "Some message %s %s %c %li %d %lu\n", s1, s2, 'x', i, (int)(i & 1023),
					       (unsigned long)(i * 3)));
}

static void __attribute__((noinline)) run_generic(long n)
{
	for (long i = 0; i < n; i++)
		(logpack_on()
			 ? logpack_emit(&logpack_site_bench,
					(const union logpack_arg[]){{.p = (const void *)(s1)},
								    {.p = (const void *)(s2)},
								    {.i = (int)('x')},
								    {.i = (long)(i)},
								    {.i = (int)(i & 1023)},
								    {.u = (unsigned long)(i * 3)}})
			 : (void)text_log(3, "Some message %s %s %c %li %d %lu\n", s1, s2, 'x', i, (int)(i & 1023),
					  (unsigned long)(i * 3)));
}

static void __attribute__((noinline)) run_text(long n)
{
	for (long i = 0; i < n; i++)
		text_log(3, "Some message %s %s %c %li %d %lu\n", s1, s2, 'x', i, (int)(i & 1023), (unsigned long)(i * 3));
}

static void __attribute__((noinline)) run_floor(long n)
{
	for (long i = 0; i < n; i++)
		floor_log(s1, s2, 'x', i, (int)(i & 1023), (unsigned long)(i * 3));
}

/* One repetition of the logpack mode, in a child process. */
struct rep {
	struct stamp t0, t1;
	double bytes, records, ratio;
};

static int keep_log;

static int rep_logpack(const char *dir, long calls, struct rep *out, void (*run)(long))
{
	char path[4096];
	snprintf(path, sizeof path, "%s/emitbench.%d.lpk", dir, (int)getpid());
	unlink(path);
	if (logpack_open(path, 0) != 0) {
		perror(path);
		return 1;
	}
	/* The first call describes the site: not what is measured. */
	run(1);
	out->t0 = now();
	run(calls);
	out->t1 = now();
	struct stat st;
	int fd = open(path, O_RDONLY);
	uint64_t tail = 0;
	if (fd >= 0 && pread(fd, &tail, 8, 72) == 8)
		out->records = (double)(tail - 4096);
	if (fd >= 0)
		close(fd);
	int bad = logpack_dropped() || stat(path, &st) != 0;
	if (!bad) {
		out->bytes = (double)st.st_blocks * 512 / (calls + 1);
		out->ratio = (double)st.st_size / out->records;
	}
	if (bad)
		fprintf(stderr, "logpack: %llu records dropped\n", logpack_dropped());
	logpack_close();
	if (keep_log) {
		char kept[4200];
		snprintf(kept, sizeof kept, "%s/emitbench.lpk", dir);
		rename(path, kept);
	} else {
		unlink(path);
	}
	return bad;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(const double *v, int n)
{
	double s[64];
	memcpy(s, v, sizeof s[0] * n);
	qsort(s, n, sizeof s[0], cmp);
	return s[n / 2];
}

static double minimum(const double *v, int n)
{
	double m = v[0];
	for (int i = 1; i < n; i++)
		m = v[i] < m ? v[i] : m;
	return m;
}

int main(int argc, char **argv)
{
	long n = 10000000, tn = 200000;
	int reps = 5, opt;
	const char *dir = "/tmp";
	while ((opt = getopt(argc, argv, "n:t:r:d:k")) != -1) {
		switch (opt) {
		case 'n': n = atol(optarg); break;
		case 't': tn = atol(optarg); break;
		case 'r': reps = atoi(optarg); break;
		case 'd': dir = optarg; break;
		case 'k': keep_log = 1; break;
		default: return 2;
		}
	}
	if (reps < 1 || reps > 64 || n < 1 || tn < 1)
		return 2;
	static const char *all[] = {"logpack", "generic", "text", "floor"};
	char **modes = optind < argc ? argv + optind : (char **)all;
	int nmodes = optind < argc ? argc - optind : 4;
	char path[4096];

	for (int m = 0; m < nmodes; m++) {
		const char *mode = modes[m];
		double t[64], tc[64], pc[64], sc[64], fm[64] = {0};
		double bytes = 0, ratio = 0;
		long calls = strcmp(mode, "text") == 0 ? tn : n;
		for (int r = 0; r < reps; r++) {
			struct stamp t0, t1;
			if (strcmp(mode, "logpack") == 0 || strcmp(mode, "generic") == 0) {
				/* Each repetition in a process of its own, as a program
				 * logs: a closed log stays mapped (another thread may
				 * still be in a log call), so in one process the
				 * repetitions' page cache would pile up and slow the
				 * later ones. */
				struct rep *out = mmap(NULL, sizeof *out, PROT_READ | PROT_WRITE,
						       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
				if (out == MAP_FAILED)
					return 1;
				fflush(stdout);
				pid_t pid = fork();
				if (pid < 0)
					return 1;
				if (pid == 0)
					_exit(rep_logpack(dir, calls, out, mode[0] == 'l' ? run_logpack : run_generic));
				int status;
				if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status))
					return 1;
				t0 = out->t0;
				t1 = out->t1;
				bytes = out->bytes;
				fm[r] = (t1.faults - t0.faults) / (bytes * calls / (1 << 20));
				ratio = out->ratio;
				munmap(out, sizeof *out);
			} else if (strcmp(mode, "text") == 0) {
				snprintf(path, sizeof path, "%s/emitbench.%d.log", dir, (int)getpid());
				text_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
				if (text_fd < 0) {
					perror(path);
					return 1;
				}
				gettimeofday(&text_start, NULL);
				text_bytes = 0;
				t0 = now();
				run_text(calls);
				t1 = now();
				bytes = (double)text_bytes / calls;
				close(text_fd);
				unlink(path);
			} else if (strcmp(mode, "floor") == 0) {
				size_t sz = 64 << 20;
				if (!floor_buf) {
					floor_buf = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
					if (floor_buf == MAP_FAILED)
						return 1;
					floor_end = floor_buf + sz;
				}
				floor_pos = floor_buf;
				floor_bytes = 0;
				t0 = now();
				run_floor(calls);
				t1 = now();
				floor_bytes += (unsigned long long)(floor_pos - floor_buf);
				bytes = (double)floor_bytes / calls;
			} else {
				fprintf(stderr, "unknown mode %s\n", mode);
				return 2;
			}
			t[r] = (t1.wall - t0.wall) / calls;
			tc[r] = (t1.thread - t0.thread) / calls;
			pc[r] = (t1.proc - t0.proc) / calls;
			sc[r] = (t1.sys - t0.sys) / calls;
		}
		printf("%s ns/call=%.2f min=%.2f cpu=%.2f proccpu=%.2f sys=%.2f bytes/record=%.2f", mode,
		       median(t, reps), minimum(t, reps), median(tc, reps), median(pc, reps), median(sc, reps), bytes);
		if (ratio > 0)
			printf(" file_ratio=%.3f faults/MiB=%.1f", ratio, median(fm, reps));
		printf(" reps=");
		for (int r = 0; r < reps; r++)
			printf("%s%.2f", r ? "," : "", t[r]);
		printf("\n");
		fflush(stdout);
	}
	return 0;
}
