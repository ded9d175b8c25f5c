package decoder

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/logpack/logpack/fmtdb"
	"github.com/logpack/logpack/internal/logfile"
)

// A CRIU-like run for the text merge tests. Times are in µs from the
// session's start (1 ms after the file's), written as the log's ns.
type run struct {
	w  *logfile.Writer
	th map[uint32]*logfile.Thread
	id uint64
}

const runStart = 1_000_000 // ns, the session's first process record

func newRun(w *logfile.Writer, id uint64, pid uint32, at uint64) *run {
	r := &run{w: w, th: map[uint32]*logfile.Thread{}, id: id}
	r.start(pid, 1, at)
	return r
}

func (r *run) thread(pid uint32) *logfile.Thread {
	if r.th[pid] == nil {
		r.th[pid] = r.w.Thread(pid, pid)
	}
	return r.th[pid]
}

func (r *run) start(pid, ppid uint32, at uint64) {
	flags := uint64(0)
	if len(r.th) == 0 {
		flags = logfile.ProcStarted
	}
	start(r.thread(pid), at, r.id, ppid, flags, "/usr/sbin/criu")
}

// Sites: debug and info lines are only in the binary log; errors and
// warnings were also printed as text (text_level 2).
var (
	textDebug = logfile.Descriptor{Level: 4, TextLevel: 2, File: "criu/pie-util.c", Line: 1, Format: "%s\n", Args: []logfile.DescArg{{Class: fmtdb.ClassStr, BoundArg: -1}}}
	textError = logfile.Descriptor{Level: 1, TextLevel: 2, File: "criu/cr-dump.c", Line: 77, Format: "Error (%s:%d): %s\n",
		Args: []logfile.DescArg{{Class: logfile.ClassConstStr, Str: "criu/cr-dump.c", BoundArg: -1}, {Class: logfile.ClassConstInt, Bits: 77, BoundArg: -1}, {Class: fmtdb.ClassStr, BoundArg: -1}}}
)

func (r *run) debug(pid uint32, us uint64, text string) {
	r.thread(pid).LogDesc(&textDebug, runStart+us*1000, 0, fmtdb.String(text))
}

func (r *run) err(pid uint32, us uint64, text string) {
	r.thread(pid).LogDesc(&textError, runStart+us*1000, 0, fmtdb.String(text))
}

func (r *run) mark(pid uint32, us uint64, size int, path string) {
	r.thread(pid).TextMark(runStart+us*1000, uint64(size), path)
}

func (r *run) prefix(pid uint32, us uint64) {
	r.thread(pid).LogDesc(&initByPID, runStart+us*1000, 0, fmtdb.Int(int64(pid)))
}

// merged decodes log with the text logs in CRIU format (plain text lines
// verbatim), as decode --format criu LOG TEXTLOG... does.
func merged(t *testing.T, log []byte, texts ...*TextLog) string {
	t.Helper()
	return mergedAs(t, FormatCRIU, log, texts...)
}

func mergedAs(t *testing.T, f Format, log []byte, texts ...*TextLog) string {
	t.Helper()
	d := open(t, log)
	m, err := d.MergeText(texts...)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	w := NewWriter(&out, f, nil)
	for e, err := range m.Entries(nil) {
		if err != nil {
			t.Fatal(err)
		}
		if e.Record != nil {
			w.WriteRecord(e.Record)
		} else {
			w.WriteText(e.Text)
		}
	}
	w.Flush()
	if len(d.Skipped()) > 0 {
		t.Errorf("skips: %v", d.Skipped())
	}
	return out.String()
}

// The parasite writes raw lines into the log while criu waits for it;
// criu's runtime marks how long the text log was when criu goes on. Each
// parasite line goes before the first record after the first mark that
// holds it. An error record that was also printed as text is its own
// text line: shown once.
func TestTextParasiteLinesBetweenMarks(t *testing.T) {
	text := "pie: 42: __fetched msg: 74 0 0\n" +
		"pie: 42: __sent ack msg: 74 74 0\n" +
		"Error (criu/cr-dump.c:77): Can't dump vma: Permission denied\n" +
		"pie: 42: daemon exited\n"
	firstTwo := len("pie: 42: __fetched msg: 74 0 0\npie: 42: __sent ack msg: 74 74 0\n")
	w := newLog(100)
	r := newRun(w, 0xd0, 100, runStart)
	r.debug(100, 1000, "Dumping task (pid: 42)")
	r.debug(100, 1100, "Wait for ack 1 on daemon socket")
	r.mark(100, 1200, firstTwo, "/var/log/criu/dump.log")
	r.debug(100, 1250, "Fetched ack: 74 74 0")
	r.err(100, 1300, "Can't dump vma: Permission denied")
	r.debug(100, 1400, "Wait for ack 2 on daemon socket")
	r.mark(100, 1500, len(text), "")
	r.debug(100, 1600, "Dumping finished")
	tl := NewTextLog("dump.log", []byte(text))
	got := merged(t, w.Bytes(0), tl)
	want := `(00.001000) Dumping task (pid: 42)
(00.001100) Wait for ack 1 on daemon socket
pie: 42: __fetched msg: 74 0 0
pie: 42: __sent ack msg: 74 74 0
(00.001250) Fetched ack: 74 74 0
(00.001300) Error (criu/cr-dump.c:77): Can't dump vma: Permission denied
(00.001400) Wait for ack 2 on daemon socket
pie: 42: daemon exited
(00.001600) Dumping finished
`
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("merged (-want +got):\n%s", diff)
	}
	if tl.Session == nil || tl.Session.ID != 0xd0 || tl.Matched != 1 || !strings.Contains(tl.How, "text marks name") {
		t.Errorf("text log: session %v, how %q, matched %d", tl.Session, tl.How, tl.Matched)
	}
	// In JSON the text-only lines say where they come from.
	js := mergedAs(t, FormatJSON, w.Bytes(0), NewTextLog("dump.log", []byte(text)))
	if !strings.Contains(js, `{"session":1,"source":"text","offset":0,"msg":"pie: 42: __fetched msg: 74 0 0\n"}`) || strings.Count(js, "\n") != 9 {
		t.Errorf("json:\n%s", js)
	}
}

// Errors and warnings printed as text at -v4 carry CRIU's timestamp and,
// in restored tasks, the pid prefix: they still match their records, each
// once and in order, also when the same message comes twice; a record
// whose text line is missing (left out by the program's verbosity) is
// tolerated.
func TestTextErrorLinesShownOnce(t *testing.T) {
	text := "(00.000100) Error (criu/cr-dump.c:77): no space\n" +
		"(00.000200) Error (criu/cr-dump.c:77): no space\n" +
		"(00.000600)    200: Error (criu/cr-dump.c:77): task failed\n" +
		"some output of a command\n"
	w := newLog(100)
	r := newRun(w, 0xd0, 100, runStart)
	r.err(100, 100, "no space")
	r.err(100, 200, "no space")
	r.err(100, 300, "not in the text log")
	r.start(200, 100, runStart+400_000)
	r.prefix(200, 500)
	r.err(200, 600, "task failed")
	r.debug(100, 700, "done")
	got := merged(t, w.Bytes(0), NewTextLog("dump.log", []byte(text)))
	want := `(00.000100) Error (criu/cr-dump.c:77): no space
(00.000200) Error (criu/cr-dump.c:77): no space
(00.000300) Error (criu/cr-dump.c:77): not in the text log
(00.000600)    200: Error (criu/cr-dump.c:77): task failed
some output of a command
(00.000700) done
`
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("merged (-want +got):\n%s", diff)
	}
}

// The restorer's lines carry CRIU's timestamp and there are no marks:
// each goes by its own time, the text's clock set to the session's by the
// matched line before it (here 20 µs apart).
func TestTextRestorerLinesByTimestamp(t *testing.T) {
	text := "(00.000100) Error (criu/cr-dump.c:77): first error\n" +
		"(00.000300) pie: 201: Switched to the restorer 201\n" +
		"(00.000900) pie: 201: Restorer done\n"
	w := newLog(100)
	r := newRun(w, 0xe0, 100, runStart)
	r.err(100, 120, "first error")
	r.debug(100, 200, "a")
	r.debug(100, 330, "b")
	r.debug(100, 1000, "c")
	got := merged(t, w.Bytes(0), NewTextLog("restore.log", []byte(text)))
	want := `(00.000120) Error (criu/cr-dump.c:77): first error
(00.000200) a
(00.000300) pie: 201: Switched to the restorer 201
(00.000330) b
(00.000900) pie: 201: Restorer done
(00.001000) c
`
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("merged (-want +got):\n%s", diff)
	}
	// Without a timestamp and without marks a line goes right after the
	// matched line before it.
	plain := "Error (criu/cr-dump.c:77): first error\npie: 201: Switched to the restorer 201\n"
	got = merged(t, w.Bytes(0), NewTextLog("restore.log", []byte(plain)))
	want = `(00.000120) Error (criu/cr-dump.c:77): first error
pie: 201: Switched to the restorer 201
(00.000200) a
(00.000330) b
(00.001000) c
`
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("merged without timestamps (-want +got):\n%s", diff)
	}
}

// A log of two runs (dump, then restore) and the text logs of both: each
// text log goes with the session whose marks name it (here by base name,
// as the program saw another directory), and each session is shown with
// its own text lines.
func TestTextTwoSessionsTwoTextLogs(t *testing.T) {
	dumpText := "pie: 42: dump parasite line\n"
	restoreText := "pie: 43: restorer line\n"
	w := newLog(100)
	dump := newRun(w, 0xd0, 100, runStart)
	dump.debug(100, 10, "dump starts")
	dump.mark(100, 20, len(dumpText), "/var/log/criu/dump.log")
	dump.debug(100, 30, "dump ends")
	restore := newRun(w, 0xe0, 300, runStart+5_000_000)
	restore.debug(300, 5010, "restore starts")
	restore.mark(300, 5020, len(restoreText), "/var/log/criu/restore.log")
	restore.debug(300, 5030, "restore ends")
	dl, rl := NewTextLog("logs/dump.log", []byte(dumpText)), NewTextLog("logs/restore.log", []byte(restoreText))
	got := merged(t, w.Bytes(0), rl, dl)
	want := `(00.000010) dump starts
pie: 42: dump parasite line
(00.000030) dump ends
(00.000010) restore starts
pie: 43: restorer line
(00.000030) restore ends
`
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("merged (-want +got):\n%s", diff)
	}
	if dl.Session.N != 1 || rl.Session.N != 2 {
		t.Errorf("dump.log: session %d, restore.log: session %d", dl.Session.N, rl.Session.N)
	}
	// Without marks, the lines that match records decide.
	w = newLog(100)
	a := newRun(w, 0xd0, 100, runStart)
	a.err(100, 10, "dump failed")
	b := newRun(w, 0xe0, 300, runStart+5_000_000)
	b.err(300, 5010, "restore failed")
	dl = NewTextLog("dump.log", []byte("Error (criu/cr-dump.c:77): dump failed\nextra dump line\n"))
	rl = NewTextLog("restore.log", []byte("Error (criu/cr-dump.c:77): restore failed\nextra restore line\n"))
	got = merged(t, w.Bytes(0), dl, rl)
	want = `(00.000010) Error (criu/cr-dump.c:77): dump failed
extra dump line
(00.000010) Error (criu/cr-dump.c:77): restore failed
extra restore line
`
	if diff := cmp.Diff(want, got); diff != "" || !strings.Contains(dl.How, "1 of its lines") {
		t.Errorf("merged by matching lines (-want +got):\n%s\nhow %q", diff, dl.How)
	}
}

// A text log that no mark names and none of whose lines is a record's
// text, in a log of two sessions, belongs to neither: it is not merged.
// Neither is one whose only session's marks name another file.
func TestTextLogThatDoesNotBelong(t *testing.T) {
	w := newLog(100)
	a := newRun(w, 0xd0, 100, runStart)
	a.debug(100, 10, "one")
	b := newRun(w, 0xe0, 300, runStart+5_000_000)
	b.debug(300, 5010, "two")
	log := w.Bytes(0)
	other := NewTextLog("other.log", []byte("unrelated line\n"))
	if got := merged(t, log, other); got != "(00.000010) one\n(00.000010) two\n" || other.Session != nil {
		t.Errorf("merged:\n%s\nsession %v", got, other.Session)
	}
	w = newLog(100)
	c := newRun(w, 0xd0, 100, runStart)
	c.mark(100, 5, 0, "/var/log/criu/dump.log")
	c.debug(100, 10, "one")
	other = NewTextLog("other.log", []byte("unrelated line\n"))
	if got := merged(t, w.Bytes(0), other); got != "(00.000010) one\n" || other.Session != nil {
		t.Errorf("merged:\n%s\nsession %v", got, other.Session)
	}
	// The only session of a log without marks takes any text log.
	w = newLog(100)
	newRun(w, 0xd0, 100, runStart).debug(100, 10, "one")
	other = NewTextLog("other.log", []byte("a line\n"))
	if got := merged(t, w.Bytes(0), other); got != "a line\n(00.000010) one\n" || other.How != "the log has this one session" {
		t.Errorf("merged:\n%s\nhow %q", got, other.How)
	}
}

// Timestamps and pid prefixes are recognised only in CRIU's exact layout.
func TestTextLinePrefixes(t *testing.T) {
	for in, want := range map[string][2]int64{
		"(00.000100) x":     {100_000, 12},
		"(123.000001) x":    {123_000_001_000, 13},
		"(123.45678) x":     {123_456_780_000, 12},
		"(10785215.) x":     {10785215_000_000_000, 12},
		"(12.34567) x":      {0, 0},
		"(123.4567) x":      {0, 0},
		"(0.000100) x":      {0, 0},
		"(00.00010) x":      {0, 0},
		"(00.000100)x":      {0, 0},
		"pie: 11365: x":     {0, 0},
		" 11365: x":         {6 + 2, 0},
		"     1: x":         {8, 0},
		"  1234567890: x":   {14, 0},
		"1: x":              {0, 0},
		"   12:34 a clock":  {0, 0},
		"(00.000100) 11: x": {100_000, 12},
	} {
		ns, n := parseCRIUTime([]byte(in))
		if want[1] != 0 || strings.HasPrefix(in, "(") {
			if ns != want[0] || int64(n) != want[1] {
				t.Errorf("parseCRIUTime(%q) = %d %d, want %d %d", in, ns, n, want[0], want[1])
			}
			continue
		}
		if got := pidPrefixLen([]byte(in)); int64(got) != want[0] {
			t.Errorf("pidPrefixLen(%q) = %d, want %d", in, got, want[0])
		}
	}
}

// FuzzTextMerge merges arbitrary text logs into arbitrary logs (after a
// valid header): it never panics, every text line is either the text of
// a record or shown once, text lines keep their file order, and the
// records are those Records yields, in its order.
func FuzzTextMerge(f *testing.F) {
	w := newLog(100)
	r := newRun(w, 0xd0, 100, runStart)
	r.debug(100, 10, "a")
	r.err(100, 20, "oops")
	r.mark(100, 30, 12, "dump.log")
	r.debug(100, 40, "b\nc")
	r.mark(100, 50, 40, "")
	log := w.Bytes(0)
	f.Add(log[logfile.HeaderSize:], []byte("pie: 1\nError (criu/cr-dump.c:77): oops\n(00.000045) x\nb\nc\ntail"))
	f.Add(featureLog()[logfile.HeaderSize:], []byte("(00.000001)    200: Error (criu/cr-dump.c:77): Can't dump 200: No such file or directory\n\n\n"))
	f.Fuzz(func(t *testing.T, body, text []byte) {
		countExec()
		h := logfile.Header{FirstPID: 1, StartTS: 1000, Tail: uint64(logfile.HeaderSize + len(body))}
		data := append(h.Append(nil), body...)
		d, err := New(bytes.NewReader(data), int64(len(data)), nil)
		if err != nil {
			t.Fatal(err)
		}
		var want []int64
		for r, err := range d.Records() {
			if err != nil {
				t.Fatal(err)
			}
			want = append(want, r.Offset)
		}
		tl := NewTextLog("dump.log", text)
		m, err := d.MergeText(tl)
		if err != nil {
			t.Fatal(err)
		}
		var got []int64
		lastText := int64(-1)
		shown := 0
		for e, err := range m.Entries(nil) {
			if err != nil {
				t.Fatal(err)
			}
			if e.Record != nil {
				got = append(got, e.Record.Offset)
				continue
			}
			if e.Text.Offset <= lastText {
				t.Fatalf("text line at %d after the one at %d", e.Text.Offset, lastText)
			}
			lastText = e.Text.Offset
			shown++
		}
		if !slices.Equal(got, want) {
			t.Fatalf("records %v, want %v", got, want)
		}
		if tl.Session != nil && shown+tl.Matched != len(tl.lines) || tl.Session == nil && (shown != 0 || tl.Matched != 0) {
			t.Fatalf("%d lines: %d shown, %d matched (session %v)", len(tl.lines), shown, tl.Matched, tl.Session)
		}
	})
}

// BenchmarkMergeTextSuite merges a test suite's shared log, 300 runs,
// with the 300 text logs their marks name: each text log is matched with
// the one session naming it, not with every session.
func BenchmarkMergeTextSuite(b *testing.B) {
	const runs = 300
	w := newLog(100)
	var texts []*TextLog
	for i := range runs {
		name := fmt.Sprintf("/var/log/criu/run%d.log", i)
		var text strings.Builder
		r := newRun(w, uint64(0xd0+i), uint32(100+i), runStart+uint64(i)*10_000_000)
		for k := range 20 {
			us := uint64(i*10_000 + k*10)
			r.err(uint32(100+i), us, fmt.Sprintf("run %d step %d failed", i, k))
			fmt.Fprintf(&text, "Error (criu/cr-dump.c:77): run %d step %d failed\n", i, k)
		}
		r.mark(uint32(100+i), uint64(i*10_000+500), text.Len(), name)
		texts = append(texts, NewTextLog(name, []byte(text.String())))
	}
	log := w.Bytes(0)
	d, err := New(bytes.NewReader(log), int64(len(log)), nil)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := d.MergeText(texts...); err != nil {
			b.Fatal(err)
		}
	}
	for i, t := range texts {
		if t.Session == nil || t.Session.N != i+1 || t.Matched != 20 {
			b.Fatalf("%s: session %v, %d lines matched", t.Name, t.Session, t.Matched)
		}
	}
}
