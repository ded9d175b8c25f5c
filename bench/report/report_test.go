package main

import (
	"encoding/xml"
	"io"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/logpack/logpack/internal/benchstat"
)

const rawSample = `# calls_per_round	1000
# reps	3
sample	a	criu-text	0	2000
sample	a	criu-text	1	2600
sample	a	criu-text	2	2100
sample	a	logpack	0	20
sample	a	logpack	1	18
sample	a	logpack	2	40
sample	b	criu-text	0	1500
cpu	a	logpack	0	15
cpu	a	logpack	1	17
cpu	a	logpack	2	16
sample	b	ram-floor	0	9.5
ref	rdtsc	0	25.5
ref	rdtsc	1	23.25
ref	write	0	1100
bytes	a	criu-text	66.50
bytes	a	logpack	17.25
records	a	logpack	3250	out/a.lpk
`

func TestParseRawAndMedians(t *testing.T) {
	r, err := ParseRaw(strings.NewReader(rawSample))
	if err != nil {
		t.Fatal(err)
	}
	if r.CallsPerRound != 1000 || r.Reps != 3 {
		t.Errorf("header: got %d calls, %d reps", r.CallsPerRound, r.Reps)
	}
	if got := benchstat.Median(r.Samples["a"]["criu-text"]); got != 2100 {
		t.Errorf("median text = %v, want 2100", got)
	}
	if got := benchstat.Median(r.Samples["a"]["logpack"]); got != 20 {
		t.Errorf("median logpack = %v, want 20", got)
	}
	if got := benchstat.Median([]float64{4, 1, 3, 2}); got != 2.5 {
		t.Errorf("even median = %v, want 2.5", got)
	}
	if r.Records["a"] != 3250 || r.LogPath["a"] != "out/a.lpk" {
		t.Errorf("records: %v %v", r.Records, r.LogPath)
	}
	if got := r.Methods("a"); strings.Join(got, ",") != "criu-text,logpack" {
		t.Errorf("methods of a = %v", got)
	}
}

func TestParseRawRejectsGarbage(t *testing.T) {
	for _, in := range []string{"", "sample\ta\tx\t0\tfast\n", "what\n", "# reps\tmany\n"} {
		if _, err := ParseRaw(strings.NewReader(in)); err == nil {
			t.Errorf("ParseRaw(%q) accepted it", in)
		}
	}
}

func TestMarkdownRatios(t *testing.T) {
	r, err := ParseRaw(strings.NewReader(rawSample))
	if err != nil {
		t.Fatal(err)
	}
	md := Markdown(r, "test machine", "2026-01-01")
	for _, want := range []string{"| 2100 | — | — | 66.5 |", "| 20.0 | 105.0× | 16.0 | 17.2 |", "test machine",
		"`rdtsc` 24.4", "`write(2)` of 64 bytes to a file 1100"} {
		if !strings.Contains(md, want) {
			t.Errorf("table lacks %q:\n%s", want, md)
		}
	}
}

// The chart must be well-formed SVG with one bar per (workload, method) in
// each panel, and a larger value must get a longer bar.
func TestChartBars(t *testing.T) {
	r, err := ParseRaw(strings.NewReader(rawSample))
	if err != nil {
		t.Fatal(err)
	}
	svg := Chart(r, "2026-01-01")
	dec := xml.NewDecoder(strings.NewReader(string(svg)))
	widths := map[string]float64{} // "class workload/method" -> width
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("SVG does not parse: %v\n%s", err, svg)
		}
		se, ok := tok.(xml.StartElement)
		if !ok || se.Name.Local != "rect" {
			continue
		}
		attr := map[string]string{}
		for _, a := range se.Attr {
			attr[a.Name.Local] = a.Value
		}
		if attr["class"] == "" {
			continue
		}
		w, err := strconv.ParseFloat(attr["width"], 64)
		if err != nil {
			t.Fatalf("bar width %q: %v", attr["width"], err)
		}
		widths[attr["class"]+" "+attr["data-workload"]+"/"+attr["data-method"]] = w
	}
	want := []string{"bar a/criu-text", "bar a/logpack", "bar b/criu-text", "bar b/ram-floor", "bytes a/criu-text", "bytes a/logpack"}
	if len(widths) != len(want) {
		t.Fatalf("got bars %v, want %v", widths, want)
	}
	for _, k := range want {
		if _, ok := widths[k]; !ok {
			t.Errorf("bar %q missing: %v", k, widths)
		}
	}
	if !(widths["bar a/criu-text"] > widths["bar a/logpack"] && widths["bar a/logpack"] > 0) {
		t.Errorf("ns bars not ordered by value: %v", widths)
	}
	// Linear axis: 66.5 vs 17.25 bytes keep their ratio.
	if got := widths["bytes a/criu-text"] / widths["bytes a/logpack"]; got < 3.85 || got > 3.86 {
		t.Errorf("bytes bars ratio %.3f, want 66.5/17.25 = 3.855", got)
	}
}

func TestNiceStep(t *testing.T) {
	for _, c := range []struct{ in, want float64 }{{16.6, 20}, {0.3, 0.5}, {1, 1}, {7, 10}, {120, 200}, {0, 1}} {
		if got := niceStep(c.in); math.Abs(got-c.want) > 1e-9 {
			t.Errorf("niceStep(%v) = %v, want %v", c.in, got, c.want)
		}
	}
}

func TestParseBenchLine(t *testing.T) {
	out := "goos: linux\nBenchmarkDecodePlain-2   \t       3\t  30.75 MB/s\t         9.463 Mrec/cpu-s\t         2.910 Mrec/s\t   44384 B/op\t       4 allocs/op\nPASS\n"
	m, err := ParseBenchLine(out, "BenchmarkDecodePlain")
	if err != nil {
		t.Fatal(err)
	}
	if len(m) != 2 || m["Mrec/cpu-s"] != 9.463 || m["Mrec/s"] != 2.910 {
		t.Errorf("metrics = %v", m)
	}
	if _, err := ParseBenchLine("BenchmarkOpen-2 3 100 ns/op\n", "BenchmarkDecodePlain"); err == nil {
		t.Error("a missing benchmark was not reported")
	}
	if _, err := ParseBenchLine("BenchmarkDecodePlain-2 3 100 ns/op\n", "BenchmarkDecodePlain"); err == nil {
		t.Error("a line without a records metric was accepted")
	}
}
