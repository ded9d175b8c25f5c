package fmtdb

import (
	"math"
	"testing"
)

func float64frombits(b uint64) float64 { return math.Float64frombits(b) }

// The corner cases of PRINTF.md, each checked against glibc.
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
	}
	for _, c := range cases {
		if d := diff(c.format, c.vals...); d != "" {
			t.Error(d)
		}
	}
}
