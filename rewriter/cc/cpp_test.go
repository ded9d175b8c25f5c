package cc

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"

	"github.com/logpack/logpack/rewriter"
)

func TestFallthroughWarning(t *testing.T) {
	for args, want := range map[string]bool{
		"-Wall -O2":                                        false,
		"-Wall -Wextra":                                    true,
		"-Wimplicit-fallthrough=3":                         true,
		"-Wimplicit-fallthrough=0":                         false,
		"-Wextra -Wno-implicit-fallthrough":                false,
		"-Wno-implicit-fallthrough -Wextra":                true,
		"-Wno-implicit-fallthrough -Wimplicit-fallthrough": true,
	} {
		if got := fallthroughWarning(strings.Fields(args)); got != want {
			t.Errorf("%s: %v, want %v", args, got, want)
		}
	}
}

// Keeping comments is only safe when it changes nothing but comments:
// gcc's own -E and -E -C outputs tell the cases apart.
func TestSameTokensAgainstGCC(t *testing.T) {
	needGCC(t)
	for _, tc := range []struct {
		name, src string
		same      bool
		risky     bool // commentRisk may say so for an equal unit
	}{
		{"fall-through comment", "int f(int x) {\n\tswitch (x) {\n\tcase 1:\n\t\tx++;\n\t\t/* fall through */\n\tcase 2:\n\t\treturn x; // done\n\t}\n\treturn 0;\n}\n", true, false},
		{"comment-like strings", "const char *g = \"/proc/*/fd\", *h = \"http://x\", c = '/';\n/* multi\n   line */ int z;\n", true, true},
		{"comment in a plain macro argument", "#define ID(x) x\nint v = ID(1 /* one */ + 2);\n", true, false},
		{"comment in a stringized argument", "#define STR(x) #x\nconst char *s = STR(a /* c */ b);\n", false, true},
		{"comment before a directive", "/* c */ #define X 1\nint x;\n", false, true},
		{"two comments before a directive", "/* a */ /* b */ #undef X\nint x;\n", false, true},
		{"comments in macro arguments", "#define ID(x) x\nint v = ID(1 // one\n) + 2;\nint w = ID(3 /* a\n b */) + 4;\n", true, false},
		{"comment stringized with //", "#define STR(x) #x\nconst char *s = STR(a // c\n);\n", false, true},
		{"comment over two lines before a directive", "/* a\n b */ #define X 1\nint x;\n", false, true},
		{"pragmas", "#pragma GCC diagnostic push /* keep */\n#pragma message(\"see http://x\")\nint x;\n", true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pp := func(extra ...string) []byte {
				cmd := exec.Command("gcc", append([]string{"-E", "-x", "c", "-"}, extra...)...)
				cmd.Stdin = strings.NewReader(tc.src)
				out, err := cmd.Output()
				if err != nil {
					t.Fatal(err)
				}
				return out
			}
			// -g puts the working directory ("/dir//") in a line marker.
			withC := pp("-C", "-g")
			if got := sameTokens(withC, pp()); got != tc.same {
				t.Errorf("sameTokens = %v, want %v", got, tc.same)
			}
			// The cheap check must flag every unit that differs.
			if risk := commentRisk(withC); !tc.same && !risk {
				t.Error("commentRisk missed a unit that comments change")
			} else if tc.same && risk != tc.risky {
				t.Errorf("commentRisk = %v, want %v", risk, tc.risky)
			}
		})
	}
}

// The checks on hand-written preprocessed text, where gcc would not
// produce the case or the old byte loop got it wrong.
func TestSameTokens(t *testing.T) {
	for _, tc := range []struct {
		name, a, b string
		same       bool
	}{
		{"comments and line markers aside", "# 1 \"a.c\"\nint /* c */ x; // d\n", "# 7 \"b.c\" 2\nint x;\n", true},
		{"token boundaries count", "int a b;\n", "int ab;\n", false},
		{"a comment separates tokens", "a/**/b\n", "a b\n", true},
		{"literals exact", `s = "a  b";`, `s = "a b";`, false},
		{"escapes exact", `c = '\'';`, `c = '\x27';`, false},
		{"directive lines end", "#pragma a\nb;\n", "#pragma a b;\n", false},
		{"pragma tokens, not bytes", "#pragma  pack( 1 ) /* c */\n", "#pragma pack(1)\n", true},
		{"a directive after a comment is a directive", "/* c */ #define X 1\n", "", false},
	} {
		if got := sameTokens([]byte(tc.a), []byte(tc.b)); got != tc.same {
			t.Errorf("%s: sameTokens = %v, want %v", tc.name, got, tc.same)
		}
	}
}

func TestCommentRisk(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		risk      bool
	}{
		{"plain", "int x; /* c */\n// d\nint y;\n", false},
		{"file names in line markers", "# 1 \"/tmp/dir//\"\n# 2 \"/*x\" 1\nint x;\n", false},
		{"comment text in a string", `const char *s = "a /* b */";`, true},
		{"comment text in a character constant", `int c = '//';`, true},
		{"with a prefix", `const char *s = u8"//";`, true},
		{"in a pragma", "#pragma message(\"http://x\")\n", true},
		{"quote inside a comment", "/* it's */ int x; // don't\nint y;\n", false},
		{"comment before '#'", " /* a */\t/* b */ #undef X\n", true},
		{"comment before '#' over a continuation", "/* a */ \\\n#undef X\n", true},
		{"comment before a line marker", "/* a */ # 3 \"x.c\"\n", true},
		{"comment on the line before '#'", "/* a */\n#pragma once\n", false},
		{"'#' after code", "x /* a */ # y\n", false},
		{"unterminated comment", "int x; /* a\n", true},
	} {
		if got := commentRisk([]byte(tc.src)); got != tc.risk {
			t.Errorf("%s: commentRisk = %v, want %v", tc.name, got, tc.risk)
		}
	}
}

// Whatever the bytes, the checks end, and a unit with its comments blanked
// out (by the scanner's own tokens) is the same unit.
func FuzzSameTokens(f *testing.F) {
	for _, s := range []string{
		"int x; /* c */ // d\n",
		"# 1 \"a.c\"\n#pragma a /* b\n c */ d\n/* e */ #define X\n",
		"s = \"/*\"; c = '\\'' /* \\\n */;\n",
		"%:pragma x //\n",
		"\"unterminated\n'\n/* open",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		commentRisk(src)
		if !sameTokens(src, src) {
			t.Fatal("a unit differs from itself")
		}
		blank := bytes.Clone(src)
		var u unitScanner
		u.init(src)
		for tok := u.next(); tok.kind != rewriter.EOF; tok = u.next() {
			if tok.kind == rewriter.Comment {
				// A comment is one space, newlines inside it included.
				copy(blank[tok.off:], bytes.Repeat([]byte{' '}, len(tok.text)))
			}
		}
		if !sameTokens(src, blank) {
			t.Fatalf("blanking comments changed the tokens:\n%q\n%q", src, blank)
		}
	})
}

// criuUnit preprocesses the CRIU-like example's largest source the way its
// Makefile does, with and without comments: a realistic ~220 KB unit.
func criuUnit(b *testing.B) (withC, without []byte) {
	if _, err := exec.LookPath("gcc"); err != nil {
		b.Skip("gcc not found")
	}
	pp := func(extra ...string) []byte {
		args := append([]string{"-E", "-O2", "-g", "-Wall", "-Wextra",
			"-D_FILE_OFFSET_BITS=64", "-D_GNU_SOURCE", "-DCONFIG_X86_64", `-DSYSCONFDIR="/etc"`,
			"-iquote", "criu/include", "-iquote", "criu/arch/x86/include", "criu/cr-dump.c"}, extra...)
		cmd := exec.Command("gcc", args...)
		cmd.Dir = "../../examples/criu-like"
		out, err := cmd.Output()
		if err != nil {
			b.Fatal(err)
		}
		return out
	}
	return pp("-C"), pp()
}

func BenchmarkCommentRisk(b *testing.B) {
	unit, _ := criuUnit(b)
	b.SetBytes(int64(len(unit)))
	for b.Loop() {
		commentRisk(unit)
	}
}

func BenchmarkSameTokens(b *testing.B) {
	withC, without := criuUnit(b)
	b.SetBytes(int64(len(withC)))
	for b.Loop() {
		if !sameTokens(withC, without) {
			b.Fatal("the unit differs without comments")
		}
	}
}
