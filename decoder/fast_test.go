package decoder

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/logpack/logpack/fmtdb"
	"github.com/logpack/logpack/internal/logfile"
)

// randomDirective returns a printf directive and the class of its
// argument, covering what a plan renders itself and what it hands to
// fmtdb: flags, widths, precisions, lengths, every conversion the
// rewriter records.
func randomDirective(rng *rand.Rand) (string, fmtdb.Class) {
	var d strings.Builder
	d.WriteByte('%')
	if rng.IntN(3) == 0 {
		for range 1 + rng.IntN(2) {
			d.WriteByte("-+ #0"[rng.IntN(5)])
		}
	}
	if rng.IntN(4) == 0 {
		fmt.Fprintf(&d, "%d", rng.IntN(20))
	}
	prec := rng.IntN(5) == 0
	if prec {
		fmt.Fprintf(&d, ".%d", rng.IntN(12))
	}
	switch k := rng.IntN(12); k {
	case 0, 1:
		d.WriteString([]string{"d", "i"}[k])
		return d.String(), fmtdb.ClassI32
	case 2:
		d.WriteString([]string{"ld", "lld", "li", "zd", "jd"}[rng.IntN(5)])
		return d.String(), fmtdb.ClassI64
	case 3:
		d.WriteString([]string{"u", "x", "X", "o"}[rng.IntN(4)])
		return d.String(), fmtdb.ClassU32
	case 4:
		d.WriteString([]string{"lu", "lx", "llu", "zx", "lX", "lo", "zu"}[rng.IntN(7)])
		return d.String(), fmtdb.ClassU64
	case 5:
		d.WriteString("c")
		return d.String(), fmtdb.ClassI32
	case 6, 7:
		d.WriteString("s")
		if prec {
			return d.String(), fmtdb.ClassStrMax
		}
		return d.String(), fmtdb.ClassStr
	case 8:
		d.WriteString("p")
		return d.String(), fmtdb.ClassPtr
	case 9:
		return "%m", fmtdb.ClassErrno
	case 10:
		d.WriteString([]string{"hd", "hhd", "hu"}[rng.IntN(3)])
		return d.String(), fmtdb.ClassI32
	default:
		d.WriteString([]string{"f", "g", "e", "a"}[rng.IntN(4)])
		return d.String(), fmtdb.ClassF64
	}
}

func randomValue(rng *rand.Rand, c fmtdb.Class) fmtdb.Value {
	switch c {
	case fmtdb.ClassI32:
		return fmtdb.Int(int64(int32(rng.Uint32() >> uint(rng.IntN(32)))))
	case fmtdb.ClassI64:
		return fmtdb.Int(int64(rng.Uint64() >> uint(rng.IntN(64))))
	case fmtdb.ClassU32:
		return fmtdb.Uint(uint64(rng.Uint32() >> uint(rng.IntN(32))))
	case fmtdb.ClassU64, fmtdb.ClassPtr:
		v := fmtdb.Uint(rng.Uint64() >> uint(rng.IntN(64)))
		if c == fmtdb.ClassPtr {
			v.Kind = fmtdb.KindPtr
		}
		return v
	case fmtdb.ClassStr, fmtdb.ClassStrMax:
		if rng.IntN(8) == 0 {
			return fmtdb.Null()
		}
		return fmtdb.String([]string{"", "a", "string1", "ünïcödé", "nul\x00after", strings.Repeat("x", 300)}[rng.IntN(6)])
	case fmtdb.ClassErrno:
		return fmtdb.Errno(int64(rng.IntN(140) - 3))
	case fmtdb.ClassF64:
		return fmtdb.Value{Kind: fmtdb.KindF64, Bits: math.Float64bits(rng.NormFloat64() * math.Pow(10, float64(rng.IntN(20)-10)))}
	}
	return fmtdb.Value{}
}

// Differential: a site's plan renders a record's encoded arguments byte
// for byte as fmtdb renders the decoded ones (fmtdb is checked against
// glibc); and it refuses every encoding that decoding refuses, rendering
// nothing of it.
func TestPlanRendersAsFmtdb(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	planned := 0
	for range 3000 {
		var f strings.Builder
		s := &fmtdb.Site{Level: 3, File: "p.c", Line: 1}
		for range 1 + rng.IntN(6) {
			f.WriteString([]string{"", "x", "ab ", "%%", "[", "] ", "ü"}[rng.IntN(7)])
			d, c := randomDirective(rng)
			f.WriteString(d)
			s.Args = append(s.Args, fmtdb.ArgSpec{Class: c, BoundArg: -1})
		}
		f.WriteString([]string{"", "\n", " end\n"}[rng.IntN(3)])
		s.Format = f.String()
		parsed, err := fmtdb.Parse(s.Format)
		if err != nil {
			t.Fatalf("%q: %v", s.Format, err)
		}
		copy(s.Args, parsed.Args) // what the format reads (e.g. %.3s is strmax:3)
		m := compile(s)
		if m.err != nil {
			continue
		}
		pl := newPlan(&m, s)
		if pl == nil {
			continue
		}
		planned++
		for range 5 {
			var vals []fmtdb.Value
			var enc []byte
			for _, a := range s.Args {
				v := randomValue(rng, a.Class)
				if a.Class == fmtdb.ClassStrMax && v.Kind == fmtdb.KindStr && len(v.Str) > a.Bound {
					v.Str = v.Str[:a.Bound] // the writer copies at most the bound
				}
				vals = append(vals, v)
				enc = logfile.AppendArg(enc, v)
			}
			want := string(m.append(nil, vals))
			got, ok := pl.render([]byte("prefix:"), enc)
			if !ok || string(got) != "prefix:"+want {
				t.Fatalf("%q %v: plan %q (%v), fmtdb %q", s.Format, vals, got, ok, want)
			}
			// Damage: every cut of the encoding, and a byte more.
			for _, bad := range [][]byte{enc[:rng.IntN(len(enc)+1)], append(bytes.Clone(enc), 0)} {
				dec, n, derr := logfile.DecodeArgs(bad, s.Args, nil)
				got, ok := pl.render([]byte("prefix:"), bad)
				decodes := derr == nil && n == len(bad)
				if ok != decodes || !ok && string(got) != "prefix:" || ok && string(got) != "prefix:"+string(m.append(nil, dec)) {
					t.Fatalf("%q, encoding % x: plan %q (%v), decoding %v", s.Format, bad, got, ok, derr)
				}
			}
		}
	}
	if planned < 1000 {
		t.Errorf("only %d of the random sites have a plan", planned)
	}
}

// decodeEach renders a log through Records and WriteRecord, and through
// WriteRecords, in parallel (on at least two CPUs, in parts of 7 records)
// or not, and returns both with the skips, and how many sessions
// WriteRecords read in parts.
func decodeEach(t *testing.T, log []byte, f Format, filter *Filter, parallel bool) (viaRecords, viaWrite string, skipsA, skipsB []Skip, inParts int) {
	t.Helper()
	if parallel {
		defer inParts7()()
	}
	d, err := newDecoder(log)
	if err != nil {
		t.Fatal(err)
	}
	var a, b bytes.Buffer
	wa := NewWriter(&a, f, nil)
	for r, err := range d.Records() {
		if err != nil {
			t.Fatal(err)
		}
		if filter.Keep(r) {
			wa.WriteRecord(r)
		}
	}
	wa.Flush()
	skipsA = append(skipsA, d.Skipped()...)
	d2, _ := newDecoder(log)
	wb := NewWriter(&b, f, nil)
	for _, s := range d2.Sessions() {
		if d2.parallel(wb, s) > 0 {
			inParts++
		}
	}
	if err := d2.WriteRecords(wb, filter, nil); err != nil {
		t.Fatal(err)
	}
	wb.Flush()
	return a.String(), b.String(), skipsA, d2.Skipped(), inParts
}

// WriteRecords, sequential or in parallel parts, writes exactly what a
// loop over Records writes, in every format and with filters, damage
// reported the same, for logs of many processes, threads and sessions.
func TestWriteRecordsAsRecords(t *testing.T) {
	logs := map[string][]byte{"mix": writeMix(5000, 4096), "features": featureLog(), "prefixes": prefixLog(), "criu-like": realLog(t)}
	damaged := writeMix(3000, 4096)
	rng := rand.New(rand.NewPCG(5, 6))
	for range 40 {
		damaged[logfile.HeaderSize+rng.IntN(len(damaged)-logfile.HeaderSize)] ^= byte(1 + rng.IntN(255))
	}
	logs["damaged"] = damaged
	lvl := NewFilter()
	lvl.MaxLevel = 3
	pid := NewFilter()
	pid.PIDs = []uint32{4002, 200}
	for name, log := range logs {
		for _, f := range []Format{FormatPlain, FormatCRIU, FormatJSON} {
			for _, filter := range []*Filter{nil, lvl, pid} {
				for _, par := range []bool{false, true} {
					a, b, sa, sb, inParts := decodeEach(t, log, f, filter, par)
					if par && name == "mix" && inParts == 0 {
						t.Errorf("%s, %v, filter %v: no session was read in parts", name, f, filter)
					}
					if name == "prefixes" && inParts != 0 {
						// (the parts would share the processes' prefixes)
						t.Errorf("%s, %v, filter %v: a log with prefix sites was read in parts", name, f, filter)
					}
					if a != b {
						t.Errorf("%s, %v, filter %v, parallel %v: outputs differ (%d and %d bytes)", name, f, filter, par, len(a), len(b))
					}
					// The same damage is reported, in an order that may
					// differ (a record's damage shows when it is written,
					// not when its thread is read ahead).
					byOffset := func(a, b Skip) int { return cmp.Compare(a.String(), b.String()) }
					slices.SortFunc(sa, byOffset)
					slices.SortFunc(sb, byOffset)
					if !slices.Equal(sa, sb) {
						t.Errorf("%s, %v, filter %v, parallel %v: %d and %d skips, not the same", name, f, filter, par, len(sa), len(sb))
					}
				}
			}
		}
	}
}

// appendUint and appendLowerHex write what strconv writes.
func TestAppendDigits(t *testing.T) {
	xs := []uint64{math.MaxUint64, math.MaxUint64 - 1, 1 << 63}
	for x := uint64(0); x < 20000; x++ {
		xs = append(xs, x)
	}
	for p := uint64(10); p < math.MaxUint64/10; p *= 10 {
		xs = append(xs, p-1, p, p+1)
	}
	rng := rand.New(rand.NewPCG(8, 9))
	for range 100000 {
		xs = append(xs, rng.Uint64()>>uint(rng.IntN(64)))
	}
	for _, x := range xs {
		if got, want := string(appendUint([]byte("x"), x)), "x"+strconv.FormatUint(x, 10); got != want {
			t.Fatalf("appendUint(%d) = %q", x, got)
		}
		if got, want := string(appendLowerHex(nil, x)), strconv.FormatUint(x, 16); got != want {
			t.Fatalf("appendLowerHex(%d) = %q", x, got)
		}
	}
}

// inParts7 makes WriteRecords read every session in parts of 7 records,
// on at least two CPUs, until the function it returns is called.
func inParts7() (restore func()) {
	m, p, c, procs := parallelMin, partRecords, partChunks, runtime.GOMAXPROCS(0)
	parallelMin, partRecords, partChunks = 1, 7, 0
	runtime.GOMAXPROCS(max(2, procs))
	return func() {
		parallelMin, partRecords, partChunks = m, p, c
		runtime.GOMAXPROCS(procs)
	}
}

// failingWriter fails every write, counting them.
type failingWriter struct{ writes int }

func (f *failingWriter) Write(p []byte) (int, error) {
	f.writes++
	return 0, errors.New("disk full")
}

// A write error ends WriteRecords at once, sequential or in parts, as it
// ends a loop over Records calling WriteRecord.
func TestWriteRecordsStopsOnWriteError(t *testing.T) {
	log := writeMix(20000, 4096)
	for _, par := range []bool{false, true} {
		func() {
			if par {
				defer inParts7()()
			}
			d, err := newDecoder(log)
			if err != nil {
				t.Fatal(err)
			}
			fw := &failingWriter{}
			err = d.WriteRecords(NewWriter(fw, FormatPlain, nil), nil, nil)
			if err == nil || !strings.Contains(err.Error(), "disk full") {
				t.Errorf("parallel %v: WriteRecords returned %v, want the write error", par, err)
			}
			if fw.writes > 1 {
				t.Errorf("parallel %v: %d writes after the first failed", par, fw.writes-1)
			}
		}()
	}
}

// Parts of a session read in parallel span at least a chunk of each
// thread writing at the same time (each part starts every such thread's
// chunk from its start: shorter parts read chunks several times): every
// part but the last holds a chunk start of each thread. A session with so
// many threads writing at once that its parts would exceed
// maxPartRecords is read sequentially.
func TestPartsSpanAChunkOfEachThread(t *testing.T) {
	procs := runtime.GOMAXPROCS(max(2, runtime.GOMAXPROCS(0)))
	defer runtime.GOMAXPROCS(procs)
	for _, threads := range []int{1, 8, 512} {
		w := logfile.NewWriter(logfile.Header{FirstPID: 4000, StartTS: 5_000_000, StartMonoNS: 5_000_000}, 64<<10)
		var ths []*logfile.Thread
		for i := range threads {
			ths = append(ths, w.Thread(4000, uint32(4000+i)))
		}
		start(ths[0], 5_000_100, session, 1, logfile.ProcStarted, "/usr/bin/x")
		for i := range parallelMin + 1000 {
			ths[i%threads].Log(siteMount, uint64(5_001_000+i*100), 0, fmtdb.String("/some/path"), fmtdb.Uint(uint64(i)*4096))
		}
		d, err := newDecoder(w.Bytes(0))
		if err != nil {
			t.Fatal(err)
		}
		s := d.Sessions()[0]
		size := d.parallel(NewWriter(io.Discard, FormatPlain, nil), s)
		if threads == 512 {
			if size != 0 {
				t.Errorf("512 threads: parts of %d records, want sequential", size)
			}
			continue
		}
		if size == 0 {
			t.Fatalf("%d threads: read sequentially", threads)
		}
		bounds := d.partBounds(s, size)
		if len(bounds) < 2 {
			t.Fatalf("%d threads: %d parts", threads, len(bounds)+1)
		}
		for i := 0; i+1 < len(bounds); i++ {
			for _, st := range s.streams {
				if !slices.ContainsFunc(st.chunks, func(c chunk) bool { return c.at.TS >= bounds[i] && c.at.TS < bounds[i+1] }) {
					t.Fatalf("%d threads: part %d has no chunk start of thread %d", threads, i+1, st.tid)
				}
			}
		}
	}
}
