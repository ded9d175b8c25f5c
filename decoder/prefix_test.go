package decoder

import (
	"bytes"
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
	log := w.Bytes(0)

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
