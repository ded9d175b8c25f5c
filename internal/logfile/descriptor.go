package logfile

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"github.com/logpack/logpack/fmtdb"
)

// DescriptorVersion is the first byte of a site descriptor in a log.
const DescriptorVersion = 2

// Classes of a descriptor's argument list beyond the recorded ones
// (fmtdb.Class 1..10): constants, which records do not carry.
const (
	ClassConstStr  fmtdb.Class = 11 // a string literal: a string follows
	ClassConstInt  fmtdb.Class = 12 // a signed integer: a zigzag varint follows
	ClassConstUint fmtdb.Class = 13 // an unsigned integer: a varint follows
)

// Descriptor flags.
const (
	// DescPrefix marks a prefix site: its records are not lines; the text
	// they render goes in front of the later lines of the same process
	// and of the children it forks afterwards (CRIU's log_init_by_pid).
	DescPrefix = 1 << 0
	// DescTextFallback marks a site whose calls print a record as text
	// when the log cannot take it (the runtime counts those apart from
	// dropped records, in the header's to_text).
	DescTextFallback = 1 << 1
)

// TextLevelNone is the text_level of a site whose records were never
// also printed as text.
const TextLevelNone = 255

// Descriptor is a site descriptor as a log carries it (docs/FORMAT.md,
// "Site descriptors"): the format as written in the program, with its
// constant arguments listed, not folded in. Site folds them.
type Descriptor struct {
	Level     uint8 // 0..7, or fmtdb.LevelRuntime
	Flags     uint8 // DescPrefix, DescTextFallback
	TextLevel uint8 // records at a level <= TextLevel were also printed as text; TextLevelNone
	File      string
	Line      int
	Func      string
	Format    string
	Args      []DescArg
}

// DescArg is one entry of a descriptor's argument list.
type DescArg struct {
	// Class is a recorded class (fmtdb.Class 1..10) or a constant
	// (ClassConstStr, ClassConstInt, ClassConstUint).
	Class fmtdb.Class
	// Bound and BoundArg: for fmtdb.ClassStrMax, as in fmtdb.ArgSpec;
	// BoundArg indexes this list.
	Bound    int
	BoundArg int
	Str      string // ClassConstStr
	Bits     uint64 // ClassConstInt (two's complement) and ClassConstUint
}

// IsConst reports whether the entry is a constant (not in records).
func (a DescArg) IsConst() bool { return a.Class >= ClassConstStr && a.Class <= ClassConstUint }

// ConstValue is the value a constant argument prints as: a string up to
// its first NUL (where %s stops), or the number.
func (a DescArg) ConstValue() fmtdb.Value {
	switch a.Class {
	case ClassConstStr:
		str := a.Str
		if k := strings.IndexByte(str, 0); k >= 0 {
			str = str[:k]
		}
		return fmtdb.String(str)
	case ClassConstInt:
		return fmtdb.Int(int64(a.Bits))
	}
	return fmtdb.Uint(a.Bits)
}

// ErrDescriptor is wrapped by every descriptor error.
var ErrDescriptor = errors.New("bad site descriptor")

// ParseDescriptor decodes a descriptor (the body of a descriptor record
// after the site index). It never allocates more than the input's size.
func ParseDescriptor(b []byte) (Descriptor, error) {
	var d Descriptor
	bad := func(format string, a ...any) (Descriptor, error) {
		return d, fmt.Errorf("%w: %s", ErrDescriptor, fmt.Sprintf(format, a...))
	}
	if len(b) > fmtdb.MaxDescriptorLen {
		return bad("%d bytes is over the %d byte limit", len(b), fmtdb.MaxDescriptorLen)
	}
	if len(b) < 4 {
		return bad("too short")
	}
	if b[0] != DescriptorVersion {
		return bad("version %d, want %d", b[0], DescriptorVersion)
	}
	d.Level, d.Flags, d.TextLevel = b[1], b[2], b[3]
	p := b[4:]
	str := func(dst *string) bool {
		s, rest, ok := cutString(p)
		*dst, p = string(s), rest
		return ok
	}
	if !str(&d.File) {
		return bad("bad file name")
	}
	line, k := Uvarint(p)
	if k <= 0 || line > 1<<31 {
		return bad("bad line")
	}
	d.Line, p = int(line), p[k:]
	if !str(&d.Func) {
		return bad("bad function name")
	}
	if !str(&d.Format) {
		return bad("bad format")
	}
	n, k := Uvarint(p)
	if k <= 0 || n > fmtdb.MaxDescriptorArgs || n > uint64(len(p)-k) {
		return bad("bad argument count")
	}
	p = p[k:]
	d.Args = make([]DescArg, 0, n)
	for i := range int(n) {
		if len(p) == 0 {
			return bad("argument list cut short")
		}
		a := DescArg{Class: fmtdb.Class(p[0]), BoundArg: -1}
		p = p[1:]
		switch {
		case a.Class == fmtdb.ClassStrMax:
			v, k := Uvarint(p)
			if k <= 0 || v > 1<<32 {
				return bad("argument %d: bad string bound", i)
			}
			p = p[k:]
			if v&1 == 1 {
				if a.BoundArg = int(v >> 1); a.BoundArg >= int(n) {
					return bad("argument %d: string bound names argument %d of %d", i, a.BoundArg, n)
				}
			} else {
				a.Bound = int(v >> 1)
			}
		case a.Class == ClassConstStr:
			if !str(&a.Str) {
				return bad("argument %d: bad constant string", i)
			}
		case a.Class == ClassConstInt || a.Class == ClassConstUint:
			v, k := Uvarint(p)
			if k <= 0 {
				return bad("argument %d: bad constant", i)
			}
			p, a.Bits = p[k:], v
			if a.Class == ClassConstInt {
				a.Bits = uint64(Zigzag(v))
			}
		case a.Class == fmtdb.ClassInvalid || a.Class > ClassConstUint:
			return bad("argument %d: unknown class %d", i, a.Class)
		}
		d.Args = append(d.Args, a)
	}
	if len(p) != 0 {
		return bad("%d bytes after the argument list", len(p))
	}
	return d, nil
}

// Append appends the encoded descriptor.
func (d *Descriptor) Append(b []byte) []byte {
	b = append(b, DescriptorVersion, d.Level, d.Flags, d.TextLevel)
	b = AppendString(b, d.File)
	b = binary.AppendUvarint(b, uint64(d.Line))
	b = AppendString(b, d.Func)
	b = AppendString(b, d.Format)
	b = binary.AppendUvarint(b, uint64(len(d.Args)))
	for _, a := range d.Args {
		b = append(b, byte(a.Class))
		switch a.Class {
		case fmtdb.ClassStrMax:
			if a.BoundArg >= 0 {
				b = binary.AppendUvarint(b, 2*uint64(a.BoundArg)+1)
			} else {
				b = binary.AppendUvarint(b, 2*uint64(a.Bound))
			}
		case ClassConstStr:
			b = AppendString(b, a.Str)
		case ClassConstInt:
			b = binary.AppendUvarint(b, ZigzagEncode(int64(a.Bits)))
		case ClassConstUint:
			b = binary.AppendUvarint(b, a.Bits)
		}
	}
	return b
}

// DescriptorOf describes a site whose constants are already folded in
// (no constant entries), with no flags and no text level.
func DescriptorOf(s *fmtdb.Site) Descriptor {
	d := Descriptor{Level: s.Level, TextLevel: TextLevelNone, File: s.File, Line: s.Line, Func: s.Func, Format: s.Format}
	for _, a := range s.Args {
		d.Args = append(d.Args, DescArg{Class: a.Class, Bound: a.Bound, BoundArg: a.BoundArg})
	}
	return d
}

// Site folds the descriptor's constants into its format and turns each
// %s of an errno argument into %m, as the rewriter does: the result is
// the site as the format database describes it, ID included. recorded
// maps each entry of d.Args to the index of its value in a record's
// arguments (Site.Args), or -1 for a constant. Site fails only where a
// constant cannot be folded; whether the recorded arguments fit the
// format is for the renderer to check (a site it cannot render is
// reported with each of its records).
func (d *Descriptor) Site() (s fmtdb.Site, recorded []int, err error) {
	bad := func(format string, a ...any) (fmtdb.Site, []int, error) {
		return s, nil, fmt.Errorf("%w: %s", ErrDescriptor, fmt.Sprintf(format, a...))
	}
	s = fmtdb.Site{Level: d.Level, File: d.File, Line: d.Line, Func: d.Func, Format: d.Format}
	recorded = make([]int, len(d.Args))
	consts, errnos := 0, 0
	for i, a := range d.Args {
		recorded[i] = -1
		switch {
		case a.IsConst():
			consts++
			continue
		case a.Class == fmtdb.ClassErrno:
			errnos++
		}
		recorded[i] = len(s.Args)
		s.Args = append(s.Args, fmtdb.ArgSpec{Class: a.Class, Bound: a.Bound, BoundArg: a.BoundArg})
	}
	for i := range s.Args {
		if b := s.Args[i].BoundArg; b >= 0 {
			if s.Args[i].BoundArg = recorded[b]; recorded[b] < 0 {
				return bad("a string bound names constant argument %d", b)
			}
		}
	}
	if consts+errnos > 0 {
		if s.Format, err = d.fold(); err != nil {
			return bad("%v", err)
		}
	}
	s.ID = fmtdb.SiteID(&s)
	return s, recorded, nil
}

// fold returns the format with the constants folded in and %s of errno
// turned into %m.
func (d *Descriptor) fold() (string, error) {
	consts := false
	for _, a := range d.Args {
		consts = consts || a.IsConst()
	}
	f, err := fmtdb.Parse(d.Format)
	if err == nil && len(f.Args) != len(d.Args) {
		err = fmt.Errorf("format takes %d arguments, the descriptor lists %d", len(f.Args), len(d.Args))
	}
	if err != nil {
		if consts {
			return "", fmt.Errorf("constants cannot be folded: %v", err)
		}
		return d.Format, nil // nothing to fold; the renderer says what is wrong
	}
	var folded strings.Builder
	last := 0
	for i := range f.Specs {
		sp := &f.Specs[i]
		for _, j := range [2]int{sp.WidthArg, sp.PrecArg} {
			if j >= 0 && d.Args[j].IsConst() {
				return "", fmt.Errorf("argument %d: a '*' amount cannot be a constant", j)
			}
		}
		if sp.Arg < 0 {
			continue
		}
		a := d.Args[sp.Arg]
		var text string
		var ok bool
		switch {
		case a.IsConst():
			c := a.ConstValue()
			if text, ok = fmtdb.FoldConst(f, sp, c); !ok {
				return "", fmt.Errorf("argument %d: constant %v does not fold into %s", sp.Arg, c, sp.Text(d.Format))
			}
		case a.Class == fmtdb.ClassErrno:
			if text, ok = fmtdb.ErrnoDirective(f, sp); !ok {
				continue // %m already, or a %s that prints strerror as it is
			}
		default:
			continue
		}
		folded.WriteString(d.Format[last:sp.Offset])
		folded.WriteString(text)
		last = sp.End
	}
	folded.WriteString(d.Format[last:])
	return folded.String(), nil
}
