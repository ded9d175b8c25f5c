package runtime_test

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
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
	log := filepath.Join(t.TempDir(), "log")
	cmd := command(prog, log, "30")
	cmd.Env = append(withoutLogpackEnv(), "TSAN_OPTIONS=halt_on_error=1 exitcode=66 report_signal_unsafe=0")
	out, err := cmd.CombinedOutput()
	if err != nil || strings.Contains(string(out), "ThreadSanitizer") {
		t.Fatalf("%v\n%s", err, out)
	}
	if !strings.Contains(string(out), "done") {
		t.Fatalf("no done in\n%s", out)
	}
	l := mustScan(t, log)
	if len(l.Records) == 0 {
		t.Errorf("no records in the log")
	}
}
