package examples

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/logpack/logpack/internal/testutil"
)

// The end-to-end story of DESIGN.md on the CRIU-like example: the tree
// builds with plain gcc and, changing only CC, through `logpack cc`; the
// logpack build behaves exactly like the plain one until LOGPACK_FILE is
// set; its binary log decodes to the plain build's text log; and a run at
// default verbosity still yields the full debug log at decode time.

type toolchain struct {
	logpack string // bin/logpack built for this test
	dir     string
}

func needTools(t *testing.T) {
	t.Helper()
	for _, tool := range []string{"gcc", "make", "ld"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed: %v", tool, err)
		}
	}
}

var (
	logpackOnce sync.Once
	logpackBin  string
	logpackErr  error
	tmpRoot     string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if tmpRoot != "" {
		os.RemoveAll(tmpRoot)
	}
	os.Exit(code)
}

// buildLogpack builds bin/logpack once for all tests of the package.
func buildLogpack(t *testing.T) toolchain {
	t.Helper()
	needTools(t)
	logpackOnce.Do(func() {
		if logpackErr = readSources(".."); logpackErr != nil {
			return
		}
		if tmpRoot, logpackErr = os.MkdirTemp("", "logpack-examples-"); logpackErr != nil {
			return
		}
		logpackBin = filepath.Join(tmpRoot, "logpack")
		out, err := exec.Command("go", "build", "-o", logpackBin, "github.com/logpack/logpack/cmd/logpack").CombinedOutput()
		if err != nil {
			logpackErr = fmt.Errorf("go build ./cmd/logpack: %v\n%s", err, out)
		}
	})
	if logpackErr != nil {
		t.Fatal(logpackErr)
	}
	return toolchain{logpack: logpackBin, dir: t.TempDir()}
}

// readSources reads every source file of the repository. The tests build
// logpack and the examples in subprocesses, whose inputs go test cannot
// see; files the test itself opens are part of its cache key, so reading
// them makes any change to logpack or the examples rerun these tests
// instead of reporting a stale cached pass.
func readSources(root string) error {
	return filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			switch name {
			case ".git", "bin", "build", "out", "testdata":
				if path != root {
					return filepath.SkipDir
				}
			}
			return nil
		}
		switch filepath.Ext(name) {
		case ".go", ".c", ".h", ".S", ".sh", ".mod", ".sum":
		default:
			if name != "Makefile" {
				return nil
			}
		}
		_, err = os.ReadFile(path)
		return err
	})
}

// run runs a command and returns its standard output; a failure ends the test.
func run(t *testing.T, env []string, name string, args ...string) []byte {
	t.Helper()
	out, _ := runArgv0(t, env, "", name, args...)
	return out
}

func runArgv0(t *testing.T, env []string, argv0, name string, args ...string) (stdout, stderr []byte) {
	t.Helper()
	cmd := exec.Command(name, args...)
	if argv0 != "" {
		cmd.Args[0] = argv0
	}
	cmd.Env = append(testutil.WithoutLogpack(), env...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\nstdout:\n%s\nstderr:\n%s", name, strings.Join(args, " "), err, o.Bytes(), e.Bytes())
	}
	return o.Bytes(), e.Bytes()
}

// plausibleTimes checks the "(SS.uuuuuu) " prefixes of a decoded log: they
// never go backwards (records of all processes are merged by their ticks,
// and ticks convert to times through one non-decreasing mapping, so not
// even a chunk boundary may step back) and the last one lies within the
// run's wall time.
func plausibleTimes(t *testing.T, lines []string, wall time.Duration) {
	t.Helper()
	var prev time.Duration
	for i, l := range lines {
		n := TimestampPrefix(l)
		if n == 0 {
			t.Fatalf("line %d has no timestamp: %q", i+1, l)
		}
		sec, usec, ok := strings.Cut(l[1:n-2], ".")
		s, err1 := strconv.Atoi(sec)
		u, err2 := strconv.Atoi(usec)
		if !ok || err1 != nil || err2 != nil {
			t.Fatalf("line %d: bad timestamp %q", i+1, l[:n])
		}
		ts := time.Duration(s)*time.Second + time.Duration(u)*time.Microsecond
		if ts < prev {
			t.Errorf("line %d: time goes back from %v to %v", i+1, prev, ts)
		}
		prev = max(prev, ts)
	}
	if prev > wall {
		t.Errorf("last record at %v, but the whole run took %v", prev, wall)
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines, err := ReadLines(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return lines
}

func sameLog(t *testing.T, what, wantPath, gotPath string, minLines int) {
	t.Helper()
	want, got := readLines(t, wantPath), readLines(t, gotPath)
	n, diffs := Compare(want, got, 5)
	for _, d := range diffs {
		t.Errorf("%s: line %d differs:\n text:    %q\n decoded: %q", what, d.Line, d.Want, d.Got)
	}
	if n < minLines {
		t.Errorf("%s: only %d lines, want at least %d", what, n, minLines)
	}
}

func TestCRIULikeBuiltBothWays(t *testing.T) {
	tc := buildLogpack(t)
	plain := filepath.Join(tc.dir, "plain")
	lp := filepath.Join(tc.dir, "lp")
	run(t, nil, "make", "-s", "-j2", "-C", "criu-like", "O="+plain)
	run(t, nil, "make", "-s", "-j2", "-C", "criu-like", "O="+lp, "CC="+tc.logpack+" cc --preset criu -- gcc")
	out := t.TempDir()
	p := func(name string) string { return filepath.Join(out, name) }

	// Text logging, plain build, at -v4 and at the default verbosity.
	userPlain := run(t, nil, filepath.Join(plain, "criu-like"), "-v4", "-o", p("text.log"))
	run(t, nil, filepath.Join(plain, "criu-like"), "-o", p("text-default.log"))

	t.Run("logpack build without LOGPACK_FILE prints the same text", func(t *testing.T) {
		user := run(t, nil, filepath.Join(lp, "criu-like"), "-v4", "-o", p("lp-text.log"))
		sameLog(t, "text log", p("text.log"), p("lp-text.log"), 1000)
		if !bytes.Equal(user, userPlain) {
			t.Errorf("stdout differs: plain %q, logpack %q", userPlain, user)
		}
	})

	for _, mode := range []struct{ name, flag string }{{"raw clone", ""}, {"fork", "--fork"}} {
		t.Run("binary log decodes to the text log, children by "+mode.name, func(t *testing.T) {
			lpk := p("v4" + mode.flag + ".lpk")
			args := []string{"-v4", "-o", p("alongside.log")}
			if mode.flag != "" {
				args = append(args, mode.flag)
			}
			start := time.Now()
			user := run(t, []string{"LOGPACK_FILE=" + lpk}, filepath.Join(lp, "criu-like"), args...)
			wall := time.Since(start)
			if !bytes.Equal(user, userPlain) {
				t.Errorf("pr_msg output on stdout changed: plain %q, logpack %q", userPlain, user)
			}
			// The text log keeps what people and tools read there first:
			// the errors and warnings, nothing else.
			var errorsAndWarnings []byte
			for _, line := range bytes.SplitAfter(readFile(t, p("text.log")), []byte("\n")) {
				if bytes.Contains(line, []byte("Error (")) || bytes.Contains(line, []byte("Warn  (")) {
					errorsAndWarnings = append(errorsAndWarnings, line...)
				}
			}
			if len(errorsAndWarnings) == 0 {
				t.Fatal("the example logs no errors or warnings")
			}
			writeFile(t, p("errors-and-warnings.log"), errorsAndWarnings)
			sameLog(t, "text log with binary logging on", p("errors-and-warnings.log"), p("alongside.log"), 2)
			run(t, nil, tc.logpack, "decode", "--format", "criu", "--level", "4", "-o", p("decoded.log"), lpk, p("alongside.log"))
			sameLog(t, "decoded -v4 log", p("text.log"), p("decoded.log"), 1000)
			plausibleTimes(t, readLines(t, p("decoded.log")), wall)
		})
	}

	t.Run("a log cut by SIGKILL decodes up to the last call", func(t *testing.T) {
		killed := func(env []string, bin string, args ...string) {
			cmd := exec.Command(bin, args...)
			cmd.Env = append(testutil.WithoutLogpack(), env...)
			err := cmd.Run()
			if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != -1 {
				t.Fatalf("%s %v: want death by SIGKILL, got %v", bin, args, err)
			}
		}
		killed(nil, filepath.Join(plain, "criu-like"), "-v4", "-o", p("text-killed.log"), "--kill-at", "3")
		lpk := p("killed.lpk")
		killed([]string{"LOGPACK_FILE=" + lpk}, filepath.Join(lp, "criu-like"), "-v4", "--kill-at", "3")
		run(t, nil, tc.logpack, "decode", "--format", "criu", "--level", "4", "-o", p("decoded-killed.log"), lpk)
		sameLog(t, "decoded log of a killed run", p("text-killed.log"), p("decoded-killed.log"), 1000)
	})

	t.Run("default verbosity still records the debug log", func(t *testing.T) {
		lpk := p("default.lpk")
		run(t, []string{"LOGPACK_FILE=" + lpk}, filepath.Join(lp, "criu-like"), "-o", p("alongside-default.log"))
		run(t, nil, tc.logpack, "decode", "--format", "criu", "--level", "2", "-o", p("decoded-2.log"), lpk)
		sameLog(t, "decoded --level 2", p("text-default.log"), p("decoded-2.log"), 3)
		run(t, nil, tc.logpack, "decode", "--format", "criu", "--level", "4", "-o", p("decoded-4.log"), lpk)
		sameLog(t, "decoded --level 4", p("text.log"), p("decoded-4.log"), 1000)
	})
}

// Feature probes compile from stdin while make parses the Makefile; through
// the wrapper they must find exactly what they find with plain gcc (a probe
// that wrongly failed or passed would silently change the program).
func TestCRIULikeProbesAlike(t *testing.T) {
	tc := buildLogpack(t)
	plain := strings.TrimSpace(string(run(t, nil, "make", "-s", "-C", "criu-like", "print-config")))
	wrapped := strings.TrimSpace(string(run(t, nil, "make", "-s", "-C", "criu-like", "print-config",
		"CC="+tc.logpack+" cc --preset criu -- gcc")))
	if plain != wrapped {
		t.Errorf("probes differ:\n gcc:     %s\n wrapped: %s", plain, wrapped)
	}
	for _, want := range []string{"-DCONFIG_HAS_MEMFD_CREATE", "-DCONFIG_AS_XSAVE"} {
		if !strings.Contains(wrapped, want) {
			t.Errorf("probe result %s missing: %s", want, wrapped)
		}
	}
	if strings.Contains(wrapped, "NO_SUCH_THING") {
		t.Errorf("a probe that must fail passed: %s", wrapped)
	}
}

func TestMinimalCustomLogFunction(t *testing.T) {
	tc := buildLogpack(t)
	build := t.TempDir()
	plain, lp := filepath.Join(build, "hello"), filepath.Join(build, "hello-logpack")
	run(t, nil, "gcc", "-O2", "-Wall", "-Wextra", "-Werror", "-o", plain, "minimal/mylog.c")
	run(t, nil, tc.logpack, "cc", "--log-func", "mylog(level, fmt, ...)", "--",
		"gcc", "-O2", "-Wall", "-Wextra", "-Werror", "-o", lp, "minimal/mylog.c")

	_, text := runArgv0(t, nil, "hello", plain, "x", "y")
	lpk := filepath.Join(build, "hello.lpk")
	_, stderr := runArgv0(t, []string{"LOGPACK_FILE=" + lpk}, "hello", lp, "x", "y")
	if len(stderr) != 0 {
		t.Errorf("with binary logging on, stderr still got: %q", stderr)
	}
	decoded := run(t, nil, tc.logpack, "decode", lpk)
	if string(decoded) != string(text) || len(text) == 0 {
		t.Errorf("decoded log differs from the text log:\ntext:\n%s\ndecoded:\n%s", text, decoded)
	}
}
