// Package sitetab is the contract between rewritten code and the C
// runtime: the call-site table a program carries (section logpack_sites,
// docs/FORMAT.md "Call sites in the program"), the C text the rewriter
// emits to define sites and call the runtime, the per-signature encoders
// generated at link time, and reading a table back out of ELF files.
//
// runtime/c/logpack_site.h is the C side of the same contract; a test
// compiles it and checks the offsets below against the compiler's.
package sitetab

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/logpack/logpack/fmtdb"
	"github.com/logpack/logpack/internal/logfile"
)

// Section is the ELF section holding the site table.
const Section = "logpack_sites"

// Layout of one entry (struct logpack_site).
const (
	OffState     = 0
	OffFormat    = 8
	OffFile      = 12
	OffFunc      = 16
	OffLine      = 20
	OffLevel     = 24
	OffFlags     = 25
	OffTextLevel = 26
	OffNargs     = 27
	OffArgs      = 28
	EntryAlign   = 8
)

// A table entry holds what the site's descriptor in the log says
// (logfile.Descriptor): the format as written, constants beside it.

// Recorded reports whether the call passes argument a to the runtime.
func Recorded(a logfile.DescArg) bool { return !a.IsConst() && a.Class != fmtdb.ClassErrno }

// Signature names the encoder for the site's recorded arguments, in the
// letters of sigLetter, or "" when the generic logpack_emit must serve it
// (a long double, a bounded string, or more than MaxEncoderArgs).
func Signature(d *logfile.Descriptor) string {
	var b strings.Builder
	n := 0
	for _, a := range d.Args {
		if a.IsConst() {
			continue
		}
		l, ok := sigLetter[a.Class]
		if !ok {
			return ""
		}
		b.WriteByte(l)
		if a.Class != fmtdb.ClassErrno {
			n++
		}
	}
	if n > MaxEncoderArgs {
		return ""
	}
	if b.Len() == 0 {
		return "v"
	}
	return b.String()
}

// MaxEncoderArgs is the most arguments an encoder takes in registers.
const MaxEncoderArgs = 6

// Encoders take four kinds of argument, which is all the log's encoding
// tells apart: z, a signed integer (zigzag varint; an int's is its long
// long's), u, an unsigned integer or an address (varint), d, a double,
// s, a string, and e, errno (no C argument).
var sigLetter = map[fmtdb.Class]byte{
	fmtdb.ClassI32: 'z', fmtdb.ClassI64: 'z', fmtdb.ClassU32: 'u', fmtdb.ClassU64: 'u', fmtdb.ClassPtr: 'u',
	fmtdb.ClassF64: 'd', fmtdb.ClassStr: 's', fmtdb.ClassErrno: 'e',
}

// letters says, for each signature letter, which class the encoder's
// parameter and the general path take the argument as, the runtime macro
// that writes it (LP_ENC_* in runtime/c/logpack.c) and the member of
// union logpack_arg the general path takes it in.
var letters = map[byte]struct {
	class         fmtdb.Class
	macro, member string
}{
	'z': {fmtdb.ClassI64, "LP_ENC_Z", "i"},
	'u': {fmtdb.ClassU64, "LP_ENC_U", "u"},
	'd': {fmtdb.ClassF64, "LP_ENC_D", "d"},
	's': {fmtdb.ClassStr, "LP_ENC_STR", "p"},
	'e': {fmtdb.ClassErrno, "LP_ENC_ERRNO", ""}, // errno, read by the encoder itself
}

// EncoderName is the runtime function a site of this signature calls;
// leveled ones take the run-time level after the site.
func EncoderName(sig string, leveled bool) string {
	if leveled {
		return "logpack_encl_" + sig
	}
	return "logpack_enc_" + sig
}

// ParseEncoderName is the inverse of EncoderName for a valid name.
func ParseEncoderName(name string) (sig string, leveled, ok bool) {
	switch {
	case strings.HasPrefix(name, "logpack_encl_"):
		sig, leveled = name[len("logpack_encl_"):], true
	case strings.HasPrefix(name, "logpack_enc_"):
		sig = name[len("logpack_enc_"):]
	default:
		return "", false, false
	}
	if sig == "v" {
		return sig, leveled, true
	}
	n := 0
	for i := 0; i < len(sig); i++ {
		if _, known := letters[sig[i]]; !known {
			return "", false, false
		}
		if sig[i] != 'e' {
			n++
		}
	}
	return sig, leveled, sig != "" && n <= MaxEncoderArgs
}

// CType is the C type a call passes an argument of class c as: the type
// printf reads for the conversions of that class.
func CType(c fmtdb.Class) string {
	switch c {
	case fmtdb.ClassI32:
		return "int"
	case fmtdb.ClassU32:
		return "unsigned int"
	case fmtdb.ClassI64:
		return "long long"
	case fmtdb.ClassU64:
		return "unsigned long long"
	case fmtdb.ClassF64:
		return "double"
	case fmtdb.ClassStr, fmtdb.ClassStrMax:
		return "const char *"
	case fmtdb.ClassPtr:
		return "const void *"
	case fmtdb.ClassF80:
		return "long double"
	}
	return ""
}

// EncoderArg is the C expression passing the argument text x of class c
// to an encoder: converted to the class's type first (as printf would
// read it), which the parameter then widens; the outer cast keeps
// -Wsign-conversion and -Wpointer-to-int-cast quiet.
func EncoderArg(c fmtdb.Class, x string) string {
	switch c {
	case fmtdb.ClassPtr:
		return "(unsigned long)(" + x + ")"
	case fmtdb.ClassStrMax:
		return "(const void *)(" + x + ")"
	}
	return "(" + CType(c) + ")(" + x + ")"
}

// ArraySlot is the initializer of one union logpack_arg slot of the
// generic call for argument text x of class c.
func ArraySlot(c fmtdb.Class, x string) string {
	x = "(" + x + ")"
	switch c {
	case fmtdb.ClassI32:
		return "{.i = (int)" + x + "}"
	case fmtdb.ClassU32:
		return "{.u = (unsigned long long)(unsigned int)" + x + "}"
	case fmtdb.ClassI64:
		return "{.i = (long long)" + x + "}"
	case fmtdb.ClassU64:
		return "{.u = (unsigned long long)" + x + "}"
	case fmtdb.ClassF64:
		return "{.d = (double)" + x + "}"
	case fmtdb.ClassF80:
		return "{.p = &(long double){" + x + "}}"
	default: // str, strmax, ptr
		return "{.p = (const void *)" + x + "}"
	}
}

// EncoderDecl is the C declaration of an encoder.
func EncoderDecl(sig string, leveled bool) string {
	var b strings.Builder
	b.WriteString("extern int ")
	b.WriteString(EncoderName(sig, leveled))
	b.WriteString("(struct logpack_site *")
	if leveled {
		b.WriteString(", int")
	}
	if sig != "v" {
		for i := 0; i < len(sig); i++ {
			if sig[i] != 'e' {
				b.WriteString(", ")
				b.WriteString(CType(letters[sig[i]].class))
			}
		}
	}
	b.WriteString(");")
	return b.String()
}

// EncoderCall is the C call of the site symbol's encoder with the argument
// texts args (one per recorded argument, as EncoderArg gives them),
// and level ("" for a constant-level site).
func EncoderCall(sig, sym, level string, args []string) string {
	var b strings.Builder
	b.WriteString(EncoderName(sig, level != ""))
	b.WriteString("(&")
	b.WriteString(sym)
	if level != "" {
		b.WriteString(", ")
		b.WriteString(level)
	}
	for _, a := range args {
		b.WriteString(", ")
		b.WriteString(a)
	}
	b.WriteByte(')')
	return b.String()
}

// Encoders returns the C source of the encoders for the given names
// (EncoderName forms; others are ignored), to be compiled in one unit
// after runtime/c/logpack.c.
func Encoders(names []string) string {
	var b strings.Builder
	b.WriteString("/* logpack per-signature encoders, generated for the signatures a program uses. */\n")
	for _, name := range names {
		sig, leveled, ok := ParseEncoderName(name)
		if !ok {
			continue
		}
		fmt.Fprintf(&b, "\nint %s(struct logpack_site *site", EncoderName(sig, leveled))
		level := "-1"
		if leveled {
			b.WriteString(", int level")
			level = "(level & 0xff)"
		}
		n := 0
		if sig != "v" {
			n = len(sig)
		}
		for i := 0; i < n; i++ {
			if sig[i] != 'e' {
				fmt.Fprintf(&b, ", %s a%d", CType(letters[sig[i]].class), i)
			}
		}
		b.WriteString(")\n{\n")
		if strings.IndexByte(sig, 'e') >= 0 {
			b.WriteString("\tint err_ = errno;\n")
		}
		fmt.Fprintf(&b, "\tLP_ENC_BEGIN(site, %s, %d);\n", level, n)
		var fill []string
		for i := 0; i < n; i++ {
			if sig[i] == 'e' {
				b.WriteString("\tLP_ENC_ERRNO(err_);\n")
				continue
			}
			e := letters[sig[i]]
			fmt.Fprintf(&b, "\t%s(a%d);\n", e.macro, i)
			fill = append(fill, fmt.Sprintf("lp_a[%d].%s = a%d", len(fill), e.member, i))
		}
		b.WriteString("\tLP_ENC_END();\n")
		if len(fill) == 0 {
			fill = []string{"(void)lp_a"}
		}
		fmt.Fprintf(&b, "\tLP_ENC_GENERAL(site, %s, %d, %s);\n}\n", level, len(fill), strings.Join(fill, "; "))
	}
	return b.String()
}

// SymbolName is the assembler name of site i of a unit whose identity is
// unit (a short hash): global and hidden, so that it is unique across a
// program and reachable from any partition of a link-time optimised build.
func SymbolName(unit string, i int) string {
	return "logpack_site_" + unit + "_" + strconv.Itoa(i)
}
