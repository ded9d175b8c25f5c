package decoder

import (
	"fmt"
	"io"
	"os"
)

// ReadAll decodes a log from a stream (a pipe, standard input). The
// records of one writer may be anywhere in a log, so the stream is first
// copied to an unlinked temporary file: memory stays flat however large
// the log is.
func ReadAll(r io.Reader, opts *Options) (*Decoder, error) {
	f, err := os.CreateTemp("", "logpack-*.lpk")
	if err != nil {
		return nil, err
	}
	os.Remove(f.Name())
	n, err := io.Copy(f, r)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("reading the log: %w", err)
	}
	d, err := New(f, n, opts)
	if err != nil {
		f.Close()
		return nil, err
	}
	d.closer = f
	return d, nil
}

// Mismatch returns the database mismatch that Options.Force let pass, or
// nil.
func (d *Decoder) Mismatch() *MismatchError { return d.mismatch }

// SkipGroup sums up the Skips of one kind.
type SkipGroup struct {
	Skip       // the first one
	Count      int
	AllBytes   int64
	AllRecords int
}

func (g SkipGroup) String() string {
	s := fmt.Sprintf("%d bytes", g.AllBytes)
	if g.AllRecords > 0 {
		s += fmt.Sprintf(", %d records", g.AllRecords)
	}
	s += ": " + g.Kind.String()
	if g.Count > 1 {
		s += fmt.Sprintf(" (%d times; first at offset %d", g.Count, g.Offset)
	} else {
		s += fmt.Sprintf(" (at offset %d", g.Offset)
	}
	if g.Detail != "" {
		s += ": " + g.Detail
	}
	return s + ")"
}
