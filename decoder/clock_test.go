package decoder

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/logpack/logpack/fmtdb"
	"github.com/logpack/logpack/internal/logfile"
)

// trueMono is the CLOCK_MONOTONIC reading at a tick of the synthetic TSC
// below: 0.4 ns per tick, 500 ppm faster from the calibration pair at tick
// 1_050_001_000 on (a slew), so no single rate fits the whole run.
func trueMono(ts uint64) uint64 {
	const knee = 1_050_001_000
	if ts <= knee {
		return 5000 + (ts-1000)*2/5
	}
	return trueMono(knee) + (ts-knee)*4002/10000
}

// TSC ticks without a known frequency convert through the calibration
// pairs (chunk headers and clock records) of all writers: a writer whose
// ticks do not go back gets times that do not go back, also where its next
// chunk starts, each time lies within a few ns of the true clock, and a
// damaged pair far off the others is ignored. Converting from the last
// pair with the fitted rate instead stepped back by about 40 µs at the
// chunk boundary after the slew.
func TestTSCTimesFollowThePairs(t *testing.T) {
	w := logfile.NewWriter(logfile.Header{FirstPID: 1, TSKind: logfile.TSTSC, StartTS: 1000, StartMonoNS: 5000}, 4096)
	a, b := w.Thread(1, 1), w.Thread(1, 2)
	a.Mono, b.Mono = trueMono, trueMono
	var ticks []uint64
	for ts := uint64(1000); ts < 3_000_000_000; ts += 7_000_000 {
		ticks = append(ticks, ts)
	}
	for i, ts := range ticks {
		switch {
		case i == 0:
			a.Claim(ts)
		case i == 25:
			b.Claim(ts + 1)
		case i%100 == 50:
			a.Log(siteHello, ts-500, 0, fmtdb.Int(-1)) // 200 ns before the pair
			a.Claim(ts)                                // a new chunk, and with it a calibration pair
		case i == 320:
			b.Clock(ts, trueMono(ts)+3_000_000) // read across a 3 ms preemption
		}
		a.Log(siteHello, ts, 0, fmtdb.Int(int64(i)))
		if i%50 == 25 {
			b.Log(siteHello, ts+1, 0, fmtdb.Int(int64(i)))
		}
	}
	log := w.Bytes(0)
	d, err := New(bytes.NewReader(log), int64(len(log)), nil)
	if err != nil {
		t.Fatal(err)
	}
	last := map[uint32]int64{}
	n := 0
	for r, err := range d.Records() {
		if err != nil {
			t.Fatal(err)
		}
		n++
		if prev, ok := last[r.TID]; ok && r.TS < prev {
			t.Errorf("thread %d: time goes back from %d to %d ns at tick %d", r.TID, prev, r.TS, r.raw)
		}
		last[r.TID] = r.TS
		// Exact between pairs up to rounding; past the last one (tick
		// 2_450_001_000) the mean rate extrapolates, off by the slew.
		want := int64(trueMono(r.raw) - 5000)
		if diff := r.TS - want; r.raw <= 2_450_001_000 && (diff < -5 || diff > 5) {
			t.Errorf("thread %d, tick %d: %d ns, want %d", r.TID, r.raw, r.TS, want)
		}
	}
	if want := len(ticks) + (len(ticks)+24)/50 + (len(ticks)+49)/100; n != want {
		t.Errorf("%d records, want %d", n, want)
	}
}

// hostMono is CLOCK_MONOTONIC at a tick of the TSC of the time namespace
// tests: 0.4 ns per tick.
func hostMono(ts uint64) uint64 { return 7_000_000_000 + ts*2/5 }

// inNamespace returns the clock of a time namespace whose CLOCK_MONOTONIC
// is off the host's by off ns.
func inNamespace(off int64) func(uint64) uint64 {
	return func(ts uint64) uint64 { return uint64(int64(hostMono(ts)) + off) }
}

// One log holds runs whose processes read CLOCK_MONOTONIC with different
// offsets (time namespaces: zdtm runs criu in one shifted by 110 days,
// and a restore puts its tasks in one of their own, which a task may
// enter after it has logged) while the TSC is one counter. Times follow
// the ticks: each session starts at 0 and every record is where its
// ticks say, whatever clock the pairs around it read.
func TestTSCTimesAcrossTimeNamespaces(t *testing.T) {
	const days110 = 110 * 86400 * 1_000_000_000
	w := logfile.NewWriter(logfile.Header{FirstPID: 100, TSKind: logfile.TSTSC, StartTS: 1000, StartMonoNS: hostMono(1000)}, 4096)
	say := site(3, "criu/cr-restore.c", 1, "%s %d\n", fmtdb.ClassStr, fmtdb.ClassI32)
	type want struct {
		sess int
		ns   int64
	}
	var wants []want
	var origins [3]uint64
	logAt := func(th *logfile.Thread, sess int, ts uint64, text string) {
		th.Log(say, ts, 0, fmtdb.String(text), fmtdb.Int(int64(len(wants))))
		wants = append(wants, want{sess, int64(hostMono(ts) - hostMono(origins[sess]))})
	}
	// Session 1 on the host: criu restores a task, which logs on the
	// host's clock, then enters the restored tree's namespace (3 s behind)
	// and goes on in new chunks.
	origins[1] = 10_000
	main := w.Thread(100, 100)
	main.Mono = hostMono
	start(main, origins[1], 1, 1, logfile.ProcStarted, "/usr/sbin/criu", "criu", "restore")
	for i := range 40 {
		logAt(main, 1, origins[1]+uint64(i)*50_000_000, "main")
		if i%10 == 9 {
			main.Claim(origins[1] + uint64(i)*50_000_000 + 1000)
		}
	}
	task := w.Thread(1, 1)
	task.Mono = hostMono
	start(task, origins[1]+60_000_000, 1, 0, 0, "/usr/sbin/criu")
	logAt(task, 1, origins[1]+70_000_000, "task on the host's clock")
	task.Mono = inNamespace(-3_000_000_000)
	for i := range 30 {
		ts := origins[1] + 100_000_000 + uint64(i)*40_000_000
		if i%6 == 0 {
			task.Claim(ts)
		}
		logAt(task, 1, ts, "task in its namespace")
		if i%6 == 3 {
			task.Clock(ts+10, task.Mono(ts+10))
		}
	}
	// Session 2: criu in a namespace 110 days ahead, its task 3 s behind
	// that.
	origins[2] = 5_000_000_000
	crit := w.Thread(200, 200)
	crit.Mono = inNamespace(days110)
	start(crit, origins[2], 2, 1, logfile.ProcStarted, "/usr/sbin/criu", "criu", "restore")
	task2 := w.Thread(1, 1)
	task2.Mono = inNamespace(days110 - 3_000_000_000)
	for i := range 40 {
		ts := origins[2] + 1000 + uint64(i)*30_000_000
		logAt(crit, 2, ts, "criu in the shifted namespace")
		if i == 5 {
			start(task2, ts+10, 2, 0, 0, "/usr/sbin/criu")
		}
		if i > 5 {
			logAt(task2, 2, ts+20, "its task")
		}
		if i%8 == 7 {
			crit.Claim(ts + 100)
			task2.Claim(ts + 200)
		}
	}
	log := w.Bytes(0)
	d, err := newDecoder(log)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Sessions()) != 2 {
		t.Fatalf("%d sessions", len(d.Sessions()))
	}
	prev := map[int]int64{}
	n := 0
	for r, err := range d.Records() {
		if err != nil {
			t.Fatal(err)
		}
		k := int(r.Args[1].Bits)
		wt := wants[k]
		if got := r.Proc.Session.N; got != wt.sess {
			t.Errorf("record %d: session %d, want %d", k, got, wt.sess)
		}
		if diff := r.TS - wt.ns; diff < -1000 || diff > 1000 {
			t.Errorf("record %d (session %d, pid %d): %d ns, want %d", k, wt.sess, r.PID, r.TS, wt.ns)
		}
		if r.TS < prev[wt.sess] {
			t.Errorf("record %d: time goes back from %d to %d", k, prev[wt.sess], r.TS)
		}
		prev[wt.sess] = r.TS
		n++
	}
	if n != len(wants) {
		t.Errorf("%d records, want %d", n, len(wants))
	}
	if d.clock.Others() == 0 {
		t.Errorf("no calibration pair found off the start pair's clock")
	}
	// In CRIU's layout, each session's first line is at its start.
	out, _ := decodeAll(t, log, FormatCRIU, nil)
	for _, l := range strings.SplitAfter(out, "\n") {
		if strings.Contains(l, "restore") {
			t.Errorf("unexpected line %q", l)
		}
	}
	if !strings.HasPrefix(out, "(00.000000) main 0\n") || !strings.Contains(out, "(00.000000) criu in the shifted namespace") {
		t.Errorf("sessions do not start at 0:\n%s", out[:min(len(out), 400)])
	}
}

// In a log of CLOCK_MONOTONIC timestamps (no TSC), a process in a time
// namespace of its own has timestamps off by its namespace's offset.
// The order in which chunks were claimed shows it: such processes are
// named (ClockNotes) and their times placed by that order, keeping
// their own clock's differences, instead of hours or days away.
func TestMonotonicTimesAcrossTimeNamespaces(t *testing.T) {
	for _, off := range []int64{-3_000_000_000, 110 * 86400 * 1_000_000_000} {
		w := logfile.NewWriter(logfile.Header{FirstPID: 100, StartTS: 1_000_000, StartMonoNS: 1_000_000}, 4096)
		say := site(3, "criu/cr-restore.c", 1, "%s %d\n", fmtdb.ClassStr, fmtdb.ClassI32)
		main := w.Thread(100, 100)
		start(main, 2_000_000, session, 1, logfile.ProcStarted, "/usr/sbin/criu", "criu", "restore")
		task := w.Thread(1, 1)
		shifted := func(ts uint64) uint64 { return uint64(int64(ts) + off) }
		for i := range 60 {
			ts := uint64(3_000_000 + i*1_000_000)
			main.Log(say, ts, 0, fmtdb.String("main"), fmtdb.Int(int64(i)))
			if i == 10 {
				start(task, shifted(ts+100), session, 0, 0, "/usr/sbin/criu")
			}
			if i > 10 {
				task.Log(say, shifted(ts+500), 0, fmtdb.String("task"), fmtdb.Int(int64(i)))
			}
			if i%10 == 9 {
				main.Claim(ts + 600)
				task.Claim(shifted(ts + 700))
			}
		}
		d, err := newDecoder(w.Bytes(0))
		if err != nil {
			t.Fatal(err)
		}
		notes := d.ClockNotes()
		if len(notes) != 1 || len(notes[0].Procs) != 1 || notes[0].Procs[0].PID != 1 ||
			!strings.Contains(notes[0].String(), "process 1 (session 1) read CLOCK_MONOTONIC about ") {
			t.Fatalf("offset %d: notes %v", off, notes)
		}
		if s := notes[0].Offset + off; s < -clockSlack || s > clockSlack {
			t.Errorf("offset %d: shifted by %d", off, notes[0].Offset)
		}
		var last, first int64 = -1, -1
		for r, err := range d.Records() {
			if err != nil {
				t.Fatal(err)
			}
			i := r.Args[1].Bits
			if r.PID != 1 {
				continue
			}
			if first < 0 {
				first = r.TS - int64(i-11)*1_000_000
			}
			if got := r.TS - first; got != int64(i-11)*1_000_000 {
				t.Errorf("offset %d: task record %d at %d ns after its first, want %d", off, i, got, (i-11)*1_000_000)
			}
			last = r.TS
		}
		if first < 10_000_000 || first > 30_000_000 || last > 80_000_000 {
			t.Errorf("offset %d: task records from %d to %d ns, not within the run", off, first, last)
		}
	}
}

// The file's last change bounds when its chunks were claimed, but a file
// time that the creator's own chunks contradict is wrong (a file
// server's clock, the system clock set back during the run), and the
// creator's clock is the log's: a log whose file time lies inside its
// run is read with every time as written, nobody shifted, whether the
// creator writes alone or with a child.
func TestFileTimeInsideTheRun(t *testing.T) {
	const realStart = 1_700_000_000_000_000_000 // ns since 1970
	for _, withChild := range []bool{false, true} {
		w := logfile.NewWriter(logfile.Header{FirstPID: 100, StartTS: 1_000_000, StartMonoNS: 1_000_000, StartRealtimeNS: realStart}, 4096)
		say := site(3, "criu/cr-dump.c", 1, "%s %d\n", fmtdb.ClassStr, fmtdb.ClassI32)
		main := w.Thread(100, 100)
		start(main, 2_000_000, session, 1, logfile.ProcStarted, "/usr/sbin/criu", "criu", "dump")
		child := w.Thread(101, 101)
		at := func(i int) uint64 { return uint64(3_000_000 + i*50_000_000) } // 3 s in all
		for i := range 60 {
			main.Log(say, at(i), 0, fmtdb.String("main"), fmtdb.Int(int64(i)))
			if withChild && i == 5 {
				start(child, at(i)+100, session, 100, 0, "/usr/sbin/criu")
			}
			if withChild && i > 5 {
				child.Log(say, at(i)+1000, 0, fmtdb.String("child"), fmtdb.Int(int64(i)))
			}
			if i%10 == 9 {
				main.Claim(at(i) + 600)
				if withChild {
					child.Claim(at(i) + 700)
				}
			}
		}
		path := filepath.Join(t.TempDir(), "log")
		if err := os.WriteFile(path, w.Bytes(0), 0o644); err != nil {
			t.Fatal(err)
		}
		mtime := time.Unix(0, realStart+500_000_000) // half a second in
		if err := os.Chtimes(path, mtime, mtime); err != nil {
			t.Fatal(err)
		}
		d, err := Open(path, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		if notes := d.ClockNotes(); len(notes) != 0 {
			t.Errorf("with a child %v: notes %v, want none", withChild, notes)
		}
		n := 0
		for r, err := range d.Records() {
			if err != nil {
				t.Fatal(err)
			}
			want := int64(at(int(r.Args[1].Bits))) - 2_000_000 // since the session started
			if r.PID == 101 {
				want += 1000
			}
			if r.TS != want {
				t.Errorf("with a child %v: pid %d record %d at %d ns, want %d", withChild, r.PID, r.Args[1].Bits, r.TS, want)
			}
			n++
		}
		if want := 60 + map[bool]int{true: 54}[withChild]; n != want {
			t.Errorf("with a child %v: %d records, want %d", withChild, n, want)
		}
	}
}

// namespaceLog is a log of CLOCK_MONOTONIC times written by CRIU's
// restore (pid 100, the log's creator; its clock started the log at 10 s)
// and a restored task (pid 1) whose time namespace runs off ns ahead
// (behind, if negative): the task claims n chunks, the restore one every
// 10,000 of them.
func namespaceLog(n int, off int64) []byte {
	const t0 = 10_000_000_000
	w := logfile.NewWriter(logfile.Header{FirstPID: 100, StartTS: t0, StartMonoNS: t0}, 4096)
	say := site(3, "criu/cr-restore.c", 1, "%s %d\n", fmtdb.ClassStr, fmtdb.ClassI32)
	main, task := w.Thread(100, 100), w.Thread(1, 1)
	shifted := func(ts uint64) uint64 { return uint64(int64(ts) + off) }
	start(main, t0+1_000_000, session, 1, logfile.ProcStarted, "/usr/sbin/criu", "criu", "restore")
	start(task, shifted(t0+1_000_100), session, 0, 0, "/usr/sbin/criu")
	for i := range n {
		ts := uint64(t0 + 2_000_000 + i*10_000)
		if i%10_000 == 0 {
			main.Log(say, ts, 0, fmtdb.String("main"), fmtdb.Int(int64(i)))
			main.Claim(ts + 100)
		}
		task.Log(say, shifted(ts+500), 0, fmtdb.String("task"), fmtdb.Int(int64(i)))
		task.Claim(shifted(ts + 700))
	}
	return w.Bytes(0)
}

// The log's creator read the clock its header is in: however little it
// wrote beside a task of another time namespace, it is the task whose
// clock is placed, not the creator's (which put every restore line 110
// days away from the others).
func TestCreatorKeepsItsClock(t *testing.T) {
	for _, off := range []int64{110 * 86400 * 1_000_000_000, -5_000_000_000} {
		d, err := newDecoder(namespaceLog(2000, off))
		if err != nil {
			t.Fatal(err)
		}
		notes := d.ClockNotes()
		if len(notes) != 1 || len(notes[0].Procs) != 1 || notes[0].Procs[0].PID != 1 {
			t.Fatalf("offset %d: notes %v, want the task's (pid 1) alone", off, notes)
		}
		if s := notes[0].Offset + off; s < -clockSlack || s > clockSlack {
			t.Errorf("offset %d: the task shifted by %d", off, notes[0].Offset)
		}
	}
}
