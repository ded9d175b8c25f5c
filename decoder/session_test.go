package decoder

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/google/go-cmp/cmp"

	"github.com/logpack/logpack/fmtdb"
	"github.com/logpack/logpack/internal/logfile"
)

// start writes the process record of a process of session id.
func start(t *logfile.Thread, ts uint64, id uint64, ppid uint32, flags uint64, exe string, args ...string) {
	p := logfile.Process{PPID: ppid, Session: id, Flags: flags, BuildID: 0xb1d, Exe: []byte(exe), Cmdline: []byte(strings.Join(args, "\x00"))}
	t.Process(ts, p)
}

// lines decodes log in JSON-like short form: session, ts, pid, message.
func sessionLines(t *testing.T, d *Decoder) []string {
	t.Helper()
	var out []string
	for r, err := range d.Records() {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%d %d %d %s", r.Proc.Session.N, r.TS, r.PID, r.AppendMessage(nil)))
	}
	return out
}

func open(t *testing.T, log []byte) *Decoder {
	t.Helper()
	d, err := New(bytes.NewReader(log), int64(len(log)), nil)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// Two runs with the same log, one after the other: each is a session of
// its own, with its own time origin (its first process record); the
// second reuses the first one's pids, which does not mix them up.
func TestSessionsOneAfterTheOther(t *testing.T) {
	w := newLog(100)
	a, ac := w.Thread(100, 100), w.Thread(101, 101)
	start(a, 1_000_000, 0xaaaa, 1, logfile.ProcStarted, "/usr/sbin/criu", "criu", "dump", "-t", "42")
	a.Log(siteHello, 1_000_500, 0, fmtdb.Int(1))
	start(ac, 1_002_000, 0xaaaa, 100, 0, "/usr/sbin/criu")
	ac.Log(siteHello, 1_003_000, 0, fmtdb.Int(2))
	a.Log(siteHello, 1_004_000, 0, fmtdb.Int(3))
	// The second run: pid 100 again, and its child 101 again.
	b, bc := w.Thread(100, 100), w.Thread(101, 101)
	start(b, 9_000_000, 0xbbbb, 1, logfile.ProcStarted, "/usr/sbin/criu", "criu", "restore")
	b.Log(siteHello, 9_000_100, 0, fmtdb.Int(4))
	start(bc, 9_000_200, 0xbbbb, 100, 0, "/usr/sbin/criu")
	bc.Log(siteHello, 9_000_300, 0, fmtdb.Int(5))
	bc.Dropped(7)
	d := open(t, w.Bytes(0))
	want := []string{
		"1 500 100 hello 1\n", "1 3000 101 hello 2\n", "1 4000 100 hello 3\n",
		"2 100 100 hello 4\n", "2 300 101 hello 5\n",
	}
	if diff := cmp.Diff(want, sessionLines(t, d)); diff != "" {
		t.Errorf("records (-want +got):\n%s", diff)
	}
	ss := d.Sessions()
	if len(ss) != 2 {
		t.Fatalf("%d sessions", len(ss))
	}
	type summary struct {
		N       int
		ID      uint64
		Start   int64
		PID     uint32
		Cmdline []string
		Records int
		Dropped uint64
		Procs   int
	}
	var got []summary
	for _, s := range ss {
		got = append(got, summary{s.N, s.ID, s.Start, s.Process.PID, s.Process.Cmdline, s.Records, s.Dropped, len(s.Processes)})
	}
	wantS := []summary{
		{1, 0xaaaa, 1_000_000 - 1000, 100, []string{"criu", "dump", "-t", "42"}, 3, 0, 2},
		{2, 0xbbbb, 9_000_000 - 1000, 100, []string{"criu", "restore"}, 2, 7, 2},
	}
	if diff := cmp.Diff(wantS, got); diff != "" {
		t.Errorf("sessions (-want +got):\n%s", diff)
	}
	if s := ss[1]; !s.Time.Equal(time.Unix(0, int64(d.Header().StartRealtimeNS)+s.Start)) {
		t.Errorf("session 2 starts at %v", s.Time)
	}
	if child := ss[1].Processes[1]; child.Parent != ss[1].Processes[0] || child.Start != 200 {
		t.Errorf("session 2's child: parent %v, start %d", child.Parent, child.Start)
	}
}

// Two runs at the same time (criu lazy-pages beside criu restore): their
// records interleave in the file and in time, and each is still shown
// whole, in order of start.
func TestSessionsAtTheSameTime(t *testing.T) {
	w := newLog(100)
	a, b := w.Thread(100, 100), w.Thread(200, 200)
	start(a, 2000, 0xaaaa, 1, logfile.ProcStarted, "/usr/sbin/criu")
	start(b, 2500, 0xbbbb, 1, logfile.ProcStarted, "/usr/sbin/criu")
	for i := range 6 {
		th := a
		if i%2 == 1 {
			th = b
		}
		th.Log(siteHello, uint64(3000+100*i), 0, fmtdb.Int(int64(i)))
	}
	d := open(t, w.Bytes(0))
	want := []string{
		"1 1000 100 hello 0\n", "1 1200 100 hello 2\n", "1 1400 100 hello 4\n",
		"2 600 200 hello 1\n", "2 800 200 hello 3\n", "2 1000 200 hello 5\n",
	}
	if diff := cmp.Diff(want, sessionLines(t, d)); diff != "" {
		t.Errorf("records (-want +got):\n%s", diff)
	}
	var only []string
	for r, err := range d.SessionRecords(d.Sessions()[1]) {
		if err != nil {
			t.Fatal(err)
		}
		only = append(only, string(r.AppendMessage(nil)))
	}
	if diff := cmp.Diff([]string{"hello 1\n", "hello 3\n", "hello 5\n"}, only); diff != "" {
		t.Errorf("session 2 alone (-want +got):\n%s", diff)
	}
}

// An exec keeps the pid: the program exec'd starts a process of its own
// (a second process record of the pid, in the same session), and the
// records before and after belong to the one and the other. Processes
// are told apart by their process records, not by pid.
func TestExecStartsAProcess(t *testing.T) {
	w := newLog(100)
	th := w.Thread(100, 100)
	start(th, 2000, 0xaaaa, 1, logfile.ProcStarted, "/usr/sbin/criu", "criu", "swrk")
	th.Log(siteHello, 2100, 0, fmtdb.Int(1))
	other := w.Thread(100, 101)
	other.Log(siteHello, 2150, 0, fmtdb.Int(2)) // a thread of the first program
	th.Process(2200, logfile.Process{PPID: 1, Session: 0xaaaa, Flags: logfile.ProcExec, Exe: []byte("/usr/sbin/criu-helper")})
	th.Log(siteHello, 2300, 0, fmtdb.Int(3))
	d := open(t, w.Bytes(0))
	var got []string
	for r, err := range d.Records() {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%s %s", r.Proc.Exe, r.AppendMessage(nil)))
	}
	want := []string{"/usr/sbin/criu hello 1\n", "/usr/sbin/criu hello 2\n", "/usr/sbin/criu-helper hello 3\n"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("records (-want +got):\n%s", diff)
	}
	ps := d.Processes()
	if len(ps) != 2 || ps[0].Records != 2 || ps[1].Records != 1 || ps[1].Flags != logfile.ProcExec || ps[0].Offset >= ps[1].Offset {
		t.Errorf("processes: %+v", ps)
	}
}

// Records of a pid without a process record (a damaged log, or one
// written without them) form a session of their own, with ID 0, whose
// times count from the file's start.
func TestRecordsWithoutAProcess(t *testing.T) {
	w := newLog(100)
	a, b := w.Thread(100, 100), w.Thread(300, 300)
	start(a, 5000, 0xaaaa, 1, logfile.ProcStarted, "/usr/sbin/criu")
	a.Log(siteHello, 5100, 0, fmtdb.Int(1))
	b.Log(siteHello, 5200, 0, fmtdb.Int(2))
	d := open(t, w.Bytes(0))
	want := []string{"1 4200 300 hello 2\n", "2 100 100 hello 1\n"}
	if diff := cmp.Diff(want, sessionLines(t, d)); diff != "" {
		t.Errorf("records (-want +got):\n%s", diff)
	}
	if s := d.Sessions()[0]; s.ID != 0 || s.Processes[0].Offset != -1 || s.Start != 0 {
		t.Errorf("session of the records without a process: %+v", s)
	}
}

// A log keeps every process however many it holds (a test suite's shared
// log: thousands of runs, each with its children), while a log made of
// process records only keeps no more than one per 4 KiB of it, and says
// where it stopped: a hostile log cannot make memory a large multiple
// of its size. (The minimum is lowered to 4 here, from 65,536.)
func TestProcessesScaleWithTheLog(t *testing.T) {
	defer func(m int) { minProcesses = m }(minProcesses)
	minProcesses = 4
	w := newLog(100)
	parent := w.Thread(100, 100)
	start(parent, 2000, session, 1, logfile.ProcStarted, "/usr/sbin/criu", "criu", "restore")
	for i := range 40 {
		child := w.Thread(uint32(200+i), uint32(200+i))
		start(child, uint64(3000+i*10), session, 100, 0, "/usr/sbin/criu")
		child.Log(siteHello, uint64(3005+i*10), 0, fmtdb.Int(int64(i)))
	}
	d := open(t, w.Bytes(0))
	if n := len(d.Processes()); n != 41 || len(d.Skipped()) != 0 {
		t.Errorf("a log of %d bytes: %d processes, skipped %v; want all 41", len(w.Bytes(0)), n, d.Skipped())
	}

	w = newLog(100)
	th := w.Thread(100, 100)
	for i := range 40 {
		start(th, uint64(2000+i), session, 1, logfile.ProcExec, "/usr/sbin/criu")
	}
	d = open(t, w.Bytes(0))
	bound := max(4, len(w.Bytes(0))>>12)
	if n := len(d.Processes()); n != bound {
		t.Errorf("40 process records in %d bytes: %d processes, want %d", len(w.Bytes(0)), n, bound)
	}
	if sk := d.Skipped(); len(sk) == 0 || !strings.Contains(sk[0].Detail, "process records: records stay with the process before") {
		t.Errorf("skipped %v, want the process records beyond the bound", sk)
	}
}

// A log of many runs (a test suite's) has as many streams, all kept with
// their sessions: a stream that has yielded its last record holds
// neither its read buffer nor views of it, so decoding the whole log
// leaves memory as it found it (80 MB stayed for 1,000 runs of 20
// processes).
func TestEndedStreamsLetGoOfTheirBuffers(t *testing.T) {
	w := logfile.NewWriter(logfile.Header{FirstPID: 100, StartTS: 1000, StartMonoNS: 1000}, 4096)
	ts := uint64(2000)
	for run := range 50 {
		for p := range 4 {
			pid := uint32(100 + run*4 + p)
			th := w.Thread(pid, pid)
			start(th, ts, uint64(0x1000+run), 1, map[bool]uint64{true: logfile.ProcStarted}[p == 0], "/usr/sbin/criu")
			for k := range 3 {
				ts += 10
				th.Log(siteMount, ts, 0, fmtdb.String("/proc/self/mountinfo"), fmtdb.Uint(uint64(k)))
			}
		}
	}
	d := open(t, w.Bytes(0))
	for _, how := range []string{"WriteRecords", "Records"} {
		if how == "WriteRecords" {
			if err := d.WriteRecords(NewWriter(io.Discard, FormatPlain, nil), nil, nil); err != nil {
				t.Fatal(err)
			}
		} else {
			for _, err := range d.Records() {
				if err != nil {
					t.Fatal(err)
				}
			}
		}
		n := 0
		for _, s := range d.Sessions() {
			for _, st := range s.streams {
				n++
				if st.rd.Buffered() != 0 || st.rec.data != nil || slices.ContainsFunc(st.rec.Args, func(a Arg) bool { return a.Str != nil }) {
					t.Fatalf("%s: session %d, pid %d: %d bytes of buffer, %d of data, args %v kept", how, s.N, st.pid, st.rd.Buffered(), len(st.rec.data), st.rec.Args)
				}
			}
		}
		if n != 200 {
			t.Errorf("%s: %d streams, want 200", how, n)
		}
	}
}

// Clock records beyond one per 512 bytes of the log (past a minimum,
// lowered to 8 here) are not kept: a log of nothing but clock records
// cannot make the decoder hold several times its size in pairs. The chunk
// headers' pairs stay, and the records decode.
func TestClockRecordsBounded(t *testing.T) {
	defer func(m int) { minPairs = m }(minPairs)
	minPairs = 8
	w := newLog(100)
	th := w.Thread(100, 100)
	start(th, 2000, session, 1, logfile.ProcStarted, "/usr/sbin/criu")
	for i := range 2000 {
		th.Clock(uint64(3000+i), uint64(3000+i))
	}
	th.Log(siteHello, 6000, 0, fmtdb.Int(1))
	log := w.Bytes(0)
	d := open(t, log)
	if bound := max(8, len(log)>>9); len(d.pairs) > bound+len(log)/4096 {
		t.Errorf("%d pairs kept from a log of %d bytes, want at most %d and the chunk headers'", len(d.pairs), len(log), bound)
	}
	if got := sessionLines(t, d); len(got) != 1 || !strings.HasSuffix(got[0], "hello 1\n") {
		t.Errorf("records %q", got)
	}
}

// A log of more chunks than the runtime's largest log holds (lowered to
// 3 here, from 2^28) is read up to there, and says where it stopped:
// what counts chunks and their records stays within 32 bits.
func TestChunksBounded(t *testing.T) {
	defer func(m int) { maxChunks = m }(maxChunks)
	maxChunks = 3
	w := logfile.NewWriter(logfile.Header{FirstPID: 100, StartTS: 1000, StartMonoNS: 1000}, 4096)
	th := w.Thread(100, 100)
	start(th, 2000, session, 1, logfile.ProcStarted, "/usr/sbin/criu")
	for i := range 10000 {
		th.Log(siteHello, uint64(3000+i), 0, fmtdb.Int(int64(i)))
	}
	log := w.Bytes(0)
	if n := (len(log) - logfile.HeaderSize) / 4096; n < 5 {
		t.Fatalf("the log has %d chunks, want at least 5", n)
	}
	d := open(t, log)
	got := sessionLines(t, d)
	if len(got) == 0 || len(got) >= 10000 || !strings.HasSuffix(got[0], "hello 0\n") {
		t.Errorf("%d records decoded, want those of the first 3 chunks", len(got))
	}
	sk := d.Skipped()
	if len(sk) != 1 || sk[0].Kind != SkipBadChunk || !strings.Contains(sk[0].Detail, "over 3 chunks") || sk[0].Offset+sk[0].Bytes != int64(len(log)) {
		t.Errorf("skipped %+v, want the chunks from the fourth on", sk)
	}
}

// The index keeps 128 bytes per chunk (the package documentation says
// so): a 1.6 GB log of 64 KiB chunks, 3 MB.
func TestIndexBytesPerChunk(t *testing.T) {
	if n := unsafe.Sizeof(chunk{}); n > 128 {
		t.Errorf("a chunk's index entry takes %d bytes, want at most 128", n)
	}
}
