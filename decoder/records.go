package decoder

import (
	"fmt"
	"iter"
	"math"

	"github.com/logpack/logpack/fmtdb"
	"github.com/logpack/logpack/internal/logfile"
)

// Records returns the log's records, session after session in order of
// their start (see Sessions), each session's records merged across its
// processes and threads in timestamp order: records with equal timestamps
// keep the order of their threads' first chunks in the file, and one
// thread's records with equal timestamps keep file order.
// The *Record is reused: it is valid until the loop continues. An I/O
// error ends the sequence with (nil, err); damage does not end it but is
// reported through Skipped and Options.OnSkip.
func (d *Decoder) Records() iter.Seq2[*Record, error] { return d.records(d.sessions) }

// SessionRecords returns the records of one session, as Records does.
func (d *Decoder) SessionRecords(s *Session) iter.Seq2[*Record, error] {
	return d.records([]*Session{s})
}

// records merges each session's streams in turn.
func (d *Decoder) records(ss []*Session) iter.Seq2[*Record, error] {
	return func(yield func(*Record, error) bool) {
		for _, s := range ss {
			s.resetPrefixes()
			for _, w := range s.streams {
				w.rec.prefix = false
				w.ci, w.live, w.origin = 0, false, s.originNS
				w.from, w.until = 0, math.MaxUint64
				w.rd.Reset(nil, logfile.Cursor{}, 0, 0) // nothing to read until nextSlow opens a chunk
				w.rec.PID, w.rec.TID = w.pid, w.tid
			}
			if !d.mergeStreams(s.streams, yield) {
				return
			}
		}
	}
}

// merge yields the records of the given streams in order, as records
// does for a session's, from where each stream stands.
func (d *Decoder) merge(streams []*writer) iter.Seq2[*Record, error] {
	return func(yield func(*Record, error) bool) { d.mergeStreams(streams, yield) }
}

// mergeStreams yields the streams' records in timestamp order, from where
// each stream stands. It returns false when yield asked to stop or an
// error ended the sequence.
func (d *Decoder) mergeStreams(streams []*writer, yield func(*Record, error) bool) bool {
	h := make(mergeHeap, 0, len(streams))
	for _, w := range streams {
		ok, err := d.advance(w)
		if err != nil {
			yield(nil, err)
			return false
		}
		if ok {
			h.push(w)
		}
	}
	for len(h) > 0 {
		w := h[0].w
		if !yield(&w.rec, nil) {
			return false
		}
		ok, err := d.advance(w)
		if err != nil {
			yield(nil, err)
			return false
		}
		if ok {
			h[0].ts, h[0].order = w.rec.raw, w.order
			// A writer mostly stays first for a run of records:
			// check its children before sifting.
			if len(h) > 1 && h.less(1, 0) || len(h) > 2 && h.less(2, 0) {
				h.down(0)
			}
		} else {
			h.pop()
		}
	}
	return true
}

// advance loads the writer's next log record into w.rec. It returns false
// when the writer has no more records. Damage other than in a log
// record's site or arguments was reported by the index pass, which also
// cut each chunk's limit before any framing damage.
func (d *Decoder) advance(w *writer) (bool, error) {
	if w.rec.prefix {
		// The record yielded last was a prefix record: its text is the
		// line prefix of its process's later records, from now on.
		w.rec.prefix = false
		d.buf = w.rec.Site.msg.append(d.buf[:0], w.rec.Args)
		w.rec.Proc.setPrefix(d.buf, w.rec.raw)
	}
	for {
		tag, data, ts, off, size, ok := w.rd.NextLog()
		if !ok {
			var err error
			if tag, data, ts, off, size, ok, err = d.nextSlow(w); !ok {
				return false, err
			}
		}
		ts += w.shift
		if ts < w.from {
			continue // before the part of the log being read (parallel.go)
		}
		if ts >= w.until {
			return false, nil
		}
		r := &w.rec // its PID and TID are the writer's, set once
		if d.fill(r, tag, data, off, size) {
			if off >= w.nextCut {
				if r.lazy && cutAbout(w.cuts, off) && !d.fillSlow(r, tag, data, off, size) {
					continue // a cut record names its string argument: decode it
				}
				d.cutsOf(w, r)
			}
			r.raw = ts
			if !d.noTS {
				r.TS = d.clock.NSAt(ts, &w.seg) - w.origin
			}
			return true, nil
		}
	}
}

// nextSlow is advance's way to the next log record where the reader's
// fast path cannot go: into the writer's next chunk, past other records.
// It returns ok false at the writer's end.
func (d *Decoder) nextSlow(w *writer) (tag uint64, data []byte, ts uint64, off int64, size int, ok bool, err error) {
	for {
		if !w.live {
			if w.ci >= len(w.chunks) {
				// The stream's end: its buffer goes, with the last
				// record's views of it (a log of thousands of runs has
				// as many streams, all kept with their sessions).
				w.rd.Release()
				w.rec.data, w.rec.args = nil, nil
				clear(w.rec.Args)
				return 0, nil, 0, 0, 0, false, nil
			}
			c := &w.chunks[w.ci]
			w.rd.Reset(d.r, c.at, c.limit, c.off+int64(c.size))
			w.rec.Proc = c.proc
			w.shift = c.shift
			w.cuts = d.cuts[c.cutLo:c.cutHi]
			w.nextCut = 0 // cutsOf clears the cuts of the record before
			if w.split {
				w.order = w.order&^(1<<32-1) | int(c.seq)
			}
			w.live = true
		}
		rec := w.rd.Next()
		switch {
		case rec.Kind == logfile.KindLog:
			return rec.Tag, rec.Data, rec.TS, rec.Offset, rec.Size, true, nil
		case rec.Kind == logfile.KindIOError:
			return 0, nil, 0, 0, 0, false, rec.Err
		case rec.Kind.Ends():
			w.live = false
			w.ci++
		}
	}
}

// fill decodes a log record's site, level and arguments into r; the
// caller sets the time and the writer. It reports damage and returns
// false if the record cannot be rendered.
func (d *Decoder) fill(r *Record, tag uint64, p []byte, at int64, size int) bool {
	// Good records of sites without '*' amounts decode in one pass;
	// anything else takes the careful path, which explains damage.
	s := d.site(tag)
	if s == nil || !s.fast || len(s.Args) > cap(r.Args) {
		return d.fillSlow(r, tag, p, at, size)
	}
	level := s.Level
	q := p
	if level == fmtdb.LevelRuntime {
		if len(q) == 0 {
			return d.fillSlow(r, tag, p, at, size)
		}
		level, q = q[0], q[1:]
	}
	if d.lazyArgs && s.plan != nil {
		r.Level, r.Args, r.lazy, r.data, r.args = level, r.Args[:0], true, p, q
		r.Site = s
		r.Index = uint32(tag)
		r.Offset, r.Size = at, size
		return true
	}
	args := r.Args[:len(s.Args)]
	if n, ok := logfile.DecodeArgsFast(q, s.Args, args); !ok || n != len(q) {
		return d.fillSlow(r, tag, p, at, size)
	}
	r.Level, r.lazy = level, false
	r.Args = args
	r.Site = s
	r.Index = uint32(tag)
	r.Offset, r.Size = at, size
	return true
}

// fillSlow is fill for records that need checks or are damaged.
func (d *Decoder) fillSlow(r *Record, tag uint64, p []byte, at int64, size int) bool {
	s := d.site(tag)
	if s == nil {
		why := "no descriptor for it in the log"
		if tag <= 1<<32-1 {
			if b, ok := d.bad[uint32(tag)]; ok {
				why = b
			}
		}
		d.skip(Skip{Kind: SkipUnknownSite, Detail: fmt.Sprintf("index %d: %s", tag, why), Offset: at, Bytes: int64(size), Records: 1})
		return false
	}
	if s.msg.err != nil {
		d.skip(Skip{Kind: SkipBadDescriptor, Detail: fmt.Sprintf("index %d (%s:%d): %v", tag, s.File, s.Line, s.msg.err), Offset: at, Bytes: int64(size), Records: 1})
		return false
	}
	r.Level = s.Level
	if s.Level == fmtdb.LevelRuntime {
		if len(p) == 0 {
			d.skip(Skip{Kind: SkipBadArgs, Detail: fmt.Sprintf("%s:%d: no level byte", s.File, s.Line), Offset: at, Bytes: int64(size), Records: 1})
			return false
		}
		r.Level = p[0]
		p = p[1:]
	}
	args, n, err := logfile.DecodeArgs(p, s.Args, r.Args[:0])
	r.Args = args
	if err == nil && n != len(p) {
		err = fmt.Errorf("%d bytes left after the arguments", len(p)-n)
	}
	if err == nil && s.msg.stars {
		err = s.msg.check(args)
	}
	if err != nil {
		d.skip(Skip{Kind: SkipBadArgs, Detail: fmt.Sprintf("%s:%d: %v", s.File, s.Line, err), Offset: at, Bytes: int64(size), Records: 1})
		return false
	}
	r.Site = s
	r.Index = uint32(tag)
	r.Offset, r.Size = at, size
	r.prefix, r.lazy = s.Prefix, false
	return true
}

// mergeHeap is a binary min-heap of writers by (next timestamp, order).
// The keys live in the heap's array, so comparisons do not chase pointers.
type mergeHeap []heapEntry

type heapEntry struct {
	ts    uint64
	order int
	w     *writer
}

func (h mergeHeap) less(i, j int) bool {
	a, b := &h[i], &h[j]
	return a.ts < b.ts || a.ts == b.ts && a.order < b.order
}

func (h *mergeHeap) push(w *writer) {
	*h = append(*h, heapEntry{w.rec.raw, w.order, w})
	s := *h
	for i := len(s) - 1; i > 0; {
		p := (i - 1) / 2
		if !s.less(i, p) {
			break
		}
		s[i], s[p] = s[p], s[i]
		i = p
	}
}

func (h *mergeHeap) pop() {
	s := *h
	n := len(s) - 1
	s[0] = s[n]
	*h = s[:n]
	if n > 0 {
		h.down(0)
	}
}

func (h mergeHeap) down(i int) {
	n := len(h)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		m := l
		if r := l + 1; r < n && h.less(r, l) {
			m = r
		}
		if !h.less(m, i) {
			return
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
}

// WriteRecords writes the records of session s (of every session if s is
// nil) that filter keeps (all if nil) with w, as a loop over Records
// calling WriteRecord would, only faster: for a Writer that neither
// greps nor redacts, a record whose site has a plan (see plan) is
// rendered straight from its encoded arguments, without decoding them
// into Values first. A record whose arguments turn out damaged takes the
// careful path, which reports it. w is not flushed.
func (d *Decoder) WriteRecords(w *Writer, filter *Filter, s *Session) error {
	ss := d.sessions
	if s != nil {
		ss = []*Session{s}
	}
	d.lazyArgs = w.raw()
	d.noTS = w.f == FormatPlain // plain text has no times
	defer func() { d.lazyArgs, d.noTS = false, false }()
	for _, s := range ss {
		if size := d.parallel(w, s); size > 0 {
			if err := d.writeParallel(w, filter, s, size); err != nil {
				return err
			}
			continue
		}
		if err := d.writeRecords(w, filter, d.records([]*Session{s})); err != nil {
			return err
		}
	}
	return nil
}

// writeRecords is WriteRecords's loop over records.
func (d *Decoder) writeRecords(w *Writer, filter *Filter, records iter.Seq2[*Record, error]) error {
	for r, err := range records {
		if err != nil {
			return err
		}
		if filter != nil && !filter.Keep(r) {
			if r.lazy {
				d.check(r) // damage is reported whether the record is kept or not
			}
			continue
		}
		if r.lazy {
			if w.writeEncoded(r) {
				if w.err != nil {
					return w.err
				}
				continue
			}
			// Damaged: decode it the careful way, which reports it.
			if !d.fillSlow(r, uint64(r.Index), r.data, r.Offset, r.Size) {
				continue
			}
		}
		if _, err := w.WriteRecord(r); err != nil {
			return err
		}
	}
	return nil
}

// cutAbout reports whether cs (in file order) has a cut of the record at
// off.
func cutAbout(cs []cutAt, off int64) bool {
	for _, c := range cs {
		if c.of >= off {
			return c.of == off
		}
	}
	return false
}

// check decodes the arguments of a lazy record that is not written, so
// that damage in them is reported as Records reports it.
func (d *Decoder) check(r *Record) {
	p := r.args
	args := d.scratch[:0]
	if len(r.Site.Args) <= cap(args) {
		args = args[:len(r.Site.Args)]
	} else {
		args = make([]Arg, len(r.Site.Args))
		d.scratch = args
	}
	if n, ok := logfile.DecodeArgsFast(p, r.Site.Args, args); !ok || n != len(p) {
		d.fillSlow(r, uint64(r.Index), r.data, r.Offset, r.Size)
	}
}
