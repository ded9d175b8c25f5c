package lpruntime_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/logpack/logpack/internal/logfile"
	"github.com/logpack/logpack/internal/testutil"
)

// At a normal exit the runtime marks the text log once more: a line the
// program wrote there after its last record decodes after that record,
// not before the records it logged just before without a pause.
func TestExitMarkPlacesTheLastTextLines(t *testing.T) {
	t.Parallel()
	prog := buildProg(t, "exitmark")
	dir := t.TempDir()
	log, text := filepath.Join(dir, "log"), filepath.Join(dir, "stderr")
	f, err := os.Create(text)
	if err != nil {
		t.Fatal(err)
	}
	cmd := command(prog)
	cmd.Env = append(testutil.WithoutLogpack(), "LOGPACK_FILE="+log)
	cmd.Stderr = f
	err = cmd.Run()
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if decoderBin == "" {
		t.Skip("no decoder")
	}
	out, err := exec.Command(decoderBin, "decode", "--format", "plain", log, text).CombinedOutput()
	if err != nil {
		t.Fatalf("decode: %v\n%s", err, out)
	}
	want := "seq 0 1 0 0\ntext between\nseq 0 2 0 0\nseq 0 3 0 0\ntext after the last record\n"
	if string(out) != want {
		t.Errorf("decoded with the text log:\n%s\nwant\n%s", out, want)
	}
}

// Text marks cost a system call each, and a program like CRIU pauses
// before most of its records: while the checks find the text log
// unchanged they back off (up to 16 pauses' worth, 0.32 ms), so there
// are far fewer checks than records, and a line of text that comes after
// a quiet stretch is still placed within that much of where it was
// written.
func TestTextMarksBackOff(t *testing.T) {
	t.Parallel()
	prog := buildProg(t, "pauses")
	dir := t.TempDir()
	// Pauses well over 20 µs whatever the TSC's rate (the runtime
	// assumes 2.5 GHz until it has measured it).
	const n, pauseUS = 2000, 40
	run := func(name string, every int, extra ...string) (log, text, out string) {
		log, text = filepath.Join(dir, name+".lpk"), filepath.Join(dir, name+".txt")
		f, err := os.Create(text)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		cmd := command(prog, append([]string{fmt.Sprint(n), fmt.Sprint(pauseUS), fmt.Sprint(every)}, extra...)...)
		cmd.Env = append(testutil.WithoutLogpack(), "LOGPACK_FILE="+log)
		cmd.Stderr = f
		b, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s: %v\n%s", name, err, b)
		}
		return log, text, string(b)
	}

	// Without the back-off, one per record; also when the text log the
	// program names is no file (a pipe), as in CRIU's restored tasks.
	for _, mode := range []string{"file", "pipe"} {
		t.Run("checks/"+mode, func(t *testing.T) {
			_, _, out := run("quiet-"+mode, 0, mode)
			var calls int
			if _, err := fmt.Sscanf(out, "fstat %d", &calls); err != nil {
				t.Fatalf("output %q", out)
			}
			if calls > n/4 {
				t.Errorf("%d fstat calls for %d records, each after a pause", calls, n)
			}
			t.Logf("%d fstat calls for %d records", calls, n)
		})
	}

	t.Run("placement", func(t *testing.T) {
		if decoderBin == "" {
			t.Skip("no decoder")
		}
		const every = 100
		log, text, _ := run("texts", every)
		out, err := exec.Command(decoderBin, "decode", "--format", "plain", log, text).CombinedOutput()
		if err != nil {
			t.Fatalf("decode: %v\n%s", err, out)
		}
		// Each "text K" line comes right before record K; after a quiet
		// stretch, at most 0.32 ms of records (8 here, plus one) later;
		// the bound leaves room for a slow machine's longer pauses.
		lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
		seen, texts := -1, 0
		for i, l := range lines {
			var k int
			if _, err := fmt.Sscanf(l, "seq 0 %d 0 0", &k); err == nil {
				seen = k
				continue
			}
			if _, err := fmt.Sscanf(l, "text %d", &k); err != nil {
				t.Fatalf("line %d: %q", i+1, l)
			}
			texts++
			if seen >= k+17 || seen < k-1 {
				t.Errorf("text %d placed after record %d", k, seen)
			}
		}
		if texts != n/every {
			t.Errorf("%d text lines decoded, want %d", texts, n/every)
		}
	})
}

// A process whose CLOCK_MONOTONIC jumps (CRIU's restored tasks enter a
// time namespace) keeps the timestamp rate it measured: measured across
// the jump, every record a few microseconds after the last looked like a
// pause, and each checked the text log.
func TestClockJumpIsNoPause(t *testing.T) {
	t.Parallel()
	prog := buildProg(t, "timens")
	dir := t.TempDir()
	f, err := os.Create(filepath.Join(dir, "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	const n = 2000
	cmd := command(prog, fmt.Sprint(n))
	cmd.Env = append(testutil.WithoutLogpack(), "LOGPACK_FILE="+filepath.Join(dir, "log"))
	cmd.Stderr = f
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if s := string(out); strings.HasPrefix(s, "skip") {
		t.Skip(strings.TrimSpace(s))
	}
	var calls int
	if _, err := fmt.Sscanf(string(out), "fstat %d", &calls); err != nil {
		t.Fatalf("output %q", out)
	}
	if h := mustScan(t, filepath.Join(dir, "log")).Hdr; h.TSKind != logfile.TSTSC {
		t.Skip("the log's clock is not the TSC: no rate to measure")
	}
	if calls > n/20 {
		t.Errorf("%d fstat calls in the child for %d records 3 µs apart", calls, n)
	}
	t.Logf("%d fstat calls for %d records", calls, n)
}
