package cc

import (
	"os/exec"
	"strings"
	"testing"
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
