package decoder

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/logpack/logpack/fmtdb"
	"github.com/logpack/logpack/internal/logfile"
)

// cpuTime is the process's user+system CPU time: on a shared machine it
// measures one core's work better than the wall clock.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkDecodePlain decodes a CRIU-like log to io.Discard in plain
// format as logpack decode does (WriteRecords; on one CPU, the log being
// too small to be read in parallel); records/s is the figure the design
// targets (>= 10 M/s).
func BenchmarkDecodePlain(b *testing.B) {
	const n = 200_000
	log := writeMix(n, 64<<10)
	b.SetBytes(int64(len(log)))
	b.ReportAllocs()
	d, err := New(bytes.NewReader(log), int64(len(log)), nil)
	if err != nil {
		b.Fatal(err)
	}
	w := NewWriter(io.Discard, FormatPlain, nil)
	cpu0 := cpuTime()
	for b.Loop() {
		if err := d.WriteRecords(w, nil, nil); err != nil {
			b.Fatal(err)
		}
		w.Flush()
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds()/1e6, "Mrec/s")
	b.ReportMetric(float64(n*b.N)/(cpuTime()-cpu0).Seconds()/1e6, "Mrec/cpu-s")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkRender renders the same log through Records and WriteRecord:
// arguments decoded into Values, then rendered by fmtdb.
func BenchmarkRender(b *testing.B) {
	const n = 200_000
	log := writeMix(n, 64<<10)
	d, err := New(bytes.NewReader(log), int64(len(log)), nil)
	if err != nil {
		b.Fatal(err)
	}
	w := NewWriter(io.Discard, FormatPlain, nil)
	cpu0 := cpuTime()
	for b.Loop() {
		for r, err := range d.Records() {
			if err != nil {
				b.Fatal(err)
			}
			w.WriteRecord(r)
		}
		w.Flush()
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds()/1e6, "Mrec/s")
	b.ReportMetric(float64(n*b.N)/(cpuTime()-cpu0).Seconds()/1e6, "Mrec/cpu-s")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkOpen measures the index pass (chunk headers, descriptors).
func BenchmarkOpen(b *testing.B) {
	log := writeMix(200_000, 64<<10)
	b.SetBytes(int64(len(log)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := New(bytes.NewReader(log), int64(len(log)), nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOpenTimeNamespace opens a log of CLOCK_MONOTONIC times where
// a child in a time namespace 5 s behind claimed 20,000 chunks, 10,000
// in a row between two of its parent's (namespaceLog): placing its clock
// goes over its runs of chunks, not over a run again for each chunk.
func BenchmarkOpenTimeNamespace(b *testing.B) {
	log := namespaceLog(20_000, -5_000_000_000)
	b.SetBytes(int64(len(log)))
	for b.Loop() {
		d, err := New(bytes.NewReader(log), int64(len(log)), nil)
		if err != nil {
			b.Fatal(err)
		}
		if len(d.ClockNotes()) != 1 {
			b.Fatalf("notes %v", d.ClockNotes())
		}
	}
}

// BenchmarkOpenAfterExec opens a log where a program exec'd another (one
// pid, two processes of one session) that then claimed 20,000 chunks:
// whose each chunk is comes from the thread's latest chunk of each of
// the two, found as the thread's chunks are gone through, not by going
// back over them for each chunk.
func BenchmarkOpenAfterExec(b *testing.B) {
	w := newLog(100)
	th := w.Thread(100, 100)
	start(th, 2000, 0xaaaa, 1, logfile.ProcStarted, "/usr/sbin/criu", "criu", "swrk")
	th.Log(siteHello, 2100, 0, fmtdb.Int(1))
	th.Process(2200, logfile.Process{PPID: 1, Session: 0xaaaa, Flags: logfile.ProcExec, Exe: []byte("/usr/sbin/criu-helper")})
	for i := range 20_000 {
		ts := uint64(3000 + i*100)
		th.Log(siteHello, ts, 0, fmtdb.Int(int64(i)))
		th.Claim(ts + 50)
	}
	log := w.Bytes(0)
	b.SetBytes(int64(len(log)))
	for b.Loop() {
		d, err := New(bytes.NewReader(log), int64(len(log)), nil)
		if err != nil {
			b.Fatal(err)
		}
		if ps := d.Processes(); len(ps) != 2 || ps[0].Records != 1 || ps[1].Records != 20_000 {
			b.Fatalf("processes %+v", ps)
		}
	}
}

// BenchmarkRecords iterates the records without rendering them: the
// reader's own cost.
func BenchmarkRecords(b *testing.B) {
	const n = 200_000
	log := writeMix(n, 64<<10)
	d, err := New(bytes.NewReader(log), int64(len(log)), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	cpu0 := cpuTime()
	for b.Loop() {
		for _, err := range d.Records() {
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds()/1e6, "Mrec/s")
	b.ReportMetric(float64(n*b.N)/(cpuTime()-cpu0).Seconds()/1e6, "Mrec/cpu-s")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkFollowIdlePoll is one poll of decode --follow on a log that
// has stopped growing, after it has read it all (TSC timestamps, 4
// threads, 5,000 chunks): a look at the file and its open chunks, not a
// new fit of the clock over every calibration pair it has seen.
func BenchmarkFollowIdlePoll(b *testing.B) {
	w := logfile.NewWriter(logfile.Header{FirstPID: 100, TSKind: logfile.TSTSC, StartTS: 1000, StartMonoNS: 5000}, 4096)
	var threads []*logfile.Thread
	for i := range 4 {
		th := w.Thread(100, uint32(100+i))
		th.Mono = func(ts uint64) uint64 { return 5000 + (ts-1000)/3 }
		threads = append(threads, th)
	}
	start(threads[0], 1000, session, 1, logfile.ProcStarted, "/usr/sbin/criu")
	for i := range 300_000 {
		threads[i%4].Log(siteHello, uint64(2000+i*300), 0, fmtdb.Int(int64(i)))
	}
	log := w.Bytes(0)
	name := filepath.Join(b.TempDir(), "log")
	if err := os.WriteFile(name, log, 0o600); err != nil {
		b.Fatal(err)
	}
	f, err := os.Open(name)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	h, _, err := readHeader(f)
	if err != nil {
		b.Fatal(err)
	}
	fl := newFollower(f, h, nil)
	n := 0
	emit := func(*Record, bool) bool { n++; return true }
	for behind := true; behind; {
		if _, behind, err = fl.poll(emit); err != nil {
			b.Fatal(err)
		}
	}
	if n != 300_000 {
		b.Fatalf("%d records read, want 300000", n)
	}
	for b.Loop() {
		if _, _, err := fl.poll(emit); err != nil {
			b.Fatal(err)
		}
	}
}
