package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"testing"
)

func init() {
	// The tests run commands in-process: cc must not exec the compiler
	// in place of the test binary.
	execPassThrough = false
}

// result is what one command line did.
type result struct {
	status         int
	stdout, stderr string
}

func runArgs(stdin []byte, args ...string) result {
	var o, e bytes.Buffer
	setStdin(stdin)
	st := dispatch(args, &o, &e)
	return result{st, o.String(), e.String()}
}

func setStdin(b []byte) {
	stdin = bytes.NewReader(b)
}

func usageErr(cmd, reason string) string {
	return cmd + ": " + reason + "\nRun '" + cmd + " --help' for usage.\n"
}

var typeNameRE = regexp.MustCompile(`--[a-z-]+ (string|int|uint|stringArray|uints|strings)\s`)

var versionRE = regexp.MustCompile(`^logpack \S+ \(go1\.[^)]*\)\n$`)

// Every subcommand follows one convention (cli.go): help and version on
// standard output with status 0; usage errors as "logpack CMD: REASON"
// and a hint on standard error with status 2; failures naming the file
// with status 1.
func TestConventions(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing")
	cases := []struct {
		cmd         string   // the subcommand
		bad         []string // a bad flag value
		badMsg      string
		none        []string // a missing operand
		noneMsg     string
		missing     []string // a missing file
		missingWant string   // in stderr
	}{
		{"cc", []string{"--preset", "nope", "--", "gcc", "-c", "a.c"}, `invalid value "nope" for --preset: want criu`,
			[]string{"--preset", "criu"}, "no compiler given",
			[]string{"--preset", "criu", "--", "gcc", "-c", missing + ".c", "-o", filepath.Join(dir, "a.o")}, missing + ".c: No such file or directory"},
		{"rewrite", []string{"--preset", "nope", "a.c"}, `invalid value "nope" for --preset: want criu`,
			[]string{"--preset", "criu"}, "no FILE.c given",
			[]string{"--preset", "criu", missing + ".c"}, "open " + missing + ".c: no such file or directory"},
		{"decode", []string{"--format", "xml", mixLog}, `invalid value "xml" for --format: want plain, criu or json`,
			[]string{"--format", "json"}, "no LOG given",
			[]string{missing}, "open " + missing + ": no such file or directory"},
		{"stats", []string{"--format", "xml", mixLog}, `invalid value "xml" for --format: want table or json`,
			[]string{"--format", "json"}, "no LOG given",
			[]string{missing}, "open " + missing + ": no such file or directory"},
		{"db show", []string{"--json=maybe", "a.db"}, `invalid value "maybe" for --json: want true or false`,
			[]string{"--json"}, "no DB given",
			[]string{missing}, "open " + missing + ": no such file or directory"},
		{"db check", []string{"--quiet=maybe", "a.db"}, `invalid value "maybe" for --quiet: want true or false`,
			[]string{"-q"}, "no DB given",
			[]string{missing}, "open " + missing + ": no such file or directory"},
		{"db merge", []string{"--force=maybe", "a.db"}, `invalid value "maybe" for --force: want true or false`,
			[]string{"--force"}, "no DB given",
			[]string{missing}, "open " + missing + ": no such file or directory"},
		{"db extract", []string{"--summary=maybe", "prog"}, `invalid value "maybe" for --summary: want true or false`,
			[]string{"--summary"}, "no FILE given",
			[]string{missing}, "open " + missing + ": no such file or directory"},
		{"runtime", []string{"-o", "-"}, `invalid value "-" for --output: want a directory (the runtime is several files)`,
			nil, "no -o DIR given",
			[]string{"-o", "/dev/null/rt"}, "mkdir /dev/null: not a directory"},
	}
	for _, c := range cases {
		name := "logpack " + c.cmd
		cmd := strings.Fields(c.cmd)
		line := func(args ...string) []string { return append(append([]string(nil), cmd...), args...) }
		t.Run(c.cmd, func(t *testing.T) {
			for _, h := range []string{"--help", "-h"} {
				r := runArgs(nil, line(h)...)
				if r.status != 0 || !strings.HasPrefix(r.stdout, "usage: "+name+" ") || !strings.Contains(r.stdout, "  -h, --help ") || r.stderr != "" {
					t.Errorf("%s: %+v", h, r)
				}
			}
			if r := runArgs(nil, append([]string{"help"}, cmd...)...); r.status != 0 || !strings.HasPrefix(r.stdout, "usage: "+name+" ") {
				t.Errorf("logpack help %s: %+v", c.cmd, r)
			}
			if r := runArgs(nil, line("--version")...); r.status != 0 || !versionRE.MatchString(r.stdout) || r.stderr != "" {
				t.Errorf("--version: %+v", r)
			}
			checkUsageError(t, line("--frob", "x")...)(name, "unknown flag: --frob")
			checkUsageError(t, line("-Z", "x")...)(name, `unknown shorthand flag: 'Z' in -Z`)
			checkUsageError(t, line(c.bad...)...)(name, c.badMsg)
			checkUsageError(t, line(c.none...)...)(name, c.noneMsg)
			r := runArgs(nil, line(c.missing...)...)
			if r.status != 1 || r.stdout != "" || !strings.Contains(r.stderr, c.missingWant) {
				t.Errorf("missing file: %+v, want status 1 and %q", r, c.missingWant)
			}
		})
	}
}

// checkUsageError runs args and returns a check of its usage error.
func checkUsageError(t *testing.T, args ...string) func(cmd, reason string) {
	t.Helper()
	r := runArgs(nil, args...)
	return func(cmd, reason string) {
		t.Helper()
		if want := usageErr(cmd, reason); r.status != 2 || r.stdout != "" || r.stderr != want {
			t.Errorf("%q: status %d, stdout %q, stderr %q; want status 2, stderr %q", args, r.status, r.stdout, r.stderr, want)
		}
	}
}

// logpack and logpack db: bare, they print their usage on standard error
// with status 2; help and version as every command.
func TestGroupConventions(t *testing.T) {
	for _, g := range []struct {
		args    []string
		name    string
		listing string
	}{
		{nil, "logpack", "  decode [options] LOG... "},
		{[]string{"db"}, "logpack db", "  extract [-o OUT] FILE "},
	} {
		line := func(args ...string) []string { return append(append([]string(nil), g.args...), args...) }
		r := runArgs(nil, line()...)
		if r.status != 2 || r.stdout != "" || !strings.HasPrefix(r.stderr, "usage: "+g.name+" COMMAND") || !strings.Contains(r.stderr, g.listing) {
			t.Errorf("%s: %+v", g.name, r)
		}
		for _, h := range []string{"--help", "-h", "help"} {
			r := runArgs(nil, line(h)...)
			if r.status != 0 || r.stderr != "" || !strings.HasPrefix(r.stdout, "usage: "+g.name+" COMMAND") || !strings.Contains(r.stdout, g.listing) {
				t.Errorf("%s %s: %+v", g.name, h, r)
			}
		}
		if r := runArgs(nil, line("--version")...); r.status != 0 || !versionRE.MatchString(r.stdout) || r.stderr != "" {
			t.Errorf("%s --version: %+v", g.name, r)
		}
		checkUsageError(t, line("frob")...)(g.name, `unknown command "frob"`)
		checkUsageError(t, line("--frob")...)(g.name, "unknown flag: --frob")
	}
	// db show --help is db show's, not db's.
	if r := runArgs(nil, "db", "show", "--help"); r.status != 0 || !strings.HasPrefix(r.stdout, "usage: logpack db show [--json] DB...\n") || !strings.Contains(r.stdout, "--json") {
		t.Errorf("db show --help: %+v", r)
	}
	if r := runArgs(nil, "help", "db", "show"); r.status != 0 || !strings.HasPrefix(r.stdout, "usage: logpack db show ") {
		t.Errorf("help db show: %+v", r)
	}
}

// Wrong numbers of operands say what is wrong.
func TestOperandCounts(t *testing.T) {
	checkUsageError(t, "stats", mixLog, mixLog)("logpack stats", "takes one LOG, got 2: "+mixLog+" "+mixLog)
	checkUsageError(t, "db", "extract", "a", "b")("logpack db extract", "takes one FILE, got 2: a b")
	checkUsageError(t, "runtime", "-o", "d", "x")("logpack runtime", "takes no operands (got x)")
	checkUsageError(t, "rewrite", "--preset", "criu", "a.c", "b.c")("logpack rewrite", "2 FILEs need -d DIR (-o and standard output take one)")
	checkUsageError(t, "rewrite", "--preset", "criu", "-o", "x.c", "-d", "d", "a.c")("logpack rewrite", "-o and -d exclude each other")
	checkUsageError(t, "decode", "-", "-")("logpack decode", "standard input ('-') named 2 times; it can be read once")
	checkUsageError(t, "decode", "--follow", mixLog, mixLog)("logpack decode", "--follow takes one LOG file and does not merge text logs")
}

// Help never shows pflag's quirks: "[=true|false]", "(default [])", a
// default beside one the text gives, or a type name for a value.
func TestHelpText(t *testing.T) {
	for _, args := range [][]string{{"cc"}, {"rewrite"}, {"decode"}, {"stats"}, {"db", "show"}, {"db", "check"}, {"db", "merge"}, {"db", "extract"}, {"runtime"}} {
		r := runArgs(nil, append(args, "--help")...)
		for _, bad := range []string{"[=true|false]", "(default [])", "(default -1)", "(default \""} {
			if strings.Contains(r.stdout, bad) {
				t.Errorf("%v --help shows %q:\n%s", args, bad, r.stdout)
			}
		}
		if m := typeNameRE.FindString(r.stdout); m != "" {
			t.Errorf("%v --help names a value by its Go type: %q", args, m)
		}
		for _, l := range strings.Split(r.stdout, "\n") {
			if len(l) > 80 {
				t.Errorf("%v --help: line over 80 columns: %q", args, l)
			}
		}
	}
	r := runArgs(nil, "cc", "--help")
	if !strings.Contains(r.stdout, "  -v, --verbose ") || !strings.Contains(r.stdout, "(default: $LOGPACK_DB;") {
		t.Errorf("cc --help:\n%s", r.stdout)
	}
	r = runArgs(nil, "decode", "--help")
	if !strings.Contains(r.stdout, "(default: plain)") || !strings.Contains(r.stdout, "default: all)") || strings.Count(r.stdout, "default") != 3 {
		t.Errorf("decode --help:\n%s", r.stdout)
	}
}

// --version comes from the build information.
func TestVersionLine(t *testing.T) {
	for _, c := range []struct {
		version  string
		settings map[string]string
		want     string
	}{
		{"v1.2.0", nil, "logpack v1.2.0 (go1.26.8)"},
		{"v0.0.0-20261128021700-8448e4a1b2c3+dirty", nil, "logpack v0.0.0-20261128021700-8448e4a1b2c3+dirty (go1.26.8)"},
		{"(devel)", map[string]string{"vcs.revision": "8448e4a1b2c3d4e5f6", "vcs.modified": "true"}, "logpack 8448e4a1b2c3+dirty (go1.26.8)"},
		{"(devel)", map[string]string{"vcs.revision": "8448e4a1b2c3d4e5f6", "vcs.modified": "false"}, "logpack 8448e4a1b2c3 (go1.26.8)"},
		{"(devel)", nil, "logpack (devel) (go1.26.8)"},
	} {
		bi := testBuildInfo(c.version, c.settings)
		if got := versionLine(bi); got != c.want {
			t.Errorf("%s %v: %q, want %q", c.version, c.settings, got, c.want)
		}
	}
	if got := versionLine(nil); !strings.HasPrefix(got, "logpack ") {
		t.Errorf("no build info: %q", got)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func testBuildInfo(version string, settings map[string]string) *debug.BuildInfo {
	bi := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/logpack/logpack", Version: version}}
	for k, v := range settings {
		bi.Settings = append(bi.Settings, debug.BuildSetting{Key: k, Value: v})
	}
	return bi
}
