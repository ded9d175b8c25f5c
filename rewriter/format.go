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

// foldSpec renders one directive of f with the constant c as glibc's
// printf would, escaped as literal format text ("%" → "%%"). ok is false
// when the directive cannot take c (wrong kind, '*' arguments, a value
// that does not fit its type) so the argument stays a run-time argument.
func foldSpec(f *fmtdb.Format, sp *fmtdb.Spec, c constant) (string, bool) {
	if f.Positional || sp.WidthArg >= 0 || sp.PrecArg >= 0 || sp.Arg < 0 || !sp.Known() {
		return "", false
	}
	class := f.Args[sp.Arg].Class
	var v fmtdb.Value
	switch {
	case c.isStr && (class == fmtdb.ClassStr || class == fmtdb.ClassStrMax) && sp.Conv == 's':
		v = fmtdb.String(c.str)
	case !c.isStr && (class == fmtdb.ClassI32 || class == fmtdb.ClassU32) && isIntConv(sp.Conv):
		// an int-typed literal: C gives it type int when it fits in int
		if c.ival.Unsigned || c.ival.Long > 0 || c.ival.Value > 1<<31-1 {
			return "", false
		}
		if class == fmtdb.ClassI32 {
			v = fmtdb.Int(int64(c.ival.Value))
		} else {
			v = fmtdb.Uint(c.ival.Value)
		}
	case !c.isStr && (class == fmtdb.ClassI64 || class == fmtdb.ClassU64) && isIntConv(sp.Conv):
		// only literals whose C type is already 64-bit (l/ll suffix)
		if c.ival.Long == 0 || c.ival.Value > 1<<63-1 && !c.ival.Unsigned {
			return "", false
		}
		if class == fmtdb.ClassI64 {
			v = fmtdb.Int(int64(c.ival.Value))
		} else {
			v = fmtdb.Uint(c.ival.Value)
		}
	default:
		return "", false
	}
	text, err := sp.AppendConst(nil, v)
	if err != nil {
		return "", false
	}
	return string(fmtdb.EscapeLiteral(nil, string(text))), true
}

func isIntConv(c byte) bool {
	switch c {
	case 'd', 'i', 'u', 'x', 'X', 'o':
		return true
	}
	return false
}
