package rewriter

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

type tk struct {
	kind Kind
	text string
	line int
}

func scanAll(src, file string) ([]tk, []string) {
	var s Scanner
	var errs []string
	s.Init([]byte(src), file, func(f string, line int, msg string) {
		errs = append(errs, fmt.Sprintf("%s:%d: %s", f, line, msg))
	})
	var out []tk
	for {
		t := s.Scan()
		if t.Kind == EOF {
			return out, errs
		}
		out = append(out, tk{t.Kind, src[t.Off:t.End], t.Line})
	}
}

func TestScannerTokens(t *testing.T) {
	cases := []struct {
		src  string
		want []tk
	}{
		{`a_1 $x é`, []tk{{Ident, "a_1", 1}, {Ident, "$x", 1}, {Ident, "é", 1}}},
		{`0x1.8p+3 1e-5 10ull 1'000 .5f 0b101 08`, []tk{{Number, "0x1.8p+3", 1}, {Number, "1e-5", 1},
			{Number, "10ull", 1}, {Number, "1'000", 1}, {Number, ".5f", 1}, {Number, "0b101", 1}, {Number, "08", 1}}},
		{`1+2 x-1`, []tk{{Number, "1", 1}, {Punct, "+", 1}, {Number, "2", 1}, {Ident, "x", 1}, {Punct, "-", 1}, {Number, "1", 1}}},
		{`u8"a" L"b" u'c' U"d" L 'x' "\"" '\''`, []tk{{String, `u8"a"`, 1}, {String, `L"b"`, 1}, {Char, `u'c'`, 1},
			{String, `U"d"`, 1}, {Ident, "L", 1}, {Char, "'x'", 1}, {String, `"\""`, 1}, {Char, `'\''`, 1}}},
		{"a /* x\ny */ b // c\nd", []tk{{Ident, "a", 1}, {Comment, "/* x\ny */", 1}, {Ident, "b", 2}, {Comment, "// c", 2}, {Ident, "d", 3}}},
		{"// c \\\n still\nx", []tk{{Comment, "// c \\\n still", 1}, {Ident, "x", 3}}},
		{"x\n  # define A \"/*\" \\\n  B\ny", []tk{{Ident, "x", 1}, {Directive, "# define A \"/*\" \\\n  B", 2}, {Ident, "y", 4}}},
		{"#define C /* a\n b */ 1\nz", []tk{{Directive, "#define C /* a\n b */ 1", 1}, {Ident, "z", 3}}},
		{"a # b", []tk{{Ident, "a", 1}, {Punct, "#", 1}, {Ident, "b", 1}}},
		{"/* */ #if 1\nq", []tk{{Comment, "/* */", 1}, {Directive, "#if 1", 1}, {Ident, "q", 2}}},
		{"%:define X\n<%<::>%>", []tk{{Directive, "%:define X", 1}, {Punct, "<%", 2}, {Punct, "<:", 2}, {Punct, ":>", 2}, {Punct, "%>", 2}}},
		{"a->b ... <<= >>= ## ++ -- && || != ==", []tk{{Ident, "a", 1}, {Punct, "->", 1}, {Ident, "b", 1}, {Punct, "...", 1},
			{Punct, "<<=", 1}, {Punct, ">>=", 1}, {Punct, "##", 1}, {Punct, "++", 1}, {Punct, "--", 1}, {Punct, "&&", 1},
			{Punct, "||", 1}, {Punct, "!=", 1}, {Punct, "==", 1}}},
		{"ab\\\ncd x", []tk{{Ident, "ab\\\ncd", 1}, {Ident, "x", 2}}},
		{"#include <it's.h>\nx", []tk{{Directive, "#include <it's.h>", 1}, {Ident, "x", 2}}},
		// GNU C's raw strings: quotes, backslashes, newlines and calls inside
		{"R\"x(a)\" ; f(\"b\\n\"); )x\" y", []tk{{String, "R\"x(a)\" ; f(\"b\\n\"); )x\"", 1}, {Ident, "y", 1}}},
		{"u8R\"(\n)\" LR\"--(\")--\" R x", []tk{{String, "u8R\"(\n)\"", 1}, {String, "LR\"--(\")--\"", 2}, {Ident, "R", 2}, {Ident, "x", 2}}},
	}
	for _, c := range cases {
		got, errs := scanAll(c.src, "t.c")
		if len(errs) != 0 {
			t.Errorf("%q: errors %v", c.src, errs)
		}
		if fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("%q:\n got %v\nwant %v", c.src, got, c.want)
		}
	}
}

// Line markers (gcc -E) and #line set the position of the following line.
func TestScannerLineMarkers(t *testing.T) {
	src := "a\n# 10 \"x.c\"\nb\nc\n# 1 \"dir/h\\\\.h\" 1 3 4\nd\n#line 7\ne\n#line 20 \"y.c\"\nf\n"
	var s Scanner
	s.Init([]byte(src), "in.c", nil)
	var got []string
	for {
		tok := s.Scan()
		if tok.Kind == EOF {
			break
		}
		if tok.Kind == Ident {
			got = append(got, fmt.Sprintf("%s@%s:%d", src[tok.Off:tok.End], tok.File, tok.Line))
		}
	}
	want := `a@in.c:1 b@x.c:10 c@x.c:11 d@dir/h\.h:1 e@dir/h\.h:7 f@y.c:20`
	if strings.Join(got, " ") != want {
		t.Errorf("got  %s\nwant %s", strings.Join(got, " "), want)
	}
}

func TestScannerErrors(t *testing.T) {
	for _, src := range []string{`"abc`, "'a\nb", "/* open", "@", "\"x\\"} {
		_, errs := scanAll(src, "e.c")
		if len(errs) == 0 {
			t.Errorf("%q: no error reported", src)
		}
	}
}

// TestLiteralsAgainstGCC decodes literals and compares with the bytes gcc
// puts into the object for the same literal.
func TestLiteralsAgainstGCC(t *testing.T) {
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Skip("gcc not found")
	}
	lits := []string{
		`"plain"`, `"\a\b\f\n\r\t\v\\\'\"\?"`, `"\e\E"`, `"\0\7\77\101\1011"`, `"\x41\x4a\xff\x0"`,
		`"\u00e9\U0001F600"`, `u8"\u20ac x"`, `"a\
b"`, `"\377\200"`, `""`,
	}
	var prog strings.Builder
	prog.WriteString("#include <stdio.h>\nstatic void p(const char *s, unsigned n) { for (unsigned i = 0; i < n; i++) printf(\"%02x\", (unsigned char)s[i]); printf(\"\\n\"); }\nint main(void) {\n")
	for _, l := range lits {
		fmt.Fprintf(&prog, "\tp(%s, sizeof(%s) - 1);\n", l, l)
	}
	prog.WriteString("\treturn 0;\n}\n")
	out := runC(t, prog.String())
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	for i, l := range lits {
		v, err := decodeLiteral([]byte(l))
		if err != nil {
			t.Errorf("%s: %v", l, err)
			continue
		}
		if got := fmt.Sprintf("%x", v.Bytes); got != lines[i] {
			t.Errorf("%s: decoded %s, gcc %s", l, got, lines[i])
		}
	}
	for _, bad := range []string{`"\q"`, `"\x"`, `"\u12"`, `"\x100"`, `"\400"`, `"\U00110000"`, `"\ud800"`} {
		if _, err := decodeLiteral([]byte(bad)); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}

func TestIntLiteralsAgainstGCC(t *testing.T) {
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Skip("gcc not found")
	}
	lits := []string{"0", "42", "0x7fffffff", "017", "0b1011", "10u", "10UL", "10llu", "0xFFFFFFFFFFFFFFFFull", "1'000'000"}
	var prog strings.Builder
	prog.WriteString("#include <stdio.h>\nint main(void) {\n")
	for _, l := range lits {
		fmt.Fprintf(&prog, "\tprintf(\"%%llu\\n\", (unsigned long long)%s);\n", l)
	}
	prog.WriteString("\treturn 0;\n}\n")
	out := strings.Split(strings.TrimSpace(runC(t, prog.String(), "-std=gnu2x")), "\n")
	for i, l := range lits {
		v, ok := parseIntLiteral(l)
		if !ok || strconv.FormatUint(v.Value, 10) != out[i] {
			t.Errorf("%s: parsed %v %v, gcc %s", l, v, ok, out[i])
		}
	}
	for _, bad := range []string{"1e5", "0x1p3", "1.0", "08", "0x", "10lul", "10lL", "99999999999999999999"} {
		if v, ok := parseIntLiteral(bad); ok {
			t.Errorf("%s: parsed as %v", bad, v)
		}
	}
}

// The PRI* table equals glibc's <inttypes.h> on this machine.
func TestPRIMacrosAgainstGlibc(t *testing.T) {
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Skip("gcc not found")
	}
	var names []string
	for k := range priMacros {
		names = append(names, k)
	}
	sort.Strings(names)
	var prog strings.Builder
	prog.WriteString("#include <stdio.h>\n#include <inttypes.h>\nint main(void) {\n")
	for _, n := range names {
		fmt.Fprintf(&prog, "\tputs(%s);\n", n)
	}
	prog.WriteString("\treturn 0;\n}\n")
	out := strings.Split(strings.TrimSpace(runC(t, prog.String())), "\n")
	for i, n := range names {
		if priMacros[n] != out[i] {
			t.Errorf("%s: table %q, glibc %q", n, priMacros[n], out[i])
		}
	}
}

func runC(t *testing.T, src string, flags ...string) string {
	t.Helper()
	dir := t.TempDir()
	c := filepath.Join(dir, "t.c")
	if err := os.WriteFile(c, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	args := append([]string{"-w", "-o", filepath.Join(dir, "t"), c}, flags...)
	if out, err := exec.Command("gcc", args...).CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v\n%s\n%s", err, out, src)
	}
	out, err := exec.Command(filepath.Join(dir, "t")).Output()
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// Line markers are the directives that set the position of the next line:
// gcc -E's "# N "file" flags" and #line; no other directive is one.
func TestIsLineMarker(t *testing.T) {
	for d, want := range map[string]bool{
		`# 12 "criu/log.c"`:         true,
		`# 1 "<built-in>" 3 4`:      true,
		`#line 7 "x.c"`:             true,
		`#  line 7`:                 true,
		`%: 3 "y.c"`:                true,
		`#pragma GCC diagnostic`:    false,
		`#define X 1`:               false,
		`#`:                         false,
		`#linenoise`:                false,
		`# ident "marker in a str"`: false,
	} {
		if got := IsLineMarker([]byte(d)); got != want {
			t.Errorf("IsLineMarker(%q) = %v, want %v", d, got, want)
		}
	}
}
