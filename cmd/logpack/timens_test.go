package main

import (
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/logpack/logpack/internal/testutil"
)

const timensSource = `#include <stdarg.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

void applog(int level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (level < 3)
		vfprintf(stderr, fmt, ap);
	va_end(ap);
}

int main(int argc, char **argv)
{
	pid_t p;

	applog(3, "run %s starts\n", argc > 1 ? argv[1] : "?");
	p = fork();
	if (p == 0) {
		applog(3, "child %d\n", 1);
		_exit(0);
	}
	waitpid(p, NULL, 0);
	applog(3, "run ends %d\n", 2);
	return 0;
}
`

// A real program run twice into one log, once on the host's clock and
// once in a time namespace whose CLOCK_MONOTONIC is 110 days ahead
// (unshare -T): in CRIU's layout every session starts at (00.0000xx),
// with a TSC clock or CLOCK_MONOTONIC timestamps alike; for the latter,
// decode says which processes it placed by the log's order.
func TestTimeNamespacesEndToEnd(t *testing.T) {
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Skip("gcc not found")
	}
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		t.Skip("unshare not found")
	}
	if out, err := exec.Command(unshare, "-T", "--monotonic=9504000", "--fork", "true").CombinedOutput(); err != nil {
		t.Skipf("no time namespaces here: %v %s", err, out)
	}
	dir := t.TempDir()
	src, prog := filepath.Join(dir, "prog.c"), filepath.Join(dir, "prog")
	writeFile(t, src, timensSource)
	if r := runArgs(nil, append(append([]string{"cc"}, appFunc...), "--", "gcc", "-O2", "-o", prog, src)...); r.status != 0 {
		t.Fatalf("cc: %+v", r)
	}
	line := regexp.MustCompile(`^\((\d\d)\.\d{6}\) `)
	for _, clock := range []string{"tsc", "ns"} {
		log := filepath.Join(dir, clock+".lpk")
		for i, argv := range [][]string{{prog, "host"}, {unshare, "-T", "--monotonic=9504000", "--fork", prog, "shifted"}, {prog, "host-again"}} {
			cmd := exec.Command(argv[0], argv[1:]...)
			cmd.Env = append(testutil.WithoutLogpack(), "LOGPACK_FILE="+log)
			if clock == "ns" {
				cmd.Env = append(cmd.Env, "LOGPACK_CLOCK=ns")
			}
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("run %d: %v %s", i, err, out)
			}
		}
		code, out, errs := run(t, nil, "decode", "--format", "criu", log)
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		if code != 0 || len(lines) != 9 {
			t.Fatalf("%s: exit %d, stderr %q, output:\n%s", clock, code, errs, out)
		}
		for _, l := range lines {
			if m := line.FindStringSubmatch(l); m == nil || m[1] != "00" {
				t.Errorf("%s: line %q is not within a second of its session's start", clock, l)
			}
		}
		for _, s := range []string{"host", "shifted", "host-again"} {
			if !strings.Contains(out, ") run "+s+" starts\n") {
				t.Errorf("%s: no session %s:\n%s", clock, s, out)
			}
		}
		notes := regexp.MustCompile(`note: process(es)? [0-9, ]+ \(session 2\) read CLOCK_MONOTONIC about 110.0 days off the others`)
		if clock == "ns" && !notes.MatchString(errs) || clock == "tsc" && errs != "" {
			t.Errorf("%s: stderr %q", clock, errs)
		}
	}
}
