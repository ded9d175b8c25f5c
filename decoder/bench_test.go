package decoder

import (
	"bytes"
	"io"
	"syscall"
	"testing"
	"time"
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
