package lpruntime_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"strings"

	"github.com/logpack/logpack/fmtdb"
	"github.com/logpack/logpack/internal/logfile"
)

// A strict view of a whole log for the runtime's tests, on top of
// internal/logfile: where the decoder skips damage and resyncs, any
// deviation from docs/FORMAT.md is an error here.

type scanRecord struct {
	Off      int64 // file offset of the len byte
	Pid, Tid uint32
	Tag      uint64 // 1 dropped, 2 clock, 3 process, >= 16 a log record
	Site     *fmtdb.Site
	TS       uint64 // absolute, in ts_kind units
	Level    int    // -1 unless the site's level is decided per record
	Args     []any  // int64, uint64, float64, [10]byte, string, nil (NULL string), errno as errnoVal
	N        uint64 // dropped count
	Mono     uint64 // clock record
	Ppid     uint64
	Exe      string
	Cmdline  []string // process record: the arguments
	BuildID  uint64
	Session  uint64 // process record: its session; others: their process's
	ProcFlag uint64 // process record flags
	TextSize uint64 // text mark
}

type errnoVal int64

type scanLog struct {
	Hdr     logfile.Header
	Records []scanRecord // in file order; one writer's records are in its order
	Chunks  int
	Sites   map[uint64]*fmtdb.Site
}

func scanFile(path string) (*scanLog, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return scanBytes(b)
}

func scanBytes(b []byte) (*scanLog, error) {
	h, err := logfile.ParseHeader(b)
	if err != nil {
		return nil, err
	}
	l := &scanLog{Hdr: *h, Sites: map[uint64]*fmtdb.Site{}}
	if h.Capacity > uint64(len(b)) {
		return nil, fmt.Errorf("capacity %d beyond the file's %d bytes", h.Capacity, len(b))
	}
	end := min(int64(len(b)), int64(h.Tail))
	// Pass 1: descriptors, which may sit after the records using them.
	type pending struct {
		rec  scanRecord
		body []byte // the log record's level and arguments
	}
	var recs []pending
	// the session of each pid's latest process record (in file order:
	// good enough for the tests, whose pids are not reused)
	session := map[uint32]uint64{}
	for off := int64(logfile.HeaderSize); off+logfile.ChunkHeaderSize <= end; {
		ch, err := logfile.ParseChunkHeader(b[off:])
		if errors.Is(err, logfile.ErrUnused) && binary.LittleEndian.Uint32(b[off:]) == 0 {
			off += logfile.Align
			continue
		}
		// A header without its check is unused to a live reader; in a
		// finished log it is damage.
		if err != nil {
			return nil, fmt.Errorf("offset %d: %w", off, err)
		}
		size := int64(ch.Size)
		if off+size > int64(len(b)) {
			return nil, fmt.Errorf("offset %d: chunk of %d bytes past the file end", off, size)
		}
		l.Chunks++
		var rd logfile.Reader
		rd.Reset(bytes.NewReader(b), logfile.Start(off, &ch), off+size, off+size)
		for {
			rec := rd.Next()
			if rec.Kind == logfile.KindEnd {
				break
			}
			if rec.Err != nil {
				return nil, fmt.Errorf("offset %d: %v", rec.Offset, rec.Err)
			}
			r := scanRecord{Off: rec.Offset, Pid: ch.PID, Tid: ch.TID, Tag: rec.Tag, Level: -1, TS: rec.TS,
				Session: session[ch.PID]}
			switch rec.Kind {
			case logfile.KindDescriptor:
				d, err := logfile.ParseDescriptor(rec.Data)
				if err != nil {
					return nil, fmt.Errorf("offset %d: %v", rec.Offset, err)
				}
				s, _, err := d.Site()
				if err != nil {
					return nil, fmt.Errorf("offset %d: %v", rec.Offset, err)
				}
				l.Sites[uint64(rec.Index)] = &s
				continue
			case logfile.KindDropped:
				r.N = rec.Dropped
			case logfile.KindClock:
				r.Mono = rec.Mono
			case logfile.KindProcess:
				pr := rec.Process
				r.Ppid, r.BuildID, r.Exe = uint64(pr.PPID), pr.BuildID, string(pr.Exe)
				if len(pr.Cmdline) > 0 {
					r.Cmdline = strings.Split(string(pr.Cmdline), "\x00")
				}
				r.Session, r.ProcFlag = pr.Session, pr.Flags
				session[ch.PID] = pr.Session
			case logfile.KindTextMark:
				r.TextSize = rec.Mark.Size
			case logfile.KindReserved:
				return nil, fmt.Errorf("offset %d: reserved tag %d", rec.Offset, rec.Tag)
			}
			recs = append(recs, pending{r, bytes.Clone(rec.Data)})
		}
		off += size
	}
	var vals []fmtdb.Value
	for _, pr := range recs {
		r := pr.rec
		if r.Tag >= logfile.FirstSiteIndex {
			s := l.Sites[r.Tag]
			if s == nil {
				return nil, fmt.Errorf("offset %d: site index %d has no descriptor", r.Off, r.Tag)
			}
			r.Site = s
			body := pr.body
			if s.Level == fmtdb.LevelRuntime {
				if len(body) == 0 {
					return nil, fmt.Errorf("offset %d: no level byte", r.Off)
				}
				r.Level = int(body[0])
				body = body[1:]
			}
			var k int
			var err error
			vals, k, err = logfile.DecodeArgs(body, s.Args, vals[:0])
			if err != nil {
				return nil, fmt.Errorf("offset %d: %v", r.Off, err)
			}
			if k != len(body) {
				return nil, fmt.Errorf("offset %d: %d bytes after the arguments", r.Off, len(body)-k)
			}
			for _, v := range vals {
				r.Args = append(r.Args, scanValue(v))
			}
		}
		l.Records = append(l.Records, r)
	}
	return l, nil
}

// scanValue turns a decoded argument into a value the tests compare with ==.
func scanValue(v fmtdb.Value) any {
	switch v.Kind {
	case fmtdb.KindInt:
		return int64(v.Bits)
	case fmtdb.KindErrno:
		return errnoVal(int64(v.Bits))
	case fmtdb.KindUint, fmtdb.KindPtr:
		return v.Bits
	case fmtdb.KindF64:
		return math.Float64frombits(v.Bits)
	case fmtdb.KindF80:
		var x [10]byte
		binary.LittleEndian.PutUint64(x[:], v.Bits)
		binary.LittleEndian.PutUint16(x[8:], v.SE)
		return x
	case fmtdb.KindStr:
		return string(v.Str)
	case fmtdb.KindNull:
		return nil
	}
	return fmt.Sprintf("kind %v", v.Kind)
}

// logRecords returns the log records (tag >= 16) whose format is format.
func (l *scanLog) logRecords(format string) []scanRecord {
	var out []scanRecord
	for _, r := range l.Records {
		if r.Site != nil && r.Site.Format == format {
			out = append(out, r)
		}
	}
	return out
}

func (l *scanLog) count(tag uint64) (n int, sum uint64) {
	for _, r := range l.Records {
		if r.Tag == tag {
			n++
			sum += r.N
		}
	}
	return n, sum
}
