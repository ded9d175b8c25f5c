package logfile

import (
	"errors"
	"io"
)

// window is a read-ahead buffer over one region of the file. Records are
// handed out as slices of it, valid until the next call that reads more.
// Its size is bounded by the largest record (64 KiB + framing), however
// large the chunks are, so memory stays flat in the log's size.
type window struct {
	r    io.ReaderAt
	buf  []byte
	base int64 // file offset of buf[0]
	pos  int
	end  int
	eof  bool // the file ended before the limit
}

const windowSize = 32 << 10

// reset starts reading at off; limit is where the region ends. The
// buffer grows to the region's size up to windowSize (a small region, as
// a small chunk or the rest of a chunk being written, leaves it small).
func (w *window) reset(r io.ReaderAt, off, limit int64) {
	w.r = r
	w.base = off
	w.pos, w.end = 0, 0
	w.eof = false
	if want := max(min(windowSize, limit-off), 512); len(w.buf) < int(want) && limit > off {
		w.buf = make([]byte, want)
	}
}

// offset returns the file offset of the next unread byte.
func (w *window) offset() int64 { return w.base + int64(w.pos) }

// ensure makes at least n bytes available (fewer only if the limit or the
// end of the file comes first) and returns them.
func (w *window) ensure(n int, limit int64) ([]byte, error) {
	if w.end-w.pos >= n {
		return w.buf[w.pos:w.end], nil
	}
	cur := w.offset()
	if rest := limit - cur; int64(n) > rest {
		n = int(max(rest, 0))
	}
	if w.end-w.pos >= n || w.eof {
		return w.buf[w.pos:w.end], nil
	}
	copy(w.buf, w.buf[w.pos:w.end])
	w.end -= w.pos
	w.base, w.pos = cur, 0
	if n > len(w.buf) {
		nb := make([]byte, max(n, 2*len(w.buf)))
		copy(nb, w.buf[:w.end])
		w.buf = nb
	}
	want := len(w.buf)
	if rest := limit - w.base; int64(want) > rest {
		want = int(rest)
	}
	for w.end < n {
		k, err := w.r.ReadAt(w.buf[w.end:want], w.base+int64(w.end))
		w.end += k
		if err != nil {
			if errors.Is(err, io.EOF) {
				if w.end < n {
					w.eof = true
				}
				break
			}
			return w.buf[w.pos:w.end], err
		}
		if k == 0 {
			break
		}
	}
	return w.buf[w.pos:w.end], nil
}
