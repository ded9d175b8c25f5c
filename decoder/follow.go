package decoder

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"slices"
	"time"

	"github.com/logpack/logpack/internal/logfile"
)

// How long Follow waits for something that may still be in flight: a
// chunk header being written after its space was claimed, a descriptor
// that another thread has not stored yet.
// (Variables for tests.)
var (
	followHeaderGrace = 2 * time.Second
	followSiteGrace   = 5 * time.Second
)

// Follow decodes the log at path while it is being written, like tail -f:
// it calls start once the header is readable, then fn for every new
// record and flush after each batch, polling every poll, until ctx is done
// (it then returns ctx.Err()). Records of one poll are merged by
// timestamp; a record whose site descriptor has not appeared yet waits
// for it (up to a few seconds) and is reported as an unknown site after
// that. If the file is started anew (its header names another file
// identity), decoding restarts.
func Follow(ctx context.Context, path string, opts *Options, poll time.Duration, start func(*Header), fn func(*Record) error, flush func() error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if poll <= 0 {
		poll = 200 * time.Millisecond
	}
	var fl *follower
	tick := time.NewTicker(poll)
	defer tick.Stop()
	for {
		h, err := readHeader(f)
		switch {
		case err == nil:
			if fl == nil || fl.d.hdr.FileID != h.FileID {
				fl = newFollower(f, h, opts)
				start(h)
			}
			fl.d.hdr = h
			if err := fl.poll(fn); err != nil {
				return err
			}
			if err := flush(); err != nil {
				return err
			}
		case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, logfile.ErrNotLog) && fl == nil:
			// Not written yet: wait for the header.
		default:
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

func readHeader(f *os.File) (*Header, error) {
	b := make([]byte, logfile.HeaderSize)
	n, err := f.ReadAt(b, 0)
	if n == 0 {
		return nil, io.ErrUnexpectedEOF
	}
	if n < len(b) && bytes.Equal(b[:min(n, len(logfile.Magic))], []byte(logfile.Magic)[:min(n, len(logfile.Magic))]) {
		return nil, io.ErrUnexpectedEOF
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	return logfile.ParseHeader(b[:n])
}

// follower is the state of Follow for one log (one file identity).
type follower struct {
	d        *Decoder
	f        *os.File
	descs    map[uint32]descAt
	next     int64               // next chunk boundary to look at
	pending  map[int64]time.Time // boundaries without a valid header yet
	open     []*liveChunk
	last     map[*writer]*[followChains]*liveChunk // a thread's latest chunks, oldest first
	rd       logfile.Reader
	batch    []liveRec
	arena    []byte
	deferred []liveRec
	rec      Record
	buf      []byte
	seg      int // the clock's knot segment of the last record
}

// followChains is how many of a thread's latest chunks stay open for
// records still to come: a shared library with its own copy of the
// runtime writes the thread's records into chunks of its own, so a thread
// moving on to a new chunk does not mean its previous one is finished.
const followChains = 2

type liveChunk struct {
	c     chunk
	w     *writer
	at    logfile.Cursor // where reading goes on
	final bool           // its thread has moved on to followChains later chunks
}

// liveRec is a log record read but not yet emitted.
type liveRec struct {
	w     *writer
	proc  *Process
	rec   logfile.Record // its Data is a copy
	cuts  []cutAt        // cut records about it read so far
	since time.Time
}

func newFollower(f *os.File, h *Header, opts *Options) *follower {
	d := &Decoder{r: f, hdr: h, byKey: map[uint64]*writer{}, bad: map[uint32]string{}, lastCutOf: -1}
	if opts != nil {
		d.opts = *opts
	}
	return &follower{d: d, f: f, descs: map[uint32]descAt{}, next: logfile.HeaderSize, pending: map[int64]time.Time{}, last: map[*writer]*[followChains]*liveChunk{}}
}

func (fl *follower) poll(fn func(*Record) error) error {
	d := fl.d
	st, err := fl.f.Stat()
	if err != nil {
		return err
	}
	end := st.Size()
	if t := int64(d.hdr.Tail); t >= logfile.HeaderSize && t < end {
		end = t
	}
	d.end = end
	now := time.Now()
	// Boundaries that had no valid chunk header last time.
	offs := make([]int64, 0, len(fl.pending))
	for off := range fl.pending {
		offs = append(offs, off)
	}
	slices.Sort(offs) // a chunk found first makes the boundaries inside it moot
	for _, off := range offs {
		since := fl.pending[off]
		if off >= end {
			continue
		}
		if fl.inChunk(off) {
			delete(fl.pending, off)
			continue
		}
		ok, err := fl.tryChunk(off, end)
		if err != nil {
			return err
		}
		if ok {
			delete(fl.pending, off)
		} else if hdrErr := fl.badHeader(off, end); hdrErr != "" && now.Sub(since) > followHeaderGrace {
			d.skip(Skip{Kind: SkipBadChunk, Detail: hdrErr, Offset: off, Bytes: logfile.Align})
			delete(fl.pending, off)
		}
	}
	for fl.next < end {
		off := fl.next
		ok, err := fl.tryChunk(off, end)
		if err != nil {
			return err
		}
		if ok {
			fl.next = off + int64(fl.open[len(fl.open)-1].c.hdr.Size)
			continue
		}
		if off+logfile.ChunkHeaderSize > end {
			break // the header is not all there yet
		}
		fl.pending[off] = now
		fl.next = off + logfile.Align
	}
	// New records of every open chunk.
	fl.batch, fl.arena = fl.batch[:0], fl.arena[:0]
	dirty := false
	keep := fl.open[:0]
	for _, lc := range fl.open {
		more, err := fl.read(lc, now, &dirty)
		if err != nil {
			return err
		}
		if more {
			keep = append(keep, lc)
		}
	}
	clear(fl.open[len(keep):])
	fl.open = keep
	if dirty {
		d.buildSites(fl.descs)
	}
	d.clock = logfile.NewClock(d.hdr, d.pairs)
	for _, s := range d.sessions {
		if s != d.orphanSession {
			s.Start = d.clock.NS(s.raw)
			s.originNS = s.Start
			s.Time = time.Unix(0, int64(d.hdr.StartRealtimeNS)).Add(time.Duration(s.Start))
		}
		for _, p := range s.Processes {
			p.Start = d.clock.NS(p.raw) - s.originNS
		}
	}
	// Records whose descriptor was missing before.
	waiting := fl.deferred[:0]
	for _, lr := range fl.deferred {
		if d.site(lr.rec.Tag) != nil || now.Sub(lr.since) > followSiteGrace {
			fl.batch = append(fl.batch, lr)
		} else {
			waiting = append(waiting, lr)
		}
	}
	fl.deferred = waiting
	sortBy(fl.batch, func(a, b liveRec) bool {
		if a.rec.TS != b.rec.TS {
			return a.rec.TS < b.rec.TS
		}
		return a.w.order < b.w.order
	})
	for _, lr := range fl.batch {
		if d.site(lr.rec.Tag) == nil && now.Sub(lr.since) <= followSiteGrace {
			lr.rec.Data = bytes.Clone(lr.rec.Data) // the arena is reused
			fl.deferred = append(fl.deferred, lr)
			continue
		}
		if !d.fill(&fl.rec, lr.rec.Tag, lr.rec.Data, lr.rec.Offset, lr.rec.Size) {
			continue
		}
		d.attachCuts(&fl.rec, lr.cuts)
		fl.rec.raw, fl.rec.TS = lr.rec.TS, d.clock.NSAt(lr.rec.TS, &fl.seg)
		fl.rec.PID, fl.rec.TID, fl.rec.Proc = lr.w.pid, lr.w.tid, lr.proc
		fl.rec.TS -= lr.proc.Session.originNS
		lr.proc.Records++
		lr.proc.Session.Records++
		if r := &fl.rec; r.Site.Prefix {
			fl.buf = r.Site.msg.append(fl.buf[:0], r.Args)
			r.Proc.setPrefix(fl.buf, r.raw)
		}
		if err := fn(&fl.rec); err != nil {
			return err
		}
	}
	return nil
}

// inChunk reports whether off lies inside a chunk already found.
func (fl *follower) inChunk(off int64) bool {
	for _, w := range fl.d.writers {
		for _, c := range w.chunks {
			if off > c.off && off < c.off+int64(c.hdr.Size) {
				return true
			}
		}
	}
	return false
}

// badHeader returns why the header at off is bad, or "" if it is unused.
func (fl *follower) badHeader(off, end int64) string {
	var hb [logfile.ChunkHeaderSize]byte
	n := int(min(logfile.ChunkHeaderSize, end-off))
	fl.f.ReadAt(hb[:n], off)
	_, err := logfile.ParseChunkHeader(hb[:n])
	if err == nil || errors.Is(err, logfile.ErrUnused) {
		return ""
	}
	return err.Error()
}

// tryChunk opens the chunk at off if its header is valid.
func (fl *follower) tryChunk(off, end int64) (bool, error) {
	var hb [logfile.ChunkHeaderSize]byte
	if end-off < logfile.ChunkHeaderSize {
		return false, nil
	}
	if _, err := fl.f.ReadAt(hb[:], off); err != nil && !errors.Is(err, io.EOF) {
		return false, err
	}
	ch, err := logfile.ParseChunkHeader(hb[:])
	if err != nil {
		return false, nil
	}
	d := fl.d
	w := d.writerFor(ch.PID, ch.TID)
	c := chunk{off: off, at: logfile.Start(off, &ch), limit: off + int64(ch.Size), hdr: ch, proc: d.procAt(ch.PID, ch.BaseTS)}
	w.chunks = append(w.chunks[:0], c) // only the latest matters here
	lc := &liveChunk{c: c, w: w, at: c.at}
	latest := fl.last[w]
	if latest == nil {
		latest = new([followChains]*liveChunk)
		fl.last[w] = latest
	}
	if old := latest[0]; old != nil {
		old.final = true
	}
	copy(latest[:], latest[1:])
	latest[followChains-1] = lc
	fl.open = append(fl.open, lc)
	d.pairs = append(d.pairs, logfile.Pair{TS: ch.BaseTS, Mono: ch.MonoNS})
	return true, nil
}

// read collects the chunk's new records. It returns false when the chunk
// is finished. Everything but log records goes through the same control
// as in the index pass, so damage is reported as Open reports it.
func (fl *follower) read(lc *liveChunk, now time.Time, dirty *bool) (bool, error) {
	d := fl.d
	limit := min(lc.c.limit, d.end)
	fl.rd.Reset(d.r, lc.at, limit, lc.c.limit)
	for {
		rec := fl.rd.Next()
		switch {
		case rec.Kind == logfile.KindIOError:
			return true, rec.Err
		case rec.Kind == logfile.KindEnd:
			if lc.at.Off >= lc.c.limit {
				return false, nil
			}
			return !lc.final, nil
		case rec.Kind == logfile.KindTruncated && !lc.final && limit < lc.c.limit:
			return true, nil // the rest is not in the file yet
		case rec.Kind.Ends():
			d.brokenChunk(rec, lc.c.limit)
			return false, nil
		}
		lc.at = fl.rd.Cursor()
		switch rec.Kind {
		case logfile.KindLog:
		case logfile.KindProcess:
			if p := d.newProcess(rec, lc.w.pid); p != nil {
				lc.c.proc = p
			}
			continue
		case logfile.KindCut:
			d.control(rec, &lc.c, fl.descs)
			// Attach it to its record if that is still to be emitted.
			for i := len(fl.batch) - 1; i >= 0; i-- {
				if lr := &fl.batch[i]; lr.w == lc.w && lr.rec.Offset == rec.Cut.Of {
					lr.cuts = append(lr.cuts, cutAt{of: rec.Cut.Of, at: rec.Offset, arg: rec.Cut.Arg, len: rec.Cut.Len})
					break
				}
			}
			continue
		default:
			if d.control(rec, &lc.c, fl.descs) {
				*dirty = true
			}
			if lc.c.dropped > 0 {
				p := lc.c.proc
				if p == nil {
					if p = d.procAt(lc.w.pid, rec.TS); p == nil {
						p = d.orphan(lc.w.pid)
					}
				}
				p.Dropped += lc.c.dropped
				p.Session.Dropped += lc.c.dropped
				lc.c.dropped = 0
			}
			continue
		}
		start := len(fl.arena)
		fl.arena = append(fl.arena, rec.Data...)
		if lc.c.proc == nil {
			if lc.c.proc = d.procAt(lc.w.pid, rec.TS); lc.c.proc == nil {
				lc.c.proc = d.orphan(lc.w.pid)
			}
		}
		lr := liveRec{w: lc.w, proc: lc.c.proc, rec: *rec, since: now}
		lr.rec.Data = fl.arena[start:len(fl.arena):len(fl.arena)]
		fl.batch = append(fl.batch, lr)
	}
}
