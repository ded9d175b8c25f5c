package rewriter

import (
	"github.com/logpack/logpack/fmtdb"
)

// constant is the value of a call argument known at rewrite time.
type constant struct {
	isStr bool
	str   string // isStr
	ival  IntLiteral
}

// foldSpec renders one directive of f with the constant c as literal
// format text (fmtdb.FoldConst, which the decoder uses too). ok is false
// when the directive cannot take c, so the argument stays a run-time
// argument; besides what FoldConst refuses, an integer literal must have
// the C type the directive reads: int for 32-bit directives, long or
// long long (an l or ll suffix) for 64-bit ones.
func foldSpec(f *fmtdb.Format, sp *fmtdb.Spec, c constant) (string, bool) {
	if c.isStr {
		return fmtdb.FoldConst(f, sp, fmtdb.String(c.str))
	}
	if sp.Arg < 0 || sp.Arg >= len(f.Args) {
		return "", false
	}
	switch f.Args[sp.Arg].Class {
	case fmtdb.ClassI32, fmtdb.ClassU32:
		// an int-typed literal: C gives it type int when it fits in int
		if c.ival.Unsigned || c.ival.Long > 0 || c.ival.Value > 1<<31-1 {
			return "", false
		}
	case fmtdb.ClassI64, fmtdb.ClassU64:
		// only literals whose C type is already 64-bit (l/ll suffix)
		if c.ival.Long == 0 || c.ival.Value > 1<<63-1 && !c.ival.Unsigned {
			return "", false
		}
	}
	return fmtdb.FoldConst(f, sp, fmtdb.Uint(c.ival.Value))
}
