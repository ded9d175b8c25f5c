package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/logpack/logpack/fmtdb"
)

func dbTestEntry(file string, line int, format string) fmtdb.Entry {
	e := fmtdb.Entry{Site: fmtdb.Site{Level: 3, File: file, Line: line, Func: "f", Format: format,
		Args: []fmtdb.ArgSpec{{Class: fmtdb.ClassI32, BoundArg: -1}}}, Unit: file}
	e.ID = fmtdb.SiteID(&e.Site)
	return e
}

func dbTestRun(args ...string) (int, string, string) {
	var o, e bytes.Buffer
	st := dispatch(append([]string{"db"}, args...), &o, &e)
	return st, o.String(), e.String()
}

// show lists sites; check fails on conflicts and torn lines but not on
// duplicates; merge writes the deterministic union and refuses conflicts.
func TestDBCommands(t *testing.T) {
	dir := t.TempDir()
	a, b := dbTestEntry("a.c", 1, "one %d\n"), dbTestEntry("b.c", 2, "two %d\n")
	p1, p2 := filepath.Join(dir, "1.db"), filepath.Join(dir, "2.db")
	fmtdb.Append(p1, []fmtdb.Entry{b, a})
	fmtdb.Append(p2, []fmtdb.Entry{a})

	st, out, _ := dbTestRun("show", p1)
	if st != 0 || !strings.Contains(out, fmtdb.FormatID(a.ID)+"  3      a.c:1") || !strings.Contains(out, `"two %d\n"`) {
		t.Errorf("show: %d\n%s", st, out)
	}
	st, out, _ = dbTestRun("check", p1, p2)
	if st != 0 || !strings.Contains(out, "2 sites in 3 lines: 1 duplicates, 0 conflicts") {
		t.Errorf("check: %d\n%s", st, out)
	}
	merged := filepath.Join(dir, "m.db")
	if st, _, e := dbTestRun("merge", "-o", merged, p2, p1); st != 0 {
		t.Fatalf("merge: %d %s", st, e)
	}
	got, _ := os.ReadFile(merged)
	la, _ := a.MarshalLine()
	lb, _ := b.MarshalLine()
	if string(got) != string(la)+string(lb) {
		t.Errorf("merged:\n%s", got)
	}

	bad := a
	bad.Format = "uno %d\n" // same ID, other text
	p3 := filepath.Join(dir, "3.db")
	fmtdb.Append(p3, []fmtdb.Entry{bad})
	os.WriteFile(p3, append(dbTestMust(os.ReadFile(p3)), `{"id":"`...), 0o644)
	st, out, _ = dbTestRun("check", "-q", p1, p3)
	if st != 1 || !strings.Contains(out, "1 conflicts") || !strings.Contains(out, "1 torn lines") {
		t.Errorf("check of a bad database: %d\n%s", st, out)
	}
	if st, _, e := dbTestRun("merge", "-o", merged, p1, p3); st != 1 || !strings.Contains(e, "conflicting") {
		t.Errorf("merge with a conflict: %d %s", st, e)
	}
	if st, _, e := dbTestRun("extract", p1); st != 1 || e == "" {
		t.Errorf("extract of a non-ELF file: %d %s", st, e)
	}
}

func dbTestMust(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}
