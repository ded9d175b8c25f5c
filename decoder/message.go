package decoder

import (
	"fmt"

	"github.com/logpack/logpack/fmtdb"
)

// message renders one site's records with fmtdb's printf model.
type message struct {
	f     *fmtdb.Format
	err   error // why the site cannot be rendered
	stars bool  // the format takes '*' widths or precisions
}

// compile parses the site's format and checks that its argument list is
// the one the log records carry: a site whose classes disagree with its
// format would print wrong text, so it is refused.
func compile(s *fmtdb.Site) message {
	f, err := fmtdb.Parse(s.Format)
	if err != nil {
		return message{err: fmt.Errorf("format does not parse: %w", err)}
	}
	if len(f.Args) != len(s.Args) {
		return message{err: fmt.Errorf("format takes %d arguments, the descriptor lists %d", len(f.Args), len(s.Args))}
	}
	for i, a := range f.Args {
		b := s.Args[i]
		if a.Class == fmtdb.ClassStr && b.Class == fmtdb.ClassErrno {
			continue // strerror(errno) recorded as errno: %s prints its text
		}
		if a.Class != b.Class || a.Class == fmtdb.ClassStrMax && (a.Bound != b.Bound || a.BoundArg != b.BoundArg) {
			return message{err: fmt.Errorf("argument %d is %s in the format, %s in the descriptor", i, fmtdb.FormatArgSpec(a), fmtdb.FormatArgSpec(b))}
		}
	}
	m := message{f: f}
	for i := range f.Specs {
		if f.Specs[i].WidthArg >= 0 || f.Specs[i].PrecArg >= 0 {
			m.stars = true
		}
	}
	if f.Padding(nil) > fmtdb.MaxPadding {
		return message{err: fmt.Errorf("its widths and precisions add up to over %d bytes per message", fmtdb.MaxPadding)}
	}
	return m
}

// check reports whether a record's arguments render as printf did.
func (m *message) check(args []Arg) error {
	if m.err != nil {
		return m.err
	}
	if !m.stars {
		return nil
	}
	if err := m.f.Check(args); err != nil {
		return err
	}
	if m.f.Padding(args) > fmtdb.MaxPadding {
		return fmt.Errorf("widths and precisions add up to over %d bytes", fmtdb.MaxPadding)
	}
	return nil
}

func (m *message) append(dst []byte, args []Arg) []byte {
	if m.f == nil {
		return dst
	}
	return m.f.Append(dst, args)
}
