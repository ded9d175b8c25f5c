package fmtdb

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// classes describes f.Args compactly: "i32 strmax(5) strmax(@1) errno".
func classes(f *Format) string {
	var parts []string
	for _, a := range f.Args {
		s := a.Class.String()
		if a.Class == ClassStrMax {
			if a.BoundArg >= 0 {
				s += fmt.Sprintf("(@%d)", a.BoundArg)
			} else {
				s += fmt.Sprintf("(%d)", a.Bound)
			}
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " ")
}

func TestArgs(t *testing.T) {
	cases := []struct{ format, args string }{
		{"plain text\n", ""},
		{"%d %s\n", "i32 str"},
		{"%*d", "i32 i32"},
		{"%-*.*s|", "i32 i32 strmax(@1)"},
		{"%.5s %.s %10s", "strmax(5) strmax(0) str"},
		{"%Lf %Lg %llf %qe %lf %hf %f %a %La", "f80 f80 f80 f80 f64 f64 f64 f64 f80"},
		{"%p %c %hhd %hu %u %x %o %b", "ptr i32 i32 u32 u32 u32 u32 u32"},
		{"%lu %zu %zd %jd %td %qd %Zx %lld %Lx %li %ju", "u64 u64 i64 i64 i64 i64 u64 i64 u64 i64 u64"},
		{"%m", "errno"},
		{"%s: %m %*m", "str errno i32 errno"},
		{"%% %5% %y %-5.3y %ly", ""},
		{"%*y %.*y", "i32 i32"},
		{"%2$s %1$d", "i32 str"},
		{"%2$*1$d", "i32 i32"},
		{"%3$.*1$s %2$d", "i32 i32 strmax(@0)"},
		{"%m %1$s %m", "str errno errno"},
		{"%1$d %1$u", "i32"},
		{"%1$lx %1$ld", "u64"},
		{"%1$s %1$.5s", "str"},
		{"%1$.5s %1$.7s", "strmax(7)"},
		{"%lc %ls %C %S", "i32 str i32 str"},
		{"%0$d", ""},    // glibc: flag 0, unknown conversion '$'
		{"%*5d", "i32"}, // glibc: '*' then unknown conversion '5'
	}
	for _, c := range cases {
		f, err := Parse(c.format)
		if err != nil {
			t.Errorf("Parse(%q): %v", c.format, err)
			continue
		}
		if got := classes(f); got != c.args {
			t.Errorf("Parse(%q).Args = %q, want %q", c.format, got, c.args)
		}
	}
}

func TestSpecFields(t *testing.T) {
	f, err := Parse("ab%-+ #0'I12.3lxcd%%")
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Pieces) != 4 || f.Pieces[0].Lit != "ab" || f.Pieces[2].Lit != "cd" || f.Pieces[3].Spec.Conv != '%' {
		t.Fatalf("pieces %+v", f.Pieces)
	}
	s := f.Pieces[1].Spec
	want := Spec{Offset: 2, End: 16, Flags: FlagMinus | FlagPlus | FlagSpace | FlagHash | FlagZero | FlagQuote | FlagI18n,
		Width: 12, WidthArg: -1, Prec: 3, PrecArg: -1, Length: LenL, Conv: 'x', Arg: 0}
	if *s != want {
		t.Errorf("spec = %+v\nwant   %+v", *s, want)
	}
	if s.Text(f.Text) != "%-+ #0'I12.3lx" {
		t.Errorf("Text = %q", s.Text(f.Text))
	}
	f, _ = Parse("%3$*1$.*2$d")
	s = &f.Specs[0]
	if s.Pos != 3 || s.WidthArg != 0 || s.PrecArg != 1 || s.Arg != 2 || !f.Positional {
		t.Errorf("positional spec = %+v", *s)
	}
}

func TestParseErrors(t *testing.T) {
	cases := []struct {
		format string
		offset int
		msg    string
	}{
		{"abc %n", 4, "%n is not allowed"},
		{"%hhn", 0, "%n is not allowed"},
		{"x%1$n", 1, "%n is not allowed"},
		{"100%", 3, "format ends inside a conversion specification"},
		{"%5", 0, "ends inside"},
		{"%-", 0, "ends inside"},
		{"%*", 0, "ends inside"},
		{"%.*", 0, "ends inside"},
		{"%l", 0, "ends inside"},
		{"%1$", 0, "ends inside"},
		{"%1$d %d", 5, "mixes sequential arguments with positional ones"},
		{"%d %1$d", 3, "mixes positional arguments with sequential ones"},
		{"%1$*d", 0, "mixes"},
		{"%2$d", 0, "positional argument 1 is never used"},
		{"%1$d %1$ld", 5, "positional argument 1 used as i32 and as i64"},
		{"%1$s %1$d", 5, "used as str and as i32"},
		{"%1$p %1$lu", 5, "used as ptr and as u64"},
		{"%99999999d", 0, "width 99999999 is over the limit"},
		{"%.99999999f", 0, "precision 99999999 is over the limit"},
		{"%300$d", 0, "positional argument 300 is over the limit"},
		{"%99999999999$d", 0, "argument position 99999999999 is too large"},
	}
	for _, c := range cases {
		_, err := Parse(c.format)
		var pe *ParseError
		if !errors.As(err, &pe) {
			t.Errorf("Parse(%q) = %v, want a *ParseError", c.format, err)
			continue
		}
		if pe.Offset != c.offset || !strings.Contains(pe.Msg, c.msg) {
			t.Errorf("Parse(%q): %v; want offset %d, %q", c.format, err, c.offset, c.msg)
		}
	}
	_, err := Parse("abc %n")
	if got := err.Error(); got != "fmtdb: format offset 4: %n is not allowed" {
		t.Errorf("error text %q", got)
	}
}

func TestRecordable(t *testing.T) {
	// (a string's precision only cuts it: %.70000s pads nothing)
	ok := []string{"%d %s %p %m %Lf %#x %.*s %y %'y", "", "%.70000s %.70000m %.70000c %65536d"}
	for _, s := range ok {
		f, err := Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Recordable(); err != nil {
			t.Errorf("Recordable(%q) = %v", s, err)
		}
	}
	bad := map[string]string{
		"a %ls":           "wide",
		"%lc":             "wide",
		"%C":              "wide",
		"%5S":             "wide",
		"%zs":             "wide",
		"%'d":             "groups digits",
		"%If":             "locale's digits",
		"%d%lls":          "wide",
		"%70000d":         "over the 65536 a message may pad",
		"%.70000d":        "over the 65536",
		"%40000d %40000s": "80000 bytes",
	}
	for s, msg := range bad {
		f, err := Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Recordable(); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("Recordable(%q) = %v, want %q", s, err, msg)
		}
	}
	f, _ := Parse(strings.Repeat("%d", MaxDescriptorArgs+1))
	if f.Recordable() == nil {
		t.Error("a format with too many arguments is recordable")
	}
}

func TestEscapeLiteral(t *testing.T) {
	for _, s := range []string{"", "plain", "100%", "%d%%%s", "%"} {
		esc := string(EscapeLiteral(nil, s))
		f, err := Parse(esc)
		if err != nil {
			t.Fatalf("Parse(EscapeLiteral(%q)): %v", s, err)
		}
		if len(f.Args) != 0 || string(f.Append(nil, nil)) != s {
			t.Errorf("EscapeLiteral(%q) = %q renders %q", s, esc, f.Append(nil, nil))
		}
	}
}

// Folding constant arguments (as the rewriter does with __FILE__ and
// __LINE__) gives a format that prints the same with the rest.
func TestFoldConstants(t *testing.T) {
	orig := "Error (%s:%d): %-8s|%5d|%#x: %s\n"
	f, err := Parse(orig)
	if err != nil {
		t.Fatal(err)
	}
	consts := []Value{String("criu/mount.c"), Int(1234), String("100%"), Int(-7)}
	rest := []Value{Uint(255), String("tail")}
	var b []byte
	prev := 0
	for i := 0; i < len(consts); i++ {
		s := &f.Specs[i]
		b = append(b, orig[prev:s.Offset]...)
		r, err := s.AppendConst(nil, consts[i])
		if err != nil {
			t.Fatal(err)
		}
		b = EscapeLiteral(b, string(r))
		prev = s.End
	}
	b = append(b, orig[prev:]...)
	folded, err := Parse(string(b))
	if err != nil {
		t.Fatal(err)
	}
	got := folded.Append(nil, rest)
	w, _ := want(f, append(consts, rest...))
	if string(got) != string(w) {
		t.Errorf("folded %q renders %q, want %q", b, got, w)
	}
	h, _ := Parse("%*d %m")
	for i := range h.Specs {
		if _, err := h.Specs[i].AppendConst(nil, Int(1)); err == nil {
			t.Errorf("AppendConst of %q succeeded", h.Specs[i].Text(h.Text))
		}
	}
}
