package decoder

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/logpack/logpack/fmtdb"
	"github.com/logpack/logpack/internal/logfile"
)

// In CRIU's layout a line starts with the pid exactly where CRIU would
// print it: in processes that called log_init_by_pid (a prefix site, whose
// records are not lines), from that call on, and in the children they fork
// afterwards, which keep their parent's prefix of the moment they started
// until they record their own. Processes that never called it, like
// CRIU's helpers forked for kerndat or usernsd, print no prefix.
func TestPidPrefixes(t *testing.T) {
	log := prefixLog()
	out, skips := decodeAll(t, log, FormatCRIU, nil)
	want := `(00.000100) main: no prefix
(00.000300) helper: no prefix
(00.000450) task: before log_init_by_pid
(00.000600)    200: task: after
(00.000650)    200: task's thread: its process's prefix
(00.000800)    200: child: inherited
(00.000860)    999: task: its new prefix
(00.000900)    200: child: still what it inherited
(00.001100)    300: child: its own
(00.001300)    300: grandchild: inherited from the child
(00.001400) main: still no prefix
`
	if diff := cmp.Diff(want, out); diff != "" || len(skips) != 0 {
		t.Errorf("criu format (-want +got):\n%s\nskips %v", diff, skips)
	}
	// Prefix records are lines in no format, and a level filter does not
	// drop them (the decoder keeps the prefixes, not the writer).
	for _, f := range []Format{FormatPlain, FormatJSON} {
		out, _ := decodeAll(t, log, f, nil)
		if strings.Count(out, "\n") != 11 || strings.Contains(out, "999") {
			t.Errorf("%v: prefix records in the output:\n%s", f, out)
		}
	}
	d := open(t, log)
	var buf bytes.Buffer
	wr := NewWriter(&buf, FormatCRIU, &WriterOptions{Verbosity: 4})
	f := NewFilter()
	f.MaxLevel = 3 // the prefix site is level 4
	for r, err := range d.Records() {
		if err != nil {
			t.Fatal(err)
		}
		if f.Keep(r) {
			wr.WriteRecord(r)
		}
	}
	wr.Flush()
	if buf.String() != want {
		t.Errorf("filtered by level:\n%s", buf.String())
	}
	// Statistics count them as records of their site.
	st, err := d.Stats()
	if err != nil || st.Records != 14 {
		t.Errorf("stats: %d records, %v", st.Records, err)
	}
}

// A restore as CRIU does it, twice in one log: the restored tasks live
// in a new pid namespace, so their pids (1, 5, ...) are the same in both
// runs, the root task's parent pid is 0, and a task may even have the
// pid of the criu process restoring it. Each task's lines carry its own
// prefix from its log_init_by_pid on, and its parent's before (CRIU's
// "PID: real ... virt ..." comes before it); criu's own lines none,
// however the chunks of the processes that share its pid interleave.
func TestPidPrefixesInPidNamespaces(t *testing.T) {
	say := site(4, "criu/cr-restore.c", 1, "%s %d\n", fmtdb.ClassStr, fmtdb.ClassI32)
	w := newLog(116)
	var want strings.Builder
	line := func(th *logfile.Thread, ts uint64, prefix, text string, n int) {
		th.Log(say, ts, 0, fmtdb.String(text), fmtdb.Int(int64(n)))
		fmt.Fprintf(&want, "%s%s %d\n", prefix, text, n)
	}
	initByPid := func(th *logfile.Thread, ts uint64, pid int64) { th.LogDesc(&initByPID, ts, 0, fmtdb.Int(pid)) }
	restore := func(id uint64, criuPID uint32, t0 uint64) {
		main := w.Thread(criuPID, criuPID)
		start(main, t0, id, 1, logfile.ProcStarted, "/usr/sbin/criu", "criu", "restore")
		line(main, t0+10, "", "criu: restoring", 0)
		root := w.Thread(1, 1)
		start(root, t0+20, id, 0, 0, "/usr/sbin/criu")
		line(root, t0+30, "", "root: PID: real 150 virt", 1)
		initByPid(root, t0+40, 1)
		line(root, t0+50, "     1: ", "root: restoring", 1)
		task := w.Thread(5, 5)
		start(task, t0+60, id, 1, 0, "/usr/sbin/criu")
		line(task, t0+70, "     1: ", "PID: real 151 virt", 5)
		initByPid(task, t0+80, 5)
		line(task, t0+90, "     5: ", "task: restoring", 5)
		// A task with criu's own pid; both go on logging, chunk after
		// chunk.
		twin := w.Thread(criuPID, criuPID)
		start(twin, t0+100, id, 1, 0, "/usr/sbin/criu")
		line(twin, t0+110, "     1: ", "PID: real 152 virt", int(criuPID))
		initByPid(twin, t0+120, int64(criuPID))
		for i := range 300 {
			ts := t0 + 200 + uint64(i)*10
			line(twin, ts, fmt.Sprintf("%6d: ", criuPID), "twin: restoring vma", i)
			if i%2 == 0 {
				line(main, ts+5, "", "criu: waiting for the tasks to restore their memory", i)
			}
		}
		line(main, t0+5000, "", "criu: restore finished", 0)
	}
	restore(0x1111, 116, 1000)
	restore(0x2222, 300, 100_000)
	log := w.Bytes(0)
	d := open(t, log)
	var out bytes.Buffer
	wr := NewWriter(&out, FormatCRIU, &WriterOptions{Verbosity: 2})
	for r, err := range d.Records() {
		if err != nil {
			t.Fatal(err)
		}
		wr.WriteRecord(r)
	}
	wr.Flush()
	if diff := cmp.Diff(want.String(), out.String()); diff != "" {
		t.Errorf("criu format at verbosity 2 (-want +got):\n%s", diff)
	}
	if len(d.Skipped()) != 0 {
		t.Errorf("skips: %v", d.Skipped())
	}
	// The chunks of both processes of pid 116 interleave in the file.
	var owners []int
	for _, c := range d.byKey[116<<32|116].chunks {
		if n := len(owners); n == 0 || owners[n-1] != int(c.proc.Offset) {
			owners = append(owners, int(c.proc.Offset))
		}
	}
	if len(owners) < 4 {
		t.Errorf("the test's chunks do not interleave: %v", owners)
	}
}

// A program that a prefixed process's child execs starts afresh: no
// prefix, as its memory (CRIU's log buffer) is new; so does a program
// started with the session's variable set (joining it) by another run.
func TestNoPrefixAfterExec(t *testing.T) {
	say := site(3, "criu/cr-restore.c", 1, "%s\n", fmtdb.ClassStr)
	w := newLog(100)
	main := w.Thread(100, 100)
	start(main, 1000, session, 1, logfile.ProcStarted, "/usr/sbin/criu", "criu", "restore")
	task := w.Thread(200, 200)
	start(task, 2000, session, 100, 0, "/usr/sbin/criu")
	task.LogDesc(&initByPID, 2100, 0, fmtdb.Int(200))
	child := w.Thread(300, 300)
	start(child, 2200, session, 200, 0, "/usr/sbin/criu")
	child.Log(say, 2300, 0, fmtdb.String("forked child"))
	exe := w.Thread(300, 300)
	start(exe, 2400, session, 200, logfile.ProcExec, "/usr/sbin/criu", "criu", "swrk")
	exe.Log(say, 2500, 0, fmtdb.String("exec'd program"))
	task.Log(say, 2600, 0, fmtdb.String("task"))
	out, skips := decodeAll(t, w.Bytes(0), FormatCRIU, nil)
	want := "(00.000001)    200: forked child\n(00.000001) exec'd program\n(00.000001)    200: task\n"
	if out != want || len(skips) != 0 {
		t.Errorf("got:\n%s\nwant:\n%s\nskips %v", out, want, skips)
	}
}

// CRIU's layout around log_init_by_pid (criu/log.c): the pid prefix goes
// into the buffer after the room kept for the timestamp, so a line is
// "(SS.uuuuuu) " + prefix + message at verbosity 3 and more, prefix +
// message below, and a message at level 0 (pr_msg, to stdout) has
// neither. The prefix record itself (level 0 in the log) is no line:
// the first line after it carries the prefix once.
func TestCRIULayoutAroundThePrefix(t *testing.T) {
	say := site(4, "criu/cr-restore.c", 1, "%s\n", fmtdb.ClassStr)
	msg := site(0, "criu/cr-restore.c", 2, "%s\n", fmtdb.ClassStr)
	prefix := initByPID
	prefix.Level = 0 // as logpack cc records log_init_by_pid
	w := newLog(100)
	main := w.Thread(100, 100)
	start(main, 1000_000, session, 1, logfile.ProcStarted, "/usr/sbin/criu", "criu", "restore")
	task := w.Thread(5, 5)
	start(task, 1100_000, session, 100, 0, "/usr/sbin/criu")
	task.Log(say, 1200_000, 0, fmtdb.String("PID: real 151 virt 5"))
	task.LogDesc(&prefix, 1300_000, 0, fmtdb.Int(5))
	task.Log(say, 1400_000, 0, fmtdb.String("cg: Cgroups 1 inherited from parent"))
	task.Log(msg, 1500_000, 0, fmtdb.String("a message for the user"))
	log := w.Bytes(0)
	for _, tc := range []struct {
		verbosity int
		want      string
	}{
		{4, "(00.000200) PID: real 151 virt 5\n(00.000400)      5: cg: Cgroups 1 inherited from parent\na message for the user\n"},
		{2, "PID: real 151 virt 5\n     5: cg: Cgroups 1 inherited from parent\na message for the user\n"},
	} {
		d := open(t, log)
		var out bytes.Buffer
		wr := NewWriter(&out, FormatCRIU, &WriterOptions{Verbosity: tc.verbosity})
		for r, err := range d.Records() {
			if err != nil {
				t.Fatal(err)
			}
			wr.WriteRecord(r)
		}
		wr.Flush()
		if out.String() != tc.want {
			t.Errorf("verbosity %d:\n%s\nwant:\n%s", tc.verbosity, out.String(), tc.want)
		}
	}
}

// CRIU keeps 12 bytes for its timestamp and cuts "(%02u.%06u" to 10 of
// them before ") ": past 99 seconds the seconds push out microsecond
// digits.
func TestCRIUTimestamp(t *testing.T) {
	criu := func(ns int64) string { // criu/log.c's print_ts, in Go
		s := fmt.Sprintf("(%02d.%06d", ns/1e9, ns%1e9/1e3)
		return s[:min(len(s), 10)] + ") "
	}
	for _, ns := range []int64{0, 1, 999, 1000, 12_345_678_901, 99_999_999_999, 100_000_000_000, 123_456_789_012, 9999_999_999_999, 10785215_852_141_000} {
		got := string(AppendCRIUTime(nil, ns))
		if want := criu(ns); got != want || len(got) != 12 {
			t.Errorf("%d ns: %q, want %q", ns, got, want)
		}
		if back, n := parseCRIUTime([]byte(got + "x")); n != 12 || back > ns || ns-back >= 1_000_000_000 {
			t.Errorf("%d ns: %q parses as %d (%d bytes)", ns, got, back, n)
		}
	}
}

// prefixLog is a restore's log with prefix sites: the main process and a
// helper without a prefix, a task that calls log_init_by_pid twice, its
// thread, a child that inherits the prefix and then records its own, and
// a grandchild.
func prefixLog() []byte {
	say := site(3, "criu/cr-restore.c", 1, "%s\n", fmtdb.ClassStr)
	w := newLog(100) // times below: µs
	main := w.Thread(100, 100)
	start(main, 1000_000, session, 1, logfile.ProcStarted, "/usr/sbin/criu", "criu", "restore")
	line := func(th *logfile.Thread, ts uint64, text string) { th.Log(say, ts, 0, fmtdb.String(text)) }
	initByPid := func(th *logfile.Thread, ts uint64, pid int64) { th.LogDesc(&initByPID, ts, 0, fmtdb.Int(pid)) }

	line(main, 1100_000, "main: no prefix")
	helper := w.Thread(101, 101) // kerndat's netns probe
	start(helper, 1200_000, session, 100, 0, "/usr/sbin/criu")
	line(helper, 1300_000, "helper: no prefix")
	task := w.Thread(200, 200) // a restored task
	start(task, 1400_000, session, 100, 0, "/usr/sbin/criu")
	line(task, 1450_000, "task: before log_init_by_pid")
	initByPid(task, 1500_000, 200)
	line(task, 1600_000, "task: after")
	thread := w.Thread(200, 201)
	line(thread, 1650_000, "task's thread: its process's prefix")
	child := w.Thread(300, 300) // forked by the task
	start(child, 1700_000, session, 200, 0, "/usr/sbin/criu")
	line(child, 1800_000, "child: inherited")
	initByPid(task, 1850_000, 999) // the task changes its prefix later
	line(task, 1860_000, "task: its new prefix")
	line(child, 1900_000, "child: still what it inherited")
	initByPid(child, 2000_000, 300)
	line(child, 2100_000, "child: its own")
	grandchild := w.Thread(400, 400) // forked by the child after that
	start(grandchild, 2200_000, session, 300, 0, "/usr/sbin/criu")
	line(grandchild, 2300_000, "grandchild: inherited from the child")
	line(main, 2400_000, "main: still no prefix")
	return w.Bytes(0)
}
