package decoder

import (
	"bytes"
	"os"
	"regexp"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/logpack/logpack/internal/logfile"
)

// testdata/criu-like.lpk is the binary log of the CRIU-like example
// (examples/criu-like) built with logpack cc and run with -v4: a dump and a
// restore with three forked processes. testdata/criu-like.text.log is the
// text log of the same program built with plain gcc. Apart from timestamps
// and the pids in CRIU's pid prefix (two runs, two sets of pids), the
// decoded log must be the text log, byte for byte and in the same order.
func TestRealProgram(t *testing.T) {
	log := realLog(t)
	text, err := os.ReadFile("testdata/criu-like.text.log")
	if err != nil {
		t.Fatal(err)
	}
	out, skips := decodeAll(t, log, FormatCRIU, nil)
	if len(skips) != 0 {
		t.Errorf("skips: %v", skips)
	}
	prefix := regexp.MustCompile(`(?m)^\(\d\d+\.\d{6}\) (?: *\d+: )?`)
	norm := func(s string) string { return prefix.ReplaceAllString(s, "(TS) ") }
	if diff := cmp.Diff(norm(string(text)), norm(out)); diff != "" {
		t.Errorf("decoded log differs from the text log (-text +decoded):\n%s", diff)
	}
	// The pid prefix appears on as many lines as in the text log: those
	// of the processes that called log_init_by_pid, and their children.
	pidLines := regexp.MustCompile(`(?m)^\(\d\d+\.\d{6}\) +\d+: `)
	if a, b := len(pidLines.FindAllString(string(text), -1)), len(pidLines.FindAllString(out, -1)); a != b || a == 0 {
		t.Errorf("%d lines with a pid prefix in the text log, %d decoded", a, b)
	}
}

// The real log's TSC ticks convert to times that never go back, neither
// within a thread (also where it starts a new chunk) nor in the merged
// output.
func TestRealProgramTimesNeverGoBack(t *testing.T) {
	log := realLog(t)
	d, err := New(bytes.NewReader(log), int64(len(log)), nil)
	if err != nil {
		t.Fatal(err)
	}
	if d.Header().TSKind != logfile.TSTSC || d.Header().TSCHz != 0 {
		t.Fatalf("want a TSC log without a known frequency")
	}
	var prev int64
	n := 0
	for r, err := range d.Records() {
		if err != nil {
			t.Fatal(err)
		}
		n++
		if r.TS < prev {
			t.Errorf("record %d (pid %d tid %d, offset %d): time goes back from %d to %d ns", n, r.PID, r.TID, r.Offset, prev, r.TS)
		}
		prev = r.TS
	}
}

// realLog returns testdata/criu-like.lpk. It is written by the C runtime,
// not by the Go writer: a log of an older format version fails the tests
// that use it until it is regenerated with the current runtime (make
// examples, then examples/criu-like/build/logpack/criu-like -v4 with
// LOGPACK_FILE, and the plain build's -v4 text log beside it).
func realLog(t testing.TB) []byte {
	t.Helper()
	log, err := os.ReadFile("testdata/criu-like.lpk")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := logfile.ParseHeader(log); err != nil {
		t.Fatalf("testdata/criu-like.lpk: %v (regenerate it: see realLog)", err)
	}
	return log
}
