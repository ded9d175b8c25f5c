package decoder

import (
	"cmp"
	"math"
	"runtime"
	"slices"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/logpack/logpack/internal/logfile"
)

// Reading a large session on several CPUs. The session's records are cut
// into parts by time (at chunk starts, about partRecords records each or
// more: see partChunks);
// each part is merged and rendered on its own by whichever CPU is free,
// from where its time starts in each thread's chunks, into a buffer of
// its own, and the buffers are written in order. A record belongs to the
// part its time falls in, so the parts put together are the records in
// the order Records yields them, and the output is byte for byte the
// same. Damage found in a part is reported when its output is written,
// in order. Only parts a few ahead of the one being written are read, so
// memory stays bounded.

// (Variables for tests.)
var (
	// parallelMin is the smallest session read in parallel.
	parallelMin = 1 << 18
	// partRecords is the fewest records a part holds, about;
	// maxPartRecords the most (a part's output waits in memory until it
	// is written).
	partRecords    = 1 << 14
	maxPartRecords = 1 << 17
	// partChunks is how many chunks of each thread writing at the same
	// time a part spans at least. Every part starts reading each such
	// thread at the start of its chunk that holds the part's first time,
	// and skips the records before: a part of fewer records than one
	// chunk per thread read most chunks several times (64 threads: 1.7×
	// the sequential time on 2 CPUs).
	partChunks = 1
)

// parallel returns how many records, about, the parts of session s hold
// when WriteRecords reads it in parallel, or 0 to read it sequentially. In
// parallel: a large session, more than one CPU, a Writer that renders
// records from their encoded arguments (no grep, no redaction, whose
// pseudonyms go in order), no prefix sites (their records set their
// process's line prefix as they are read, which the parts could not
// share), threads whose chunks follow one another in time, and not so
// many threads writing at once that a part would hold more than
// maxPartRecords (see partChunks).
func (d *Decoder) parallel(w *Writer, s *Session) int {
	if s.Records < parallelMin || runtime.GOMAXPROCS(0) < 2 || !w.raw() {
		return 0
	}
	for _, site := range d.ordered {
		if site.Prefix {
			return 0
		}
	}
	type event struct {
		ts    uint64
		delta int // +1: a thread starts writing, -1: it stops
	}
	var events []event
	chunks := 0
	for _, st := range s.streams {
		for i := 1; i < len(st.chunks); i++ {
			if st.chunks[i].at.TS+st.chunks[i].shift < st.chunks[i-1].last+st.chunks[i-1].shift {
				return 0
			}
		}
		if n := len(st.chunks); n > 0 {
			first, last := &st.chunks[0], &st.chunks[n-1]
			events = append(events, event{first.at.TS + first.shift, 1}, event{last.last + last.shift, -1})
			chunks += n
		}
	}
	// The most threads writing at once, and records per chunk.
	slices.SortFunc(events, func(a, b event) int { return cmp.Or(cmp.Compare(a.ts, b.ts), cmp.Compare(b.delta, a.delta)) })
	live, most := 0, 0
	for _, e := range events {
		live += e.delta
		most = max(most, live)
	}
	perChunk := s.Records / max(chunks, 1)
	size := max(partRecords, partChunks*most*perChunk)
	if size > maxPartRecords {
		return 0
	}
	return size
}

// part is the output of one part of a session, and what was skipped in it.
type part struct {
	out   []byte
	skips []Skip
	err   error
}

// writeParallel writes session s as WriteRecords does, in parts.
func (d *Decoder) writeParallel(w *Writer, filter *Filter, s *Session, size int) error {
	bounds := d.partBounds(s, size)
	n := len(bounds) + 1
	// Every line prefix is fixed now (there are no prefix sites), so that
	// the parts only read them.
	s.resetPrefixes()
	for _, p := range s.Processes {
		p.LinePrefix()
	}
	if err := w.Flush(); err != nil {
		return err
	}
	workers := min(runtime.GOMAXPROCS(0), n)
	ahead := workers + 1 // parts read but not written yet, at most
	// Part i's result goes to results[i%ahead]: a worker takes a part
	// only with a slot, which the writer gives back once it has the
	// result, so part i+ahead is taken after part i is received.
	results := make([]chan part, ahead)
	for i := range results {
		results[i] = make(chan part, 1)
	}
	var next atomic.Int64
	slots := make(chan struct{}, ahead)
	quit := make(chan struct{})
	free := make(chan []byte, ahead) // output buffers to reuse
	var wg sync.WaitGroup
	for range workers {
		// Each worker reads with its own copy of the decoder's reading
		// state, its damage reports apart, made before any part is
		// written (which reports damage into d).
		dw := *d
		dw.skips, dw.summary, dw.skipKinds, dw.buf, dw.scratch = nil, nil, nil, nil, nil
		cl := &clones{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case slots <- struct{}{}:
				case <-quit:
					return
				}
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				from, until := uint64(0), uint64(math.MaxUint64)
				if i > 0 {
					from = bounds[i-1]
				}
				if i < len(bounds) {
					until = bounds[i]
				}
				var buf []byte
				select {
				case buf = <-free:
				default:
				}
				results[i%ahead] <- dw.readPart(w, filter, s, from, until, buf[:0], cl)
			}
		}()
	}
	var err error
	for i := range n {
		p := <-results[i%ahead]
		<-slots
		if err == nil {
			err = p.err
		}
		if err == nil && len(p.out) > 0 {
			if _, werr := w.w.Write(p.out); werr != nil {
				w.err, err = werr, werr
			}
		}
		for _, sk := range p.skips {
			d.skip(sk)
		}
		select {
		case free <- p.out:
		default:
		}
		if err != nil {
			break
		}
	}
	close(quit) // workers waiting for a slot stop; results are buffered
	wg.Wait()
	return err
}

// partBounds cuts the session into parts of about size records (parallel),
// at chunk starts: part i holds the records from bounds[i-1] (in the
// log's units, shift added) until bounds[i].
func (d *Decoder) partBounds(s *Session, size int) []uint64 {
	type start struct {
		ts   uint64
		nrec int
	}
	var starts []start
	for _, st := range s.streams {
		for i := range st.chunks {
			c := &st.chunks[i]
			starts = append(starts, start{c.at.TS + c.shift, int(c.nrec)})
		}
	}
	slices.SortFunc(starts, func(a, b start) int { return cmp.Compare(a.ts, b.ts) })
	var bounds []uint64
	acc := 0
	for _, st := range starts {
		if acc >= size && (len(bounds) == 0 || st.ts > bounds[len(bounds)-1]) {
			bounds = append(bounds, st.ts)
			acc = 0
		}
		acc += st.nrec
	}
	return bounds
}

// readPart merges and renders the records of session s from from until
// until, with a Writer like w into out. d is a worker's copy of the
// decoder.
func (d *Decoder) readPart(w *Writer, filter *Filter, s *Session, from, until uint64, out []byte, cl *clones) part {
	var p part
	d.skips, d.summary, d.skipKinds = d.skips[:0], d.summary[:0], nil
	d.opts.OnSkip = func(sk Skip) { p.skips = append(p.skips, sk) }
	ww := &Writer{out: out, f: w.f, opts: w.opts, flushAt: math.MaxInt}
	if len(cl.ws) != len(s.streams) {
		cl.ws = make([]writer, len(s.streams))
		cl.ptrs = make([]*writer, len(s.streams))
	}
	for i, st := range s.streams {
		// A copy of the stream's reading state, keeping the copy's read
		// buffer and argument slice from part to part.
		wc := &cl.ws[i]
		rd, args := wc.rd, wc.rec.Args[:0]
		*wc = writer{pid: st.pid, tid: st.tid, order: st.order, sess: st.sess, split: st.split, chunks: st.chunks,
			origin: s.originNS, from: from, until: until, rd: rd}
		wc.rd.Reset(nil, logfile.Cursor{}, 0, 0)
		wc.rec.PID, wc.rec.TID, wc.rec.Args = wc.pid, wc.tid, args
		// Its first chunk with records from the part's start on (the
		// chunks follow one another in time: see parallel).
		wc.ci = sort.Search(len(wc.chunks), func(k int) bool { return wc.chunks[k].last+wc.chunks[k].shift >= from })
		cl.ptrs[i] = wc
	}
	p.err = d.writeRecords(ww, filter, d.merge(cl.ptrs))
	p.out = ww.out
	return p
}

// clones are a worker's copies of a session's streams.
type clones struct {
	ws   []writer
	ptrs []*writer
}
