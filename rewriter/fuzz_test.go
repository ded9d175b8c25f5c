package rewriter

import (
	"bytes"
	"github.com/google/go-cmp/cmp"
	"github.com/logpack/logpack/internal/logfile"
	"github.com/logpack/logpack/internal/sitetab"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/tools/txtar"

	"github.com/logpack/logpack/fmtdb"
)

// FuzzRewrite feeds arbitrary bytes to both modes: never a panic, never
// an error (errors mean overlapping edits, a bug), never a line moved, and
// an input without rewritable calls comes back unchanged.
func FuzzRewrite(f *testing.F) {
	paths, _ := filepath.Glob("testdata/golden/*.txtar")
	for _, p := range paths {
		if ar, err := txtar.ParseFile(p); err == nil {
			if in := section(ar, "in.c"); in != nil {
				f.Add(in)
			}
		}
	}
	f.Add([]byte("print_on_level(3, \"%d\\n\", 1);"))
	f.Add([]byte("{print_on_level(x,\"%s%m\",strerror(errno));}"))
	f.Add([]byte("{pr_err(\"%\" PRIx64 \"\\n\", a);}\n#define LOG_PREFIX \"p\"\n{pr_perror(\"x\");}"))
	cfg, err := Preset("criu")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		for _, m := range []mode{modePreprocessed, modeSource} {
			res, err := rewrite(src, "f.c", &cfg, m)
			if err != nil {
				t.Fatalf("mode %d: %v", m, err)
			}
			if len(res.Sites) == 0 && !bytes.Equal(res.Output, src) {
				t.Fatalf("mode %d: no sites, but the output changed", m)
			}
			for _, s := range res.Sites {
				if fmtdb.SiteID(&s) != s.ID {
					t.Fatalf("mode %d: site ID mismatch", m)
				}
				if _, err := fmtdb.DecodeDescriptor(s.AppendDescriptor(nil)); err != nil {
					t.Fatalf("mode %d: %v", m, err)
				}
			}
			checkLines(t, m, src, res.Output)
			checkSitesUsed(t, res)
		}
	})
}

// Hostile shapes that a naive finder handles in quadratic time (each
// candidate rescanning the rest of the input) must stay linear: a
// quadratic rewrite of these inputs would run for minutes.
func TestHostileInputsStayLinear(t *testing.T) {
	const n = 50000
	cfg, _ := Preset("criu")
	inputs := map[string][]byte{
		"unclosed calls": []byte("{" + strings.Repeat("print_on_level(", n)),
		"nested calls":   []byte("{" + strings.Repeat("print_on_level(3, \"%d\", ", n) + "1" + strings.Repeat(")", n) + ";}"),
		"deep #if":       []byte("{" + strings.Repeat("(", n) + strings.Repeat("\n#if 1\n", n) + "pr_info(\"x\");"),
		"many commas":    []byte("{print_on_level(3, \"x\"" + strings.Repeat(", a", n) + ");}"),
	}
	for name, src := range inputs {
		for _, m := range []mode{modePreprocessed, modeSource} {
			if _, err := rewrite(src, "h.c", &cfg, m); err != nil {
				t.Errorf("%s: %v", name, err)
			}
		}
	}
}

// Every site in the result has exactly one definition and one use in the
// output: no site is recorded for a call that was left as text.
func checkSitesUsed(t *testing.T, res *Result) {
	t.Helper()
	uses := func(sym string) int {
		return bytes.Count(res.Output, []byte("&"+sym+",")) + bytes.Count(res.Output, []byte("&"+sym+")"))
	}
	for i := range res.Sites {
		v := sitetab.SymbolName(res.UnitID, i)
		def := bytes.Count(res.Output, []byte("struct logpack_site "+v+" "))
		if use := uses(v); def != 1 || use != 1 {
			t.Fatalf("%s: %d declarations, %d uses", v, def, use)
		}
	}
	if v := sitetab.SymbolName(res.UnitID, len(res.Sites)); uses(v) > 0 {
		t.Fatalf("the output uses %s, which is not among the sites", v)
	}
	checkTableFolds(t, res)
}

// Each site's table entry, as the log carries it and the decoder folds
// it, is the site the format database stores: constants printed into the
// format, strerror(errno) as %m, '*' amounts left as arguments, ID and all.
func checkTableFolds(t *testing.T, res *Result) {
	t.Helper()
	if len(res.Table) != len(res.Sites) {
		t.Fatalf("%d table entries for %d sites", len(res.Table), len(res.Sites))
	}
	for i := range res.Table {
		d, err := logfile.ParseDescriptor(res.Table[i].Append(nil))
		if err != nil {
			t.Fatalf("site %d: %v", i, err)
		}
		got, _, err := d.Site()
		if err != nil {
			t.Fatalf("site %d: %v", i, err)
		}
		if diff := cmp.Diff(res.Sites[i], got); diff != "" {
			t.Fatalf("site %d (-database +folded table entry):\n%s", i, diff)
		}
	}
}
