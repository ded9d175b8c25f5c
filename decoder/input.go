package decoder

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"

	"github.com/logpack/logpack/internal/logfile"
)

// ReadAll decodes a log from a stream (a pipe, standard input, a
// device). Standard input redirected from a regular file is read in
// place. Otherwise the file header is read first, so that input that is
// no log fails at once (however long or endless it is), then the rest up
// to the header's tail (what follows is never read) is copied to an
// unlinked temporary file: the records of one writer may be anywhere in
// a log, and memory stays flat however large it is.
func ReadAll(r io.Reader, opts *Options) (*Decoder, error) {
	if f, ok := r.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
			if off, err := f.Seek(0, io.SeekCurrent); err == nil && off == 0 {
				return New(f, st.Size(), opts)
			}
		}
	}
	hb := make([]byte, logfile.HeaderSize)
	n, err := io.ReadFull(r, hb)
	switch {
	case n == 0 && (err == nil || errors.Is(err, io.EOF)):
		return nil, fmt.Errorf("%w: no data", logfile.ErrNotLog)
	case err != nil && !errors.Is(err, io.ErrUnexpectedEOF):
		return nil, fmt.Errorf("reading the log: %w", err)
	}
	h, err := logfile.ParseHeader(hb[:n])
	if err != nil {
		return nil, err
	}
	limit := int64(math.MaxInt64)
	if h.Tail >= logfile.HeaderSize && h.Tail < math.MaxInt64 {
		limit = int64(h.Tail)
	}
	f, err := os.CreateTemp("", "logpack-*.lpk")
	if err != nil {
		return nil, err
	}
	os.Remove(f.Name())
	size := int64(n)
	if _, err = f.Write(hb[:n]); err == nil {
		var k int64
		k, err = io.Copy(f, io.LimitReader(r, limit-size))
		size += k
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("reading the log: %w", err)
	}
	d, err := New(f, size, opts)
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
