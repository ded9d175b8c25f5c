package fmtdb

import (
	"math"
	"testing"
)

func float64frombits(b uint64) float64 { return math.Float64frombits(b) }

// The corner cases of docs/PRINTF.md, each checked against glibc.
func TestPrintfCornerCases(t *testing.T) {
	cases := []struct {
		format string
		vals   []Value
	}{
		{"%p", []Value{Ptr(0)}},
		{"%10p|%-10p", []Value{Ptr(0), Ptr(0)}},
		{"%p %20p %-20p|", []Value{Ptr(0x7ffd1234), Ptr(0xdeadbeef), Ptr(1)}},
		{"%+p % p %.20p %020p", []Value{Ptr(0x1234), Ptr(0x1234), Ptr(0x1234), Ptr(0x1234)}},
		{"%s|%.3s|%.6s|%10s|%-10.2s|", []Value{Null(), Null(), Null(), Null(), Null()}},
		{"%s|%s|", []Value{String(""), String("abc")}},
		{"%c|%5c|%-5c|%05c", []Value{Int(0), Int('x'), Int('y'), Int('z')}},
		{"%.0d|%+.0d|% .0d|%#.0o|%#x|%#o|%.0x|%#.0x", []Value{Int(0), Int(0), Int(0), Uint(0), Uint(0), Uint(8), Uint(0), Uint(0)}},
		{"%+ d|% +d|%-05d|%05.3d|%05s", []Value{Int(1), Int(1), Int(42), Int(42), String("ab")}},
		{"%*d|%*d|%-*d", []Value{Int(-5), Int(42), Int(5), Int(42), Int(-5), Int(42)}},
		{"%.*d|%.*s|%.*s", []Value{Int(-1), Int(0), Int(-1), String("hello"), Int(2), String("hello")}},
		{"%5%|%-5%|%05%", nil},
		{"%*.d|%20.s|", []Value{Int(4), Int(0), String("x")}},
		{"%hhd %hd %hhu %hu %hhx %hX %hhX", []Value{Int(300), Int(70000), Uint(511), Uint(70000), Uint(0x1ff), Uint(0xabcdef), Uint(0xfff)}},
		{"%zu %lu %zd %zx %ju %lld %li %llu %td %qd %Zu %jd", []Value{Uint(math.MaxUint64), Uint(1 << 40), Int(-1), Uint(0xffffffffff), Uint(3), Int(math.MinInt64), Int(-7), Uint(9), Int(-9), Int(5), Uint(6), Int(math.MinInt64)}},
		{"%#08x %016lx %-4lx|%#016lx %#x %#X %#b %#B %b", []Value{Uint(0x1f), Uint(0xdead), Uint(1), Uint(0xbeef), Uint(0xff), Uint(0xff), Uint(5), Uint(5), Uint(0)}},
		{"%d %i %u %o %x %X", []Value{Int(math.MinInt32), Int(-1), Uint(math.MaxUint32), Uint(8), Uint(255), Uint(255)}},
		{"%m|%#m|%20m|%-10.3m|%.2m", []Value{Errno(2), Errno(2), Errno(2), Errno(2), Errno(2)}},
		{"%m|%#m|%20m|%-10.3m|%.2m", []Value{Errno(0), Errno(0), Errno(0), Errno(0), Errno(0)}},
		{"%m %#m", []Value{Errno(9999), Errno(9999)}},
		{"%m %#m % #m", []Value{Errno(-3), Errno(-3), Errno(-3)}},
		{"%#m %+#m %#.5m %#8m %-#8m|", []Value{Errno(4000), Errno(4000), Errno(4000), Errno(4000), Errno(4000)}},
		{"%y %5.3y %-y %#'+0Iy %lly %*y %-*.*y %0*y", []Value{Int(7), Int(-3), Int(2), Int(-4)}},
		{"%*y|%-*y|%.*y|%0*.*y", []Value{Int(0), Int(-3), Int(-2), Int(-1), Int(-5)}},
		{"%1$s %2$d %1$s", []Value{String("a"), Int(3)}},
		{"%2$*1$d|%2$-*1$d|%3$.*1$s", []Value{Int(6), Int(42), String("abcdefgh")}},
		{"%C %S", []Value{Int('a'), Null()}},
		{"%0*f|%0*e|%0*g|%0*a|%0*f|%0*F|%0*.3Lf|%-0*f|%0*d|%0*s|%0*p|%0*c|%0*m|%0*.*x|", []Value{Int(-12), Float64(1.5), Int(-12), Float64(1.5), Int(-12), Float64(1.5), Int(-12), Float64(1.5), Int(-12), Float64(math.Inf(-1)), Int(-12), Float64(math.NaN()), Int(-12), f80(2.5), Int(-12), Float64(1), Int(-12), Int(5), Int(-12), String("s"), Int(-12), Ptr(0x10), Int(-12), Int('c'), Int(-12), Errno(1), Int(-9), Int(3), Uint(0xab)}},
		{"%0*f|%0*hf|%0*e|%0*a|%y", []Value{Int(-12), Float64(1.5), Int(-12), Float64(1.5), Int(-12), Float64(1.5), Int(-12), Float64(1.5)}},
		{"%2$0*1$f|%3$0*1$La|%4$0*1$e|%5$0*1$g", []Value{Int(-14), Float64(1.5), f80(3), Float64(-2), Float64(math.Inf(1))}},
		{"%Lx %qd %Lu|%y|%Lx %qd %Lu", []Value{Uint(0x123456789), Int(-1 << 33), Uint(1<<32 + 1), Uint(0x123456789), Int(-1 << 33), Uint(1<<32 + 1)}},
		{"%0$d|%*5d|%1$|%1$5.2y|%hhhd|%lll|%.-5d", []Value{Int(-3)}},
	}
	for _, c := range cases {
		if d := diff(c.format, c.vals...); d != "" {
			t.Error(d)
		}
	}
}

// f80 returns the x87 long double equal to x (every double is one).
func f80(x float64) Value {
	b := math.Float64bits(x)
	sign := uint16(b>>63) << 15
	e := int(b>>52) & 0x7ff
	frac := b & (1<<52 - 1)
	switch {
	case e == 0x7ff:
		return Float80(1<<63|frac<<11, sign|0x7fff)
	case e == 0 && frac == 0:
		return Float80(0, sign)
	case e == 0:
		e = 1
		for frac&(1<<52) == 0 {
			frac <<= 1
			e--
		}
	}
	return Float80(1<<63|(frac&(1<<52-1))<<11, sign|uint16(e-1023+16383))
}

func TestFloatCornerCases(t *testing.T) {
	nan := math.NaN()
	negNaN := math.Float64frombits(math.Float64bits(nan) | 1<<63)
	cases := []struct {
		format string
		vals   []Value
	}{
		{"%.0f %.0f %.0f %.0f %.2f", []Value{Float64(0.5), Float64(1.5), Float64(2.5), Float64(-0.5), Float64(2.675)}},
		{"%#.0e %#.0f %e %E %f %F", []Value{Float64(1e4), Float64(3), Float64(1e-300), Float64(1e300), Float64(math.Copysign(0, -1)), Float64(1.0 / 3)}},
		{"%g %g %g %g %#g %.0g %#.0g %G", []Value{Float64(100000), Float64(1e6), Float64(1e-4), Float64(1e-5), Float64(1.5), Float64(0.5), Float64(3), Float64(1e-10)}},
		{"%a %a %a %A %.1a %.0a %#a %a", []Value{Float64(1), Float64(0), Float64(5e-324), Float64(255.5), Float64(1.96875), Float64(1.5), Float64(1), Float64(math.SmallestNonzeroFloat64 * 1000)}},
		{"%f %F %e %g %a %+f % f %08f %-8f|", []Value{Float64(math.Inf(1)), Float64(math.Inf(-1)), Float64(nan), Float64(negNaN), Float64(math.Inf(1)), Float64(nan), Float64(math.Inf(1)), Float64(math.Inf(-1)), Float64(nan)}},
		{"%010.3f|%-10.3e|%+010g|% 010a|%#010.0f", []Value{Float64(-3.14159), Float64(2.5), Float64(123.456), Float64(1), Float64(9.5)}},
		{"%.30f %.20e %.17g %.40g", []Value{Float64(0.1), Float64(1.0 / 3), Float64(0.1), Float64(math.MaxFloat64)}},
		{"%La %Lf %Le %Lg %LA", []Value{f80(1), f80(2.5), f80(-1e100), f80(1e-5), f80(0.1)}},
		{"%.0La %.1La %La %La %La", []Value{f80(1.96875), f80(15.99), f80(0), f80(5e-324), f80(math.Inf(-1))}},
		{"%Lf %Lg %Le", []Value{Float80(0xffffffffffffffff, 0x7ffe), Float80(1, 0), Float80(0xc000000000000000, 0xffff)}},
		{"%Lf %Lf %Lf %Lf", []Value{Float80(0, 0x7fff), Float80(0x4000000000000000, 0x7fff), Float80(0x4000000000000000, 0x3fff), Float80(0x8000000000000000, 0)}},
		{"%.18Le %.18Le %Le", []Value{Float80(1<<63, 0), Float80(1<<63|1<<62, 0), Float80(1<<62, 0)}},
		{"%Le %Le %La %La %Lg", []Value{Float80(0xff00000000000000, 0), Float80(0x8000000000000001, 0x8000), Float80(0xff00000000000000, 0), Float80(0x8000000000000001, 0x8000), Float80(0x7fffffffffffffff, 0)}},
		{"%.3La %.0La %LA", []Value{Float80(0xfff8000000000000, 0x3fff), Float80(0xf800000000000000, 0x3fff), Float80(1, 0)}},
	}
	for _, c := range cases {
		if d := diff(c.format, c.vals...); d != "" {
			t.Error(d)
		}
	}
}

// The examples of docs/PRINTF.md, with the text it gives (and glibc agrees).
func TestPrintfMDExamples(t *testing.T) {
	cases := []struct {
		format string
		vals   []Value
		want   string
	}{
		{"%p|%8p", []Value{Ptr(0), Ptr(0)}, "(nil)|   (nil)"},
		{"%s|%.3s|%s", []Value{Null(), Null(), String("")}, "(null)||"},
		{"%c", []Value{Int(0)}, "\x00"},
		{"[%.0d][%+.0d][%#.0o]", []Value{Int(0), Int(0), Uint(0)}, "[][+][0]"},
		{"%#x %#o", []Value{Uint(0), Uint(8)}, "0 010"},
		{"%+ d %-05d|%05.3d", []Value{Int(1), Int(2), Int(42)}, "+1 2    |  042"},
		{"%*d|%.*s|", []Value{Int(-5), Int(1), Int(-1), String("abc")}, "1    |abc|"},
		{"%5%", nil, "%"},
		{"%hhd %hd", []Value{Int(300), Int(70000)}, "44 4464"},
		{"%La %a", []Value{f80(1), Float64(1)}, "0x8p-3 0x1p+0"},
		{"%.0f %.0f %.0f %.0f %.2f", []Value{Float64(0.5), Float64(1.5), Float64(2.5), Float64(-0.5), Float64(2.675)}, "0 2 2 -0 2.67"},
		{"%#.0e %#.0f %#g", []Value{Float64(1e4), Float64(3), Float64(1.5)}, "1.e+04 3. 1.50000"},
		{"%a", []Value{Float64(math.Float64frombits(0x7e8))}, "0x0.00000000007e8p-1022"},
		{"%f %F %e", []Value{Float64(math.Copysign(math.NaN(), -1)), Float64(math.Inf(1)), Float64(math.NaN())}, "-nan INF nan"},
		{"%m|%#m", []Value{Errno(9999), Errno(9999)}, "Unknown error 9999|9999"},
		{"%m|%#m", []Value{Errno(2), Errno(2)}, "No such file or directory|ENOENT"},
		{"%2$s %1$d", []Value{Int(7), String("x")}, "x 7"},
		{"%'d %b %Zu %qd %Id %y", []Value{Int(1234567), Uint(5), Uint(6), Int(7), Int(8)}, "1234567 101 6 7 8 %y"},
		{"%zu %lu %hhX %p", []Value{Uint(1 << 40), Uint(1 << 63), Uint(0x1ff), Ptr(0x7ffd12345678)}, "1099511627776 9223372036854775808 FF 0x7ffd12345678"},
	}
	for _, c := range cases {
		f, err := Parse(c.format)
		if err != nil {
			t.Fatal(err)
		}
		if got := string(f.Append(nil, c.vals)); got != c.want {
			t.Errorf("%q: got %q, want %q", c.format, got, c.want)
		}
		if d := diff(c.format, c.vals...); d != "" {
			t.Error(d)
		}
	}
}
