package lpruntime_test

import (
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// buildLibPart builds testdata/libpart.c as a shared library carrying the
// runtime.
func buildLibPart(t *testing.T, dir string) string {
	t.Helper()
	lib := filepath.Join(dir, "libpart.so")
	args := append(append([]string{}, cflags...), "-fPIC", "-shared", "-I", runtimeDir(t), "-I", "testdata", "-o", lib, "testdata/libpart.c")
	args = append(args, runtimeSources(t)...)
	if out, err := exec.Command("gcc", args...).CombinedOutput(); err != nil {
		t.Fatalf("gcc %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return lib
}

// A plain program that loads a logpack-built library, logs through it and
// unloads it again and again (a plugin) keeps no descriptor of the log
// per load, and the log holds every load's records. A program that closed
// the log's descriptor and has another file under its number keeps that
// file.
func TestLibraryLoadedAndUnloaded(t *testing.T) {
	t.Parallel()
	needGCC(t)
	dir := t.TempDir()
	lib := buildLibPart(t, dir)
	prog := filepath.Join(dir, "dlloop")
	if out, err := exec.Command("gcc", "-O2", "-Wall", "-Wextra", "-Werror", "-o", prog, "testdata/dlloop.c").CombinedOutput(); err != nil {
		t.Fatalf("gcc dlloop.c: %v\n%s", err, out)
	}
	const loads = 50
	for _, mode := range []string{"keep", "reuse"} {
		log := filepath.Join(dir, mode+".log")
		if out := run(t, prog, log, lib, strconv.Itoa(loads), mode); out != "fds 0 lost 0\n" {
			t.Errorf("%s: after %d loads: %q, want no descriptor more than before and none of the program's closed", mode, loads, out)
		}
		l := mustScan(t, log)
		if n := len(l.logRecords("str %s\n")); n != loads {
			t.Errorf("%s: %d records of the library's last call, want %d", mode, n, loads)
		}
	}
}

// An executable and a shared library, each rewritten and each linked with
// the runtime, write one consistent log: the dynamic linker gives both
// copies one state, so there is one process and one writer.
func TestExecutableAndSharedLibrary(t *testing.T) {
	t.Parallel()
	needGCC(t)
	dir := t.TempDir()
	lib := buildLibPart(t, dir)
	prog := buildProg(t, "withlib", lib, "-Wl,-rpath,"+dir)
	log := filepath.Join(dir, "log")
	if out := run(t, prog, log, "1000"); out != "ok 1\n" {
		t.Fatalf("output %q", out)
	}
	l := mustScan(t, log)
	checkWriters(t, l, 2, 1000)
	if n, _ := l.count(3); n != 1 {
		t.Errorf("%d process records: the two runtime copies did not share their state", n)
	}
	var tids = map[uint32]bool{}
	for _, r := range l.Records {
		tids[r.Tid] = true
	}
	if len(tids) != 1 {
		t.Errorf("records from %d writers, want the one thread", len(tids))
	}
	var strs []string
	for _, r := range l.logRecords("str %s\n") {
		strs = append(strs, r.Args[0].(string))
	}
	if strings.Join(strs, "|") != strings.Repeat("from the library|", 100)+"from the executable" {
		t.Errorf("strings in order: %q", strs)
	}
}
