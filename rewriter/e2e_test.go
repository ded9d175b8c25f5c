package rewriter

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/logpack/logpack/decoder"
)

// TestEndToEnd compiles testdata/e2e.c as is and rewritten (through a
// real gcc -E), runs both: with binary logging off the rewritten program
// prints exactly what the original prints; with it on, level-0 user
// messages still print and the decoded log is the rest of the text,
// byte for byte.
func TestEndToEnd(t *testing.T) {
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Skip("gcc not found")
	}
	t.Run("preprocessed", func(t *testing.T) { endToEnd(t, modePreprocessed) })
	// source mode folds __FILE__ and __LINE__ itself: the decoded text
	// shows whether it folded them as the macros print them
	t.Run("source", func(t *testing.T) { endToEnd(t, modeSource) })
}

func endToEnd(t *testing.T, m mode) {
	dir := t.TempDir()
	inc, _ := filepath.Abs("testdata/include")
	rtdir, _ := filepath.Abs("../runtime/c")
	src, _ := filepath.Abs("testdata/e2e.c")
	run := func(env []string, name string, args ...string) string {
		t.Helper()
		cmd := exec.Command(name, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), env...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s %v: %v\n%s", name, args, err, stderr.String())
		}
		return string(out)
	}
	cflags := []string{"-std=gnu11", "-Wall", "-Wextra", "-Werror", "-O2", "-iquote", inc, "-I", rtdir}
	cfg, _ := Preset("criu")
	var res *Result
	out := "out.i"
	if m == modePreprocessed {
		run(nil, "gcc", append(cflags, "-E", "-o", "e2e.i", src)...)
		pre, err := os.ReadFile(filepath.Join(dir, "e2e.i"))
		if err != nil {
			t.Fatal(err)
		}
		if res, err = RewritePreprocessed(pre, "e2e.c", &cfg); err != nil {
			t.Fatal(err)
		}
	} else {
		text, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		// the rewritten file is compiled from elsewhere under its
		// original name, which is what __FILE__ says
		if res, err = RewriteSource(text, src, &cfg); err != nil {
			t.Fatal(err)
		}
		out = "out.c"
	}
	for _, d := range res.Diags {
		t.Errorf("unexpected diagnostic: %s", d)
	}
	if len(res.Sites) < 18 {
		t.Errorf("only %d sites rewritten", len(res.Sites))
	}
	if err := os.WriteFile(filepath.Join(dir, out), res.Output, 0o644); err != nil {
		t.Fatal(err)
	}
	run(nil, "gcc", append(cflags, "-o", "orig", src)...)
	run(nil, "gcc", append(cflags, "-o", "rewritten", out, filepath.Join(rtdir, "logpack.c"), "-lpthread")...)

	text := run(nil, "./orig")
	if off := run(nil, "./rewritten"); off != text {
		t.Fatalf("logging off: output differs\n--- original\n%s--- rewritten\n%s", text, off)
	}
	logf := filepath.Join(dir, "e2e.lpk")
	on := run([]string{"LOGPACK_FILE=" + logf}, "./rewritten")

	// With binary logging on, user messages (level 0) print and are not
	// recorded, errors and warnings (1, 2) print and are recorded, the
	// rest is recorded.
	var printed, rest strings.Builder
	for _, l := range strings.SplitAfter(run([]string{"E2E_LEVELS=1"}, "./orig"), "<") {
		if l == "" {
			continue
		}
		level, msg, _ := strings.Cut(l, ">")
		msg = strings.TrimSuffix(msg, "<")
		if level <= "2" {
			printed.WriteString(msg)
		}
		if level >= "1" {
			rest.WriteString(msg)
		}
	}
	if on != printed.String() {
		t.Errorf("logging on: stdout\n%s\nwant the user messages, errors and warnings\n%s", on, printed.String())
	}
	d, err := decoder.Open(logf, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var dec []byte
	for r, err := range d.Records() {
		if err != nil {
			t.Fatal(err)
		}
		dec = r.AppendMessage(dec)
	}
	if string(dec) != rest.String() {
		t.Errorf("decoded log differs from the text\n--- decoded\n%s--- text\n%s", dec, rest.String())
	}
	if s := d.Skipped(); len(s) != 0 {
		t.Errorf("decoder skipped: %v", s)
	}
}
