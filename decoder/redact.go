package decoder

import (
	"bytes"
	"net/netip"
	"strconv"
	"strings"

	"github.com/logpack/logpack/fmtdb"
	"github.com/logpack/logpack/internal/logfile"
)

// Redactor replaces string arguments and IP addresses by pseudonyms that
// are stable and one-to-one within its lifetime. Every string argument
// of a call, recorded or constant (a literal such as __FILE__ that the
// build folded into the site's format is an argument the program
// passed), is replaced by a pseudonym of what printf printed of it: the
// string up to its precision, or its NUL; that part, if not empty,
// becomes <sN> (or <ipN> when it is an IP address), printed whole in the
// directive's width. Every IPv4 or IPv6 address left in the rendered
// text then becomes <ipN>. Format text, numbers, %c characters, errno
// texts, NULL ("(null)") and empty strings stay. It is not safe for
// concurrent use.
type Redactor struct {
	strs    map[string][]byte
	ips     map[string][]byte
	nstr    int
	nip     int
	scratch []Arg
	out     []byte
}

// NewRedactor returns an empty Redactor.
func NewRedactor() *Redactor {
	return &Redactor{strs: map[string][]byte{}, ips: map[string][]byte{}}
}

// AppendMessage appends r's message with its string arguments replaced
// by pseudonyms (IP addresses in the text are left to Text).
func (rd *Redactor) AppendMessage(dst []byte, r *Record) []byte {
	s := r.Site
	if s.redact == nil {
		s.redact = newRedaction(s)
	}
	x := s.redact
	if x.f == nil {
		return s.msg.append(dst, rd.Args(r.Args))
	}
	rd.scratch = x.values(rd.scratch[:0], r.Args, rd.pseudonym)
	return x.f.Append(dst, rd.scratch)
}

// redaction is how a site's records render redacted: through the
// site's format as written (its constants not folded in), with the
// precision of every directive that prints a string argument taken out,
// as the argument is replaced by a pseudonym of the part it printed.
type redaction struct {
	f    *fmtdb.Format // nil: strings are replaced whole in the folded format
	args []redArg      // per argument of f
}

// redArg is where an argument of a redaction's format comes from.
type redArg struct {
	rec     int         // index in the record's Args; -1: the constant val
	val     fmtdb.Value // the constant
	str     bool        // a string printed by %s: replaced by a pseudonym
	prec    int         // its directive's precision, -1 for none
	precRec int         // its '*' precision's index in the record's Args, -1 for none
}

// newRedaction prepares the site's redacted rendering. Formats it cannot
// rewrite (positional ones) keep the folded format, whose string
// arguments are replaced whole.
func newRedaction(s *Site) *redaction {
	x := &redaction{}
	f, err := fmtdb.Parse(s.descFormat)
	if err != nil || f.Positional || len(f.Args) != len(s.descArgs) || len(s.recorded) != len(s.descArgs) {
		return x
	}
	strArg := make([]bool, len(f.Args))
	precOf := make([]int, len(f.Args))    // fixed precision of a string argument
	precArgOf := make([]int, len(f.Args)) // its '*' precision argument
	dropped := make([]bool, len(f.Args))  // '*' precisions taken out
	var text strings.Builder
	last := 0
	for i := range f.Specs {
		sp := &f.Specs[i]
		if sp.Arg < 0 || sp.Conv != 's' || sp.Length != fmtdb.LenNone {
			continue
		}
		switch s.descArgs[sp.Arg].Class {
		case fmtdb.ClassStr, fmtdb.ClassStrMax, logfile.ClassConstStr:
		default:
			continue // errno texts are kept
		}
		strArg[sp.Arg], precOf[sp.Arg], precArgOf[sp.Arg] = true, sp.Prec, sp.PrecArg
		d := sp.Text(s.descFormat)
		dot := strings.IndexByte(d, '.')
		if dot < 0 {
			continue
		}
		end := dot + 1
		if end < len(d) && d[end] == '*' {
			end++
			dropped[sp.PrecArg] = true
		}
		for end < len(d) && d[end] >= '0' && d[end] <= '9' {
			end++
		}
		text.WriteString(s.descFormat[last:sp.Offset])
		text.WriteString(d[:dot])
		text.WriteString(d[end:])
		last = sp.End
	}
	text.WriteString(s.descFormat[last:])
	g, err := fmtdb.Parse(text.String())
	if err != nil {
		return x
	}
	for i, a := range s.descArgs {
		if dropped[i] {
			continue
		}
		ra := redArg{rec: s.recorded[i], str: strArg[i], prec: precOf[i], precRec: -1}
		if strArg[i] && precArgOf[i] >= 0 {
			ra.precRec = s.recorded[precArgOf[i]]
		}
		if a.IsConst() {
			ra.val = a.ConstValue()
		}
		x.args = append(x.args, ra)
	}
	if len(x.args) != len(g.Args) {
		return x
	}
	x.f = g
	return x
}

// values appends the arguments of the redaction's format for a record's
// arguments, each string replaced by pseudonym(the part printed).
func (x *redaction) values(dst []Arg, args []Arg, pseudonym func([]byte) []byte) []Arg {
	for _, a := range x.args {
		v := a.val
		if a.rec >= 0 {
			if a.rec >= len(args) {
				v = fmtdb.Value{}
			} else {
				v = args[a.rec]
			}
		}
		if a.str {
			prec := a.prec
			if a.precRec >= 0 && a.precRec < len(args) {
				if p := int64(int32(args[a.precRec].Bits)); p < 0 {
					prec = -1
				} else {
					prec = int(min(p, fmtdb.MaxAmount))
				}
			}
			v = printedPseudonym(v, prec, pseudonym)
		}
		dst = append(dst, v)
	}
	return dst
}

// printedPseudonym returns what stands for a string value printed by %s
// with precision prec: the pseudonym of the part printed, "" where that
// is empty, NULL where "(null)" is printed whole.
func printedPseudonym(v Arg, prec int, pseudonym func([]byte) []byte) Arg {
	switch v.Kind {
	case fmtdb.KindNull:
		if prec >= 0 && prec < len("(null)") {
			return fmtdb.String("") // glibc prints nothing of a cut "(null)"
		}
		return v
	case fmtdb.KindStr:
		b := v.Str
		if prec >= 0 && prec < len(b) {
			b = b[:prec]
		}
		if i := bytes.IndexByte(b, 0); i >= 0 {
			b = b[:i]
		}
		if len(b) == 0 {
			return fmtdb.String("")
		}
		return fmtdb.Value{Kind: fmtdb.KindStr, Str: pseudonym(b)}
	}
	return v
}

// pseudonym returns the pseudonym of a printed string.
func (rd *Redactor) pseudonym(s []byte) []byte {
	if isIP(s) {
		return rd.ip(s)
	}
	return rd.str(s)
}

// Args returns args with each non-empty string replaced whole by its
// pseudonym: for a site whose format the Redactor cannot rewrite
// (positional). The result is valid until the next call.
func (rd *Redactor) Args(args []Arg) []Arg {
	rd.scratch = append(rd.scratch[:0], args...)
	for i := range rd.scratch {
		a := &rd.scratch[i]
		if a.Kind != fmtdb.KindStr || len(a.Str) == 0 {
			continue
		}
		a.Str = rd.pseudonym(a.Str)
	}
	return rd.scratch
}

func (rd *Redactor) str(s []byte) []byte {
	if p, ok := rd.strs[string(s)]; ok {
		return p
	}
	rd.nstr++
	p := []byte("<s" + strconv.Itoa(rd.nstr) + ">")
	rd.strs[string(s)] = p
	return p
}

func (rd *Redactor) ip(s []byte) []byte {
	if p, ok := rd.ips[string(s)]; ok {
		return p
	}
	rd.nip++
	p := []byte("<ip" + strconv.Itoa(rd.nip) + ">")
	rd.ips[string(s)] = p
	return p
}

func isIP(s []byte) bool {
	if len(s) < 2 || len(s) > 64 {
		return false
	}
	dots, colons := 0, countColons(s)
	for _, c := range s {
		if c == '.' {
			dots++
		}
	}
	if colons < 2 && dots != 3 {
		return false // cheap rejection before the parser, which allocates
	}
	a, err := netip.ParseAddr(string(s))
	return err == nil && (a.Is4() || countColons(s) >= 2)
}

func countColons(s []byte) int {
	n := 0
	for _, c := range s {
		if c == ':' {
			n++
		}
	}
	return n
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// Text replaces IP addresses in rendered text. The result aliases msg when
// there is nothing to replace, else an internal buffer valid until the
// next call.
func (rd *Redactor) Text(msg []byte) []byte {
	out := rd.out[:0]
	last, changed := 0, false
	for i := 0; i < len(msg); {
		c := msg[i]
		if !isHex(c) && c != ':' || i > 0 && (isHex(msg[i-1]) || msg[i-1] == '.' || msg[i-1] == ':') {
			i++
			continue
		}
		// A candidate token of hex digits, dots and colons.
		j := i
		for j < len(msg) && (isHex(msg[j]) || msg[j] == '.' || msg[j] == ':') {
			j++
		}
		tok := msg[i:j]
		// A sentence may end right after an address.
		for len(tok) > 0 && (tok[len(tok)-1] == '.' || tok[len(tok)-1] == ':') {
			tok = tok[:len(tok)-1]
		}
		if isIP(tok) {
			out = append(out, msg[last:i]...)
			out = append(out, rd.ip(tok)...)
			last, changed = i+len(tok), true
		}
		i = j
	}
	if !changed {
		return msg
	}
	out = append(out, msg[last:]...)
	rd.out = out
	return out
}
