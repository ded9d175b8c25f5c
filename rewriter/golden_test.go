package rewriter

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"golang.org/x/tools/txtar"

	"github.com/logpack/logpack/fmtdb"
	"github.com/logpack/logpack/internal/sitetab"
)

var update = flag.Bool("update", false, "regenerate the expected sections of testdata/golden/*.txtar")

// strictFlags are warnings beyond -Wall -Wextra that projects turn on
// (CRIU: -Wdeclaration-after-statement -Wstrict-prototypes); rewritten code
// must not add any of them.
var strictFlags = []string{"-Wpedantic", "-Wconversion", "-Wsign-conversion", "-Wshadow", "-Wdeclaration-after-statement",
	"-Wstrict-prototypes", "-Wcast-qual", "-Wredundant-decls", "-Wnested-externs", "-Wformat=2", "-Wformat-signedness"}

// A golden case is a txtar archive: its comment holds "key: value" lines
// (mode: preprocessed|source, preset: NAME, log-func: SPEC (repeatable),
// file: NAME the unit is named, compile: skip), then the files
//
//	in.c       the input
//	out.c      the expected output (the runtime prelude shown as one line)
//	sites.json the expected format database lines
//	diags.txt  the expected diagnostics
type goldenCase struct {
	name    string
	path    string
	ar      *txtar.Archive
	mode    mode
	cfg     Config
	file    string
	compile bool
}

const preludeMark = "<logpack prelude>\n"

func loadGolden(t *testing.T) []goldenCase {
	t.Helper()
	paths, err := filepath.Glob("testdata/golden/*.txtar")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no golden cases: %v", err)
	}
	var cases []goldenCase
	for _, p := range paths {
		ar, err := txtar.ParseFile(p)
		if err != nil {
			t.Fatal(err)
		}
		c := goldenCase{name: strings.TrimSuffix(filepath.Base(p), ".txtar"), path: p, ar: ar, file: "in.c", compile: true}
		preset := ""
		var specs []string
		for _, line := range strings.Split(string(ar.Comment), "\n") {
			k, v, ok := strings.Cut(line, ":")
			if !ok {
				continue
			}
			v = strings.TrimSpace(v)
			switch k {
			case "mode":
				if v == "source" {
					c.mode = modeSource
				}
			case "preset":
				preset = v
			case "log-func":
				specs = append(specs, v)
			case "file":
				c.file = v
			case "compile":
				c.compile = v != "skip"
			}
		}
		c.cfg, err = BuildConfig(preset, specs)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		c.cfg.UnitID = "u"
		if section(ar, "in.c") == nil {
			t.Fatalf("%s: no in.c", p)
		}
		cases = append(cases, c)
	}
	return cases
}

func section(ar *txtar.Archive, name string) []byte {
	for _, f := range ar.Files {
		if f.Name == name {
			return f.Data
		}
	}
	return nil
}

func setSection(ar *txtar.Archive, name string, data []byte) {
	for i := range ar.Files {
		if ar.Files[i].Name == name {
			ar.Files[i].Data = data
			return
		}
	}
	ar.Files = append(ar.Files, txtar.File{Name: name, Data: data})
}

func (c *goldenCase) run(src []byte) (*Result, error) {
	if c.mode == modeSource {
		return RewriteSource(src, c.file, &c.cfg)
	}
	return RewritePreprocessed(src, c.file, &c.cfg)
}

// goldenOutputs renders a result the way the archive stores it.
func goldenOutputs(t *testing.T, res *Result) (out, sites, diags []byte) {
	out = bytes.Replace(res.Output, sitetab.Prelude(), []byte(preludeMark), 1)
	// The table's assembly is sitetab's business (and tested there): shown
	// here one entry per line.
	if i := bytes.Index(out, []byte("\n__asm__(")); i >= 0 {
		j := bytes.IndexByte(out[i+1:], '\n')
		var tab bytes.Buffer
		tab.WriteString("<logpack site table>\n")
		for k, e := range res.Table {
			fmt.Fprintf(&tab, "  %d: %s\n", k, sitetab.Describe(&e))
		}
		out = append(out[:i+1:i+1], append(tab.Bytes(), out[i+1+j+1:]...)...)
	}
	var entries []fmtdb.Entry
	for _, s := range res.Sites {
		entries = append(entries, fmtdb.Entry{Site: s})
	}
	sites, err := fmtdb.MarshalEntries(entries)
	if err != nil {
		t.Fatal(err)
	}
	var d bytes.Buffer
	for _, x := range res.Diags {
		fmt.Fprintln(&d, x)
	}
	return out, sites, d.Bytes()
}

func TestGolden(t *testing.T) {
	cases := loadGolden(t)
	if len(cases) < 60 {
		t.Errorf("only %d golden cases, want at least 60", len(cases))
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, err := c.run(section(c.ar, "in.c"))
			if err != nil {
				t.Fatal(err)
			}
			out, sites, diags := goldenOutputs(t, res)
			if *update {
				setSection(c.ar, "out.c", out)
				setSection(c.ar, "sites.json", sites)
				setSection(c.ar, "diags.txt", diags)
				if err := os.WriteFile(c.path, txtar.Format(c.ar), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			for _, s := range []struct {
				name string
				got  []byte
			}{{"out.c", out}, {"sites.json", sites}, {"diags.txt", diags}} {
				if want := section(c.ar, s.name); !bytes.Equal(s.got, want) {
					t.Errorf("%s differs (run go test -update to accept)\n--- got\n%s--- want\n%s", s.name, s.got, want)
				}
			}
			// the sites' IDs are what fmtdb derives, and each descriptor decodes back
			for _, s := range res.Sites {
				if id := fmtdb.SiteID(&s); id != s.ID {
					t.Errorf("site %s:%d: ID %x, SiteID says %x", s.File, s.Line, s.ID, id)
				}
				if _, err := fmtdb.DecodeDescriptor(s.AppendDescriptor(nil)); err != nil {
					t.Errorf("site %s:%d: %v", s.File, s.Line, err)
				}
			}
			// rewriting keeps every line where it was
			checkLines(t, c.mode, section(c.ar, "in.c"), res.Output)
			checkSitesUsed(t, res)
		})
	}
}

// checkLines: the original text after the pasted block has exactly the
// input's number of lines (rewrites add no newline in the middle).
func checkLines(t *testing.T, m mode, in, out []byte) {
	t.Helper()
	if bytes.Equal(in, out) {
		return
	}
	var body []byte
	switch m {
	case modePreprocessed:
		i := bytes.Index(out, sitetab.Prelude())
		if i < 0 {
			t.Fatal("output does not contain the prelude")
		}
		body = out[i+len(sitetab.Prelude()):]
		// skip the site definitions: declarations and the table's asm
		for bytes.HasPrefix(body, []byte("extern ")) || bytes.HasPrefix(body, []byte("__asm__(")) {
			body = body[bytes.IndexByte(body, '\n')+1:]
		}
		if bytes.HasPrefix(body, []byte("# 1 ")) && !startsWithMarker(in) {
			body = body[bytes.IndexByte(body, '\n')+1:]
		}
	case modeSource:
		i := bytes.Index(out, []byte("\n#line 1 "))
		if i < 0 {
			t.Fatal("output has no #line 1")
		}
		body = out[i+1:]
		body = body[bytes.IndexByte(body, '\n')+1:]
	}
	if a, b := bytes.Count(in, []byte("\n")), bytes.Count(body, []byte("\n")); a != b {
		t.Errorf("input has %d lines, rewritten body %d", a, b)
	}
}

// TestGoldenCompiles: the rewritten unit compiles exactly when the
// original does (preprocessed cases go through a real gcc -E first), with
// -Wall -Wextra -Werror and, where the original passes them, strictFlags
// too; a wrong argument type still fails -Wformat at the same line.
func TestGoldenCompiles(t *testing.T) {
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Skip("gcc not found")
	}
	inc, _ := filepath.Abs("testdata/include")
	rt, _ := filepath.Abs("../runtime/c")
	base := []string{"-std=gnu11", "-Wall", "-Wextra", "-Werror", "-iquote", inc, "-I", rt, "-c", "-o", "/dev/null"}
	strict := append(append([]string(nil), base...), strictFlags...)
	for _, c := range loadGolden(t) {
		if !c.compile {
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			os.MkdirAll(filepath.Join(dir, "out", filepath.Dir(c.file)), 0o755)
			os.MkdirAll(filepath.Join(dir, filepath.Dir(c.file)), 0o755)
			if err := os.WriteFile(filepath.Join(dir, c.file), section(c.ar, "in.c"), 0o644); err != nil {
				t.Fatal(err)
			}
			gcc := func(args ...string) (bool, string) {
				cmd := exec.Command("gcc", args...)
				cmd.Dir = dir
				out, err := cmd.CombinedOutput()
				return err == nil, string(out)
			}
			orig, out := c.file, filepath.Join("out", c.file)
			var src []byte
			if c.mode == modePreprocessed {
				if ok, msg := gcc("-E", "-iquote", inc, "-o", "in.i", c.file); !ok {
					t.Fatalf("gcc -E: %s", msg)
				}
				var err error
				if src, err = os.ReadFile(filepath.Join(dir, "in.i")); err != nil {
					t.Fatal(err)
				}
				orig, out = "in.i", "out.i"
			} else {
				src = section(c.ar, "in.c")
			}
			res, err := c.run(src)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, out), res.Output, 0o644); err != nil {
				t.Fatal(err)
			}
			flags := strict
			origOK, origMsg := gcc(append(flags, orig)...)
			if !origOK {
				flags = base
				origOK, origMsg = gcc(append(flags, orig)...)
			}
			outOK, outMsg := gcc(append(flags, out)...)
			if origOK != outOK {
				t.Errorf("flags %v: original compiles: %v, rewritten compiles: %v\noriginal:\n%s\nrewritten:\n%s",
					flags[len(base):], origOK, outOK, origMsg, outMsg)
			}
			if !origOK && !strings.Contains(outMsg, "-Wformat") && strings.Contains(origMsg, "-Wformat") {
				t.Errorf("the rewritten unit fails, but not on the format:\n%s", outMsg)
			}
			if !origOK && first(origMsg) != first(outMsg) {
				// diagnostics still point at the original lines
				t.Errorf("first diagnostic moved:\noriginal:  %s\nrewritten: %s", first(origMsg), first(outMsg))
			}
		})
	}
}

// first returns the "file:line:" of the first error line of gcc's output.
func first(msg string) string {
	var lines []string
	for _, l := range strings.Split(msg, "\n") {
		if strings.Contains(l, "error:") {
			f := strings.SplitN(l, ":", 3)
			if len(f) >= 2 {
				lines = append(lines, filepath.Base(f[0])+":"+f[1])
			}
		}
	}
	sort.Strings(lines)
	if len(lines) == 0 {
		return ""
	}
	return lines[0]
}
