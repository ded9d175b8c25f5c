package rewriter

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseLogFunc(t *testing.T) {
	good := []struct{ spec, want string }{
		{"print_on_level(level, fmt, ...)", "print_on_level(level, fmt, ...)"},
		{"pr_info(fmt, ...) level=3", "pr_info(fmt, ...) level=3"},
		{"  mylog( ctx ,level,fmt , ... )  ", "mylog(ctx, level, fmt, ...)"},
		{"die(fmt) level=3", "die(fmt) level=3"}, // no variadic arguments
		{"log0(fmt, ...) level=0", "log0(fmt, ...) level=0"},
	}
	for _, g := range good {
		f, err := ParseLogFunc(g.spec)
		if err != nil {
			t.Errorf("%q: %v", g.spec, err)
			continue
		}
		if f.String() != g.want {
			t.Errorf("%q: parsed as %q, want %q", g.spec, f.String(), g.want)
		}
	}
	bad := []string{
		"", "noparens", "f(level, ...)", "f(fmt, fmt)", "f(..., fmt)", "1f(fmt)",
		"f(fmt) level=8", "f(fmt) level=x", "f(level, fmt) level=2", "f(fmt) lvl=2",
		"f(fmt, a b)", "f(fmt, a-b)", "f(fmt, ...)x",
		// no level: a parameter meant as one would pass through silently
		"applog(lvl, fmt, ...)", "die(fmt)",
	}
	for _, s := range bad {
		if f, err := ParseLogFunc(s); err == nil {
			t.Errorf("%q: accepted as %s", s, f.String())
		}
	}
}

func TestPresetCRIU(t *testing.T) {
	cfg, err := Preset("criu")
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, f := range cfg.Funcs {
		names[f.Name] = true
		if f.Name == "print_on_level" && f.SourceOnly {
			t.Error("print_on_level must be found in preprocessed input")
		}
	}
	for _, n := range []string{"print_on_level", "pr_msg", "pr_info", "pr_debug", "pr_err", "pr_warn",
		"pr_perror", "pr_pwarn", "pr_err_once", "pr_warn_once", "print_once", "compel_print_on_level", "log"} {
		if !names[n] {
			t.Errorf("preset criu lacks %s", n)
		}
	}
	if len(cfg.TextLevels) != 1 || cfg.TextLevels[0] != 0 {
		t.Errorf("TextLevels = %v, want [0]", cfg.TextLevels)
	}
	if strings.Join(cfg.NoGlibcDefines, ",") != "CR_NOGLIBC" {
		t.Errorf("NoGlibcDefines = %v", cfg.NoGlibcDefines)
	}
	if _, err := Preset("nope"); err == nil {
		t.Error("unknown preset accepted")
	}
}

func TestBuildConfig(t *testing.T) {
	cfg, err := BuildConfig("criu", []string{"pr_info(fmt, ...) level=4", "mylog(l, level, fmt, ...)"})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range cfg.Funcs {
		switch f.Name {
		case "pr_info":
			n++
			if f.Level != 4 || f.SourceOnly {
				t.Errorf("--log-func does not replace the preset's pr_info: %+v", f)
			}
		case "mylog":
			n++
		}
	}
	if n != 2 {
		t.Errorf("funcs: %+v", cfg.Funcs)
	}
	if _, err := BuildConfig("", nil); err == nil {
		t.Error("a configuration without log functions was accepted")
	}
	if _, err := BuildConfig("", []string{"bad"}); err == nil {
		t.Error("a bad spec was accepted")
	}
}

// A call with a wrong argument type is rewritten, and the rewritten unit
// still fails -Werror=format on the kept original call, at the same line.
func TestWrongTypeStillFailsFormatCheck(t *testing.T) {
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Skip("gcc not found")
	}
	src := `void print_on_level(unsigned int loglevel, const char *format, ...)
	__attribute__((__format__(__printf__, 2, 3)));
void f(const char *s, long l)
{
	print_on_level(3, "%d %s\n", s, l);
}
`
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "w.c"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	pre, err := exec.Command("gcc", "-E", filepath.Join(dir, "w.c")).Output()
	if err != nil {
		t.Fatal(err)
	}
	cfg, _ := Preset("criu")
	res, err := RewritePreprocessed(pre, "w.c", &cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Sites) != 1 {
		t.Fatalf("%d sites, want the call rewritten", len(res.Sites))
	}
	out := filepath.Join(dir, "out.i")
	if err := os.WriteFile(out, res.Output, 0o644); err != nil {
		t.Fatal(err)
	}
	msg, err := exec.Command("gcc", "-std=gnu11", "-Wall", "-Werror=format", "-c", "-o", "/dev/null", out).CombinedOutput()
	if err == nil {
		t.Fatal("the rewritten unit compiles despite a wrong argument type")
	}
	if !strings.Contains(string(msg), "w.c:5:") || !strings.Contains(string(msg), "-Werror=format") {
		t.Errorf("want a format error at w.c:5, got:\n%s", msg)
	}
}
