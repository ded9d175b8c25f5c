// Command criubench measures what logging costs real CRIU: the CPU time
// (user + system, from wait4's rusage, in microseconds) of criu dump and
// criu restore of a small process tree, for plain CRIU at default
// verbosity and at -v4, and for a logpack-built CRIU at -v4 with binary
// logging on (LOGPACK_FILE) and off (text). The configurations run
// interleaved, round by round (in a rotating order), each round on a fresh
// process tree. It reports the medians and, for each configuration, the
// median of its round-by-round differences from plain CRIU at default
// verbosity with a 95% bootstrap interval: a dump's CPU time varies by
// several ms from run to run on a shared machine, and a difference whose
// interval holds 0 is within that noise. Then the start-up of criu
// --version with and without LOGPACK_FILE, and both programs' sizes. It
// needs root (CRIU does).
//
//	criubench -plain PLAIN/criu/criu -logpack LOGPACK/criu/criu [-rounds 20] [-startup-runs 200] [-dir DIR]
package main

import (
	"debug/elf"
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

type config struct {
	name    string
	criu    string
	verbose bool
	binary  bool
}

func main() {
	plain := flag.String("plain", "", "criu built plainly")
	lp := flag.String("logpack", "", "criu built with logpack cc")
	rounds := flag.Int("rounds", 20, "rounds of all configurations")
	startRuns := flag.Int("startup-runs", 200, "runs of criu --version per configuration")
	dir := flag.String("dir", "/tmp/logpack-criubench", "work directory")
	flag.Parse()
	if *plain == "" || *lp == "" {
		fmt.Fprintln(os.Stderr, "usage: criubench -plain PLAIN_CRIU -logpack LOGPACK_CRIU [-rounds N] [-dir DIR]")
		os.Exit(2)
	}
	configs := []config{
		{"plain, default verbosity", *plain, false, false},
		{"plain, -v4 (text)", *plain, true, false},
		{"logpack build, -v4, binary (LOGPACK_FILE)", *lp, true, true},
		{"logpack build, -v4, text", *lp, true, false},
		// what CRIU computes only for -v4 output (pr_quelled), apart
		// from logging: the logpack build at default verbosity, recording
		{"logpack build, default verbosity, binary", *lp, false, true},
	}
	cpu := map[string][2][]float64{}
	for r := 0; r < *rounds; r++ {
		// Each round starts with another configuration, so that none is
		// always the one after the cleanup of the previous round.
		order := append(slices.Clone(configs[r%len(configs):]), configs[:r%len(configs)]...)
		for _, c := range order {
			d, rs, err := round(c, filepath.Join(*dir, strconv.Itoa(r)))
			if err != nil {
				fmt.Fprintf(os.Stderr, "criubench: %s: %v\n", c.name, err)
				os.Exit(1)
			}
			v := cpu[c.name]
			v[0], v[1] = append(v[0], d), append(v[1], rs)
			cpu[c.name] = v
		}
		os.RemoveAll(filepath.Join(*dir, strconv.Itoa(r)))
	}
	if *rounds > 0 {
		report(configs, cpu, *rounds)
	}
	if err := startup(*plain, *lp, *dir, *startRuns); err != nil {
		fmt.Fprintf(os.Stderr, "criubench: start-up: %v\n", err)
		os.Exit(1)
	}
	if err := sizes(*plain, *lp, *dir); err != nil {
		fmt.Fprintf(os.Stderr, "criubench: sizes: %v\n", err)
		os.Exit(1)
	}
}

// report prints the dump and restore table.
func report(configs []config, cpu map[string][2][]float64, rounds int) {
	fmt.Printf("CPU of the criu process (user+system, rusage), median of %d interleaved rounds, ms;\n", rounds)
	fmt.Printf("Δ: median of the round-by-round differences from plain CRIU at default verbosity [95%% bootstrap interval]:\n\n")
	fmt.Printf("| configuration | dump | Δ dump | restore | Δ restore |\n|---|---:|---:|---:|---:|\n")
	base := cpu[configs[0].name]
	for _, c := range configs {
		v := cpu[c.name]
		fmt.Printf("| %s | %.2f | %s | %.2f | %s |\n", c.name,
			benchstat.Median(v[0])/1000, delta(v[0], base[0]), benchstat.Median(v[1])/1000, delta(v[1], base[1]))
	}
}

// startup times criu --version (CPU of the process, interleaved runs):
// plain, the logpack build with binary logging off, and with LOGPACK_FILE
// set: a new log each run (which includes creating a file, what the file
// system charges for that), and a log that exists (each run joins it as a
// session of its own).
func startup(plain, lp, dir string, runs int) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	fresh, joined := filepath.Join(dir, "startup.lpk"), filepath.Join(dir, "startup-joined.lpk")
	defer os.Remove(fresh)
	defer os.Remove(joined)
	os.Remove(joined)
	type variant struct {
		name, criu, log string
	}
	variants := []variant{
		{"plain", plain, ""},
		{"logpack build, binary logging off", lp, ""},
		{"logpack build, LOGPACK_FILE set (a new log)", lp, fresh},
		{"logpack build, LOGPACK_FILE set (the log joined)", lp, joined},
	}
	cpu := make([][]float64, len(variants))
	var create []float64
	for range runs {
		// What creating a file costs in this directory, whoever does it
		// (ext4 without a journal searches recently freed inodes).
		f := filepath.Join(dir, "startup-create")
		t0 := time.Now()
		if fd, err := syscall.Open(f, syscall.O_RDWR|syscall.O_CREAT|syscall.O_EXCL|syscall.O_CLOEXEC, 0o600); err == nil {
			syscall.Close(fd)
			create = append(create, float64(time.Since(t0).Nanoseconds())/1000)
		}
		os.Remove(f)
		for i, v := range variants {
			os.Remove(fresh)
			env := os.Environ()
			if v.log != "" {
				env = append(env, "LOGPACK_FILE="+v.log)
			}
			us, err := run(v.criu, []string{"--version"}, env)
			if err != nil {
				return err
			}
			cpu[i] = append(cpu[i], us)
		}
	}
	fmt.Printf("\n`criu --version`, CPU of the process, median of %d interleaved runs, µs:\n\n| configuration | CPU µs | Δ from binary logging off |\n|---|---:|---:|\n", runs)
	for i, v := range variants {
		d := "—"
		if v.log != "" {
			m, lo, hi := benchstat.PairedDelta(cpu[i], cpu[1])
			d = fmt.Sprintf("%+.0f [%+.0f, %+.0f]", m, lo, hi)
		}
		fmt.Printf("| %s | %.0f | %s |\n", v.name, benchstat.Median(cpu[i]), d)
	}
	if len(create) > 0 {
		fmt.Printf("\nCreating an empty file in %s (what a new log pays the file system): %.0f µs, median.\n", dir, benchstat.Median(create))
	}
	return nil
}

// sizes prints both programs' stripped sizes and their largest sections.
func sizes(plain, lp, dir string) error {
	type size struct{ stripped, text, rodata, sites uint64 }
	var got [2]size
	for i, prog := range []string{plain, lp} {
		stripped := filepath.Join(dir, fmt.Sprintf("stripped-%d", i))
		if out, err := exec.Command("strip", "-o", stripped, prog).CombinedOutput(); err != nil {
			return fmt.Errorf("strip %s: %v %s", prog, err, out)
		}
		fi, err := os.Stat(stripped)
		os.Remove(stripped)
		if err != nil {
			return err
		}
		f, err := elf.Open(prog)
		if err != nil {
			return err
		}
		got[i].stripped = uint64(fi.Size())
		for _, sec := range f.Sections {
			switch sec.Name {
			case ".text":
				got[i].text = sec.Size
			case ".rodata":
				got[i].rodata = sec.Size
			case "logpack_sites":
				got[i].sites = sec.Size
			}
		}
		f.Close()
	}
	ratio := func(a, b uint64) string { return fmt.Sprintf("%.2f×", float64(a)/float64(b)) }
	fmt.Printf("\nSizes, bytes:\n\n| | plain | logpack build | ratio |\n|---|---:|---:|---:|\n")
	fmt.Printf("| stripped program | %d | %d | %s |\n", got[0].stripped, got[1].stripped, ratio(got[1].stripped, got[0].stripped))
	fmt.Printf("| .text | %d | %d | %s |\n", got[0].text, got[1].text, ratio(got[1].text, got[0].text))
	fmt.Printf("| .rodata | %d | %d | %s |\n", got[0].rodata, got[1].rodata, ratio(got[1].rodata, got[0].rodata))
	fmt.Printf("| logpack_sites | — | %d | |\n", got[1].sites)
	return nil
}

// delta formats the median of the paired differences a[i]-b[i] (µs) in ms
// with its 95% bootstrap interval.
func delta(a, b []float64) string {
	if slices.Equal(a, b) {
		return "—"
	}
	m, lo, hi := benchstat.PairedDelta(a, b)
	return fmt.Sprintf("%+.2f [%+.2f, %+.2f]", m/1000, lo/1000, hi/1000)
}

// round dumps and restores a fresh process tree with one configuration
// and returns the CPU microseconds of both criu runs.
func round(c config, dir string) (dump, restore float64, err error) {
	img := filepath.Join(dir, strings.Fields(c.name)[0]+fmt.Sprint(c.verbose, c.binary))
	// Images and pid file of an interrupted earlier run would fail the
	// restore (criu refuses a pid file that exists).
	os.RemoveAll(img)
	if err := os.MkdirAll(img, 0o755); err != nil {
		return 0, 0, err
	}
	// A tree whose shape does not depend on when the dump comes (a shell
	// loop's is two to four processes), laid out alike in every round.
	target := exec.Command("setarch", "-R", "setsid", "sh", "-c", "sleep 1000 & exec sleep 1001")
	if err := target.Start(); err != nil {
		return 0, 0, err
	}
	pid := target.Process.Pid
	time.Sleep(300 * time.Millisecond)
	args := func(action string) []string {
		a := []string{action, "-D", img, "-o", action + ".log"}
		if c.verbose {
			a = append(a, "-v4")
		}
		return a
	}
	env := os.Environ()
	if c.binary {
		env = append(env, "LOGPACK_FILE="+filepath.Join(img, "run.lpk"))
	}
	dump, err = run(c.criu, append(args("dump"), "-t", strconv.Itoa(pid), "--shell-job"), env)
	target.Wait()
	if err != nil {
		syscall.Kill(-pid, syscall.SIGKILL)
		return 0, 0, fmt.Errorf("dump: %w", err)
	}
	// The tree must be gone before its pids can be restored.
	for i := 0; i < 200 && exec.Command("pgrep", "-s", strconv.Itoa(pid)).Run() == nil; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	pidfile := filepath.Join(img, "pid")
	restore, err = run(c.criu, append(args("restore"), "-d", "--pidfile", pidfile, "--shell-job"), env)
	if b, rerr := os.ReadFile(pidfile); rerr == nil {
		if p, perr := strconv.Atoi(strings.TrimSpace(string(b))); perr == nil {
			syscall.Kill(-p, syscall.SIGKILL)
			syscall.Kill(p, syscall.SIGKILL)
		}
	}
	if err != nil {
		return 0, 0, fmt.Errorf("restore: %w", err)
	}
	return dump, restore, nil
}

// run runs criu and returns its CPU time in microseconds.
func run(criu string, args, env []string) (float64, error) {
	cmd := exec.Command(criu, args...)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("%v: %s", err, out)
	}
	us, _, _ := benchstat.CPU(cmd.ProcessState)
	return us, nil
}
