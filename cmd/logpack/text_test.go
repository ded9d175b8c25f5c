package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/logpack/logpack/fmtdb"
	"github.com/logpack/logpack/internal/logfile"
)

// textRun writes, in a new directory, the binary log of a small CRIU
// dump whose text marks name "dump.log" (relative, as criu -o dump.log
// names it), and that text log beside it: two parasite lines between
// marks and an error that is also a record.
func textRun(t *testing.T) (dir, log, text string) {
	t.Helper()
	dir = t.TempDir()
	pie := "pie: 42: __fetched msg: 74 0 0\n"
	text = pie + "Error (cr-dump.c:77): no space\n" + "pie: 42: daemon exited\n"
	debug := &fmtdb.Site{Level: 4, File: "cr-dump.c", Line: 1, Format: "%s\n", Args: []fmtdb.ArgSpec{{Class: fmtdb.ClassStr, BoundArg: -1}}}
	debug.ID = fmtdb.SiteID(debug)
	errSite := logfile.Descriptor{Level: 1, TextLevel: 2, File: "cr-dump.c", Line: 77, Format: "Error (cr-dump.c:77): %s\n",
		Args: []logfile.DescArg{{Class: fmtdb.ClassStr, BoundArg: -1}}}
	w := logfile.NewWriter(logfile.Header{FirstPID: 100, StartTS: 1000, StartMonoNS: 1000}, 4096)
	th := w.Thread(100, 100)
	th.Process(1_000_000, logfile.Process{PPID: 1, Session: 7, Flags: logfile.ProcStarted, Exe: []byte("/usr/sbin/criu")})
	th.Log(debug, 2_000_000, 0, fmtdb.String("Dumping task"))
	th.TextMark(2_100_000, uint64(len(pie)), "dump.log")
	th.Log(debug, 2_200_000, 0, fmtdb.String("Fetched ack"))
	th.LogDesc(&errSite, 2_300_000, 0, fmtdb.String("no space"))
	th.TextMark(2_400_000, uint64(len(text)), "")
	th.Log(debug, 2_500_000, 0, fmtdb.String("Dumping finished"))
	log = filepath.Join(dir, "dump.lpk")
	if err := os.WriteFile(log, w.Bytes(0), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "dump.log"), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, log, filepath.Join(dir, "dump.log")
}

const textRunMerged = `(00.001000) Dumping task
pie: 42: __fetched msg: 74 0 0
(00.001200) Fetched ack
(00.001300) Error (cr-dump.c:77): no space
pie: 42: daemon exited
(00.001500) Dumping finished
`

// decode LOG TEXTLOG shows the lines only the text log has in their
// place, and a record that is also a text line once.
func TestDecodeWithTextLog(t *testing.T) {
	_, log, text := textRun(t)
	for _, args := range [][]string{{log, text}, {text, log}, {"--text", text, log}} {
		code, out, errs := run(t, nil, append([]string{"decode", "--format", "criu", "--text=none"}, args...)...)
		if code != 0 || out != textRunMerged || errs != "" {
			t.Errorf("%v: exit %d, stderr %q, output:\n%s", args, code, errs, out)
		}
	}
	// Filters of records leave text lines; --grep applies to both.
	code, out, _ := run(t, nil, "decode", "--format", "criu", "--level", "1", log, text)
	if want := "pie: 42: __fetched msg: 74 0 0\nError (cr-dump.c:77): no space\npie: 42: daemon exited\n"; code != 0 || out != want {
		t.Errorf("--level 1: exit %d, output:\n%s", code, out)
	}
	code, out, _ = run(t, nil, "decode", "--grep", "pie", log, text)
	if want := "pie: 42: __fetched msg: 74 0 0\npie: 42: daemon exited\n"; code != 0 || out != want {
		t.Errorf("--grep: exit %d, output:\n%s", code, out)
	}
	code, out, _ = run(t, nil, "decode", "--format", "json", log, text)
	if code != 0 || !strings.Contains(out, `{"session":1,"source":"text","offset":0,"msg":"pie: 42: __fetched msg: 74 0 0\n"}`) {
		t.Errorf("json: exit %d, output:\n%s", code, out)
	}
	code, out, errs := run(t, nil, "decode", "--redact", log, text)
	if code != 0 || strings.Contains(out, "pie") || !strings.Contains(errs, "2 lines only the text log has are left out") {
		t.Errorf("--redact: exit %d, stderr %q, output:\n%s", code, errs, out)
	}
}

// Without a TEXTLOG, decode uses the text log the log's text marks name
// when it is there (relative names: beside the log too) and says so;
// --text=none leaves it out.
func TestDecodeFindsTheTextLog(t *testing.T) {
	_, log, text := textRun(t)
	code, out, errs := run(t, nil, "decode", "--format", "criu", log)
	if code != 0 || out != textRunMerged || errs != "logpack decode: "+log+": merging the program's text log "+text+", named by the log's text marks (--text=none leaves it out)\n" {
		t.Errorf("exit %d, stderr %q, output:\n%s", code, errs, out)
	}
	code, out, errs = run(t, nil, "decode", "--format", "criu", "--text=none", log)
	if code != 0 || strings.Contains(out, "pie") || errs != "" {
		t.Errorf("--text=none: exit %d, stderr %q, output:\n%s", code, errs, out)
	}
	// A text log shorter than the marks say is not that run's.
	if err := os.WriteFile(text, []byte("pie: 42\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out, errs = run(t, nil, "decode", log); code != 0 || strings.Contains(out, "pie") || errs != "" {
		t.Errorf("short text log: exit %d, stderr %q, output:\n%s", code, errs, out)
	}
}

// A text log that belongs to no session of the log is not merged, and
// decode says so; follow mode does not merge text logs.
func TestDecodeTextLogOfNoSession(t *testing.T) {
	dir, log, _ := textRun(t)
	other := filepath.Join(dir, "other.log")
	os.WriteFile(other, []byte("unrelated\n"), 0o644)
	code, out, errs := run(t, nil, "decode", "--text=none", log, other)
	if code != 1 || strings.Contains(out, "unrelated") || !strings.Contains(errs, other+": not merged") {
		t.Errorf("exit %d, stderr %q, output:\n%s", code, errs, out)
	}
	if code, _, errs := run(t, nil, "decode", "--follow", log, other); code != 2 || !strings.Contains(errs, "--follow takes one LOG file and does not merge text logs") {
		t.Errorf("--follow: exit %d, stderr %q", code, errs)
	}
	if code, _, errs := run(t, nil, "decode", other); code != 2 || !strings.Contains(errs, "no LOG among the arguments") {
		t.Errorf("text log only: exit %d, stderr %q", code, errs)
	}
	empty := filepath.Join(dir, "empty.lpk")
	os.WriteFile(empty, nil, 0o600)
	if code, _, errs := run(t, nil, "decode", empty); code != 2 || !strings.Contains(errs, empty+" is empty") {
		t.Errorf("an empty file: exit %d, stderr %q", code, errs)
	}
	// An empty text log named with --text is no LOG that is not made yet.
	if code, _, errs := run(t, nil, "decode", other, "--text", empty); code != 2 || !strings.Contains(errs, other+", "+empty+" is not a logpack log") {
		t.Errorf("--text of an empty file: exit %d, stderr %q", code, errs)
	}
}

// A text log that several sessions' marks name (two runs writing to one
// file) is read once: its lines come out once, not once per session.
func TestDecodeReadsASharedTextLogOnce(t *testing.T) {
	dir := t.TempDir()
	site := &fmtdb.Site{Level: 4, File: "crtools.c", Line: 1, Format: "%s\n", Args: []fmtdb.ArgSpec{{Class: fmtdb.ClassStr, BoundArg: -1}}}
	site.ID = fmtdb.SiteID(site)
	text := "pie: 1: first run\npie: 2: second run\n"
	w := logfile.NewWriter(logfile.Header{FirstPID: 100, StartTS: 1000, StartMonoNS: 1000}, 4096)
	for k, pid := range []uint32{100, 200} {
		th := w.Thread(pid, pid)
		at := uint64(1_000_000 * (k + 1) * 10)
		th.Process(at, logfile.Process{PPID: 1, Session: uint64(7 + k), Flags: logfile.ProcStarted, Exe: []byte("/usr/sbin/criu")})
		th.Log(site, at+1000, 0, fmtdb.String("run"))
		th.TextMark(at+2000, uint64(18*(k+1)), "shared.log")
		th.Log(site, at+3000, 0, fmtdb.String("done"))
	}
	log := filepath.Join(dir, "runs.lpk")
	if err := os.WriteFile(log, w.Bytes(0), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "shared.log"), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs := run(t, nil, "decode", log)
	if code != 0 || strings.Count(errs, "merging the program's text log") != 1 ||
		strings.Count(out, "first run") != 1 || strings.Count(out, "second run") != 1 {
		t.Errorf("exit %d, stderr %q, output:\n%s", code, errs, out)
	}
}
