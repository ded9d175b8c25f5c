// Package decoder reads logpack binary logs (docs/FORMAT.md) and renders
// their records as the text printf would have produced.
//
// A Decoder indexes a log once (chunk headers, site descriptors, clock
// calibration, processes and sessions), then yields its records, each
// program run (Session) on its own, merged across its processes and
// threads in timestamp order:
//
//	d, err := decoder.Open("dump.lpk", nil)
//	...
//	defer d.Close()
//	out := decoder.NewWriter(os.Stdout, decoder.FormatPlain, nil)
//	for rec, err := range d.Records() {
//		if err != nil { ... }
//		out.WriteRecord(rec)
//	}
//	out.Flush()
//
// Records are typed (site, time, process, thread, level, raw arguments);
// Writer renders them as plain text, in CRIU's log layout (with CRIU's pid
// prefixes, see Process.LinePrefix) or as JSON lines, with fmtdb's printf
// model. MergeText puts the lines of a program's own text log that are
// not records (CRIU's parasite and restorer lines) in their place. Filter
// selects by level, process and call site, Redactor replaces strings and
// IP addresses by pseudonyms, Stats sums a log up per call site, and
// Follow decodes a log that is still being written.
//
// A log describes its own call sites; Options.DB additionally checks them
// against the format database of a build (MismatchError). Damage never
// stops decoding: a bad chunk header, a record cut off by a crash, an
// unknown site index or impossible arguments are reported as Skips (see
// Decoder.Skipped and SkipSummary), everything else decodes. Records are
// read through small windows and handed out one at a time: memory holds
// the writers, descriptors and processes, and an index of 128 bytes per
// chunk (up to 64 KiB of records each), not the records.
package decoder

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/logpack/logpack/fmtdb"
	"github.com/logpack/logpack/internal/logfile"
)

// Header is a log's file header (docs/FORMAT.md, "File header").
type Header struct {
	Version         uint16
	TSKind          uint32 // 0: timestamps are CLOCK_MONOTONIC ns; 1: TSC ticks
	FileID          uint64 // random identity of the file
	StartRealtimeNS uint64 // CLOCK_REALTIME when the file was created
	StartMonoNS     uint64 // CLOCK_MONOTONIC then
	StartTS         uint64 // the timestamp then, in TSKind units
	TSCHz           uint64 // the TSC's frequency, if the writer knew it
	FirstPID        uint32 // the process that created the file
	BuildID         uint64 // the creator's build (GNU build ID, first 8 bytes)
	Tail            uint64 // the next byte writers would claim
	Capacity        uint64
	Dropped         uint64 // records all writers dropped
	NextSiteIndex   uint32
	Flags           uint32 // bit 0: the creator's session ended normally
	Exe             string // the creator's executable
	ToText          uint64 // records the log could not take that their calls printed as text instead
}

// Arg is one decoded argument of a record. A string's bytes reference the
// decoder's buffers: they are valid until the iteration moves on.
type Arg = fmtdb.Value

// Site is a call site as described in the log: its constants folded into
// the format, as the format database describes it (fmtdb.Site), and what
// the log says besides.
type Site struct {
	// fast: the site's records decode in one pass (its format renders,
	// and takes no '*' amounts that need checking).
	fast bool
	// Prefix marks a prefix site: its records are not lines, their text
	// goes in front of the later lines of their process (CRIU's pid
	// prefix, from log_init_by_pid; see Process.LinePrefix).
	Prefix bool
	fmtdb.Site
	// TextLevel: records of this site at a level <= TextLevel were also
	// printed by the program's own text path; 255: none.
	TextLevel uint8

	msg      message // how to render it
	plan     *plan   // how to render it from the encoded arguments, if it can
	recorded []int   // the descriptor's argument list → index in Args, -1 for constants
	// The descriptor's format as written and its argument list, constants
	// included, and how its records render redacted (see Redactor).
	descFormat string
	descArgs   []logfile.DescArg
	redact     *redaction
}

// Record is one log call. A Record handed out by an iterator and its Args
// are valid until the iteration continues; copy what you keep.
type Record struct {
	Site   *Site
	Index  uint32 // the site index the log uses for Site
	TS     int64  // nanoseconds since its session started
	Proc   *Process
	PID    uint32
	TID    uint32
	Level  uint8 // CRIU numbering: 1 error, 2 warning, 3 info, 4 debug
	Args   []Arg
	Offset int64 // file offset of the record
	Size   int   // bytes the record takes in the log
	Cuts   []Cut // the string arguments cut to fit the record, if any

	raw    uint64 // timestamp in the log's units, the merge key
	prefix bool   // a prefix record, to take effect once yielded
	// lazy: Args are not decoded (WriteRecords, for a site with a plan);
	// data holds the record's body after its ts delta (a run-time level
	// byte, then the encoded arguments), args the encoded arguments.
	lazy       bool
	data, args []byte
}

// AppendMessage appends the message as printf would have rendered it.
func (r *Record) AppendMessage(dst []byte) []byte {
	return r.Site.msg.append(dst, r.Args)
}

// Skip is a stretch of the log that could not be decoded.
type Skip struct {
	Kind    SkipKind // what went wrong
	Detail  string   // specifics of this occurrence
	Offset  int64    // where it starts in the file
	Bytes   int64    // how many bytes were skipped
	Records int      // log records lost, where known
}

func (s Skip) String() string {
	msg := fmt.Sprintf("offset %d: %s", s.Offset, s.Kind)
	if s.Detail != "" {
		msg += ": " + s.Detail
	}
	msg += fmt.Sprintf(" (%d bytes", s.Bytes)
	if s.Records > 0 {
		msg += fmt.Sprintf(", %d records", s.Records)
	}
	return msg + ")"
}

// SkipKind is what went wrong in a skipped stretch of a log.
type SkipKind uint8

// Kinds of Skip.
const (
	SkipBadChunk       SkipKind = iota + 1 // a chunk header that is damaged or not one
	SkipCutShort                           // a record cut off by the end of the data
	SkipBadLength                          // a record length that cannot be
	SkipBadRecord                          // a record body that does not parse
	SkipUnknownSite                        // a log record whose site index has no usable descriptor
	SkipBadArgs                            // a log record whose arguments do not fit its site
	SkipBadDescriptor                      // a site descriptor that cannot be used
	SkipConflict                           // two descriptors for one site index
	SkipLogCutShort                        // a file shorter than its header says
	SkipUnreadableTail                     // a tail field that cannot be
)

var skipKindText = [...]string{
	SkipBadChunk:       "bad chunk header",
	SkipCutShort:       "record cut off by the end of the data",
	SkipBadLength:      "bad record length",
	SkipBadRecord:      "bad record",
	SkipUnknownSite:    "unknown site index",
	SkipBadArgs:        "arguments do not match the site",
	SkipBadDescriptor:  "bad site descriptor",
	SkipConflict:       "conflicting descriptors for one site index",
	SkipLogCutShort:    "log cut short",
	SkipUnreadableTail: "tail field out of range",
}

// String returns the kind as a phrase, the same for every Skip of it.
func (k SkipKind) String() string {
	if int(k) < len(skipKindText) && skipKindText[k] != "" {
		return skipKindText[k]
	}
	return fmt.Sprintf("SkipKind(%d)", uint8(k))
}

// Options adjust a Decoder. The zero value decodes a log on its own.
type Options struct {
	// DB, if set, is the format database of the build that wrote the log:
	// every site the log describes must be in it with the same content, or
	// New fails with a *MismatchError. DBName names it in messages.
	DB     *fmtdb.DB
	DBName string
	// Force decodes despite a database mismatch.
	Force bool
	// OnSkip, if set, is called for every Skip as it is found.
	OnSkip func(Skip)
}

// Decoder reads one log. It is not safe for concurrent use; each call of
// Records reads the log again from the start.
type Decoder struct {
	r      io.ReaderAt
	closer io.Closer
	size   int64
	end    int64 // records are read up to here
	hdr    *logfile.Header
	header *Header
	opts   Options

	sites   []*Site // by index-FirstSiteIndex, for small indexes
	siteMap map[uint32]*Site
	bad     map[uint32]string // indexes with unusable descriptors: why
	ordered []*Site           // distinct descriptors in file order
	writers []*writer         // one per thread, by first chunk
	byKey   map[uint64]*writer

	sessions      []*Session // in order of start (after the index pass)
	sessionByID   map[uint64]*Session
	orphanSession *Session
	procs         []*Process            // in order of their process records in the file
	byPID         map[uint32][]*Process // by start
	orphans       map[uint32]*Process

	pairs                  []logfile.Pair
	clock                  logfile.Clock
	skips                  []Skip
	summary                []SkipGroup
	skipKinds              map[SkipKind]int
	nrecords               int     // log records seen by the index pass
	cuts                   []cutAt // in file order
	marks                  []mark  // in file order
	lastCutOf              int64
	cutStrings, cutRecords int
	descEnd                map[uint32]int64 // where the descriptor in use for an index ends
	descIn                 map[uint32]where // the stretch it is in
	mismatch               *MismatchError
	buf                    []byte // a prefix record's text
	clockNotes             []ClockNote
	mtime                  time.Time // the file's last change, if known
	lazyArgs               bool      // fill leaves the arguments of sites with a plan encoded (WriteRecords)
	noTS                   bool      // records need no time in ns (WriteRecords in plain format)
	scratch                []Arg
}

// chunk is a stretch of one chunk's records that belong to one process, as
// found by the index pass: a whole chunk, or, where a process record
// starts a process in the middle of a chunk, the records before it and
// the records from it on.
type chunk struct {
	off   int64          // of the chunk header
	at    logfile.Cursor // the first record
	limit int64          // records end here (chunk end, data end, the first damage, or the next stretch)
	last  uint64         // timestamp of its last record (where it starts if none)
	proc  *Process
	// shift is added to its timestamps (in the log's units): a process
	// that read CLOCK_MONOTONIC with another offset than the others, in a
	// log of ts_kind 0 (see alignClocks).
	shift uint64
	// What the index pass counted in it.
	dropped uint64
	nrec    uint32
	size    uint32 // its chunk's, from the header (the rest of the header is not needed after the index pass)
	seq     int32  // its chunk's position among all chunks of the log
	// stream names its thread's process's calibration pairs for Follow
	// (the index pass gives them their streams once it knows the
	// processes: streamPairs).
	stream uint32
	// The cut records in it: d.cuts[cutLo:cutHi]; its text marks:
	// d.marks[markLo:markHi]; its calibration pairs (the chunk header's
	// is its first stretch's): d.pairs[pairLo:pairHi]. (32 bits: a log
	// has as many chunks as its index can hold, and each of these is
	// bounded; see Decoder.bound and maxChunks.)
	cutLo, cutHi   int32
	markLo, markHi int32
	pairLo, pairHi int32
	// Where its records end (the chunk's zero length byte or damage),
	// from the chunk's start, and its first log record: its tag and the
	// bytes up to its end (for telling whose chunk the stretch continues;
	// see attribute).
	used      uint32
	firstEnds uint32
	firstTag  uint64
}

// writer is the record stream of one thread, or one chain of them (see
// splitChains); Records merges the streams of a session.
type writer struct {
	// What advance uses for every record, together.
	rec     Record
	origin  int64  // the session's time origin, ns since the file was created
	nextCut int64  // the offset from which a record needs cutsOf
	seg     int    // the clock's knot segment of the latest record's time
	shift   uint64 // the current chunk's (see chunk.shift)
	// Records before from and from until on (in the log's units, shift
	// added) are not this reading's (parallel.go).
	from, until uint64
	// order breaks ties in ts: the position of the thread's first chunk
	// among all threads' in the upper 32 bits; for the chains of a split
	// thread, the seq of the current chunk in the lower ones.
	order int
	rd    logfile.Reader

	pid, tid uint32
	sess     *Session
	cuts     []cutAt // of the current chunk, not attached yet
	split    bool
	chunks   []chunk
	ci       int
	live     bool // a chunk is open in rd
}

// Open opens a log file. A file that is not a regular one (a FIFO, a
// device) is read as a stream (see ReadAll).
func Open(name string, opts *Options) (*Decoder, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !st.Mode().IsRegular() {
		d, err := ReadAll(f, opts)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		return d, nil
	}
	d, err := New(f, st.Size(), opts)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	d.closer = f
	return d, nil
}

// Close closes the file Open opened.
func (d *Decoder) Close() error {
	if d.closer != nil {
		return d.closer.Close()
	}
	return nil
}

// New reads the log's header and indexes it: every chunk header, every
// site descriptor and every calibration pair. size is the number of bytes
// r holds.
func New(r io.ReaderAt, size int64, opts *Options) (*Decoder, error) {
	d := &Decoder{r: r, size: size, byKey: map[uint64]*writer{}, bad: map[uint32]string{}, lastCutOf: -1}
	if opts != nil {
		d.opts = *opts
	}
	hb := make([]byte, min(size, logfile.HeaderSize))
	if n, err := r.ReadAt(hb, 0); n < len(hb) {
		return nil, fmt.Errorf("reading header: %w", err)
	}
	h, err := logfile.ParseHeader(hb)
	if err != nil {
		return nil, err
	}
	d.hdr = h
	if f, ok := r.(interface{ Stat() (os.FileInfo, error) }); ok {
		if st, err := f.Stat(); err == nil {
			d.mtime = st.ModTime()
		}
	}
	d.end = d.dataEnd(size)
	if err := d.scan(); err != nil {
		return nil, err
	}
	d.attribute()
	d.clock = logfile.NewClock(h, d.streamPairs())
	if h.TSKind != logfile.TSTSC {
		d.alignClocks()
	}
	d.buildSessions()
	if err := d.checkSites(); err != nil {
		return nil, err
	}
	return d, nil
}

// dataEnd returns where records end: the header's tail, or the end of the
// file if the tail lies beyond it or is impossible. A tail beyond the end
// of a file that is shorter than the log's capacity means the file was cut
// short (a partial copy); beyond the capacity it is a harmless overshoot
// of writers racing for the last chunk of a full log, whose claims stay
// zero.
func (d *Decoder) dataEnd(size int64) int64 {
	tail := d.hdr.Tail
	switch {
	case tail < logfile.HeaderSize:
		d.skip(Skip{Kind: SkipUnreadableTail, Detail: fmt.Sprintf("tail %d is inside the header; reading to the end of the file", tail), Offset: 72})
		return size
	case tail > uint64(size):
		if end := min(tail, d.hdr.Capacity); end > uint64(size) {
			d.skip(Skip{Kind: SkipLogCutShort, Detail: fmt.Sprintf("the file ends at %d, the log's data at %d", size, end), Offset: size, Bytes: int64(min(end-uint64(size), 1<<62))})
		}
		return size
	}
	return int64(tail)
}

// Header returns the log's header.
func (d *Decoder) Header() *Header {
	if d.header == nil {
		h := Header(*d.hdr)
		d.header = &h
	}
	return d.header
}

// Skipped returns what was skipped so far, by New's index pass and by
// iterations of Records: the first 1000 occurrences (see SkipSummary).
func (d *Decoder) Skipped() []Skip { return d.skips }

// Sites returns the distinct site descriptors of the log in file order.
func (d *Decoder) Sites() []*Site { return d.ordered }

// maxSkips bounds the Skips kept one by one; beyond it they are only
// summed up by kind, so a log of a million unreadable records does not
// cost a million Skips.
const maxSkips = 1000

func (d *Decoder) skip(s Skip) {
	if len(d.skips) < maxSkips {
		d.skips = append(d.skips, s)
	}
	i, ok := d.skipKinds[s.Kind]
	if !ok {
		if d.skipKinds == nil {
			d.skipKinds = map[SkipKind]int{}
		}
		i = len(d.summary)
		d.skipKinds[s.Kind] = i
		d.summary = append(d.summary, SkipGroup{Skip: s})
	}
	g := &d.summary[i]
	g.Count++
	g.AllBytes += s.Bytes
	g.AllRecords += s.Records
	if d.opts.OnSkip != nil {
		d.opts.OnSkip(s)
	}
}

// SkipSummary sums up everything skipped so far by kind, in order of
// first appearance (Skipped lists only the first ones one by one).
func (d *Decoder) SkipSummary() []SkipGroup { return d.summary }

// site returns the descriptor for a site index, or nil.
func (d *Decoder) site(idx uint64) *Site {
	i := idx - logfile.FirstSiteIndex
	if i < uint64(len(d.sites)) {
		return d.sites[i]
	}
	if idx > 1<<32-1 {
		return nil
	}
	return d.siteMap[uint32(idx)]
}

// maxDense bounds the direct-indexed site table by the number of
// descriptors, so that a hostile index cannot make it large.
func maxDense(ndesc int) int { return 1024 + 64*ndesc }

func (d *Decoder) writerFor(pid, tid uint32) *writer {
	key := uint64(pid)<<32 | uint64(tid)
	w := d.byKey[key]
	if w == nil {
		w = &writer{pid: pid, tid: tid, order: len(d.writers) << 32}
		d.byKey[key] = w
		d.writers = append(d.writers, w)
	}
	return w
}

// scan is the index pass over the whole log. It reads chunk headers a
// batch at a time; the leading log records of a batch's chunks (most
// chunks hold nothing else) are walked on every CPU (walkAhead), and the
// chunks are then indexed in file order from where that walk stopped.
func (d *Decoder) scan() error {
	var rd logfile.Reader
	descs := map[uint32]descAt{}
	badStart, badWhy := int64(-1), ""
	flushBad := func(to int64) {
		if badStart >= 0 {
			d.skip(Skip{Kind: SkipBadChunk, Detail: badWhy, Offset: badStart, Bytes: to - badStart})
			badStart = -1
		}
	}
	off := int64(logfile.HeaderSize)
	nchunks := 0
	var batch []headerAt
	var walkers []logfile.Reader // walkAhead's, kept from batch to batch
	var hdrErr error
scan:
	for off < d.end && hdrErr == nil {
		batch, off, hdrErr = d.readHeaders(batch[:0], off)
		walkers = d.walkAhead(batch, walkers)
		for i := range batch {
			h := &batch[i]
			if errors.Is(h.err, logfile.ErrUnused) {
				flushBad(h.off)
				continue
			}
			if h.err != nil {
				if badStart < 0 {
					badStart, badWhy = h.off, strings.TrimPrefix(h.err.Error(), logfile.ErrBadChunk.Error()+": ")
				}
				continue
			}
			flushBad(h.off)
			if nchunks == maxChunks {
				d.skip(Skip{Kind: SkipBadChunk, Detail: fmt.Sprintf("over %d chunks, more than a log the runtime writes holds; the rest is not read", maxChunks), Offset: h.off, Bytes: d.end - h.off})
				off, hdrErr = d.end, nil
				break scan
			}
			c := chunk{off: h.off, at: logfile.Start(h.off, &h.ch), limit: min(h.off+int64(h.ch.Size), d.end), size: h.ch.Size, seq: int32(nchunks)}
			nchunks++
			if err := d.indexChunk(&rd, c, h, descs); err != nil {
				return err
			}
		}
	}
	if hdrErr != nil && !errors.Is(hdrErr, io.EOF) { // EOF: the file shrank under us
		return hdrErr
	}
	flushBad(min(off, d.end))
	d.buildSites(descs)
	return nil
}

// headerAt is what the index pass found where a chunk may start: a chunk
// header (err nil), unused space (logfile.ErrUnused) or damage.
type headerAt struct {
	off    int64
	ch     logfile.ChunkHeader
	err    error
	walked bool   // walkAhead read its leading log records:
	ahead  logRun // these
}

// logRun is what readLogs counted: a run of log records, the first one's
// tag and the bytes from the stretch's start to its end (for attribute),
// and where the record of another kind that ended the run starts.
type logRun struct {
	n         uint32
	firstTag  uint64
	firstEnds uint32
	at        logfile.Cursor
}

// readLogs reads log records from where rd stands into run (firstEnds
// counted from origin) and returns the first record of another kind: the
// index pass counts log records and looks at the others.
func readLogs(rd *logfile.Reader, origin int64, run *logRun) *logfile.Record {
	for {
		// The reader's fast path first.
		tag, _, _, off, size, ok := rd.NextLog()
		if !ok {
			run.at = rd.Cursor()
			rec := rd.Next()
			if rec.Kind != logfile.KindLog {
				return rec
			}
			tag, off, size = rec.Tag, rec.Offset, rec.Size
		}
		if run.n == 0 {
			run.firstTag, run.firstEnds = tag, uint32(off-origin)+uint32(size)
		}
		run.n++
	}
}

// scanBatch is how many chunk headers the index pass reads at a time; a
// log smaller than scanAheadMin is indexed on one CPU. (Variables for
// tests.)
var (
	scanBatch    = 64
	scanAheadMin = int64(4 << 20)
)

// readHeaders appends to hs what lies at off and the chunk boundaries
// after it, up to scanBatch chunk headers or the end of the data, and
// returns where it stopped. An error reading (io.EOF: the file is shorter
// than it was) stops it.
func (d *Decoder) readHeaders(hs []headerAt, off int64) ([]headerAt, int64, error) {
	var hb [logfile.ChunkHeaderSize]byte
	for chunks := 0; off < d.end && chunks < scanBatch; {
		n := int(min(logfile.ChunkHeaderSize, d.end-off))
		if k, err := d.r.ReadAt(hb[:n], off); k < n {
			if err == nil {
				err = io.ErrUnexpectedEOF
			}
			return hs, off, err
		}
		ch, err := logfile.ParseChunkHeader(hb[:n])
		hs = append(hs, headerAt{off: off, ch: ch, err: err})
		if err != nil {
			off += logfile.Align
			continue
		}
		chunks++
		off += int64(ch.Size)
	}
	return hs, off, nil
}

// walkAhead walks the leading log records of the chunks in hs, on every
// CPU, when the log is large enough for it to pay, with the readers rds
// (one per CPU; it returns them, made if missing).
func (d *Decoder) walkAhead(hs []headerAt, rds []logfile.Reader) []logfile.Reader {
	workers := min(runtime.GOMAXPROCS(0), len(hs))
	if workers < 2 || d.end < scanAheadMin {
		return rds
	}
	if len(rds) < workers {
		rds = make([]logfile.Reader, workers)
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for k := range workers {
		wg.Add(1)
		go func(rd *logfile.Reader) {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(hs) {
					return
				}
				if h := &hs[i]; h.err == nil {
					d.walkLogs(rd, h)
				}
			}
		}(&rds[k])
	}
	wg.Wait()
	return rds
}

// walkLogs reads the leading log records of h's chunk into h.ahead.
func (d *Decoder) walkLogs(rd *logfile.Reader, h *headerAt) {
	at := logfile.Start(h.off, &h.ch)
	rd.Reset(d.r, at, min(h.off+int64(h.ch.Size), d.end), h.off+int64(h.ch.Size))
	readLogs(rd, at.Off, &h.ahead)
	h.walked = true
}

// maxChunks bounds the chunks indexed: as many as the runtime's largest
// log (1 TiB) holds, and few enough that what counts them and the
// records they index fits a chunk's 32-bit fields. (A variable for
// tests.)
var maxChunks = 1 << 28

// maxChains bounds the chains of one thread, and so the memory a hostile
// log can make the merge use.
const maxChains = 16

// splitChains splits a session's streams into chains where needed. A
// thread's chunks mostly continue one another: each starts at or after
// the last timestamp of the one before, and the thread is one stream read
// in file order. But a shared library with its own copy of the runtime
// writes the same thread's records into chunks of its own, interleaved
// with the main copy's; a thread whose chunks overlap in time is split
// into chains of chunks that do continue one another. Each chain's
// records are in (timestamp, file position) order, so the merge by
// timestamp, ties by chunk position, puts the thread's records in that
// order: the order they were written in, as a thread's clock does not go
// back.
func splitChains(streams []*writer) []*writer {
	var out []*writer
	for _, w := range streams {
		out = append(out, w)
		ordered := true
		for i := 1; i < len(w.chunks) && ordered; i++ {
			ordered = w.chunks[i].at.TS >= w.chunks[i-1].last
		}
		if ordered {
			continue
		}
		var chains [][]chunk
		var lasts []uint64
		for _, c := range w.chunks {
			i := 0
			for i < len(chains) && lasts[i] > c.at.TS {
				i++
			}
			if i == maxChains {
				i-- // out of order within the chain: kept in file order
			}
			if i == len(chains) {
				chains, lasts = append(chains, nil), append(lasts, 0)
			}
			chains[i], lasts[i] = append(chains[i], c), c.last
		}
		w.chunks, w.split = chains[0], true
		for _, ch := range chains[1:] {
			out = append(out, &writer{pid: w.pid, tid: w.tid, sess: w.sess, order: w.order, split: true, chunks: ch})
		}
	}
	return out
}

// descAt is a descriptor record found by the index pass.
type descAt struct {
	site *Site
	off  int64  // of the descriptor record
	end  int64  // end of the descriptor record
	why  string // non-empty: the index is unusable
	in   where  // the stretch it is in
}

// where names a stretch of a thread's chunks: w.chunks[ci] once the
// index pass has added it (ci -1: none, as in Follow).
type where struct {
	w  *writer
	ci int
}

// indexChunk walks the records of one chunk: descriptors, clocks and
// processes are collected, damage is reported. It adds the chunk's
// stretches (split at process records) to its thread's writer, each
// ending where the chunk's good records end. h is where it was found:
// its header, and its leading log records if walkAhead read them.
func (d *Decoder) indexChunk(rd *logfile.Reader, c chunk, h *headerAt, descs map[uint32]descAt) error {
	w := d.writerFor(h.ch.PID, h.ch.TID)
	c.cutLo, c.markLo, c.pairLo = int32(len(d.cuts)), int32(len(d.marks)), int32(len(d.pairs))
	add := func(c chunk) {
		c.cutHi, c.markHi, c.pairHi = int32(len(d.cuts)), int32(len(d.marks)), int32(len(d.pairs))
		w.chunks = append(w.chunks, c)
	}
	d.pairs = append(d.pairs, logfile.Pair{TS: h.ch.BaseTS, Mono: h.ch.MonoNS})
	end := c.off + int64(c.size)
	var run logRun
	var rec *logfile.Record
	if h.walked {
		// On from the record of another kind the walk stopped at.
		run = h.ahead
		rd.Reset(d.r, run.at, c.limit, end)
		rec = rd.Next()
	} else {
		rd.Reset(d.r, c.at, c.limit, end)
		rec = readLogs(rd, c.at.Off, &run)
	}
	for {
		d.nrecords += int(run.n)
		if c.nrec == 0 {
			c.firstTag, c.firstEnds = run.firstTag, run.firstEnds
		}
		c.nrec += run.n
		switch {
		case rec.Kind == logfile.KindIOError:
			return rec.Err
		case rec.Kind.Ends():
			if rec.Kind != logfile.KindEnd {
				d.brokenChunk(rec, c.limit)
				c.limit = rec.Offset
			}
			c.last, c.used = rec.TS, uint32(rec.Offset-c.off)
			add(c)
			return nil
		case rec.Kind == logfile.KindProcess:
			p := d.newProcess(rec, h.ch.PID)
			if p == nil {
				break
			}
			// The stretch so far ends here; the process's starts.
			before := logfile.Cursor{Off: rec.Offset, TS: rec.TS - rec.Process.TSDelta, Log: rd.Cursor().Log}
			pairLo := c.pairLo
			if before.Off > c.at.Off {
				prev := c
				prev.limit, prev.last, prev.used = before.Off, before.TS, uint32(before.Off-c.off)
				add(prev)
				pairLo = int32(len(d.pairs))
			}
			c.at, c.proc, c.nrec, c.dropped, c.cutLo, c.markLo, c.pairLo = before, p, 0, 0, int32(len(d.cuts)), int32(len(d.marks)), pairLo
		default:
			d.control(rec, &c, descs, where{w, len(w.chunks)})
		}
		run = logRun{}
		rec = readLogs(rd, c.at.Off, &run)
	}
}

// brokenChunk reports framing damage that ends a chunk's records at
// rec.Offset; limit is where they would have ended.
func (d *Decoder) brokenChunk(rec *logfile.Record, limit int64) {
	if rec.Kind == logfile.KindTruncated {
		d.skip(Skip{Kind: SkipCutShort, Offset: rec.Offset, Bytes: limit - rec.Offset, Records: 1})
		return
	}
	d.skip(Skip{Kind: SkipBadLength, Detail: rec.Err.Error(), Offset: rec.Offset, Bytes: limit - rec.Offset})
}

// control takes in a record other than a log or process record, for the
// index pass and for Follow alike: descriptors, calibration pairs and
// dropped counts (in c) are collected, damaged records reported. It
// reports whether it added a descriptor. in is the stretch c becomes.
func (d *Decoder) control(rec *logfile.Record, c *chunk, descs map[uint32]descAt, in where) bool {
	switch rec.Kind {
	case logfile.KindBad:
		s := Skip{Kind: SkipBadRecord, Detail: rec.Err.Error(), Offset: rec.Offset, Bytes: int64(rec.Size)}
		switch {
		case rec.Tag == logfile.TagDescriptor:
			s.Kind = SkipBadDescriptor
		case rec.Tag >= logfile.FirstSiteIndex:
			s.Records = 1
		}
		d.skip(s)
	case logfile.KindDescriptor:
		d.indexDescriptor(rec.Index, rec.Data, rec.Offset, rec.Size, descs, in)
		return true
	case logfile.KindDropped:
		c.dropped += rec.Dropped
	case logfile.KindClock:
		if len(d.pairs) < d.bound(minPairs, 9) {
			d.pairs = append(d.pairs, logfile.Pair{TS: rec.TS, Mono: rec.Mono, Stream: c.stream})
		}
	case logfile.KindCut:
		d.noteCut(rec)
	case logfile.KindTextMark:
		if len(d.marks) < d.bound(minMarks, 9) { // beyond, ignored
			d.marks = append(d.marks, mark{raw: rec.TS, size: rec.Mark.Size, path: string(rec.Mark.Path), off: rec.Offset})
		}
	}
	return false
}

func (d *Decoder) indexDescriptor(i uint32, raw []byte, at int64, size int, descs map[uint32]descAt, in where) {
	var s *Site
	desc, err := logfile.ParseDescriptor(raw)
	if err == nil {
		s = &Site{Prefix: desc.Flags&logfile.DescPrefix != 0, TextLevel: desc.TextLevel, descFormat: desc.Format, descArgs: desc.Args}
		s.Site, s.recorded, err = desc.Site()
	}
	var why string
	if err != nil {
		why = strings.TrimPrefix(err.Error(), logfile.ErrDescriptor.Error()+": ")
		d.skip(Skip{Kind: SkipBadDescriptor, Detail: fmt.Sprintf("index %d: %s", i, why), Offset: at, Bytes: int64(size)})
	}
	prev, seen := descs[i]
	switch {
	case !seen:
		if why != "" {
			descs[i] = descAt{off: at, why: why}
			return
		}
		s.prepare()
		descs[i] = descAt{site: s, off: at, end: at + int64(size), in: in}
	case why != "":
		// A damaged copy of a descriptor already seen is harmless.
	case prev.site != nil && !sameSite(prev.site, s):
		why = fmt.Sprintf("offset %d describes %s:%d, offset %d %s:%d", prev.off, prev.site.File, prev.site.Line, at, s.File, s.Line)
		d.skip(Skip{Kind: SkipConflict, Detail: fmt.Sprintf("index %d: %s", i, why), Offset: at, Bytes: int64(size)})
		descs[i] = descAt{off: prev.off, why: "conflicting descriptors: " + why}
	case prev.site == nil && prev.why != "" && !isConflict(prev.why):
		// The first copy was damaged; this one is good.
		s.prepare()
		descs[i] = descAt{site: s, off: at, end: at + int64(size), in: in}
	}
}

// prepare compiles the site's format for rendering, and its plan when its
// records can take the fast path (prefix records take the careful one).
func (s *Site) prepare() {
	s.msg = compile(&s.Site)
	s.fast = s.msg.err == nil && !s.msg.stars && !s.Prefix
	if s.fast {
		s.plan = newPlan(&s.msg, &s.Site)
	}
}

// sameSite reports whether two descriptors describe the same site.
func sameSite(a, b *Site) bool {
	return fmtdb.SameSite(&a.Site, &b.Site) && a.Prefix == b.Prefix && a.TextLevel == b.TextLevel && slices.Equal(a.recorded, b.recorded)
}

// splitCmdline splits a command line at its NUL bytes.
func splitCmdline(b []byte) []string {
	if len(b) == 0 {
		return nil
	}
	return strings.Split(strings.TrimSuffix(string(b), "\x00"), "\x00")
}

func isConflict(why string) bool { return len(why) > 11 && why[:11] == "conflicting" }

// buildSites fills the index tables from the descriptors found.
func (d *Decoder) buildSites(descs map[uint32]descAt) {
	d.bad, d.siteMap, d.ordered = map[uint32]string{}, nil, nil
	d.descEnd = make(map[uint32]int64, len(descs))
	dense := maxDense(len(descs))
	maxIdx := -1
	for i, da := range descs {
		if da.site != nil && int64(i)-logfile.FirstSiteIndex < int64(dense) {
			maxIdx = max(maxIdx, int(i-logfile.FirstSiteIndex))
		}
	}
	d.sites = make([]*Site, maxIdx+1)
	// In file order, so that which descriptor stands for a site shared
	// by several does not depend on the map's order.
	idxs := slices.Collect(maps.Keys(descs))
	slices.SortFunc(idxs, func(a, b uint32) int { return cmp.Or(cmp.Compare(descs[a].off, descs[b].off), cmp.Compare(a, b)) })
	byID := map[uint64][]*Site{} // the distinct sites of an ID (builds may differ in flags)
	d.descIn = make(map[uint32]where, len(descs))
	for _, i := range idxs {
		da := descs[i]
		if da.site == nil {
			d.bad[i] = da.why
			continue
		}
		d.descEnd[i] = da.end
		d.descIn[i] = da.in
		// Several indexes may describe one site: share one *Site so that
		// per-site statistics and filters see one site.
		if k := slices.IndexFunc(byID[da.site.ID], func(s *Site) bool { return sameSite(s, da.site) }); k >= 0 {
			da.site = byID[da.site.ID][k]
		} else {
			byID[da.site.ID] = append(byID[da.site.ID], da.site)
			d.ordered = append(d.ordered, da.site)
		}
		if j := int64(i) - logfile.FirstSiteIndex; j < int64(len(d.sites)) {
			d.sites[j] = da.site
		} else {
			if d.siteMap == nil {
				d.siteMap = map[uint32]*Site{}
			}
			d.siteMap[i] = da.site
		}
	}
}
