package lpruntime_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/logpack/logpack/fmtdb"
	"github.com/logpack/logpack/internal/logfile"
	"github.com/logpack/logpack/internal/sitetab"
	"github.com/logpack/logpack/internal/testutil"
	lpruntime "github.com/logpack/logpack/runtime"
)

// The runtime is tested with real processes: C programs from testdata/,
// compiled with the embedded runtime sources and site structs generated
// from fmtdb.Site values, as the rewriter would.

var (
	haveGCC    bool
	decoderBin string // the logpack CLI, if its decoder builds and works
	tmpRoot    string
)

func TestMain(m *testing.M) {
	_, err := exec.LookPath("gcc")
	haveGCC = err == nil
	tmpRoot, err = os.MkdirTemp("", "logpack-runtime-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bin := filepath.Join(tmpRoot, "logpack")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/logpack").CombinedOutput(); err == nil {
		decoderBin = bin
	} else {
		fmt.Fprintf(os.Stderr, "runtime tests: no decoder CLI (%v): %s", err, out)
	}
	code := m.Run()
	if keep := os.Getenv("LOGPACK_TEST_KEEP"); keep != "" && srcDir != "" {
		// For debugging by hand: the runtime and sites.h the programs used.
		os.Rename(srcDir, keep)
	}
	os.RemoveAll(tmpRoot)
	os.Exit(code)
}

func needGCC(t testing.TB) {
	t.Helper()
	if !haveGCC {
		t.Skip("gcc not found")
	}
}

func site(level uint8, format string, classes ...fmtdb.Class) fmtdb.Site {
	s := fmtdb.Site{Level: level, File: "testdata/prog.c", Line: 10 + len(format), Func: "main", Format: format}
	for _, c := range classes {
		s.Args = append(s.Args, fmtdb.ArgSpec{Class: c, BoundArg: -1})
	}
	return s
}

// testSites are the sites testdata/testlog.h calls, by C name.
func testSites() map[string]fmtdb.Site {
	all := site(4, "all %d %u %ld %lu %f %Lf %s %p %m %.*s %.3s\n",
		fmtdb.ClassI32, fmtdb.ClassU32, fmtdb.ClassI64, fmtdb.ClassU64, fmtdb.ClassF64, fmtdb.ClassF80,
		fmtdb.ClassStr, fmtdb.ClassPtr, fmtdb.ClassErrno, fmtdb.ClassI32, fmtdb.ClassStrMax, fmtdb.ClassStrMax)
	all.Args[10].BoundArg = 9
	all.Args[11].Bound = 3
	m := map[string]fmtdb.Site{
		"site_seq":   site(3, "seq %d %d %d %d\n", fmtdb.ClassI32, fmtdb.ClassI32, fmtdb.ClassI32, fmtdb.ClassI32),
		"site_all":   all,
		"site_lvl":   site(fmtdb.LevelRuntime, "lvl %d\n", fmtdb.ClassI32),
		"site_zero":  site(2, "zero\n"),
		"site_str":   site(3, "str %s\n", fmtdb.ClassStr),
		"site_bench": site(3, "Some message %s %s %c %li %d %lu\n", fmtdb.ClassStr, fmtdb.ClassStr, fmtdb.ClassI32, fmtdb.ClassI64, fmtdb.ClassI32, fmtdb.ClassU64),
		"site_fb":    site(3, "fb %d\n", fmtdb.ClassI32),
	}
	for k, s := range m {
		s.ID = fmtdb.SiteID(&s)
		m[k] = s
	}
	return m
}

// tableEntry is a site as the program's table holds it: every argument
// recorded (the test sites have no constants).
func tableEntry(s fmtdb.Site) logfile.Descriptor {
	return logfile.DescriptorOf(&s)
}

// sitesHeader is the site table of the test programs, under the C names
// testlog.h uses (each unit that includes it has its own copy, as each
// rewritten unit has its own sites).
func sitesHeader(t testing.TB) []byte {
	var b bytes.Buffer
	b.WriteString("#ifndef SITES_H\n#define SITES_H\n#include \"logpack_site.h\"\n")
	sites := testSites()
	u := sitetab.NewUnit("test", sitetab.StringRule{})
	u.Local = true
	for _, name := range []string{"site_seq", "site_all", "site_lvl", "site_zero", "site_str", "site_bench", "site_fb"} {
		e := tableEntry(sites[name])
		if name == "site_fb" {
			e.Flags |= logfile.DescTextFallback
		}
		fmt.Fprintf(&b, "#define %s %s\n", name, u.Add(e))
	}
	b.WriteString(u.Decls())
	b.WriteString(u.Asm())
	b.WriteString("#endif\n")
	return b.Bytes()
}

var srcOnce sync.Once
var srcDir string

// runtimeDir writes the embedded runtime and the generated sites.h once.
func runtimeDir(t testing.TB) string {
	srcOnce.Do(func() {
		dir := filepath.Join(tmpRoot, "src")
		os.MkdirAll(dir, 0o755)
		fs.WalkDir(lpruntime.Files(), ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, _ := fs.ReadFile(lpruntime.Files(), p)
			return os.WriteFile(filepath.Join(dir, p), b, 0o644)
		})
		os.WriteFile(filepath.Join(dir, "sites.h"), sitesHeader(t), 0o644)
		srcDir = dir
	})
	return srcDir
}

func runtimeSources(t testing.TB) []string {
	dir := runtimeDir(t)
	var out []string
	fs.WalkDir(lpruntime.Files(), ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".c") {
			out = append(out, filepath.Join(dir, p))
		}
		return err
	})
	return out
}

var cflags = []string{"-std=gnu11", "-O2", "-g", "-Wall", "-Wextra", "-Werror", "-pthread"}

var (
	builtMu sync.Mutex
	built   = map[string]string{}
)

// buildProg compiles testdata/name.c with the runtime into an executable
// (once per test binary run).
func buildProg(t testing.TB, name string, extra ...string) string {
	t.Helper()
	return buildProgFlags(t, name, cflags, extra...)
}

// buildProgFlags is buildProg with other compiler flags.
func buildProgFlags(t testing.TB, name string, flags []string, extra ...string) string {
	t.Helper()
	needGCC(t)
	key := name + "\x00" + strings.Join(flags, " ") + "\x00" + strings.Join(extra, "\x00")
	builtMu.Lock()
	defer builtMu.Unlock()
	if p, ok := built[key]; ok {
		return p
	}
	dir := runtimeDir(t)
	out := filepath.Join(tmpRoot, fmt.Sprintf("prog%d-%s", len(built), name))
	args := append([]string{}, flags...)
	args = append(args, "-I", dir, "-I", "testdata", "-o", out, filepath.Join("testdata", name+".c"))
	args = append(args, runtimeSources(t)...)
	args = append(args, extra...)
	if b, err := exec.Command("gcc", args...).CombinedOutput(); err != nil {
		t.Fatalf("gcc %s: %v\n%s", strings.Join(args, " "), err, b)
	}
	built[key] = out
	return out
}

// run runs prog with LOGPACK_FILE=log (if log is not empty) and returns
// its combined output.
func run(t testing.TB, prog, log string, args ...string) string {
	t.Helper()
	cmd := command(prog, args...)
	cmd.Env = testutil.WithoutLogpack()
	if log != "" {
		cmd.Env = append(cmd.Env, "LOGPACK_FILE="+log)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", prog, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// command is exec.Command with a deadline: a program that hangs (a
// runtime waiting forever) fails its test instead of stalling the run.
func command(prog string, args ...string) *exec.Cmd {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	cmd := exec.CommandContext(ctx, prog, args...)
	cmd.Cancel = func() error {
		cancel()
		return cmd.Process.Kill()
	}
	return cmd
}

func mustScan(t testing.TB, log string) *scanLog {
	t.Helper()
	l, err := scanFile(log)
	if err != nil {
		t.Fatalf("%s: %v", log, err)
	}
	return l
}

// jsonRecord is the decoder's `--format json` line (DESIGN.md).
type jsonRecord struct {
	TS    uint64 `json:"ts"`
	Pid   uint32 `json:"pid"`
	Tid   uint32 `json:"tid"`
	Level int    `json:"level"`
	File  string `json:"file"`
	Line  int    `json:"line"`
	Msg   string `json:"msg"`
}

// decodeJSON runs `logpack decode --format json`; ok is false when the
// decoder CLI is not available (the structural checks still run).
func decodeJSON(t testing.TB, log string) (recs []jsonRecord, ok bool) {
	t.Helper()
	if decoderBin == "" {
		return nil, false
	}
	cmd := exec.Command(decoderBin, "decode", "--format", "json", log)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		if strings.Contains(stderr.String(), "not built yet") {
			return nil, false
		}
		t.Fatalf("logpack decode %s: %v\n%s", log, err, stderr.String())
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r jsonRecord
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("decoder line %q: %v", sc.Text(), err)
		}
		recs = append(recs, r)
	}
	return recs, true
}
