package logfile

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/logpack/logpack/fmtdb"
)

// chunkOf returns a log of one chunk (pid 1, tid 1, base ts 1000) whose
// records are the given bodies, the offset of its first record and the
// chunk's end.
func chunkOf(t testing.TB, bodies ...[]byte) (log []byte, start, end int64) {
	t.Helper()
	w := NewWriter(Header{FirstPID: 1}, Align)
	th := w.Thread(1, 1)
	th.Claim(1000)
	for _, b := range bodies {
		th.Raw(1000, b)
	}
	log = w.Bytes(0)
	return log, HeaderSize + ChunkHeaderSize, HeaderSize + Align
}

// readAll reads a chunk's records with the careful path (next) until one
// ends them, and describes each in one line.
func readAll(log []byte, off, limit, end int64) []string {
	var rd Reader
	rd.Reset(bytes.NewReader(log), Cursor{Off: off, TS: 1000, Log: -1}, limit, end)
	var out []string
	for {
		rec := rd.next() // the careful path alone: the fast path's reference
		out = append(out, describe(rec))
		if rec.Kind.Ends() {
			return out
		}
	}
}

func describe(r *Record) string {
	s := fmt.Sprintf("%d+%d %v tag %d ts %d", r.Offset, r.Size, r.Kind, r.Tag, r.TS)
	switch r.Kind {
	case KindLog:
		s += fmt.Sprintf(" data %x", r.Data)
	case KindDescriptor:
		s += fmt.Sprintf(" index %d data %x", r.Index, r.Data)
	case KindDropped:
		s += fmt.Sprintf(" dropped %d", r.Dropped)
	case KindClock:
		s += fmt.Sprintf(" mono %d", r.Mono)
	case KindProcess:
		p := r.Process
		s += fmt.Sprintf(" ppid %d session %#x flags %d build %#x exe %q cmdline %q", p.PPID, p.Session, p.Flags, p.BuildID, p.Exe, p.Cmdline)
	case KindTextMark:
		s += fmt.Sprintf(" size %d path %q", r.Mark.Size, r.Mark.Path)
	case KindCut:
		s += fmt.Sprintf(" arg %d len %d of %d", r.Cut.Arg, r.Cut.Len, r.Cut.Of)
	}
	if r.Err != nil {
		s += ": " + r.Err.Error()
	}
	return s
}

func body(tag uint64, fields ...any) []byte {
	b := binary.AppendUvarint(nil, tag)
	for _, f := range fields {
		switch f := f.(type) {
		case int:
			b = binary.AppendUvarint(b, uint64(f))
		case uint64:
			b = binary.LittleEndian.AppendUint64(b, f)
		case string:
			b = append(binary.AppendUvarint(b, uint64(len(f))), f...)
		case []byte:
			b = append(b, f...)
		}
	}
	return b
}

// Every kind of record comes out of Next with its fields, the chunk's
// running timestamp and its place in the file; records without a ts
// delta (descriptor, dropped) leave the timestamp as it was.
func TestReaderKinds(t *testing.T) {
	log, off, end := chunkOf(t,
		body(TagCut, 0, 9),        // a cut record before any log record
		body(16, 5, []byte{0x02}), // log record: site 16, delta 5, one argument byte
		body(TagCut, 1, 70000),    // about the log record before it
		body(TagDescriptor, 200, "DESC"),
		body(TagDropped, 7),
		body(TagClock, 10, uint64(99)),
		body(TagProcess, 1, 42, uint64(0x5e55), ProcStarted, uint64(0xb1d), "/bin/x", "x\x00-v"),
		body(TagTextMark, 3, 4096, "/tmp/dump.log"),
		body(9, 1, 2, 3),         // reserved
		body(300, 200, []byte{}), // a two-byte site index and delta
		body(TagCut, 0, 300),
	)
	want := []string{
		`4136+4 bad tag 5 ts 1000: cut record: no log record before it in its chunk`,
		`4140+4 log tag 16 ts 1005 data 02`,
		`4144+6 cut tag 5 ts 1005 arg 1 len 70000 of 4140`,
		`4150+9 descriptor tag 0 ts 1005 index 200 data 0444455343`,
		`4159+3 dropped tag 1 ts 1005 dropped 7`,
		`4162+11 clock tag 2 ts 1015 mono 99`,
		`4173+33 process tag 3 ts 1016 ppid 42 session 0x5e55 flags 1 build 0xb1d exe "/bin/x" cmdline "x\x00-v"`,
		`4206+19 text mark tag 4 ts 1019 size 4096 path "/tmp/dump.log"`,
		`4225+5 reserved tag 9 ts 1019`,
		`4230+5 log tag 300 ts 1219 data `,
		`4235+5 cut tag 5 ts 1219 arg 0 len 300 of 4230`,
		`4240+0 end tag 0 ts 1219`,
	}
	if diff := cmp.Diff(want, readAll(log, off, end, end)); diff != "" {
		t.Errorf("records (-want +got):\n%s", diff)
	}
}

// A damaged record body is KindBad with the reason and is skipped by its
// length: the records after it are read. A log record without a valid
// ts delta keeps its site index in Tag (a log record was lost).
func TestReaderDamagedBodies(t *testing.T) {
	log, off, end := chunkOf(t,
		[]byte{0x80},                            // tag varint cut short
		body(TagDropped),                        // no count
		body(TagDropped, 1, []byte{9}),          // a byte after the count
		body(TagClock, 1, []byte{1, 2, 3}),      // mono_ns cut short
		body(TagClock, 1, uint64(5), []byte{0}), // a byte after mono_ns
		body(TagProcess, 1),                     // no ppid
		body(TagProcess, 1, 1, uint64(0), 0, uint64(0), "/x", "", []byte{0}),
		body(TagProcess, 1, 1, uint64(0), 0, uint64(0), "/x"), // no command line
		body(TagTextMark, 1, 10), // no path
		body(TagTextMark, 1, 10, "p", []byte{0}),
		body(TagCut, 1),        // no length
		body(TagDescriptor, 3), // index below 16
		body(17, []byte{0x80}), // ts delta cut short
		body(16, 1),            // good
	)
	got := readAll(log, off, end, end)
	want := []string{
		`bad tag 0 ts 1000: bad tag`,
		`bad tag 1 ts 1000: bad dropped record`,
		`bad tag 1 ts 1000: dropped record: 1 bytes after its last field`,
		`bad tag 2 ts 1000: clock record cut short`,
		`bad tag 2 ts 1000: clock record: 1 bytes after its last field`,
		`bad tag 3 ts 1000: process record: bad ppid`,
		`bad tag 3 ts 1000: process record: 1 bytes after its last field`,
		`bad tag 3 ts 1000: process record: bad command line length`,
		`bad tag 4 ts 1000: text mark: bad path length`,
		`bad tag 4 ts 1000: text mark: 1 bytes after its last field`,
		`bad tag 5 ts 1000: cut record: bad length`,
		`bad tag 0 ts 1000: bad site index`,
		`bad tag 17 ts 1000: bad timestamp delta`,
		`log tag 16 ts 1001 data `,
		`end tag 0 ts 1001`,
	}
	for i := range got {
		got[i] = got[i][strings.IndexByte(got[i], ' ')+1:] // offsets aside
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("records (-want +got):\n%s", diff)
	}
}

// Framing ends a chunk's records: a zero length byte or the limit (end),
// a record cut off by the end of the data (truncated: the limit is before
// the chunk's end, or the file ends early), and impossible lengths
// (broken). Next stays at the end.
func TestReaderFraming(t *testing.T) {
	one, start, end := chunkOf(t, body(16, 1))
	two, _, _ := chunkOf(t, body(16, 1), body(16, 2))
	second := start + 3
	with := func(b []byte, at int64, p ...byte) []byte { b = bytes.Clone(b); copy(b[at:], p); return b }
	cases := []struct {
		name  string
		log   []byte
		limit int64
		want  string
	}{
		{"zero length byte", one, end, "end"},
		{"limit at a record boundary", two, second, "end"},
		{"limit inside a record", two, second + 1, "truncated: record cut off by the end of the data"},
		{"file ends inside a record", two[:second+1], end, "truncated: record cut off by the end of the data"},
		{"crosses the chunk's end", with(two, second, 255, 0x88, 0x13), end, "broken: the record crosses its chunk's end"},
		{"escaped length of zero", with(two, second, 255, 0, 0), end, "broken: escaped length of zero"},
	}
	for _, c := range cases {
		var rd Reader
		rd.Reset(bytes.NewReader(c.log), Cursor{Off: start, Log: -1}, c.limit, end)
		first := rd.Next()
		if first.Kind != KindLog {
			t.Fatalf("%s: first record %v", c.name, describe(first))
		}
		for i := 0; i < 2; i++ {
			r := rd.Next()
			got := r.Kind.String()
			if r.Err != nil {
				got += ": " + r.Err.Error()
			}
			if got != c.want || r.Offset != second {
				t.Errorf("%s (call %d): %s at %d, want %s at %d", c.name, i+1, got, r.Offset, c.want, second)
			}
		}
	}
}

type failingReader struct{}

func (failingReader) ReadAt([]byte, int64) (int, error) { return 0, errors.New("disk on fire") }

// An error of the underlying reader is a kind of its own, not damage.
func TestReaderIOError(t *testing.T) {
	var rd Reader
	rd.Reset(failingReader{}, Cursor{Off: HeaderSize + ChunkHeaderSize}, HeaderSize+Align, HeaderSize+Align)
	if r := rd.Next(); r.Kind != KindIOError || r.Err.Error() != "disk on fire" {
		t.Errorf("%v", describe(r))
	}
}

// NextLog takes exactly the records the careful path would return as
// short log records and leaves everything else to Next; reading may stop
// anywhere and go on from Pos with a new Reader.
func TestReaderFastPathAndResume(t *testing.T) {
	s := &fmtdb.Site{Level: 3, File: "a.c", Line: 1, Format: "%d %s\n", Args: []fmtdb.ArgSpec{{Class: fmtdb.ClassI32, BoundArg: -1}, {Class: fmtdb.ClassStr, BoundArg: -1}}}
	s.ID = fmtdb.SiteID(s)
	w := NewWriter(Header{FirstPID: 1}, 2*Align)
	th := w.Thread(1, 1)
	ts := uint64(1000)
	for i := range 300 {
		ts += uint64(i * i * 7 % 40000)
		th.Log(s, ts, 0, fmtdb.Int(int64(i)), fmtdb.String(strings.Repeat("x", i%300)))
		if i%50 == 0 {
			th.Clock(ts, ts)
			th.Dropped(1)
		}
	}
	log := w.Bytes(0)
	start, end := int64(HeaderSize+ChunkHeaderSize), int64(HeaderSize+2*Align)
	want := readAll(log, start, end, end)
	if len(want) < 100 {
		t.Fatalf("only %d records in the chunk", len(want))
	}
	var rd Reader
	rd.Reset(bytes.NewReader(log), Cursor{Off: start, TS: 1000, Log: -1}, end, end)
	var got []string
	fast := 0
	for {
		if tag, data, ts, at, size, ok := rd.NextLog(); ok {
			fast++
			got = append(got, describe(&Record{Kind: KindLog, Tag: tag, Data: data, TS: ts, Offset: at, Size: size}))
			continue
		}
		r := rd.Next()
		got = append(got, describe(r))
		if r.Kind.Ends() {
			break
		}
		if len(got)%7 == 0 { // stop and go on with a fresh Reader
			at := rd.Cursor()
			rd = Reader{}
			rd.Reset(bytes.NewReader(log), at, end, end)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("NextLog and Next against the careful path (-careful +both):\n%s", diff)
	}
	if fast == 0 {
		t.Errorf("NextLog took no record")
	}
}

// FuzzReader: any bytes as a chunk's record area are read to an end in
// at most one step per byte, without panicking, and NextLog with Next
// reads what the careful path (next) alone reads.
func FuzzReader(f *testing.F) {
	log, start, end := chunkOf(f, body(16, 1, []byte{1, 2}), body(TagCut, 0, 5), body(TagClock, 3, uint64(4)),
		body(TagProcess, 1, 2, uint64(3), 1, uint64(4), "x", "y"), body(TagTextMark, 1, 2, "p"), body(130, 200))
	f.Add(log[start:end])
	f.Add([]byte{255, 0x10, 0x00, 16})
	f.Add([]byte{3, 0x80, 0x80, 0x80})
	f.Fuzz(func(t *testing.T, area []byte) {
		src := bytes.NewReader(area)
		limit := int64(len(area))
		var a, b Reader
		a.Reset(src, Cursor{Log: -1}, limit, limit+1)
		b.Reset(src, Cursor{Log: -1}, limit, limit+1)
		for steps := 0; ; steps++ {
			if steps > len(area)+1 {
				t.Fatalf("no end after %d records in %d bytes", steps, len(area))
			}
			want := describe(a.next())
			var got string
			if tag, data, ts, at, size, ok := b.NextLog(); ok {
				got = describe(&Record{Kind: KindLog, Tag: tag, Data: data, TS: ts, Offset: at, Size: size})
			} else {
				got = describe(b.Next())
			}
			if got != want {
				t.Fatalf("record %d: NextLog/Next %s, next %s", steps, got, want)
			}
			if a.rec.Kind.Ends() {
				return
			}
		}
	})
}
