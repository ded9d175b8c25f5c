package decoder

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/logpack/logpack/fmtdb"
	"github.com/logpack/logpack/internal/logfile"
)

// line is one decoded record, identified by where it is in the file.
type line struct {
	off  int64
	end  int64
	idx  uint32
	raw  uint64 // the timestamp in the log's units
	ns   int64  // Record.TS
	pid  uint32
	text string // CRIU's timestamp and the message
}

// decodeLines decodes log and returns its records in output order and
// the skips. (Line prefixes are left out: a prefix site's records set
// them for other records, which the properties below do not cover.)
func decodeLines(t testing.TB, log []byte) ([]line, []Skip, *Decoder) {
	t.Helper()
	d, err := New(bytes.NewReader(log), int64(len(log)), nil)
	if err != nil {
		return nil, nil, nil
	}
	var out []line
	for r, err := range d.Records() {
		if err != nil {
			t.Fatalf("Records: %v", err)
		}
		text := r.AppendMessage(AppendCRIUTime(nil, r.TS))
		out = append(out, line{r.Offset, r.Offset + int64(r.Size), r.Index, r.raw, r.TS, r.PID, string(text)})
	}
	return out, d.Skipped(), d
}

// Cutting a log anywhere (a crash, a partial copy) loses exactly the
// records not complete before the cut, and those whose descriptor lies
// beyond it (descriptors may follow their first use, docs/FORMAT.md):
// the output is the full decode's other records, in the same order.
func TestTruncationProperty(t *testing.T) {
	for name, gen := range map[string]func() []byte{"features": featureLog, "mix": func() []byte { return writeMix(50, 4096) }} {
		t.Run(name, func(t *testing.T) {
			log := gen()
			full, skips, d := decodeLines(t, log)
			if len(skips) != 0 {
				t.Fatalf("full decode skipped: %v", skips)
			}
			dataEnd := int(d.Header().Tail)
			for cut := 0; cut <= dataEnd; cut++ {
				got, skips, _ := decodeLines(t, log[:cut])
				var want []line
				for _, l := range full {
					if l.end <= int64(cut) && d.descEnd[l.idx] <= int64(cut) {
						want = append(want, l)
					}
				}
				if !equalLines(got, want) {
					t.Fatalf("cut at %d: got %d records, want %d\ngot:  %v\nwant: %v", cut, len(got), len(want), got, want)
				}
				if cut >= logfile.HeaderSize && cut < dataEnd && len(skips) == 0 {
					t.Fatalf("cut at %d: no skip reported", cut)
				}
			}
		})
	}
}

// The same property on the real program's log, at a sample of cut points.
// Its timestamps are TSC ticks without a known frequency, converted
// through the calibration pairs present: a cut loses the pairs after it,
// and the clocks fitted through the pairs kept give every record its full
// decode's time within a pair's jitter (2 µs), the rate's error from the
// jitter at both ends of the kept pairs' span, and the clock's slew (1000
// ppm) over its distance from the last pair kept. (Records before that
// pair move by a few nanoseconds too: a process's fit is through all of
// its pairs.) Everything else must be identical.
func TestTruncationRealLog(t *testing.T) {
	log := realLog(t)
	full, _, d := decodeLines(t, log)
	for cut := logfile.HeaderSize - 1; cut <= len(log); cut += 509 {
		got, _, cd := decodeLines(t, log[:cut])
		var want []line
		for _, l := range full {
			if l.end <= int64(cut) && d.descEnd[l.idx] <= int64(cut) {
				want = append(want, l)
			}
		}
		if !equalLines(untimed(got), untimed(want)) {
			t.Fatalf("cut at %d: got %d records, want %d", cut, len(got), len(want))
		}
		var lastPair uint64
		var span int64 // ns between the first pair and the last
		if cd != nil {
			first := cd.hdr.StartTS
			for _, p := range cd.pairs {
				lastPair, first = max(lastPair, p.TS), min(first, p.TS)
			}
			span = cd.clock.NS(lastPair) - cd.clock.NS(first)
		}
		for i, g := range got {
			diff := g.ns - want[i].ns
			since := g.ns - cd.clock.NS(lastPair)
			if since < 0 {
				since = -since
			}
			if bound := 2000 + int64(4000*float64(since)/float64(max(span, 1))) + since/1000; diff < -bound || diff > bound {
				t.Errorf("cut at %d: record at offset %d, %d ns from the last pair kept (span %d): %d ns off", cut, g.off, since, span, diff)
			}
		}
	}
}

// untimed drops CRIU's timestamp prefix.
func untimed(ls []line) []line {
	out := make([]line, len(ls))
	for i, l := range ls {
		if len(l.text) > 0 && l.text[0] == '(' {
			if j := bytes.IndexByte([]byte(l.text), ' '); j > 0 {
				l.text = l.text[j+1:]
			}
		}
		l.ns = 0
		out[i] = l
	}
	return out
}

func equalLines(a, b []line) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// A flipped byte in a chunk damages at most that chunk's records and the
// records whose descriptor it holds; every other record decodes as before.
// (A flipped argument byte can still decode as another valid value: the
// format has no per-record check.)
func TestFlippedBytes(t *testing.T) {
	log := writeMix(150, 4096)
	full, _, d := decodeLines(t, log)
	chunkOf := func(off int64) int64 { return off &^ (logfile.Align - 1) } // chunks are one Align here
	descChunk := map[uint32]int64{}
	for idx, end := range d.descEnd {
		descChunk[idx] = chunkOf(end - 1)
	}
	for pos := logfile.HeaderSize; pos < int(d.Header().Tail); pos += 11 {
		for _, mask := range []byte{0x01, 0x80, 0xff} {
			bad := bytes.Clone(log)
			bad[pos] ^= mask
			got, _, d2 := decodeLines(t, bad)
			have := map[int64]string{}
			for _, l := range got {
				have[l.off] = l.text
			}
			damaged := chunkOf(int64(pos))
			for _, l := range full {
				if chunkOf(l.off) == damaged || descChunk[l.idx] == damaged {
					continue
				}
				if why := d2.bad[l.idx]; isConflict(why) {
					// The flip moved a descriptor to this record's index:
					// the decoder refuses both rather than guess.
					continue
				}
				if have[l.off] != l.text {
					t.Fatalf("byte %d ^ %#x: record at %d: got %q, want %q", pos, mask, l.off, have[l.off], l.text)
				}
			}
		}
	}
}

// Damage is reported with its offset and the rest still decodes.
func TestDamageReports(t *testing.T) {
	w := newLog(1)
	a := w.Thread(1, 1)
	a.Log(siteHello, 2000, 0, fmtdb.Int(1))
	b := w.Thread(1, 2)
	b.Log(siteHello, 3000, 0, fmtdb.Int(2))
	a.LogIndex(9999, false, 4000, 0, fmtdb.Int(3)) // never described
	log := w.Bytes(0)
	// Break the second chunk's header check.
	log[4096+4096+33] ^= 0xff
	out, skips := decodeAll(t, log, FormatPlain, nil)
	if out != "hello 1\n" {
		t.Errorf("output %q, want only the first record", out)
	}
	want := []string{
		"offset 8192: bad chunk header: check ",
		"offset 41", // in the first chunk, after the record of "hello 1"
	}
	if len(skips) != len(want) {
		t.Fatalf("skips %v, want %d", skips, len(want))
	}
	for i, s := range skips {
		if got := s.String(); !bytes.HasPrefix([]byte(got), []byte(want[i])) {
			t.Errorf("skip %d: %q, want prefix %q", i, got, want[i])
		}
	}
	if skips[1].Kind != SkipUnknownSite || skips[1].Detail != "index 9999: no descriptor for it in the log" {
		t.Errorf("skip 1: %v", skips[1])
	}
}

// Headers that are not logs, or not this version, are refused with the
// offset of the problem.
func TestHeaderErrors(t *testing.T) {
	good := newLog(1).Bytes(0)
	cases := []struct {
		name string
		log  []byte
		want string
	}{
		{"empty", nil, "not a logpack log: empty file"},
		{"text", []byte("(00.000000) CRIU run\n"), `not a logpack log: offset 0: magic "(00.0000", want "LOGPACK\n"`},
		{"short", good[:100], "offset 100: file header cut short: 100 of 4096 bytes"},
		{"version 1", func() []byte { b := bytes.Clone(good); b[8] = 1; return b }(), "offset 8: log format version 1, this decoder reads version 2 (an older logpack wrote it: decode it with that version)"},
		{"version 3", func() []byte { b := bytes.Clone(good); b[8] = 3; return b }(), "offset 8: log format version 3, this decoder reads version 2 (a newer logpack wrote it)"},
		{"check", func() []byte { b := bytes.Clone(good); b[20] ^= 1; return b }(), "offset 60: header check"},
	}
	for _, c := range cases {
		_, err := New(bytes.NewReader(c.log), int64(len(c.log)), nil)
		if err == nil || !bytes.HasPrefix([]byte(err.Error()), []byte(c.want)) {
			t.Errorf("%s: error %v, want prefix %q", c.name, err, c.want)
		}
	}
}

// Hostile length and count fields neither allocate by their value nor
// hang: a chunk claiming 4 GiB, a string claiming 2^60 bytes, a site index
// of 2^32-1, a descriptor with 255 arguments, huge widths.
func TestHostileFields(t *testing.T) {
	w := newLog(1)
	th := w.Thread(1, 1)
	th.Log(siteHello, 2000, 0, fmtdb.Int(1))
	th.Raw(2000, binary.AppendUvarint(binary.AppendUvarint(binary.AppendUvarint(nil, 17), 0), 1<<60)) // siteMount: str of 2^60
	th.Raw(2000, binary.AppendUvarint(binary.AppendUvarint(nil, 1<<32-1), 0))
	wide := site(3, "w.c", 1, "%1000000d%1000000d\n", fmtdb.ClassI32, fmtdb.ClassI32)
	th.Log(wide, 2100, 0, fmtdb.Int(1), fmtdb.Int(2))
	star := site(3, "s.c", 1, "%*d\n", fmtdb.ClassI32, fmtdb.ClassI32)
	th.Log(star, 2200, 0, fmtdb.Int(1<<30), fmtdb.Int(2))
	th.Log(siteHello, 2300, 0, fmtdb.Int(2))
	log := w.Bytes(0)
	// A second chunk whose header says 4 GiB - 4096 with a valid check.
	ch := logfile.ChunkHeader{Size: 1<<32 - 4096, PID: 1, TID: 3, BaseTS: 3000}
	log = append(ch.Append(log), 0)
	binary.LittleEndian.PutUint64(log[72:], uint64(len(log))+1<<40) // tail far beyond the file
	var allocs float64
	var out string
	allocs = testing.AllocsPerRun(1, func() { out, _ = decodeAll(t, log, FormatPlain, nil) })
	if out != "hello 1\nhello 2\n" {
		t.Errorf("output %q", out)
	}
	_ = allocs
}

// A string's precision only cuts it: "%.*s" of a large buffer (its size,
// 2 MiB, as the precision: over fmtdb.MaxAmount, the bound of other '*'
// amounts) and a constant "%.70000s" render as printf does, while widths
// and numeric precisions still count against fmtdb.MaxPadding.
func TestLargeStringPrecision(t *testing.T) {
	parsed := func(file, format string) *fmtdb.Site {
		f, err := fmtdb.Parse(format)
		if err != nil {
			t.Fatal(err)
		}
		s := &fmtdb.Site{Level: 3, File: file, Line: 1, Func: "fn", Format: format, Args: f.Args}
		s.ID = fmtdb.SiteID(s)
		return s
	}
	w := newLog(1)
	th := w.Thread(1, 1)
	th.Log(parsed("b.c", "buf: %.*s|\n"), 2000, 0, fmtdb.Int(2<<20), fmtdb.String("hello"))
	th.Log(parsed("c.c", "cut: %.70000s|%.3s|\n"), 2100, 0, fmtdb.String("world"), fmtdb.String("abcdef"))
	th.Log(parsed("z.c", "%.*d\n"), 2200, 0, fmtdb.Int(1<<20), fmtdb.Int(7))
	out, skips := decodeAll(t, w.Bytes(0), FormatPlain, nil)
	if out != "buf: hello|\ncut: world|abc|\n" {
		t.Errorf("output %q", out)
	}
	if len(skips) != 1 || !strings.Contains(skips[0].Detail, "widths and precisions add up") {
		t.Errorf("skips %v, want the %%.*d of 1 MiB", skips)
	}
}

// Empty and garbage inputs fail or decode nothing, without panicking.
func TestGarbage(t *testing.T) {
	for _, n := range []int{0, 1, 8, 4095, 4096, 4097, 10000} {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(i*131 + n)
		}
		if n >= 8 {
			copy(b, logfile.Magic)
		}
		d, err := New(bytes.NewReader(b), int64(n), nil)
		if err == nil {
			for range d.Records() {
			}
		}
	}
}

// FuzzDecode feeds arbitrary bytes to the whole decoder as the chunk area
// of a log (after a valid header, whose check would otherwise stop almost
// every mutation): it must never panic or hang, everything it renders
// must come from a known site, and a thread's times must not go back
// where its ticks do not. Seeds: valid logs, truncated and corrupted
// ones.
func FuzzDecode(f *testing.F) {
	small := func() []byte {
		w := newLog(1)
		a, b := w.Thread(1, 1), w.Thread(2, 2)
		a.Log(siteHello, 2000, 0, fmtdb.Int(-1))
		b.Log(siteMount, 2100, 0, fmtdb.String("/x"), fmtdb.Uint(16))
		a.Log(siteDyn, 2200, 2, fmtdb.Uint(3))
		b.Log(siteErr, 2300, 0, fmtdb.String("f.c"), fmtdb.Int(1), fmtdb.Int(2), fmtdb.Errno(5))
		a.Clock(2400, 2400)
		a.Dropped(1)
		return w.Bytes(0)
	}
	seeds := [][]byte{small(), featureLog()[:4*4096], writeMix(40, 4096), realLog(f)[:3*4096]}
	for _, log := range seeds {
		body := log[logfile.HeaderSize:]
		f.Add(body)
		f.Add(body[:len(body)/2])
		f.Add(body[:100])
		bad := bytes.Clone(body)
		for i := 40; i < len(bad); i += 97 {
			bad[i] ^= 0x5a
		}
		f.Add(bad)
	}
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, body []byte) {
		countExec()
		// The fuzzer does not notice a hang; a crash it records.
		watchdog := time.AfterFunc(20*time.Second, func() { panic("decoding took over 20 s") })
		defer watchdog.Stop()
		h := logfile.Header{FirstPID: 1, StartTS: 1000, Tail: uint64(logfile.HeaderSize + len(body))}
		if len(body) > 0 {
			h.TSKind = uint32(body[len(body)-1] & 1)
		}
		data := append(h.Append(nil), body...)
		d, err := New(bytes.NewReader(data), int64(len(data)), &Options{Force: len(body)%3 == 0})
		if err != nil {
			t.Fatalf("valid header refused: %v", err)
		}
		w := NewWriter(io.Discard, Format(len(body)%3), &WriterOptions{Redact: NewRedactor()})
		type stamp struct {
			raw uint64
			ns  int64
		}
		last := map[[2]uint32]stamp{}
		for r, err := range d.Records() {
			if err != nil {
				t.Fatal(err)
			}
			if r.Site == nil || d.site(uint64(r.Index)) != r.Site {
				t.Fatalf("record at %d rendered with a site its index does not name", r.Offset)
			}
			if r.Proc == nil || r.Proc.Session == nil || r.Proc.PID != r.PID {
				t.Fatalf("record at %d: pid %d, process %+v", r.Offset, r.PID, r.Proc)
			}
			// Ticks that do not go back convert to times that do not
			// (short of distances whose nanoseconds overflow).
			th := [2]uint32{r.PID, r.TID}
			if p, ok := last[th]; ok && r.raw >= p.raw && r.TS < p.ns && r.raw-p.raw < 1<<52 {
				t.Fatalf("record at %d: tick %d after %d, but %d ns after %d", r.Offset, r.raw, p.raw, r.TS, p.ns)
			}
			last[th] = stamp{r.raw, r.TS}
			// Redaction renders through the site's format as written:
			// given the printed strings themselves, that is the message.
			if x := newRedaction(r.Site); x.f != nil {
				same := x.f.Append(nil, x.values(nil, r.Args, func(b []byte) []byte { return b }))
				if msg := r.AppendMessage(nil); !bytes.Equal(same, msg) {
					t.Fatalf("record at %d: rendered for redaction %q, message %q", r.Offset, same, msg)
				}
			}
			w.WriteRecord(r)
		}
		w.Flush()
		if _, err := d.Stats(); err != nil {
			t.Fatal(err)
		}
		// WriteRecords (plans, parts) writes what Records and
		// WriteRecord write, and reports the same damage.
		for _, par := range []bool{false, true} {
			a, b, sa, sb, _ := decodeEach(t, data, Format(len(body)%3), nil, par)
			byText := func(x, y Skip) int { return strings.Compare(x.String(), y.String()) }
			slices.SortFunc(sa, byText)
			slices.SortFunc(sb, byText)
			if a != b || !slices.Equal(sa, sb) {
				t.Fatalf("parallel %v: WriteRecords wrote %d bytes and %d skips, Records %d and %d", par, len(b), len(sb), len(a), len(sa))
			}
		}
	})
}

// countExec writes the number of fuzz executions of this process to the
// file named by $LOGPACK_FUZZ_COUNT every 10000 runs (go test's own
// counter is only updated when a worker reports back).
func countExec() {
	if n := fuzzExecs.Add(1); n%10000 == 0 {
		if p := os.Getenv("LOGPACK_FUZZ_COUNT"); p != "" {
			os.WriteFile(p, []byte(strconv.FormatInt(n, 10)+"\n"), 0o644)
		}
	}
}

var fuzzExecs atomic.Int64

// FuzzHeader feeds arbitrary whole files: the header parser and what
// follows must refuse or decode them without panicking.
func FuzzHeader(f *testing.F) {
	log := featureLog()
	f.Add(log[:logfile.HeaderSize+200])
	f.Add([]byte(logfile.Magic))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := New(bytes.NewReader(data), int64(len(data)), nil)
		if err != nil {
			return
		}
		for range d.Records() {
		}
	})
}

var _ = fmt.Sprint

// Space that writers claimed but never wrote (a writer killed between its
// claim and its chunk header, or claims that overshot a full log) is zero
// and is not damage.
func TestUnusedSpace(t *testing.T) {
	w := newLog(1)
	a := w.Thread(1, 1)
	a.Log(siteHello, 2000, 0, fmtdb.Int(1))
	log := w.Bytes(4096) // a claimed, unwritten chunk
	b := logfile.ChunkHeader{Size: 4096, PID: 1, TID: 2, BaseTS: 2500}
	log = append(b.Append(log), append([]byte{3}, binary.AppendUvarint(binary.AppendUvarint([]byte{16}, 0), logfile.ZigzagEncode(2))...)...)
	log = append(log, make([]byte, 4096-logfile.ChunkHeaderSize-4)...)
	// The tail ran 3 chunks past the end of the file, the capacity did not.
	binary.LittleEndian.PutUint64(log[72:], uint64(len(log)+3*4096))
	binary.LittleEndian.PutUint64(log[80:], uint64(len(log)))
	out, skips := decodeAll(t, log, FormatPlain, nil)
	if out != "hello 1\nhello 2\n" || len(skips) != 0 {
		t.Errorf("out %q skips %v", out, skips)
	}
}

// Walking chunks' leading log records on several CPUs ahead of the index
// pass changes nothing it finds: on whole, cut and damaged logs, records,
// skips and processes are those of the index pass on one CPU, whatever
// the batch.
func TestScanAheadFindsTheSame(t *testing.T) {
	defer func(b int, m int64) { scanBatch, scanAheadMin = b, m }(scanBatch, scanAheadMin)
	var logs [][]byte
	for _, log := range [][]byte{featureLog(), writeMix(2000, 4096), writeMix(6000, 64<<10)} {
		logs = append(logs, log)
		for _, cut := range []int{len(log) / 3, len(log)/2 + 7, len(log) - 5} {
			logs = append(logs, log[:cut])
		}
		for pos := logfile.HeaderSize + 3; pos < len(log); pos += len(log) / 4 {
			bad := bytes.Clone(log)
			bad[pos] ^= 0xff
			logs = append(logs, bad)
		}
	}
	type decoded struct {
		Lines []line
		Skips []Skip
		Procs []string
	}
	decode := func(log []byte) decoded {
		lines, skips, d := decodeLines(t, log)
		var procs []string
		if d != nil {
			for _, p := range d.Processes() {
				procs = append(procs, fmt.Sprintf("%d@%d:%d", p.PID, p.Offset, p.Records))
			}
		}
		return decoded{lines, skips, procs}
	}
	for i, log := range logs {
		scanAheadMin = math.MaxInt64
		want := decode(log)
		for _, batch := range []int{1, 2, 5, 64} {
			scanBatch, scanAheadMin = batch, 0
			if diff := cmp.Diff(want, decode(log), cmp.AllowUnexported(line{})); diff != "" {
				t.Fatalf("log %d, batches of %d: walking ahead changed (-one CPU +ahead):\n%s", i, batch, diff)
			}
		}
	}
}
