package lpruntime_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/logpack/logpack/fmtdb"
	"github.com/logpack/logpack/internal/sitetab"
	"github.com/logpack/logpack/internal/testutil"
)

// benchSite is the call site of bench/emitbench.c.
func benchSite() fmtdb.Site {
	s := fmtdb.Site{Level: 3, File: "bench/emitbench.c", Line: 1, Func: "run_logpack",
		Format: "Some message %s %s %c %li %d %lu\n"}
	for _, c := range []fmtdb.Class{fmtdb.ClassStr, fmtdb.ClassStr, fmtdb.ClassI32, fmtdb.ClassI64, fmtdb.ClassI32, fmtdb.ClassU64} {
		s.Args = append(s.Args, fmtdb.ArgSpec{Class: c, BoundArg: -1})
	}
	s.ID = fmtdb.SiteID(&s)
	return s
}

func benchSiteHeader(t testing.TB) string {
	u := sitetab.NewUnit("bench", sitetab.StringRule{})
	sym := u.Add(tableEntry(benchSite()))
	return "/* bench_site.h - the site table entry of emitbench.c's log call, as\n" +
		" * the rewriter emits it (TestBenchSiteHeader keeps it so). */\n" +
		"#include \"logpack_site.h\"\n#define logpack_site_bench " + sym + "\n" + u.Decls() + u.Asm()
}

// benchEncoders is the runtime with the encoder the bench's call needs,
// as logpack cc compiles it into a program.
func benchEncoders() string {
	return "/* bench_enc.c - the runtime with the encoder emitbench.c's call needs, as\n" +
		" * logpack cc builds it (TestBenchSiteHeader keeps it so). */\n" +
		"#include \"logpack.c\"\n" + sitetab.Encoders([]string{"logpack_enc_sszzzu"})
}

// bench/bench_site.h and bench_enc.c are what the rewriter and logpack cc
// would generate for the call.
func TestBenchSiteHeader(t *testing.T) {
	for _, f := range []struct{ name, want string }{
		{"bench/bench_site.h", benchSiteHeader(t) + sitetab.EncoderDecl("sszzzu", false) + "\n"},
		{"bench/bench_enc.c", benchEncoders()},
	} {
		got, err := os.ReadFile(f.name)
		if os.Getenv("LOGPACK_UPDATE") != "" {
			os.WriteFile(f.name, []byte(f.want), 0o644)
			continue
		}
		if err != nil || string(got) != f.want {
			t.Errorf("%s is stale (LOGPACK_UPDATE=1 go test -run TestBenchSiteHeader rewrites it); want:\n%s", f.name, f.want)
		}
	}
}

func buildBench(b testing.TB) string {
	needGCC(b)
	out := filepath.Join(b.TempDir(), "emitbench")
	args := []string{"-std=gnu11", "-O2", "-Wall", "-Wextra", "-Werror", "-pthread", "-I", "c", "-I", "bench",
		"-o", out, "bench/emitbench.c", "bench/bench_enc.c"}
	if o, err := exec.Command("gcc", args...).CombinedOutput(); err != nil {
		b.Fatalf("gcc: %v\n%s", err, o)
	}
	return out
}

// The bench program works and its logpack log decodes (checked small).
func TestEmitBenchRuns(t *testing.T) {
	t.Parallel()
	prog := buildBench(t)
	out, err := exec.Command(prog, "-n", "1000", "-t", "100", "-r", "3", "-d", t.TempDir()).CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, m := range []string{"logpack", "generic", "text", "floor"} {
		if !strings.Contains(string(out), m+" ns/call=") {
			t.Errorf("no %s line in\n%s", m, out)
		}
	}
	// The log's pages are new to the process: storing into them faults,
	// and the logpack line counts it.
	var faults float64
	if _, after, ok := strings.Cut(string(out), " faults/MiB="); ok {
		faults, _ = strconv.ParseFloat(strings.Fields(after)[0], 64)
	}
	if faults < 1 {
		t.Errorf("logpack: no faults/MiB of at least 1 in\n%s", out)
	}
}

// BenchmarkEmit runs bench/emitbench.c once (-benchtime=1x): ns per call
// of logpack, CRIU-style text and the in-RAM floor, medians of
// repetitions of 10 M calls (text: 200 k), and bytes per record.
//
//	go test -run XXX -bench Emit -benchtime 1x ./runtime
func BenchmarkEmit(b *testing.B) {
	prog := buildBench(b)
	cmd := exec.Command(prog, "-d", b.TempDir())
	cmd.Env = testutil.WithoutLogpack()
	out, err := cmd.CombinedOutput()
	if err != nil {
		b.Fatalf("%v\n%s", err, out)
	}
	b.Logf("\n%s", out)
	vals := map[string]float64{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		for _, kv := range f[1:] {
			k, v, _ := strings.Cut(kv, "=")
			if x, err := strconv.ParseFloat(v, 64); err == nil {
				vals[f[0]+"-"+k] = x
			}
		}
	}
	for k, v := range vals {
		b.ReportMetric(v, k)
	}
	if t := vals["text-ns/call"]; t > 0 && vals["logpack-ns/call"] > 0 {
		b.ReportMetric(t/vals["logpack-ns/call"], "text/logpack")
	}
}
