package fmtdb

import (
	"math"
	"math/big"
	"strconv"
)

// A float to print: a double (fast path through strconv, which converts
// exactly and rounds half to even like glibc), or an x87 long double
// (through math/big, equally exact).
type floatVal struct {
	neg      bool
	inf, nan bool
	zero     bool
	f64      float64    // |x| when big == nil
	big      *big.Float // |x| of a long double
	// for %a: leading hex digit, fraction nibbles (left-aligned count
	// fracDigits) and binary exponent, as glibc's printf_fphex sees them
	lead       uint8
	frac       uint64
	fracDigits int
	exp        int
}

func float64Val(b uint64) floatVal {
	x := math.Float64frombits(b)
	fv := floatVal{neg: b>>63 != 0, f64: math.Abs(x), fracDigits: 13}
	e := int(b>>52) & 0x7ff
	fv.frac = b & (1<<52 - 1)
	switch {
	case e == 0x7ff:
		fv.inf, fv.nan = fv.frac == 0, fv.frac != 0
	case e == 0 && fv.frac == 0:
		fv.zero = true
	case e == 0: // subnormal: glibc prints 0x0.xxxp-1022
		fv.exp = -1022
	default:
		fv.lead, fv.exp = 1, e-1023
	}
	return fv
}

// float80Val decodes an x87 extended value. Encodings arithmetic never
// produces are classified as glibc 2.36 does (its isnanl treats a cleared
// integer bit with a nonzero exponent as NaN).
func float80Val(sig uint64, se uint16) floatVal {
	fv := floatVal{neg: se>>15 != 0, fracDigits: 15}
	e := int(se & 0x7fff)
	switch {
	case e == 0x7fff:
		fv.inf, fv.nan = sig<<1 == 0, sig<<1 != 0
		if sig>>63 == 0 {
			fv.inf, fv.nan = false, true
		}
		return fv
	case e != 0 && sig>>63 == 0:
		fv.nan = true
		return fv
	case sig == 0:
		fv.zero = true
		return fv
	}
	fv.lead = uint8(sig >> 60)
	fv.frac = sig & (1<<60 - 1)
	m := sig
	if e == 0 {
		// Denormal: glibc's %a shows the raw bits; its decimal
		// conversion ignores the integer bit of a pseudo-denormal
		// unless nothing else is set (observed on glibc 2.36).
		fv.exp = -16385
		e = 1
		if m&^(1<<63) != 0 {
			m &^= 1 << 63
		}
	} else {
		fv.exp = e - 16383 - 3
	}
	if m != 0 {
		fv.big = new(big.Float).SetPrec(64).SetUint64(m)
		fv.big.SetMantExp(fv.big, e-16383-63)
	}
	return fv
}

// appendDec appends |x| in %e ('e'/'E') or %f ('f') style.
func (fv *floatVal) appendDec(dst []byte, style byte, prec int) []byte {
	if fv.big != nil {
		return fv.big.Append(dst, style, prec)
	}
	return strconv.AppendFloat(dst, fv.f64, style, prec, 64)
}

// zero is glibc's pad == '0': a '0' flag without a '-' flag. A negative
// '*' width then left-justifies but still pads with zeros, on the right.
func appendFloat(dst []byte, conv byte, l Length, flags Flags, zero bool, width, prec int, v *Value) []byte {
	var fv floatVal
	switch v.Kind {
	case KindF80:
		fv = float80Val(v.Bits, v.SE)
	case KindStr, KindNull:
		fv = float64Val(0)
	default:
		fv = float64Val(v.Bits)
	}
	upper := conv < 'a'
	lower := conv | 0x20
	alt := flags&FlagHash != 0
	start := len(dst)
	if fv.neg {
		dst = append(dst, '-')
	} else if s := signOf(flags); s != 0 {
		dst = append(dst, s)
	}
	signLen := len(dst) - start
	if fv.inf || fv.nan {
		s := "inf"
		if fv.nan {
			s = "nan"
		}
		if upper {
			s = "INF"
			if fv.nan {
				s = "NAN"
			}
		}
		dst = append(dst, s...)
		return justify(dst, start, 0, width, flags&^FlagZero, false)
	}
	if prec < 0 && lower != 'a' {
		prec = 6
	}
	switch lower {
	case 'f':
		dst = fv.appendDec(dst, 'f', prec)
		if alt && prec == 0 {
			dst = append(dst, '.')
		}
	case 'e':
		body := len(dst)
		dst = fv.appendDec(dst, conv, prec)
		if alt && prec == 0 {
			dst = insert(dst, body+1, '.')
		}
	case 'g':
		dst = appendG(dst, &fv, prec, alt, upper)
	case 'a':
		dst = appendHexFloat(dst, &fv, prec, alt, upper)
		signLen += 2 // zeros go after "0x"
		if zero && flags&FlagMinus != 0 {
			return dst // printf_fphex pads neither side then
		}
	}
	return justify(dst, start, signLen, width, flags, zero)
}

func insert(dst []byte, at int, c byte) []byte {
	dst = append(dst, 0)
	copy(dst[at+1:], dst[at:])
	dst[at] = c
	return dst
}

// justify pads the field dst[start:] to width: after it ('-', with zeros
// if zeroLeft), zeros after its first prefixLen bytes ('0'), or spaces
// before it.
func justify(dst []byte, start, prefixLen, width int, flags Flags, zeroLeft bool) []byte {
	n := width - (len(dst) - start)
	if n <= 0 {
		return dst
	}
	if flags&FlagMinus != 0 {
		if zeroLeft {
			return pad(dst, '0', n)
		}
		return pad(dst, ' ', n)
	}
	c := byte(' ')
	at := start
	if flags&FlagZero != 0 {
		c, at = '0', start+prefixLen
	}
	end := len(dst)
	dst = pad(dst, c, n)
	copy(dst[at+n:], dst[at:end])
	for i := at; i < at+n; i++ {
		dst[i] = c
	}
	return dst
}

// appendG implements %g: P significant digits (0 counts as 1), %e style
// when the exponent X of the rounded value is < -4 or >= P, else %f with
// P-1-X decimals; trailing zeros (and a bare point) dropped unless '#'.
func appendG(dst []byte, fv *floatVal, prec int, alt, upper bool) []byte {
	p := prec
	if p == 0 {
		p = 1
	}
	var scratch [40]byte
	e := byte('e')
	if upper {
		e = 'E'
	}
	t := fv.appendDec(scratch[:0], e, p-1)
	ei := len(t) - 1
	for t[ei] != e {
		ei--
	}
	x, _ := strconv.Atoi(string(t[ei+1:]))
	if fv.zero {
		x = 0
	}
	body := len(dst)
	if x < -4 || x >= p {
		dst = append(dst, t[:ei]...)
		if !alt {
			dst = trimZeros(dst, body)
		} else if p == 1 {
			dst = append(dst, '.')
		}
		return append(dst, t[ei:]...)
	}
	// digits d1..dP of the rounded value, from the %e form
	digits := func(i int) byte {
		if i == 0 {
			return t[0]
		}
		return t[i+1]
	}
	if x >= 0 {
		for i := 0; i <= x; i++ {
			dst = append(dst, digits(i))
		}
		if p-1-x > 0 || alt {
			dst = append(dst, '.')
		}
		for i := x + 1; i < p; i++ {
			dst = append(dst, digits(i))
		}
	} else {
		dst = append(dst, '0', '.')
		dst = pad(dst, '0', -x-1)
		for i := 0; i < p; i++ {
			dst = append(dst, digits(i))
		}
	}
	if !alt {
		dst = trimZeros(dst, body)
	}
	return dst
}

// trimZeros drops trailing fraction zeros and then a bare point.
func trimZeros(dst []byte, body int) []byte {
	dot := -1
	for i := body; i < len(dst); i++ {
		if dst[i] == '.' {
			dot = i
			break
		}
	}
	if dot < 0 {
		return dst
	}
	for len(dst) > dot+1 && dst[len(dst)-1] == '0' {
		dst = dst[:len(dst)-1]
	}
	if len(dst) == dot+1 {
		dst = dst[:dot]
	}
	return dst
}

// appendHexFloat implements %a as glibc's printf_fphex: the leading digit
// is what the encoding holds (1 or 0 for doubles, the top nibble of the
// significand for long doubles), no renormalisation, rounding half to
// even at the precision, and a carry out of 'f' giving leading 1 and an
// exponent four higher.
func appendHexFloat(dst []byte, fv *floatVal, prec int, alt, upper bool) []byte {
	digits := lowerDigits
	if upper {
		digits = upperDigits
	}
	nd := fv.fracDigits
	frac := fv.frac
	lead := fv.lead
	exp := fv.exp
	// significant fraction digits (trailing zeros dropped)
	sig := nd
	for sig > 0 && (frac>>(4*(nd-sig)))&15 == 0 {
		sig--
	}
	nib := func(i int) uint64 { return (frac >> (4 * (nd - 1 - i))) & 15 } // i-th digit after the point
	if prec < 0 {
		prec = sig
	} else if prec < sig {
		last := uint64(lead)
		if prec > 0 {
			last = nib(prec - 1)
		}
		next := nib(prec)
		more := next&7 != 0 || prec+1 < sig
		keep := frac >> (4 * (nd - prec)) // the digits printed
		if next >= 8 && (more || last&1 != 0) {
			keep++
			if prec == 0 || keep>>(4*prec) != 0 {
				keep = 0
				if lead < 15 {
					lead++
				} else {
					lead = 1
					exp += 4
				}
			}
		}
		frac = keep << (4 * (nd - prec))
		sig = prec
	}
	dst = append(dst, '0', 'x')
	if upper {
		dst[len(dst)-1] = 'X'
	}
	dst = append(dst, digits[lead])
	if prec > 0 || alt {
		dst = append(dst, '.')
	}
	for i := 0; i < min(prec, sig); i++ {
		dst = append(dst, digits[nib(i)])
	}
	dst = pad(dst, '0', prec-sig)
	if upper {
		dst = append(dst, 'P')
	} else {
		dst = append(dst, 'p')
	}
	if exp < 0 {
		dst = append(dst, '-')
		exp = -exp
	} else {
		dst = append(dst, '+')
	}
	return strconv.AppendInt(dst, int64(exp), 10)
}
