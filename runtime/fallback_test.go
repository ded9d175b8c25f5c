package lpruntime_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/logpack/logpack/internal/testutil"
)

// A process that can no longer grow the log (its descriptor closed, the
// log's path gone, as in CRIU's restored tasks) loses nothing: each call
// of a text-fallback site whose record the log cannot take prints it as
// text, the header counts those apart from drops, and decoding the log
// with the text log gives every line in order.
func TestTextFallbackWhenTheLogCannotGrow(t *testing.T) {
	t.Parallel()
	prog := buildProg(t, "lostfd")
	dir := t.TempDir()
	log, text := filepath.Join(dir, "run.lpk"), filepath.Join(dir, "text.log")
	const n = 200000 // about 1 MB of records: more than the log holds without growing
	tf, err := os.Create(text)
	if err != nil {
		t.Fatal(err)
	}
	cmd := command(prog, log, fmt.Sprint(n))
	cmd.Env = append(testutil.WithoutLogpack(), "LOGPACK_FILE="+log)
	cmd.Stderr = tf
	out, err := cmd.Output()
	tf.Close()
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	var toText, dropped uint64
	if _, err := fmt.Sscanf(string(out), "child to_text %d dropped %d", &toText, &dropped); err != nil {
		t.Fatalf("output %q: %v", out, err)
	}
	if toText == 0 || dropped != 0 {
		t.Fatalf("the child printed %d records as text and dropped %d: want some printed, none dropped", toText, dropped)
	}
	b, _ := os.ReadFile(text)
	if got := uint64(strings.Count(string(b), "\n")); got != toText {
		t.Errorf("the text log has %d lines, the child says it printed %d", got, toText)
	}
	l := mustScan(t, log)
	if l.Hdr.Dropped != 0 || l.Hdr.ToText != toText {
		t.Errorf("header: dropped %d, to_text %d; want 0 and %d", l.Hdr.Dropped, l.Hdr.ToText, toText)
	}
	if decoderBin == "" {
		return
	}
	var want strings.Builder
	for i := -1; i < n; i++ {
		fmt.Fprintf(&want, "fb %d\n", i)
	}
	want.WriteString("fb -2\n")
	dec := exec.Command(decoderBin, "decode", log, text)
	var stderr strings.Builder
	dec.Stderr = &stderr
	got, err := dec.Output()
	if err != nil {
		t.Fatalf("decode: %v\n%s", err, stderr.String())
	}
	if string(got) != want.String() {
		t.Errorf("the log decoded with the text log is not every line in order:\n%s", testutil.FirstLineDiff(string(got), want.String()))
	}
	if !strings.Contains(stderr.String(), fmt.Sprintf("%d records did not fit the log and were printed as text instead", toText)) {
		t.Errorf("decode does not say how many records went to the text log: %s", stderr.String())
	}
}
