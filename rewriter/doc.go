// Package rewriter finds printf-style log calls in C and rewrites each
// one it fully understands into a binary record of its arguments, keeping
// the original call for when binary logging is off.
//
// Two inputs: RewritePreprocessed takes gcc -E output (what logpack cc
// compiles: macros are expanded, line markers give the original
// positions); RewriteSource takes raw source (logpack rewrite) and
// understands the preset's macros itself (LOG_PREFIX defined in the file,
// PRI* macros, __FILE__/__LINE__ of pr_err and pr_warn). Both return the
// rewritten C, the site descriptors to record in the format database, and
// one Diag per log call left as text.
//
// A call is rewritten when it is a statement of its own, its format is
// string literals only, fmtdb parses it and can record it, and the
// argument count matches. The rewrite is one expression on the call's
// first line, so it is safe as an unbraced if/else/for body and every
// line keeps its number:
//
//	print_on_level(3, "mnt: %d %s\n", n, s);
//
// becomes
//
//	((logpack_on() && (logpack_emit(&logpack_site_u_0, (const union logpack_arg[]){{.i = (int)(n)}, {.p = (const void *)(s)}}))) ? (void)0 : (void)print_on_level(3, "mnt: %d %s\n", n, s));
//
// The original call runs when logging is off, and also when the log could
// not take the record (the text fallback: nothing is lost). Arguments with
// side effects are evaluated once into temporaries that both the record
// and the fallback use, set as the arguments of one inlined call so that
// the compiler evaluates them in its order for the original call; calls
// at levels 1..Config.TextLevel (errors and
// warnings) are recorded and printed as text both. The original call
// always stays in the source, for -Wformat to check. The forms are
// described at the top of emit.go. A level decided at run time is read
// again when it has no side effects, else bound once in a statement
// expression; levels in Config.TextLevels (CRIU's 0: user messages on
// stdout) always take the original call. Arguments known now are folded
// into the stored format (string literals for %s, integer literals such
// as __LINE__, __func__), and strerror(errno) for a %s becomes %m (where
// no other argument has effects): the runtime records errno, the decoder
// prints glibc's text.
//
// The sites go into a logpack_sites table (internal/sitetab: declarations
// and an assembler section) at the top of the unit: after the runtime
// prelude under a "# 1 "<logpack>"" marker in preprocessed input, after
// #include "logpack_site.h" and before a "#line 1" in source.
package rewriter
