package decoder

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/logpack/logpack/fmtdb"
	"github.com/logpack/logpack/internal/logfile"
)

// A string cut to fit its record decodes as recorded; the record says
// which argument of the call was cut and how long it was (JSON: "cut"),
// and the decoder counts cut strings for its summary. A cut record that
// names no string of its record is reported.
func TestCutStrings(t *testing.T) {
	// "%s: %s %d\n" with a constant first argument: the cut record counts
	// it (argument 1 is the path), the record's values do not.
	desc := logfile.Descriptor{Level: 3, TextLevel: logfile.TextLevelNone, File: "criu/files.c", Line: 7, Func: "fn", Format: "%s: %s %d\n",
		Args: []logfile.DescArg{{Class: logfile.ClassConstStr, Str: "files", BoundArg: -1}, {Class: fmtdb.ClassStr, BoundArg: -1}, {Class: fmtdb.ClassI32, BoundArg: -1}}}
	w := newLog(1)
	th := w.Thread(1, 1)
	start(th, 1000, session, 1, logfile.ProcStarted, "/usr/sbin/criu")
	th.LogDesc(&desc, 2000, 0, fmtdb.String("/very/long"), fmtdb.Int(1))
	th.Cut(1, 70000)
	th.LogDesc(&desc, 2100, 0, fmtdb.String("/short"), fmtdb.Int(2))
	th.LogDesc(&desc, 2200, 0, fmtdb.String("/x"), fmtdb.Int(3))
	th.Cut(2, 5) // the int: not a string
	log := w.Bytes(0)

	out, skips := decodeAll(t, log, FormatPlain, nil)
	if out != "files: /very/long 1\nfiles: /short 2\nfiles: /x 3\n" {
		t.Errorf("plain: %q", out)
	}
	if len(skips) != 1 || skips[0].Kind != SkipBadRecord || !strings.Contains(skips[0].Detail, "argument 2 of criu/files.c:7 is no string") {
		t.Errorf("skips %v", skips)
	}
	out, _ = decodeAll(t, log, FormatJSON, nil)
	lines := strings.Split(out, "\n")
	if !strings.HasSuffix(lines[0], `"msg":"files: /very/long 1\n","cut":[{"arg":1,"len":70000}]}`) || strings.Contains(lines[1]+lines[2], "cut") {
		t.Errorf("json:\n%s", out)
	}
	d := open(t, log)
	var cuts [][]Cut
	for r, err := range d.Records() {
		if err != nil {
			t.Fatal(err)
		}
		cuts = append(cuts, r.Cuts)
	}
	if diff := cmp.Diff([][]Cut{{{Arg: 1, Value: 0, Len: 70000}}, nil, nil}, cuts); diff != "" {
		t.Errorf("Record.Cuts (-want +got):\n%s", diff)
	}
	if n, recs := d.CutStrings(); n != 2 || recs != 2 {
		t.Errorf("CutStrings: %d strings in %d records", n, recs)
	}
}
