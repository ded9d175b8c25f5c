package cc

import (
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/logpack/logpack/decoder"
	"github.com/logpack/logpack/fmtdb"
	"github.com/logpack/logpack/internal/testutil"
	"github.com/logpack/logpack/rewriter"
)

// sharedCache is the runtime cache of the tests that link: the runtime
// is compiled once per ABI for the whole package.
var sharedCache string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "logpack-cc-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	sharedCache = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func needGCC(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Skip("gcc not found")
	}
}

// A CRIU-style log.h: every macro expands to print_on_level.
const logH = `#ifndef LOG_H
#define LOG_H
#include <errno.h>
#include <string.h>
#include <stdio.h>
#include <inttypes.h>
#define LOG_MSG 0
#define LOG_ERROR 1
#define LOG_INFO 3
#ifndef LOG_PREFIX
#define LOG_PREFIX
#endif
extern void print_on_level(unsigned int loglevel, const char *format, ...)
	__attribute__((__format__(__printf__, 2, 3)));
#define pr_msg(fmt, ...) print_on_level(LOG_MSG, fmt, ##__VA_ARGS__)
#define pr_info(fmt, ...) print_on_level(LOG_INFO, LOG_PREFIX fmt, ##__VA_ARGS__)
#define pr_err(fmt, ...) print_on_level(LOG_ERROR, "Error (%s:%d): " LOG_PREFIX fmt, __FILE__, __LINE__, ##__VA_ARGS__)
#define pr_perror(fmt, ...) pr_err(fmt ": %s\n", ##__VA_ARGS__, strerror(errno))
#endif
`

const logC = `#include <stdarg.h>
#include <unistd.h>
#include "log.h"
void print_on_level(unsigned int loglevel, const char *format, ...)
{
	char buf[1024];
	va_list ap;
	int n, saved = errno;
	va_start(ap, format);
	n = vsnprintf(buf, sizeof(buf), format, ap);
	va_end(ap);
	if (n > 0 && write(loglevel == LOG_MSG ? 1 : 2, buf, n) < 0)
		n = 0;
	errno = saved;
}
`

// mainC has log calls, a fall-through comment that -Wimplicit-fallthrough
// needs, a macro with embedded quotes and a 64-bit format macro.
const mainC = `#include "log.h"
#undef LOG_PREFIX
#define LOG_PREFIX "main: "
#ifndef SYSCONFDIR
#define SYSCONFDIR "?"
#endif

static int step(int x, uint64_t v)
{
	switch (x) {
	case 1:
		pr_info("one %d %#" PRIx64 "\n", x, v);
		/* fall through */
	case 2:
		pr_err("two %s\n", SYSCONFDIR);
		break;
	default:
		errno = ENOENT;
		pr_perror("cannot open %s", "x");
	}
	return x;
}

int main(int argc, char **argv)
{
	(void)argv;
	pr_msg("user message %d\n", argc);
	return step(argc, 0x1234) == 0;
}
`

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func criuRewriter(t *testing.T) Rewriter {
	t.Helper()
	cfg, err := rewriter.BuildConfig("criu", nil)
	if err != nil {
		t.Fatal(err)
	}
	return NewRewriter(&cfg)
}

// fakeRewriter stands in for the rewrite step.
type fakeRewriter struct {
	mu    sync.Mutex
	calls int
	fn    func(src []byte) ([]byte, []fmtdb.Site, error)
}

func (f *fakeRewriter) RewriteUnit(u *Unit) (*Rewritten, error) {
	f.mu.Lock()
	f.calls++
	f.mu.Unlock()
	out, sites, err := f.fn(u.Text)
	if err != nil {
		return nil, err
	}
	return &Rewritten{Out: out, Sites: sites, Changed: !bytes.Equal(out, u.Text)}, nil
}

type result struct {
	status         int
	stdout, stderr string
}

func wrap(t *testing.T, opts Options, argv ...string) result {
	t.Helper()
	var o, e bytes.Buffer
	opts.Stdout, opts.Stderr = &o, &e
	if opts.Stdin == nil {
		opts.Stdin = strings.NewReader("")
	}
	if opts.CacheDir == "" {
		opts.CacheDir = sharedCache
	}
	if opts.NoGlibcDefines == nil {
		opts.NoGlibcDefines = []string{"CR_NOGLIBC"}
	}
	st := Run(&opts, argv)
	return result{st, o.String(), e.String()}
}

func plain(t *testing.T, stdin string, argv ...string) result {
	t.Helper()
	var o, e bytes.Buffer
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = strings.NewReader(stdin), &o, &e
	err := cmd.Run()
	st := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		st = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{st, o.String(), e.String()}
}

func readFile(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Everything that is not a C compile runs exactly as without the
// wrapper: same outputs byte for byte, same messages, same status, and
// the rewrite step is never asked.
func TestPassThroughIsByteIdentical(t *testing.T) {
	needGCC(t)
	dir := t.TempDir()
	t.Chdir(dir)
	writeFiles(t, dir, map[string]string{
		"log.h": logH, "main.c": mainC,
		"entry.S":  "#include \"asm.h\"\n.globl entry\nentry:\n\tmov $NR, %eax\n\tret\n",
		"asm.h":    "#define NR 60\n",
		"pre.i":    "int f(void) { return 1; }\n",
		"pie.c":    "#ifndef CR_NOGLIBC\n#error glibc\n#endif\nint parasite(int x) { return x * 2; }\n",
		"list.rsp": "-c -O2 pie.c -DCR_NOGLIBC -o rsp.o",
	})
	never := &fakeRewriter{fn: func([]byte) ([]byte, []fmtdb.Site, error) {
		return nil, nil, errors.New("must not be called")
	}}
	tests := []struct {
		name  string
		stdin string
		args  string
		out   string // output file to compare ("" for stdout only)
	}{
		{"dependency pass", "", "-M -MT main.d -MT main.o -iquote . main.c -o OUT", "OUT"},
		{"dependency pass -MM -MG", "", "-MM -MG main.c -o OUT", "OUT"},
		{"preprocess", "", `-E -DSYSCONFDIR="/etc" main.c -o OUT`, "OUT"},
		{"preprocess to stdout", "", "-E -P asm.h", ""},
		{"to assembly", "", "-S -O2 main.c -o OUT", "OUT"},
		{"assemble .S", "", "-D__ASSEMBLY__ -c entry.S -o OUT", "OUT"},
		{"preprocessed input", "", "-c pre.i -o OUT", "OUT"},
		{"probe from stdin", "int main(void) { return 0; }\n", "-Werror -x c - -o OUT", "OUT"},
		{"failing probe", "#include <no-such-header.h>\n", "-x c - -o /dev/null", ""},
		{"asm probe", "nop\n", "-x assembler-with-cpp - -c -o OUT", "OUT"},
		{"no glibc", "", "-DCR_NOGLIBC -ffreestanding -nostdlib -O2 -c pie.c -o OUT", "OUT"},
		{"no glibc, response file", "", "@list.rsp", "rsp.o"},
		{"version", "", "--version", ""},
		{"print", "", "-print-prog-name=ld", ""},
		{"compile error", "", "-c missing.c -o OUT", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := strings.Fields(tc.args)
			run := func(f func() result) (result, []byte) {
				os.Remove("OUT")
				os.Remove("rsp.o")
				r := f()
				var out []byte
				if tc.out != "" {
					out = readFile(t, tc.out)
				}
				return r, out
			}
			want, wantOut := run(func() result { return plain(t, tc.stdin, append([]string{"gcc"}, args...)...) })
			got, gotOut := run(func() result {
				return wrap(t, Options{Rewriter: never, Stdin: strings.NewReader(tc.stdin)}, append([]string{"gcc"}, args...)...)
			})
			if got != want {
				t.Errorf("wrapper: %+v\nplain:   %+v", got, want)
			}
			if !bytes.Equal(gotOut, wantOut) {
				t.Errorf("%s differs from the plain compiler's (%d vs %d bytes)", tc.out, len(gotOut), len(wantOut))
			}
		})
	}
	if never.calls != 0 {
		t.Errorf("rewrite step called %d times", never.calls)
	}
}

func hasSection(t *testing.T, obj, name string) bool {
	t.Helper()
	f, err := elf.Open(obj)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return f.Section(name) != nil
}

// A C compile goes through the rewrite: the object holds the sites, the
// database gets one line per site, and the dependency file is exactly
// the one the plain compile writes.
func TestCompileRewritesAndKeepsDependencies(t *testing.T) {
	needGCC(t)
	dir := t.TempDir()
	t.Chdir(dir)
	writeFiles(t, dir, map[string]string{"log.h": logH, "src/main.c": mainC, "out/.keep": ""})
	for _, tc := range []struct {
		args string
		dep  string
	}{
		{"-MD -c src/main.c -o out/main.o", "out/main.d"},
		{"-MMD -MP -MF out/deps.d -c src/main.c -o out/main.o", "out/deps.d"},
		{"-MD -MT custom-target -c src/main.c -o out/main.o", "out/main.d"},
		{"-c -MD src/main.c", "main.d"},
		{"-Wp,-MD,out/kernel-style.d -c src/main.c -o out/main.o", "out/kernel-style.d"},
	} {
		t.Run(tc.args, func(t *testing.T) {
			flags := append([]string{"gcc", "-O2", "-Wall", "-Wextra", "-Werror", "-Wimplicit-fallthrough", "-iquote", "."}, strings.Fields(tc.args)...)
			obj := "out/main.o"
			if !strings.Contains(tc.args, "-o") {
				obj = "main.o"
			}
			if r := plain(t, "", flags...); r.status != 0 {
				t.Fatalf("plain compile: %+v", r)
			}
			wantDep := readFile(t, tc.dep)
			os.Remove(tc.dep)
			os.Remove(obj)
			db := filepath.Join(dir, "db.jsonl")
			os.Remove(db)
			r := wrap(t, Options{Rewriter: criuRewriter(t), DB: db}, flags...)
			if r.status != 0 || r.stderr != "" || r.stdout != "" {
				t.Fatalf("wrapper: %+v", r)
			}
			if got := readFile(t, tc.dep); !bytes.Equal(got, wantDep) {
				t.Errorf("dependency file differs:\n got %s\nwant %s", got, wantDep)
			}
			if !hasSection(t, obj, "logpack_sites") {
				t.Errorf("%s has no logpack_sites section: not rewritten", obj)
			}
			d, probs, err := fmtdb.Load(db)
			if err != nil || len(probs) != 0 {
				t.Fatalf("db: %v %v", err, probs)
			}
			// pr_info, pr_err, pr_perror; pr_msg (level 0) stays text.
			var lines []string
			for _, e := range d.Entries {
				lines = append(lines, fmt.Sprintf("%s:%d %s", e.File, e.Line, e.Func))
			}
			if want := "src/main.c:12 step,src/main.c:15 step,src/main.c:19 step"; strings.Join(lines, ",") != want {
				t.Errorf("db sites %v, want %s", lines, want)
			}
		})
	}
}

// Diagnostics of the rewritten unit name the original file and line, and
// a unit that fails under -Werror fails the same way with the wrapper.
func TestDiagnosticsPointAtTheSource(t *testing.T) {
	needGCC(t)
	dir := t.TempDir()
	t.Chdir(dir)
	src := strings.Replace(mainC, "static int step(int x, uint64_t v)\n{\n", "static int step(int x, uint64_t v)\n{\n\tint unused;\n", 1)
	writeFiles(t, dir, map[string]string{"log.h": logH, "main.c": src})
	args := []string{"gcc", "-Wall", "-c", "main.c", "-o", "main.o"}
	want := plain(t, "", args...)
	got := wrap(t, Options{Rewriter: criuRewriter(t)}, args...)
	if got.status != 0 || !strings.Contains(got.stderr, "main.c:10:13: warning: unused variable") {
		t.Errorf("warning not at main.c:10:13:\n%s", got.stderr)
	}
	if !hasSection(t, "main.o", "logpack_sites") {
		t.Error("not rewritten")
	}
	if !strings.Contains(want.stderr, "main.c:10:13: warning: unused variable") {
		t.Errorf("plain gcc says %q", want.stderr)
	}
	args = []string{"gcc", "-Wall", "-Werror", "-c", "main.c", "-o", "main.o"}
	want = plain(t, "", args...)
	got = wrap(t, Options{Rewriter: criuRewriter(t)}, args...)
	if got != want {
		t.Errorf("under -Werror:\nwrapper %+v\nplain   %+v", got, want)
	}
}

// Whatever goes wrong in the rewrite, the build goes on with the original
// source, compiled exactly as without the wrapper, and says so.
func TestFallbackCompilesTheOriginal(t *testing.T) {
	needGCC(t)
	dir := t.TempDir()
	t.Chdir(dir)
	writeFiles(t, dir, map[string]string{"log.h": logH, "main.c": mainC})
	args := []string{"gcc", "-O2", "-Wall", "-Werror", "-c", "main.c", "-o", "main.o"}
	if r := plain(t, "", args...); r.status != 0 {
		t.Fatal(r)
	}
	want := readFile(t, "main.o")
	site := fmtdb.Site{Level: 3, File: "main.c", Line: 1, Format: "x"}
	for name, fn := range map[string]func([]byte) ([]byte, []fmtdb.Site, error){
		"rewrite error": func([]byte) ([]byte, []fmtdb.Site, error) { return nil, nil, errors.New("confused") },
		"broken C": func(src []byte) ([]byte, []fmtdb.Site, error) {
			return append([]byte("this is not C;\n"), src...), []fmtdb.Site{site}, nil
		},
		"new warning under -Werror": func(src []byte) ([]byte, []fmtdb.Site, error) {
			return append(src, "static int f(void) { int x; return 0; }\n"...), []fmtdb.Site{site}, nil
		},
	} {
		t.Run(name, func(t *testing.T) {
			os.Remove("main.o")
			db := filepath.Join(dir, "db.jsonl")
			r := wrap(t, Options{Rewriter: &fakeRewriter{fn: fn}, DB: db}, args...)
			if r.status != 0 || !strings.Contains(r.stderr, "logpack cc: warning: main.c:") || !strings.Contains(r.stderr, "compiled it unchanged") {
				t.Errorf("wrapper: %+v", r)
			}
			if !bytes.Equal(readFile(t, "main.o"), want) {
				t.Error("object differs from the plain compile")
			}
			if _, err := os.Stat(db); err == nil {
				t.Error("sites of a unit that was not rewritten went into the database")
			}
		})
	}
}

// A unit that is clean under -Werror -Wextra -Wimplicit-fallthrough stays
// clean after the rewrite (comments survive preprocessing).
func TestWerrorUnitStaysClean(t *testing.T) {
	needGCC(t)
	dir := t.TempDir()
	t.Chdir(dir)
	writeFiles(t, dir, map[string]string{"log.h": logH, "main.c": mainC})
	for _, std := range []string{"-std=gnu11", "-std=gnu99", "-std=gnu17"} {
		args := []string{"gcc", std, "-O2", "-g", "-Wall", "-Wextra", "-Werror", "-Wimplicit-fallthrough", "-Wformat=2", "-Wshadow", "-c", "main.c", "-o", "main.o"}
		r := wrap(t, Options{Rewriter: criuRewriter(t), Verbose: true}, args...)
		if r.status != 0 || strings.Contains(r.stderr, "warning") {
			t.Errorf("%s: %+v", std, r)
		}
	}
}

// Links get the runtime exactly when an input uses it; links of plain
// objects are left alone (byte-identical executables). Compile and link
// in one step works, and so do shared libraries.
func TestLinkAddsRuntimeWhereNeeded(t *testing.T) {
	needGCC(t)
	dir := t.TempDir()
	t.Chdir(dir)
	writeFiles(t, dir, map[string]string{"log.h": logH, "main.c": mainC, "log.c": logC,
		"lib.c": "#include \"log.h\"\nint lib_f(int x) { pr_info(\"lib %d\\n\", x); return x; }\n"})
	rw := criuRewriter(t)
	opts := Options{Rewriter: rw}
	for _, c := range [][]string{
		{"gcc", "-O2", "-c", "main.c", "-o", "main.o"},
		{"gcc", "-O2", "-c", "log.c", "-o", "log.o"},
	} {
		if r := wrap(t, opts, c...); r.status != 0 {
			t.Fatalf("%v: %+v", c, r)
		}
	}
	// log.c has no log calls: its object is the plain one, and a link of
	// it alone needs no runtime.
	if hasSection(t, "log.o", "logpack_sites") {
		t.Error("log.o has sites")
	}
	plainObj := filepath.Join(dir, "plain.o")
	plain(t, "", "gcc", "-O2", "-c", "log.c", "-o", plainObj)
	if !bytes.Equal(readFile(t, "log.o"), readFile(t, plainObj)) {
		t.Error("log.o differs from the plain object")
	}
	plain(t, "", "gcc", "-O2", "-c", "-xc", "-", "-o", "stub.o")
	want := plain(t, "", "gcc", "-o", "p1", "stub.o", "log.o", "-Wl,--unresolved-symbols=ignore-all")
	got := wrap(t, opts, "gcc", "-o", "p2", "stub.o", "log.o", "-Wl,--unresolved-symbols=ignore-all")
	if got.status != want.status || !bytes.Equal(readFile(t, "p1"), readFile(t, "p2")) {
		t.Errorf("plain link changed by the wrapper: %+v", got)
	}

	run := func(prog string, env ...string) string {
		t.Helper()
		cmd := exec.Command(prog)
		cmd.Env = append(testutil.WithoutLogpack(), env...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", prog, err, out)
		}
		return string(out)
	}
	// Separate link of rewritten objects.
	if r := wrap(t, opts, "gcc", "-o", "prog", "main.o", "log.o"); r.status != 0 {
		t.Fatalf("link: %+v", r)
	}
	textWant := "user message 1\nmain: one 1 0x1234\nError (main.c:15): main: two ?\n"
	if out := run("./prog"); out != textWant {
		t.Errorf("prog printed %q, want %q", out, textWant)
	}
	// The same through an archive and -L/-l.
	plain(t, "", "ar", "rcs", "libmain.a", "main.o")
	if r := wrap(t, opts, "gcc", "-o", "prog-ar", "log.o", "-L.", "-lmain"); r.status != 0 {
		t.Fatalf("link with archive: %+v", r)
	}
	// Compile and link in one step, with a quoted define.
	r := wrap(t, opts, "gcc", "-O2", `-DSYSCONFDIR="/etc"`, "-o", "prog1", "main.c", "log.o")
	if r.status != 0 {
		t.Fatalf("compile+link: %+v", r)
	}
	if out := run("./prog1"); out != strings.Replace(textWant, "?", "/etc", 1) {
		t.Errorf("prog1 printed %q", out)
	}
	// A shared library with log calls, and a program using it.
	if r := wrap(t, opts, "gcc", "-O2", "-fPIC", "-shared", "-o", "liblp.so", "lib.c"); r.status != 0 {
		t.Fatalf("shared library: %+v", r)
	}
	f, err := elf.Open("liblp.so")
	if err != nil {
		t.Fatal(err)
	}
	syms, _ := f.Symbols()
	f.Close()
	defined := false
	for _, s := range syms {
		if s.Name == "logpack_emit" && s.Section != elf.SHN_UNDEF {
			defined = true
		}
	}
	if !defined {
		t.Error("liblp.so does not contain the runtime")
	}
	for _, p := range []string{"prog", "prog-ar", "prog1"} {
		f, err := elf.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		if f.Section("logpack_sites") == nil {
			t.Errorf("%s has no sites", p)
		}
		f.Close()
	}
}

// Objects compiled with -flto hold their symbols in GCC's LTO symbol
// table only: the link still sees that they call the runtime (in one
// step, separately, through an archive), and the program records.
func TestLinkTimeOptimization(t *testing.T) {
	needGCC(t)
	dir := t.TempDir()
	t.Chdir(dir)
	writeFiles(t, dir, map[string]string{"log.h": logH, "main.c": mainC, "log.c": logC})
	opts := Options{Rewriter: criuRewriter(t)}
	lto := []string{"gcc", "-O2", "-flto"}
	for _, c := range [][]string{
		append(slices.Clone(lto), "-o", "prog1", "main.c", "log.c"),
		append(slices.Clone(lto), "-c", "main.c", "-o", "main.o"),
		append(slices.Clone(lto), "-c", "log.c", "-o", "log.o"),
		append(slices.Clone(lto), "-o", "prog2", "main.o", "log.o"),
		{"gcc-ar", "rcs", "libmain.a", "main.o"},
		append(slices.Clone(lto), "-o", "prog3", "log.o", "-L.", "-lmain"),
	} {
		if c[0] == "gcc-ar" {
			if _, err := exec.LookPath("gcc-ar"); err != nil {
				t.Logf("no gcc-ar: no archive of LTO objects")
				break
			}
			plain(t, "", c...)
			continue
		}
		if r := wrap(t, opts, c...); r.status != 0 {
			t.Fatalf("%v: %+v", c, r)
		}
	}
	textWant := "user message 1\nmain: one 1 0x1234\nError (main.c:15): main: two ?\n"
	for _, prog := range []string{"prog1", "prog2", "prog3"} {
		if _, err := os.Stat(prog); err != nil && prog == "prog3" {
			continue // not built without gcc-ar
		}
		cmd := exec.Command("./" + prog)
		log := filepath.Join(dir, prog+".lpk")
		cmd.Env = append(testutil.WithoutLogpack(), "LOGPACK_FILE="+log)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", prog, err, out)
		}
		if string(out) != "user message 1\nError (main.c:15): main: two ?\n" {
			t.Errorf("%s with binary logging printed %q", prog, out)
		}
		d, err := decoder.Open(log, nil)
		if err != nil {
			t.Fatalf("%s: %v", prog, err)
		}
		var dec []byte
		for r, err := range d.Records() {
			if err != nil {
				t.Fatal(err)
			}
			dec = r.AppendMessage(dec)
		}
		d.Close()
		if want := strings.TrimPrefix(textWant, "user message 1\n"); string(dec) != want {
			t.Errorf("%s decoded %q, want %q", prog, dec, want)
		}
	}
}

// A source in another charset (-finput-charset) keeps its strings: the
// rewritten unit, UTF-8 after preprocessing, is not converted again. A
// unit with another execution charset (-fexec-charset) is compiled
// unchanged, with a warning: the log would hold its formats as UTF-8.
func TestCharsets(t *testing.T) {
	needGCC(t)
	dir := t.TempDir()
	t.Chdir(dir)
	writeFiles(t, dir, map[string]string{"log.h": logH, "log.c": logC,
		"latin1.c": "#include \"log.h\"\nint main(void) { puts(\"caf\xe9\"); pr_info(\"d\xe9j\xe0 %d\\n\", 1); return 0; }\n"})
	opts := Options{Rewriter: criuRewriter(t)}
	for _, flag := range []string{"-finput-charset=ISO-8859-1", "-fexec-charset=ISO-8859-1"} {
		args := []string{"gcc", "-O2", flag, "-finput-charset=ISO-8859-1", "-o", "p", "latin1.c", "log.c"}
		if r := plain(t, "", args...); r.status != 0 {
			t.Fatalf("%s: plain: %+v", flag, r)
		}
		want := plain(t, "", "./p")
		args[len(args)-3] = "lp"
		r := wrap(t, opts, args...)
		if r.status != 0 {
			t.Fatalf("%s: %+v", flag, r)
		}
		if exec := strings.HasPrefix(flag, "-fexec"); exec != strings.Contains(r.stderr, "latin1.c: -fexec-charset=ISO-8859-1") {
			t.Errorf("%s: stderr %q", flag, r.stderr)
		}
		if got := plain(t, "", "./lp"); got.stdout != want.stdout || got.stderr != want.stderr {
			t.Errorf("%s: printed %q %q, want %q %q", flag, got.stdout, got.stderr, want.stdout, want.stderr)
		}
	}
}

// Parallel wrappers (make -j) building the runtime into one cache all get
// the same complete object, and leave nothing else behind.
func TestRuntimeCacheUnderParallelBuilds(t *testing.T) {
	needGCC(t)
	cache := t.TempDir()
	inv, _ := Classify([]string{"-o", "p", "a.o"}, nil)
	var wg sync.WaitGroup
	paths := make([]string, 2)
	errs := make([]error, 2)
	for i := range paths {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			w := &wrapper{opts: &Options{CacheDir: cache, Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{}}, compiler: []string{"gcc"}}
			rt, err := w.runtimeObject(inv, []string{"logpack_enc_sz", "logpack_encl_v", "logpack_enc_zuudse"})
			paths[i], errs[i] = rt.path, err
		}(i)
	}
	wg.Wait()
	for i := range paths {
		if errs[i] != nil || paths[i] != paths[0] {
			t.Fatalf("wrapper %d: %q %v", i, paths[i], errs[i])
		}
	}
	ents, _ := os.ReadDir(cache)
	if len(ents) != 1 {
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		t.Errorf("cache holds %v", names)
	}
	if u, err := scanLinkInput(paths[0]); err != nil || !u.defines {
		t.Errorf("runtime object does not define logpack_emit: %+v %v", u, err)
	}
}

// Under -Wextra the wrapper keeps comments for -Wimplicit-fallthrough,
// but never where they would change the program: a comment inside a
// stringized macro argument stays out of the string. (Such a unit is
// preprocessed without comments; if it then needs its fall-through
// comments, it is compiled unchanged, with a warning.)
func TestKeptCommentsNeverChangeTheProgram(t *testing.T) {
	needGCC(t)
	for _, tc := range []struct {
		name      string
		fallsThru bool
	}{{"no fall-through", false}, {"fall-through", true}} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			t.Chdir(dir)
			src := strings.Replace(mainC, "int main(int argc, char **argv)\n{\n\t(void)argv;\n",
				"#define STR(x) #x\nint main(int argc, char **argv)\n{\n\t(void)argv;\n\tpr_msg(\"%s\\n\", STR(a /* c */ b));\n", 1)
			if !tc.fallsThru {
				src = strings.Replace(src, "\t\t/* fall through */\n", "\t\tbreak;\n", 1)
			}
			writeFiles(t, dir, map[string]string{"log.h": logH, "main.c": src, "log.c": logC})
			opts := Options{Rewriter: criuRewriter(t)}
			flags := []string{"-O2", "-Wall", "-Wextra", "-Werror"}
			for _, c := range [][]string{{"-c", "main.c", "-o", "main.o"}, {"-c", "log.c", "-o", "log.o"}, {"-o", "prog", "main.o", "log.o"}} {
				r := wrap(t, opts, append(append([]string{"gcc"}, flags...), c...)...)
				if r.status != 0 || (r.stderr != "" && !(tc.fallsThru && strings.Contains(r.stderr, "compiled it unchanged"))) {
					t.Fatalf("%v: %+v", c, r)
				}
			}
			if rewritten := hasSection(t, "main.o", "logpack_sites"); rewritten == tc.fallsThru {
				t.Errorf("main.o rewritten: %v", rewritten)
			}
			out, err := exec.Command("./prog").Output()
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(string(out), "a b\n") {
				t.Errorf("program printed %q", out)
			}
		})
	}
}

// A compiler launcher in CC ("ccache gcc") stays in front of the compiler
// in every command the wrapper runs.
func TestCompilerLauncher(t *testing.T) {
	needGCC(t)
	dir := t.TempDir()
	t.Chdir(dir)
	writeFiles(t, dir, map[string]string{"log.h": logH, "main.c": mainC, "bin/ccache": "#!/bin/sh\necho ran >> launcher.log\nexec \"$@\"\n"})
	os.Chmod("bin/ccache", 0o755)
	r := wrap(t, Options{Rewriter: criuRewriter(t)}, filepath.Join(dir, "bin/ccache"), "gcc", "-O2", "-c", "main.c", "-o", "main.o")
	if r.status != 0 || r.stderr != "" {
		t.Fatalf("%+v", r)
	}
	if !hasSection(t, "main.o", "logpack_sites") {
		t.Error("not rewritten through the launcher")
	}
	if n := strings.Count(string(readFile(t, "launcher.log")), "ran"); n != 2 {
		t.Errorf("launcher ran %d times, want 2 (preprocess, compile)", n)
	}
}

// A rewrite that panics or never ends falls back to the original; a
// compile stopped by a signal (make interrupted) stops the wrapper without
// a fallback compile.
func TestRewriteBugsAndSignals(t *testing.T) {
	needGCC(t)
	dir := t.TempDir()
	t.Chdir(dir)
	writeFiles(t, dir, map[string]string{"log.h": logH, "main.c": mainC,
		"fakecc": "#!/bin/sh\necho \"$*\" >> calls.log\ncase \"$*\" in *cpp-output*) kill -TERM $$;; esac\nexec gcc \"$@\"\n"})
	os.Chmod("fakecc", 0o755)
	panicky := &fakeRewriter{fn: func([]byte) ([]byte, []fmtdb.Site, error) { panic("bug") }}
	r := wrap(t, Options{Rewriter: panicky}, "gcc", "-c", "main.c", "-o", "main.o")
	if r.status != 0 || !strings.Contains(r.stderr, "internal error: bug") {
		t.Errorf("panicking rewrite: %+v", r)
	}
	old := rewriteTimeout
	rewriteTimeout = 100 * time.Millisecond
	defer func() { rewriteTimeout = old }()
	block := make(chan struct{})
	defer close(block)
	hang := &fakeRewriter{fn: func([]byte) ([]byte, []fmtdb.Site, error) { <-block; return nil, nil, nil }}
	r = wrap(t, Options{Rewriter: hang}, "gcc", "-c", "main.c", "-o", "main.o")
	if r.status != 0 || !strings.Contains(r.stderr, "longer than") {
		t.Errorf("hanging rewrite: %+v", r)
	}
	r = wrap(t, Options{Rewriter: criuRewriter(t)}, "./fakecc", "-c", "main.c", "-o", "main.o")
	if r.status != signalStatus+int(syscall.SIGTERM) {
		t.Errorf("status %d after the compiler was killed, want %d", r.status, signalStatus+int(syscall.SIGTERM))
	}
	if n := strings.Count(string(readFile(t, "calls.log")), "\n"); n != 2 {
		t.Errorf("compiler ran %d times, want 2 (no fallback after a signal)", n)
	}
}

// Options that only shape -E output (-P drops line markers) must not
// reach the wrapper's preprocessing: the sites keep their source lines.
func TestPreprocessorOutputFlagsIgnored(t *testing.T) {
	needGCC(t)
	dir := t.TempDir()
	t.Chdir(dir)
	writeFiles(t, dir, map[string]string{"log.h": logH, "main.c": mainC})
	db := filepath.Join(dir, "db.jsonl")
	r := wrap(t, Options{Rewriter: criuRewriter(t), DB: db}, "gcc", "-P", "-dD", "-c", "main.c", "-o", "main.o")
	if r.status != 0 || r.stderr != "" {
		t.Fatalf("%+v", r)
	}
	d, _, err := fmtdb.Load(db)
	if err != nil || d.Len() != 3 || d.Entries[0].File != "main.c" || d.Entries[0].Line != 12 {
		t.Errorf("sites: %+v %v", d, err)
	}
}

// A program built with logpack that loads a logpack-built plugin (CRIU's
// plugins) has one runtime: the executable exports it and the plugin's
// calls bind to it, so both record into the one log, in order.
func TestPluginSharesTheProgramsRuntime(t *testing.T) {
	needGCC(t)
	dir := t.TempDir()
	t.Chdir(dir)
	writeFiles(t, dir, map[string]string{"log.h": logH, "log.c": logC,
		"plugin.c": "#include \"log.h\"\nint plugin_f(int x);\nint plugin_f(int x) { pr_info(\"plugin %d\\n\", x); return x; }\n",
		"host.c": `#include <dlfcn.h>
#include "log.h"
int main(int argc, char **argv)
{
	void *h = dlopen(argv[1], RTLD_NOW);
	int (*f)(int);

	(void)argc;
	pr_info("host %d\n", 1);
	if (!h)
		return 1;
	f = (int (*)(int))dlsym(h, "plugin_f");
	f(2);
	pr_info("host %d\n", 3);
	return 0;
}
`})
	opts := Options{Rewriter: criuRewriter(t)}
	for _, c := range [][]string{
		{"gcc", "-O2", "-fPIC", "-shared", "-o", "plugin.so", "plugin.c", "log.c"},
		{"gcc", "-O2", "-o", "host", "host.c", "log.c", "-ldl"},
	} {
		if r := wrap(t, opts, c...); r.status != 0 || r.stderr != "" {
			t.Fatalf("%v: %+v", c, r)
		}
	}
	lpk := filepath.Join(dir, "run.lpk")
	cmd := exec.Command("./host", filepath.Join(dir, "plugin.so"))
	cmd.Env = append(testutil.WithoutLogpack(), "LOGPACK_FILE="+lpk)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("host: %v\n%s", err, out)
	}
	d, err := decoder.Open(lpk, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var got []string
	for rec, err := range d.Records() {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, string(rec.AppendMessage(nil)))
	}
	if want := []string{"host 1\n", "plugin 2\n", "host 3\n"}; strings.Join(got, "") != strings.Join(want, "") {
		t.Errorf("decoded %q, want %q", got, want)
	}
}

// What the compiler says about a unit is what it says about the original
// source: a warning in a log call points at the call's own line and
// column, with gcc's caret line, and the rewritten unit's own code adds
// nothing (a pointer passed for %d gives no extra -Wpointer-to-int-cast).
func TestDiagnosticsAreTheOriginals(t *testing.T) {
	needGCC(t)
	dir := t.TempDir()
	t.Chdir(dir)
	writeFiles(t, dir, map[string]string{"log.h": logH, "warn.c": `#include "log.h"
void f(int *p, long l)
{
	int unused;
	pr_info("value %d\n", p);
	pr_err("long %d\n", l);
}
`})
	for _, flags := range [][]string{{"-Wall"}, {"-Wall", "-Wextra", "-Wformat=2"}, {"-Wall", "-Werror"}} {
		args := append(append([]string{"gcc", "-O2", "-c"}, flags...), "-o", "warn.o", "warn.c")
		want := plain(t, "", args...)
		os.Remove("warn.o")
		got := wrap(t, Options{Rewriter: criuRewriter(t)}, args...)
		if got.status != want.status || got.stderr != want.stderr || got.stdout != want.stdout {
			t.Errorf("%v:\n--- gcc (status %d)\n%s--- logpack cc (status %d)\n%s", flags, want.status, want.stderr, got.status, got.stderr)
		}
		if want.status == 0 {
			if u, err := scanLinkInput("warn.o"); err != nil || !u.uses {
				t.Errorf("%v: the object does not record its log calls (%+v %v)", flags, u, err)
			}
		}
	}
}

// A shared object linked without the start files or the C library
// (CRIU's plugins: -shared -nostartfiles) takes the runtime too: the
// runtime needs nothing from them (no pthread_atfork, no __dso_handle).
func TestSharedObjectWithoutStartFiles(t *testing.T) {
	needGCC(t)
	dir := t.TempDir()
	t.Chdir(dir)
	writeFiles(t, dir, map[string]string{"log.h": logH, "plugin.c": `#include "log.h"
int plugin_f(int x)
{
	pr_info("x=%d\n", x);
	return x;
}
`})
	// compiled and linked in one step, as CRIU's cuda plugin is
	if r := wrap(t, Options{Rewriter: criuRewriter(t)}, "gcc", "-O2", "-fPIC", "-shared", "-nostartfiles", "-o", "one.so", "plugin.c"); r.status != 0 || r.stderr != "" {
		t.Fatalf("one step: %+v", r)
	}
	if r := wrap(t, Options{Rewriter: criuRewriter(t)}, "gcc", "-O2", "-fPIC", "-c", "plugin.c"); r.status != 0 || r.stderr != "" {
		t.Fatalf("compile: %+v", r)
	}
	for _, extra := range [][]string{{"-nostartfiles"}, {"-nostdlib"}} {
		args := append([]string{"gcc", "-O2", "-fPIC", "-shared"}, extra...)
		args = append(args, "-o", "plugin.so", "plugin.o")
		if r := wrap(t, Options{Rewriter: criuRewriter(t)}, args...); r.status != 0 || r.stderr != "" {
			t.Fatalf("%v: %+v", extra, r)
		}
		f, err := elf.Open("plugin.so")
		if err != nil {
			t.Fatal(err)
		}
		syms, err := f.DynamicSymbols()
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, s := range syms {
			found = found || s.Name == "logpack_emit" && s.Section != elf.SHN_UNDEF
		}
		if !found {
			t.Errorf("%v: plugin.so carries no runtime", extra)
		}
	}
}
