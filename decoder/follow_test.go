package decoder

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/logpack/logpack/fmtdb"
	"github.com/logpack/logpack/internal/logfile"
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
			func(h *Header) { rw = NewWriter(&out, FormatCRIU, nil) },
			func(r *Record) error { mu.Lock(); defer mu.Unlock(); _, err := rw.Write(r); return err },
			func() error { mu.Lock(); defer mu.Unlock(); return rw.Flush() })
	}()
	waitFor("(00.000001) hello 1\n(00.000002) hello 2\n")

	main.Descriptor(late, descOf(siteMount))
	child := w.Thread(12, 12)
	child.Log(siteHello, 4000, 0, fmtdb.Int(3))
	main.Log(siteHello, 3500, 0, fmtdb.Int(4))
	store(w.Bytes(8 * 4096))
	waitFor("(00.000001) hello 1\n(00.000002) hello 2\n" +
		"(00.000001) mnt: Found /tmp at 0x10\n" +
		"(00.000002) hello 4\n" +
		"(00.000003) hello 3\n")
	cancel()
	if err := <-done; err != context.Canceled {
		t.Errorf("Follow returned %v", err)
	}
	if len(skips) != 0 {
		t.Errorf("skips: %v", skips)
	}
	_ = strings.Contains
}

// Damage in a live log is reported once it cannot be a chunk still being
// written, and the chunks after it decode; a record whose descriptor never
// comes is reported as an unknown site.
func TestFollowDamage(t *testing.T) {
	defer func(h, s time.Duration) { followHeaderGrace, followSiteGrace = h, s }(followHeaderGrace, followSiteGrace)
	followHeaderGrace, followSiteGrace = 0, 0
	w := newLog(10)
	a := w.Thread(10, 10)
	a.Log(siteHello, 2000, 0, fmtdb.Int(1))
	b := w.Thread(10, 11)
	b.Log(siteHello, 2100, 0, fmtdb.Int(2))
	c := w.Thread(10, 12)
	c.Log(siteHello, 2200, 0, fmtdb.Int(3))
	c.LogIndex(w.NewIndex(), false, 2250, 0)
	log := w.Bytes(0)
	copy(log[2*4096:], "garbage!") // b's chunk header
	path := filepath.Join(t.TempDir(), "live.lpk")
	if err := os.WriteFile(path, log, 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	var skips []Skip
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	var rw *Writer
	err := Follow(ctx, path, &Options{OnSkip: func(s Skip) { skips = append(skips, s) }}, 10*time.Millisecond,
		func(h *Header) { rw = NewWriter(&out, FormatPlain, nil) },
		func(r *Record) error { _, err := rw.Write(r); return err },
		func() error { return rw.Flush() })
	if err != context.DeadlineExceeded {
		t.Errorf("Follow: %v", err)
	}
	if out.String() != "hello 1\nhello 3\n" {
		t.Errorf("output %q", out.String())
	}
	if len(skips) != 2 || skips[0].Kind != SkipBadChunk || skips[0].Offset != 2*4096 || skips[1].Kind != SkipUnknownSite {
		t.Errorf("skips %v", skips)
	}
}

// A thread whose records two copies of the runtime write into chunks of
// their own: the main copy's chunk stays open for its records after the
// other copy's chunk appears, and each poll's records come out by time.
func TestFollowTwoRuntimeCopies(t *testing.T) {
	path := filepath.Join(t.TempDir(), "live.lpk")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := newLog(10)
	host, plugin := w.Thread(10, 10), w.Thread(10, 10)
	host.Log(siteHello, 2000, 0, fmtdb.Int(1))
	plugin.Log(siteHello, 2500, 0, fmtdb.Int(2))
	host.Log(siteHello, 2600, 0, fmtdb.Int(3))
	if _, err := f.WriteAt(w.Bytes(8*4096), 0); err != nil {
		t.Fatal(err)
	}

	var mu sync.Mutex
	var out bytes.Buffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() {
		var rw *Writer
		done <- Follow(ctx, path, nil, 10*time.Millisecond,
			func(h *Header) { rw = NewWriter(&out, FormatPlain, nil) },
			func(r *Record) error { mu.Lock(); defer mu.Unlock(); _, err := rw.Write(r); return err },
			func() error { mu.Lock(); defer mu.Unlock(); return rw.Flush() })
	}()
	waitOutput := func(want string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			mu.Lock()
			got := out.String()
			mu.Unlock()
			if got == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("output %q, want %q", got, want)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitOutput("hello 1\nhello 2\nhello 3\n")
	host.Log(siteHello, 3000, 0, fmtdb.Int(4)) // into the host's chunk, before the plugin's
	if _, err := f.WriteAt(w.Bytes(8*4096), 0); err != nil {
		t.Fatal(err)
	}
	waitOutput("hello 1\nhello 2\nhello 3\nhello 4\n")
	cancel()
	if err := <-done; err != context.Canceled {
		t.Errorf("Follow returned %v", err)
	}
}

// Follow reads records with the same reader as Open's index pass and
// reports the same damage: malformed dropped, clock and process records,
// a log record without a valid timestamp delta, a record crossing its
// chunk's end.
func TestFollowReportsWhatOpenReports(t *testing.T) {
	w := newLog(10)
	a := w.Thread(10, 10)
	a.Log(siteHello, 2000, 0, fmtdb.Int(1))
	a.Raw(2000, []byte{logfile.TagDropped})             // no count
	a.Raw(2000, []byte{logfile.TagClock, 1, 2, 3})      // mono_ns cut short
	a.Raw(2000, []byte{logfile.TagProcess, 1})          // no ppid
	a.Raw(2000, []byte{byte(a.Index(siteHello)), 0x80}) // no ts delta
	a.Log(siteHello, 2100, 0, fmtdb.Int(2))
	b := w.Thread(10, 11)
	b.Log(siteHello, 2200, 0, fmtdb.Int(3))
	b.Log(siteHello, 2300, 0, fmtdb.Int(4))
	log := w.Bytes(0)
	log[2*4096+logfile.ChunkHeaderSize+4] = 255 // b's second record: 0xffff bytes, past its chunk's end
	log[2*4096+logfile.ChunkHeaderSize+5] = 255
	log[2*4096+logfile.ChunkHeaderSize+6] = 255

	_, openSkips := decodeAll(t, log, FormatPlain, nil)
	path := filepath.Join(t.TempDir(), "live.lpk")
	if err := os.WriteFile(path, log, 0o644); err != nil {
		t.Fatal(err)
	}
	var followSkips []Skip
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	err := Follow(ctx, path, &Options{OnSkip: func(s Skip) { followSkips = append(followSkips, s) }}, 10*time.Millisecond,
		func(*Header) {}, func(*Record) error { return nil }, func() error { return nil })
	if err != context.DeadlineExceeded {
		t.Fatalf("Follow: %v", err)
	}
	var kinds []string
	for _, s := range openSkips {
		kinds = append(kinds, s.Kind+": "+s.Detail)
	}
	want := []string{
		"bad record: bad dropped record", "bad record: clock record cut short", "bad record: process record: bad ppid",
		"bad record: bad timestamp delta", "bad record length: the record crosses its chunk's end",
	}
	if diff := cmp.Diff(want, kinds); diff != "" {
		t.Errorf("Open's skips (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(openSkips, followSkips); diff != "" {
		t.Errorf("skips (-Open +Follow):\n%s", diff)
	}
}

// A session that starts while the log is followed comes out with its own
// number and time origin.
func TestFollowSessions(t *testing.T) {
	path := filepath.Join(t.TempDir(), "live.lpk")
	w := newLog(10)
	a := w.Thread(10, 10)
	start(a, 2000, 0xaaaa, 1, logfile.ProcStarted, "/usr/sbin/criu")
	a.Log(siteHello, 2500, 0, fmtdb.Int(1))
	if err := os.WriteFile(path, w.Bytes(8*4096), 0o644); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var got []string
	lines := func() []string { mu.Lock(); defer mu.Unlock(); return slices.Clone(got) }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() {
		done <- Follow(ctx, path, nil, 10*time.Millisecond, func(*Header) {}, func(r *Record) error {
			mu.Lock()
			defer mu.Unlock()
			got = append(got, fmt.Sprintf("%d %d %s", r.Proc.Session.N, r.TS, r.AppendMessage(nil)))
			return nil
		}, func() error { return nil })
	}()
	waitLines := func(want []string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for !slices.Equal(lines(), want) {
			if time.Now().After(deadline) {
				t.Fatalf("records %q, want %q", lines(), want)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitLines([]string{"1 500 hello 1\n"})
	b := w.Thread(20, 20)
	start(b, 7000, 0xbbbb, 1, logfile.ProcStarted, "/usr/sbin/criu")
	b.Log(siteHello, 7300, 0, fmtdb.Int(2))
	if err := os.WriteFile(path, w.Bytes(8*4096), 0o644); err != nil {
		t.Fatal(err)
	}
	waitLines([]string{"1 500 hello 1\n", "2 300 hello 2\n"})
	cancel()
	if err := <-done; err != context.Canceled {
		t.Errorf("Follow returned %v", err)
	}
}

// Following a finished log prints what decoding it prints, in every
// format: pid prefixes, sessions and times included.
func TestFollowFinishedLog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "done.lpk")
	if err := os.WriteFile(path, featureLog(), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, f := range []Format{FormatPlain, FormatCRIU, FormatJSON} {
		want, _ := decodeAll(t, featureLog(), f, nil)
		var out bytes.Buffer
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		rw := NewWriter(&out, f, nil)
		err := Follow(ctx, path, nil, 10*time.Millisecond, func(*Header) {},
			func(r *Record) error { _, err := rw.Write(r); return err }, rw.Flush)
		cancel()
		if err != context.DeadlineExceeded {
			t.Fatalf("Follow: %v", err)
		}
		if diff := cmp.Diff(want, out.String()); diff != "" {
			t.Errorf("%v (-decode +follow):\n%s", f, diff)
		}
	}
}
