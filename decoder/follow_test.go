package decoder

import (
	"bytes"
	"context"
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

// following follows the log at path in the background, rendering format
// f and flushing whenever the Follower has caught up. out returns what it
// wrote so far; stop ends it and fails the test if the iteration ended
// with an error.
func following(t *testing.T, path string, opts *Options, f Format) (out func() string, stop func()) {
	t.Helper()
	var mu sync.Mutex
	var buf bytes.Buffer
	lw := lockedWriter{&mu, &buf}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	fl := Follow(path, opts)
	fl.Poll = 10 * time.Millisecond
	go func() {
		w := NewWriter(lw, f, nil)
		for r, err := range fl.Records(ctx) {
			if err != nil {
				done <- err
				return
			}
			w.WriteRecord(r)
			if fl.CaughtUp() {
				w.Flush()
			}
		}
		done <- nil
	}()
	out = func() string { mu.Lock(); defer mu.Unlock(); return buf.String() }
	stop = func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Follow: %v", err)
		}
	}
	return out, stop
}

type lockedWriter struct {
	mu *sync.Mutex
	b  *bytes.Buffer
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

// waitOutput waits until out() is want.
func waitOutput(t *testing.T, out func() string, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for out() != want {
		if time.Now().After(deadline) {
			t.Fatalf("output %q, want %q", out(), want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// followFor follows the log at path for d and returns what it rendered.
func followFor(t *testing.T, path string, opts *Options, f Format, d time.Duration) string {
	t.Helper()
	var out bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	fl := Follow(path, opts)
	fl.Poll = 10 * time.Millisecond
	w := NewWriter(&out, f, nil)
	for r, err := range fl.Records(ctx) {
		if err != nil {
			t.Fatalf("Follow: %v", err)
		}
		w.WriteRecord(r)
	}
	w.Flush()
	return out.String()
}

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

	var skips []Skip
	var smu sync.Mutex
	out, stop := following(t, path, &Options{OnSkip: func(s Skip) { smu.Lock(); skips = append(skips, s); smu.Unlock() }}, FormatCRIU)
	waitOutput(t, out, "(00.000001) hello 1\n(00.000002) hello 2\n")

	main.Descriptor(late, descOf(siteMount))
	child := w.Thread(12, 12)
	child.Log(siteHello, 4000, 0, fmtdb.Int(3))
	main.Log(siteHello, 3500, 0, fmtdb.Int(4))
	store(w.Bytes(8 * 4096))
	waitOutput(t, out, "(00.000001) hello 1\n(00.000002) hello 2\n"+
		"(00.000001) mnt: Found /tmp at 0x10\n"+
		"(00.000002) hello 4\n"+
		"(00.000003) hello 3\n")
	stop()
	if len(skips) != 0 {
		t.Errorf("skips: %v", skips)
	}
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
	var skips []Skip
	out := followFor(t, path, &Options{OnSkip: func(s Skip) { skips = append(skips, s) }}, FormatPlain, time.Second)
	if out != "hello 1\nhello 3\n" {
		t.Errorf("output %q", out)
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

	out, stop := following(t, path, nil, FormatPlain)
	waitOutput(t, out, "hello 1\nhello 2\nhello 3\n")
	host.Log(siteHello, 3000, 0, fmtdb.Int(4)) // into the host's chunk, before the plugin's
	if _, err := f.WriteAt(w.Bytes(8*4096), 0); err != nil {
		t.Fatal(err)
	}
	waitOutput(t, out, "hello 1\nhello 2\nhello 3\nhello 4\n")
	stop()
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
	followFor(t, path, &Options{OnSkip: func(s Skip) { followSkips = append(followSkips, s) }}, FormatPlain, 300*time.Millisecond)
	var kinds []string
	for _, s := range openSkips {
		kinds = append(kinds, s.Kind.String()+": "+s.Detail)
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
	out, stop := following(t, path, nil, FormatJSON)
	waitOutput(t, out, `{"session":1,"ts":500,"pid":10,"tid":10,"level":3,"site":"13bf0b1f8285d194","index":16,"file":"hello.c","line":10,"func":"fn","msg":"hello 1\n"}`+"\n")
	b := w.Thread(20, 20)
	start(b, 7000, 0xbbbb, 1, logfile.ProcStarted, "/usr/sbin/criu")
	b.Log(siteHello, 7300, 0, fmtdb.Int(2))
	if err := os.WriteFile(path, w.Bytes(8*4096), 0o644); err != nil {
		t.Fatal(err)
	}
	waitOutput(t, out, `{"session":1,"ts":500,"pid":10,"tid":10,"level":3,"site":"13bf0b1f8285d194","index":16,"file":"hello.c","line":10,"func":"fn","msg":"hello 1\n"}`+"\n"+
		`{"session":2,"ts":300,"pid":20,"tid":20,"level":3,"site":"13bf0b1f8285d194","index":17,"file":"hello.c","line":10,"func":"fn","msg":"hello 2\n"}`+"\n")
	stop()
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
		out := followFor(t, path, nil, f, 300*time.Millisecond)
		if diff := cmp.Diff(want, out); diff != "" {
			t.Errorf("%v (-decode +follow):\n%s", f, diff)
		}
	}
}

// CaughtUp is true exactly for the last record of what the Follower found
// at one look, and garbage that is no log fails at once.
func TestFollowCaughtUpAndGarbage(t *testing.T) {
	path := filepath.Join(t.TempDir(), "live.lpk")
	w := newLog(10)
	a := w.Thread(10, 10)
	for i := range 3 {
		a.Log(siteHello, uint64(2000+i), 0, fmtdb.Int(int64(i)))
	}
	if err := os.WriteFile(path, w.Bytes(0), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	fl := Follow(path, nil)
	fl.Poll = 10 * time.Millisecond
	var caught []bool
	for r, err := range fl.Records(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		caught = append(caught, fl.CaughtUp())
		if r.Args[0].Bits == 2 {
			cancel()
		}
	}
	if !slices.Equal(caught, []bool{false, false, true}) || fl.Header().FirstPID != 10 {
		t.Errorf("CaughtUp %v, header %+v", caught, fl.Header())
	}
	garbage := filepath.Join(t.TempDir(), "garbage")
	os.WriteFile(garbage, bytes.Repeat([]byte{0x5a}, 4096), 0o644)
	start := time.Now()
	for _, err := range Follow(garbage, nil).Records(context.Background()) {
		if err == nil || !strings.Contains(err.Error(), "not a logpack log") || time.Since(start) > 5*time.Second {
			t.Errorf("garbage: %v after %v", err, time.Since(start))
		}
		break
	}
}

// A log that is large when followed is taken in parts (followLook bytes
// of chunks at a time, lowered to 8 KiB here), one right after the
// other: the records come out as Records yields them, in time order
// across the parts, and CaughtUp only at the end.
func TestFollowLargeLogInParts(t *testing.T) {
	defer func(n int64) { followLook = n }(followLook)
	followLook = 8 << 10
	w := newLog(10)
	ths := []*logfile.Thread{w.Thread(10, 10), w.Thread(10, 11), w.Thread(10, 12)}
	start(ths[0], 1500, session, 1, logfile.ProcStarted, "/usr/sbin/criu", "criu", "dump")
	for i := range 3000 {
		ths[(i*7)%3].Log(siteMount, uint64(2000+i*10), 0, fmtdb.String("/proc/self/mountinfo"), fmtdb.Uint(uint64(i)))
	}
	log := w.Bytes(0)
	if len(log) < 8*int(followLook) {
		t.Fatalf("the log is %d bytes, not several parts", len(log))
	}
	path := filepath.Join(t.TempDir(), "big.lpk")
	if err := os.WriteFile(path, log, 0o644); err != nil {
		t.Fatal(err)
	}
	want, _ := decodeAll(t, log, FormatPlain, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second) // ended once caught up
	defer cancel()
	fl := Follow(path, nil)
	fl.Poll = time.Hour // the parts follow one another at once: no waiting
	var out bytes.Buffer
	wr := NewWriter(&out, FormatPlain, nil)
	caught := 0
	for r, err := range fl.Records(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		wr.WriteRecord(r)
		if fl.CaughtUp() {
			caught++
			cancel()
		}
	}
	wr.Flush()
	if diff := cmp.Diff(want, out.String()); diff != "" {
		t.Errorf("(-decode +follow):\n%s", diff)
	}
	if caught != 1 {
		t.Errorf("caught up %d times, want once, at the end", caught)
	}
}
