package runtime

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/logpack/logpack/fmtdb"
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
	s := benchSite()
	def, err := SiteDefinition("logpack_site_bench", &s)
	if err != nil {
		t.Fatal(err)
	}
	return "/* bench_site.h - the site struct of emitbench.c's log call, as\n" +
		" * runtime.SiteDefinition emits it (TestBenchSiteHeader keeps it so). */\n" +
		"#include \"logpack_site.h\"\n" + def
}

// bench/bench_site.h is what the rewriter would generate for the call.
func TestBenchSiteHeader(t *testing.T) {
	want := benchSiteHeader(t)
	got, err := os.ReadFile("bench/bench_site.h")
	if os.Getenv("LOGPACK_UPDATE") != "" {
		os.WriteFile("bench/bench_site.h", []byte(want), 0o644)
		return
	}
	if err != nil || string(got) != want {
		t.Errorf("bench/bench_site.h is stale (LOGPACK_UPDATE=1 go test -run TestBenchSiteHeader rewrites it); want:\n%s", want)
	}
}

func buildBench(b testing.TB) string {
	needGCC(b)
	out := filepath.Join(b.TempDir(), "emitbench")
	args := []string{"-std=gnu11", "-O2", "-Wall", "-Wextra", "-Werror", "-pthread", "-I", "c", "-I", "bench",
		"-o", out, "bench/emitbench.c", "c/logpack.c"}
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
	for _, m := range []string{"logpack", "text", "floor"} {
		if !strings.Contains(string(out), m+" ns/call=") {
			t.Errorf("no %s line in\n%s", m, out)
		}
	}
}

// BenchmarkEmit runs bench/emitbench.c once (-benchtime=1x): ns per call
// of logpack, CRIU-style text and the in-RAM floor, medians of
// repetitions of 10 M calls (text: 200 k), and bytes per record.
//
//	go test -run XXX -bench Emit -benchtime 1x ./runtime
func BenchmarkEmit(b *testing.B) {
	prog := buildBench(b)
	for _, pf := range []string{"thread", "inline"} {
		b.Run(pf, func(b *testing.B) {
			cmd := exec.Command(prog, "-p", pf, "-d", b.TempDir())
			cmd.Env = withoutLogpackEnv()
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
		})
	}
}
