package fmtdb

import (
	"fmt"
	"strconv"
	"strings"
)

// Flags is the set of flag characters of one conversion specification.
type Flags uint8

const (
	FlagMinus Flags = 1 << iota // '-': left-justify
	FlagPlus                    // '+': always a sign
	FlagSpace                   // ' ': space where a sign would be
	FlagHash                    // '#': alternate form
	FlagZero                    // '0': pad with zeros
	FlagQuote                   // '\'': group thousands (LC_NUMERIC)
	FlagI18n                    // 'I': locale digits (glibc)
)

// Length is a length modifier.
type Length uint8

const (
	LenNone Length = iota
	LenHH          // hh
	LenH           // h
	LenL           // l
	LenLL          // ll
	LenQ           // q (glibc: ll)
	LenJ           // j
	LenZ           // z
	LenBigZ        // Z (glibc: z)
	LenT           // t
	LenBigL        // L
)

var lengthNames = [...]string{"", "hh", "h", "l", "ll", "q", "j", "z", "Z", "t", "L"}

func (l Length) String() string {
	if int(l) < len(lengthNames) {
		return lengthNames[l]
	}
	return "len(" + strconv.Itoa(int(l)) + ")"
}

// wide reports whether glibc treats the integer as 64-bit (and %c/%s as
// wide characters).
func (l Length) wide() bool { return l >= LenL }

// MaxAmount bounds widths and precisions. glibc accepts up to about
// INT_MAX, but a decoder must not let one record of a hostile log allocate
// gigabytes: Parse rejects larger constants and rendering clamps larger
// '*' arguments to it (Check reports them).
const MaxAmount = 1 << 20

// Spec is one conversion specification: everything from '%' to the
// conversion character.
type Spec struct {
	Offset int // byte offset of the '%' in the format
	End    int // byte offset just past the conversion character

	Flags Flags
	// Width is the constant field width, 0 for none. WidthArg is the index
	// into Format.Args of a '*' width argument, or -1.
	Width    int
	WidthArg int
	// Prec is the constant precision, -1 for none ("%.d" is 0). PrecArg is
	// the index into Format.Args of a '.*' precision argument, or -1.
	Prec    int
	PrecArg int
	Length  Length
	// Conv is the conversion character. Unknown conversions are kept: glibc
	// prints them back (see Known).
	Conv byte
	// Arg is the index into Format.Args of the converted value, or -1 when
	// the conversion takes none (%%, unknown conversions). For %m it is the
	// ClassErrno entry.
	Arg int
	// Pos is the N of "%N$", 0 when the format is not positional.
	Pos int

	// slow: glibc prints this directive on its positional code path,
	// where a negative '*' width leaves a '0' flag in force for floats.
	slow bool
}

// Text returns the directive as written in format.
func (s *Spec) Text(format string) string { return format[s.Offset:s.End] }

// Known reports whether glibc 2.36 knows the conversion. glibc prints an
// unknown one back as '%', its flags, width and precision, and the
// character, consuming only its '*' arguments.
func (s *Spec) Known() bool { return convKind(s.Conv) != kUnknown }

// Piece is a run of literal text (Spec == nil) or one directive.
type Piece struct {
	Lit  string
	Spec *Spec
}

// step is what Append runs: literal text, then a directive (spec nil at
// the end), with a precomputed fast path for plain directives.
type step struct {
	lit  string
	spec *Spec
	arg  int   // spec.Arg
	op   uint8 // fast rendering path for plain directives, opNone for none
}

// Format is a parsed printf format.
type Format struct {
	Text   string
	Pieces []Piece
	Specs  []Spec
	// Args lists the arguments the call passes, in C argument order,
	// including '*' widths and precisions, plus one ClassErrno entry per
	// %m (which takes no C argument) where it is consumed; in positional
	// formats the errno entries follow the positional arguments.
	Args       []ArgSpec
	Positional bool

	steps []step
	// NUL is the offset of a NUL byte that ends the format for glibc
	// (text after it is never printed), or -1.
	NUL int
}

// ParseError is returned by Parse.
type ParseError struct {
	Format string
	Offset int // byte offset in Format of the offending directive
	Msg    string
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("fmtdb: format offset %d: %s", e.Offset, e.Msg)
}

// conversion kinds
const (
	kUnknown = iota
	kSigned
	kUnsigned
	kChar
	kString
	kPointer
	kFloat
	kErrno
	kPercent
	kWriteback // %n
	kWideChar  // %C
	kWideStr   // %S
)

var convTable = func() (t [256]uint8) {
	for _, c := range "di" {
		t[c] = kSigned
	}
	for _, c := range "uoxXbB" {
		t[c] = kUnsigned
	}
	for _, c := range "eEfFgGaA" {
		t[c] = kFloat
	}
	t['c'], t['s'], t['p'], t['m'], t['%'], t['n'], t['C'], t['S'] =
		kChar, kString, kPointer, kErrno, kPercent, kWriteback, kWideChar, kWideStr
	return
}()

func convKind(c byte) uint8 { return convTable[c] }

// argClass is the class of the value a known conversion consumes.
func argClass(conv byte, l Length) Class {
	switch convKind(conv) {
	case kSigned:
		if l.wide() {
			return ClassI64
		}
		return ClassI32
	case kUnsigned:
		if l.wide() {
			return ClassU64
		}
		return ClassU32
	case kChar, kWideChar:
		return ClassI32
	case kString, kWideStr:
		return ClassStr
	case kPointer:
		return ClassPtr
	case kFloat:
		if l == LenLL || l == LenQ || l == LenBigL {
			return ClassF80
		}
		return ClassF64
	case kErrno:
		return ClassErrno
	}
	return ClassInvalid
}

// Parse parses a printf format the way glibc 2.36's vfprintf reads it.
// It rejects %n, a format ending inside a directive, mixing positional
// and sequential arguments, unused or inconsistently typed positional
// arguments, and widths or precisions above MaxAmount.
func Parse(format string) (*Format, error) {
	p := parser{f: &Format{Text: format, NUL: -1}, s: format}
	for i := 0; i < len(format); i++ {
		if format[i] == 0 {
			// C strings end here; glibc reads no further.
			p.f.NUL, p.s = i, format[:i]
			break
		}
	}
	if err := p.parse(); err != nil {
		return nil, err
	}
	return p.f, nil
}

type parser struct {
	f *Format
	s string
	// positional bookkeeping: class per position, and the first spec that
	// used sequential arguments
	posClass  []ArgSpec
	posSet    []bool
	seqOffset int // offset of first sequential argument use, -1 none
	posOffset int // offset of first positional use, -1 none
	errnos    []int
}

func (p *parser) errf(off int, format string, a ...any) error {
	return &ParseError{Format: p.f.Text, Offset: off, Msg: fmt.Sprintf(format, a...)}
}

// readInt reads decimal digits at i; ok is false on overflow past
// MaxAmount (glibc's read_int fails only past INT_MAX; larger values are
// refused here).
func readInt(s string, i int) (n, j int, over bool) {
	for j = i; j < len(s) && s[j] >= '0' && s[j] <= '9'; j++ {
		if n <= MaxAmount {
			n = n*10 + int(s[j]-'0')
		}
	}
	return n, j, n > MaxAmount
}

func (p *parser) parse() error {
	s := p.s
	p.seqOffset, p.posOffset = -1, -1
	// count directives to size the slices once
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '%' {
			n++
		}
	}
	p.f.Specs = make([]Spec, 0, n)
	lit := 0
	for i := 0; i < len(s); {
		if s[i] != '%' {
			i++
			continue
		}
		if lit < i {
			p.f.Pieces = append(p.f.Pieces, Piece{Lit: s[lit:i]})
		}
		sp, err := p.directive(i)
		if err != nil {
			return err
		}
		p.f.Specs = append(p.f.Specs, sp)
		i = sp.End
		lit = i
		p.f.Pieces = append(p.f.Pieces, Piece{})
	}
	if lit < len(s) {
		p.f.Pieces = append(p.f.Pieces, Piece{Lit: s[lit:]})
	}
	// glibc's fast path hands the rest of the format to its positional
	// path at the first directive its jump tables do not know.
	slow := p.posOffset >= 0
	for i := range p.f.Specs {
		sp := &p.f.Specs[i]
		if !sp.Known() || sp.Pos != 0 || sp.Length == LenH && strings.IndexByte("cspeEfFgGaAmCS", sp.Conv) >= 0 {
			slow = true
		}
		sp.slow = slow
	}
	// wire pieces to specs now that the slice no longer grows
	k := 0
	for i := range p.f.Pieces {
		if p.f.Pieces[i].Lit == "" {
			p.f.Pieces[i].Spec = &p.f.Specs[k]
			k++
		}
	}
	text := ""
	for _, pc := range p.f.Pieces {
		if pc.Spec == nil {
			text = pc.Lit
			continue
		}
		p.f.steps = append(p.f.steps, step{lit: text, spec: pc.Spec, arg: pc.Spec.Arg, op: fastOp(pc.Spec)})
		text = ""
	}
	if text != "" {
		p.f.steps = append(p.f.steps, step{lit: text})
	}
	if p.posOffset >= 0 {
		p.f.Positional = true
		for i, ok := range p.posSet {
			if !ok {
				return p.errf(p.posOffset, "positional argument %d is never used", i+1)
			}
		}
		p.f.Args = append(p.posClass, p.f.Args...) // errno entries after
		for _, si := range p.errnos {
			p.f.Specs[si].Arg += len(p.posClass)
		}
	}
	return nil
}

// use records one argument use: sequential (pos == 0) or positional.
func (p *parser) use(off, pos int, a ArgSpec) (int, error) {
	if pos == 0 {
		if p.posOffset >= 0 {
			return 0, p.errf(off, "mixes sequential arguments with positional ones")
		}
		if p.seqOffset < 0 {
			p.seqOffset = off
		}
		p.f.Args = append(p.f.Args, a)
		return len(p.f.Args) - 1, nil
	}
	if p.seqOffset >= 0 {
		return 0, p.errf(off, "mixes positional arguments with sequential ones")
	}
	if p.posOffset < 0 {
		p.posOffset = off
	}
	if pos > MaxDescriptorArgs {
		return 0, p.errf(off, "positional argument %d is over the limit of %d", pos, MaxDescriptorArgs)
	}
	for len(p.posClass) < pos {
		p.posClass = append(p.posClass, ArgSpec{BoundArg: -1})
		p.posSet = append(p.posSet, false)
	}
	i := pos - 1
	if !p.posSet[i] {
		p.posClass[i], p.posSet[i] = a, true
		return i, nil
	}
	old := &p.posClass[i]
	merged, ok := mergeClass(old.Class, a.Class)
	if !ok {
		return 0, p.errf(off, "positional argument %d used as %s and as %s", pos, old.Class, a.Class)
	}
	if merged == ClassStrMax {
		switch {
		case old.BoundArg < 0 && a.BoundArg < 0:
			old.Bound = max(old.Bound, a.Bound)
		case old.BoundArg != a.BoundArg || old.Bound != a.Bound:
			merged = ClassStr // differing bounds: copy it all
		}
	}
	if merged != ClassStrMax {
		old.Bound, old.BoundArg = 0, -1
	}
	old.Class = merged
	return i, nil
}

// mergeClass decides whether two uses of one positional argument read the
// same C type (glibc reads each argument once, by its type).
func mergeClass(a, b Class) (Class, bool) {
	if a == b {
		return a, true
	}
	str := func(c Class) bool { return c == ClassStr || c == ClassStrMax }
	switch {
	case str(a) && str(b):
		return ClassStr, true
	case (a == ClassI32 || a == ClassU32) && (b == ClassI32 || b == ClassU32):
		return a, true
	case (a == ClassI64 || a == ClassU64) && (b == ClassI64 || b == ClassU64):
		return a, true
	}
	return ClassInvalid, false
}

// directive parses one directive starting at the '%' at off, following
// glibc's __parse_one_specmb: position, flags, width, precision, length,
// conversion; then it binds the arguments the directive reads.
func (p *parser) directive(off int) (Spec, error) {
	s := p.s
	sp := Spec{Offset: off, WidthArg: -1, Prec: -1, PrecArg: -1, Arg: -1}
	i, err := p.position(&sp, off+1)
	if err != nil {
		return sp, err
	}
	sp.Flags, i = flagsAt(s, i)
	width, widthPos, i, err := p.amount(off, i, "width")
	if err != nil {
		return sp, err
	}
	if widthPos < 0 {
		sp.Width = width
	}
	precPos := -1
	if i < len(s) && s[i] == '.' {
		var prec int
		if prec, precPos, i, err = p.amount(off, i+1, "precision"); err != nil {
			return sp, err
		}
		if precPos < 0 {
			sp.Prec = prec // "%.d" is "%.0d"
		}
	}
	sp.Length, i = lengthAt(s, i)
	if i >= len(s) {
		return sp, p.errf(off, "format ends inside a conversion specification")
	}
	sp.Conv, sp.End = s[i], i+1
	if convKind(sp.Conv) == kWriteback {
		return sp, p.errf(off, "%%n is not allowed")
	}
	return sp, p.bind(&sp, widthPos, precPos)
}

// position reads the "N$" of a positional directive at i, if there is
// one, and returns where the flags start.
func (p *parser) position(sp *Spec, i int) (int, error) {
	s := p.s
	if i >= len(s) || !isDigit(s[i]) {
		return i, nil
	}
	n, j, over := readInt(s, i)
	if j >= len(s) || s[j] != '$' || n == 0 {
		return i, nil // digits of the flags ('0') or the width
	}
	switch {
	case over:
		return i, p.errf(sp.Offset, "argument position %s is too large", s[i:j])
	case n > MaxDescriptorArgs: // glibc would read that many arguments
		return i, p.errf(sp.Offset, "positional argument %d is over the limit of %d", n, MaxDescriptorArgs)
	}
	sp.Pos = n
	return j + 1, nil
}

// flagChars maps the flag characters to their flags.
var flagChars = [256]Flags{' ': FlagSpace, '+': FlagPlus, '-': FlagMinus, '#': FlagHash, '0': FlagZero, '\'': FlagQuote, 'I': FlagI18n}

// flagsAt reads the flag characters at i.
func flagsAt(s string, i int) (Flags, int) {
	var fl Flags
	for ; i < len(s) && flagChars[s[i]] != 0; i++ {
		fl |= flagChars[s[i]]
	}
	return fl, i
}

// amount reads a width or precision (what) at i, the one place that
// reads '*' amounts: a '*' argument, whose position pos is N for "*N$"
// and 0 for the next sequential argument; or a constant n (pos -1; no
// amount at all is n 0). next is where the amount ends.
func (p *parser) amount(off, i int, what string) (n, pos, next int, err error) {
	s := p.s
	switch {
	case i < len(s) && s[i] == '*':
		i++
		if i < len(s) && isDigit(s[i]) {
			k, j, over := readInt(s, i)
			if over { // glibc fails on these digits whatever follows
				return 0, -1, i, p.errf(off, "argument position %s is too large", s[i:j])
			}
			if j < len(s) && s[j] == '$' && k != 0 {
				return 0, k, j + 1, nil
			}
		}
		return 0, 0, i, nil
	case i < len(s) && isDigit(s[i]):
		k, j, over := readInt(s, i)
		if over {
			return 0, -1, i, p.errf(off, "%s %s is over the limit of %d", what, s[i:j], MaxAmount)
		}
		return k, -1, j, nil
	}
	return 0, -1, i, nil
}

// lengthChars maps the one-letter length modifiers (h and l may double).
var lengthChars = [256]Length{'h': LenH, 'l': LenL, 'L': LenBigL, 'q': LenQ, 'j': LenJ, 'z': LenZ, 'Z': LenBigZ, 't': LenT}

// lengthAt reads the length modifier at i.
func lengthAt(s string, i int) (Length, int) {
	if i >= len(s) || lengthChars[s[i]] == LenNone {
		return LenNone, i
	}
	l := lengthChars[s[i]]
	switch {
	case l == LenH && i+1 < len(s) && s[i+1] == 'h':
		return LenHH, i + 2
	case l == LenL && i+1 < len(s) && s[i+1] == 'l':
		return LenLL, i + 2
	}
	return l, i + 1
}

// bind records the arguments the directive reads, in C order: the '*'
// width, the '*' precision (their positions, -1 for none), the value.
func (p *parser) bind(sp *Spec, widthPos, precPos int) error {
	var err error
	star := ArgSpec{Class: ClassI32, BoundArg: -1}
	if widthPos >= 0 {
		if sp.WidthArg, err = p.use(sp.Offset, widthPos, star); err != nil {
			return err
		}
	}
	if precPos >= 0 {
		if sp.PrecArg, err = p.use(sp.Offset, precPos, star); err != nil {
			return err
		}
	}
	switch kind := convKind(sp.Conv); kind {
	case kUnknown, kPercent:
		// no value; a "%1$" here names nothing glibc reads
	case kErrno:
		p.f.Args = append(p.f.Args, ArgSpec{Class: ClassErrno, BoundArg: -1})
		sp.Arg = len(p.f.Args) - 1
		p.errnos = append(p.errnos, len(p.f.Specs))
	default:
		a := ArgSpec{Class: argClass(sp.Conv, sp.Length), BoundArg: -1}
		if kind == kString && !sp.Length.wide() {
			switch {
			case precPos >= 0:
				a.Class, a.BoundArg = ClassStrMax, sp.PrecArg
			case sp.Prec >= 0:
				a.Class, a.Bound = ClassStrMax, sp.Prec
			}
		}
		if sp.Arg, err = p.use(sp.Offset, sp.Pos, a); err != nil {
			return err
		}
	}
	return nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// MaxPadding bounds what one message's widths and (numeric) precisions
// may add to it: the decoder renders no message that pads more, so that a
// hostile log cannot turn a 3-byte record into megabytes of text
// ("%1000000d"), and the rewriter leaves a call whose format asks for
// more as text. glibc would print it; no real log line pads that much.
const MaxPadding = 64 << 10

// PrecisionCuts reports whether the directive's precision only shortens
// its text (a string, %m, a character) instead of adding digits: "%.*s"
// of a large buffer adds nothing.
func (s *Spec) PrecisionCuts() bool {
	k := convKind(s.Conv)
	return k == kString || k == kErrno || k == kChar
}

// Padding returns what the format's widths and precisions may add to a
// message at most: the constant ones, and with args (the values of a
// call) its '*' amounts too.
func (f *Format) Padding(args []Value) int {
	n := 0
	amount := func(k int) int {
		if k < 0 || k >= len(args) {
			return 0
		}
		v := int64(int32(args[k].Bits))
		return int(max(v, -v))
	}
	for i := range f.Specs {
		sp := &f.Specs[i]
		n += sp.Width + amount(sp.WidthArg)
		if !sp.PrecisionCuts() {
			n += max(sp.Prec, 0) + amount(sp.PrecArg)
		}
	}
	return n
}

// Recordable reports why a valid format cannot be recorded as a binary
// record and rendered later, or nil if it can: wide characters and
// strings depend on LC_CTYPE, the ' and I flags on LC_NUMERIC/LC_CTYPE,
// the descriptor holds at most MaxDescriptorArgs arguments, and a message
// pads at most MaxPadding bytes.
func (f *Format) Recordable() error {
	if f.NUL >= 0 {
		return &ParseError{Format: f.Text, Offset: f.NUL, Msg: "NUL byte in the format ends it early"}
	}
	if len(f.Args) > MaxDescriptorArgs {
		return fmt.Errorf("fmtdb: format has %d arguments, over the limit of %d", len(f.Args), MaxDescriptorArgs)
	}
	for i := range f.Specs {
		s := &f.Specs[i]
		kind := convKind(s.Conv)
		bad := func(what string) error {
			return &ParseError{Format: f.Text, Offset: s.Offset, Msg: fmt.Sprintf("%s %s", s.Text(f.Text), what)}
		}
		switch {
		case kind == kWideChar || kind == kWideStr ||
			(kind == kChar || kind == kString) && s.Length.wide():
			return bad("converts wide characters (depends on the locale)")
		case s.Flags&FlagQuote != 0 && kind != kUnknown:
			return bad("groups digits by the locale")
		case s.Flags&FlagI18n != 0 && kind != kUnknown:
			return bad("uses the locale's digits")
		}
	}
	if n := f.Padding(nil); n > MaxPadding {
		return fmt.Errorf("fmtdb: widths and precisions add up to %d bytes, over the %d a message may pad", n, MaxPadding)
	}
	return nil
}
