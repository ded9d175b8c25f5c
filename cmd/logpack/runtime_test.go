package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/logpack/logpack/decoder"
	"github.com/logpack/logpack/internal/testutil"
)

// A project that vendors the runtime links logpack cc's objects with a
// plain compiler and what `logpack runtime -o DIR --encoders OBJECTS`
// wrote: the program records, and the log decodes to its printf text.
func TestRuntimeEncodersVendored(t *testing.T) {
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Skip("gcc not found")
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "app.c")
	writeFile(t, src, `#include <stdarg.h>
#include <stdio.h>
void applog(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void applog(int level, const char *fmt, ...)
{
	va_list ap;
	(void)level;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
}
int main(int argc, char **argv)
{
	applog(3, "%s has %d arguments, first %s\n", "main", argc, argv[0]);
	applog(4, "x=%#lx %c\n", 255UL, 'q');
	return 0;
}
`)
	obj := filepath.Join(dir, "app.o")
	if r := runArgs(nil, append(append([]string{"cc"}, appFunc...), "--", "gcc", "-O2", "-c", "-o", obj, src)...); r.status != 0 {
		t.Fatalf("cc: %+v", r)
	}
	rt := filepath.Join(dir, "rt")
	if r := runArgs(nil, "runtime", "-o", rt, "--encoders", obj); r.status != 0 {
		t.Fatalf("runtime: %+v", r)
	}
	prog := filepath.Join(dir, "prog")
	if out, err := exec.Command("gcc", "-O2", "-o", prog, obj, filepath.Join(rt, "logpack_enc.c")).CombinedOutput(); err != nil {
		t.Fatalf("link with the vendored runtime: %v\n%s", err, out)
	}
	lpk := filepath.Join(dir, "run.lpk")
	cmd := exec.Command(prog)
	cmd.Env = append(testutil.WithoutLogpack(), "LOGPACK_FILE="+lpk)
	if out, err := cmd.CombinedOutput(); err != nil || len(out) != 0 {
		t.Fatalf("run: %v, printed %q (want nothing: both calls recorded)", err, out)
	}
	d, err := decoder.Open(lpk, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var got string
	for r, err := range d.Records() {
		if err != nil {
			t.Fatal(err)
		}
		got += string(r.AppendMessage(nil))
	}
	if want := "main has 1 arguments, first " + prog + "\nx=0xff q\n"; got != want {
		t.Errorf("decoded %q, want %q", got, want)
	}
	if _, err := os.Stat(filepath.Join(rt, "logpack.c")); err != nil {
		t.Error(err)
	}
}
