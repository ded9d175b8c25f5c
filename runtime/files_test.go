package lpruntime_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/logpack/logpack/internal/testutil"
)

// A new log is created 0600 whatever the umask leaves (it holds the
// program's paths, names and values); the umask may only narrow it, and a
// log joined keeps the mode it has.
func TestLogFileMode(t *testing.T) {
	t.Parallel()
	prog := buildProg(t, "hostile")
	dir := t.TempDir()
	for _, c := range []struct {
		umask string
		want  os.FileMode
	}{{"022", 0o600}, {"000", 0o600}, {"077", 0o600}, {"0277", 0o400}} {
		log := filepath.Join(dir, "log"+c.umask)
		cmd := exec.Command("sh", "-c", "umask "+c.umask+" && exec \"$0\" plain 3", prog)
		cmd.Env = append(testutil.WithoutLogpack(), "LOGPACK_FILE="+log)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		fi, err := os.Stat(log)
		if err != nil {
			t.Fatalf("umask %s: %v", c.umask, err)
		}
		if fi.Mode().Perm() != c.want {
			t.Errorf("umask %s: log mode %v, want %v", c.umask, fi.Mode().Perm(), c.want)
		}
	}
	log := filepath.Join(dir, "log022")
	os.Chmod(log, 0o640)
	run(t, prog, log, "plain", "3")
	if fi, _ := os.Stat(log); fi.Mode().Perm() != 0o640 {
		t.Errorf("a joined log's mode became %v", fi.Mode().Perm())
	}
	if l := mustScan(t, log); len(l.logRecords("seq %d %d %d %d\n")) != 6 {
		t.Errorf("the joined log has %d records, want both runs' 6", len(l.logRecords("seq %d %d %d %d\n")))
	}
}

// Nothing but a logpack log is ever written to: a symlink at
// LOGPACK_FILE is not followed, a planted file that is no log, or a log
// of another user, is left as it is, and the program runs with text.
func TestPlantedFilesAreLeftAlone(t *testing.T) {
	t.Parallel()
	prog := buildProg(t, "hostile")
	dir := t.TempDir()
	victim := filepath.Join(dir, "victim")
	os.WriteFile(victim, []byte("precious data\n"), 0o644)
	link := filepath.Join(dir, "link.lpk")
	os.Symlink(victim, link)
	planted := filepath.Join(dir, "planted.lpk")
	os.WriteFile(planted, []byte("not a log\n"), 0o644)
	cases := map[string]string{link: "symbolic link", planted: "not a logpack log"}
	if os.Geteuid() == 0 {
		// a real log, but another user's: its owner could truncate it
		// under the program (SIGBUS) or read what it records
		theirs := filepath.Join(dir, "theirs.lpk")
		run(t, prog, theirs, "plain", "1")
		os.Chown(theirs, 65534, 65534)
		cases[theirs] = "belongs to another user"
	}
	for path, why := range cases {
		before, _ := os.ReadFile(path)
		cmd := command(prog, "plain", "3")
		cmd.Env = append(testutil.WithoutLogpack(), "LOGPACK_FILE="+path)
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), why) || !strings.Contains(string(out), "binary logging is off") ||
			strings.Count(string(out), "seq ") != 3 {
			t.Errorf("%s: %v\n%s", filepath.Base(path), err, out)
		}
		if after, _ := os.ReadFile(path); string(after) != string(before) {
			t.Errorf("%s was changed", filepath.Base(path))
		}
	}
	if b, _ := os.ReadFile(victim); string(b) != "precious data\n" {
		t.Errorf("the symlink's target was changed: %q", b)
	}
}

// In secure-execution mode (setuid, setgid, file capabilities) the
// environment belongs to whoever starts the program: LOGPACK_FILE and the
// other LOGPACK_ variables are ignored.
func TestSecureExecutionIgnoresTheEnvironment(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("needs root to make a setuid program and run it as another user")
	}
	prog := buildProg(t, "hostile")
	dir := t.TempDir()
	os.Chmod(dir, 0o755)
	for d := filepath.Dir(dir); d != "/" && d != "."; d = filepath.Dir(d) {
		os.Chmod(d, 0o755) // the test's temporary directories
	}
	var fs syscall.Statfs_t
	if err := syscall.Statfs(dir, &fs); err != nil {
		t.Fatal(err)
	}
	if fs.Flags&0x2 != 0 { // ST_NOSUID
		t.Skipf("%s is on a nosuid mount", dir)
	}
	suid := filepath.Join(dir, "suid")
	b, err := os.ReadFile(prog)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(suid, b, 0o755); err != nil {
		t.Fatal(err)
	}
	// owned by root, setuid (os.Chmod takes Go's mode bits, not 04000)
	if err := os.Chmod(suid, 0o755|os.ModeSetuid); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(suid); err != nil || fi.Mode()&os.ModeSetuid == 0 {
		t.Fatalf("%s is not setuid: %v %v", suid, fi, err)
	}
	// a directory where the other user could create the log: only
	// secure execution keeps the program from it
	logs := filepath.Join(dir, "logs")
	if err := os.Mkdir(logs, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(logs, 0o777); err != nil {
		t.Fatal(err)
	}
	for _, asRoot := range []bool{false, true} {
		log := filepath.Join(logs, fmt.Sprint("log-", asRoot))
		cmd := command(suid, "plain", "3")
		cmd.Env = append(testutil.WithoutLogpack(), "LOGPACK_FILE="+log)
		if !asRoot {
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		_, statErr := os.Stat(log)
		if asRoot && statErr != nil {
			t.Errorf("run by root (no secure execution): no log (%v)\n%s", statErr, out)
		}
		if !asRoot && (statErr == nil || strings.Contains(string(out), "logpack:")) {
			// (a notice would mean the variable was read, and only
			// the file could not be made)
			t.Errorf("run setuid by another user: LOGPACK_FILE was obeyed (%v)\n%s", statErr, out)
		}
	}
}

// LOGPACK_FILE=...%p... names one log per process (per run).
func TestPidInTheName(t *testing.T) {
	t.Parallel()
	prog := buildProg(t, "hostile")
	dir := t.TempDir()
	cmd := command(prog, "plain", "2")
	cmd.Env = append(testutil.WithoutLogpack(), "LOGPACK_FILE="+filepath.Join(dir, "run-%p.lpk"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	want := filepath.Join(dir, fmt.Sprintf("run-%d.lpk", cmd.Process.Pid))
	if l := mustScan(t, want); len(l.logRecords("seq %d %d %d %d\n")) != 2 {
		t.Errorf("%s: %d records", want, len(l.Records))
	}
}

// Programs started at the same time with the same LOGPACK_FILE (CRIU's
// restore beside its lazy-pages daemon) share one log: one creates it,
// the others join, each run is a session of its own, and no record is
// lost or damaged; on tmpfs too (new pages are mapped ahead there).
func TestIndependentProgramsShareALog(t *testing.T) {
	t.Parallel()
	prog := buildProg(t, "hostile")
	t.Run("tempdir", func(t *testing.T) {
		t.Parallel()
		shareALog(t, prog, filepath.Join(t.TempDir(), "log"))
	})
	t.Run("tmpfs", func(t *testing.T) {
		t.Parallel()
		var sf syscall.Statfs_t
		if err := syscall.Statfs("/dev/shm", &sf); err != nil || sf.Type != 0x01021994 {
			t.Skip("no tmpfs at /dev/shm")
		}
		dir, err := os.MkdirTemp("/dev/shm", "logpack-test")
		if err != nil {
			t.Skip(err)
		}
		t.Cleanup(func() { os.RemoveAll(dir) })
		shareALog(t, prog, filepath.Join(dir, "log"))
	})
}

func shareALog(t *testing.T, prog, log string) {
	const runs, n = 6, 20000
	var wg sync.WaitGroup
	errs := make([]error, runs)
	for i := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := command(prog, "plain", strconv.Itoa(n))
			cmd.Env = append(testutil.WithoutLogpack(), "LOGPACK_FILE="+log)
			var stderr strings.Builder
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err == nil && !strings.HasSuffix(string(out), "ok 0\n") {
				err = fmt.Errorf("output ends %q", out[max(0, len(out)-20):])
			}
			if err == nil && stderr.Len() > 0 {
				err = fmt.Errorf("stderr %q", stderr.String())
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	l := mustScan(t, log) // strict: any damage is an error
	next := map[uint64]int64{}
	for _, r := range l.logRecords("seq %d %d %d %d\n") {
		if i := r.Args[1].(int64); i != next[r.Session] {
			t.Fatalf("session %x: record %d, want %d", r.Session, i, next[r.Session])
		}
		next[r.Session]++
	}
	if len(next) != runs {
		t.Errorf("%d sessions, want %d", len(next), runs)
	}
	for s, c := range next {
		if c != n {
			t.Errorf("session %x: %d records, want %d", s, c, n)
		}
	}
	if l.Hdr.Dropped != 0 {
		t.Errorf("%d records dropped", l.Hdr.Dropped)
	}
}

// Logging leaves the program's view of itself as it was: its next
// descriptor is the one it would get without logpack, and the log is
// mapped only as far as it is long (not a huge reservation).
func TestNoSideEffectsOnDescriptorsAndAddressSpace(t *testing.T) {
	t.Parallel()
	prog := buildProg(t, "hostile")
	log := filepath.Join(t.TempDir(), "log")
	out := run(t, prog, log, "fds", "1000", log)
	var fd, mapped int64
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "fds ") {
			fmt.Sscanf(line, "fds %d %d", &fd, &mapped)
		}
	}
	if fd != 3 {
		t.Errorf("the program's next descriptor is %d with logging on, want 3", fd)
	}
	fi, err := os.Stat(log)
	if err != nil {
		t.Fatal(err)
	}
	if mapped == 0 || mapped > max(2*fi.Size(), 1<<20) {
		t.Errorf("%d bytes of address space map a log of %d bytes", mapped, fi.Size())
	}
}

// A process record names the program and its arguments, the same whether
// the log was opened at start-up (LOGPACK_FILE: the arguments come from
// the constructor) or later through the API (from /proc).
func TestProcessRecordNamesTheProgram(t *testing.T) {
	t.Parallel()
	basic, api := buildProg(t, "basic"), buildProg(t, "api")
	dir := t.TempDir()
	cases := []struct {
		prog, env string
		args      []string
	}{
		{basic, filepath.Join(dir, "env.log"), []string{"3", "two words", "ünï"}},
		{api, "", []string{filepath.Join(dir, "api.log")}},
	}
	for _, c := range cases {
		run(t, c.prog, c.env, c.args...)
		log := c.env
		if log == "" {
			log = c.args[0]
		}
		l := mustScan(t, log)
		n := 0
		for _, r := range l.Records {
			if r.Tag != 3 {
				continue
			}
			n++
			if r.Exe != c.prog {
				t.Errorf("%s: process record exe %q, want %q", log, r.Exe, c.prog)
			}
			if want := append([]string{c.prog}, c.args...); !slices.Equal(r.Cmdline, want) {
				t.Errorf("%s: process record command line %q, want %q", log, r.Cmdline, want)
			}
		}
		if n == 0 {
			t.Errorf("%s: no process record", log)
		}
	}
}
