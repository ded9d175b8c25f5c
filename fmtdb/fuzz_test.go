package fmtdb

import (
	"bytes"
	"math"
	"strconv"
	"strings"
	"testing"
)

// byteSource turns fuzz input into choices; exhausted input reads zeros.
type byteSource struct{ b []byte }

func (s *byteSource) byte() byte {
	if len(s.b) == 0 {
		return 0
	}
	c := s.b[0]
	s.b = s.b[1:]
	return c
}

func (s *byteSource) n(k int) int { return int(s.byte()) % k }

func (s *byteSource) u64() uint64 {
	var v uint64
	for i := 0; i < 8; i++ {
		v = v<<8 | uint64(s.byte())
	}
	return v
}

// splitmix64, for values of arbitrary formats
type rng uint64

func (r *rng) next() uint64 {
	*r += 0x9e3779b97f4a7c15
	z := uint64(*r)
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

var (
	fuzzConvs   = "diouxXbBcspeEfFgGaAm%y"
	fuzzLengths = []string{"", "", "", "hh", "h", "l", "ll", "q", "j", "z", "Z", "t", "L"}
	fuzzFlags   = "-+ #0'I"
)

// genFormat builds a valid format from fuzz input: sequential, or
// positional with the arguments in an order the input chooses (which
// sends glibc down its positional code path).
func genFormat(s *byteSource) string {
	positional := s.n(4) == 0
	var b strings.Builder
	uses := 0 // argument references so far; positional ones are marked "\x00" + index
	n := s.n(6) + 1
	for i := 0; i < n; i++ {
		switch s.n(4) {
		case 0:
			b.WriteString([]string{"", "x", " | ", "\n", "%%", "é"}[s.n(6)])
		}
		conv := fuzzConvs[s.n(len(fuzzConvs))]
		length := fuzzLengths[s.n(len(fuzzLengths))]
		b.WriteByte('%')
		var mods strings.Builder
		for f := s.byte(); f != 0; f >>= 1 {
			if f&1 != 0 {
				mods.WriteByte(fuzzFlags[s.n(len(fuzzFlags))])
			}
			if s.n(2) == 0 {
				break
			}
		}
		// C order of arguments: width, precision, value
		flags := mods.String()
		var width, prec string
		starW, starP := false, false
		switch s.n(4) {
		case 1:
			width = itoa(s.n(40))
		case 2:
			starW = true
		case 3:
			width = itoa(s.n(256) + s.n(2)*s.n(256))
		}
		switch s.n(5) {
		case 1:
			prec = "."
		case 2:
			prec = "." + itoa(s.n(30))
		case 3:
			starP = true
		}
		takesValue := strings.IndexByte("%my", conv) < 0
		// text order is value position, flags, width, precision
		var wb, pb strings.Builder
		w0, p0 := uses, uses
		if starW {
			w0 = uses
			uses++
		}
		if starP {
			p0 = uses
			uses++
		}
		if takesValue {
			if positional {
				b.WriteString("\x00")
				b.WriteByte(byte(uses))
			}
			uses++
		}
		b.WriteString(flags)
		if starW {
			wb.WriteByte('*')
			if positional {
				wb.WriteString("\x00")
				wb.WriteByte(byte(w0))
			}
		} else {
			wb.WriteString(width)
		}
		if starP {
			pb.WriteString(".*")
			if positional {
				pb.WriteString("\x00")
				pb.WriteByte(byte(p0))
			}
		} else {
			pb.WriteString(prec)
		}
		b.WriteString(wb.String())
		b.WriteString(pb.String())
		b.WriteString(length)
		b.WriteByte(conv)
	}
	out := b.String()
	if !positional {
		return out
	}
	perm := make([]int, uses)
	for i := range perm {
		perm[i] = i
	}
	for i := uses - 1; i > 0; i-- {
		j := s.n(i + 1)
		perm[i], perm[j] = perm[j], perm[i]
	}
	var r strings.Builder
	for i := 0; i < len(out); i++ {
		if out[i] == 0 {
			r.WriteString(itoa(perm[out[i+1]] + 1))
			r.WriteByte('$')
			i++
			continue
		}
		r.WriteByte(out[i])
	}
	return r.String()
}

func itoa(n int) string { return strconv.Itoa(n) }

// genValue makes a value of class c for argument i of f from next().
func genValue(f *Format, i int, c Class, next func() uint64) Value {
	for j := range f.Specs {
		if f.Specs[j].WidthArg == i || f.Specs[j].PrecArg == i {
			// keep outputs small: '*' values within ±600
			return Int(int64(next()%1201) - 600)
		}
	}
	x := next()
	switch c {
	case ClassI32, ClassI64:
		return Int(int64(x))
	case ClassU32, ClassU64:
		return Uint(x)
	case ClassPtr:
		if x%4 == 0 {
			return Ptr(0)
		}
		return Ptr(x)
	case ClassF64:
		switch x % 4 {
		case 0: // a value people print
			return Float64(float64(int64(next()%2000001)-1000000) / float64(uint64(1)<<(next()%40)))
		}
		return Float64Bits(next())
	case ClassF80:
		if x%3 == 0 {
			return f80(math.Float64frombits(next()))
		}
		return Float80(next(), uint16(next()))
	case ClassStr, ClassStrMax:
		if x%5 == 0 {
			return Null()
		}
		n := int(next() % 24)
		b := make([]byte, n)
		for k := range b {
			b[k] = byte(next()%255) + 1 // C strings hold no NUL
		}
		return Bytes(b)
	case ClassErrno:
		return Errno(int64(x%300) - 20)
	}
	return Value{}
}

// sameErrno gives every errno entry one value, as in a real call.
func sameErrno(f *Format, vals []Value) {
	var e *Value
	for i, a := range f.Args {
		if a.Class == ClassErrno {
			if e == nil {
				e = &vals[i]
			} else {
				vals[i] = *e
			}
		}
	}
}

// compares fmtdb and glibc; wide conversions depend on the locale and
// are not rendered by fmtdb (not Recordable), so they are only run.
func checkRender(t *testing.T, f *Format, vals []Value) {
	got := f.Append(nil, vals)
	for i := range f.Specs {
		s := &f.Specs[i]
		if k := convKind(s.Conv); k == kWideChar || k == kWideStr || (k == kChar || k == kString) && s.Length.wide() {
			return
		}
	}
	if f.NUL >= 0 {
		return // glibc reads the C string: covered by the rest
	}
	w, ok := want(f, vals)
	if !ok {
		t.Fatalf("%q %v: glibc fails", f.Text, vals)
	}
	if !bytes.Equal(got, w) {
		t.Fatalf("%q %v:\n got %q\nwant %q", f.Text, vals, got, w)
	}
}

// A random valid format with random values renders as glibc renders it.
func FuzzRender(f *testing.F) {
	for _, s := range []string{"", "\x01\x02\x03", "\xff\xfe\xfd\xfc\xfb\xfa\xf9", "%d%s%x", "0123456789abcdefghijklmnopqrstuvwxyz"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s := &byteSource{b: data}
		format := genFormat(s)
		pf, err := Parse(format)
		if err != nil {
			t.Fatalf("generated format %q: %v", format, err)
		}
		vals := make([]Value, len(pf.Args))
		for i, a := range pf.Args {
			vals[i] = genValue(pf, i, a.Class, s.u64)
		}
		sameErrno(pf, vals)
		checkRender(t, pf, vals)
	})
}

// Any bytes as a format: Parse never panics, and what it accepts renders
// as glibc renders it with the arguments Parse says the call passes.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"%d", "%s: %lx-%lx %#x\n", "Some message %s %s %c %li %d %lu\n", "%n", "%1$s %2$*1$d",
		"%5%", "%*.*s", "%.0La", "%m %#m", "%0$d%*5d", "abc%", "%1$d %d", "%ls", "a\x00%d"} {
		f.Add(s, uint64(len(s)))
	}
	f.Fuzz(func(t *testing.T, format string, seed uint64) {
		pf, err := Parse(format)
		if err != nil {
			if _, ok := err.(*ParseError); !ok {
				t.Fatalf("Parse(%q) error %T is not a *ParseError", format, err)
			}
			return
		}
		r := rng(seed)
		vals := make([]Value, len(pf.Args))
		for i, a := range pf.Args {
			vals[i] = genValue(pf, i, a.Class, r.next)
		}
		sameErrno(pf, vals)
		// wrong kinds and missing values must not panic either
		pf.Append(nil, vals[:len(vals)/2])
		pf.Append(nil, []Value{String("x"), Float64(1), Null(), Errno(3), Int(-1), {}})
		_ = pf.Check(vals)
		checkRender(t, pf, vals)
	})
}
