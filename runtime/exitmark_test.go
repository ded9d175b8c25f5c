package lpruntime_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

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
