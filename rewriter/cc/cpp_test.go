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
	}{
		{"fall-through comment", "int f(int x) {\n\tswitch (x) {\n\tcase 1:\n\t\tx++;\n\t\t/* fall through */\n\tcase 2:\n\t\treturn x; // done\n\t}\n\treturn 0;\n}\n", true},
		{"comment-like strings", "const char *g = \"/proc/*/fd\", *h = \"http://x\", c = '/';\n/* multi\n   line */ int z;\n", true},
		{"comment in a plain macro argument", "#define ID(x) x\nint v = ID(1 /* one */ + 2);\n", true},
		{"comment in a stringized argument", "#define STR(x) #x\nconst char *s = STR(a /* c */ b);\n", false},
		{"comment before a directive", "/* c */ #define X 1\nint x;\n", false},
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
			if got := sameTokens(pp("-C"), pp()); got != tc.same {
				t.Errorf("sameTokens = %v, want %v", got, tc.same)
			}
		})
	}
}
