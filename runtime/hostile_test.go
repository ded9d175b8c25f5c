package lpruntime_test

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/logpack/logpack/internal/testutil"
)

// A record whose log call returned survives a SIGKILL of its process.
func TestSurvivesSIGKILL(t *testing.T) {
	t.Parallel()
	prog := buildProg(t, "crash")
	for _, n := range []int{1, 1000, 54321} {
		log := filepath.Join(t.TempDir(), "log")
		cmd := command(prog, "self", strconv.Itoa(n))
		cmd.Env = append(testutil.WithoutLogpack(), "LOGPACK_FILE="+log)
		err := cmd.Run()
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
			t.Fatalf("%d records: want death by SIGKILL, got %v", n, err)
		}
		l := mustScan(t, log)
		checkWriters(t, l, 1, n)
		if l.Hdr.Flags&1 != 0 {
			t.Errorf("killed writer: flags %#x claim a clean close", l.Hdr.Flags)
		}
		if recs, ok := decodeJSON(t, log); ok && len(recs) != n {
			t.Errorf("decoder: %d records, want %d", len(recs), n)
		}
	}
}

// Killed while four threads are mid-record: what is in the log is whole,
// and each thread's records form an unbroken prefix of its sequence.
func TestKilledMidRecord(t *testing.T) {
	t.Parallel()
	prog := buildProg(t, "crash")
	for round := 0; round < 3; round++ {
		log := filepath.Join(t.TempDir(), "log")
		cmd := command(prog, "threads")
		cmd.Env = append(testutil.WithoutLogpack(), "LOGPACK_FILE="+log)
		stdout, _ := cmd.StdoutPipe()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		bufio.NewReader(stdout).ReadString('\n')
		time.Sleep(time.Duration(round*2) * time.Millisecond)
		cmd.Process.Kill()
		cmd.Wait()
		l := mustScan(t, log)
		next := map[int64]int64{}
		for _, r := range l.logRecords("seq %d %d %d %d\n") {
			w, i := r.Args[0].(int64), r.Args[1].(int64)
			if i != next[w] {
				t.Fatalf("writer %d: record %d after %d", w, i, next[w]-1)
			}
			next[w]++
		}
		if len(next) != 4 {
			t.Errorf("%d writers logged before the kill, want 4", len(next))
		}
	}
}

func runHostile(t *testing.T, env []string, args ...string) (dropped uint64) {
	t.Helper()
	prog := buildProg(t, "hostile")
	cmd := command(prog, args...)
	cmd.Env = append(testutil.WithoutLogpack(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("hostile %s: %v (must exit 0: no signal, errno kept)\n%s", strings.Join(args, " "), err, out)
	}
	s := string(out)
	if i := strings.LastIndex(s, "ok "); i >= 0 {
		s = s[i:]
	}
	if !strings.HasPrefix(s, "ok ") {
		t.Fatalf("hostile output %q", out)
	}
	d, _ := strconv.ParseUint(strings.TrimSpace(s[3:]), 10, 64)
	return d
}

// checkFull verifies a log that ran out of space: no damage, a prefix of
// the records, and the drops counted in the header and in a marker.
func checkFull(t *testing.T, log string, n int, dropped uint64) {
	t.Helper()
	l := mustScan(t, log)
	got := len(l.logRecords("seq %d %d %d %d\n"))
	if dropped == 0 || got == 0 || uint64(got)+dropped != uint64(n) {
		t.Errorf("%d records logged + %d dropped, want %d in all with some of each", got, dropped, n)
	}
	if l.Hdr.Dropped != dropped {
		t.Errorf("header counts %d dropped, the program %d", l.Hdr.Dropped, dropped)
	}
	if m, sum := l.count(1); m == 0 || sum == 0 || sum > dropped {
		t.Errorf("%d dropped markers for %d records, want at least one for at most %d", m, sum, dropped)
	}
	next := 0
	for _, r := range l.logRecords("seq %d %d %d %d\n") {
		if int(r.Args[1].(int64)) < next {
			t.Fatalf("record %v after %d", r.Args, next)
		}
		next = int(r.Args[1].(int64)) + 1
	}
}

// RLIMIT_FSIZE: the log stops at the limit without SIGXFSZ.
func TestFileSizeLimit(t *testing.T) {
	t.Parallel()
	log := filepath.Join(t.TempDir(), "log")
	const n = 200000
	d := runHostile(t, nil, "fsize", strconv.Itoa(n), log)
	if fi, err := os.Stat(log); err != nil || fi.Size() > 1<<20 {
		t.Errorf("log size %v over the 1 MiB limit (%v)", fi.Size(), err)
	}
	checkFull(t, log, n, d)
}

// LOGPACK_MAX_BYTES caps the mapping: the log cannot grow past it.
func TestMappingCannotGrow(t *testing.T) {
	t.Parallel()
	log := filepath.Join(t.TempDir(), "log")
	const n = 200000
	d := runHostile(t, []string{"LOGPACK_FILE=" + log, "LOGPACK_MAX_BYTES=262144"}, "plain", strconv.Itoa(n))
	checkFull(t, log, n, d)
}

// A full filesystem (a tiny tmpfs; needs root): logging degrades.
func TestDiskFull(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=512k", "logpack-test", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a small tmpfs: %v %s", err, bytes.TrimSpace(out))
	}
	defer exec.Command("umount", dir).Run()
	log := filepath.Join(dir, "log")
	const n = 200000
	d := runHostile(t, []string{"LOGPACK_FILE=" + log}, "plain", strconv.Itoa(n))
	checkFull(t, log, n, d)
}

// An unusable path leaves logging off and the program as it was, and
// says why once on stderr: whoever set LOGPACK_FILE asked for it.
func TestBadPath(t *testing.T) {
	t.Parallel()
	prog := buildProg(t, "hostile")
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for p, why := range map[string]string{
		"/proc/version":        "it is left alone",
		"/nonexistent/dir/log": "No such file or directory",
		dir:                    "Is a directory",
		fifo:                   "not a regular file",
		"/dev/full":            "not a regular file",
	} {
		cmd := command(prog, "plain", "3")
		cmd.Env = append(testutil.WithoutLogpack(), "LOGPACK_FILE="+p)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		stdout, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		want := "logpack: LOGPACK_FILE=" + p + ": "
		if e := stderr.String(); !strings.HasPrefix(e, want) || !strings.Contains(e, why) ||
			!strings.HasSuffix(e, "; binary logging is off\n") || strings.Count(e, "\n") != 1 {
			t.Errorf("LOGPACK_FILE=%s: stderr %q, want one line %q...%q...", p, e, want, why)
		}
		out := string(stdout)
		lines := strings.Split(out, "\n")
		if len(lines) != 5 || !strings.HasPrefix(lines[2], "seq 0 2 ") || lines[3] != "ok 0" {
			t.Errorf("LOGPACK_FILE=%s: output %q, want three text lines and ok 0", p, out)
		}
	}
}

// A log that cannot be made (here a file size limit below its header's
// page) leaves logging off, says why, and leaves no empty file behind
// under the name: a later run with the same LOGPACK_FILE makes the log.
func TestFailedLogLeavesNoFile(t *testing.T) {
	t.Parallel()
	prog := buildProg(t, "hostile")
	log := filepath.Join(t.TempDir(), "log")
	cmd := command("sh", "-c", `ulimit -f 1 && exec "$0" plain 3`, prog)
	cmd.Env = append(testutil.WithoutLogpack(), "LOGPACK_FILE="+log)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if out, err := cmd.Output(); err != nil || !strings.HasSuffix(string(out), "ok 0\n") {
		t.Fatalf("under ulimit -f 1: %v, output %q", err, out)
	}
	if e := stderr.String(); !strings.Contains(e, "LOGPACK_FILE="+log+": the file size limit (ulimit -f) is too small") {
		t.Errorf("stderr %q, want why logging is off", e)
	}
	if _, err := os.Lstat(log); !os.IsNotExist(err) {
		t.Errorf("after the failed log: %v, want no file", err)
	}
	runHostile(t, []string{"LOGPACK_FILE=" + log}, "plain", "3")
	if got := len(mustScan(t, log).logRecords("seq %d %d %d %d\n")); got != 3 {
		t.Errorf("the next run logged %d records, want 3", got)
	}
}

// The program closes the log's descriptor and dup2s another file over
// it: the log goes on (found again by its path) and the other file is
// left alone.
func TestDescriptorClobbered(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	log, victim := filepath.Join(dir, "log"), filepath.Join(dir, "victim")
	content := bytes.Repeat([]byte("victim\n"), 1000)
	if err := os.WriteFile(victim, content, 0o644); err != nil {
		t.Fatal(err)
	}
	const n = 300000 // more than the first allocation: the log must grow
	if d := runHostile(t, []string{"LOGPACK_FILE=" + log}, "clobber", strconv.Itoa(n), victim); d != 0 {
		t.Errorf("%d records dropped", d)
	}
	if b, _ := os.ReadFile(victim); !bytes.Equal(b, content) {
		t.Errorf("the file dup2'd over the log's descriptor changed (%d bytes)", len(b))
	}
	checkWriters(t, mustScan(t, log), 2, n)
}

// The log file is unlinked while in use: the program goes on unharmed.
func TestLogUnlinked(t *testing.T) {
	t.Parallel()
	log := filepath.Join(t.TempDir(), "log")
	runHostile(t, []string{"LOGPACK_FILE=" + log}, "unlink", "300000", log)
}

// A signal handler that logs while the code it interrupted is logging:
// the interrupted records are intact, the handler's records arrive in
// order, and those that could not be written are counted as dropped.
func TestLoggingFromSignalHandler(t *testing.T) {
	t.Parallel()
	prog := buildProg(t, "signal")
	log := filepath.Join(t.TempDir(), "log")
	const n = 300000
	out := run(t, prog, log, strconv.Itoa(n))
	var handled int
	var dropped uint64
	if _, err := fmt.Sscanf(out, "ok %d %d\n", &handled, &dropped); err != nil {
		t.Fatalf("output %q: %v", out, err)
	}
	l := mustScan(t, log)
	var main, inHandler int
	last := int64(-1)
	for _, r := range l.logRecords("seq %d %d %d %d\n") {
		w, i := r.Args[0].(int64), r.Args[1].(int64)
		switch w {
		case 0:
			if i != int64(main) {
				t.Fatalf("main record %d, want %d", i, main)
			}
			main++
		case 1:
			if i <= last {
				t.Fatalf("handler record %d after %d", i, last)
			}
			last = i
			inHandler++
		}
	}
	if main != n {
		t.Errorf("%d main records, want %d", main, n)
	}
	if handled == 0 || uint64(inHandler)+dropped != uint64(handled) {
		t.Errorf("handler ran %d times: %d records + %d dropped", handled, inHandler, dropped)
	}
	t.Logf("%d handler calls, %d logged, %d dropped as nested", handled, inHandler, dropped)
}
