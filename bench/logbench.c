/*
 * logbench.c - what a log call costs, as text and as logpack, in one
 * process. Rounds of each method alternate (the starting method rotates
 * every repetition), so that machine noise hits all methods alike; each
 * round's time divided by its calls is one sample (wall clock, and CPU
 * time of the calling thread), and the report takes the median.
 *
 *   logbench [-n CALLS_PER_ROUND] [-r REPS] [-o OUTDIR]
 *
 * Writes OUTDIR/raw.tsv (samples, bytes per record, logpack record counts)
 * for bench/report, and the logs themselves: OUTDIR/{a,b}.text.log,
 * {a,b}.stdio.log and, when built with logpack, {a,b}.lpk.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#ifdef WITH_LOGPACK
#include "logpack.h"
#endif

unsigned long long lp_fallback_calls;

void lp_log(unsigned int level, const char *fmt, ...)
{
	/* Only reached if a call was not rewritten, or not recorded (lp.c is
	 * built with --text-level 0: no call is also printed as text). */
	(void)level;
	(void)fmt;
	lp_fallback_calls++;
}

enum { M_TEXT, M_STDIO, M_LOGPACK, M_FLOOR, NR_METHODS };

struct method {
	const char *name;
	workload_fn *wl[2];
	unsigned long long calls[2];
	int enabled;
};

static struct method methods[NR_METHODS] = {
	[M_TEXT] = { "criu-text", { wl_a_text, wl_b_text }, { 0, 0 }, 1 },
	[M_STDIO] = { "fprintf", { wl_a_stdio, wl_b_stdio }, { 0, 0 }, 1 },
	[M_LOGPACK] = { "logpack", { wl_a_logpack, wl_b_logpack }, { 0, 0 }, 0 },
	[M_FLOOR] = { "ram-floor", { wl_a_floor, wl_b_floor }, { 0, 0 }, 1 },
};

static const char *const workload_names[2] = { "a", "b" };

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* CPU time of the calling thread, system calls included: what a call costs
 * when the thread is not preempted, the steadier figure on a busy machine
 * (as in runtime/bench/emitbench.c). */
static double cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static uint32_t get_u32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/*
 * Bytes a logpack log really uses (chunk headers, descriptors and records,
 * not the preallocated zeros) and its number of log records, by walking
 * the chunks as docs/FORMAT.md lays them out.
 */
static __attribute__((unused)) int lpk_usage(const char *path, unsigned long long *used, unsigned long long *records)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf;
	long size;
	uint64_t tail = 0;
	size_t off;

	*used = *records = 0;
	if (!f)
		return -1;
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc(size > 0 ? (size_t)size : 1);
	if (!buf || size < 4096 || fread(buf, 1, (size_t)size, f) != (size_t)size) {
		free(buf);
		fclose(f);
		return -1;
	}
	fclose(f);
	memcpy(&tail, buf + 72, 8);
	if (tail > (uint64_t)size)
		tail = (uint64_t)size;
	for (off = 4096; off + 40 <= tail; ) {
		uint32_t csize = get_u32(buf + off + 4);
		size_t r, end;

		if (memcmp(buf + off, "LPCK", 4) || csize == 0 || csize % 4096 || off + csize > tail) {
			off += 4096; /* not a chunk: skip to the next boundary */
			continue;
		}
		end = off + csize;
		for (r = off + 40; r < end && buf[r]; ) {
			size_t len = buf[r], hdr = 1;

			if (len == 255) {
				if (r + 3 > end)
					break;
				len = (size_t)buf[r + 1] | (size_t)buf[r + 2] << 8;
				hdr = 3;
			}
			if (r + hdr + len > end)
				break;
			/* The tag's first byte: 16 and up, or a varint of two bytes and more. */
			if (buf[r + hdr] >= 16)
				(*records)++;
			r += hdr + len;
		}
		*used += 40 + (r - (off + 40));
		off = end;
	}
	free(buf);
	return 0;
}

/*
 * What the building blocks cost on this machine, for reading the table:
 * a TSC read, a vDSO clock read, and a 64-byte write(2) to a file.
 */
static void reference_costs(FILE *raw, const char *outdir, int reps)
{
	char path[4096], line[64];
	int r, fd;

	memset(line, 'x', sizeof(line));
	line[sizeof(line) - 1] = '\n';
	snprintf(path, sizeof(path), "%s/ref.write.log", outdir);
	fd = open(path, O_CREAT | O_TRUNC | O_WRONLY | O_APPEND, 0644);
	for (r = 0; r < reps; r++) {
		const unsigned long n = 100000;
		volatile unsigned long long sink = 0;
		struct timespec ts;
		unsigned long i;
		double t0, t1;

		t0 = now_ns();
		for (i = 0; i < n; i++)
			sink += __builtin_ia32_rdtsc();
		t1 = now_ns();
		fprintf(raw, "ref\trdtsc\t%d\t%.2f\n", r, (t1 - t0) / (double)n);

		t0 = now_ns();
		for (i = 0; i < n; i++) {
			clock_gettime(CLOCK_MONOTONIC, &ts);
			sink += (unsigned long long)ts.tv_nsec;
		}
		t1 = now_ns();
		fprintf(raw, "ref\tclock_gettime\t%d\t%.2f\n", r, (t1 - t0) / (double)n);

		if (fd >= 0) {
			t0 = now_ns();
			for (i = 0; i < n / 20; i++)
				if (write(fd, line, sizeof(line)) < 0)
					break;
			t1 = now_ns();
			fprintf(raw, "ref\twrite\t%d\t%.2f\n", r, (t1 - t0) / (double)(n / 20));
		}
		(void)sink;
	}
	if (fd >= 0)
		close(fd);
	unlink(path);
}

static void usage(void)
{
	fprintf(stderr, "usage: logbench [-n CALLS_PER_ROUND] [-r REPS] [-o OUTDIR]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	unsigned long n = 20000;
	int reps = 15, opt, w, r, m;
	const char *outdir = "bench/out";
	char path[4096];
	FILE *raw;

	while ((opt = getopt(argc, argv, "n:r:o:")) != -1) {
		switch (opt) {
		case 'n': n = strtoul(optarg, NULL, 10); break;
		case 'r': reps = atoi(optarg); break;
		case 'o': outdir = optarg; break;
		default: usage();
		}
	}
	if (n == 0 || reps < 1)
		usage();
#ifdef WITH_LOGPACK
	methods[M_LOGPACK].enabled = 1;
#endif
	if (floor_init()) {
		perror("logbench: floor buffer");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/raw.tsv", outdir);
	raw = fopen(path, "w");
	if (!raw) {
		fprintf(stderr, "logbench: %s: %s\n", path, strerror(errno));
		return 1;
	}
	fprintf(raw, "# calls_per_round\t%lu\n# reps\t%d\n", n, reps);
	reference_costs(raw, outdir, reps);

	for (w = 0; w < 2; w++) {
		double samples[NR_METHODS][reps];
		unsigned long long bytes0[NR_METHODS];
		int fd;

		snprintf(path, sizeof(path), "%s/%s.text.log", outdir, workload_names[w]);
		fd = open(path, O_CREAT | O_TRUNC | O_WRONLY | O_APPEND, 0644);
		if (fd < 0) {
			fprintf(stderr, "logbench: %s: %s\n", path, strerror(errno));
			return 1;
		}
		text_init(fd);
		snprintf(path, sizeof(path), "%s/%s.stdio.log", outdir, workload_names[w]);
		stdio_file = fopen(path, "w");
		if (!stdio_file) {
			fprintf(stderr, "logbench: %s: %s\n", path, strerror(errno));
			return 1;
		}
#ifdef WITH_LOGPACK
		snprintf(path, sizeof(path), "%s/%s.lpk", outdir, workload_names[w]);
		unlink(path);
		if (logpack_open(path, 0)) {
			fprintf(stderr, "logbench: logpack_open %s: %s\n", path, strerror(errno));
			return 1;
		}
#endif
		text_bytes = stdio_bytes = floor_bytes = 0;
		lp_fallback_calls = 0;
		memset(bytes0, 0, sizeof(bytes0));

		/* One warm-up round each: page faults, caches, first-use descriptors. */
		for (m = 0; m < NR_METHODS; m++) {
			if (!methods[m].enabled)
				continue;
			methods[m].wl[w](n / 4);
			methods[m].calls[w] += n / 4;
		}
		for (r = 0; r < reps; r++) {
			int k;

			for (k = 0; k < NR_METHODS; k++) {
				double t0, t1, c0, c1;

				m = (r + k) % NR_METHODS;
				if (!methods[m].enabled)
					continue;
				c0 = cpu_ns();
				t0 = now_ns();
				methods[m].wl[w](n);
				t1 = now_ns();
				c1 = cpu_ns();
				methods[m].calls[w] += n;
				samples[m][r] = (t1 - t0) / (double)n;
				fprintf(raw, "sample\t%s\t%s\t%d\t%.2f\n", workload_names[w], methods[m].name, r,
					samples[m][r]);
				fprintf(raw, "cpu\t%s\t%s\t%d\t%.2f\n", workload_names[w], methods[m].name, r,
					(c1 - c0) / (double)n);
			}
		}
		fflush(stdio_file);
		fclose(stdio_file);
		close(fd);

		fprintf(raw, "bytes\t%s\t%s\t%.2f\n", workload_names[w], methods[M_TEXT].name,
			(double)text_bytes / (double)methods[M_TEXT].calls[w]);
		fprintf(raw, "bytes\t%s\t%s\t%.2f\n", workload_names[w], methods[M_STDIO].name,
			(double)stdio_bytes / (double)methods[M_STDIO].calls[w]);
		fprintf(raw, "bytes\t%s\t%s\t%.2f\n", workload_names[w], methods[M_FLOOR].name,
			(double)floor_bytes / (double)methods[M_FLOOR].calls[w]);
#ifdef WITH_LOGPACK
		logpack_close();
		if (lp_fallback_calls) {
			fprintf(stderr, "logbench: %llu logpack calls were not recorded (not rewritten?)\n",
				lp_fallback_calls);
			return 1;
		}
		{
			unsigned long long used, records;

			snprintf(path, sizeof(path), "%s/%s.lpk", outdir, workload_names[w]);
			if (lpk_usage(path, &used, &records) || records == 0) {
				fprintf(stderr, "logbench: %s: no records found\n", path);
				return 1;
			}
			if (records != methods[M_LOGPACK].calls[w])
				fprintf(stderr, "logbench: %s: %llu records for %llu calls\n", path, records,
					methods[M_LOGPACK].calls[w]);
			fprintf(raw, "bytes\t%s\t%s\t%.2f\n", workload_names[w], methods[M_LOGPACK].name,
				(double)used / (double)records);
			fprintf(raw, "records\t%s\t%s\t%llu\t%s\n", workload_names[w], methods[M_LOGPACK].name,
				records, path);
		}
#endif
		for (m = 0; m < NR_METHODS; m++) {
			if (!methods[m].enabled)
				continue;
			qsort(samples[m], (size_t)reps, sizeof(double), cmp_double);
			fprintf(stderr, "  %s %-10s %9.1f ns/call (median of %d)\n", workload_names[w], methods[m].name,
				samples[m][reps / 2], reps);
		}
	}
	fclose(raw);
	return 0;
}
