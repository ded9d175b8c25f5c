package fmtdb

import (
	"bytes"
	"fmt"

	"github.com/logpack/logpack/fmtdb/internal/glibc"
)

// glibcArgs turns rendered values into the C call that would print them.
func glibcArgs(f *Format, vals []Value) (errnum int, args []glibc.Arg) {
	for i, a := range f.Args {
		v := vals[i]
		switch a.Class {
		case ClassErrno:
			errnum = int(int32(v.Bits))
		case ClassF64:
			args = append(args, glibc.Arg{Kind: glibc.Double, F: float64frombits(v.Bits)})
		case ClassF80:
			args = append(args, glibc.Arg{Kind: glibc.LongDbl, Mant: v.Bits, SE: v.SE})
		case ClassStr, ClassStrMax:
			args = append(args, glibc.Arg{Kind: glibc.Str, Bytes: v.Str, Null: v.Kind == KindNull})
		default:
			args = append(args, glibc.Arg{Kind: glibc.Int, I: v.Bits})
		}
	}
	return errnum, args
}

// want is glibc's rendering; ok is false when glibc reports an error.
func want(f *Format, vals []Value) (out []byte, ok bool) {
	errnum, args := glibcArgs(f, vals)
	out, n := glibc.Sprintf(f.Text, errnum, args)
	return out, n >= 0
}

// diff renders with fmtdb and glibc and describes a mismatch ("" if equal).
func diff(format string, vals ...Value) string {
	f, err := Parse(format)
	if err != nil {
		return fmt.Sprintf("Parse(%q): %v", format, err)
	}
	if len(vals) != len(f.Args) {
		return fmt.Sprintf("%q takes %d args (%v), test gives %d", format, len(f.Args), f.Args, len(vals))
	}
	w, ok := want(f, vals)
	if !ok {
		return fmt.Sprintf("%q %v: glibc fails", format, vals)
	}
	got := f.Append(nil, vals)
	if !bytes.Equal(got, w) {
		return fmt.Sprintf("%q %v:\n got %q\nwant %q", format, vals, got, w)
	}
	return ""
}
