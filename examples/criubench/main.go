// Command criubench measures what logging costs real CRIU: the CPU time
// (user + system, from wait4's rusage, in microseconds) of criu dump and
// criu restore of a small process tree, for plain CRIU at default
// verbosity and at -v4, and for a logpack-built CRIU at -v4 with binary
// logging on (LOGPACK_FILE) and off (text). The configurations run
// interleaved, round by round, each round on a fresh process tree, and the
// medians are reported. It needs root (CRIU does).
//
//	criubench -plain PLAIN/criu/criu -logpack LOGPACK/criu/criu [-rounds 20] [-dir DIR]
package main

import (
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
		for _, c := range configs {
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
	fmt.Printf("CPU of the criu process (user+system, rusage), median of %d interleaved rounds, ms:\n\n", *rounds)
	fmt.Printf("| configuration | dump | restore |\n|---|---:|---:|\n")
	for _, c := range configs {
		v := cpu[c.name]
		fmt.Printf("| %s | %.2f | %.2f |\n", c.name, median(v[0])/1000, median(v[1])/1000)
	}
}

// round dumps and restores a fresh process tree with one configuration
// and returns the CPU microseconds of both criu runs.
func round(c config, dir string) (dump, restore float64, err error) {
	img := filepath.Join(dir, strings.Fields(c.name)[0]+fmt.Sprint(c.verbose, c.binary))
	if err := os.MkdirAll(img, 0o755); err != nil {
		return 0, 0, err
	}
	target := exec.Command("setsid", "sh", "-c", "sh -c 'while :; do sleep 0.1; done' & while :; do sleep 0.1; done")
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
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return 0, fmt.Errorf("no rusage")
	}
	us := func(t syscall.Timeval) float64 { return float64(t.Sec)*1e6 + float64(t.Usec) }
	return us(ru.Utime) + us(ru.Stime), nil
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}
