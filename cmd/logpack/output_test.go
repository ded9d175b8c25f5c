package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/logpack/logpack/fmtdb"
)

const appSource = `void applog(int level, const char *fmt, ...);
void f(int n)
{
	applog(3, "n=%d\n", n);
	applog(4, "two %s %u\n", "x", 7u);
}
`

var appFunc = []string{"--log-func", "applog(level, fmt, ...)"}

// object compiles appSource rewritten into an object file with two sites.
func object(t *testing.T, dir string) string {
	t.Helper()
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Skip("gcc not found")
	}
	src, rw, obj := filepath.Join(dir, "app.c"), filepath.Join(dir, "app.rw.c"), filepath.Join(dir, "app.o")
	writeFile(t, src, appSource)
	if r := runArgs(nil, append(append([]string{"rewrite"}, appFunc...), "-o", rw, src)...); r.status != 0 {
		t.Fatalf("rewrite: %+v", r)
	}
	if r := runArgs(nil, "runtime", "-o", filepath.Join(dir, "rt")); r.status != 0 {
		t.Fatalf("runtime: %+v", r)
	}
	if out, err := exec.Command("gcc", "-c", "-I"+filepath.Join(dir, "rt"), "-o", obj, rw).CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v\n%s", err, out)
	}
	return obj
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// testDB writes a database of two sites and returns its path and bytes.
func testDB(t *testing.T, dir string) (string, []byte) {
	t.Helper()
	p := filepath.Join(dir, "sites.db")
	if err := fmtdb.Append(p, []fmtdb.Entry{dbTestEntry("b.c", 2, "two %d\n"), dbTestEntry("a.c", 1, "one %d\n")}); err != nil {
		t.Fatal(err)
	}
	return p, mustRead(t, p)
}

// "-" is standard input or output wherever a file is named, and -o -
// never creates a file named "-".
func TestDashIsStandardInputOrOutput(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	obj := object(t, dir)
	db, dbBytes := testDB(t, dir)
	merged := runArgs(nil, "db", "merge", db)
	extracted := runArgs(nil, "db", "extract", obj)
	rewritten := runArgs(nil, append(append([]string{"rewrite"}, appFunc...), "app.c")...)
	if merged.status != 0 || extracted.status != 0 || rewritten.status != 0 || strings.Count(extracted.stdout, "\n") != 2 {
		t.Fatalf("merge %+v\nextract %+v\nrewrite %+v", merged, extracted, rewritten)
	}
	objBytes := mustRead(t, obj)
	for _, c := range []struct {
		stdin []byte
		args  []string
		want  string
	}{
		{nil, []string{"db", "merge", "-o", "-", db}, merged.stdout},
		{dbBytes, []string{"db", "merge", "-"}, merged.stdout},
		{dbBytes, []string{"db", "merge", "-o", "-", "-"}, merged.stdout},
		{nil, []string{"db", "extract", "-o", "-", obj}, extracted.stdout},
		{objBytes, []string{"db", "extract", "-"}, extracted.stdout},
		{objBytes, []string{"db", "extract", "-o", "-", "-"}, extracted.stdout},
		{dbBytes, []string{"db", "show", "--json", "-"}, merged.stdout},
		{nil, append(append([]string{"rewrite"}, appFunc...), "-o", "-", "app.c"), rewritten.stdout},
	} {
		r := runArgs(c.stdin, c.args...)
		if r.status != 0 || r.stdout != c.want {
			t.Errorf("%q: %+v\nwant stdout %q", c.args, r, c.want)
		}
	}
	// The source on standard input is "<stdin>", as gcc names it.
	for _, args := range [][]string{{"-"}, {"-o", "-", "-"}} {
		r := runArgs([]byte(appSource), append(append([]string{"rewrite"}, appFunc...), args...)...)
		if r.status != 0 || !strings.Contains(r.stdout, "#line 1 \"<stdin>\"\n") || strings.Count(r.stdout, "logpack_emit(") != 2 {
			t.Errorf("rewrite %q: %+v", args, r)
		}
	}
	if _, err := os.Lstat(filepath.Join(dir, "-")); err == nil {
		t.Error(`a file named "-" was created`)
	}
	// db extract - names standard input, not its temporary copy.
	r := runArgs([]byte("not ELF"), "db", "extract", "-")
	if r.status != 1 || !strings.HasPrefix(r.stderr, "logpack db extract: standard input: not an ELF file") {
		t.Errorf("extract of text on stdin: %+v", r)
	}
	// -d DIR names outputs after their inputs: "-" has no name.
	checkUsageError(t, append(append([]string{"rewrite"}, appFunc...), "-d", "out", "-")...)("logpack rewrite", "-d DIR names outputs after their FILEs: standard input has no name")
}

// No command overwrites one of its inputs: the output is refused (status
// 2) when it is an input under the same name, another path, a symbolic
// link or a hard link, and the input is left as it was.
func TestNeverOverwritesInputs(t *testing.T) {
	dir := t.TempDir()
	obj := object(t, dir)
	db, _ := testDB(t, dir)
	lpk := filepath.Join(dir, "run.lpk")
	writeFile(t, lpk, string(mustRead(t, mixLog)))
	src := filepath.Join(dir, "app.c")
	for _, in := range []string{lpk, db, obj, src} {
		if err := os.Symlink(filepath.Base(in), in+".link"); err != nil {
			t.Fatal(err)
		}
		if err := os.Link(in, in+".hard"); err != nil {
			t.Fatal(err)
		}
	}
	other := func(p string) string { return filepath.Join(dir, "..", filepath.Base(dir), filepath.Base(p)) }
	cases := []struct {
		cmd []string // the command; the output and the input are appended
		in  string
	}{
		{[]string{"decode", "-o"}, lpk},
		{[]string{"db", "merge", "-o"}, db},
		{[]string{"db", "extract", "-o"}, obj},
		{append(append([]string{"rewrite"}, appFunc...), "-o"), src},
	}
	for _, c := range cases {
		before := mustRead(t, c.in)
		for _, out := range []string{c.in, other(c.in), c.in + ".link", c.in + ".hard"} {
			r := runArgs(nil, append(c.cmd, out, c.in)...)
			name := "logpack " + c.cmd[0]
			if c.cmd[0] == "db" {
				name += " " + c.cmd[1]
			}
			want := "output " + out + " and the input " + c.in + " are the same file; refusing to overwrite an input"
			if out == c.in {
				want = c.in + " is both an input and the output; refusing to overwrite an input"
			}
			if r.status != 2 || r.stderr != usageErr(name, want) {
				t.Errorf("%q: %+v\nwant %q", append(c.cmd, out, c.in), r, usageErr(name, want))
			}
			if got := mustRead(t, c.in); !bytes.Equal(got, before) {
				t.Fatalf("%q: the input changed", append(c.cmd, out, c.in))
			}
			if st, err := os.Lstat(c.in + ".link"); err != nil || st.Mode()&os.ModeSymlink == 0 {
				t.Fatalf("%q: the link is gone", append(c.cmd, out, c.in))
			}
		}
	}
	// rewrite -d DIR into the input's own directory; --db naming an input.
	before := mustRead(t, src)
	checkUsageError(t, append(append([]string{"rewrite"}, appFunc...), "-d", dir, src)...)("logpack rewrite", src+" is both an input and the output; refusing to overwrite an input")
	checkUsageError(t, append(append([]string{"rewrite"}, appFunc...), "--db", src+".hard", src)...)("logpack rewrite", "--db: output "+src+".hard and the input "+src+" are the same file; refusing to overwrite an input")
	// decode --db is an input too.
	checkUsageError(t, "decode", "--db", db, "-o", db+".link", lpk)("logpack decode", "output "+db+".link and the input "+db+" are the same file; refusing to overwrite an input")
	if !bytes.Equal(mustRead(t, src), before) {
		t.Error("rewrite changed its input")
	}
	// The input on standard input.
	f, err := os.Open(lpk)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	stdin = f
	var o, e bytes.Buffer
	if st := dispatch([]string{"decode", "-o", lpk + ".hard", "-"}, &o, &e); st != 2 || e.String() != usageErr("logpack decode", "output "+lpk+".hard and standard input are the same file; refusing to overwrite an input") {
		t.Errorf("decode -o LOG - <LOG: %d %q", st, e.String())
	}
}

// An output is replaced only once the command succeeded, keeps its mode,
// and through a symbolic link replaces the link's target.
func TestOutputReplacedWhole(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out.txt")
	writeFile(t, out, "old\n")
	if err := os.Chmod(out, 0o600); err != nil {
		t.Fatal(err)
	}
	// Failures leave the old output.
	for _, args := range [][]string{
		{"decode", "-o", out, filepath.Join(dir, "missing.lpk")},
		{"db", "merge", "-o", out, filepath.Join(dir, "missing.db")},
		{"db", "extract", "-o", out, mixLog},
		{"rewrite", "--preset", "criu", "-o", out, filepath.Join(dir, "missing.c")},
	} {
		if r := runArgs(nil, args...); r.status != 1 {
			t.Errorf("%q: %+v", args, r)
		}
		if got := string(mustRead(t, out)); got != "old\n" {
			t.Errorf("%q: output now %q", args, got)
		}
	}
	// A file that cannot be created is named as given.
	nodir := filepath.Join(dir, "nodir", "x.txt")
	if r := runArgs(nil, "decode", "-o", nodir, mixLog); r.status != 1 || r.stderr != "logpack decode: creating "+nodir+": no such file or directory\n" {
		t.Errorf("-o in a missing directory: %+v", r)
	}
	if r := runArgs(nil, "decode", "-o", dir, mixLog); r.status != 1 || r.stderr != "logpack decode: "+dir+" is a directory\n" {
		t.Errorf("-o DIR: %+v", r)
	}
	if r := runArgs(nil, "decode", "-o", out, mixLog); r.status != 0 {
		t.Fatalf("decode: %+v", r)
	}
	st, err := os.Stat(out)
	if err != nil || st.Mode().Perm() != 0o600 || string(mustRead(t, out)) != golden(t, "mix.plain") {
		t.Errorf("decode -o: mode %v, %v", st.Mode(), err)
	}
	link := filepath.Join(dir, "link.txt")
	os.Symlink("out.txt", link)
	db, dbBytes := testDB(t, dir)
	if r := runArgs(nil, "db", "merge", "-o", link, db); r.status != 0 {
		t.Fatalf("merge: %+v", r)
	}
	if lst, err := os.Lstat(link); err != nil || lst.Mode()&os.ModeSymlink == 0 || !bytes.Equal(mustRead(t, out), dbBytesSorted(t, dbBytes)) {
		t.Errorf("merge -o LINK: link %v, %v, target %q", lst.Mode(), err, mustRead(t, out))
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("temporary file left: %s", e.Name())
		}
	}
}

func dbBytesSorted(t *testing.T, b []byte) []byte {
	t.Helper()
	raw, _, err := fmtdb.Read(bytes.NewReader(b), "db")
	if err != nil {
		t.Fatal(err)
	}
	var es []fmtdb.Entry
	for _, r := range raw {
		es = append(es, r.Entry)
	}
	var buf bytes.Buffer
	fmtdb.New(es).Write(&buf)
	return buf.Bytes()
}

// A write that fails (here: /dev/full, "no space left on device") is
// reported, naming where it went, with status 1: on standard output and
// with -o, in every command.
func TestWriteErrors(t *testing.T) {
	full, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
	if err != nil {
		t.Skip(err)
	}
	defer full.Close()
	dir := t.TempDir()
	obj := object(t, dir)
	db, _ := testDB(t, dir)
	src := filepath.Join(dir, "app.c")
	const onStdout = ": writing standard output: no space left on device\n"
	const onFull = ": writing /dev/full: no space left on device\n"
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"db", "show", db}, "logpack db show" + onStdout},
		{[]string{"db", "show", "--json", db}, "logpack db show" + onStdout},
		{[]string{"db", "check", db}, "logpack db check" + onStdout},
		{[]string{"db", "merge", db}, "logpack db merge" + onStdout},
		{[]string{"db", "merge", "-o", "/dev/full", db}, "logpack db merge" + onFull},
		{[]string{"db", "extract", obj}, "logpack db extract" + onStdout},
		{[]string{"db", "extract", "--summary", obj}, "logpack db extract" + onStdout},
		{[]string{"db", "extract", "-o", "/dev/full", obj}, "logpack db extract" + onFull},
		{[]string{"decode", mixLog}, "logpack decode" + onStdout},
		{[]string{"decode", "-o", "/dev/full", mixLog}, "logpack decode" + onFull},
		{[]string{"stats", mixLog}, "logpack stats" + onStdout},
		{append(append([]string{"rewrite"}, appFunc...), src), "logpack rewrite" + onStdout},
		{append(append([]string{"rewrite"}, appFunc...), "-o", "/dev/full", src), "logpack rewrite" + onFull},
		{[]string{"decode", "--help"}, "logpack decode" + onStdout},
		{[]string{"cc", "--help"}, "logpack cc" + onStdout},
		{[]string{"cc", "--version"}, "logpack cc" + onStdout},
		{[]string{"--help"}, "logpack" + onStdout},
		{[]string{"db", "--version"}, "logpack db" + onStdout},
	} {
		var e bytes.Buffer
		setStdin(nil)
		st := dispatch(c.args, full, &e)
		if st != 1 || e.String() != c.want {
			t.Errorf("%q: status %d, stderr %q; want 1, %q", c.args, st, e.String(), c.want)
		}
	}
}

// Inputs of the wrong kind are called what they are, at once (/dev/zero
// is not read to its end).
func TestInputKindMessages(t *testing.T) {
	dir := t.TempDir()
	obj := object(t, dir)
	src := filepath.Join(dir, "x.c")
	writeFile(t, src, "int x;\n")
	const notDB = "/dev/zero: not a format database: binary data (a NUL byte at offset 0)\n"
	notELF := `: not an ELF file (a program, shared library or object file starts with "\x7fELF"; it starts with `
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"db", "extract", src}, "logpack db extract: " + src + notELF + `"int ")` + "\n"},
		{[]string{"db", "extract", "/dev/zero"}, "logpack db extract: /dev/zero" + notELF + `"\x00\x00\x00\x00")` + "\n"},
		{[]string{"db", "show", "/dev/zero"}, "logpack db show: " + notDB},
		{[]string{"db", "check", "/dev/zero"}, "logpack db check: " + notDB},
		{[]string{"db", "merge", "/dev/zero"}, "logpack db merge: " + notDB},
		{[]string{"decode", "--db", "/dev/zero", mixLog}, "logpack decode: --db: " + notDB},
		{[]string{"db", "show", obj}, "logpack db show: " + obj + ": not a format database: an ELF file (logpack db extract reads the sites of a program)\n"},
		{[]string{"db", "show", mixLog}, "logpack db show: " + mixLog + ": not a format database: a binary log\n"},
		{[]string{"rewrite", "--preset", "criu", "/dev/zero"}, "logpack rewrite: /dev/zero: not a C source: binary data (a NUL byte at offset 0)\n"},
	} {
		if r := runArgs(nil, c.args...); r.status != 1 || r.stdout != "" || r.stderr != c.want {
			t.Errorf("%q: %+v\nwant stderr %q", c.args, r, c.want)
		}
	}
}
