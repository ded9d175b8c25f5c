package decoder

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/logpack/logpack/fmtdb"
)

// Follow prints records as they are written, and holds back a record
// whose descriptor another thread stores later until it appears.
func TestFollow(t *testing.T) {
	path := filepath.Join(t.TempDir(), "live.lpk")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	store := func(b []byte) {
		if _, err := f.WriteAt(b, 0); err != nil {
			t.Fatal(err)
		}
	}

	w := newLog(10)
	main, worker := w.Thread(10, 10), w.Thread(10, 11)
	main.Log(siteHello, 2000, 0, fmtdb.Int(1))
	late := w.NewIndex()
	worker.LogIndex(late, false, 2500, 0, fmtdb.String("/tmp"), fmtdb.Uint(0x10))
	main.Log(siteHello, 3000, 0, fmtdb.Int(2))
	store(w.Bytes(8 * 4096))

	var mu sync.Mutex
	var out bytes.Buffer
	lines := func() string { mu.Lock(); defer mu.Unlock(); return out.String() }
	waitFor := func(want string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for lines() != want {
			if time.Now().After(deadline) {
				t.Fatalf("output %q, want %q", lines(), want)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	var skips []Skip
	go func() {
		var rw *Writer
		done <- Follow(ctx, path, &Options{OnSkip: func(s Skip) { skips = append(skips, s) }}, 10*time.Millisecond,
			func(h *Header) { rw = NewWriter(&out, FormatCRIU, &WriterOptions{FirstPID: h.FirstPID}) },
			func(r *Record) error { mu.Lock(); defer mu.Unlock(); _, err := rw.Write(r); return err },
			func() error { mu.Lock(); defer mu.Unlock(); return rw.Flush() })
	}()
	waitFor("(00.000001) hello 1\n(00.000002) hello 2\n")

	main.Descriptor(late, siteMount.AppendDescriptor(nil))
	child := w.Thread(12, 12)
	child.Log(siteHello, 4000, 0, fmtdb.Int(3))
	main.Log(siteHello, 3500, 0, fmtdb.Int(4))
	store(w.Bytes(8 * 4096))
	waitFor("(00.000001) hello 1\n(00.000002) hello 2\n" +
		"(00.000001) mnt: Found /tmp at 0x10\n" +
		"(00.000002) hello 4\n" +
		"(00.000003)     12: hello 3\n")
	cancel()
	if err := <-done; err != context.Canceled {
		t.Errorf("Follow returned %v", err)
	}
	if len(skips) != 0 {
		t.Errorf("skips: %v", skips)
	}
	_ = strings.Contains
}
