/*
 * floor.c - the floor: the least a binary logger can do per call. Each call
 * stores a 16-bit site number, an rdtsc timestamp and its arguments
 * (scalars as 8 bytes, strings as a length byte and the bytes) into a RAM
 * buffer, with no file, no crash safety and no descriptor bookkeeping. The
 * buffer is a 1 MiB ring that stays in the CPU caches, so what is measured
 * is the encoding alone, not this machine's memory bandwidth.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <x86intrin.h>

#include "bench.h"

#define FLOOR_SIZE (1u << 20)

static unsigned char *floor_buf;
static size_t floor_pos;
unsigned long long floor_bytes;

int floor_init(void)
{
	floor_buf = malloc(FLOOR_SIZE);
	if (!floor_buf)
		return -1;
	memset(floor_buf, 0, FLOOR_SIZE); /* fault the pages in now, not while timing */
	return 0;
}

static inline unsigned char *fl_begin(unsigned int site)
{
	unsigned char *p;
	uint64_t t = __rdtsc();

	if (floor_pos > FLOOR_SIZE - 4096)
		floor_pos = 0; /* a ring: old records are overwritten */
	p = floor_buf + floor_pos;
	memcpy(p, &site, 2);
	memcpy(p + 2, &t, 8);
	return p + 10;
}

static inline unsigned char *fl_int(unsigned char *p, long long v)
{
	memcpy(p, &v, 8);
	return p + 8;
}

static inline unsigned char *fl_str(unsigned char *p, const char *s)
{
	size_t n = strlen(s);

	if (n > 255)
		n = 255;
	*p = (unsigned char)n;
	memcpy(p + 1, s, n);
	return p + 1 + n;
}

static inline void fl_end(unsigned char *p)
{
	size_t n = (size_t)(p - (floor_buf + floor_pos));

	floor_pos += n;
	floor_bytes += n;
}

#define FL_ARG(x) p_ = _Generic((x), char *: fl_str, const char *: fl_str, default: fl_int)(p_, (x))

#define FE_1(m, x) m(x)
#define FE_2(m, x, ...) m(x); FE_1(m, __VA_ARGS__)
#define FE_3(m, x, ...) m(x); FE_2(m, __VA_ARGS__)
#define FE_4(m, x, ...) m(x); FE_3(m, __VA_ARGS__)
#define FE_5(m, x, ...) m(x); FE_4(m, __VA_ARGS__)
#define FE_6(m, x, ...) m(x); FE_5(m, __VA_ARGS__)
#define FE_7(m, x, ...) m(x); FE_6(m, __VA_ARGS__)
#define FE_8(m, x, ...) m(x); FE_7(m, __VA_ARGS__)
#define FE_9(m, x, ...) m(x); FE_8(m, __VA_ARGS__)
#define FE_10(m, x, ...) m(x); FE_9(m, __VA_ARGS__)
#define FE_11(m, x, ...) m(x); FE_10(m, __VA_ARGS__)
#define FE_12(m, x, ...) m(x); FE_11(m, __VA_ARGS__)
#define FE_PICK(_1, _2, _3, _4, _5, _6, _7, _8, _9, _10, _11, _12, NAME, ...) NAME
#define FOR_EACH(m, ...) \
	FE_PICK(__VA_ARGS__, FE_12, FE_11, FE_10, FE_9, FE_8, FE_7, FE_6, FE_5, FE_4, FE_3, FE_2, FE_1)(m, __VA_ARGS__)

#define LOG(level, fmt, ...)                              \
	do {                                              \
		unsigned char *p_ = fl_begin(__LINE__);   \
		FOR_EACH(FL_ARG, __VA_ARGS__);            \
		fl_end(p_);                               \
	} while (0)
#define WL(name) wl_##name##_floor
#include "mix.h"
