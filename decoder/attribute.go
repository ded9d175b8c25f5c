package decoder

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/logpack/logpack/internal/logfile"
)

// attribute gives every stretch of the index pass its process. A
// stretch that starts with a process record has it. The others (the
// records of a chunk before any process record in it: another thread's
// chunk, or a thread's next one) belong to a process of the chunk's pid:
//
//   - the only one the log has, or if none, a stand-in (orphan);
//   - of several (an exec keeps the pid, pids come back in later runs,
//     and the processes of a pid namespace have pids that other
//     processes of the same run have too: a restored task with the
//     pid of the program restoring it), one that had started by the
//     chunk's start, or if none had (an early buffer's records precede
//     their process record), the first;
//   - of several started ones, those of the sessions whose site indexes
//     the stretch uses (a run describes its sites afresh, so an index
//     names the run that described it);
//   - of several still, the one whose same thread filled its previous
//     chunk, up to too little room for the stretch's first record, last
//     before the chunk started: a thread claims a new chunk when its
//     current one is full;
//   - else the one that started last.
func (d *Decoder) attribute() {
	for _, ps := range d.byPID {
		slices.SortStableFunc(ps, func(a, b *Process) int { return cmp.Compare(a.raw, b.raw) })
	}
	var open []*writer // with stretches whose pid several processes had
	for _, w := range d.writers {
		ps := d.byPID[w.pid]
		for i := range w.chunks {
			c := &w.chunks[i]
			switch {
			case c.proc != nil:
			case len(ps) == 0:
				c.proc = d.orphan(w.pid)
			case len(ps) == 1:
				c.proc = ps[0]
			default:
				if len(open) == 0 || open[len(open)-1] != w {
					open = append(open, w)
				}
			}
		}
	}
	// Those in order, each thread's stretches one after the other, with
	// the latest stretch of each process so far.
	for _, w := range open {
		latest := map[*Process]int{}
		for i := range w.chunks {
			c := &w.chunks[i]
			if c.proc == nil {
				c.proc = d.continuer(w, i, latest)
			}
			latest[c.proc] = i
		}
	}
}

// continuer decides the process of a stretch whose pid several
// processes had (see attribute); latest holds the thread's latest
// stretch before it of each process.
func (d *Decoder) continuer(w *writer, i int, latest map[*Process]int) *Process {
	c := &w.chunks[i]
	ps := d.byPID[w.pid]
	var cands []*Process
	for _, p := range ps {
		if p.raw <= c.at.TS {
			cands = append(cands, p)
		}
	}
	if len(cands) == 0 {
		return ps[0]
	}
	if len(cands) > 1 && slices.ContainsFunc(cands, func(p *Process) bool { return p.Session != cands[0].Session }) {
		// Site indexes tell sessions apart (read again), not the
		// processes of one session (an exec).
		if used := d.sessionsUsed(w, i); len(used) > 0 {
			var keep []*Process
			for _, p := range cands {
				if slices.Contains(used, p.Session) {
					keep = append(keep, p)
				}
			}
			if len(keep) > 0 {
				cands = keep
			}
		}
	}
	if len(cands) == 1 {
		return cands[0]
	}
	var best *Process
	var bestLast uint64
	for _, p := range cands {
		j, ok := latest[p]
		if !ok {
			continue
		}
		prev := &w.chunks[j]
		if prev.off == c.off || j+1 < len(w.chunks) && w.chunks[j+1].off == prev.off && j+1 != i {
			continue // not the end of its chunk: its thread went on in it
		}
		if prev.last <= c.at.TS && d.full(prev, c) && (best == nil || prev.last >= bestLast) {
			best, bestLast = p, prev.last
		}
	}
	if best != nil {
		return best
	}
	return cands[len(cands)-1]
}

// full reports whether the chunk of stretch prev, which ends it, had too
// little room left for the first record of stretch c: the runtime
// claims a new chunk only then. Its fast path keeps room for any
// argument (logArgRoom each), and a chunk's last bytes are kept for a
// dropped record.
func (d *Decoder) full(prev, c *chunk) bool {
	const frame, reserve, logArgRoom = 19, 12, 64
	free := int64(prev.size) - int64(prev.used)
	need := c.off + int64(c.used) - c.at.Off + frame + reserve
	if c.nrec > 0 {
		need = int64(c.firstEnds) + frame + reserve
		if s := d.site(c.firstTag); s != nil {
			need = max(need, int64(frame+reserve+logArgRoom*len(s.Args)))
		}
	}
	return free < need+16
}

// maxEvidence bounds the records read again to tell whose a stretch is.
const maxEvidence = 256

// sessionsUsed returns the sessions that described the site indexes of
// the stretch's first log records (as far as the stretches holding the
// descriptors have their process already).
func (d *Decoder) sessionsUsed(w *writer, i int) []*Session {
	var out []*Session
	d.indexesUsed(w, i, func(idx uint64) {
		if p := d.describer(idx); p != nil && !slices.Contains(out, p.Session) {
			out = append(out, p.Session)
		}
	})
	return out
}

// describer returns the process that described a site index, if known.
func (d *Decoder) describer(idx uint64) *Process {
	if idx > 1<<32-1 {
		return nil
	}
	in, ok := d.descIn[uint32(idx)]
	if !ok || in.w == nil || in.ci < 0 || in.ci >= len(in.w.chunks) {
		return nil
	}
	return in.w.chunks[in.ci].proc
}

// indexesUsed reads the first log records of a stretch again and calls
// f with their site indexes.
func (d *Decoder) indexesUsed(w *writer, i int, f func(idx uint64)) {
	c := &w.chunks[i]
	var rd logfile.Reader
	rd.Reset(d.r, c.at, c.limit, c.off+int64(c.size))
	for n := 0; n < maxEvidence; {
		rec := rd.Next()
		if rec.Kind.Ends() {
			return
		}
		if rec.Kind == logfile.KindLog {
			f(rec.Tag)
			n++
		}
	}
}

// parentAmong picks p's parent among several processes of its ppid in
// its session: the one that described the most of the site indexes p
// uses in its threads (ws: those of its pid; a forked child goes on with
// its parent's), else the one that started last.
func (d *Decoder) parentAmong(p *Process, cands []*Process, ws []*writer) *Process {
	score := make([]int, len(cands))
	for _, w := range ws {
		for i := range w.chunks {
			if w.chunks[i].proc != p {
				continue
			}
			d.indexesUsed(w, i, func(idx uint64) {
				if k := slices.Index(cands, d.describer(idx)); k >= 0 {
					score[k]++
				}
			})
		}
	}
	best := len(cands) - 1
	for k := len(cands) - 1; k >= 0; k-- {
		if score[k] > score[best] {
			best = k
		}
	}
	return cands[best]
}

// streamPairs returns the calibration pairs with their streams: the
// pairs that one thread of one process read.
func (d *Decoder) streamPairs() []logfile.Pair {
	type key struct {
		p   *Process
		tid uint32
	}
	ids := map[key]uint32{}
	for _, w := range d.writers {
		for i := range w.chunks {
			c := &w.chunks[i]
			k := key{c.proc, w.tid}
			id, ok := ids[k]
			if !ok {
				id = uint32(len(ids) + 1)
				ids[k] = id
			}
			for j := int(c.pairLo); j < int(c.pairHi) && j < len(d.pairs); j++ {
				d.pairs[j].Stream = id
			}
		}
	}
	return d.pairs
}

// ClockNote says that processes of a log of CLOCK_MONOTONIC timestamps
// (ts_kind 0) read that clock with another offset than the other
// processes (a time namespace of their own): their times cannot be
// compared with the others', and are placed by the order in which the
// processes claimed their chunks instead: Offset ns are added to them.
type ClockNote struct {
	Session *Session
	Procs   []*Process
	Offset  int64
}

func (n ClockNote) String() string {
	var pids []string
	for _, p := range n.Procs {
		pids = append(pids, fmt.Sprint(p.PID))
	}
	what := "process " + pids[0]
	if len(pids) > 1 {
		if len(pids) > 8 {
			pids = append(pids[:8], fmt.Sprintf("... (%d in all)", len(n.Procs)))
		}
		what = "processes " + strings.Join(pids, ", ")
	}
	return fmt.Sprintf("%s (session %d) read CLOCK_MONOTONIC about %s off the others (a time namespace of their own?): their times are placed by the order of the log's chunks, not by their clock",
		what, n.Session.N, fmtOffset(n.Offset))
}

// ClockNotes returns the processes whose clock the decoder had to place
// (ts_kind 0 logs only; TSC ticks are one machine-wide clock).
func (d *Decoder) ClockNotes() []ClockNote { return d.clockNotes }

// clockSlack is how far one chunk's start may lie before that of a chunk
// claimed before it: a thread reads its clock after claiming, and may be
// preempted in between.
const clockSlack = 250_000_000 // ns

// maxAligned bounds the processes alignClocks moves.
const maxAligned = 4096

// creator returns the process that created the log (the first to start
// of the header's first pid), or nil.
func (d *Decoder) creator() *Process {
	if ps := d.byPID[d.hdr.FirstPID]; len(ps) > 0 {
		return ps[0] // (attribute sorted them by start)
	}
	return nil
}

// alignClocks, for logs of CLOCK_MONOTONIC timestamps (ts_kind 0), finds
// the processes that read that clock with another offset (time
// namespaces: each shifts the clock by a constant) and shifts their
// timestamps. Chunks are claimed one after the other with an atomic add
// on the tail, and a thread reads its clock right after: a chunk starts
// no earlier than one claimed before it, give or take a preemption
// (clockSlack). A process whose chunks break that order more than its
// neighbours' do is shifted, by the least amount that restores the
// order, until no process breaks it. The process that created the log
// read the clock its header is in: it is never shifted.
func (d *Decoder) alignClocks() {
	type claim struct {
		off  int64
		ts   int64 // the chunk's start, in ns, as its process read it
		proc *Process
	}
	var cs []claim
	for _, w := range d.writers {
		for i := range w.chunks {
			c := &w.chunks[i]
			if i > 0 && w.chunks[i-1].off == c.off {
				continue // one claim per chunk
			}
			ts := c.at.TS
			if c.at.Off != c.off+logfile.ChunkHeaderSize && i+1 < len(w.chunks) && w.chunks[i+1].off == c.off {
				// Records before the process record (an early buffer's):
				// the chunk was claimed when the log opened.
				ts = w.chunks[i+1].at.TS
			}
			cs = append(cs, claim{c.off, int64(ts), c.proc})
		}
	}
	if len(cs) < 2 {
		return
	}
	slices.SortFunc(cs, func(a, b claim) int { return cmp.Compare(a.off, b.off) })
	creator := d.creator()
	// The log was written between its creation and the file's last
	// change, in the creator's clock; a file time its creator's own
	// claims contradict is wrong (a file server's clock, the system
	// clock set back during the run) and bounds nothing.
	wlo, whi := int64(d.hdr.StartTS)-clockSlack, int64(1<<62)
	if !d.mtime.IsZero() {
		if since := d.mtime.UnixNano() - int64(d.hdr.StartRealtimeNS); since >= 0 {
			whi = int64(d.hdr.StartTS) + since + clockSlack
		}
	}
	// Runs of claims of one process, one after the other: what bounds a
	// process's shift are the claims around its runs.
	type run struct {
		proc   *Process
		a, b   int   // its claims: cs[a] to cs[b]
		lo, hi int64 // their earliest and latest times
	}
	var runs []run
	claims := map[*Process]int{}
	for i, c := range cs {
		claims[c.proc]++
		if i == 0 || cs[i-1].proc != c.proc {
			runs = append(runs, run{c.proc, i, i, c.ts, c.ts})
			continue
		}
		r := &runs[len(runs)-1]
		r.b, r.lo, r.hi = i, min(r.lo, c.ts), max(r.hi, c.ts)
	}
	for _, r := range runs {
		if creator != nil && r.proc == creator && r.hi > whi {
			whi = 1 << 62
			break
		}
	}
	pending := map[*Process]bool{}
	for _, r := range runs {
		if r.proc != nil && r.proc != creator && (r.lo < wlo || r.hi > whi) {
			pending[r.proc] = true
		}
	}
	shift := map[*Process]int64{}
	done := map[*Process]bool{}
	if creator != nil {
		done[creator] = true
	}
	fixed := func(p *Process) bool { return done[p] || !pending[p] }
	var used []int64 // shifts given, in order
	at := func(c claim) int64 { return c.ts + shift[c.proc] }
	// place shifts u by the least amount that puts its chunks between
	// those of the processes placed or not in doubt (and its claims
	// within [wlo, whi]): one pass over the runs.
	place := func(u *Process, wlo, whi int64) {
		done[u] = true
		lo, hi := int64(-1<<62), int64(1<<62)
		prev := -1                         // the last claim of the latest run of such a process
		waiting, latest := false, int64(0) // u's runs since it: their latest time
		for _, r := range runs {
			switch {
			case r.proc == u:
				if prev >= 0 {
					lo = max(lo, at(cs[prev])-r.lo)
				}
				lo, hi = max(lo, wlo-r.lo), min(hi, whi-r.hi)
				if !waiting || r.hi > latest {
					latest = r.hi
				}
				waiting = true
			case fixed(r.proc):
				if waiting {
					hi = min(hi, at(cs[r.a])-latest)
					waiting = false
				}
				prev = r.b
			}
		}
		s := min(max(int64(0), lo), hi)
		if lo > hi {
			s = lo
		}
		// Processes of one time namespace share its offset: keep their
		// own clocks' order where the chunks allow.
		for k := len(used) - 1; k >= 0; k-- {
			if v := used[k]; v >= lo-clockSlack && v <= hi+clockSlack {
				s = v
				break
			}
		}
		if s != 0 {
			used = append(used, s)
		}
		shift[u] = s
	}
	// First the processes whose chunks lie outside the time the log was
	// written in (from its creation to the file's last change): another
	// offset for sure.
	for _, r := range runs {
		if pending[r.proc] && !done[r.proc] {
			place(r.proc, wlo, whi)
		}
	}
	// Then, one at a time, the process most of whose chunks break the
	// order (only where one run ends and the next begins can they).
	for range maxAligned {
		bad := map[*Process]int{}
		for k := 0; k+1 < len(runs); k++ {
			c, next := cs[runs[k].b], cs[runs[k+1].a]
			if at(c)-at(next) > clockSlack {
				bad[c.proc]++
				bad[next.proc]++
			}
		}
		var worst *Process
		for p, b := range bad {
			if p == nil || done[p] {
				continue
			}
			if worst == nil {
				worst = p
				continue
			}
			// the larger share of its claims out of order, then the
			// fewer claims, then the later process record
			if c := cmp.Or(cmp.Compare(b*claims[worst], bad[worst]*claims[p]), cmp.Compare(claims[worst], claims[p]),
				cmp.Compare(p.Offset, worst.Offset)); c > 0 {
				worst = p
			}
		}
		if worst == nil {
			break
		}
		place(worst, -1<<62, 1<<62)
	}
	var moved []*Process
	for p, s := range shift {
		if s > clockSlack || s < -clockSlack {
			moved = append(moved, p)
		} else {
			delete(shift, p)
		}
	}
	slices.SortFunc(moved, func(a, b *Process) int { return cmp.Compare(a.Offset, b.Offset) })
	for _, p := range moved {
		i := slices.IndexFunc(d.clockNotes, func(n ClockNote) bool { return n.Session == p.Session && n.Offset == shift[p] })
		if i < 0 {
			d.clockNotes = append(d.clockNotes, ClockNote{Session: p.Session, Offset: shift[p]})
			i = len(d.clockNotes) - 1
		}
		d.clockNotes[i].Procs = append(d.clockNotes[i].Procs, p)
	}
	if len(shift) == 0 {
		return
	}
	for _, w := range d.writers {
		for i := range w.chunks {
			c := &w.chunks[i]
			c.shift = uint64(shift[c.proc])
		}
	}
	for _, p := range d.procs {
		p.raw += uint64(shift[p])
	}
}

func fmtOffset(ns int64) string {
	a := max(ns, -ns)
	switch {
	case a >= 86400e9:
		return fmt.Sprintf("%.1f days", float64(a)/86400e9)
	case a >= 1e9:
		return fmt.Sprintf("%.3f s", float64(a)/1e9)
	}
	return fmt.Sprintf("%.3f ms", float64(a)/1e6)
}
