/* bench.h - what the benchmark's units share. */
#ifndef LOGBENCH_H
#define LOGBENCH_H

#include <stdio.h>

typedef void workload_fn(unsigned long n);

/* text.c: CRIU-style text sink and the stdio baseline. */
extern unsigned long long text_bytes, stdio_bytes;
extern FILE *stdio_file;
void text_init(int fd);
void text_log(unsigned int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
workload_fn wl_a_text, wl_b_text, wl_a_stdio, wl_b_stdio;

/* floor.c: a hand-written binary encoder into RAM, the lower bound. */
extern unsigned long long floor_bytes;
int floor_init(void);
workload_fn wl_a_floor, wl_b_floor;

/* lp.c: the same workloads with calls rewritten by `logpack cc`.
 * lp_log is what they call when binary logging is off. */
extern unsigned long long lp_fallback_calls;
void lp_log(unsigned int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
workload_fn wl_a_logpack, wl_b_logpack;

#endif
