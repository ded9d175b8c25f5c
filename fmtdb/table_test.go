package fmtdb

import (
	"math"
	"strings"
	"testing"
)

// Values the differential tests feed each kind of conversion.
var (
	intVals = []int64{0, 1, -1, 7, 42, -42, 127, 128, -129, 255, 256, 300, 4095, 65535, 70000, -70000,
		math.MaxInt32, math.MinInt32, 1 << 32, 0xdeadbeef, 0x7ffd12345678, math.MaxInt64, math.MinInt64, -1 << 40}
	floatVals = []float64{0, math.Copysign(0, -1), 1, -1, 0.5, 1.5, 2.5, -2.5, 0.1, 2.675, 1.0 / 3, 9.9999995, 99999.95,
		123456789, 1e-5, 1e-4, 1e15, 1e16, 1e17, 1e21, 1e22, 1e100, -1e-300, 5e-324, 2.2250738585072014e-308,
		math.MaxFloat64, math.Inf(1), math.Inf(-1), math.NaN(), math.Float64frombits(0xfff8000000000001), 0x1.fffffffffffffp0}
	strVals   = []string{"", "a", "abc", "hello, world", "criu/mount.c", "%d"}
	starWidth = []int64{-7, 0, 3, 9, -1}
	starPrec  = []int64{-1, 0, 2, 8, 3}
)

// Every flag set, width and precision form, length modifier and
// conversion of docs/PRINTF.md, combined programmatically, is rendered
// byte-for-byte as glibc's snprintf renders it.
func TestDifferentialTable(t *testing.T) {
	flagSets := []string{"", "-", "+", " ", "#", "0", "-0", "+0", "+ ", "#0", "-#", "+-#0 ", " 0", "'", "I"}
	widths := []string{"", "1", "5", "12", "*"}
	precs := []string{"", ".", ".0", ".1", ".3", ".10", ".*"}
	convs := []string{"d", "hhd", "hd", "ld", "lld", "zd", "jd", "td", "qd", "i", "hhi", "li", "Zd",
		"u", "hhu", "hu", "lu", "llu", "zu", "ju", "o", "lo", "ho", "x", "hhx", "hx", "lx", "llx", "zx", "X", "lX", "hhX",
		"b", "lb", "B", "c", "hhc", "s", "p", "e", "E", "f", "F", "g", "G", "a", "A", "Le", "Lf", "Lg", "La", "LA", "lf", "m", "%", "y", "ly"}
	n, fails := 0, 0
	k := 0 // rotates the values so each format meets different ones
	for _, fl := range flagSets {
		for _, w := range widths {
			for _, p := range precs {
				for _, c := range convs {
					format := "<%" + fl + w + p + c + ">"
					f, err := Parse(format)
					if err != nil {
						t.Fatalf("Parse(%q): %v", format, err)
					}
					for rep := 0; rep < 2; rep++ {
						k++
						vals := make([]Value, len(f.Args))
						for i, a := range f.Args {
							vals[i] = sampleValue(f, i, a.Class, k+i)
						}
						n++
						if d := diff(format, vals...); d != "" {
							fails++
							if fails <= 30 {
								t.Error(d)
							}
						}
					}
				}
			}
		}
	}
	if fails > 0 {
		t.Errorf("%d of %d cases differ", fails, n)
	}
	t.Logf("%d cases", n)
}

// sampleValue picks the k-th test value for argument i of f.
func sampleValue(f *Format, i int, c Class, k int) Value {
	isPrec := false
	isStar := false
	for j := range f.Specs {
		s := &f.Specs[j]
		if s.WidthArg == i {
			isStar = true
		}
		if s.PrecArg == i {
			isStar, isPrec = true, true
		}
	}
	switch {
	case isStar && isPrec:
		return Int(starPrec[k%len(starPrec)])
	case isStar:
		return Int(starWidth[k%len(starWidth)])
	}
	switch c {
	case ClassI32, ClassI64:
		return Int(intVals[k%len(intVals)])
	case ClassU32, ClassU64:
		return Uint(uint64(intVals[k%len(intVals)]))
	case ClassPtr:
		if k%5 == 0 {
			return Ptr(0)
		}
		return Ptr(uint64(intVals[k%len(intVals)]))
	case ClassF64:
		return Float64(floatVals[k%len(floatVals)])
	case ClassF80:
		if k%3 == 0 { // a value no double has
			return Float80(0xfedcba9876543211, uint16(0x3fff+k%40-20)|uint16(k%2)<<15)
		}
		return f80(floatVals[k%len(floatVals)])
	case ClassStr, ClassStrMax:
		if k%7 == 0 {
			return Null()
		}
		return String(strVals[k%len(strVals)])
	case ClassErrno:
		return Errno(int64(k%140 - 3))
	}
	return Value{}
}

// The specifiers CRIU's 4141 call sites use, in the shapes they appear.
func TestDifferentialCRIU(t *testing.T) {
	formats := []string{
		"%d", "%s", "%lx", "%x", "%u", "%ld", "%p", "%lu", "%zu", "%o", "%llu", "%llx", "%zd", "%zx", "%li", "%c", "%ju", "%lld", "%i", "%zi",
		"%#x", "%#08x", "%#016lx", "%016lx", "%-4lx", "%*s", "%.*s", "%08lx", "%-10s", "%4d", "%02x", "%3o", "%#o", "%5lu", "%-16s",
		"%" + "l" + "x", "%" + "l" + "u", "%" + "l" + "d", "%" + "x", "%" + "u", "%" + "l" + "i",
		"Error (%s:%d): mnt: Can't open %s: %s\n",
		"Warn  (%s:%d): Fail %d\n",
		"mnt: \tBind %s to %s\n", "%lx-%lx %c%c%c%cp %lx %02x:%02x %lu %s\n",
		"Some message %s %s %c %li %d %lu\n",
		"pie: %d: Daemon waits for command\n",
		"vma %#lx-%#lx %#lx flags %#x prot %#x\n",
		"  %6d: %-20s %#016lx %*s|%.*s|\n",
		"%s: %lx-%lx %#x\n",
	}
	fails := 0
	for _, format := range formats {
		f, err := Parse(format)
		if err != nil {
			t.Fatalf("Parse(%q): %v", format, err)
		}
		for k := 0; k < 40; k++ {
			vals := make([]Value, len(f.Args))
			for i, a := range f.Args {
				vals[i] = sampleValue(f, i, a.Class, 3*k+i)
			}
			if d := diff(format, vals...); d != "" {
				fails++
				if fails < 20 {
					t.Error(d)
				}
			}
		}
	}
	if strings.Count(strings.Join(formats, ""), "%") < 40 {
		t.Fatal("table lost its formats")
	}
}
