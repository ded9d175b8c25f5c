// Command report turns the samples of bench/logbench (raw.tsv) into the
// benchmark table and chart: it takes medians, times `logpack decode` on the
// logs the benchmark wrote, and writes a Markdown table and an SVG bar chart.
//
//	go run ./bench/report -raw bench/out/raw.tsv -logpack bin/logpack \
//		-md bench/out/results.md -svg docs/bench.svg
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/logpack/logpack/internal/benchstat"
)

// Methods in the order they appear in tables and charts.
var methodOrder = []string{"criu-text", "fprintf", "logpack", "ram-floor"}

var methodTitle = map[string]string{
	"criu-text": "CRIU-style text (timestamp + vsnprintf + write)",
	"fprintf":   "fprintf to a buffered FILE",
	"logpack":   "logpack (crash-safe, rewritten calls)",
	"ram-floor": "hand-written encoder into RAM (floor)",
}

var workloadTitle = map[string]string{
	"a": `(a) "Some message %s %s %c %li %d %lu\n"`,
	"b": "(b) CRIU-like mix",
}

// Results is everything raw.tsv holds, keyed by workload then method.
type Results struct {
	CallsPerRound int
	Reps          int
	Samples       map[string]map[string][]float64 // wall ns per call, per round
	CPU           map[string]map[string][]float64 // thread CPU ns per call, per round
	Bytes         map[string]map[string]float64
	Ref           map[string][]float64 // reference costs: rdtsc, clock_gettime, write
	Records       map[string]int64     // logpack records per workload
	LogPath       map[string]string    // logpack log per workload
	DecodeRate    map[string]float64   // records/s, wall clock
	DecodeCPURate map[string]float64   // records/s of CPU time
	// Metrics of the decoder's own Go benchmark, unit -> value (e.g. "Mrec/s").
	DecoderBench map[string]float64
	// Whole build of the CRIU-like example, median seconds (0: not measured).
	BuildPlain, BuildWrapped float64
}

// ParseRaw reads the tab-separated output of logbench.
func ParseRaw(r io.Reader) (*Results, error) {
	res := &Results{
		Samples:       map[string]map[string][]float64{},
		CPU:           map[string]map[string][]float64{},
		Bytes:         map[string]map[string]float64{},
		Ref:           map[string][]float64{},
		Records:       map[string]int64{},
		LogPath:       map[string]string{},
		DecodeRate:    map[string]float64{},
		DecodeCPURate: map[string]float64{},
	}
	sc := bufio.NewScanner(r)
	line := 0
	for sc.Scan() {
		line++
		f := strings.Split(sc.Text(), "\t")
		bad := func(err error) error { return fmt.Errorf("raw.tsv:%d: %q: %v", line, sc.Text(), err) }
		switch {
		case len(f) == 0 || f[0] == "":
			continue
		case f[0] == "# calls_per_round" && len(f) == 2:
			n, err := strconv.Atoi(f[1])
			if err != nil {
				return nil, bad(err)
			}
			res.CallsPerRound = n
		case f[0] == "# reps" && len(f) == 2:
			n, err := strconv.Atoi(f[1])
			if err != nil {
				return nil, bad(err)
			}
			res.Reps = n
		case strings.HasPrefix(f[0], "#"):
			continue
		case (f[0] == "sample" || f[0] == "cpu") && len(f) == 5:
			v, err := strconv.ParseFloat(f[4], 64)
			if err != nil {
				return nil, bad(err)
			}
			dst := res.Samples
			if f[0] == "cpu" {
				dst = res.CPU
			}
			if dst[f[1]] == nil {
				dst[f[1]] = map[string][]float64{}
			}
			dst[f[1]][f[2]] = append(dst[f[1]][f[2]], v)
		case f[0] == "ref" && len(f) == 4:
			v, err := strconv.ParseFloat(f[3], 64)
			if err != nil {
				return nil, bad(err)
			}
			res.Ref[f[1]] = append(res.Ref[f[1]], v)
		case f[0] == "bytes" && len(f) == 4:
			v, err := strconv.ParseFloat(f[3], 64)
			if err != nil {
				return nil, bad(err)
			}
			if res.Bytes[f[1]] == nil {
				res.Bytes[f[1]] = map[string]float64{}
			}
			res.Bytes[f[1]][f[2]] = v
		case f[0] == "records" && len(f) == 5:
			n, err := strconv.ParseInt(f[3], 10, 64)
			if err != nil {
				return nil, bad(err)
			}
			res.Records[f[1]] = n
			res.LogPath[f[1]] = f[4]
		default:
			return nil, bad(fmt.Errorf("unknown line"))
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(res.Samples) == 0 {
		return nil, fmt.Errorf("raw.tsv: no samples")
	}
	return res, nil
}

// Workloads present in the results, sorted.
func (r *Results) Workloads() []string {
	var ws []string
	for w := range r.Samples {
		ws = append(ws, w)
	}
	slices.Sort(ws)
	return ws
}

// Methods of workload w present in the results, in methodOrder.
func (r *Results) Methods(w string) []string {
	var ms []string
	for _, m := range methodOrder {
		if len(r.Samples[w][m]) > 0 {
			ms = append(ms, m)
		}
	}
	return ms
}

// timeDecode runs `logpack decode --text=none --format plain` on path a few times and
// returns records per second of the fastest run, by wall clock (process
// start-up included) and by CPU time (user + system, all threads).
func timeDecode(logpack, path string, records int64) (wall, cpu float64, err error) {
	best, bestCPU := time.Duration(0), time.Duration(0)
	for i := 0; i < 3; i++ {
		// --text=none: the binary log alone (the programs' stderr, which
		// the log's text marks name, may be any file, e.g. make's output).
		cmd := exec.Command(logpack, "decode", "--text=none", "--format", "plain", "-o", os.DevNull, path)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		start := time.Now()
		if err := cmd.Run(); err != nil {
			return 0, 0, fmt.Errorf("%s decode %s: %v: %s", logpack, path, err, strings.TrimSpace(stderr.String()))
		}
		if d := time.Since(start); best == 0 || d < best {
			best = d
		}
		if c := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime(); bestCPU == 0 || c < bestCPU {
			bestCPU = c
		}
	}
	return float64(records) / best.Seconds(), float64(records) / bestCPU.Seconds(), nil
}

// decoderBench runs the decoder package's Go benchmark of plain rendering
// and returns its records-per-second metrics by unit.
func decoderBench(pkg, name string) (map[string]float64, error) {
	cmd := exec.Command("go", "test", "-run", "^$", "-bench", "^"+name+"$", "-benchtime", "5x", pkg)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("go test -bench %s %s: %v\n%s", name, pkg, err, out)
	}
	return ParseBenchLine(string(out), name)
}

// ParseBenchLine finds the result line of benchmark name in go test output
// and returns its metrics whose unit counts records ("Mrec/s", ...).
func ParseBenchLine(out, name string) (map[string]float64, error) {
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) < 4 || (f[0] != name && !strings.HasPrefix(f[0], name+"-")) {
			continue
		}
		m := map[string]float64{}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				return nil, fmt.Errorf("benchmark line %q: %v", line, err)
			}
			if strings.Contains(f[i+1], "rec") {
				m[f[i+1]] = v
			}
		}
		if len(m) == 0 {
			return nil, fmt.Errorf("benchmark line %q has no records metric", line)
		}
		return m, nil
	}
	return nil, fmt.Errorf("no result line for %s in:\n%s", name, out)
}

// timeBuilds builds the example in dir from scratch, alternately with the
// plain compiler and through cc (a CC value such as "logpack cc --preset
// criu -- gcc"), reps times each, and returns the median seconds of each.
func timeBuilds(dir, cc string, reps int) (plain, wrapped float64, err error) {
	tmp, err := os.MkdirTemp("", "logpack-build-")
	if err != nil {
		return 0, 0, err
	}
	defer os.RemoveAll(tmp)
	var ps, ws []float64
	for i := 0; i < reps; i++ {
		for _, withCC := range []bool{false, true} {
			args := []string{"-s", "-C", dir, "O=" + fmt.Sprintf("%s/%d-%v", tmp, i, withCC)}
			if withCC {
				args = append(args, "CC="+cc)
			}
			cmd := exec.Command("make", args...)
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			start := time.Now()
			if err := cmd.Run(); err != nil {
				return 0, 0, fmt.Errorf("make %s: %v\n%s", strings.Join(args, " "), err, out.String())
			}
			if withCC {
				ws = append(ws, time.Since(start).Seconds())
			} else {
				ps = append(ps, time.Since(start).Seconds())
			}
		}
	}
	return benchstat.Median(ps), benchstat.Median(ws), nil
}

// Machine describes where the numbers came from.
func Machine() string {
	cpu := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				cpu = strings.TrimSpace(v)
				break
			}
		}
	}
	kernel := "Linux"
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		kernel = "Linux " + strings.TrimSpace(string(b))
	}
	gcc := "gcc"
	if out, err := exec.Command("gcc", "-dumpfullversion").Output(); err == nil {
		gcc = "gcc " + strings.TrimSpace(string(out))
	}
	return fmt.Sprintf("%s, %d cores, %s, %s, %s", cpu, runtime.NumCPU(), kernel, gcc, runtime.Version())
}

func fmtNs(v float64) string {
	switch {
	case v >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case v >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	default:
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
}

// Markdown renders the results table.
func Markdown(r *Results, machine, date string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Measured by `make bench` on %s, %s.\n", date, machine)
	fmt.Fprintf(&b, "Median of %d rounds of %d calls per method, rounds interleaved in one process.\n\n", r.Reps, r.CallsPerRound)
	b.WriteString("| workload | method | ns/call (median) | × cheaper than text | thread CPU ns/call | bytes/record |\n")
	b.WriteString("|---|---|---:|---:|---:|---:|\n")
	for _, w := range r.Workloads() {
		text := benchstat.Median(r.Samples[w]["criu-text"])
		for _, m := range r.Methods(w) {
			med := benchstat.Median(r.Samples[w][m])
			ratio := "—"
			if text > 0 && m != "criu-text" && med > 0 {
				ratio = strconv.FormatFloat(text/med, 'f', 1, 64) + "×"
			}
			bytesRec := "—"
			if v, ok := r.Bytes[w][m]; ok {
				bytesRec = strconv.FormatFloat(v, 'f', 1, 64)
			}
			cpu := "—"
			if c := r.CPU[w][m]; len(c) > 0 {
				cpu = fmtNs(benchstat.Median(c))
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", workloadTitle[w], methodTitle[m], fmtNs(med), ratio, cpu, bytesRec)
		}
	}
	if len(r.DecodeRate) > 0 {
		b.WriteString("\n| decoder: `logpack decode --text=none --format plain` of the log above | records | records/s (wall, start-up included) | records per CPU-second |\n|---|---:|---:|---:|\n")
		for _, w := range r.Workloads() {
			if rate, ok := r.DecodeRate[w]; ok {
				fmt.Fprintf(&b, "| %s | %d | %.2f M | %.2f M |\n", workloadTitle[w], r.Records[w], rate/1e6, r.DecodeCPURate[w]/1e6)
			}
		}
	}
	if len(r.DecoderBench) > 0 {
		var units []string
		for u := range r.DecoderBench {
			units = append(units, u)
		}
		slices.Sort(units)
		var parts []string
		for _, u := range units {
			parts = append(parts, fmt.Sprintf("%.2f %s", r.DecoderBench[u], u))
		}
		fmt.Fprintf(&b, "\nThe decoder's own Go benchmark (`BenchmarkDecodePlain`: a synthetic CRIU-like log rendered in memory, no file, no process start-up): %s.\n", strings.Join(parts, ", "))
	}
	if r.BuildPlain > 0 && r.BuildWrapped > 0 {
		fmt.Fprintf(&b, "\n| whole build of examples/criu-like from scratch (median of 3) | seconds |\n|---|---:|\n")
		fmt.Fprintf(&b, "| `make` (gcc) | %.2f |\n| `make CC=\"logpack cc --preset criu -- gcc\"` | %.2f (%.2f×) |\n",
			r.BuildPlain, r.BuildWrapped, r.BuildWrapped/r.BuildPlain)
	}
	if len(r.Ref) > 0 {
		b.WriteString("\nWhat the building blocks cost on this machine (median ns): ")
		var parts []string
		for _, k := range []struct{ key, title string }{
			{"rdtsc", "`rdtsc`"}, {"clock_gettime", "`clock_gettime(CLOCK_MONOTONIC)`"}, {"write", "`write(2)` of 64 bytes to a file"},
		} {
			if v, ok := r.Ref[k.key]; ok {
				parts = append(parts, fmt.Sprintf("%s %s", k.title, fmtNs(benchstat.Median(v))))
			}
		}
		b.WriteString(strings.Join(parts, ", ") + ".\n")
	}
	b.WriteString("\nns/call: wall clock per call, median over the rounds. Thread CPU: the calling thread's CPU time per call, system calls included; on a busy machine it shows what a call costs when not preempted.\n")
	b.WriteString("\nbytes/record: text bytes written per call; for logpack, bytes the log file uses (chunk headers and call-site descriptors included) per record.\n")
	return b.String()
}

func main() {
	rawPath := flag.String("raw", "bench/out/raw.tsv", "samples written by logbench")
	logpack := flag.String("logpack", "bin/logpack", "logpack binary, for timing the decoder")
	mdPath := flag.String("md", "bench/out/results.md", "Markdown table to write")
	svgPath := flag.String("svg", "docs/bench.svg", "SVG chart to write")
	example := flag.String("build-example", "", "time clean builds of this example directory, plain and through -cc")
	cc := flag.String("cc", "", "CC value for the wrapped build of -build-example")
	decPkg := flag.String("decoder-bench", "", "Go package whose BenchmarkDecodePlain to run (e.g. ./decoder)")
	flag.Parse()

	f, err := os.Open(*rawPath)
	if err != nil {
		fmt.Fprintln(os.Stderr, "report:", err)
		os.Exit(1)
	}
	res, err := ParseRaw(f)
	f.Close()
	if err != nil {
		fmt.Fprintln(os.Stderr, "report:", err)
		os.Exit(1)
	}
	for _, w := range res.Workloads() {
		if path, ok := res.LogPath[w]; ok {
			rate, cpuRate, err := timeDecode(*logpack, path, res.Records[w])
			if err != nil {
				fmt.Fprintln(os.Stderr, "report: decoder not timed:", err)
				continue
			}
			res.DecodeRate[w] = rate
			res.DecodeCPURate[w] = cpuRate
		}
	}
	if *decPkg != "" {
		m, err := decoderBench(*decPkg, "BenchmarkDecodePlain")
		if err != nil {
			fmt.Fprintln(os.Stderr, "report: decoder benchmark not run:", err)
		} else {
			res.DecoderBench = m
		}
	}
	if *example != "" && *cc != "" {
		p, w, err := timeBuilds(*example, *cc, 3)
		if err != nil {
			fmt.Fprintln(os.Stderr, "report: builds not timed:", err)
		} else {
			res.BuildPlain, res.BuildWrapped = p, w
		}
	}
	date := time.Now().UTC().Format("2006-01-02 15:04 UTC")
	md := Markdown(res, Machine(), date)
	if err := os.WriteFile(*mdPath, []byte(md), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "report:", err)
		os.Exit(1)
	}
	if err := os.WriteFile(*svgPath, Chart(res, date), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "report:", err)
		os.Exit(1)
	}
	fmt.Print(md)
	fmt.Printf("\nwrote %s and %s\n", *mdPath, *svgPath)
}
