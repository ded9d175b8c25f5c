package logfile

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/logpack/logpack/fmtdb"
)

// A descriptor survives encoding, constants and string bounds included.
func TestDescriptorRoundTrip(t *testing.T) {
	a := func(c fmtdb.Class) DescArg { return DescArg{Class: c, BoundArg: -1} }
	d := Descriptor{Level: fmtdb.LevelRuntime, Flags: DescPrefix, TextLevel: 2, File: "criu/files.c", Line: 1534, Func: "open_fd",
		Format: "Error (%s:%d): %.*s %.4s %u %s\n",
		Args: []DescArg{{Class: ClassConstStr, Str: "criu/files.c", BoundArg: -1}, {Class: ClassConstInt, Bits: uint64(1534), BoundArg: -1},
			a(fmtdb.ClassI32), {Class: fmtdb.ClassStrMax, BoundArg: 2}, {Class: fmtdb.ClassStrMax, Bound: 4, BoundArg: -1},
			{Class: ClassConstUint, Bits: 1<<64 - 1, BoundArg: -1}, a(fmtdb.ClassErrno)}}
	b := d.Append(nil)
	got, err := ParseDescriptor(b)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(d, got); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	// Every prefix is an error, never a panic.
	for i := range b {
		if _, err := ParseDescriptor(b[:i]); err == nil {
			t.Errorf("prefix of %d bytes parsed", i)
		}
	}
	if _, err := ParseDescriptor(append(b, 0)); err == nil {
		t.Errorf("a trailing byte parsed")
	}
}

// Constants that cannot be folded make the descriptor unusable; entries
// that do not fit the format are left for the renderer to refuse.
func TestDescriptorFoldErrors(t *testing.T) {
	c := func(cl fmtdb.Class, v uint64) DescArg { return DescArg{Class: cl, Bits: v, BoundArg: -1} }
	cases := []struct {
		format string
		args   []DescArg
		want   string // "" = folds
	}{
		{"%d %s\n", []DescArg{c(ClassConstInt, 1), {Class: ClassConstStr, Str: "x"}}, ""},
		{"%s\n", []DescArg{c(ClassConstInt, 1)}, "constant int(1) does not fold into %s"},
		{"%d\n", []DescArg{c(ClassConstUint, 1<<40)}, "does not fold into %d"},
		{"%*d\n", []DescArg{c(ClassConstInt, 5), c(fmtdb.ClassI32, 0)}, "a '*' amount cannot be a constant"},
		{"%1$d\n", []DescArg{c(ClassConstInt, 5)}, "does not fold"},
		{"%d %d\n", []DescArg{c(ClassConstInt, 5)}, "format takes 2 arguments, the descriptor lists 1"},
		{"%n\n", []DescArg{c(ClassConstInt, 5)}, "constants cannot be folded"},
		{"%d %d\n", []DescArg{c(fmtdb.ClassI32, 0)}, ""}, // no constants: the renderer's business
		{"%.*s %s\n", []DescArg{c(ClassConstInt, 3), {Class: fmtdb.ClassStrMax, BoundArg: 0}, c(fmtdb.ClassStr, 0)}, "a string bound names constant argument 0"},
	}
	for _, cs := range cases {
		d := Descriptor{Level: 3, File: "a.c", Line: 1, Format: cs.format, Args: cs.args}
		_, _, err := d.Site()
		if cs.want == "" && err != nil || cs.want != "" && (err == nil || !strings.Contains(err.Error(), cs.want)) {
			t.Errorf("%q %v: error %v, want %q", cs.format, cs.args, err, cs.want)
		}
	}
}

// FuzzDescriptor: any bytes parse as a descriptor or fail, never panic;
// what parses encodes to bytes that parse to the same descriptor, and
// folding it never panics.
func FuzzDescriptor(f *testing.F) {
	d := Descriptor{Level: 1, TextLevel: 2, File: "f.c", Line: 3, Format: "Error (%s:%d): %.*s %-4s|%x\n",
		Args: []DescArg{{Class: ClassConstStr, Str: "f.c", BoundArg: -1}, {Class: ClassConstInt, Bits: 3, BoundArg: -1},
			{Class: fmtdb.ClassI32, BoundArg: -1}, {Class: fmtdb.ClassStrMax, BoundArg: 2}, {Class: fmtdb.ClassErrno, BoundArg: -1}, {Class: ClassConstUint, Bits: 255, BoundArg: -1}}}
	f.Add(d.Append(nil))
	s := &fmtdb.Site{Level: 3, File: "a.c", Line: 1, Format: "%s %lu\n", Args: []fmtdb.ArgSpec{{Class: fmtdb.ClassStr, BoundArg: -1}, {Class: fmtdb.ClassU64, BoundArg: -1}}}
	ds := DescriptorOf(s)
	f.Add(ds.Append(nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := ParseDescriptor(b)
		if err != nil {
			return
		}
		// Varints may have been written long; the content is the same.
		again, err := ParseDescriptor(d.Append(nil))
		if diff := cmp.Diff(d, again); err != nil || diff != "" {
			t.Fatalf("% x: encoded and parsed again: %v (-first +again):\n%s", b, err, diff)
		}
		s, recorded, err := d.Site()
		if err != nil {
			return
		}
		if len(recorded) != len(d.Args) || s.ID != fmtdb.SiteID(&s) {
			t.Fatalf("site %+v, recorded %v", s, recorded)
		}
	})
}
