package decoder

import (
	"bytes"
	"encoding/binary"
	"math"

	"github.com/logpack/logpack/fmtdb"
	"github.com/logpack/logpack/internal/logfile"
)

// A plan renders a site's records straight from their encoded arguments,
// in one pass: no Values in between. It covers the directives fmtdb
// renders on its own fast path (%d %i %u %x %#x %c %s %m without flags,
// width or precision, of the classes the format reads) and hands every
// other directive its decoded value through fmtdb (Spec.AppendConst), so
// the text is fmtdb's, which is glibc's. Sites with '*' amounts,
// positional arguments, %#m or a padded %m, unknown conversions or a NUL
// in the format have no plan.
type plan struct {
	ops  []planOp
	tail string // literal text after the last directive
}

type planOp struct {
	lit  string // literal text before the directive
	op   uint8
	cls  fmtdb.Class
	spec *fmtdb.Spec // pDirective: rendered by fmtdb with the decoded value
}

const (
	pI32       = iota // %d %i of an int
	pI64              // %ld %lld %li %zd %jd of a 64-bit signed
	pU32              // %u
	pU64              // %lu %llu %zu ...
	pX32              // %x
	pX64              // %lx ...
	pAltX32           // %#x
	pAltX64           // %#lx
	pChar             // %c
	pStr              // %s of a string
	pErrno            // %s of strerror(errno), %m
	pPercent          // %%
	pDirective        // anything else with one argument: through fmtdb
)

// newPlan compiles the plan of a site whose message renders; nil if it
// has none.
func newPlan(m *message, s *fmtdb.Site) *plan {
	f := m.f
	if f == nil || m.err != nil || m.stars || f.Positional || f.NUL >= 0 || len(f.Args) != len(s.Args) {
		return nil
	}
	p := &plan{}
	lit := ""
	next := 0 // arguments are read in order
	for _, pc := range f.Pieces {
		if pc.Spec == nil {
			lit = pc.Lit
			continue
		}
		sp := pc.Spec
		o := planOp{lit: lit, spec: sp}
		lit = ""
		if sp.Conv == '%' && sp.Arg < 0 {
			o.op = pPercent
			p.ops = append(p.ops, o)
			continue
		}
		if sp.Arg != next || sp.Arg >= len(s.Args) || !sp.Known() {
			return nil
		}
		next++
		o.cls = s.Args[sp.Arg].Class
		o.op = planOpOf(sp, o.cls)
		if o.op == pDirective && sp.Conv == 'm' {
			return nil // %#m and padded %m: fmtdb renders those only whole
		}
		p.ops = append(p.ops, o)
	}
	if next != len(s.Args) {
		return nil
	}
	p.tail = lit
	return p
}

// planOpOf picks the one-pass operation of a directive, as fmtdb's fast
// path would render it.
func planOpOf(sp *fmtdb.Spec, c fmtdb.Class) uint8 {
	if sp.Width != 0 || sp.Prec >= 0 {
		return pDirective
	}
	narrow := sp.Length == fmtdb.LenNone
	wide := false
	switch sp.Length {
	case fmtdb.LenL, fmtdb.LenLL, fmtdb.LenJ, fmtdb.LenZ, fmtdb.LenBigZ, fmtdb.LenT:
		wide = true
	}
	switch {
	case sp.Flags == 0 && (sp.Conv == 'd' || sp.Conv == 'i') && narrow && c == fmtdb.ClassI32:
		return pI32
	case sp.Flags == 0 && (sp.Conv == 'd' || sp.Conv == 'i') && wide && c == fmtdb.ClassI64:
		return pI64
	case sp.Flags == 0 && sp.Conv == 'u' && narrow && c == fmtdb.ClassU32:
		return pU32
	case sp.Flags == 0 && sp.Conv == 'u' && wide && c == fmtdb.ClassU64:
		return pU64
	case sp.Flags == 0 && sp.Conv == 'x' && narrow && c == fmtdb.ClassU32:
		return pX32
	case sp.Flags == 0 && sp.Conv == 'x' && wide && c == fmtdb.ClassU64:
		return pX64
	case sp.Flags == fmtdb.FlagHash && sp.Conv == 'x' && narrow && c == fmtdb.ClassU32:
		return pAltX32
	case sp.Flags == fmtdb.FlagHash && sp.Conv == 'x' && wide && c == fmtdb.ClassU64:
		return pAltX64
	case sp.Flags == 0 && sp.Conv == 'c' && narrow && c == fmtdb.ClassI32:
		return pChar
	case sp.Flags == 0 && sp.Conv == 's' && narrow && (c == fmtdb.ClassStr || c == fmtdb.ClassStrMax):
		return pStr
	case sp.Flags == 0 && (sp.Conv == 's' && narrow || sp.Conv == 'm') && c == fmtdb.ClassErrno:
		return pErrno
	}
	return pDirective
}

// render appends the message of a record whose encoded arguments are p.
// It returns false, and dst as it was, if they do not decode exactly as
// the site's (damage): the careful path then reports it.
func (pl *plan) render(dst, p []byte) ([]byte, bool) {
	start := len(dst)
	off := 0
	for i := range pl.ops {
		o := &pl.ops[i]
		if n := len(o.lit); n == 1 {
			dst = append(dst, o.lit[0])
		} else if n != 0 {
			dst = append(dst, o.lit...)
		}
		if o.op == pPercent {
			dst = append(dst, '%')
			continue
		}
		// Every class but the floating ones starts with a varint; most
		// are one or two bytes, decoded here without a call (as in
		// logfile.DecodeArgsFast).
		var v uint64
		if o.cls != fmtdb.ClassF64 && o.cls != fmtdb.ClassF80 {
			if off >= len(p) {
				return dst[:start], false
			}
			if b := p[off]; b < 0x80 {
				v = uint64(b)
				off++
			} else if off+1 < len(p) && p[off+1] < 0x80 {
				v = uint64(b&0x7f) | uint64(p[off+1])<<7
				off += 2
			} else {
				var n int
				if v, n = binary.Uvarint(p[off:]); n <= 0 {
					return dst[:start], false
				}
				off += n
			}
		}
		switch o.op {
		case pI32:
			s := logfile.Zigzag(v)
			if s != int64(int32(s)) {
				return dst[:start], false
			}
			if s < 0 {
				dst = append(dst, '-')
				s = -s
			}
			dst = appendUint(dst, uint64(s))
		case pI64:
			s := logfile.Zigzag(v)
			u := uint64(s)
			if s < 0 {
				dst = append(dst, '-')
				u = -u
			}
			dst = appendUint(dst, u)
		case pU32:
			if v > math.MaxUint32 {
				return dst[:start], false
			}
			dst = appendUint(dst, v)
		case pU64:
			dst = appendUint(dst, v)
		case pX32, pAltX32:
			if v > math.MaxUint32 {
				return dst[:start], false
			}
			if o.op == pAltX32 && v != 0 {
				dst = append(dst, '0', 'x')
			}
			dst = appendLowerHex(dst, v)
		case pX64, pAltX64:
			if o.op == pAltX64 && v != 0 {
				dst = append(dst, '0', 'x')
			}
			dst = appendLowerHex(dst, v)
		case pChar:
			s := logfile.Zigzag(v)
			if s != int64(int32(s)) {
				return dst[:start], false
			}
			dst = append(dst, byte(s))
		case pStr:
			if v == 0 {
				dst = append(dst, "(null)"...)
				break
			}
			if v-1 > uint64(len(p)-off) {
				return dst[:start], false
			}
			b := p[off : off+int(v-1)]
			off += int(v - 1)
			if i := bytes.IndexByte(b, 0); i >= 0 {
				b = b[:i]
			}
			dst = append(dst, b...)
		case pErrno:
			s := logfile.Zigzag(v)
			if s != int64(int32(s)) {
				return dst[:start], false
			}
			dst = append(dst, fmtdb.ErrnoText(int(s))...)
		default:
			var a fmtdb.Value
			switch o.cls {
			case fmtdb.ClassI32, fmtdb.ClassErrno:
				s := logfile.Zigzag(v)
				if s != int64(int32(s)) {
					return dst[:start], false
				}
				a = fmtdb.Value{Kind: fmtdb.KindInt, Bits: uint64(s)}
				if o.cls == fmtdb.ClassErrno {
					a.Kind = fmtdb.KindErrno
				}
			case fmtdb.ClassI64:
				a = fmtdb.Value{Kind: fmtdb.KindInt, Bits: uint64(logfile.Zigzag(v))}
			case fmtdb.ClassU32:
				if v > math.MaxUint32 {
					return dst[:start], false
				}
				a = fmtdb.Value{Kind: fmtdb.KindUint, Bits: v}
			case fmtdb.ClassU64:
				a = fmtdb.Value{Kind: fmtdb.KindUint, Bits: v}
			case fmtdb.ClassPtr:
				a = fmtdb.Value{Kind: fmtdb.KindPtr, Bits: v}
			case fmtdb.ClassStr, fmtdb.ClassStrMax:
				if v == 0 {
					a = fmtdb.Value{Kind: fmtdb.KindNull}
					break
				}
				if v-1 > uint64(len(p)-off) {
					return dst[:start], false
				}
				end := off + int(v-1)
				a = fmtdb.Value{Kind: fmtdb.KindStr, Str: p[off:end:end]}
				off = end
			case fmtdb.ClassF64, fmtdb.ClassF80:
				n := 8
				if o.cls == fmtdb.ClassF80 {
					n = 10
				}
				if len(p)-off < n {
					return dst[:start], false
				}
				a = fmtdb.Value{Kind: fmtdb.KindF64, Bits: binary.LittleEndian.Uint64(p[off:])}
				if n == 10 {
					a.Kind, a.SE = fmtdb.KindF80, uint16(p[off+8])|uint16(p[off+9])<<8
				}
				off += n
			default:
				return dst[:start], false
			}
			var err error
			if dst, err = o.spec.AppendConst(dst, a); err != nil {
				return dst[:start], false
			}
		}
	}
	if off != len(p) {
		return dst[:start], false
	}
	return append(dst, pl.tail...), true
}

// digits4 holds the four decimal digits of 0 to 9999, little-endian in
// a word each (40 KB: the table stays in cache while a log is read).
var digits4 = func() (t [10000]uint32) {
	for i := range t {
		t[i] = uint32('0'+i/1000) | uint32('0'+i/100%10)<<8 | uint32('0'+i/10%10)<<16 | uint32('0'+i%10)<<24
	}
	return
}()

// appendUint appends x in decimal, four digits at a time.
func appendUint(dst []byte, x uint64) []byte {
	switch {
	case x < 10:
		return append(dst, byte('0'+x))
	case x < 10000:
		w := digits4[x]
		switch {
		case x < 100:
			return append(dst, byte(w>>16), byte(w>>24))
		case x < 1000:
			return append(dst, byte(w>>8), byte(w>>16), byte(w>>24))
		}
		return append(dst, byte(w), byte(w>>8), byte(w>>16), byte(w>>24))
	case x < 100_000_000:
		dst = appendUint(dst, x/10000)
		w := digits4[x%10000]
		return append(dst, byte(w), byte(w>>8), byte(w>>16), byte(w>>24))
	}
	dst = appendUint(dst, x/100_000_000)
	lo := x % 100_000_000
	w, v := digits4[lo/10000], digits4[lo%10000]
	return append(dst, byte(w), byte(w>>8), byte(w>>16), byte(w>>24), byte(v), byte(v>>8), byte(v>>16), byte(v>>24))
}

// appendLowerHex appends x in lower-case hexadecimal.
func appendLowerHex(dst []byte, x uint64) []byte {
	const hex = "0123456789abcdef"
	var b [16]byte
	i := len(b)
	for {
		i--
		b[i] = hex[x&15]
		x >>= 4
		if x == 0 {
			break
		}
	}
	return append(dst, b[i:]...)
}
