package decoder

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/logpack/logpack/internal/logfile"
)

// Session is one run of a program (docs/FORMAT.md, "Processes and
// sessions"): the process that opened the log from its environment or the
// C API, the children it forked and the programs it exec'd. A log written
// by several runs, one after the other or at the same time, holds several
// sessions, and Records presents each as a log of its own.
type Session struct {
	N  int    // its number, from 1, in order of start
	ID uint64 // its random identity; 0 for the records of processes without a process record
	// Start is when it started (its first process record), in ns since
	// the file was created; Time is the same as wall-clock time.
	Start int64
	Time  time.Time
	// Process is the process that started it (or its first process).
	Process   *Process
	Processes []*Process // in order of start
	Records   int        // log records (prefix records included)
	Dropped   uint64     // records its processes reported as dropped

	marks    []mark // its processes' text marks, paths resolved, by time
	raw      uint64 // Start in the log's units: the time origin of its records
	originNS int64  // Start
	streams  []*writer
}

// Process is one process of a session: it starts with its process record
// (an exec starts a new one with the same pid; a pid can also come back
// in a later session), and every record its threads write after that
// belongs to it.
type Process struct {
	PID     uint32
	PPID    uint32
	Session *Session
	Parent  *Process // the process of PPID in the session when it started, or nil
	Start   int64    // ns since its session started
	Flags   uint64   // logfile.ProcStarted, logfile.ProcExec
	BuildID uint64
	Exe     string
	Cmdline []string
	Records int    // log records (prefix records included)
	Dropped uint64 // records it reported as dropped
	// Offset is where its process record is in the file; -1 for the
	// records of a pid that has no process record (a damaged log, or one
	// written without them), which form a session of their own (ID 0).
	Offset int64

	raw   uint64 // the time of its process record, in the log's units
	marks []mark // its text marks

	// The line prefix (see LinePrefix). children are the processes whose
	// parent it is, in order of start; those before nextChild have their
	// inherited prefix fixed.
	children  []*Process
	nextChild int
	prefix    []byte
	fixed     bool // prefix is decided: its own, or the one it inherited
}

// LinePrefix returns the text CRIU puts in front of the process's lines
// at this point of an iteration of Records: what its latest prefix record
// rendered (CRIU's log_init_by_pid records "%6d: " of its pid), or, until
// it records one, what its parent's was when it started; nil without
// any. It is valid until the iteration continues.
func (p *Process) LinePrefix() []byte {
	if p.fixed {
		return p.prefix
	}
	// Unfixed processes have inherited what their parent has now: a
	// parent fixes its children's prefix before it changes its own.
	q := p
	for !q.fixed && q.inherits() {
		q = q.Parent
	}
	v := q.prefix
	for r := p; r != q; r = r.Parent {
		r.prefix, r.fixed = v, true
	}
	return v
}

// inherits reports whether the process starts with its parent's line
// prefix: a forked or cloned child does (it has a copy of its parent's
// memory); a program that started its session or joined it by exec
// starts afresh.
func (p *Process) inherits() bool {
	return p.Parent != nil && p.Flags&(logfile.ProcStarted|logfile.ProcExec) == 0
}

// setPrefix makes text (rendered by a prefix record at raw) the process's
// line prefix; the children that started before keep what they
// inherited.
func (p *Process) setPrefix(text []byte, raw uint64) {
	for p.nextChild < len(p.children) && p.children[p.nextChild].raw < raw {
		c := p.children[p.nextChild]
		p.nextChild++
		if !c.fixed && c.inherits() {
			c.prefix, c.fixed = p.LinePrefix(), true
		}
	}
	p.prefix, p.fixed = bytes.Clone(text), true
}

// resetPrefixes forgets the line prefixes of an iteration.
func (s *Session) resetPrefixes() {
	for _, p := range s.Processes {
		p.prefix, p.fixed, p.nextChild = nil, false, 0
	}
}

// Bounds on what the decoder keeps per record of a kind (a Process, a
// text mark, a cut record, a clock record's pair), so that a hostile log
// made of such records cannot make its memory a large multiple of the
// log's size, while a real log of any size keeps them all: at least the
// minimum, and one per so many bytes of the log (a new process takes a
// chunk of its own, at least 4 KiB). A test suite's shared log holds far
// more than 65,536 processes. (Variables for tests.)
var (
	minProcesses = 1 << 16
	minMarks     = 1 << 20
	minCuts      = 1 << 20
	minPairs     = 1 << 20 // beyond the bound, clock records are ignored: the chunk headers' pairs remain
)

// bound returns the larger of least and one per 2^shift bytes of the log
// read, the latter at most maxChunks (chunks count them in 32 bits).
func (d *Decoder) bound(least int, shift uint) int {
	return max(least, int(min(d.end>>shift, int64(maxChunks))))
}

// newProcess starts the process a process record describes, in its
// session (found or started by ID). It returns nil beyond the bound.
func (d *Decoder) newProcess(rec *logfile.Record, pid uint32) *Process {
	if n := d.bound(minProcesses, 12); len(d.procs) >= n {
		d.skip(Skip{Kind: SkipBadRecord, Detail: fmt.Sprintf("over %d process records: records stay with the process before", n), Offset: rec.Offset, Bytes: int64(rec.Size)})
		return nil
	}
	pr := &rec.Process
	p := &Process{PID: pid, PPID: pr.PPID, Flags: pr.Flags, BuildID: pr.BuildID, Exe: string(pr.Exe),
		Cmdline: splitCmdline(pr.Cmdline), Offset: rec.Offset, raw: rec.TS}
	s := d.sessionByID[pr.Session]
	if s == nil {
		s = &Session{ID: pr.Session, raw: rec.TS}
		if d.sessionByID == nil {
			d.sessionByID = map[uint64]*Session{}
		}
		d.sessionByID[pr.Session] = s
		d.sessions = append(d.sessions, s)
		s.N = len(d.sessions)
	}
	s.raw = min(s.raw, rec.TS)
	p.Session = s
	if s.Process == nil || p.Flags&logfile.ProcStarted != 0 && s.Process.Flags&logfile.ProcStarted == 0 {
		s.Process = p
	}
	s.Processes = append(s.Processes, p)
	d.procs = append(d.procs, p)
	if d.byPID == nil {
		d.byPID = map[uint32][]*Process{}
	}
	d.byPID[pid] = append(d.byPID[pid], p)
	if p.Parent = d.parentOf(p, nil); p.Parent != nil {
		p.Parent.children = append(p.Parent.children, p)
	}
	return p
}

// procAt returns the process of pid at time ts: the latest one started at
// or before it, or, if none, the first one after it (records logged
// before the log was open, in the early buffer). It returns nil if the
// pid has no process record.
func (d *Decoder) procAt(pid uint32, ts uint64) *Process {
	ps := d.byPID[pid]
	var best *Process
	for _, p := range ps {
		if p.raw <= ts && (best == nil || p.raw >= best.raw) {
			best = p
		}
	}
	if best == nil {
		for _, p := range ps {
			if best == nil || p.raw < best.raw {
				best = p
			}
		}
	}
	return best
}

// orphan returns the stand-in process for the records of a pid that has
// no process record; they belong to a session of their own (ID 0), whose
// time origin is the file's start.
func (d *Decoder) orphan(pid uint32) *Process {
	if p := d.orphans[pid]; p != nil {
		return p
	}
	s := d.orphanSession
	if s == nil {
		s = &Session{raw: d.hdr.StartTS}
		d.orphanSession = s
		d.sessions = append(d.sessions, s)
		s.N = len(d.sessions)
	}
	p := &Process{PID: pid, Session: s, Offset: -1, raw: d.hdr.StartTS}
	s.Processes = append(s.Processes, p)
	if d.orphans == nil {
		d.orphans = map[uint32]*Process{}
	}
	d.orphans[pid] = p
	d.procs = append(d.procs, p)
	return p
}

// buildSessions, after the index pass and with the clock known, gives
// every chunk stretch its process, sums records up per process and
// session, orders sessions by start and makes each session's streams.
func (d *Decoder) buildSessions() {
	for _, w := range d.writers {
		for i := range w.chunks {
			c := &w.chunks[i]
			c.proc.Records += int(c.nrec)
			c.proc.Dropped += c.dropped
			for _, m := range d.marks[c.markLo:c.markHi] {
				m.raw += c.shift
				c.proc.marks = append(c.proc.marks, m)
			}
		}
	}
	d.orderSessions()
	// Each session's streams: its processes' threads' stretches, in file
	// order.
	type key struct {
		p   *Process
		tid uint32
	}
	streams := map[key]*writer{}
	for _, w := range d.writers {
		if len(w.chunks) > 0 && !slices.ContainsFunc(w.chunks, func(c chunk) bool { return c.proc != w.chunks[0].proc }) {
			// The thread is one process's (most are): the index's
			// writer is its stream, with the index's chunks (of a large
			// log, the most of its memory; a log of thousands of runs
			// has as many writers, 0.7 KB each).
			w.sess = w.chunks[0].proc.Session
			w.sess.streams = append(w.sess.streams, w)
			continue
		}
		for _, c := range w.chunks {
			k := key{c.proc, w.tid}
			sw := streams[k]
			if sw == nil {
				s := c.proc.Session
				sw = &writer{pid: w.pid, tid: w.tid, order: w.order, sess: s}
				streams[k] = sw
				s.streams = append(s.streams, sw)
			}
			sw.chunks = append(sw.chunks, c)
		}
	}
	for _, s := range d.sessions {
		s.streams = splitChains(s.streams)
	}
}

// orderSessions numbers the sessions in order of start and fills in
// their start times, processes' parents and totals.
func (d *Decoder) orderSessions() {
	// The threads of each pid: the evidence of parentAmong.
	pidWriters := map[uint32][]*writer{}
	for _, w := range d.writers {
		pidWriters[w.pid] = append(pidWriters[w.pid], w)
	}
	for _, s := range d.sessions {
		if s != d.orphanSession && len(s.Processes) > 0 {
			s.raw = s.Processes[0].raw
			for _, p := range s.Processes {
				s.raw = min(s.raw, p.raw)
			}
		}
	}
	slices.SortStableFunc(d.sessions, func(a, b *Session) int { return cmp.Compare(a.raw, b.raw) })
	for i, s := range d.sessions {
		s.N = i + 1
		s.Start = d.clock.NS(s.raw)
		s.originNS = s.Start
		if s == d.orphanSession {
			s.Start, s.originNS = 0, 0
		}
		s.Time = time.Unix(0, int64(d.hdr.StartRealtimeNS)).Add(time.Duration(s.Start))
		slices.SortStableFunc(s.Processes, func(a, b *Process) int { return cmp.Compare(a.raw, b.raw) })
		s.Process, s.Records, s.Dropped = nil, 0, 0
		for _, p := range s.Processes {
			p.children = nil
		}
		for _, p := range s.Processes {
			if s.Process == nil && p.Flags&logfile.ProcStarted != 0 {
				s.Process = p
			}
			p.Start = d.clock.NS(p.raw) - s.originNS
			if p.Parent = d.parentOf(p, pidWriters); p.Parent != nil {
				p.Parent.children = append(p.Parent.children, p)
			}
			s.Records += p.Records
			s.Dropped += p.Dropped
		}
		if s.Process == nil && len(s.Processes) > 0 {
			s.Process = s.Processes[0]
		}
		s.marks = s.marks[:0]
		for _, p := range s.Processes {
			// An empty path names the file of the process's previous mark.
			slices.SortStableFunc(p.marks, func(a, b mark) int { return cmp.Compare(a.raw, b.raw) })
			for i := 1; i < len(p.marks); i++ {
				if p.marks[i].path == "" {
					p.marks[i].path = p.marks[i-1].path
				}
			}
			s.marks = append(s.marks, p.marks...)
		}
		slices.SortStableFunc(s.marks, func(a, b mark) int { return cmp.Compare(a.raw, b.raw) })
	}
}

// parentOf returns the process of p's ppid in p's session that was
// running when p started (started before it: the parent of a parent is
// always earlier, so there are no cycles). Of several (processes of a
// pid namespace have the pids of others), the one that started last,
// or, given the threads of each pid as evidence, the one whose site
// indexes p goes on with (see parentAmong).
func (d *Decoder) parentOf(p *Process, evidence map[uint32][]*writer) *Process {
	if p.Offset < 0 {
		return nil
	}
	var cands []*Process
	for _, q := range d.byPID[p.PPID] {
		if q.Session == p.Session && q.Offset >= 0 && (q.raw < p.raw || q.raw == p.raw && q.Offset < p.Offset) {
			cands = append(cands, q)
		}
	}
	if len(cands) == 0 {
		return nil
	}
	slices.SortStableFunc(cands, func(a, b *Process) int { return cmp.Compare(a.raw, b.raw) })
	if len(cands) > 1 && evidence != nil {
		return d.parentAmong(p, cands, evidence[p.PID])
	}
	return cands[len(cands)-1]
}

// Sessions returns the log's sessions in order of start.
func (d *Decoder) Sessions() []*Session { return d.sessions }

// Processes returns every process of the log, by session, each session's
// in order of start.
func (d *Decoder) Processes() []*Process {
	var out []*Process
	for _, s := range d.sessions {
		out = append(out, s.Processes...)
	}
	return out
}

// mark is a text mark: the text log named path held size bytes at raw.
type mark struct {
	raw  uint64
	size uint64
	path string
	off  int64
}

// TextLogRef is a text log a session's text marks name, with the size
// they say it had at least.
type TextLogRef struct {
	Path string
	Size uint64
}

// TextLogs returns the text logs the session's text marks name, in
// order of their first mark, each with the largest size a mark gives it.
func (s *Session) TextLogs() []TextLogRef {
	var out []TextLogRef
	for _, m := range s.marks {
		if m.path == "" {
			continue
		}
		i := slices.IndexFunc(out, func(r TextLogRef) bool { return r.Path == m.path })
		if i < 0 {
			out = append(out, TextLogRef{Path: m.path})
			i = len(out) - 1
		}
		out[i].Size = max(out[i].Size, m.size)
	}
	return out
}

// Dropped returns how many records the log's writers dropped (a full or
// unwritable log): all, as the header counts them (or as many as the
// writers marked in their chunks, if that is more), and those marked,
// which are counted per process and session (Process.Dropped). A writer
// that never got room again could not mark its own: all - marked of
// them belong to no known process.
func (d *Decoder) Dropped() (all, marked uint64) {
	for _, p := range d.procs {
		marked += p.Dropped
	}
	return max(d.hdr.Dropped, marked), marked
}
