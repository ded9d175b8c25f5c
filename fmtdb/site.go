package fmtdb

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Class is how one argument of a log call travels from the program to the
// decoder. The rewriter derives it from the format, the runtime encodes by
// it and the decoder reads by it; this table is the single source of truth
// (runtime/logpack_site.h mirrors the numbers and a test keeps them equal).
type Class uint8

const (
	ClassInvalid Class = 0
	ClassI32     Class = 1  // int (also %c, %hhd, %hd, * width/precision): zigzag varint
	ClassU32     Class = 2  // unsigned int (%u %x %o with no/hh/h length): varint
	ClassI64     Class = 3  // long, long long, intmax_t, ssize_t, ptrdiff_t: zigzag varint
	ClassU64     Class = 4  // unsigned long, size_t, uintmax_t ...: varint
	ClassF64     Class = 5  // double: 8 bytes little-endian IEEE 754
	ClassF80     Class = 6  // long double: 10 bytes, x87 extended (mantissa, sign+exponent)
	ClassStr     Class = 7  // const char *: varint n (0 = NULL, else n-1 bytes follow)
	ClassPtr     Class = 8  // void * (%p): varint of the address
	ClassErrno   Class = 9  // errno at call time (%m, strerror(errno)); no C argument: zigzag varint
	ClassStrMax  Class = 10 // const char * read with a precision bound; encoded as ClassStr
	classLimit   Class = 11
)

var classNames = [...]string{"invalid", "i32", "u32", "i64", "u64", "f64", "f80", "str", "ptr", "errno", "strmax"}

func (c Class) String() string {
	if c < classLimit {
		return classNames[c]
	}
	return fmt.Sprintf("class(%d)", uint8(c))
}

// ParseClass is the inverse of Class.String.
func ParseClass(s string) (Class, bool) {
	for i, n := range classNames {
		if n == s && i != 0 {
			return Class(i), true
		}
	}
	return ClassInvalid, false
}

// TakesArgument reports whether the class consumes one C argument (one
// logpack_arg slot at the call site). ClassErrno is captured by the runtime.
func (c Class) TakesArgument() bool { return c != ClassErrno }

// ArgSpec is one entry of a site's argument list. Bound only matters for
// ClassStrMax: the runtime copies at most that many bytes of the string,
// either a fixed precision (%.5s) or the value of another argument (%.*s).
type ArgSpec struct {
	Class Class
	// Bound for ClassStrMax: if BoundArg >= 0 the bound is the value of
	// argument BoundArg (an index into the site's argument list, negative
	// values meaning unbounded); otherwise it is the fixed Bound.
	Bound    int
	BoundArg int
}

// LevelRuntime marks a site whose level is decided at run time: each record
// then carries its level in one byte.
const LevelRuntime = 0xFF

// Site is everything known about one log call site.
type Site struct {
	ID     uint64 // stable, content-derived; see SiteID
	Level  uint8  // 0..7, or LevelRuntime
	File   string // source file of the call (after #line mapping)
	Line   int
	Func   string // enclosing function, "" at file scope
	Format string // full format as the decoder renders it (literal args folded in)
	Args   []ArgSpec
}

// DescriptorVersion is the first byte of every encoded site descriptor.
const DescriptorVersion = 1

// AppendDescriptor appends the binary site descriptor (docs/FORMAT.md,
// "Site descriptors"). The rewriter embeds these bytes in the program; the
// runtime copies them verbatim into the log the first time a site is used.
func (s *Site) AppendDescriptor(b []byte) []byte {
	b = append(b, DescriptorVersion)
	b = binary.LittleEndian.AppendUint64(b, s.ID)
	return s.appendContent(b)
}

// appendContent appends what a site's ID is derived from, in descriptor
// order: level, file, line, function, format, class list.
func (s *Site) appendContent(b []byte) []byte {
	b = append(b, s.Level)
	b = appendString(b, s.File)
	b = binary.AppendUvarint(b, uint64(s.Line))
	b = appendString(b, s.Func)
	b = appendString(b, s.Format)
	return AppendArgSpecs(b, s.Args)
}

// AppendArgSpecs appends the class list: a varint count, then per argument
// its class byte, and for ClassStrMax a varint bound (2*Bound for a fixed
// bound, 2*BoundArg+1 for a bound taken from another argument). The runtime
// walks exactly this byte string.
func AppendArgSpecs(b []byte, args []ArgSpec) []byte {
	b = binary.AppendUvarint(b, uint64(len(args)))
	for _, a := range args {
		b = append(b, byte(a.Class))
		if a.Class == ClassStrMax {
			if a.BoundArg >= 0 {
				b = binary.AppendUvarint(b, 2*uint64(a.BoundArg)+1)
			} else {
				b = binary.AppendUvarint(b, 2*uint64(a.Bound))
			}
		}
	}
	return b
}

// ClassListOffset returns the offset of the class list within an encoded
// descriptor (where the runtime starts reading classes).
func ClassListOffset(desc []byte) (int, error) {
	var s Site
	_, off, err := decodeUpToArgs(desc, &s)
	return off, err
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// Limits that keep a hostile descriptor from making the decoder allocate
// without bound.
const (
	MaxDescriptorArgs = 255
	MaxDescriptorLen  = 1 << 16
)

// ErrDescriptor is wrapped by every descriptor decoding error.
var ErrDescriptor = errors.New("bad site descriptor")

// DecodeDescriptor parses a descriptor produced by AppendDescriptor. It
// never panics and never allocates more than the input's size.
func DecodeDescriptor(desc []byte) (Site, error) {
	var s Site
	if len(desc) > MaxDescriptorLen {
		return s, fmt.Errorf("%w: %d bytes is over the %d byte limit", ErrDescriptor, len(desc), MaxDescriptorLen)
	}
	rest, _, err := decodeUpToArgs(desc, &s)
	if err != nil {
		return s, err
	}
	n, k := binary.Uvarint(rest)
	if k <= 0 || n > MaxDescriptorArgs || n > uint64(len(rest)) {
		return s, fmt.Errorf("%w: bad argument count", ErrDescriptor)
	}
	rest = rest[k:]
	s.Args = make([]ArgSpec, 0, n)
	for i := uint64(0); i < n; i++ {
		if len(rest) == 0 {
			return s, fmt.Errorf("%w: class list cut short", ErrDescriptor)
		}
		a := ArgSpec{Class: Class(rest[0]), BoundArg: -1}
		rest = rest[1:]
		if a.Class == ClassInvalid || a.Class >= classLimit {
			return s, fmt.Errorf("%w: unknown class %d", ErrDescriptor, a.Class)
		}
		if a.Class == ClassStrMax {
			v, k := binary.Uvarint(rest)
			if k <= 0 || v > 1<<32 {
				return s, fmt.Errorf("%w: bad string bound", ErrDescriptor)
			}
			rest = rest[k:]
			if v&1 == 1 {
				a.BoundArg = int(v >> 1)
				if a.BoundArg >= int(n) {
					return s, fmt.Errorf("%w: string bound names argument %d of %d", ErrDescriptor, a.BoundArg, n)
				}
			} else {
				a.Bound = int(v >> 1)
			}
		}
		s.Args = append(s.Args, a)
	}
	if len(rest) != 0 {
		return s, fmt.Errorf("%w: %d trailing bytes", ErrDescriptor, len(rest))
	}
	return s, nil
}

func decodeUpToArgs(desc []byte, s *Site) (rest []byte, off int, err error) {
	bad := func(what string) ([]byte, int, error) {
		return nil, 0, fmt.Errorf("%w: %s", ErrDescriptor, what)
	}
	if len(desc) < 10 {
		return bad("too short")
	}
	if desc[0] != DescriptorVersion {
		return bad(fmt.Sprintf("version %d, want %d", desc[0], DescriptorVersion))
	}
	s.ID = binary.LittleEndian.Uint64(desc[1:9])
	s.Level = desc[9]
	p := desc[10:]
	str := func(dst *string) bool {
		n, k := binary.Uvarint(p)
		if k <= 0 || n > uint64(len(p)-k) {
			return false
		}
		*dst = string(p[k : k+int(n)])
		p = p[k+int(n):]
		return true
	}
	if !str(&s.File) {
		return bad("bad file name")
	}
	line, k := binary.Uvarint(p)
	if k <= 0 || line > 1<<31 {
		return bad("bad line")
	}
	s.Line = int(line)
	p = p[k:]
	if !str(&s.Func) {
		return bad("bad function name")
	}
	if !str(&s.Format) {
		return bad("bad format")
	}
	return p, len(desc) - len(p), nil
}
