package decoder

import (
	"net/netip"
	"strconv"

	"github.com/logpack/logpack/fmtdb"
)

// Redactor replaces string arguments and IP addresses by pseudonyms that
// are stable and one-to-one within its lifetime: every non-empty string
// argument becomes <sN> (or <ipN> when the whole string is an IP
// address), and every IPv4 or IPv6 address in the rendered text <ipN>.
// Format text, numbers, errno texts, NULL and empty strings stay. It is
// not safe for concurrent use.
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

// Args returns args with each non-empty string replaced by its pseudonym.
// The result is valid until the next call.
func (r *Redactor) Args(args []Arg) []Arg {
	r.scratch = append(r.scratch[:0], args...)
	for i := range r.scratch {
		a := &r.scratch[i]
		if a.Kind != fmtdb.KindStr || len(a.Str) == 0 {
			continue
		}
		if isIP(a.Str) {
			a.Str = r.ip(a.Str)
		} else {
			a.Str = r.str(a.Str)
		}
	}
	return r.scratch
}

func (r *Redactor) str(s []byte) []byte {
	if p, ok := r.strs[string(s)]; ok {
		return p
	}
	r.nstr++
	p := []byte("<s" + strconv.Itoa(r.nstr) + ">")
	r.strs[string(s)] = p
	return p
}

func (r *Redactor) ip(s []byte) []byte {
	if p, ok := r.ips[string(s)]; ok {
		return p
	}
	r.nip++
	p := []byte("<ip" + strconv.Itoa(r.nip) + ">")
	r.ips[string(s)] = p
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
func (r *Redactor) Text(msg []byte) []byte {
	out := r.out[:0]
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
			out = append(out, r.ip(tok)...)
			last, changed = i+len(tok), true
		}
		i = j
	}
	if !changed {
		return msg
	}
	out = append(out, msg[last:]...)
	r.out = out
	return out
}
