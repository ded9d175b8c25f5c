// Package fmtdb is logpack's model of printf formats: it parses a format
// the way glibc 2.36 reads it, says which arguments a call passes and how
// each travels in a record (its Class), and renders recorded arguments
// back into exactly the bytes glibc's snprintf would have produced
// (C locale, x86-64 LP64). The rewriter uses Parse, Format.Args and
// Format.Recordable to decide what to record; the decoder uses Parse and
// Format.Append to print. It also holds the site descriptors (site.go)
// and the format database (db.go).
//
// # Model
//
// Parse splits a format into Pieces: literal text and directives (Spec).
// Each Spec has its flags, constant or '*' width and precision, length
// modifier and conversion character. Format.Args lists the C arguments in
// call order, '*' arguments included, each with its Class; %m adds a
// ClassErrno entry (no C argument: the runtime records errno) where it is
// consumed. Spec.Arg, WidthArg and PrecArg index into Format.Args, so
// positional formats ("%2$*1$d") need nothing special when rendering.
//
// Unknown conversions are kept: glibc prints them back as '%', flags,
// width and precision (after '*' arguments) and the character. %n is a
// parse error, and so are a format ending inside a directive, positional
// and sequential arguments mixed, positional arguments left unused or used
// with two types, and widths or precisions over MaxAmount. A NUL byte ends
// the format as it ends a C string. Formats whose output depends on the
// locale (%lc, %ls, the ' and I flags) or that hold a NUL parse but are
// not Recordable: the rewriter leaves those calls as text.
//
// The rewriter folds constant arguments (__FILE__, __LINE__) into the
// format with Spec.AppendConst and EscapeLiteral, then parses the result.
//
// # Rendering
//
// Append reproduces glibc 2.36 byte for byte, including its less known
// behaviour: "(null)" and "(nil)", hh/h truncation, %m and %#m from
// tables generated from glibc (errno_table.go, go generate), exact
// decimal conversion of doubles (strconv) and x87 long doubles
// (math/big) with round-half-even, %a with glibc's leading digits, and
// the quirks of the code path glibc switches to at the first positional
// or unknown directive (or h with c, s, p, m or a float): there a
// negative '*' width keeps a '0' flag, padding %e/%f/%g with zeros on the
// right and suppressing %a's padding, and %Ld/%qd print as int. The
// differential tests and fuzz targets compare against glibc's vsnprintf.
//
// A Format is immutable after Parse: any number of goroutines may render
// with it at once.
//
// # Values
//
// A Value is a small plain struct the decoder fills from record bytes
// without allocating: integers, pointers and errno in Bits, doubles as
// their IEEE bits, long doubles as the x87 significand (Bits) and
// sign/exponent (SE), strings as a byte slice aliasing the record, and a
// NULL string as KindNull (distinct from an empty string).
//
// # Values of the wrong kind
//
// A hostile or mismatched log must not crash the decoder, so Append
// renders every value with every conversion, and Format.Check reports
// whether the rendering can be trusted:
//   - integer, character and %p conversions read Bits (truncated to the
//     length modifier) of any non-string value; strings count as 0;
//   - float conversions read Bits as a double, or the long double of a
//     KindF80 value whatever the length modifier;
//   - %s prints strerror for a KindErrno value (the rewriter records
//     `strerror(errno)` arguments as errno) and "(?)" for any other
//     non-string kind;
//   - a missing value (fewer args than Format.Args) is KindNone;
//   - '*' values beyond ±MaxAmount are clamped to it.
package fmtdb
