package runtime

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"math"
	"os"

	"github.com/logpack/logpack/fmtdb"
)

// A strict reader of docs/FORMAT.md for the runtime's own tests,
// independent of the decoder: any deviation from the format is an error
// here, where the decoder would skip and resync.

type scanHeader struct {
	TSKind     uint32
	Session    uint64
	StartTS    uint64
	FirstPid   uint32
	BuildID    uint64
	Tail       uint64
	Capacity   uint64
	Dropped    uint64
	NextSite   uint32
	Flags      uint32
	Exe        string
	StartMono  uint64
	StartRealt uint64
}

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
	BuildID  uint64
}

type errnoVal int64

type scanLog struct {
	Hdr     scanHeader
	Records []scanRecord // in file order; one writer's records are in its order
	Chunks  int
	Sites   map[uint64]*fmtdb.Site
}

func fnv32(b []byte) uint32 {
	h := fnv.New32a()
	h.Write(b)
	return h.Sum32()
}

func uvarint(b []byte, off *int) (uint64, error) {
	v, n := binary.Uvarint(b[*off:])
	if n <= 0 {
		return 0, fmt.Errorf("bad varint")
	}
	*off += n
	return v, nil
}

func unzig(v uint64) int64 { return int64(v>>1) ^ -int64(v&1) }

func scanFile(path string) (*scanLog, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return scanBytes(b)
}

func scanBytes(b []byte) (*scanLog, error) {
	if len(b) < 4096 {
		return nil, fmt.Errorf("file of %d bytes has no header", len(b))
	}
	le := binary.LittleEndian
	if string(b[:8]) != "LOGPACK\n" || le.Uint16(b[8:]) != 1 || le.Uint16(b[10:]) != 4096 {
		return nil, fmt.Errorf("bad magic/version %q", b[:12])
	}
	if le.Uint32(b[60:]) != fnv32(b[:60]) {
		return nil, fmt.Errorf("bad header check")
	}
	l := &scanLog{Sites: map[uint64]*fmtdb.Site{}}
	h := &l.Hdr
	h.TSKind = le.Uint32(b[12:])
	h.Session = le.Uint64(b[16:])
	h.StartRealt = le.Uint64(b[24:])
	h.StartMono = le.Uint64(b[32:])
	h.StartTS = le.Uint64(b[40:])
	h.FirstPid = le.Uint32(b[56:])
	h.BuildID = le.Uint64(b[64:])
	h.Tail = le.Uint64(b[72:])
	h.Capacity = le.Uint64(b[80:])
	h.Dropped = le.Uint64(b[88:])
	h.NextSite = le.Uint32(b[96:])
	h.Flags = le.Uint32(b[100:])
	exe := b[104:360]
	for i, c := range exe {
		if c == 0 {
			exe = exe[:i]
			break
		}
	}
	h.Exe = string(exe)
	end := int64(len(b))
	if int64(h.Tail) < end {
		end = int64(h.Tail)
	}
	if h.Capacity > uint64(len(b)) {
		return nil, fmt.Errorf("capacity %d beyond the file's %d bytes", h.Capacity, len(b))
	}
	// Pass 1: descriptors, which may sit after the records using them.
	type pending struct {
		rec  scanRecord
		body []byte
	}
	var recs []pending
	for off := int64(4096); off+40 <= end; {
		c := b[off:]
		if le.Uint32(c) == 0 {
			off += 4096
			continue
		}
		if string(c[:4]) != "LPCK" {
			return nil, fmt.Errorf("offset %d: bad chunk magic %q", off, c[:4])
		}
		size := int64(le.Uint32(c[4:]))
		if size == 0 || size%4096 != 0 || off+size > int64(len(b)) {
			return nil, fmt.Errorf("offset %d: bad chunk size %d", off, size)
		}
		if le.Uint32(c[32:]) != fnv32(c[:32]) {
			return nil, fmt.Errorf("offset %d: bad chunk check", off)
		}
		l.Chunks++
		pid, tid := le.Uint32(c[8:]), le.Uint32(c[12:])
		ts := le.Uint64(c[16:])
		c = c[:size]
		for p := int64(40); p < size; {
			n := int64(c[p])
			at := p
			p++
			if n == 0 {
				break
			}
			if n == 255 {
				if p+2 > size {
					return nil, fmt.Errorf("offset %d: long length past the chunk", off+at)
				}
				n = int64(le.Uint16(c[p:]))
				p += 2
			}
			if p+n > size {
				return nil, fmt.Errorf("offset %d: record of %d bytes crosses the chunk end", off+at, n)
			}
			body := c[p : p+n]
			p += n
			k := 0
			tag, err := uvarint(body, &k)
			if err != nil {
				return nil, fmt.Errorf("offset %d: %v", off+at, err)
			}
			r := scanRecord{Off: off + at, Pid: pid, Tid: tid, Tag: tag, Level: -1}
			switch {
			case tag == 0:
				idx, err := uvarint(body, &k)
				if err != nil {
					return nil, fmt.Errorf("offset %d: %v", off+at, err)
				}
				s, err := fmtdb.DecodeDescriptor(body[k:])
				if err != nil {
					return nil, fmt.Errorf("offset %d: %v", off+at, err)
				}
				l.Sites[idx] = &s
				continue
			case tag == 1:
				r.N, err = uvarint(body, &k)
			case tag == 2 || tag == 3 || tag >= 16:
				var d uint64
				d, err = uvarint(body, &k)
				ts += d
				r.TS = ts
				if tag == 2 {
					if k+8 != len(body) {
						err = fmt.Errorf("clock record of %d bytes", len(body))
					} else {
						r.Mono = le.Uint64(body[k:])
					}
				}
				if tag == 3 && err == nil {
					r.Ppid, err = uvarint(body, &k)
					if err == nil && k+8 <= len(body) {
						r.BuildID = le.Uint64(body[k:])
						k += 8
						var n uint64
						n, err = uvarint(body, &k)
						if err == nil && uint64(len(body)-k) == n {
							r.Exe = string(body[k:])
						} else if err == nil {
							err = fmt.Errorf("process record: bad exe length")
						}
					}
				}
			default:
				err = fmt.Errorf("reserved tag %d", tag)
			}
			if err != nil {
				return nil, fmt.Errorf("offset %d: %v", off+at, err)
			}
			recs = append(recs, pending{r, body[k:]})
		}
		off += size
	}
	for _, pr := range recs {
		r := pr.rec
		if r.Tag >= 16 {
			s := l.Sites[r.Tag]
			if s == nil {
				return nil, fmt.Errorf("offset %d: site index %d has no descriptor", r.Off, r.Tag)
			}
			r.Site = s
			body := pr.body
			k := 0
			if s.Level == fmtdb.LevelRuntime {
				if len(body) == 0 {
					return nil, fmt.Errorf("offset %d: no level byte", r.Off)
				}
				r.Level = int(body[0])
				k++
			}
			for _, a := range s.Args {
				if k > len(body) {
					return nil, fmt.Errorf("offset %d: arguments cut short", r.Off)
				}
				var err error
				var v uint64
				switch a.Class {
				case fmtdb.ClassI32, fmtdb.ClassI64:
					v, err = uvarint(body, &k)
					r.Args = append(r.Args, unzig(v))
				case fmtdb.ClassErrno:
					v, err = uvarint(body, &k)
					r.Args = append(r.Args, errnoVal(unzig(v)))
				case fmtdb.ClassU32, fmtdb.ClassU64, fmtdb.ClassPtr:
					v, err = uvarint(body, &k)
					r.Args = append(r.Args, v)
				case fmtdb.ClassF64:
					if k+8 > len(body) {
						return nil, fmt.Errorf("offset %d: f64 cut short", r.Off)
					}
					r.Args = append(r.Args, math.Float64frombits(le.Uint64(body[k:])))
					k += 8
				case fmtdb.ClassF80:
					if k+10 > len(body) {
						return nil, fmt.Errorf("offset %d: f80 cut short", r.Off)
					}
					var x [10]byte
					copy(x[:], body[k:])
					r.Args = append(r.Args, x)
					k += 10
				case fmtdb.ClassStr, fmtdb.ClassStrMax:
					v, err = uvarint(body, &k)
					if err == nil && v == 0 {
						r.Args = append(r.Args, nil)
					} else if err == nil {
						if uint64(len(body)-k) < v-1 {
							return nil, fmt.Errorf("offset %d: string cut short", r.Off)
						}
						r.Args = append(r.Args, string(body[k:k+int(v-1)]))
						k += int(v - 1)
					}
				default:
					err = fmt.Errorf("class %v", a.Class)
				}
				if err != nil {
					return nil, fmt.Errorf("offset %d: %v", r.Off, err)
				}
			}
			if k != len(body) {
				return nil, fmt.Errorf("offset %d: %d bytes after the arguments", r.Off, len(body)-k)
			}
		}
		l.Records = append(l.Records, r)
	}
	return l, nil
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
