package fmtdb

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func testEntry(file string, line int, format string, args ...ArgSpec) Entry {
	e := Entry{Site: Site{Level: 3, File: file, Line: line, Func: "f", Format: format, Args: args}, Unit: file}
	if e.Args == nil {
		e.Args = []ArgSpec{}
	}
	e.ID = SiteID(&e.Site)
	return e
}

var (
	i32  = ArgSpec{Class: ClassI32, BoundArg: -1}
	str  = ArgSpec{Class: ClassStr, BoundArg: -1}
	errn = ArgSpec{Class: ClassErrno, BoundArg: -1}
)

// A line written by MarshalLine reads back as the same entry, bounded
// strings and run-time levels included, and stays one line whatever the
// format contains.
func TestLineRoundTrip(t *testing.T) {
	e := testEntry("criu/mnt \"x\".c", 42, "mnt: %d\n%.*s <%s> & %m\t\x01\xff",
		i32, ArgSpec{Class: ClassI32, BoundArg: -1}, ArgSpec{Class: ClassStrMax, BoundArg: 1},
		ArgSpec{Class: ClassStrMax, Bound: 7, BoundArg: -1}, errn)
	e.Level = LevelRuntime
	e.ID = SiteID(&e.Site)
	e.Build = "b1"
	b, err := e.MarshalLine()
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Count(b, []byte("\n")) != 1 || b[len(b)-1] != '\n' {
		t.Fatalf("not exactly one line: %q", b)
	}
	if !bytes.Contains(b, []byte(`"format_b64"`)) || !bytes.Contains(b, []byte(`"args":["i32","i32","strmax:*1","strmax:7","errno"]`)) {
		t.Errorf("argument classes not spelled as documented: %s", b)
	}
	got, err := UnmarshalLine(b[:len(b)-1])
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(e, got); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
}

func TestUnmarshalRejectsBadLines(t *testing.T) {
	for _, line := range []string{
		`{"id":"xyz","level":3,"file":"a.c","line":1,"func":"","format":"","args":[]}`,
		`{"id":"01","level":9,"file":"a.c","line":1,"func":"","format":"","args":[]}`,
		`{"id":"01","level":3,"file":"a.c","line":1,"func":"","format":"","args":["float"]}`,
		`{"id":"01","level":3,"file":"a.c","line":1,"func":"","format":"","args":["strmax:*3"]}`,
		`{"id":"01","level":3,"file":"a.c","line":1,"func":"","format":"","args":["i32:4"]}`,
		`{"id":"01","level":3,"file":"a.c","line":1,"func":"","format":"","args":[],"extra":1}`,
		`{"id":"01","level":3,"file":"a.c","line":1,"func":"","format":"","args":[]} {}`,
		`{"id":"01","level":3,"file":"a.c","li`,
	} {
		if _, err := UnmarshalLine([]byte(line)); err == nil {
			t.Errorf("accepted %s", line)
		}
	}
}

// Readers skip a torn last line (a writer killed mid-write) and a damaged
// line in the middle, report both with their position, and keep the rest.
func TestReadSkipsTornLines(t *testing.T) {
	a := testEntry("a.c", 1, "one %d\n", i32)
	b := testEntry("b.c", 2, "two %s\n", str)
	la, _ := a.MarshalLine()
	lb, _ := b.MarshalLine()
	in := string(la) + "{\"id\":\"garbage\n" + string(lb) + string(la[:20])
	got, probs, err := Read(strings.NewReader(in), "db.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ID != a.ID || got[1].ID != b.ID || got[1].Line != 3 {
		t.Errorf("entries: %+v", got)
	}
	if len(probs) != 2 || probs[0].Kind != ProblemTorn || probs[0].Line != 2 ||
		probs[1].Kind != ProblemTorn || probs[1].Line != 4 || probs[1].Offset != int64(len(la)+15+len(lb)) {
		t.Errorf("problems: %v", probs)
	}
	if s := probs[1].String(); !strings.Contains(s, "db.jsonl:4 (byte") || !strings.Contains(s, "no newline") {
		t.Errorf("problem text: %s", s)
	}
}

func TestReadBoundsLineLength(t *testing.T) {
	a := testEntry("a.c", 1, "one\n")
	la, _ := a.MarshalLine()
	in := strings.Repeat("x", MaxLineLen+10) + "\n" + string(la)
	got, probs, err := Read(strings.NewReader(in), "big")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || len(probs) != 1 || probs[0].Kind != ProblemTorn {
		t.Errorf("got %d entries, problems %v", len(got), probs)
	}
}

// Binary data is no database: Read says what it is at once instead of
// reading it as torn lines (or, for /dev/zero, for ever).
func TestReadRefusesBinaryData(t *testing.T) {
	a := testEntry("a.c", 1, "one\n")
	la, _ := a.MarshalLine()
	zero, err := os.Open("/dev/zero")
	if err != nil {
		t.Fatal(err)
	}
	defer zero.Close()
	for _, c := range []struct {
		name string
		in   io.Reader
		want string
	}{
		{"/dev/zero", zero, "/dev/zero: not a format database: binary data (a NUL byte at offset 0)"},
		{"prog", strings.NewReader("\x7fELF\x02\x01\x01\x00"), "prog: not a format database: an ELF file"},
		{"run.lpk", strings.NewReader("LOGPACK\n\x01\x00\x00\x10"), "run.lpk: not a format database: a binary log"},
		{"text", strings.NewReader("abc\x00def\n" + string(la)), "text: not a format database: binary data (a NUL byte at offset 3)"},
	} {
		_, _, err := Read(c.in, c.name)
		var nd *NotDatabaseError
		if !errors.As(err, &nd) || err.Error() != c.want {
			t.Errorf("%s: %v, want %s", c.name, err, c.want)
		}
	}
	// A torn tail of NUL bytes (a crash after the file grew) is a torn line.
	got, probs, err := Read(strings.NewReader(string(la)+"\x00\x00\x00"), "torn")
	if err != nil || len(got) != 1 || len(probs) != 1 {
		t.Errorf("torn tail: %d entries, problems %v, %v", len(got), probs, err)
	}
}

// Many writers appending at once (as make -j runs many wrappers) lose and
// interleave nothing: every line reads back exactly once.
func TestConcurrentAppendsKeepEveryLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db.jsonl")
	const writers, perUnit = 16, 200
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			var es []Entry
			for i := 0; i < perUnit; i++ {
				es = append(es, testEntry(fmt.Sprintf("u%d.c", w), i+1, strings.Repeat("m", i%50)+" %d\n", i32))
			}
			if err := Append(path, es); err != nil {
				t.Error(err)
			}
		}(w)
	}
	wg.Wait()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	raw, probs, err := Read(f, path)
	if err != nil || len(probs) != 0 {
		t.Fatalf("err %v, problems %v", err, probs)
	}
	if len(raw) != writers*perUnit {
		t.Fatalf("%d lines, want %d", len(raw), writers*perUnit)
	}
	// Each unit's lines stay together and in order: one write per unit.
	for i := 0; i < len(raw); i += perUnit {
		for j := 1; j < perUnit; j++ {
			if raw[i+j].Unit != raw[i].Unit || raw[i+j].Site.Line != j+1 {
				t.Fatalf("unit %s interleaved at line %d", raw[i].Unit, raw[i+j].Line)
			}
		}
	}
	if p := Check(raw); len(p) != 0 {
		t.Errorf("check: %v", p)
	}
}

// Loading deduplicates by ID and orders entries the same way whatever the
// order of the input (parallel builds append in any order).
func TestLoadIsDeterministic(t *testing.T) {
	es := []Entry{testEntry("b.c", 1, "x\n"), testEntry("a.c", 9, "y\n"), testEntry("a.c", 2, "z\n")}
	dir := t.TempDir()
	p1, p2 := filepath.Join(dir, "1"), filepath.Join(dir, "2")
	Append(p1, es)
	Append(p2, []Entry{es[2], es[0], es[1], es[0]})
	d1, _, err := Load(p1)
	if err != nil {
		t.Fatal(err)
	}
	d2, _, err := Load(p2)
	if err != nil {
		t.Fatal(err)
	}
	var w1, w2 bytes.Buffer
	d1.Write(&w1)
	d2.Write(&w2)
	if w1.String() != w2.String() || d2.Len() != 3 {
		t.Errorf("orders differ or not deduplicated:\n%s\n%s", w1.String(), w2.String())
	}
	if d1.Entries[0].File != "a.c" || d1.Entries[0].Line != 2 {
		t.Errorf("first entry %s:%d", d1.Entries[0].File, d1.Entries[0].Line)
	}
	if e, ok := d1.Lookup(es[1].ID); !ok || e.Line != 9 {
		t.Errorf("lookup: %v %v", e, ok)
	}
	m := Merge(d1, New([]Entry{testEntry("c.c", 1, "w\n")}))
	if m.Len() != 4 {
		t.Errorf("merge has %d sites", m.Len())
	}
}

func TestCheckFindsDuplicatesConflictsAndBadIDs(t *testing.T) {
	a := testEntry("a.c", 1, "one %d\n", i32)
	dup := a
	dup.Unit = "other.c"
	conflict := a
	conflict.Format = "uno %d\n" // same ID, different text: never render with it
	bad := testEntry("b.c", 1, "two\n")
	bad.ID++
	raw := []RawEntry{{Entry: a, Name: "db", Line: 1}, {Entry: dup, Name: "db", Line: 2},
		{Entry: conflict, Name: "db", Line: 3}, {Entry: bad, Name: "db", Line: 4}}
	var kinds []string
	for _, p := range Check(raw) {
		kinds = append(kinds, fmt.Sprintf("%s@%d", p.Kind, p.Line))
	}
	want := []string{"duplicate@2", "bad-id@3", "conflict@3", "bad-id@4"}
	if diff := cmp.Diff(want, kinds); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
}

// FuzzUnmarshalLine: no input makes the reader panic, and whatever it
// accepts writes back to a line that reads as the same entry.
func FuzzUnmarshalLine(f *testing.F) {
	e := testEntry("a.c", 3, "%d %s\n", i32, str)
	l, _ := e.MarshalLine()
	f.Add(l[:len(l)-1])
	f.Add([]byte(`{"id":"1","level":255,"file":"","line":0,"func":"","format":"","args":["strmax:*0"]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := UnmarshalLine(b)
		if err != nil {
			return
		}
		l, err := e.MarshalLine()
		if err != nil {
			t.Fatal(err)
		}
		e2, err := UnmarshalLine(l[:len(l)-1])
		if err != nil {
			t.Fatalf("re-read %q: %v", l, err)
		}
		if diff := cmp.Diff(e, e2); diff != "" {
			t.Fatalf("re-read differs:\n%s", diff)
		}
	})
}

// After a torn write, the next unit's lines still read back whole.
func TestAppendAfterTornLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db.jsonl")
	a, b := testEntry("a.c", 1, "a\n"), testEntry("b.c", 2, "b\n")
	la, _ := a.MarshalLine()
	os.WriteFile(path, la[:len(la)/2], 0o644)
	if err := Append(path, []Entry{b}); err != nil {
		t.Fatal(err)
	}
	f, _ := os.Open(path)
	defer f.Close()
	raw, probs, err := Read(f, path)
	if err != nil || len(raw) != 1 || raw[0].ID != b.ID || len(probs) != 1 || probs[0].Line != 1 {
		t.Errorf("entries %v, problems %v, err %v", raw, probs, err)
	}
}
