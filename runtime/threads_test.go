package lpruntime_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/logpack/logpack/internal/testutil"
)

// The runtime's rules for shared data (logpack.c's header) hold: 4 threads
// log while the log is closed and reopened under them, and
// ThreadSanitizer finds no race.
func TestThreadSanitizerIsClean(t *testing.T) {
	needGCC(t)
	if out, err := exec.Command("gcc", "-fsanitize=thread", "-x", "c", "-o", "/dev/null", "-").CombinedOutput(); err != nil &&
		strings.Contains(string(out), "tsan") {
		t.Skipf("no ThreadSanitizer runtime: %s", out)
	}
	prog := buildProgFlags(t, "threads", []string{"-std=gnu11", "-O1", "-g", "-Wall", "-Wextra", "-Werror", "-pthread", "-fsanitize=thread"})
	dir := t.TempDir()
	log := filepath.Join(dir, "log")
	cmd := command(prog, log, "30")
	cmd.Env = append(testutil.WithoutLogpack(), "TSAN_OPTIONS=halt_on_error=1 exitcode=66 report_signal_unsafe=0 log_path="+filepath.Join(dir, "tsan"))
	out, err := cmd.Output()
	if reports, _ := filepath.Glob(filepath.Join(dir, "tsan*")); err != nil || len(reports) > 0 {
		for _, r := range reports {
			b, _ := os.ReadFile(r)
			t.Logf("%s:\n%s", r, b)
		}
		t.Fatalf("%v", err)
	}
	if !strings.Contains(string(out), "done") {
		t.Fatalf("no done in\n%s", out)
	}
	l := mustScan(t, log)
	if len(l.Records) == 0 {
		t.Errorf("no records in the log")
	}
}

// A thread cancelled (pthread_cancel) inside a log call, where growing
// the log waits at a cancellation point, does not leave the growth lock
// held: the process goes on, and logs. (It hung in 3 runs of 3.)
func TestCancelledThreads(t *testing.T) {
	t.Parallel()
	prog := buildProg(t, "cancel", "-pthread")
	log := filepath.Join(t.TempDir(), "log")
	cmd := command(prog, log, "30")
	cmd.Env = testutil.WithoutLogpack()
	out, err := cmd.Output()
	if err != nil || !strings.HasPrefix(string(out), "ok ") {
		t.Fatalf("%v: %q (killed after 60 s: a thread waits for a lock a cancelled one held)", err, out)
	}
	if seq := mustScan(t, log).logRecords("seq %d %d %d %d\n"); len(seq) == 0 {
		t.Errorf("no records")
	}
}
