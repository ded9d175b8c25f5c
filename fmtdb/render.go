package fmtdb

import (
	"bytes"
	"math/bits"
	"slices"
	"strconv"
)

//go:generate go run ./internal/mkerrno -o errno_table.go

// Append appends to dst exactly what glibc 2.36's snprintf prints for the
// format and args (C locale, x86-64 LP64), with one Value per entry of
// f.Args. It never panics: a missing value renders as KindNone, and a
// value of the wrong kind renders as defined in doc.go; Check reports
// both. With enough capacity in dst it does not allocate (long double
// decimal conversions and huge float precisions do).
func (f *Format) Append(dst []byte, args []Value) []byte {
	steps := f.steps
	for i := range steps {
		st := &steps[i]
		// One-byte literals (" ", "/", "\n") are common enough to skip
		// memmove for.
		if n := len(st.lit); n == 1 {
			dst = append(dst, st.lit[0])
		} else if n != 0 {
			dst = append(dst, st.lit...)
		}
		if st.op == opNone {
			if st.spec != nil {
				dst = appendSpec(dst, st.spec, args)
			}
			continue
		}
		// plain directives: no flags but '#' on hex, no width or precision
		v := &none
		if uint(st.arg) < uint(len(args)) {
			v = &args[st.arg]
		}
		x := v.Bits
		if v.Kind == KindStr || v.Kind == KindNull {
			x = 0
		}
		// The switch leaves the magnitude in x, after any sign or
		// prefix; digits are written below, numbers below 10000 (counts,
		// fds, sizes: most of a log's numbers) inline.
		hex := false
		switch st.op {
		case opDec32:
			if i := int32(x); i < 0 {
				dst = append(dst, '-')
				x = uint64(-int64(i))
			} else {
				x = uint64(i)
			}
		case opDec64:
			if int64(x) < 0 {
				dst = append(dst, '-')
				x = -x
			}
		case opUdec32:
			x = uint64(uint32(x))
		case opUdec64:
		case opHex32:
			x, hex = uint64(uint32(x)), true
		case opHex64:
			hex = true
		case opAltHex32:
			if x = uint64(uint32(x)); x != 0 {
				dst = append(dst, '0', 'x')
			}
			hex = true
		case opAltHex64:
			if x != 0 {
				dst = append(dst, '0', 'x')
			}
			hex = true
		case opChar:
			dst = append(dst, byte(x))
			continue
		case opStr:
			switch v.Kind {
			case KindStr:
				b := v.Str
				if i := bytes.IndexByte(b, 0); i >= 0 {
					b = b[:i]
				}
				dst = append(dst, b...)
			case KindNull:
				dst = append(dst, "(null)"...)
			default:
				dst = appendSpec(dst, st.spec, args)
			}
			continue
		}
		switch {
		case hex:
			dst = appendHex(dst, x)
		case x < 10:
			dst = append(dst, byte('0'+x))
		case x < 100:
			dst = append(dst, digitPairs[2*x], digitPairs[2*x+1])
		case x < 1000:
			q, r := x/100, x%100
			dst = append(dst, byte('0'+q), digitPairs[2*r], digitPairs[2*r+1])
		case x < 10000:
			q, r := x/100, x%100
			dst = append(dst, digitPairs[2*q], digitPairs[2*q+1], digitPairs[2*r], digitPairs[2*r+1])
		default:
			dst = appendDec(dst, x)
		}
	}
	return dst
}

// digitPairs holds "00" to "99", two decimal digits per step.
const digitPairs = "00010203040506070809101112131415161718192021222324252627282930313233343536373839404142434445464748495051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899"

// pow10 holds 10^i, for counting decimal digits; 32 entries so that an
// index masked with 31 needs no bounds check.
var pow10 = [32]uint64{1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19}

// decLen returns the number of decimal digits of x (1 for 0).
func decLen(x uint64) int {
	// bits.Len64*1233>>12 is log10 rounded down or one short of it.
	n := (bits.Len64(x|1) * 1233) >> 12
	if x|1 >= pow10[n&31] {
		n++
	}
	return n
}

// appendDec appends x in decimal, written in place two digits at a time
// (no scratch buffer to copy).
func appendDec(dst []byte, x uint64) []byte {
	if x < 10 {
		return append(dst, byte('0'+x))
	}
	n := decLen(x)
	l := len(dst)
	if cap(dst)-l < n {
		dst = slices.Grow(dst, n)
	}
	dst = dst[:l+n]
	b := dst[l:]
	i := len(b)
	for x >= 100 && i >= 2 {
		q := x / 100
		r := (x - q*100) * 2
		i -= 2
		b[i], b[i+1] = digitPairs[r], digitPairs[r+1]
		x = q
	}
	if x >= 10 && i >= 2 {
		b[i-2], b[i-1] = digitPairs[2*x], digitPairs[2*x+1]
	} else if i >= 1 {
		b[i-1] = byte('0' + x)
	}
	return dst
}

// hexPairs holds "00" to "ff", two hex digits per step.
var hexPairs = func() (t [512]byte) {
	for i := range 256 {
		t[2*i], t[2*i+1] = lowerDigits[i>>4], lowerDigits[i&15]
	}
	return t
}()

// appendHex appends x in lower-case hexadecimal, written in place two
// digits at a time.
func appendHex(dst []byte, x uint64) []byte {
	n := (bits.Len64(x|1) + 3) / 4
	l := len(dst)
	if cap(dst)-l < n {
		dst = slices.Grow(dst, n)
	}
	dst = dst[:l+n]
	b := dst[l:]
	i := len(b)
	for ; i >= 2; i -= 2 {
		k := (x & 0xff) * 2
		b[i-2], b[i-1] = hexPairs[k], hexPairs[k+1]
		x >>= 8
	}
	if i == 1 {
		b[0] = lowerDigits[x&15]
	}
	return dst
}

const (
	opNone = iota
	opDec32
	opDec64
	opUdec32
	opUdec64
	opHex32
	opHex64
	opAltHex32
	opAltHex64
	opStr
	opChar
)

// fastOp picks the fast path of a directive that needs no padding.
func fastOp(s *Spec) uint8 {
	if s.Width != 0 || s.Prec >= 0 || s.WidthArg >= 0 || s.PrecArg >= 0 || s.Arg < 0 {
		return opNone
	}
	wide := false
	switch s.Length {
	case LenNone:
	case LenL, LenLL, LenJ, LenZ, LenBigZ, LenT:
		wide = true
	default: // hh and h truncate; L and q vary with glibc's code path
		return opNone
	}
	pick := func(narrow, long uint8) uint8 {
		if wide {
			return long
		}
		return narrow
	}
	switch {
	case s.Flags == 0 && (s.Conv == 'd' || s.Conv == 'i'):
		return pick(opDec32, opDec64)
	case s.Flags == 0 && s.Conv == 'u':
		return pick(opUdec32, opUdec64)
	case s.Flags == 0 && s.Conv == 'x':
		return pick(opHex32, opHex64)
	case s.Flags == FlagHash && s.Conv == 'x':
		return pick(opAltHex32, opAltHex64)
	case s.Flags == 0 && s.Conv == 's' && s.Length == LenNone:
		return opStr
	case s.Flags == 0 && s.Conv == 'c' && s.Length == LenNone:
		return opChar
	}
	return opNone
}

var none Value

func argAt(args []Value, i int) *Value {
	if uint(i) < uint(len(args)) {
		return &args[i]
	}
	return &none
}

func appendSpec(dst []byte, s *Spec, args []Value) []byte {
	flags, width, prec := s.Flags, s.Width, s.Prec
	// glibc: '-' forces space padding; a negative '*' width only makes
	// the field left-justified (it still prints '0' for unknowns).
	zero := flags&FlagZero != 0 && flags&FlagMinus == 0
	if s.WidthArg >= 0 {
		w := int64(int32(argAt(args, s.WidthArg).Bits))
		if w < 0 {
			flags |= FlagMinus
			w = -w
		}
		width = int(min(w, MaxAmount))
	}
	if s.PrecArg >= 0 {
		p := int64(int32(argAt(args, s.PrecArg).Bits))
		if p < 0 {
			prec = -1
		} else {
			prec = int(min(p, MaxAmount))
		}
	}
	if flags&FlagMinus != 0 {
		flags &^= FlagZero
	}
	v := argAt(args, s.Arg)
	length := s.Length
	if s.slow && (length == LenBigL || length == LenQ) {
		// glibc's positional path reads L/q integers as long long but
		// prints them as int (is_long stays 0 on LP64).
		length = LenNone
	}
	switch convKind(s.Conv) {
	case kSigned:
		x := int64(v.Bits)
		switch length {
		case LenHH:
			x = int64(int8(x))
		case LenH:
			x = int64(int16(x))
		case LenNone:
			x = int64(int32(x))
		}
		if v.Kind == KindStr || v.Kind == KindNull {
			x = 0
		}
		neg, mag := x < 0, uint64(x)
		if neg {
			mag = -mag
		}
		return appendNumber(dst, flags, width, prec, neg, mag, 10, 0, signOf(flags))
	case kUnsigned:
		x := v.Bits
		switch length {
		case LenHH:
			x = uint64(uint8(x))
		case LenH:
			x = uint64(uint16(x))
		case LenNone:
			x = uint64(uint32(x))
		}
		if v.Kind == KindStr || v.Kind == KindNull {
			x = 0
		}
		switch s.Conv {
		case 'u':
			return appendNumber(dst, flags, width, prec, false, x, 10, 0, 0)
		case 'o':
			return appendNumber(dst, flags, width, prec, false, x, 8, 0, 0)
		default: // x X b B
			base := 16
			if s.Conv == 'b' || s.Conv == 'B' {
				base = 2
			}
			return appendNumber(dst, flags, width, prec, false, x, base, s.Conv, 0)
		}
	case kPointer:
		x := v.Bits
		if v.Kind == KindStr || v.Kind == KindNull {
			x = 0
		}
		if x == 0 {
			// glibc prints "(nil)" through its string path, raising the
			// precision so it is never cut.
			return appendPadded(dst, flags, width, "(nil)")
		}
		return appendNumber(dst, flags|FlagHash, width, prec, false, x, 16, 'x', signOf(flags))
	case kChar, kWideChar:
		var c [1]byte
		c[0] = byte(v.Bits)
		if v.Kind == KindStr || v.Kind == KindNull {
			c[0] = 0
		}
		return appendPaddedBytes(dst, flags, width, c[:])
	case kString, kWideStr:
		switch v.Kind {
		case KindStr:
			b := v.Str
			if prec >= 0 && prec < len(b) {
				b = b[:prec]
			}
			if i := bytes.IndexByte(b, 0); i >= 0 {
				b = b[:i] // C strings end at NUL
			}
			return appendPaddedBytes(dst, flags, width, b)
		case KindNull:
			if prec >= 0 && prec < len("(null)") {
				return appendPadded(dst, flags, width, "")
			}
			return appendPadded(dst, flags, width, "(null)")
		case KindErrno:
			return appendPadded(dst, flags, width, cut(errnoString(int64(v.Bits)), prec))
		}
		return appendPadded(dst, flags, width, cut(badArg, prec))
	case kErrno:
		e := int64(int32(v.Bits))
		if flags&FlagHash != 0 {
			if uint64(e) < uint64(len(errnoName)) && errnoName[e] != "" {
				return appendPadded(dst, flags, width, cut(errnoName[e], prec))
			}
			// no name: glibc prints the number as %d would
			neg, mag := e < 0, uint64(e)
			if neg {
				mag = -mag
			}
			return appendNumber(dst, flags, width, prec, neg, mag, 10, 0, signOf(flags))
		}
		return appendPadded(dst, flags, width, cut(errnoString(e), prec))
	case kPercent:
		return append(dst, '%')
	case kFloat:
		return appendFloat(dst, s.Conv, s.Length, flags, zero && s.slow, width, prec, v)
	}
	return appendUnknown(dst, s.Conv, flags, zero, width, prec)
}

// badArg is what %s prints for a value that is not a string (see doc.go).
const badArg = "(?)"

func cut(s string, prec int) string {
	if prec >= 0 && prec < len(s) {
		return s[:prec]
	}
	return s
}

// errnoString is glibc's strerror(e).
func errnoString(e int64) string {
	if e == int64(int32(e)) {
		if uint64(e) < uint64(len(errnoText)) && errnoText[e] != "" {
			return errnoText[e]
		}
	}
	return "Unknown error " + strconv.FormatInt(int64(int32(e)), 10)
}

// ErrnoText returns glibc's strerror text for e ("Unknown error e" for
// errnos it does not know).
func ErrnoText(e int) string { return errnoString(int64(e)) }

// ErrnoName returns glibc's name for e (strerrorname_np), "" if none.
func ErrnoName(e int) string {
	if uint(e) < uint(len(errnoName)) {
		return errnoName[e]
	}
	return ""
}

func signOf(flags Flags) byte {
	switch {
	case flags&FlagPlus != 0:
		return '+'
	case flags&FlagSpace != 0:
		return ' '
	}
	return 0
}

// pad appends n copies of c.
func pad(dst []byte, c byte, n int) []byte {
	if n <= 0 {
		return dst
	}
	l := len(dst)
	if cap(dst)-l < n {
		dst = append(dst[:cap(dst)], make([]byte, l+n-cap(dst))...)
	}
	dst = dst[:l+n]
	b := dst[l:]
	for i := range b {
		b[i] = c
	}
	return dst
}

func appendPadded(dst []byte, flags Flags, width int, s string) []byte {
	if width <= len(s) {
		return append(dst, s...)
	}
	if flags&FlagMinus != 0 {
		return pad(append(dst, s...), ' ', width-len(s))
	}
	return append(pad(dst, ' ', width-len(s)), s...)
}

func appendPaddedBytes(dst []byte, flags Flags, width int, s []byte) []byte {
	if width <= len(s) {
		return append(dst, s...)
	}
	if flags&FlagMinus != 0 {
		return pad(append(dst, s...), ' ', width-len(s))
	}
	return append(pad(dst, ' ', width-len(s)), s...)
}

const (
	lowerDigits = "0123456789abcdef"
	upperDigits = "0123456789ABCDEF"
)

// appendNumber prints an integer as glibc's vfprintf does: precision is
// the minimum digit count (and disables '0'), "%.0d" of 0 prints no digit,
// '#' makes octal start with 0 and prefixes nonzero hex/binary with
// 0x/0X/0b/0B (prefix is the conversion letter, 0 for none).
func appendNumber(dst []byte, flags Flags, width, prec int, neg bool, mag uint64, base int, prefix byte, sign byte) []byte {
	upper := prefix == 'X'
	var buf [64]byte
	i := len(buf)
	zeroPad := flags&FlagZero != 0 && flags&FlagMinus == 0
	if prec < 0 {
		prec = 1
	} else {
		zeroPad = false
	}
	if flags&FlagHash == 0 || mag == 0 || (base != 16 && base != 2) {
		prefix = 0
	}
	if prec == 0 && mag == 0 {
		if base == 8 && flags&FlagHash != 0 {
			i--
			buf[i] = '0'
		}
	} else {
		switch base {
		case 10:
			for mag >= 10 {
				q := mag / 10
				i--
				buf[i] = byte('0' + mag - q*10)
				mag = q
			}
			i--
			buf[i] = byte('0' + mag)
		case 16:
			digits := lowerDigits
			if upper {
				digits = upperDigits
			}
			for {
				i--
				buf[i] = digits[mag&15]
				mag >>= 4
				if mag == 0 {
					break
				}
			}
		case 8:
			for {
				i--
				buf[i] = byte('0' + mag&7)
				mag >>= 3
				if mag == 0 {
					break
				}
			}
			if flags&FlagHash != 0 && prec <= len(buf)-i && buf[i] != '0' {
				i--
				buf[i] = '0'
			}
		case 2:
			for {
				i--
				buf[i] = byte('0' + mag&1)
				mag >>= 1
				if mag == 0 {
					break
				}
			}
		}
	}
	ndig := len(buf) - i
	zeros := max(prec-ndig, 0)
	if neg {
		sign = '-'
	}
	total := ndig + zeros
	if sign != 0 {
		total++
	}
	if prefix != 0 {
		total += 2
	}
	if flags&FlagMinus == 0 && width > total {
		if zeroPad {
			zeros += width - total
		} else {
			dst = pad(dst, ' ', width-total)
		}
	}
	if sign != 0 {
		dst = append(dst, sign)
	}
	if prefix != 0 {
		dst = append(dst, '0', prefix)
	}
	dst = pad(dst, '0', zeros)
	dst = append(dst, buf[i:]...)
	if flags&FlagMinus != 0 && width > total {
		dst = pad(dst, ' ', width-total)
	}
	return dst
}

// appendUnknown prints an unknown conversion as glibc's printf_unknown:
// '%', the flags in a fixed order, the width and precision after '*'
// arguments were applied, and the character (length modifiers dropped).
func appendUnknown(dst []byte, conv byte, flags Flags, zero bool, width, prec int) []byte {
	dst = append(dst, '%')
	if flags&FlagHash != 0 {
		dst = append(dst, '#')
	}
	if flags&FlagQuote != 0 {
		dst = append(dst, '\'')
	}
	if flags&FlagPlus != 0 {
		dst = append(dst, '+')
	} else if flags&FlagSpace != 0 {
		dst = append(dst, ' ')
	}
	if flags&FlagMinus != 0 {
		dst = append(dst, '-')
	}
	if zero {
		dst = append(dst, '0')
	}
	if flags&FlagI18n != 0 {
		dst = append(dst, 'I')
	}
	if width != 0 {
		dst = strconv.AppendInt(dst, int64(width), 10)
	}
	if prec >= 0 {
		dst = append(dst, '.')
		dst = strconv.AppendInt(dst, int64(prec), 10)
	}
	return append(dst, conv)
}

// EscapeLiteral appends s to dst as format text that prints s: every '%'
// doubled. The rewriter uses it to fold constant arguments into formats.
func EscapeLiteral(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if s[i] == '%' {
			dst = append(dst, '%')
		}
		dst = append(dst, s[i])
	}
	return dst
}

// AppendConst renders one directive with a constant value, as it would
// print inside its format (for folding __FILE__/__LINE__ and other
// literal arguments into the format text). It refuses directives that
// take '*' arguments or are positional, and %m (errno is not constant).
func (s *Spec) AppendConst(dst []byte, v Value) ([]byte, error) {
	switch {
	case s.WidthArg >= 0 || s.PrecArg >= 0:
		return dst, &ParseError{Offset: s.Offset, Msg: "cannot fold a directive with '*' arguments"}
	case s.Pos != 0:
		return dst, &ParseError{Offset: s.Offset, Msg: "cannot fold a positional directive"}
	case s.Arg < 0:
		return dst, &ParseError{Offset: s.Offset, Msg: "directive takes no argument"}
	case convKind(s.Conv) == kErrno:
		return dst, &ParseError{Offset: s.Offset, Msg: "cannot fold %m"}
	}
	one := *s
	one.Arg = 0
	return appendSpec(dst, &one, []Value{v}), nil
}
