/*
 * logpack_site.h - what rewritten code needs from the logpack runtime.
 *
 * The rewriter pastes this file ((it is compiled without the
 * preprocessor, so it must not include anything) at the top of every rewritten
 * translation unit. Keep it self-contained, free of macros that could clash
 * with a program's, and valid C99/C11 and C++-free GNU C.
 */
#ifndef LOGPACK_SITE_H
#define LOGPACK_SITE_H

/* One C argument of a log call, converted by the rewritten call site to the
 * type of its fmtdb class. long double travels by address (.p). */
union logpack_arg {
	long long i;
	unsigned long long u;
	double d;
	const void *p;
};

/* One call site. The rewriter emits one static instance per call, in
 * section "logpack_sites"; the runtime only writes .state. */
struct logpack_site {
	/* (log generation << 32) | site index in that log; 0: not described. */
	unsigned long long state;
	const unsigned char *desc;    /* descriptor bytes (docs/FORMAT.md) */
	const unsigned char *classes; /* points into desc: the class list */
	unsigned int desc_len;
	unsigned char level;          /* 0..7, or 255: given per call */
	unsigned char pad[3];
} __attribute__((aligned(8)));

/* Non-zero while binary logging is on; rewritten calls test it first. */
extern int logpack_recording;

/* Records one call. args has one slot per class that takes an argument. */
extern void logpack_emit(struct logpack_site *site, const union logpack_arg *args);
/* The same for a site whose level is decided at run time. */
extern void logpack_emit_level(struct logpack_site *site, int level,
			       const union logpack_arg *args);

/* Classes (fmtdb.Class); a test checks these against the Go table. */
enum logpack_class {
	LOGPACK_I32 = 1,
	LOGPACK_U32 = 2,
	LOGPACK_I64 = 3,
	LOGPACK_U64 = 4,
	LOGPACK_F64 = 5,
	LOGPACK_F80 = 6,
	LOGPACK_STR = 7,
	LOGPACK_PTR = 8,
	LOGPACK_ERRNO = 9,
	LOGPACK_STRMAX = 10,
};

#endif
