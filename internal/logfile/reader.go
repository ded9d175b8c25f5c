package logfile

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
)

// Kind is what Reader.Next found: a record of some kind, a damaged record
// it skipped by its length, or the end of the chunk's records.
type Kind uint8

const (
	// KindLog is a log record (tag >= FirstSiteIndex): Record.Tag is its
	// site index, Record.TS its time, Record.Data its level byte (if the
	// site's level is decided at run time) and arguments.
	KindLog Kind = iota
	// KindDescriptor is a site descriptor record: Record.Index is the site
	// index it describes, Record.Data the descriptor.
	KindDescriptor
	// KindDropped is a dropped record: Record.Dropped records were lost.
	KindDropped
	// KindClock is a calibration pair: (Record.TS, Record.Mono).
	KindClock
	// KindProcess is a process record: Record.Process.
	KindProcess
	// KindTextMark is a text mark: Record.Mark, at Record.TS.
	KindTextMark
	// KindCut is a cut record: Record.Cut, whose Of is the offset of the
	// log record it is about.
	KindCut
	// KindReserved is a record with a reserved tag, skipped by its length.
	KindReserved
	// KindBad is a record whose body is damaged (a bad tag, a control
	// record that does not parse, a log record without a valid ts delta).
	// It is skipped by its length; Record.Err says what is wrong, and a
	// Record.Tag >= FirstSiteIndex means a log record was lost.
	KindBad

	// The kinds from KindEnd on end the chunk's records.

	// KindEnd: a zero length byte, or the limit: no more records.
	KindEnd
	// KindTruncated: the data ends inside the record (a file cut short,
	// or, in a log being written, a record not all there yet).
	KindTruncated
	// KindBroken: an impossible length (a record crossing its chunk's end,
	// an escaped length of zero). Record.Err says which.
	KindBroken
	// KindIOError: reading the underlying data failed; Record.Err is the
	// error.
	KindIOError
)

var kindNames = [...]string{"log", "descriptor", "dropped", "clock", "process", "text mark", "cut", "reserved", "bad", "end", "truncated", "broken", "I/O error"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// Ends reports whether the kind ends the chunk's records.
func (k Kind) Ends() bool { return k >= KindEnd }

// Record is one record as Reader.Next found it. Data and the slices in
// Process reference the Reader's buffer: they are valid until the next
// call of Next or Reset.
type Record struct {
	Kind   Kind
	Tag    uint64 // the record's tag; for a log record, its site index
	Offset int64  // file offset of its length byte
	Size   int    // bytes it takes in the chunk, framing included
	// TS is the chunk's running timestamp after the record: the time of
	// a log, clock or process record (records without a ts delta leave
	// it as it was).
	TS   uint64
	Data []byte // KindLog: after the ts delta; KindDescriptor: after the site index; otherwise the body after the tag
	Err  error  // KindBad, KindTruncated, KindBroken: what is wrong; KindIOError: the error

	// Fields of control records, by Kind.
	Index   uint32   // KindDescriptor: the site index described
	Dropped uint64   // KindDropped
	Mono    uint64   // KindClock: CLOCK_MONOTONIC ns at TS
	Process Process  // KindProcess
	Mark    TextMark // KindTextMark
	Cut     Cut      // KindCut
}

// Errors of records, in Record.Err. Each damaged record gets the same
// text for the same problem, so that readers can group them.
var (
	ErrBadTag        = errors.New("bad tag")
	ErrBadTSDelta    = errors.New("bad timestamp delta")
	ErrBadDropped    = errors.New("bad dropped record")
	ErrClockShort    = errors.New("clock record cut short")
	ErrCrossesChunk  = errors.New("the record crosses its chunk's end")
	ErrZeroLength    = errors.New("escaped length of zero")
	ErrTruncated     = errors.New("record cut off by the end of the data")
	errTrailingBytes = "%d bytes after its last field"
)

// Reader reads the records of one chunk, front to back, through a
// bounded read-ahead window: the one implementation of record framing,
// tags and control record bodies (docs/FORMAT.md, "Records") that every
// reader of logs builds on. It does not allocate per record. The zero
// value is ready for Reset.
type Reader struct {
	win     window
	ts      uint64
	lastLog int64 // offset of the latest log record, -1 if none
	limit   int64 // records end here
	end     int64 // the chunk's end
	rec     Record
}

// Cursor is a place in a chunk's records and the state of reading there:
// where a Reader starts or goes on.
type Cursor struct {
	Off int64  // the next record
	TS  uint64 // the chunk's running timestamp
	Log int64  // offset of the chunk's latest log record before Off, -1 if none (for cut records)
}

// Start returns the cursor at the first record of the chunk whose header
// at off is ch.
func Start(off int64, ch *ChunkHeader) Cursor {
	return Cursor{Off: off + ChunkHeaderSize, TS: ch.BaseTS, Log: -1}
}

// Release drops r's read buffer (a reader of a thread that has no more
// chunks); the next Reset makes a new one.
func (r *Reader) Release() { r.win.buf = nil }

// Buffered returns the size of r's read buffer: 0 after Release (for
// the decoder's tests of what ended streams hold).
func (r *Reader) Buffered() int { return len(r.win.buf) }

// Reset makes r read records from at up to limit. end is the chunk's
// end: a limit before it means the data ends there (a file cut short, or
// a chunk still being written), and a record crossing it is
// KindTruncated rather than KindBroken.
func (r *Reader) Reset(src io.ReaderAt, at Cursor, limit, end int64) {
	r.win.reset(src, at.Off, limit)
	r.limit, r.end, r.ts, r.lastLog = limit, end, at.TS, at.Log
}

// Cursor returns where the reader stands: after the record Next returned
// last (or at it, if that record ended the chunk's records).
func (r *Reader) Cursor() Cursor { return Cursor{Off: r.win.offset(), TS: r.ts, Log: r.lastLog} }

// Next reads the next record. After a record whose Kind ends the chunk's
// records (Kind.Ends) it stays there: calling it again returns the same.
// Damage is a Kind, and so is an error of the underlying io.ReaderAt
// (KindIOError).
func (r *Reader) Next() *Record {
	if tag, data, ts, off, size, ok := r.NextLog(); ok {
		rec := &r.rec
		rec.Kind, rec.Tag, rec.Offset, rec.Size, rec.TS, rec.Data, rec.Err = KindLog, tag, off, size, ts, data, nil
		return rec
	}
	return r.next()
}

// NextLog is the fast path of Next for loops that want log records at
// full speed: if the next record is a log record with a one-byte tag and
// a short ts delta that is wholly in the read-ahead window (most are), it
// reads it and returns what Next would put in the Record, with ok true.
// Otherwise it reads nothing and returns ok false: call Next.
func (r *Reader) NextLog() (tag uint64, data []byte, ts uint64, off int64, size int, ok bool) {
	// The window never holds bytes past the limit.
	w := &r.win
	p, e := w.pos, w.end
	if p >= e {
		return
	}
	l := int(w.buf[p])
	if l < 2 || l == 255 || p+1+l > e {
		return
	}
	b := w.buf[p+1 : p+1+l]
	t := b[0]
	if t < FirstSiteIndex || t >= 0x80 {
		return
	}
	var d uint64
	k := 2
	if c := b[1]; c < 0x80 {
		d = uint64(c)
	} else if l > 2 && b[2] < 0x80 {
		d, k = uint64(c&0x7f)|uint64(b[2])<<7, 3
	} else {
		return
	}
	w.pos = p + 1 + l
	r.ts += d
	off = w.base + int64(p)
	r.lastLog = off
	return uint64(t), b[k:], r.ts, off, l + 1, true
}

// next is Next for everything but the common log record.
func (r *Reader) next() *Record {
	rec := &r.rec
	w := &r.win
	*rec = Record{Offset: w.offset(), TS: r.ts}
	b, err := w.ensure(3, r.limit)
	if err != nil {
		rec.Kind, rec.Err = KindIOError, err
		return rec
	}
	body, n, ferr := Frame(b)
	if ferr == ErrShort {
		need := 1 + int(b[0])
		if b[0] == 255 && len(b) >= 3 {
			need = 3 + int(binary.LittleEndian.Uint16(b[1:]))
		}
		if b, err = w.ensure(need, r.limit); err != nil {
			rec.Kind, rec.Err = KindIOError, err
			return rec
		}
		body, n, ferr = Frame(b)
	}
	switch {
	case ferr == ErrShort:
		if r.limit < r.end || w.eof {
			rec.Kind, rec.Err = KindTruncated, ErrTruncated
		} else {
			rec.Kind, rec.Err = KindBroken, ErrCrossesChunk
		}
		return rec
	case ferr != nil:
		rec.Kind, rec.Err = KindBroken, ErrZeroLength
		return rec
	case n == 0:
		rec.Kind = KindEnd
		return rec
	}
	w.pos += n
	rec.Size = n
	r.parse(rec, body)
	return rec
}

// parse decodes a record body (framing removed) into rec.
func (r *Reader) parse(rec *Record, body []byte) {
	tag, k := Uvarint(body)
	if k <= 0 {
		rec.Kind, rec.Err = KindBad, ErrBadTag
		return
	}
	rec.Tag = tag
	p := body[k:]
	rec.Data = p
	bad := func(err error) { rec.Kind, rec.Err = KindBad, err }
	switch {
	case tag >= FirstSiteIndex:
		d, k := Uvarint(p)
		if k <= 0 {
			bad(ErrBadTSDelta)
			return
		}
		r.ts += d
		r.lastLog = rec.Offset
		rec.Kind, rec.TS, rec.Data = KindLog, r.ts, p[k:]
	case tag == TagDescriptor:
		idx, k := Uvarint(p)
		if k <= 0 || idx < FirstSiteIndex || idx > math.MaxUint32 {
			bad(errors.New("bad site index"))
			return
		}
		rec.Kind, rec.Index, rec.Data = KindDescriptor, uint32(idx), p[k:]
	case tag == TagDropped:
		n, k := Uvarint(p)
		if k <= 0 {
			bad(ErrBadDropped)
			return
		}
		if k != len(p) {
			bad(fmt.Errorf("dropped record: "+errTrailingBytes, len(p)-k))
			return
		}
		rec.Kind, rec.Dropped = KindDropped, n
	case tag == TagClock:
		d, mono, err := ParseClock(p)
		if err != nil {
			bad(err)
			return
		}
		r.ts += d
		rec.Kind, rec.TS, rec.Mono = KindClock, r.ts, mono
	case tag == TagProcess:
		pr, err := ParseProcess(p)
		if err != nil {
			bad(err)
			return
		}
		r.ts += pr.TSDelta
		rec.Kind, rec.TS, rec.Process = KindProcess, r.ts, pr
	case tag == TagTextMark:
		m, err := ParseTextMark(p)
		if err != nil {
			bad(err)
			return
		}
		r.ts += m.TSDelta
		rec.Kind, rec.TS, rec.Mark = KindTextMark, r.ts, m
	case tag == TagCut:
		c, err := ParseCut(p)
		if err != nil {
			bad(err)
			return
		}
		if r.lastLog < 0 {
			bad(errors.New("cut record: no log record before it in its chunk"))
			return
		}
		c.Of = r.lastLog
		rec.Kind, rec.Cut = KindCut, c
	default:
		rec.Kind = KindReserved
	}
}
