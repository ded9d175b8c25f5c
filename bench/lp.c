/*
 * lp.c - the workloads with logpack: this unit is compiled through
 * `logpack cc --log-func 'lp_log(level, fmt, ...)'`, so every LOG below
 * becomes a binary record while logging is on.
 */
#include "bench.h"

#define LOG(level, fmt, ...) lp_log(level, fmt, __VA_ARGS__)
#define WL(name) wl_##name##_logpack
#include "mix.h"
