package logfile

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/logpack/logpack/fmtdb"
)

// Framing results of Frame besides a record.
var (
	// ErrShort: the bytes end inside the record (the caller may read more,
	// or, at the end of the data, the record was cut off).
	ErrShort = errors.New("record cut short")
	// ErrFraming: the length field is impossible (an escaped length below
	// 255 or zero).
	ErrFraming = errors.New("bad record length")
)

// Frame splits the record at the start of b, which holds the rest of a
// chunk's record area (or as much of it as has been read). It returns the
// record body and the number of bytes the record occupies. n == 0 with a nil
// error is the end of the chunk's records: a zero length byte, or no bytes.
func Frame(b []byte) (body []byte, n int, err error) {
	if len(b) == 0 || b[0] == 0 {
		return nil, 0, nil
	}
	l, h := int(b[0]), 1
	if l == 255 {
		if len(b) < 3 {
			return nil, 0, ErrShort
		}
		l, h = int(binary.LittleEndian.Uint16(b[1:])), 3
		if l == 0 {
			return nil, 0, ErrFraming
		}
	}
	if len(b) < h+l {
		return nil, 0, ErrShort
	}
	return b[h : h+l], h + l, nil
}

// FrameSize returns the length of the framing for a body of n bytes.
func FrameSize(n int) int {
	if n < 255 {
		return 1
	}
	return 3
}

// Uvarint is binary.Uvarint with the one- and two-byte cases first
// (site indexes, ts deltas of a busy writer); it returns n <= 0 on a bad
// or cut varint. The record loops (DecodeArgsFast, the decoder's plans,
// Reader.NextLog) write the one- and two-byte cases out themselves, where
// a call would cost more than the decoding.
func Uvarint(b []byte) (uint64, int) {
	if len(b) > 0 && b[0] < 0x80 {
		return uint64(b[0]), 1
	}
	if len(b) > 1 && b[1] < 0x80 {
		return uint64(b[0]&0x7f) | uint64(b[1])<<7, 2
	}
	return binary.Uvarint(b)
}

// Zigzag decodes a zigzag-encoded signed value.
func Zigzag(u uint64) int64 { return int64(u>>1) ^ -int64(u&1) }

// ZigzagEncode is the inverse of Zigzag.
func ZigzagEncode(v int64) uint64 { return uint64(v<<1) ^ uint64(v>>63) }

// DecodeArgs decodes the arguments of a log record from p by the site's
// argument list, appending to dst. It returns the extended slice and the
// number of bytes used. dst's backing array is reused, so a caller that
// keeps it around decodes without allocating; string values reference p.
func DecodeArgs(p []byte, specs []fmtdb.ArgSpec, dst []fmtdb.Value) ([]fmtdb.Value, int, error) {
	base := len(dst)
	if n := base + len(specs); n <= cap(dst) {
		dst = dst[:n]
	} else {
		dst = append(dst, make([]fmtdb.Value, len(specs))...)
	}
	if off, ok := DecodeArgsFast(p, specs, dst[base:]); ok {
		return dst, off, nil
	}
	return decodeArgsSlow(p, specs, dst, base)
}

// DecodeArgsFast is DecodeArgs's loop for good records: it decodes into
// vals, which must hold len(specs) values, and returns the number of
// bytes used. It returns false on any doubt (damage, a float, an unknown
// class): DecodeArgs then decodes the record again and explains the
// damage. Keeping the error paths out keeps this loop in registers.
func DecodeArgsFast(p []byte, specs []fmtdb.ArgSpec, vals []fmtdb.Value) (int, bool) {
	if len(vals) < len(specs) {
		return 0, false
	}
	off := 0
	vals = vals[:len(specs)]
	for i := range specs {
		c := specs[i].Class
		if off >= len(p) {
			return off, false
		}
		// Most varints are one or two bytes.
		var v uint64
		if b := p[off]; b < 0x80 {
			v = uint64(b)
			off++
		} else if off+1 < len(p) && p[off+1] < 0x80 {
			v = uint64(b&0x7f) | uint64(p[off+1])<<7
			off += 2
		} else {
			// Longer varints (addresses, offsets).
			var n int
			if v, n = binary.Uvarint(p[off:]); n <= 0 {
				return off, false
			}
			off += n
		}
		switch c {
		case fmtdb.ClassU32:
			if v > math.MaxUint32 {
				return off, false
			}
			vals[i] = fmtdb.Value{Kind: fmtdb.KindUint, Bits: v}
		case fmtdb.ClassI32:
			s := Zigzag(v)
			if s != int64(int32(s)) {
				return off, false
			}
			vals[i] = fmtdb.Value{Kind: fmtdb.KindInt, Bits: uint64(s)}
		case fmtdb.ClassU64:
			vals[i] = fmtdb.Value{Kind: fmtdb.KindUint, Bits: v}
		case fmtdb.ClassI64:
			vals[i] = fmtdb.Value{Kind: fmtdb.KindInt, Bits: uint64(Zigzag(v))}
		case fmtdb.ClassPtr:
			vals[i] = fmtdb.Value{Kind: fmtdb.KindPtr, Bits: v}
		case fmtdb.ClassErrno:
			s := Zigzag(v)
			if s != int64(int32(s)) {
				return off, false
			}
			vals[i] = fmtdb.Value{Kind: fmtdb.KindErrno, Bits: uint64(s)}
		case fmtdb.ClassStr, fmtdb.ClassStrMax:
			if v == 0 {
				vals[i] = fmtdb.Value{Kind: fmtdb.KindNull}
				break
			}
			if v-1 > uint64(len(p)-off) {
				return off, false
			}
			end := off + int(v-1)
			vals[i] = fmtdb.Value{Kind: fmtdb.KindStr, Str: p[off:end:end]}
			off = end
		default:
			return off, false
		}
	}
	return off, true
}

// decodeArgsSlow is DecodeArgs for every class, reporting damage.
func decodeArgsSlow(p []byte, specs []fmtdb.ArgSpec, dst []fmtdb.Value, base int) ([]fmtdb.Value, int, error) {
	vals := dst[base:]
	off := 0
	for i := range specs {
		c := specs[i].Class
		a := &vals[i]
		if c == fmtdb.ClassF64 || c == fmtdb.ClassF80 {
			n := 8
			if c == fmtdb.ClassF80 {
				n = 10
			}
			if len(p)-off < n {
				return dst[:base+i], off, argErr(i, c, off)
			}
			*a = fmtdb.Value{Kind: fmtdb.KindF64, Bits: binary.LittleEndian.Uint64(p[off:])}
			if n == 10 {
				a.Kind, a.SE = fmtdb.KindF80, binary.LittleEndian.Uint16(p[off+8:])
			}
			off += n
			continue
		}
		// Every other class starts with a varint.
		v, k := Uvarint(p[off:])
		if k <= 0 {
			return dst[:base+i], off, argErr(i, c, off)
		}
		off += k
		switch c {
		case fmtdb.ClassI32, fmtdb.ClassErrno:
			s := Zigzag(v)
			if s != int64(int32(s)) {
				// The runtime stores an int: anything wider is damage.
				return dst[:base+i], off, fmt.Errorf("argument %d (%v): value %d does not fit 32 bits", i, c, s)
			}
			k := fmtdb.KindInt
			if c == fmtdb.ClassErrno {
				k = fmtdb.KindErrno
			}
			*a = fmtdb.Value{Kind: k, Bits: uint64(s)}
		case fmtdb.ClassI64:
			*a = fmtdb.Value{Kind: fmtdb.KindInt, Bits: uint64(Zigzag(v))}
		case fmtdb.ClassU32:
			if v > math.MaxUint32 {
				return dst[:base+i], off, fmt.Errorf("argument %d (%v): value %d does not fit 32 bits", i, c, v)
			}
			*a = fmtdb.Value{Kind: fmtdb.KindUint, Bits: v}
		case fmtdb.ClassU64:
			*a = fmtdb.Value{Kind: fmtdb.KindUint, Bits: v}
		case fmtdb.ClassPtr:
			*a = fmtdb.Value{Kind: fmtdb.KindPtr, Bits: v}
		case fmtdb.ClassStr, fmtdb.ClassStrMax:
			if v == 0 {
				*a = fmtdb.Value{Kind: fmtdb.KindNull}
				break
			}
			if v-1 > uint64(len(p)-off) {
				return dst[:base+i], off, fmt.Errorf("argument %d (%v): string of %d bytes, only %d in the record", i, c, v-1, len(p)-off)
			}
			end := off + int(v-1)
			*a = fmtdb.Value{Kind: fmtdb.KindStr, Str: p[off:end:end]}
			off = end
		default:
			return dst[:base+i], off, fmt.Errorf("argument %d: unknown class %v", i, c)
		}
	}
	return dst, off, nil
}

func argErr(i int, c fmtdb.Class, off int) error {
	return fmt.Errorf("argument %d (%v) cut short at body byte %d", i, c, off)
}

// AppendArg appends the encoding of a to b. The encoding depends on the
// value's kind only: signed and errno values zigzag varints, unsigned and
// pointer values varints, strings a varint length plus one (0 for NULL).
func AppendArg(b []byte, a fmtdb.Value) []byte {
	switch a.Kind {
	case fmtdb.KindInt, fmtdb.KindErrno:
		return binary.AppendUvarint(b, ZigzagEncode(int64(a.Bits)))
	case fmtdb.KindUint, fmtdb.KindPtr:
		return binary.AppendUvarint(b, a.Bits)
	case fmtdb.KindF64:
		return binary.LittleEndian.AppendUint64(b, a.Bits)
	case fmtdb.KindF80:
		b = binary.LittleEndian.AppendUint64(b, a.Bits)
		return binary.LittleEndian.AppendUint16(b, a.SE)
	case fmtdb.KindNull:
		return append(b, 0)
	case fmtdb.KindStr:
		b = binary.AppendUvarint(b, uint64(len(a.Str))+1)
		return append(b, a.Str...)
	}
	return b
}

// Control record bodies.

// Process record flags.
const (
	ProcStarted = 1 << 0 // this process started its session
	ProcExec    = 1 << 1 // it joined by exec: an earlier process had its pid
)

// Process is the body of a process record.
type Process struct {
	TSDelta uint64
	PPID    uint32
	Session uint64
	Flags   uint64
	BuildID uint64
	Exe     []byte // references the record
	Cmdline []byte // arguments separated by NUL bytes; references the record
}

// ParseProcess decodes a process record body after its tag.
func ParseProcess(p []byte) (Process, error) {
	var r Process
	d, k := Uvarint(p)
	if k <= 0 {
		return r, errors.New("process record: bad ts delta")
	}
	r.TSDelta = d
	p = p[k:]
	pp, k := Uvarint(p)
	if k <= 0 || pp > math.MaxUint32 {
		return r, errors.New("process record: bad ppid")
	}
	r.PPID = uint32(pp)
	p = p[k:]
	if len(p) < 8 {
		return r, errors.New("process record: cut short in session")
	}
	r.Session = binary.LittleEndian.Uint64(p)
	p = p[8:]
	if r.Flags, k = Uvarint(p); k <= 0 {
		return r, errors.New("process record: bad flags")
	}
	p = p[k:]
	if len(p) < 8 {
		return r, errors.New("process record: cut short in build_id")
	}
	r.BuildID = binary.LittleEndian.Uint64(p)
	p = p[8:]
	var ok bool
	if r.Exe, p, ok = cutString(p); !ok {
		return r, errors.New("process record: bad executable path length")
	}
	if r.Cmdline, p, ok = cutString(p); !ok {
		return r, errors.New("process record: bad command line length")
	}
	if len(p) != 0 {
		return r, fmt.Errorf("process record: "+errTrailingBytes, len(p))
	}
	return r, nil
}

// cutString splits a string (varint length, bytes) off the front of p.
func cutString(p []byte) (s, rest []byte, ok bool) {
	n, k := Uvarint(p)
	if k <= 0 || n > uint64(len(p)-k) {
		return nil, p, false
	}
	return p[k : k+int(n)], p[k+int(n):], true
}

// AppendString appends a string as the format stores it: a varint
// length, then the bytes.
func AppendString[S ~string | ~[]byte](b []byte, s S) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// ParseClock decodes a clock record body after its tag.
func ParseClock(p []byte) (tsDelta, monoNS uint64, err error) {
	d, k := Uvarint(p)
	if k <= 0 || len(p)-k < 8 {
		return 0, 0, ErrClockShort
	}
	if rest := len(p) - k - 8; rest != 0 {
		return 0, 0, fmt.Errorf("clock record: "+errTrailingBytes, rest)
	}
	return d, binary.LittleEndian.Uint64(p[k:]), nil
}

// TextMark is the body of a text mark: the program's text log held Size
// bytes at this moment. Path names the text log; empty, it is the file
// of the same process's previous text mark.
type TextMark struct {
	TSDelta uint64
	Size    uint64
	Path    []byte // references the record
}

// ParseTextMark decodes a text mark body after its tag.
func ParseTextMark(p []byte) (TextMark, error) {
	var m TextMark
	var k int
	if m.TSDelta, k = Uvarint(p); k <= 0 {
		return m, errors.New("text mark: bad ts delta")
	}
	p = p[k:]
	if m.Size, k = Uvarint(p); k <= 0 {
		return m, errors.New("text mark: bad size")
	}
	var ok bool
	if m.Path, p, ok = cutString(p[k:]); !ok {
		return m, errors.New("text mark: bad path length")
	}
	if len(p) != 0 {
		return m, fmt.Errorf("text mark: "+errTrailingBytes, len(p))
	}
	return m, nil
}

// Cut is the body of a cut record: in the previous log record of the
// chunk, the string at argument Arg of its site descriptor's argument
// list was cut; it was Len bytes long.
type Cut struct {
	Arg uint64
	Len uint64
	// Of is the file offset of that log record (filled in by Reader).
	Of int64
}

// ParseCut decodes a cut record body after its tag.
func ParseCut(p []byte) (Cut, error) {
	var c Cut
	var k, j int
	if c.Arg, k = Uvarint(p); k <= 0 {
		return c, errors.New("cut record: bad argument index")
	}
	if c.Len, j = Uvarint(p[k:]); j <= 0 {
		return c, errors.New("cut record: bad length")
	}
	if rest := len(p) - k - j; rest != 0 {
		return c, fmt.Errorf("cut record: "+errTrailingBytes, rest)
	}
	return c, nil
}
