package lpruntime_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/logpack/logpack/internal/testutil"
)

// checkWriters verifies that writers 0..nw-1 each logged seq 0..n-1
// exactly once, in order, from the pid/tid their chunk names.
func checkWriters(t *testing.T, l *scanLog, nw, n int) {
	t.Helper()
	next := make([]int, nw)
	who := map[int][2]uint32{}
	for _, r := range l.logRecords("seq %d %d %d %d\n") {
		w, i := int(r.Args[0].(int64)), int(r.Args[1].(int64))
		if w < 0 {
			continue
		}
		if w >= nw {
			t.Fatalf("offset %d: writer %d", r.Off, w)
		}
		if i != next[w] {
			t.Fatalf("offset %d: writer %d record %d, want %d (lost, duplicated or reordered)", r.Off, w, i, next[w])
		}
		next[w]++
		pid, tid := uint32(r.Args[2].(int64)), uint32(r.Args[3].(int64))
		if r.Pid != pid || r.Tid != tid {
			t.Fatalf("offset %d: writer %d (pid %d tid %d) in a chunk of pid %d tid %d", r.Off, w, pid, tid, r.Pid, r.Tid)
		}
		if p, ok := who[w]; ok && p != [2]uint32{pid, tid} {
			t.Fatalf("writer %d changed from %v to %d/%d", w, p, pid, tid)
		}
		who[w] = [2]uint32{pid, tid}
	}
	for w, c := range next {
		if c != n {
			t.Errorf("writer %d: %d records, want %d", w, c, n)
		}
	}
}

// Fork children, a raw clone child and threads log at the same time into
// one log: every record arrives once, whole, in its writer's order, with
// its writer's pid and tid.
func TestForkCloneThreads(t *testing.T) {
	t.Parallel()
	prog := buildProg(t, "procs")
	log := filepath.Join(t.TempDir(), "log")
	cmd := command(prog, "5000")
	cmd.Env = append(testutil.WithoutLogpack(), "LOGPACK_FILE="+log)
	out, err := cmd.CombinedOutput()
	if err != nil || string(out) != "ok 0\n" {
		t.Fatalf("%v: %s", err, out)
	}
	l := mustScan(t, log)
	checkWriters(t, l, 10, 5000)
	pids := map[uint32]bool{}
	for _, r := range l.Records {
		if r.Tag == 3 {
			if pids[r.Pid] {
				t.Errorf("two process records for pid %d", r.Pid)
			}
			pids[r.Pid] = true
		}
	}
	if len(pids) != 6 {
		t.Errorf("%d processes wrote a process record, want 6", len(pids))
	}
	if n, _ := l.count(1); n != 0 || l.Hdr.Dropped != 0 {
		t.Errorf("%d dropped markers, header dropped %d", n, l.Hdr.Dropped)
	}
	if recs, ok := decodeJSON(t, log); ok {
		n := 0
		for _, r := range recs {
			if strings.HasPrefix(r.Msg, "seq ") {
				f := strings.Fields(r.Msg)
				if f[3] != strconv.Itoa(int(r.Pid)) || f[4] != strconv.Itoa(int(r.Tid)) {
					t.Fatalf("decoded %+v", r)
				}
				n++
			}
		}
		if n != 10*5000+1 {
			t.Errorf("decoder gave %d seq records, want %d", n, 10*5000+1)
		}
	}
}

// A log call makes no system call once its thread has a chunk: counted
// with strace over a run where every writer logs many records.
func TestNoSystemCallPerRecord(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("strace"); err != nil {
		t.Skip("strace not found")
	}
	prog := buildProg(t, "procs")
	dir := t.TempDir()
	log := filepath.Join(dir, "log")
	count := func(n int) int {
		sum := filepath.Join(dir, fmt.Sprint("strace", n))
		cmd := exec.Command("strace", "-f", "-c", "-o", sum, prog, strconv.Itoa(n))
		cmd.Env = append(testutil.WithoutLogpack(), "LOGPACK_FILE="+log)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("strace: %v\n%s", err, out)
		}
		b, err := os.ReadFile(sum)
		if err != nil {
			t.Fatal(err)
		}
		// Waiting for another grower (yielding, sleeping) is not
		// counted: how often depends on how the writers are scheduled.
		waits := map[string]bool{"sched_yield": true, "nanosleep": true, "clock_nanosleep": true, "futex": true}
		total, found := 0, false
		for _, line := range strings.Split(string(b), "\n") {
			f := strings.Fields(line)
			if len(f) < 5 || f[0] == "%" || strings.HasPrefix(f[0], "-") {
				continue
			}
			if f[len(f)-1] == "total" {
				found = true
				continue
			}
			if c, err := strconv.Atoi(f[3]); err == nil && !waits[f[len(f)-1]] {
				total += c
			}
		}
		if !found {
			t.Fatalf("no total in strace summary:\n%s", b)
		}
		return total
	}
	small, large := count(100), count(20100)
	// 10 writers x 20000 more records: allow one system call per 200
	// records (chunk claims, growth, prefaulting).
	if extra := large - small; extra > 10*20000/200 {
		t.Errorf("%d more system calls for 200000 more records", extra)
	}
	t.Logf("system calls: %d for 10x100 records, %d for 10x20100", small, large)
}
