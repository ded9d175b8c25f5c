package fmtdb

import "math"

// Folding: a call's constant arguments (__FILE__, __LINE__, literals)
// are written into its format at build time, so that records carry only
// what varies. The rewriter decides which arguments fold and the decoder
// folds a log's site descriptors, with these functions, so that both
// arrive at the same site, byte for byte (docs/FORMAT.md, "Site
// descriptors").

// FoldConst renders the directive sp of f with the constant c as glibc's
// printf would print it, escaped as literal format text ("%" becomes
// "%%"). c is a string (KindStr) or an integer (KindInt or KindUint, its
// 64 bits in Bits). ok is false when the directive cannot take c, and the
// argument then stays a run-time argument: a positional format, '*'
// amounts, an unknown conversion, a string for anything but %s, an
// integer for anything but %d %i %u %x %X %o, or an integer that does not
// fit the 32 bits of an int directive. An integer is printed as the C
// type the directive reads (the low 32 bits for int and unsigned int).
func FoldConst(f *Format, sp *Spec, c Value) (string, bool) {
	if f.Positional || sp.WidthArg >= 0 || sp.PrecArg >= 0 || sp.Arg < 0 || sp.Arg >= len(f.Args) || !sp.Known() {
		return "", false
	}
	class := f.Args[sp.Arg].Class
	var v Value
	switch {
	case c.Kind == KindStr && (class == ClassStr || class == ClassStrMax) && sp.Conv == 's':
		v = c
	case (c.Kind == KindInt || c.Kind == KindUint) && isIntConv(sp.Conv):
		switch class {
		case ClassI32, ClassU32:
			fits := c.Bits <= math.MaxUint32 || c.Kind == KindInt && int64(c.Bits) >= math.MinInt32
			if !fits {
				return "", false
			}
			if class == ClassI32 {
				v = Int(int64(int32(uint32(c.Bits))))
			} else {
				v = Uint(uint64(uint32(c.Bits)))
			}
		case ClassI64:
			v = Int(int64(c.Bits))
		case ClassU64:
			v = Uint(c.Bits)
		default:
			return "", false
		}
	default:
		return "", false
	}
	text, err := sp.AppendConst(nil, v)
	if err != nil {
		return "", false
	}
	return string(EscapeLiteral(nil, string(text))), true
}

func isIntConv(c byte) bool {
	switch c {
	case 'd', 'i', 'u', 'x', 'X', 'o':
		return true
	}
	return false
}

// ErrnoDirective returns the directive sp of f as %m when it is a %s that
// prints strerror(errno): no precision and no '*' amounts (flags and a
// fixed width carry over: "%-20s" becomes "%-20m"). The rewriter records
// such an argument as errno (ClassErrno) and the site's format says %m;
// ok is false for any other directive.
func ErrnoDirective(f *Format, sp *Spec) (string, bool) {
	if f.Positional || sp.Conv != 's' || sp.PrecArg >= 0 || sp.WidthArg >= 0 || sp.Arg < 0 || sp.Arg >= len(f.Args) || f.Args[sp.Arg].Class != ClassStr {
		return "", false
	}
	return f.Text[sp.Offset:sp.End-1] + "m", true
}
