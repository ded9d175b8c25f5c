package fmtdb

import (
	"fmt"
	"math"
	"unsafe"
)

// Kind says what a Value holds.
type Kind uint8

const (
	KindNone  Kind = iota // missing argument
	KindInt               // Bits: signed integer, two's complement (i32 sign-extended)
	KindUint              // Bits: unsigned integer
	KindF64               // Bits: IEEE 754 binary64
	KindF80               // Bits: x87 64-bit significand; SE: sign<<15 | exponent
	KindStr               // Str: the bytes of a non-NULL string (may be empty)
	KindNull              // a NULL string pointer
	KindPtr               // Bits: address
	KindErrno             // Bits: errno as a signed integer
)

var kindNames = [...]string{"none", "int", "uint", "f64", "f80", "str", "null", "ptr", "errno"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Value is one recorded argument. It is a plain struct so a decoder can
// fill a reused []Value straight from record bytes without allocating:
// Str aliases the record buffer and must stay valid until rendered.
type Value struct {
	Str  []byte
	Bits uint64
	SE   uint16
	Kind Kind
}

// Int returns a signed integer value (classes i32, i64).
func Int(v int64) Value { return Value{Kind: KindInt, Bits: uint64(v)} }

// Uint returns an unsigned integer value (classes u32, u64).
func Uint(v uint64) Value { return Value{Kind: KindUint, Bits: v} }

// Float64 returns a double value.
func Float64(v float64) Value { return Value{Kind: KindF64, Bits: math.Float64bits(v)} }

// Float64Bits returns a double given by its IEEE 754 bits.
func Float64Bits(b uint64) Value { return Value{Kind: KindF64, Bits: b} }

// Float80 returns an x87 long double: the 64-bit significand (explicit
// integer bit included) and the 16-bit sign and biased exponent, as the
// ten bytes of class f80 store them.
func Float80(significand uint64, signExp uint16) Value {
	return Value{Kind: KindF80, Bits: significand, SE: signExp}
}

// Bytes returns a non-NULL string value referencing b (not copied).
func Bytes(b []byte) Value {
	if b == nil {
		b = []byte{}
	}
	return Value{Kind: KindStr, Str: b}
}

// String returns a non-NULL string value; the bytes alias s and must not
// be modified.
func String(s string) Value {
	if len(s) == 0 {
		return Value{Kind: KindStr, Str: []byte{}}
	}
	return Value{Kind: KindStr, Str: unsafe.Slice(unsafe.StringData(s), len(s))}
}

// Null returns a NULL string pointer.
func Null() Value { return Value{Kind: KindNull} }

// Ptr returns a pointer value (%p).
func Ptr(addr uint64) Value { return Value{Kind: KindPtr, Bits: addr} }

// Errno returns an errno value (class errno).
func Errno(e int64) Value { return Value{Kind: KindErrno, Bits: uint64(e)} }

func (v Value) String() string {
	switch v.Kind {
	case KindInt, KindErrno:
		return fmt.Sprintf("%s(%d)", v.Kind, int64(v.Bits))
	case KindUint, KindPtr:
		return fmt.Sprintf("%s(%#x)", v.Kind, v.Bits)
	case KindF64:
		return fmt.Sprintf("f64(%g)", math.Float64frombits(v.Bits))
	case KindF80:
		return fmt.Sprintf("f80(%#x,%#x)", v.SE, v.Bits)
	case KindStr:
		return fmt.Sprintf("str(%q)", v.Str)
	}
	return v.Kind.String()
}

// Accepts reports whether a value of kind k is what class c records.
func (c Class) Accepts(k Kind) bool {
	switch c {
	case ClassI32, ClassI64:
		return k == KindInt
	case ClassU32, ClassU64:
		return k == KindUint
	case ClassF64:
		return k == KindF64
	case ClassF80:
		return k == KindF80
	case ClassStr, ClassStrMax:
		return k == KindStr || k == KindNull
	case ClassPtr:
		return k == KindPtr
	case ClassErrno:
		return k == KindErrno
	}
	return false
}

// Check reports whether args fit the format: one value per entry of
// f.Args, each of the kind its class records (or KindErrno for a %s
// whose argument was strerror(errno)), and '*' values within MaxAmount. Append renders any args without panicking; Check tells a
// caller whether that rendering is what glibc would have printed.
func (f *Format) Check(args []Value) error {
	if len(args) != len(f.Args) {
		return fmt.Errorf("fmtdb: format takes %d arguments, got %d", len(f.Args), len(args))
	}
	for i, a := range f.Args {
		if (a.Class == ClassStr || a.Class == ClassStrMax) && args[i].Kind == KindErrno {
			continue // strerror(errno) recorded as errno: %s prints its text
		}
		if !a.Class.Accepts(args[i].Kind) {
			return fmt.Errorf("fmtdb: argument %d is %s, want %s", i, args[i].Kind, a.Class)
		}
	}
	for i := range f.Specs {
		s := &f.Specs[i]
		for _, k := range [2]int{s.WidthArg, s.PrecArg} {
			if k >= 0 && (k == s.WidthArg || !s.PrecisionCuts()) {
				// (a string's precision only cuts it: Append clamps it)
				if v := int64(int32(args[k].Bits)); v > MaxAmount || v < -MaxAmount {
					return fmt.Errorf("fmtdb: argument %d: width or precision %d is over the limit of %d", k, v, MaxAmount)
				}
			}
		}
	}
	return nil
}
