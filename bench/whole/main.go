// Command whole measures what logging costs a program from start to exit,
// beyond the log call itself, and prints the figures side by side as
// Markdown (make bench appends them to bench/out/results.md):
//
//   - start-up: CPU time (rusage) and page faults of a logpack-built
//     program that logs nothing, with and without LOGPACK_FILE, against
//     the plain build;
//   - binary size of the CRIU-like example both ways (stripped, .text);
//   - a small log's size on disk against its record bytes;
//   - sustained cost per call at 1 M records (on disk and on tmpfs) and
//     at -big records (on disk) against the in-RAM floor and text, with
//     the log's size against its record bytes (runtime/bench/emitbench.c),
//     and that system time per page of log, with the page faults;
//   - the decoder: records per second of the whole `logpack decode`
//     process on logs of 1 M, 10 M and -big records, its peak memory, and
//     the same on one CPU.
//
// Usage:
//
//	whole -plain P -logpack L -cli bin/logpack -emit bench/out/emitbench -dir bench/out
package main

import (
	"bytes"
	"debug/elf"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/logpack/logpack/internal/benchstat"
)

var (
	plain   = flag.String("plain", "", "the CRIU-like example built plainly")
	lp      = flag.String("logpack", "", "the CRIU-like example built with logpack cc")
	cli     = flag.String("cli", "bin/logpack", "the logpack command")
	emit    = flag.String("emit", "bench/out/emitbench", "runtime/bench/emitbench, built")
	dir     = flag.String("dir", "bench/out", "where logs go (ext4 or whatever the disk is)")
	tmpfs   = flag.String("tmpfs", "/dev/shm", "a tmpfs directory, for the same run there")
	rounds  = flag.Int("rounds", 40, "start-up runs per configuration")
	bigN    = flag.Int("big", 50000000, "records of the big sustained run")
	reps    = flag.Int("reps", 3, "repetitions of each sustained run")
	quick   = flag.Bool("quick", false, "smaller runs (a smoke test of this program)")
	failed  bool
	section strings.Builder
)

func main() {
	flag.Parse()
	if *quick {
		*rounds, *bigN, *reps = 5, 2000000, 1
	}
	startup()
	sizes()
	smallLog()
	sustained()
	decoder()
	os.Stdout.WriteString(section.String())
	if failed {
		os.Exit(1)
	}
}

func out(format string, a ...any) { fmt.Fprintf(&section, format, a...) }

func warn(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "whole: "+format+"\n", a...)
	failed = true
}

// rusage runs argv and returns its CPU time (µs) and minor faults.
func rusage(env []string, argv ...string) (float64, int64, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = env
	if err := cmd.Run(); err != nil {
		if _, ok := err.(*exec.ExitError); !ok {
			return 0, 0, err
		}
	}
	us, flt, _ := benchstat.CPU(cmd.ProcessState)
	return us, flt, nil
}

func startup() {
	log := filepath.Join(*dir, "startup.lpk")
	os.Remove(log)
	base := os.Environ()
	type conf struct {
		name string
		prog string
		env  []string
	}
	confs := []conf{
		{"plain build", *plain, base},
		{"logpack build, binary logging off", *lp, base},
		{"logpack build, LOGPACK_FILE set (the log joined)", *lp, append(slices.Clone(base), "LOGPACK_FILE="+log)},
	}
	cpu := make([][]float64, len(confs))
	flt := make([][]float64, len(confs))
	for r := 0; r < *rounds; r++ {
		for i, c := range confs {
			us, f, err := rusage(c.env, c.prog, "--help")
			if err != nil {
				warn("start-up: %v", err)
				return
			}
			cpu[i], flt[i] = append(cpu[i], us), append(flt[i], float64(f))
		}
	}
	out("### Start-up\n\nThe CRIU-like example's `--help` (it logs nothing), CPU time of the process (rusage), median of %d interleaved runs:\n\n", *rounds)
	out("| | CPU µs | minor faults |\n|---|---:|---:|\n")
	for i, c := range confs {
		out("| %s | %.0f | %.0f |\n", c.name, benchstat.Median(cpu[i]), benchstat.Median(flt[i]))
	}
	out("\nLOGPACK_FILE costs %+.0f µs of start-up against binary logging off.\n\n", benchstat.Median(cpu[2])-benchstat.Median(cpu[1]))
}

// size returns the stripped size and the .text size of an ELF file.
func size(path string) (stripped, text int64, err error) {
	tmp := filepath.Join(*dir, "stripped.tmp")
	defer os.Remove(tmp)
	if out, err := exec.Command("strip", "-o", tmp, path).CombinedOutput(); err != nil {
		return 0, 0, fmt.Errorf("strip: %v %s", err, out)
	}
	fi, err := os.Stat(tmp)
	if err != nil {
		return 0, 0, err
	}
	f, err := elf.Open(path)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	if s := f.Section(".text"); s != nil {
		text = int64(s.Size)
	}
	return fi.Size(), text, nil
}

func sizes() {
	ps, pt, err := size(*plain)
	if err != nil {
		warn("size: %v", err)
		return
	}
	ls, lt, err := size(*lp)
	if err != nil {
		warn("size: %v", err)
		return
	}
	out("### Binary size\n\nThe CRIU-like example (its `criu-like` program):\n\n| | stripped bytes | .text bytes |\n|---|---:|---:|\n")
	out("| plain | %d | %d |\n| logpack cc | %d (%.2f×) | %d (%.2f×) |\n\n", ps, pt, ls, float64(ls)/float64(ps), lt, float64(lt)/float64(pt))
}

// recordBytes asks logpack stats for a log's bytes of records.
func recordBytes(log string) (int64, int64, error) {
	b, err := exec.Command(*cli, "stats", "--format", "json", log).Output()
	if err != nil {
		return 0, 0, fmt.Errorf("logpack stats %s: %v", log, err)
	}
	var st struct {
		Records int64 `json:"records"`
		Bytes   int64 `json:"bytes"`
	}
	if err := json.Unmarshal(bytes.TrimSpace(b), &st); err != nil {
		return 0, 0, err
	}
	return st.Records, st.Bytes, nil
}

func smallLog() {
	log := filepath.Join(*dir, "small.lpk")
	os.Remove(log)
	cmd := exec.Command(*lp, "-v4", "-o", "/dev/null")
	cmd.Env = append(os.Environ(), "LOGPACK_FILE="+log)
	if out, err := cmd.CombinedOutput(); err != nil {
		warn("small log: %v %s", err, out)
		return
	}
	recs, rb, err := recordBytes(log)
	if err != nil {
		warn("%v", err)
		return
	}
	var st syscall.Stat_t
	if err := syscall.Stat(log, &st); err != nil {
		warn("%v", err)
		return
	}
	out("### Log file size\n\nA small log (one run of the CRIU-like example at -v4): %d records in %d bytes of records; the file is %d bytes, %d on disk (%+d KiB beyond the records).\n\n",
		recs, rb, st.Size, st.Blocks*512, (st.Size-rb)/1024)
}

// emitLine parses "MODE ns/call=.. ... file_ratio=.. reps=..".
func emitLine(s string) (mode string, kv map[string]float64) {
	f := strings.Fields(s)
	if len(f) == 0 {
		return "", nil
	}
	kv = map[string]float64{}
	for _, x := range f[1:] {
		k, v, _ := strings.Cut(x, "=")
		if n, err := strconv.ParseFloat(v, 64); err == nil {
			kv[k] = n
		}
	}
	return f[0], kv
}

func runEmit(n, reps int, d string, keep bool, modes ...string) map[string]map[string]float64 {
	args := []string{"-n", strconv.Itoa(n), "-r", strconv.Itoa(reps), "-t", "200000", "-d", d}
	if keep {
		args = append(args, "-k")
	}
	args = append(args, modes...)
	b, err := exec.Command(*emit, args...).CombinedOutput()
	if err != nil {
		warn("emitbench %v: %v %s", args, err, b)
		return nil
	}
	res := map[string]map[string]float64{}
	for _, l := range strings.Split(string(b), "\n") {
		if m, kv := emitLine(l); m != "" {
			res[m] = kv
		}
	}
	return res
}

func sustained() {
	type run struct {
		n     int
		where string
		d     string
	}
	runs := []run{{1000000, "disk (" + *dir + ")", *dir}, {1000000, "tmpfs", *tmpfs}, {*bigN, "disk (" + *dir + ")", *dir}}
	var perPage []string // system time and faults per 4 KiB page of log, by run
	out("### Sustained cost per call\n\nMessage (a), each repetition a fresh process writing one crash-safe log, median of %d repetitions (runtime/bench/emitbench.c). The floor is the same record written into a warm RAM buffer with an `rdtsc` timestamp; text is CRIU's way (timestamp, `vsnprintf`, one `write`). System time: the calling thread's, from rusage (the kernel's work for the file: its pages and growth).\n\n", *reps)
	out("| records | log on | logpack ns/call | of which system time | floor ns/call | logpack / floor | text ns/call | log size / record bytes |\n|---:|---|---:|---:|---:|---:|---:|---:|\n")
	for i, r := range runs {
		modes := []string{"logpack", "floor"}
		if i == 0 {
			modes = append(modes, "text")
		}
		res := runEmit(r.n, *reps, r.d, false, modes...)
		if res == nil {
			continue
		}
		lp, fl := res["logpack"], res["floor"]
		text := "—"
		if t := res["text"]; t != nil {
			text = fmt.Sprintf("%.0f", t["ns/call"])
		}
		out("| %d | %s | %.1f | %.1f | %.1f | %.2f× | %s | %.3f |\n", r.n, r.where, lp["ns/call"], lp["sys"], fl["ns/call"], lp["ns/call"]/fl["ns/call"], text, lp["file_ratio"])
		if lp["bytes/record"] > 0 {
			perPage = append(perPage, fmt.Sprintf("%d records on %s %.2f µs (%.0f faults per MiB)", r.n, r.where, lp["sys"]*4096/lp["bytes/record"]/1e3, lp["faults/MiB"]))
		}
	}
	out("\n")
	if len(perPage) == 0 {
		return
	}
	out("Per 4 KiB page of log (the system time above × the records a page holds; page faults of the calling thread per MiB of log): %s.", strings.Join(perPage, "; "))
	if b, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/shmem_enabled"); err == nil {
		// The setting in force is the bracketed word.
		if _, after, ok := strings.Cut(string(b), "["); ok {
			setting, _, _ := strings.Cut(after, "]")
			out(" Large folios for tmpfs here: %s (`/sys/kernel/mm/transparent_hugepage/shmem_enabled`).", setting)
		}
	}
	out("\n\n")
}

func decoder() {
	sizes := []int{1000000, 10000000, *bigN}
	if *quick {
		sizes = []int{1000000}
	}
	out("### Decoder\n\n`logpack decode --text=none --format plain` of logs of message (a), the whole process, median of 3 runs, and its peak memory:\n\n")
	out("| records | M records/s (wall) | M records per CPU-second | peak memory MiB | on one CPU (GOMAXPROCS=1): M records/s |\n|---:|---:|---:|---:|---:|\n")
	for _, n := range sizes {
		if runEmit(n, 1, *dir, true, "logpack") == nil {
			return
		}
		log := filepath.Join(*dir, "emitbench.lpk")
		recs, _, err := recordBytes(log)
		if err != nil {
			warn("decoder: %v", err)
			return
		}
		var walls, cpus, one []float64
		var rss int64
		for i := 0; i < 3; i++ {
			for _, procs := range []string{"", "1"} {
				cmd := exec.Command(*cli, "decode", "--text=none", "--format", "plain", log)
				if procs != "" {
					cmd.Env = append(os.Environ(), "GOMAXPROCS="+procs)
				}
				start := time.Now()
				if err := cmd.Run(); err != nil {
					warn("decode: %v", err)
					return
				}
				wall := time.Since(start).Seconds()
				if procs != "" {
					one = append(one, wall)
					continue
				}
				walls = append(walls, wall)
				us, _, maxrss := benchstat.CPU(cmd.ProcessState)
				cpus = append(cpus, us/1e6)
				rss = max(rss, maxrss)
			}
		}
		os.Remove(log)
		m := func(v []float64) float64 { return float64(recs) / benchstat.Median(v) / 1e6 }
		out("| %d | %.2f | %.2f | %d | %.2f |\n", recs, m(walls), m(cpus), rss/1024, m(one))
	}
	out("\n")
}
