package lpruntime_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/logpack/logpack/internal/testutil"
)

// A process exec'd with LOGPACK_FILE inherited joins its run's session
// (fork then exec, and exec in place); the next run appends a session of
// its own and leaves the first one's records alone.
func TestExecJoinsTheRun(t *testing.T) {
	t.Parallel()
	prog := buildProg(t, "joinexec")
	log := filepath.Join(t.TempDir(), "log")
	for runNo := 0; runNo < 2; runNo++ {
		if out := run(t, prog, log, "parent", "500"); out != "ok\n" {
			t.Fatalf("output %q", out)
		}
	}
	l := mustScan(t, log)
	var sessions []uint64
	procs := map[uint64]int{}
	for _, r := range l.Records {
		if r.Tag == 3 {
			if procs[r.Session] == 0 {
				sessions = append(sessions, r.Session)
			}
			procs[r.Session]++
			if (r.ProcFlag&1 != 0) != (procs[r.Session] == 1) {
				t.Errorf("process record %d of its session has flags %#x", procs[r.Session], r.ProcFlag)
			}
		}
	}
	if len(sessions) != 2 {
		t.Fatalf("%d sessions, want one per run", len(sessions))
	}
	for runNo, sess := range sessions {
		if procs[sess] != 3 {
			t.Errorf("run %d: %d process records, want 3 (parent, exec'd child, exec in place)", runNo, procs[sess])
		}
		counts := map[int64]int{}
		next := map[int64]int64{}
		for _, r := range l.logRecords("seq %d %d %d %d\n") {
			if r.Session != sess {
				continue
			}
			w, i := r.Args[0].(int64), r.Args[1].(int64)
			if i != next[w] {
				t.Fatalf("run %d writer %d: record %d, want %d", runNo, w, i, next[w])
			}
			next[w]++
			counts[w]++
		}
		if fmt.Sprint(counts) != "map[0:1000 1:500 2:500]" {
			t.Errorf("run %d: records per writer %v", runNo, counts)
		}
	}
}

// Records kept by logpack_early go into the log at logpack_open, before
// the later ones; what did not fit in the buffer is counted.
func TestEarlyBuffer(t *testing.T) {
	t.Parallel()
	prog := buildProg(t, "early")
	for _, n := range []int{10, 20000} {
		log := filepath.Join(t.TempDir(), "log")
		out := run(t, prog, "", fmt.Sprint(n), log)
		var dropped uint64
		var on int
		if _, err := fmt.Sscanf(out, "zero\nok %d %d\n", &dropped, &on); err != nil || on != 0 {
			t.Fatalf("output %q: %v", out, err)
		}
		if (n == 10) != (dropped == 0) {
			t.Errorf("%d early records: %d dropped", n, dropped)
		}
		l := mustScan(t, log)
		var seqs []int64
		var last uint64
		for _, r := range l.logRecords("seq %d %d %d %d\n") {
			seqs = append(seqs, r.Args[1].(int64))
			if r.TS < last {
				t.Errorf("record %v: timestamp goes back", r.Args)
			}
			last = r.TS
		}
		lost := int(dropped)
		if lost > 0 {
			lost-- // the early level record was dropped too
		}
		if len(seqs) != 2*n-lost {
			t.Fatalf("%d records, want %d", len(seqs), 2*n-lost)
		}
		for i, s := range seqs {
			if i < n-lost && s != int64(i) || i >= n-lost && s != int64(i+lost) {
				t.Fatalf("record %d is seq %d", i, s)
			}
		}
		lv := l.logRecords("lvl %d\n")
		if dropped == 0 && len(lv) != 2 || dropped != 0 && len(lv) != 1 {
			t.Errorf("%d level records", len(lv))
		}
		if _, sum := l.count(1); sum != dropped {
			t.Errorf("dropped markers count %d, the program %d", sum, dropped)
		}
	}
}

// The C API: attach a descriptor, flush, close (calls print again),
// reopen (a new session appended), fail cleanly on a bad path.
func TestAPI(t *testing.T) {
	t.Parallel()
	prog := buildProg(t, "api")
	log := filepath.Join(t.TempDir(), "log")
	if out := run(t, prog, "", log); out != "zero\nok 0\n" {
		t.Fatalf("output %q", out)
	}
	l := mustScan(t, log)
	checkWriters(t, l, 1, 6) // both parts, in order
	if n, _ := l.count(3); n != 2 {
		t.Errorf("%d process records, want one per open", n)
	}
	if l.Hdr.Flags&1 != 1 {
		t.Errorf("flags %#x after logpack_close", l.Hdr.Flags)
	}

	if out := run(t, prog, "", log, "fresh"); out != "zero\nok 0\n" {
		t.Fatalf("output %q", out)
	}
	l = mustScan(t, log)
	strs := l.logRecords("str %s\n")
	if len(l.logRecords("seq %d %d %d %d\n")) != 6 || len(strs) != 1 || strs[0].Args[0] != "fresh" {
		t.Errorf("opened again, the log lost old records or the new one: %d records", len(l.Records))
	}
}

// A relative LOGPACK_FILE names the log of the directory the run started
// in: a process that changes directory and then execs (or whose child
// does) still writes into it. (The exec'd ones made a second log in the
// new directory.)
func TestRelativeLogAfterChdir(t *testing.T) {
	t.Parallel()
	prog := buildProg(t, "joinexec")
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := command(prog, "parent", "50")
	cmd.Dir = dir
	cmd.Env = append(testutil.WithoutLogpack(), "LOGPACK_FILE=rel.lpk", "JOINEXEC_CD=sub")
	if out, err := cmd.CombinedOutput(); err != nil || string(out) != "ok\n" {
		t.Fatalf("%v: %q", err, out)
	}
	if _, err := os.Stat(filepath.Join(dir, "sub", "rel.lpk")); err == nil {
		t.Errorf("a second log in the new directory")
	}
	counts := map[int64]int{}
	for _, r := range mustScan(t, filepath.Join(dir, "rel.lpk")).logRecords("seq %d %d %d %d\n") {
		counts[r.Args[0].(int64)]++
	}
	if fmt.Sprint(counts) != "map[0:100 1:50 2:50]" {
		t.Errorf("records per writer %v, want all in the one log", counts)
	}
}
