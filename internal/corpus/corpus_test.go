package corpus

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/logpack/logpack/fmtdb"
	"github.com/logpack/logpack/internal/logfile"
	"github.com/logpack/logpack/internal/sitetab"

	"github.com/logpack/logpack/internal/benchstat"
	"github.com/logpack/logpack/internal/testutil"
)

var corpusSize = flag.String("corpus", os.Getenv("LOGPACK_CORPUS"),
	"corpus for the build tests and benchmark: small (default), full (>= 3,000 sites in >= 50 files) or realistic (CRIU's density of calls in code); also LOGPACK_CORPUS")

func chosenConfig(t testing.TB) (Config, string) {
	switch *corpusSize {
	case "", "small":
		return Small(), "small"
	case "full":
		return Full(), "full"
	case "realistic":
		return Realistic(), "realistic"
	}
	t.Fatalf("unknown -corpus %q (small, full, realistic)", *corpusSize)
	return Config{}, ""
}

func TestGenerateIsDeterministic(t *testing.T) {
	a, b := Generate(Small()), Generate(Small())
	if len(a.Files) != len(b.Files) {
		t.Fatal("different file sets")
	}
	for n, body := range a.Files {
		if !bytes.Equal(body, b.Files[n]) {
			t.Fatalf("%s differs between two runs with the same seed", n)
		}
	}
	cfg := Small()
	cfg.Seed = 2
	c := Generate(cfg)
	same := true
	for n, body := range a.Files {
		if strings.HasPrefix(n, "criu/") && !bytes.Equal(body, c.Files[n]) {
			same = false
		}
	}
	if same {
		t.Error("another seed generated the same tree")
	}
}

// The full corpus has the shape of CRIU's census (CRIU-LOGGING.md).
func TestFullCorpusFollowsTheCensus(t *testing.T) {
	c := Generate(Full())
	if c.Sites+c.TextSites < 3000 || c.LogFiles < 50 {
		t.Errorf("%d sites in %d files; want >= 3000 in >= 50", c.Sites+c.TextSites, c.LogFiles)
	}
	var all strings.Builder
	prefixes := 0
	for n, b := range c.Files {
		if strings.HasPrefix(n, "criu/") && strings.HasSuffix(n, ".c") && n != "criu/main.c" {
			all.Write(b)
			if bytes.Contains(b, []byte("#undef LOG_PREFIX\n#define LOG_PREFIX \"")) {
				prefixes++
			}
		}
	}
	src := all.String()
	count := func(s string) int { return strings.Count(src, s) }
	calls := 0
	for _, m := range []string{"pr_err(", "pr_perror(", "pr_debug(", "pr_info(", "pr_warn(", "pr_msg(", "pr_err_once(", "pr_warn_once(", "pr_pwarn(", "print_on_level("} {
		calls += count("\t" + m)
	}
	for _, check := range []struct {
		what   string
		got    int
		lo, hi int
	}{
		{"files with their own LOG_PREFIX", prefixes, 40, 1000},
		{"PRIx64 formats", count("\" PRIx64 \""), 60, 400},
		{"PRIu64 formats", count("\" PRIu64 \""), 5, 200},
		{"calls in #define bodies", count("\t\t\tpr_debug(\""), 50, 1000},
		{"pr_err_once", count("\tpr_err_once("), 1, 100},
		{"pr_perror", count("\tpr_perror("), 600, 1300},
		{"run-time levels", count("print_on_level(lvl, "), 3, 100},
		{"%*s and %.*s", count("%*s") + count("%.*s"), 1, 50},
		{"multi-line calls", strings.Count(src, ",\n\t\t"), 100, 3000},
		{"#ifdef in an argument list", count("\t\t/* feature 19 */\n#ifdef"), 1, 1},
		{"unbraced if/else around calls", count("\telse\n\t\tpr_"), 50, 1000},
		{"fall-through comments", count("/* fall through */"), 30, 1000},
	} {
		if check.got < check.lo || check.got > check.hi {
			t.Errorf("%s: %d, want %d..%d", check.what, check.got, check.lo, check.hi)
		}
	}
	// Conversions in CRIU's proportions: %d the most common, then %s.
	conv := func(c string) int {
		return len(regexp.MustCompile(`%[-#0 ]*[0-9]*`+c).FindAllStringIndex(src, -1))
	}
	d, s, lx, u := conv("d"), conv("s"), conv("lx"), conv("u")
	if !(d > s && s > lx && lx > u) {
		t.Errorf("conversion mix off: %%d %d, %%s %d, %%lx %d, %%u %d", d, s, lx, u)
	}
	// The long call spans more than a hundred lines.
	i := strings.Index(src, "pr_info(\"features:")
	if i < 0 || strings.Count(src[i:i+strings.Index(src[i:], ");")], "\n") < 100 {
		t.Error("no call spanning more than 100 lines")
	}
	if calls < 2900 {
		t.Errorf("only %d calls found in the sources", calls)
	}
}

// tool is the logpack binary built from this module.
func buildLogpack(t testing.TB, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "logpack")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/logpack/logpack/cmd/logpack")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func need(t testing.TB, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not found", tool)
		}
	}
}

func runIn(t testing.TB, dir string, env []string, name string, args ...string) (stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(testutil.WithoutLogpack(), env...)
	cmd.Stdout, cmd.Stderr = &o, &e
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s%s", name, strings.Join(args, " "), err, o.String(), e.String())
	}
	return o.String(), e.String()
}

// Outputs of invocations the wrapper passes through or compiles unchanged
// (no log calls): they must be byte-identical to the plain build's.
var unchangedOutputs = []string{
	"criu/pie/parasite.o", "criu/pie/log-simple.o", "criu/pie/built-in.o", "criu/arch/x86/answer.o",
	"criu/util.o", "lib/corpus-lib.o",
}

// criu/log.o has no log calls either, but it defines log_get_fd, which
// the preset names as the text log's descriptor: logpack cc adds a
// constructor that hands it to the runtime (checked below).

// The end-to-end story on the generated tree: the build passes
// under -Werror with CC="logpack cc --preset criu -- gcc" at make -j2,
// pass-through outputs are unchanged, the database holds each site
// exactly once, the program prints the same text as the plain build with
// binary logging off, and with it on the decoded log is the text log.
func TestCorpusBuildsAndDecodes(t *testing.T) {
	need(t, "gcc", "make", "ld", "go")
	cfg, _ := chosenConfig(t)
	c := Generate(cfg)
	tmp := t.TempDir()
	lp := buildLogpack(t, tmp)
	dir := filepath.Join(tmp, "tree")
	if err := c.Write(dir); err != nil {
		t.Fatal(err)
	}
	t.Logf("corpus: %d program sites (+%d pr_msg) in %d files", c.Sites, c.TextSites, c.LogFiles)

	// Plain build first, in the same directory (debug info names it).
	start := time.Now()
	runIn(t, dir, nil, "make", "-j2")
	plainTime := time.Since(start)
	plainDeps := map[string][]byte{}
	depFiles, _ := filepath.Glob(filepath.Join(dir, "criu", "*.d"))
	for _, p := range depFiles {
		plainDeps[p], _ = os.ReadFile(p)
	}
	plainOut := map[string][]byte{}
	for _, p := range unchangedOutputs {
		b, err := os.ReadFile(filepath.Join(dir, p))
		if err != nil {
			t.Fatal(err)
		}
		plainOut[p] = b
	}
	plainProg := filepath.Join(tmp, "plain-criu")
	if err := os.Rename(filepath.Join(dir, Program), plainProg); err != nil {
		t.Fatal(err)
	}
	runIn(t, dir, nil, "make", "clean")

	// The same build through the wrapper.
	db := filepath.Join(tmp, "build.db")
	env := []string{"LOGPACK_DB=" + db, "LOGPACK_CACHE_DIR=" + filepath.Join(tmp, "cache")}
	start = time.Now()
	_, stderr := runIn(t, dir, env, "make", "-j2", "CC="+lp+" cc --preset criu -- gcc")
	t.Logf("make -j2: plain %v, with logpack cc %v (runtime compiled into an empty cache)", plainTime.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
	if strings.Contains(stderr, "logpack") || strings.Contains(stderr, "warning") {
		t.Errorf("the wrapped build printed:\n%s", stderr)
	}
	for p, want := range plainDeps {
		if got, _ := os.ReadFile(p); !bytes.Equal(got, want) {
			t.Errorf("%s differs from the plain build's", p)
		}
	}
	for p, want := range plainOut {
		if got, _ := os.ReadFile(filepath.Join(dir, p)); !bytes.Equal(got, want) {
			t.Errorf("%s differs from the plain build's", p)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "criu/log.o")); !bytes.Contains(b, []byte("logpack_text_fd")) {
		t.Errorf("criu/log.o does not hand log_get_fd to the runtime")
	}

	// The database: one line per site per compile (the version unit is
	// compiled twice), nothing torn, no conflicts.
	f, err := os.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	raw, probs, err := fmtdb.Read(f, db)
	f.Close()
	if err != nil || len(probs) != 0 {
		t.Fatalf("database: %v %v", err, probs)
	}
	wantUnique := c.Sites + c.PluginSites + c.VersionSites
	if len(raw) != wantUnique+c.VersionSites {
		t.Errorf("database has %d lines, want %d (%d sites, the version unit twice)", len(raw), wantUnique+c.VersionSites, wantUnique)
	}
	var conflicts []string
	for _, p := range fmtdb.Check(raw) {
		if p.Kind != fmtdb.ProblemDuplicate {
			conflicts = append(conflicts, p.String())
		}
	}
	if len(conflicts) > 0 {
		t.Errorf("database problems:\n%s", strings.Join(conflicts, "\n"))
	}
	loaded, _, _ := fmtdb.Load(db)
	if loaded.Len() != wantUnique {
		t.Errorf("database has %d distinct sites, want %d", loaded.Len(), wantUnique)
	}
	// The program carries its sites: the database extracted from it is
	// the build database's entries for the program.
	linkedSites, _, err := sitetab.ExtractFile(filepath.Join(dir, Program))
	if err != nil {
		t.Fatal(err)
	}
	var linked []fmtdb.Entry
	for _, s := range linkedSites {
		linked = append(linked, fmtdb.Entry{Site: s})
	}
	if n := fmtdb.New(linked).Len(); n != c.Sites+c.VersionSites {
		t.Errorf("the program links %d sites, want %d", n, c.Sites+c.VersionSites)
	}
	for _, e := range linked {
		if got, ok := loaded.Lookup(e.ID); !ok || !fmtdb.SameSite(&got.Site, &e.Site) {
			t.Errorf("linked site %s %s:%d is not in the build database", fmtdb.FormatID(e.ID), e.File, e.Line)
			break
		}
	}

	// Binary logging off: the same text as the plain build.
	prog := filepath.Join(dir, Program)
	logOf := func(name string) string {
		b, err := os.ReadFile(filepath.Join(tmp, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	out0, _ := runIn(t, tmp, nil, plainProg, Args(filepath.Join(tmp, "plain.log"), false)...)
	out1, _ := runIn(t, tmp, nil, prog, Args(filepath.Join(tmp, "off.log"), false)...)
	plainLog := logOf("plain.log")
	if out1 != out0 || logOf("off.log") != plainLog {
		t.Fatalf("with binary logging off the program prints differently from the plain build")
	}
	if n := strings.Count(plainLog, "\n"); n < c.Sites {
		t.Errorf("the text log has %d lines for %d sites: not every site ran", n, c.Sites)
	}

	// Binary logging on: stdout unchanged (pr_msg stays text); the text
	// log keeps the no-glibc lines and, as the preset's --text-level 2
	// asks, errors and warnings; the decoded log merged with it is the
	// text log of the plain build.
	lpk := filepath.Join(tmp, "run.lpk")
	out2, _ := runIn(t, tmp, []string{"LOGPACK_FILE=" + lpk}, prog, Args(filepath.Join(tmp, "on.log"), false)...)
	if out2 != out0 {
		t.Errorf("stdout with binary logging on:\n%s\nwant:\n%s", out2, out0)
	}
	textOn := logOf("on.log")
	errorsAndWarnings := func(log string) (n int) {
		for _, line := range strings.SplitAfter(log, "\n") {
			if strings.HasPrefix(line, "Error (") || strings.HasPrefix(line, "Warn  (") {
				n++
			}
		}
		return n
	}
	if got, want := errorsAndWarnings(textOn), errorsAndWarnings(plainLog); got != want {
		t.Errorf("with binary logging on the text log has %d errors and warnings, want %d", got, want)
	}
	if !isSubsequence(strings.SplitAfter(textOn, "\n"), strings.SplitAfter(plainLog, "\n")) {
		t.Errorf("with binary logging on the text log has lines the plain build's text log has not, or in another order")
	}
	decoded := decode(t, lp, tmp, "--format", "plain", lpk, filepath.Join(tmp, "on.log"))
	if decoded != plainLog {
		t.Errorf("decoded log merged with the remaining text differs from the text log:\n%s", testutil.FirstLineDiff(decoded, plainLog))
	}
	// Every site of the program ran (its ID appears in the log).
	ran := map[string]bool{}
	for _, line := range strings.Split(decode(t, lp, tmp, "--format", "json", lpk), "\n") {
		var rec struct {
			Site string `json:"site"`
		}
		if line != "" && json.Unmarshal([]byte(line), &rec) == nil {
			ran[rec.Site] = true
		}
	}
	// Prefix sites (log_init_by_pid) ran too, but their records are not lines.
	pf, err := os.Open(prog)
	if err != nil {
		t.Fatal(err)
	}
	descs, err := sitetab.Extract(pf)
	pf.Close()
	if err != nil {
		t.Fatal(err)
	}
	prefixes := 0
	for _, d := range descs {
		if d.Flags&logfile.DescPrefix != 0 {
			s, _, err := d.Site()
			if err != nil {
				t.Fatal(err)
			}
			ran[fmtdb.FormatID(s.ID)] = true
			prefixes++
		}
	}
	if prefixes != 1 {
		t.Errorf("the program has %d prefix sites, want 1 (its log_init_by_pid call)", prefixes)
	}
	missing := 0
	for _, e := range linked {
		if !ran[fmtdb.FormatID(e.ID)] {
			if missing++; missing <= 3 {
				t.Errorf("site %s:%d never ran", e.File, e.Line)
			}
		}
	}
	// CRIU's layout with timestamps: the same lines, timestamps aside.
	runIn(t, tmp, nil, plainProg, Args(filepath.Join(tmp, "plain-ts.log"), true)...)
	lpk2 := filepath.Join(tmp, "run-ts.lpk")
	runIn(t, tmp, []string{"LOGPACK_FILE=" + lpk2}, prog, Args(filepath.Join(tmp, "on-ts.log"), true)...)
	decodedTS := decode(t, lp, tmp, "--format", "criu", "--level", "4", lpk2, filepath.Join(tmp, "on-ts.log"))
	// The forked task's lines carry the "%6d: " prefix it sets.
	ts := regexp.MustCompile(`(?m)^\([0-9]{2,}\.[0-9]{6}\) `)
	pid := regexp.MustCompile(`(?m)^\(TS\) +[0-9]+: `)
	mask := func(s string) string { return pid.ReplaceAllString(ts.ReplaceAllString(s, "(TS) "), "(TS) PID: ") }
	if n := strings.Count(mask(logOf("plain-ts.log")), "(TS) PID: "); n == 0 {
		t.Error("the forked task logged nothing")
	}
	if got, want := mask(decodedTS), mask(logOf("plain-ts.log")); got != want {
		t.Errorf("criu format differs from the text log:\n%s", testutil.FirstLineDiff(got, want))
	}
	// The build database describes the log.
	out, _ := runIn(t, tmp, nil, lp, "db", "check", "-q", "--log", lpk, db)
	if !strings.Contains(out, "every site the log describes is in the database") {
		t.Errorf("db check --log: %s", out)
	}
}

func decode(t *testing.T, lp, dir string, args ...string) string {
	t.Helper()
	var o, e bytes.Buffer
	cmd := exec.Command(lp, append([]string{"decode"}, args...)...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = &o, &e
	if err := cmd.Run(); err != nil {
		t.Fatalf("logpack decode %v: %v\n%s", args, err, e.String())
	}
	return o.String()
}

// BenchmarkCorpusBuild measures `make -j2` of the corpus without and with
// the wrapper (runtime already in the cache, as after the first build)
// and reports the median wall and CPU times (user+system of make and
// everything it ran) and their ratios (target: <= 1.2).
//
//	go test -run '^$' -bench CorpusBuild -benchtime 3x ./internal/corpus [-args -corpus=full|realistic]
func BenchmarkCorpusBuild(b *testing.B) {
	need(b, "gcc", "make", "ld", "go")
	cfg, size := chosenConfig(b)
	tmp := b.TempDir()
	lp := buildLogpack(b, tmp)
	dir := filepath.Join(tmp, "tree")
	if err := Generate(cfg).Write(dir); err != nil {
		b.Fatal(err)
	}
	env := append(testutil.WithoutLogpack(), "LOGPACK_CACHE_DIR="+filepath.Join(tmp, "cache"), "LOGPACK_DB="+filepath.Join(tmp, "build.db"))
	wrapped := "CC=" + lp + " cc --preset criu -- gcc"
	build := func(args ...string) (wall, cpu time.Duration) {
		cmd := exec.Command("make", append([]string{"-j2"}, args...)...)
		cmd.Dir, cmd.Env = dir, env
		start := time.Now()
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("make %v: %v\n%s", args, err, out)
		}
		wall = time.Since(start)
		// wait4's usage of make includes the processes it waited for.
		return wall, cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	}
	// Warm the runtime cache and the page cache.
	build(wrapped)
	runIn(b, dir, nil, "make", "clean")
	var pw, pc, ww, wc []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		w, c := build()
		pw, pc = append(pw, w), append(pc, c)
		b.StopTimer()
		runIn(b, dir, nil, "make", "clean")
		b.StartTimer()
		w, c = build(wrapped)
		ww, wc = append(ww, w), append(wc, c)
		b.StopTimer()
		runIn(b, dir, nil, "make", "clean")
		b.StartTimer()
	}
	med := func(ds []time.Duration) time.Duration {
		s := make([]float64, len(ds))
		for i, d := range ds {
			s[i] = float64(d)
		}
		return time.Duration(benchstat.Median(s))
	}
	b.ReportMetric(med(pw).Seconds(), "plain-wall-s")
	b.ReportMetric(med(ww).Seconds(), "logpack-wall-s")
	b.ReportMetric(med(ww).Seconds()/med(pw).Seconds(), "wall-ratio")
	b.ReportMetric(med(pc).Seconds(), "plain-cpu-s")
	b.ReportMetric(med(wc).Seconds(), "logpack-cpu-s")
	b.ReportMetric(med(wc).Seconds()/med(pc).Seconds(), "cpu-ratio")
	b.Logf("%s corpus, %d CPUs: make -j2 plain %v wall %v CPU; with logpack cc %v wall %v CPU",
		size, runtime.NumCPU(),
		med(pw).Round(time.Millisecond), med(pc).Round(time.Millisecond), med(ww).Round(time.Millisecond), med(wc).Round(time.Millisecond))
}

// isSubsequence reports whether sub is a subsequence of seq.
func isSubsequence(sub, seq []string) bool {
	i := 0
	for _, s := range seq {
		if i < len(sub) && sub[i] == s {
			i++
		}
	}
	return i == len(sub)
}
