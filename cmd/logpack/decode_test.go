package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/logpack/logpack/decoder"
	"github.com/logpack/logpack/fmtdb"
	"github.com/logpack/logpack/internal/logfile"
)

const (
	featuresLog = "../../decoder/testdata/features.lpk"
	mixLog      = "../../decoder/testdata/mix.lpk"
)

func run(t *testing.T, in []byte, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	stdin = bytes.NewReader(in)
	code = dispatch(args, &o, &e)
	return code, o.String(), e.String()
}

func golden(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("../../decoder/testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestDecodeFormats(t *testing.T) {
	for _, f := range []string{"plain", "criu", "json"} {
		code, out, errs := run(t, nil, "decode", "--format", f, mixLog)
		if code != 0 || out != golden(t, "mix."+f) || errs != "" {
			t.Errorf("--format %s: exit %d, stderr %q, output matches golden: %v", f, code, errs, out == golden(t, "mix."+f))
		}
	}
}

// Standard input and output are "-"; -o writes a file.
func TestDecodeStdinAndOutput(t *testing.T) {
	log, _ := os.ReadFile(mixLog)
	code, out, _ := run(t, log, "decode", "-")
	if code != 0 || out != golden(t, "mix.plain") {
		t.Errorf("stdin: exit %d", code)
	}
	path := filepath.Join(t.TempDir(), "out.txt")
	if code, _, _ := run(t, nil, "decode", "-o", path, mixLog); code != 0 {
		t.Errorf("-o: exit %d", code)
	}
	if b, _ := os.ReadFile(path); string(b) != golden(t, "mix.plain") {
		t.Errorf("-o: file differs")
	}
}

func TestDecodeFilters(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--level", "1"}, "Error (criu/cr-dump.c:77): Can't dump 200: No such file or directory\n"},
		{[]string{"--level", "2", "--format", "criu"}, "   200: Error (criu/cr-dump.c:77): Can't dump 200: No such file or directory\n   200: level 2\n"},
		{[]string{"--pid", "200", "--site", "criu/log.c:5"}, "level 2\nlevel 4\n"},
		{[]string{"--site", "log.c"}, "level 2\nlevel 4\n"},
		{[]string{"--grep", "hello"}, "hello -42\nhello 99\n"},
		{[]string{"--grep", "/proc", "--redact"}, ""},
		{[]string{"--grep", "Found", "--redact"}, "mnt: Found <s3> at 0x7fff0000\n"}, // <s1>, <s2>: earlier records,
	}
	for _, c := range cases {
		args := append(append([]string{"decode"}, c.args...), featuresLog)
		code, out, _ := run(t, nil, args...)
		if code != 0 || out != c.want {
			t.Errorf("%v: exit %d, output %q, want %q", c.args, code, out, c.want)
		}
	}
}

// A log cut short decodes up to the cut, says what it skipped and exits 1.
func TestDecodeTruncatedSummary(t *testing.T) {
	log, _ := os.ReadFile(mixLog)
	code, out, errs := run(t, log[:9000], "decode", "-")
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	if !subsequence(strings.SplitAfter(out, "\n"), strings.SplitAfter(golden(t, "mix.plain"), "\n")) || len(out) < 100 {
		t.Errorf("output is not a part of the full decode")
	}
	for _, want := range []string{"log cut short", "record cut off by the end of the data", "bytes and", "records skipped"} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr %q lacks %q", errs, want)
		}
	}
}

// --db checks that the log's sites belong to the database.
func TestDecodeDB(t *testing.T) {
	d, err := decoder.Open(featuresLog, nil)
	if err != nil {
		t.Fatal(err)
	}
	var es []fmtdb.Entry
	for _, s := range d.Sites() {
		es = append(es, fmtdb.Entry{Site: s.Site, Unit: s.File})
	}
	d.Close()
	dir := t.TempDir()
	full, partial := filepath.Join(dir, "full.lpdb"), filepath.Join(dir, "partial.lpdb")
	if err := fmtdb.Append(full, es); err != nil {
		t.Fatal(err)
	}
	if err := fmtdb.Append(partial, es[1:]); err != nil {
		t.Fatal(err)
	}
	if code, _, errs := run(t, nil, "decode", "--db", full, featuresLog); code != 0 {
		t.Errorf("matching db: exit %d: %s", code, errs)
	}
	code, out, errs := run(t, nil, "decode", "--db", partial, featuresLog)
	if code != 1 || out != "" || !strings.Contains(errs, "does not match database "+partial) || !strings.Contains(errs, "--force") {
		t.Errorf("mismatched db: exit %d, stderr %q", code, errs)
	}
	code, out, errs = run(t, nil, "decode", "--force", "--db", partial, featuresLog)
	if code != 0 || out != golden(t, "features.plain") || !strings.Contains(errs, "warning") {
		t.Errorf("forced: exit %d, stderr %q", code, errs)
	}
}

func TestDecodeUsage(t *testing.T) {
	if code, _, _ := run(t, nil, "decode"); code != 2 {
		t.Errorf("no LOG: exit %d", code)
	}
	if code, _, _ := run(t, nil, "decode", "--format", "xml", mixLog); code != 2 {
		t.Errorf("bad format: exit %d", code)
	}
	code, out, _ := run(t, nil, "decode", "--help")
	if code != 0 || !strings.Contains(out, "It keeps:") {
		t.Errorf("--help: exit %d, redaction not explained: %q", code, out)
	}
	if code, _, errs := run(t, nil, "decode", "/nonexistent.lpk"); code != 1 || !strings.Contains(errs, "no such file") {
		t.Errorf("missing file: exit %d %q", code, errs)
	}
}

func TestStats(t *testing.T) {
	code, out, errs := run(t, nil, "stats", mixLog)
	if code != 0 || errs != "" {
		t.Fatalf("exit %d: %s", code, errs)
	}
	lines := strings.Split(out, "\n")
	if !strings.Contains(lines[0], "300 records") || !strings.Contains(lines[3], "(records of processes without a process record)") || !strings.Contains(lines[6], "criu/mem.c:312") ||
		strings.Contains(out, "dropped while") || strings.Contains(out, "printed as text") {
		t.Errorf("table:\n%s", out)
	}
	code, out, _ = run(t, nil, "stats", "--format", "json", mixLog)
	if code != 0 || !strings.Contains(out, `"records": 300`) || !strings.Contains(out, `"file": "criu/mem.c"`) {
		t.Errorf("json: exit %d\n%s", code, out)
	}
}

// stats lists the sessions: number, start, pid, records, command line.
func TestStatsSessions(t *testing.T) {
	code, out, errs := run(t, nil, "stats", featuresLog)
	if code != 0 || errs != "logpack stats: "+featuresLog+": note: process 200 (session 1) dropped 3 records while logging (log full or unwritable)\n"+
		"logpack stats: "+featuresLog+": note: 1 strings in 1 records were cut to fit a record; the text shows what was recorded (json: \"cut\")\n" {
		t.Fatalf("exit %d: %s", code, errs)
	}
	want := regexp.MustCompile(`(?m)^      1  1970-01-01 00:00:00\.000000     100        13        3  criu dump \(/usr/sbin/criu\)$`)
	if !want.MatchString(out) {
		t.Errorf("no session line in:\n%s", out)
	}
	code, out, _ = run(t, nil, "stats", "--format", "json", featuresLog)
	for _, want := range []string{`"n": 1`, `"id": "0000000000005e55"`, `"pid": 100`, `"cmdline": [`, `"criu",`, `"records": 13`, `"processes": 2`} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("json: exit %d, no %s in\n%s", code, want, out)
		}
	}
}

// A string cut to fit its record decodes as recorded; decode says how
// many were cut, and JSON marks the record.
func TestDecodeCutStrings(t *testing.T) {
	code, out, errs := run(t, nil, "decode", "--format", "json", featuresLog)
	if code != 0 || !strings.Contains(out, `"cut":[{"arg":0,"len":70000}]}`) || !strings.Contains(errs, "note: 1 strings in 1 records were cut to fit a record") {
		t.Errorf("exit %d, stderr %q", code, errs)
	}
}

// --session N decodes one session of a log.
func TestDecodeSession(t *testing.T) {
	if code, out, _ := run(t, nil, "decode", "--session", "1", featuresLog); code != 0 || out != golden(t, "features.plain") {
		t.Errorf("--session 1: exit %d", code)
	}
	if code, _, errs := run(t, nil, "decode", "--session", "2", featuresLog); code != 1 || !strings.Contains(errs, "has 1 session\n") {
		t.Errorf("--session 2: exit %d, %q", code, errs)
	}
}

func subsequence(a, b []string) bool {
	i := 0
	for _, s := range b {
		if i < len(a) && a[i] == s {
			i++
		}
	}
	return i == len(a)
}

// The header counts every record dropped, also those of writers that
// never got room again to mark their own: decode and stats report that
// total (table and JSON), the sessions only what their processes marked,
// and the records printed as text instead apart.
func TestDroppedAndToText(t *testing.T) {
	w := logfile.NewWriter(logfile.Header{FirstPID: 100, StartTS: 1000, StartMonoNS: 1000, Dropped: 10, ToText: 4}, 4096)
	th := w.Thread(100, 100)
	th.Process(2000, logfile.Process{PPID: 1, Session: 7, Flags: logfile.ProcStarted, Exe: []byte("/usr/sbin/criu"), Cmdline: []byte("criu")})
	s := &fmtdb.Site{Level: 3, File: "a.c", Line: 1, Format: "x %d\n", Args: []fmtdb.ArgSpec{{Class: fmtdb.ClassI32, BoundArg: -1}}}
	s.ID = fmtdb.SiteID(s)
	th.Log(s, 3000, 0, fmtdb.Int(1))
	th.Dropped(3)
	log := filepath.Join(t.TempDir(), "d.lpk")
	if err := os.WriteFile(log, w.Bytes(0), 0o644); err != nil {
		t.Fatal(err)
	}
	notes := []string{
		"note: process 100 (session 1) dropped 3 records while logging",
		"note: writers dropped 10 records in all while logging; 7 of them by writers that could not say which",
		"note: 4 records did not fit the log and were printed as text instead",
	}
	for _, cmd := range []string{"decode", "stats"} {
		code, _, errs := run(t, nil, cmd, log)
		for _, n := range notes {
			if code != 0 || !strings.Contains(errs, n) {
				t.Errorf("%s: exit %d, no %q in %q", cmd, code, n, errs)
			}
		}
	}
	code, out, _ := run(t, nil, "stats", log)
	for _, want := range []string{
		"dropped while logging (log full or unwritable): 10 records, 7 of them by writers that could not say which (in no session below)\n",
		"printed as text instead (the log could not take them; they are in the program's text log): 4 records\n",
		"      1  1970-01-01 00:00:00.000001     100         1        3  criu (/usr/sbin/criu)\n",
	} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("table: no %q in\n%s", want, out)
		}
	}
	code, out, _ = run(t, nil, "stats", "--format", "json", log)
	var js struct {
		Dropped, DroppedMarked, ToText uint64
		Sessions                       []struct{ Dropped uint64 }
	}
	if err := json.Unmarshal([]byte(out), &js); err != nil || code != 0 {
		t.Fatalf("json: exit %d, %v\n%s", code, err, out)
	}
	if !strings.Contains(out, `"dropped_marked": 3`) || !strings.Contains(out, `"to_text": 4`) || js.Dropped != 10 || len(js.Sessions) != 1 || js.Sessions[0].Dropped != 3 {
		t.Errorf("json: %+v\n%s", js, out)
	}
}
