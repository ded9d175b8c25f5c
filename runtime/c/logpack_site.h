/*
 * logpack_site.h - what rewritten code needs from the logpack runtime.
 *
 * The rewriter pastes this file (it is compiled without the preprocessor,
 * so it must not include anything) at the top of every rewritten
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

/* One call site (docs/FORMAT.md, "Call sites in the program"). The
 * rewriter emits one entry per call into section "logpack_sites" as data
 * whose string fields are offsets from the entry, resolved by the linker:
 * no pointers, so no relocations at start-up. The runtime only writes
 * .state. */
struct logpack_site {
	/* (log generation << 32) | site index in that log; 0: not described. */
	unsigned long long state;
	int format;               /* offset of the NUL-terminated format */
	int file;                 /* offset of the file name */
	int func;                 /* offset of the function name */
	unsigned int line;
	unsigned char level;      /* 0..7, or 255: given per call */
	unsigned char flags;      /* LOGPACK_SITE_* */
	unsigned char text_level; /* records at a level <= this also print as text */
	unsigned char nargs;      /* entries in args */
	unsigned char args[];     /* per format argument: class, then its extra bytes */
};

/* Non-zero while binary logging is on; rewritten calls test it first,
 * through logpack_on (a relaxed atomic load: a plain move on x86-64). */
extern int logpack_recording;

static __inline__ __attribute__((__always_inline__, __unused__)) int logpack_on(void)
{
	return __atomic_load_n(&logpack_recording, 0 /* __ATOMIC_RELAXED: no macros here */);
}

/* Whether a record at run-time level l also prints as text (levels
 * 1..max). A function, so that the compiler does not warn about a level
 * expression that can never be in range. */
static __inline__ __attribute__((__always_inline__, __unused__)) int logpack_text_level(int l, int max)
{
	return l >= 1 && l <= max;
}

/* Evaluates its arguments, which set a call's temporaries, in the order
 * the compiler evaluates any call's arguments: the order in which the
 * original call evaluated them. Inlined away. */
static __inline__ __attribute__((__always_inline__, __unused__)) void logpack_seq(int n, ...)
{
	(void)n;
}

/* Records one call. args has one slot per argument the call passes (the
 * constants of the site's list and errno take none). Returns whether the
 * record was written: 0 when logging is off, or when the log could not
 * take it (a full log that cannot grow); a LOGPACK_SITE_TEXT_FALLBACK
 * site's call then prints it as text. The per-signature encoders return
 * the same. */
extern int logpack_emit(struct logpack_site *site, const union logpack_arg *args);
/* The same for a site whose level is decided at run time. */
extern int logpack_emit_level(struct logpack_site *site, int level,
			      const union logpack_arg *args);

/* Names the function that returns the descriptor of the program's own text
 * log, so that the log can say where the text log's lines belong. */
extern void logpack_text_fd(int (*fn)(void));

/* Site flags. */
enum logpack_site_flag {
	LOGPACK_SITE_PREFIX = 1,        /* its text prefixes the process's later lines */
	LOGPACK_SITE_TEXT_FALLBACK = 2, /* a record the log cannot take is printed as text */
};

/* Classes (fmtdb.Class) and constant kinds; a test checks these against
 * the Go table. */
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
	LOGPACK_CONST_STR = 11,
	LOGPACK_CONST_INT = 12,
	LOGPACK_CONST_UINT = 13,
};

#endif
