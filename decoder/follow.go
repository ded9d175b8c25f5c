package decoder

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"iter"
	"math"
	"os"
	"slices"
	"strings"
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
	// followLook bounds the chunk bytes one look takes in: a large log
	// that is there already (a test suite's) is read in parts of this
	// much, one right after the other, not all into memory at once.
	followLook int64 = 1 << 20
)

// A Follower decodes a log while it is being written, like tail -f.
type Follower struct {
	// Poll is how long the follower waits, once it has yielded all there
	// was, before it looks at the file again; 200 ms if zero.
	Poll time.Duration

	path     string
	opts     Options
	fl       *follower
	hdr      *Header
	caughtUp bool
}

// Follow returns a Follower of the log at path. opts are as for Open; its
// OnSkip reports damage as it is found.
func Follow(path string, opts *Options) *Follower {
	f := &Follower{path: path}
	if opts != nil {
		f.opts = *opts
	}
	return f
}

// Records yields the log's records as they are written, until ctx is
// done (the sequence then ends). Records that one look at the file finds
// are merged by time, each with its session and process as in
// Decoder.Records (sessions are numbered as they appear); a record whose
// site descriptor has not appeared yet waits for it (up to a few
// seconds), then is reported as an unknown site. If the file is started
// anew (its header names another file identity), decoding starts over. A
// file that cannot be read, is not a regular file, is not a logpack log
// (an empty file is waited for, a header that may be being written a
// few seconds), or shrinks ends the sequence with (nil, err). The *Record is reused: it is valid until the loop
// continues.
func (f *Follower) Records(ctx context.Context) iter.Seq2[*Record, error] {
	return func(yield func(*Record, error) bool) {
		file, err := os.Open(f.path)
		if err != nil {
			yield(nil, err)
			return
		}
		defer file.Close()
		if st, err := file.Stat(); err != nil || !st.Mode().IsRegular() {
			if err == nil {
				err = errors.New("not a regular file: a log is followed as it grows in its file")
			}
			yield(nil, err)
			return
		}
		poll := f.Poll
		if poll <= 0 {
			poll = 200 * time.Millisecond
		}
		tick := time.NewTicker(poll)
		defer tick.Stop()
		var unready time.Time // since when the header has been half-made
		for {
			h, half, err := readHeader(file)
			if half {
				if unready.IsZero() {
					unready = time.Now()
				}
				if time.Since(unready) <= followHeaderGrace {
					err = io.ErrUnexpectedEOF // wait for it
				}
			} else {
				unready = time.Time{}
			}
			switch {
			case err == nil:
				if f.fl == nil || f.fl.d.hdr.FileID != h.FileID {
					f.fl = newFollower(file, h, &f.opts)
				}
				f.fl.d.hdr = h
				hh := Header(*h)
				f.hdr = &hh
				more, behind, err := f.fl.poll(func(r *Record, last bool) bool {
					f.caughtUp = last
					return yield(r, nil)
				})
				if err != nil {
					yield(nil, err)
					return
				}
				if !more {
					return
				}
				if behind {
					// The next part of what the file holds, at once.
					select {
					case <-ctx.Done():
						return
					default:
						continue
					}
				}
			case errors.Is(err, io.ErrUnexpectedEOF):
				// Not written yet: wait for the header.
			default:
				yield(nil, err)
				return
			}
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}
}

// CaughtUp reports whether the record just yielded is the last one there
// is for now: the sequence waits for the log to grow before the next one.
// A consumer that buffers its output flushes it then.
func (f *Follower) CaughtUp() bool { return f.caughtUp }

// Header returns the header of the log being followed, nil until it has
// been read.
func (f *Follower) Header() *Header { return f.hdr }

// readHeader reads the file's header. io.ErrUnexpectedEOF means an empty
// file (waited for: a program can make an empty file its log). half
// reports a header that may be being written, with the error it has now:
// a file shorter than its header whose bytes begin the magic, or one
// whose magic or check is still zero (a program making an empty file a
// log writes zeros first, then the header, its check last); a few
// seconds of it are waited for. Anything else that is no header is no
// log.
func readHeader(f *os.File) (h *logfile.Header, half bool, err error) {
	b := make([]byte, logfile.HeaderSize)
	n, err := f.ReadAt(b, 0)
	if n == 0 {
		return nil, false, io.ErrUnexpectedEOF
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, false, err
	}
	m := min(n, len(logfile.Magic))
	h, err = logfile.ParseHeader(b[:n])
	half = err != nil && (bytes.Equal(b[:m], make([]byte, m)) || n < len(b) && bytes.Equal(b[:m], []byte(logfile.Magic)[:m]) ||
		n == len(b) && binary.LittleEndian.Uint32(b[60:]) == 0)
	return h, half, err
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
	recs     [2]Record
	buf      []byte
	seg      int // the clock's knot segment of the last record
	streams  map[streamKey]uint32
	size     int64 // the file's size at the latest look
	fitted   int   // calibration pairs the clock was fitted to (d.pairs; -1: none yet)
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

func newFollower(f *os.File, h *logfile.Header, opts *Options) *follower {
	d := &Decoder{r: f, hdr: h, byKey: map[uint64]*writer{}, bad: map[uint32]string{}, lastCutOf: -1}
	if opts != nil {
		d.opts = *opts
	}
	return &follower{d: d, f: f, descs: map[uint32]descAt{}, next: logfile.HeaderSize, pending: map[int64]time.Time{}, last: map[*writer]*[followChains]*liveChunk{}, streams: map[streamKey]uint32{}, fitted: -1}
}

// poll reads what the log holds now, up to followLook bytes of new
// chunks, and emits its new records, each with last set when no other
// follows in this poll. It returns more false when emit does, and behind
// when the file holds more chunks than it took in: then the records from
// where the first chunk left out starts wait for the next poll, which
// reads that chunk, so that records still come out in time order.
func (fl *follower) poll(emit func(r *Record, last bool) bool) (more, behind bool, err error) {
	d := fl.d
	st, err := fl.f.Stat()
	if err != nil {
		return false, false, err
	}
	end := st.Size()
	if end < fl.size {
		return false, false, fmt.Errorf("the file shrank from %d to %d bytes while followed: a log only grows", fl.size, end)
	}
	fl.size = end
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
			return false, false, err
		}
		if ok {
			delete(fl.pending, off)
		} else if hdrErr := fl.badHeader(off, end); hdrErr != "" && now.Sub(since) > followHeaderGrace {
			d.skip(Skip{Kind: SkipBadChunk, Detail: hdrErr, Offset: off, Bytes: logfile.Align})
			delete(fl.pending, off)
		}
	}
	took := int64(0)
	cutoff := uint64(math.MaxUint64) // records from here on wait for the next poll
	for fl.next < end {
		off := fl.next
		if took >= followLook {
			if ch, ok, _ := fl.chunkHeader(off, end); ok {
				behind, cutoff = true, ch.BaseTS
				break
			}
		}
		ok, err := fl.tryChunk(off, end)
		if err != nil {
			return false, false, err
		}
		if ok {
			fl.next = off + int64(fl.open[len(fl.open)-1].c.size)
			took += int64(fl.open[len(fl.open)-1].c.size)
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
			return false, false, err
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
	if len(d.pairs) != fl.fitted {
		// Fitting the clock is most of what a poll of a large log costs
		// (2% of a CPU idle on a 10 M-record log): only when there are
		// new pairs.
		d.clock = logfile.NewClock(d.hdr, d.pairs)
		fl.fitted = len(d.pairs)
	}
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
	slices.SortStableFunc(fl.batch, func(a, b liveRec) int {
		return cmp.Or(cmp.Compare(a.rec.TS, b.rec.TS), cmp.Compare(a.w.order, b.w.order))
	})
	// Each record is filled in while the one before waits in the other
	// buffer, so that the last one of the poll is known as such.
	var prev *Record
	k := 0
	for _, lr := range fl.batch {
		if lr.rec.TS >= cutoff || d.site(lr.rec.Tag) == nil && now.Sub(lr.since) <= followSiteGrace {
			lr.rec.Data = bytes.Clone(lr.rec.Data) // the arena is reused
			fl.deferred = append(fl.deferred, lr)
			continue
		}
		r := &fl.recs[k]
		if !d.fill(r, lr.rec.Tag, lr.rec.Data, lr.rec.Offset, lr.rec.Size) {
			continue
		}
		d.attachCuts(r, lr.cuts)
		r.raw, r.TS = lr.rec.TS, d.clock.NSAt(lr.rec.TS, &fl.seg)-lr.proc.Session.originNS
		r.PID, r.TID, r.Proc = lr.w.pid, lr.w.tid, lr.proc
		if prev != nil && !fl.emit(prev, false, emit) {
			return false, false, nil
		}
		prev, k = r, k^1
	}
	if prev != nil && !fl.emit(prev, !behind, emit) {
		return false, false, nil
	}
	return true, behind, nil
}

// emit counts r and keeps its process's line prefix, then hands it on.
func (fl *follower) emit(r *Record, last bool, emit func(*Record, bool) bool) bool {
	r.Proc.Records++
	r.Proc.Session.Records++
	if r.prefix {
		r.prefix = false
		fl.buf = r.Site.msg.append(fl.buf[:0], r.Args)
		r.Proc.setPrefix(fl.buf, r.raw)
	}
	return emit(r, last)
}

// inChunk reports whether off lies inside a chunk already found.
func (fl *follower) inChunk(off int64) bool {
	for _, w := range fl.d.writers {
		for _, c := range w.chunks {
			if off > c.off && off < c.off+int64(c.size) {
				return true
			}
		}
	}
	return false
}

// badHeader returns why the header at off is bad, or "" if it is unused
// (zero). A header whose magic is there but not its check is being
// written: bad only once that has lasted (the caller's grace).
func (fl *follower) badHeader(off, end int64) string {
	var hb [logfile.ChunkHeaderSize]byte
	n := int(min(logfile.ChunkHeaderSize, end-off))
	fl.f.ReadAt(hb[:n], off)
	_, err := logfile.ParseChunkHeader(hb[:n])
	switch {
	case err == nil:
		return ""
	case errors.Is(err, logfile.ErrUnused):
		if n < 4 || binary.LittleEndian.Uint32(hb[:4]) == 0 {
			return ""
		}
		return "its check was never written"
	}
	return strings.TrimPrefix(err.Error(), logfile.ErrBadChunk.Error()+": ")
}

// chunkHeader reads the chunk header at off; ok is false if there is no
// valid one (yet).
func (fl *follower) chunkHeader(off, end int64) (ch logfile.ChunkHeader, ok bool, err error) {
	var hb [logfile.ChunkHeaderSize]byte
	if end-off < logfile.ChunkHeaderSize {
		return ch, false, nil
	}
	if _, err := fl.f.ReadAt(hb[:], off); err != nil && !errors.Is(err, io.EOF) {
		return ch, false, err
	}
	ch, err = logfile.ParseChunkHeader(hb[:])
	return ch, err == nil, nil
}

// tryChunk opens the chunk at off if its header is valid.
func (fl *follower) tryChunk(off, end int64) (bool, error) {
	ch, ok, err := fl.chunkHeader(off, end)
	if !ok || err != nil {
		return false, err
	}
	d := fl.d
	w := d.writerFor(ch.PID, ch.TID)
	c := chunk{off: off, at: logfile.Start(off, &ch), limit: off + int64(ch.Size), size: ch.Size, proc: d.procAt(ch.PID, ch.BaseTS)}
	c.stream = fl.stream(w, c.proc)
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
	d.pairs = append(d.pairs, logfile.Pair{TS: ch.BaseTS, Mono: ch.MonoNS, Stream: c.stream})
	return true, nil
}

// stream returns the calibration pair stream of a thread's process.
func (fl *follower) stream(w *writer, p *Process) uint32 {
	k := streamKey{w, p}
	id, ok := fl.streams[k]
	if !ok {
		id = uint32(len(fl.streams) + 1)
		fl.streams[k] = id
	}
	return id
}

type streamKey struct {
	w *writer
	p *Process
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
				lc.c.stream = fl.stream(lc.w, p)
			}
			continue
		case logfile.KindCut:
			d.control(rec, &lc.c, fl.descs, where{lc.w, -1})
			// Attach it to its record if that is still to be emitted.
			for i := len(fl.batch) - 1; i >= 0; i-- {
				if lr := &fl.batch[i]; lr.w == lc.w && lr.rec.Offset == rec.Cut.Of {
					lr.cuts = append(lr.cuts, cutAt{of: rec.Cut.Of, at: rec.Offset, arg: rec.Cut.Arg, len: rec.Cut.Len})
					break
				}
			}
			continue
		default:
			if d.control(rec, &lc.c, fl.descs, where{lc.w, -1}) {
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
