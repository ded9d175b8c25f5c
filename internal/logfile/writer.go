package logfile

import (
	"encoding/binary"
	"fmt"

	"github.com/logpack/logpack/fmtdb"
)

// Writer builds a log file in memory the way the C runtime writes one: a
// header, then chunks claimed one at a time by threads, records framed with
// their length byte, descriptors written before a process first uses a
// site. It is the second implementation of docs/FORMAT.md (the C runtime
// is the first) and produces the logs of the decoder's tests, fuzz seeds
// and benchmarks.
type Writer struct {
	Header    Header
	ChunkSize int // bytes per chunk, a multiple of Align
	buf       []byte
	next      uint32                       // next site index
	procs     map[uint32]map[string]uint32 // per pid: descriptor → index
	descs     map[*fmtdb.Site]string       // the descriptors of Index's sites
}

// NewWriter starts a log with header h (Tail, Capacity, NextSiteIndex and
// the check are filled in by Bytes). chunkSize is rounded up to Align.
func NewWriter(h Header, chunkSize int) *Writer {
	if chunkSize < Align {
		chunkSize = Align
	}
	chunkSize = (chunkSize + Align - 1) / Align * Align
	w := &Writer{Header: h, ChunkSize: chunkSize, next: FirstSiteIndex, procs: map[uint32]map[string]uint32{}}
	w.buf = make([]byte, HeaderSize)
	return w
}

// Bytes returns the file: the header with the current tail, followed by the
// chunks claimed so far. pad extra zero bytes model the preallocated space
// past the tail.
func (w *Writer) Bytes(pad int) []byte {
	h := w.Header
	h.Tail = uint64(len(w.buf))
	h.Capacity = uint64(len(w.buf) + pad)
	h.NextSiteIndex = w.next
	out := h.Append(nil)
	out = append(out, w.buf[HeaderSize:]...)
	return append(out, make([]byte, pad)...)
}

// Thread is one writing thread. Its records go into its current chunk; a
// full chunk makes it claim the next one at the tail.
type Thread struct {
	w        *Writer
	PID, TID uint32
	chunk    int // offset of the current chunk, 0 = none
	pos      int // next record offset within the file
	lastTS   uint64
	// Mono maps a timestamp to the CLOCK_MONOTONIC value stored in chunk
	// headers; nil means identity (ts_kind 0).
	Mono func(ts uint64) uint64
}

// Thread returns a new writing thread.
func (w *Writer) Thread(pid, tid uint32) *Thread {
	return &Thread{w: w, PID: pid, TID: tid}
}

// Claim makes the thread start a new chunk at the tail with base ts.
func (t *Thread) Claim(ts uint64) {
	w := t.w
	t.chunk = len(w.buf)
	mono := ts
	if t.Mono != nil {
		mono = t.Mono(ts)
	}
	ch := ChunkHeader{Size: uint32(w.ChunkSize), PID: t.PID, TID: t.TID, BaseTS: ts, MonoNS: mono}
	w.buf = ch.Append(w.buf)
	w.buf = append(w.buf, make([]byte, w.ChunkSize-ChunkHeaderSize)...)
	t.pos = t.chunk + ChunkHeaderSize
	t.lastTS = ts
}

// Raw appends one record with the given body (tag included), claiming a
// new chunk with base ts if it does not fit. Bodies over MaxBody panic:
// they are a bug of the caller.
func (t *Thread) Raw(ts uint64, body []byte) {
	if len(body) == 0 || len(body) > MaxBody || len(body)+3 > t.w.ChunkSize-ChunkHeaderSize {
		panic(fmt.Sprintf("logfile: record body of %d bytes", len(body)))
	}
	need := FrameSize(len(body)) + len(body)
	if t.chunk == 0 || t.pos+need > t.chunk+t.w.ChunkSize {
		t.Claim(ts)
	}
	p := t.w.buf[t.pos:]
	if len(body) < 255 {
		p[0] = byte(len(body))
		copy(p[1:], body)
	} else {
		p[0] = 255
		binary.LittleEndian.PutUint16(p[1:], uint16(len(body)))
		copy(p[3:], body)
	}
	t.pos += need
}

// delta returns the ts delta for a record at ts and advances the chunk's
// clock. A record whose ts is below the chunk's last one starts a new
// chunk, as the delta is unsigned.
func (t *Thread) delta(ts uint64, bodyEstimate int) uint64 {
	if t.chunk == 0 || ts < t.lastTS || t.pos+bodyEstimate+3 > t.chunk+t.w.ChunkSize {
		t.Claim(ts)
	}
	d := ts - t.lastTS
	t.lastTS = ts
	return d
}

// Descriptor writes a descriptor record for site index idx.
func (t *Thread) Descriptor(idx uint32, desc []byte) {
	body := binary.AppendUvarint([]byte{TagDescriptor}, uint64(idx))
	t.Raw(t.lastTS, append(body, desc...))
}

// Dropped writes a dropped record.
func (t *Thread) Dropped(n uint64) {
	t.Raw(t.lastTS, binary.AppendUvarint([]byte{TagDropped}, n))
}

// Clock writes a calibration pair.
func (t *Thread) Clock(ts, mono uint64) {
	d := t.delta(ts, 20)
	body := binary.AppendUvarint([]byte{TagClock}, d)
	t.Raw(ts, binary.LittleEndian.AppendUint64(body, mono))
}

// Process writes a process record: the thread's process starts (its TSDelta
// is ignored). Like the runtime, the new process describes every site
// again before it first uses it.
func (t *Thread) Process(ts uint64, p Process) {
	d := t.delta(ts, 60+len(p.Exe)+len(p.Cmdline))
	body := binary.AppendUvarint([]byte{TagProcess}, d)
	body = binary.AppendUvarint(body, uint64(p.PPID))
	body = binary.LittleEndian.AppendUint64(body, p.Session)
	body = binary.AppendUvarint(body, p.Flags)
	body = binary.LittleEndian.AppendUint64(body, p.BuildID)
	body = AppendString(body, p.Exe)
	body = AppendString(body, p.Cmdline)
	t.Raw(ts, body)
	delete(t.w.procs, t.PID)
}

// TextMark writes a text mark: the program's text log held size bytes at
// ts; path names it ("" for the file of the process's previous mark).
func (t *Thread) TextMark(ts, size uint64, path string) {
	d := t.delta(ts, 30+len(path))
	body := binary.AppendUvarint([]byte{TagTextMark}, d)
	body = binary.AppendUvarint(body, size)
	t.Raw(ts, AppendString(body, path))
}

// Cut writes a cut record after the thread's latest log record: its
// string at argument arg of the site descriptor's list was n bytes long.
func (t *Thread) Cut(arg int, n uint64) {
	body := binary.AppendUvarint([]byte{TagCut}, uint64(arg))
	t.Raw(t.lastTS, binary.AppendUvarint(body, n))
}

// Index returns the site index this thread's process uses for s, handing
// out a new one and writing its descriptor first if the process has not
// used the site yet (as the runtime does). The descriptor lists s's
// arguments, no constants, no flags; s must not change after its first
// use.
func (t *Thread) Index(s *fmtdb.Site) uint32 {
	desc, ok := t.w.descs[s]
	if !ok {
		d := DescriptorOf(s)
		desc = string(d.Append(nil))
		if t.w.descs == nil {
			t.w.descs = map[*fmtdb.Site]string{}
		}
		t.w.descs[s] = desc
	}
	return t.index(desc)
}

// IndexOf is Index for a descriptor as given.
func (t *Thread) IndexOf(d *Descriptor) uint32 { return t.index(string(d.Append(nil))) }

func (t *Thread) index(desc string) uint32 {
	m := t.w.procs[t.PID]
	if m == nil {
		m = map[string]uint32{}
		t.w.procs[t.PID] = m
	}
	if idx, ok := m[desc]; ok {
		return idx
	}
	idx := t.w.NewIndex()
	m[desc] = idx
	t.Descriptor(idx, []byte(desc))
	return idx
}

// NewIndex hands out a site index without writing a descriptor (for tests
// that place descriptors elsewhere).
func (t *Writer) NewIndex() uint32 {
	idx := t.next
	t.next++
	return idx
}

// Log records one call of site s at ts. level is used only by sites whose
// level is decided at run time.
func (t *Thread) Log(s *fmtdb.Site, ts uint64, level uint8, args ...fmtdb.Value) {
	t.logAt(t.Index(s), s, ts, level, args)
}

// LogDesc records one call of the site d describes; args are the recorded
// arguments (the constants are in the descriptor).
func (t *Thread) LogDesc(d *Descriptor, ts uint64, level uint8, args ...fmtdb.Value) {
	s, _, err := d.Site()
	if err != nil {
		panic(fmt.Sprintf("logfile: %v", err))
	}
	t.logAt(t.IndexOf(d), &s, ts, level, args)
}

func (t *Thread) logAt(idx uint32, s *fmtdb.Site, ts uint64, level uint8, args []fmtdb.Value) {
	// The C call site converts each argument to its class's C type.
	for i := range args {
		if i < len(s.Args) {
			switch s.Args[i].Class {
			case fmtdb.ClassI32, fmtdb.ClassErrno:
				args[i].Bits = uint64(int64(int32(args[i].Bits)))
			case fmtdb.ClassU32:
				args[i].Bits = uint64(uint32(args[i].Bits))
			}
		}
	}
	t.LogIndex(idx, s.Level == fmtdb.LevelRuntime, ts, level, args...)
}

// LogIndex records a call with an explicit site index.
func (t *Thread) LogIndex(idx uint32, runtimeLevel bool, ts uint64, level uint8, args ...fmtdb.Value) {
	est := 16
	for _, a := range args {
		est += 11 + len(a.Str)
	}
	d := t.delta(ts, est)
	body := AppendLogBody(nil, idx, d, runtimeLevel, level, args)
	t.Raw(ts, body)
}

// AppendLogBody appends the body of a log record.
func AppendLogBody(b []byte, idx uint32, tsDelta uint64, runtimeLevel bool, level uint8, args []fmtdb.Value) []byte {
	b = binary.AppendUvarint(b, uint64(idx))
	b = binary.AppendUvarint(b, tsDelta)
	if runtimeLevel {
		b = append(b, level)
	}
	for _, a := range args {
		b = AppendArg(b, a)
	}
	return b
}
