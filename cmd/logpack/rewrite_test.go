package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const rewriteInput = `#include "log.h"
#undef LOG_PREFIX
#define LOG_PREFIX "t: "
void f(int n, const char *fmtv)
{
	pr_info("n=%d\n", n);
	pr_info(fmtv);
}
`

func TestRewriteCommand(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "a.c")
	if err := os.WriteFile(in, []byte(rewriteInput), 0o644); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "sites.db")
	out := filepath.Join(dir, "out", "a.c")
	var stdout, stderr bytes.Buffer
	if st := dispatch([]string{"rewrite", "--preset", "criu", "--db", db, "-o", out, in}, &stdout, &stderr); st != 0 {
		t.Fatalf("status %d: %s", st, stderr.String())
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(got, []byte("#include \"logpack_site.h\"\n")) || !bytes.Contains(got, []byte("logpack_emit(&logpack_site_")) {
		t.Errorf("output not rewritten:\n%s", got)
	}
	// diagnostics always go to stderr
	if want := in + ":7: logpack: left as text: the format is not a string literal (fmtv is no string macro logpack knows)\n"; stderr.String() != want {
		t.Errorf("stderr %q, want %q", stderr.String(), want)
	}
	entries, err := os.ReadFile(db)
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(entries, []byte("\n")); n != 1 || !bytes.Contains(entries, []byte(`"format":"t: n=%d\n"`)) {
		t.Errorf("database:\n%s", entries)
	}

	// -d DIR, and standard output for a single file
	stderr.Reset()
	if st := dispatch([]string{"rewrite", "--log-func", "pr_info(fmt, ...) level=4", "-d", filepath.Join(dir, "d"), in}, &stdout, &stderr); st != 0 {
		t.Fatalf("-d: status %d: %s", st, stderr.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "d", "a.c")); err != nil {
		t.Error(err)
	}
	stdout.Reset()
	if st := dispatch([]string{"rewrite", "--preset", "criu", in}, &stdout, &stderr); st != 0 || !strings.Contains(stdout.String(), "logpack_emit") {
		t.Errorf("stdout: status %d, output %q", st, stdout.String())
	}

	// usage errors
	for _, args := range [][]string{
		{"rewrite", "--preset", "criu"},
		{"rewrite", "--preset", "criu", "-o", out, in, in},
		{"rewrite", "--preset", "criu", in, in},
		{"rewrite", in},
		{"rewrite", "--preset", "nope", in},
		{"rewrite", "--log-func", "bad", in},
	} {
		if st := dispatch(args, &stdout, &stderr); st != 2 {
			t.Errorf("%v: status %d, want 2", args, st)
		}
	}
	if st := dispatch([]string{"rewrite", "--preset", "criu", filepath.Join(dir, "missing.c")}, &stdout, &stderr); st != 1 {
		t.Errorf("missing file: status %d, want 1", st)
	}
}
