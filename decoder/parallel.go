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
// into parts by time (at chunk starts, about partRecords records each);
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
	// partRecords is about how many records a part holds.
	partRecords = 1 << 14
)

// parallel reports whether WriteRecords reads session s in parallel: a
// large session, more than one CPU, a Writer that renders records from
// their encoded arguments (no grep, no redaction, whose pseudonyms go in
// order), no prefix sites (their records set their process's line prefix
// as they are read, which the parts could not share), and threads whose
// chunks follow one another in time.
func (d *Decoder) parallel(w *Writer, s *Session) bool {
	if s.Records < parallelMin || runtime.GOMAXPROCS(0) < 2 || !w.raw() {
		return false
	}
	for _, site := range d.ordered {
		if site.Prefix {
			return false
		}
	}
	for _, st := range s.streams {
		for i := 1; i < len(st.chunks); i++ {
			if st.chunks[i].at.TS+st.chunks[i].shift < st.chunks[i-1].last+st.chunks[i-1].shift {
				return false
			}
		}
	}
	return true
}

// part is the output of one part of a session, and what was skipped in it.
type part struct {
	out   []byte
	skips []Skip
	err   error
}

// writeParallel writes session s as WriteRecords does, in parts.
func (d *Decoder) writeParallel(w *Writer, filter *Filter, s *Session) error {
	bounds := d.partBounds(s)
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
	results := make([]chan part, n)
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
				results[i] <- dw.readPart(w, filter, s, from, until, buf[:0], cl)
			}
		}()
	}
	var err error
	for i := range n {
		p := <-results[i]
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

// partBounds cuts the session into parts of about partRecords records,
// at chunk starts: part i holds the records from bounds[i-1] (in the
// log's units, shift added) until bounds[i].
func (d *Decoder) partBounds(s *Session) []uint64 {
	type start struct {
		ts   uint64
		nrec int
	}
	var starts []start
	for _, st := range s.streams {
		for i := range st.chunks {
			c := &st.chunks[i]
			starts = append(starts, start{c.at.TS + c.shift, c.nrec})
		}
	}
	slices.SortFunc(starts, func(a, b start) int { return cmp.Compare(a.ts, b.ts) })
	var bounds []uint64
	acc := 0
	for _, st := range starts {
		if acc >= partRecords && (len(bounds) == 0 || st.ts > bounds[len(bounds)-1]) {
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
