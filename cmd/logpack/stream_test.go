package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// zeros is an endless stream of zero bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// Input that is no log fails at once, with exit status 1, however long
// or endless it is: /dev/zero as standard input or as LOG, and for stats;
// empty input too. A log followed by endless bytes decodes (only its
// data up to the header's tail is read).
func TestEndlessInput(t *testing.T) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		notLog := "not a logpack log: offset 0: magic \"\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\", want \"LOGPACK\\n\"\n"
		for _, tc := range []struct {
			in   io.Reader
			args []string
			want string
		}{
			{zeros{}, []string{"decode", "-"}, "logpack decode: standard input: " + notLog},
			{zeros{}, []string{"stats", "-"}, "logpack stats: standard input: " + notLog},
			{nil, []string{"decode", "/dev/zero"}, "logpack decode: /dev/zero: " + notLog},
			{nil, []string{"stats", "/dev/zero"}, "logpack stats: /dev/zero: " + notLog},
			{strings.NewReader(""), []string{"decode", "-"}, "logpack decode: standard input: not a logpack log: no data\n"},
			{nil, []string{"decode", "--text", "/dev/zero", mixLog}, "logpack decode: text log: /dev/zero: not a text log (NUL bytes)\n"},
		} {
			stdin = tc.in
			var o, e bytes.Buffer
			if code := dispatch(tc.args, &o, &e); code != 1 || e.String() != tc.want || o.Len() != 0 {
				t.Errorf("%v: exit %d, stderr %q, %d bytes of output", tc.args, code, e.String(), o.Len())
			}
		}
		if f, err := os.Open("/dev/zero"); err == nil {
			stdin = f
			var o, e bytes.Buffer
			code := dispatch([]string{"decode", "-"}, &o, &e)
			f.Close()
			if code != 1 || !strings.Contains(e.String(), "standard input: not a logpack log") ||
				strings.Contains(e.String(), "no data") {
				t.Errorf("decode - </dev/zero: exit %d, %q", code, e.String())
			}
		}
		log, _ := os.ReadFile(mixLog)
		stdin = io.MultiReader(bytes.NewReader(log), zeros{})
		var o, e bytes.Buffer
		if code := dispatch([]string{"decode", "-"}, &o, &e); code != 0 || o.String() != golden(t, "mix.plain") {
			t.Errorf("a log, then endless zeros: exit %d, stderr %q", code, e.String())
		}
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("endless input: still reading after 20 s")
	}
}

// Standard input redirected from a log file decodes in place; a FIFO
// decodes as LOG, and as standard input.
func TestStdinFileAndFIFO(t *testing.T) {
	f, err := os.Open(mixLog)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	stdin = f
	var o, e bytes.Buffer
	if code := dispatch([]string{"decode", "-"}, &o, &e); code != 0 || o.String() != golden(t, "mix.plain") {
		t.Errorf("stdin from a file: exit %d, stderr %q", code, e.String())
	}
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	log, _ := os.ReadFile(mixLog)
	// feed writes the log file into the FIFO. The file holds zeros past
	// its tail, which the reader leaves unread: the next reader must wait
	// for this writer to close, or its open joins the same pipe and
	// reads those zeros.
	feed := func() (closed chan struct{}) {
		closed = make(chan struct{})
		go func() {
			defer close(closed)
			w, err := os.OpenFile(fifo, os.O_WRONLY, 0)
			if err != nil {
				return
			}
			w.Write(log)
			w.Close()
		}()
		return closed
	}
	closed := feed()
	code, out, errs := run(t, nil, "decode", fifo)
	if code != 0 || out != golden(t, "mix.plain") {
		t.Errorf("FIFO as LOG: exit %d, stderr %q", code, errs)
	}
	<-closed
	feed()
	r, err := os.Open(fifo)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	stdin = r
	o.Reset()
	e.Reset()
	if code := dispatch([]string{"stats", "-"}, &o, &e); code != 0 || !strings.Contains(o.String(), "300 records") {
		t.Errorf("FIFO as standard input: exit %d, stderr %q", code, e.String())
	}
}

// --follow of a file that is no log, or of a log that stops being one
// while followed (damaged, cut short), reports it and stops with status
// 1 instead of waiting; an empty file is waited for.
func TestFollowStopsOnDamage(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage")
	writeFile(t, garbage, strings.Repeat("\x93garbage", 600))
	if code, _, errs := run(t, nil, "decode", "--follow", garbage); code != 1 || !strings.Contains(errs, garbage+": not a logpack log") {
		t.Errorf("garbage: exit %d, %q", code, errs)
	}
	if code, _, errs := run(t, nil, "decode", "--follow", "/dev/zero"); code != 1 || !strings.Contains(errs, "/dev/zero: not a regular file") {
		t.Errorf("/dev/zero: exit %d, %q", code, errs)
	}
	log, _ := os.ReadFile(mixLog)
	for _, damage := range []struct {
		name string
		do   func(path string) error
		want string
	}{
		{"header overwritten", func(p string) error { return os.WriteFile(p, bytes.Repeat([]byte("garbage!"), 1024), 0o644) }, "not a logpack log"},
		{"cut short", func(p string) error { return os.Truncate(p, 8192) }, "the file shrank"},
		{"a chunk header damaged", func(p string) error {
			f, err := os.OpenFile(p, os.O_WRONLY, 0)
			if err != nil {
				return err
			}
			defer f.Close()
			_, err = f.WriteAt([]byte("LPCKgarbage"), 4096)
			return err
		}, "skipped offset 4096: bad chunk header"},
	} {
		path := filepath.Join(dir, "live.lpk")
		// The log's first chunk comes later: follow a log with none yet.
		fresh := append([]byte(nil), log[:4096]...)
		if damage.name == "a chunk header damaged" {
			fresh = append(fresh, make([]byte, 4096)...)
		} else {
			fresh = log
		}
		writeFile(t, path, string(fresh))
		type result struct {
			code int
			errs string
		}
		res := make(chan result, 1)
		go func() {
			var o, e bytes.Buffer
			code := dispatch([]string{"decode", "--follow", path}, &o, &e)
			res <- result{code, e.String()}
		}()
		time.Sleep(500 * time.Millisecond)
		if err := damage.do(path); err != nil {
			t.Fatal(err)
		}
		select {
		case r := <-res:
			if r.code != 1 || !strings.Contains(r.errs, damage.want) {
				t.Errorf("%s: exit %d, stderr %q", damage.name, r.code, r.errs)
			}
		case <-time.After(15 * time.Second):
			t.Fatalf("%s: still following after 15 s", damage.name)
		}
	}
}

// --follow of an empty file (a log being made in place) waits for it and
// then decodes it.
func TestFollowWaitsForAnEmptyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "new.lpk")
	writeFile(t, path, "")
	type result struct {
		code      int
		out, errs string
	}
	res := make(chan result, 1)
	go func() {
		var o, e bytes.Buffer
		code := dispatch([]string{"decode", "--follow", path}, &o, &e)
		res <- result{code, o.String(), e.String()}
	}()
	time.Sleep(300 * time.Millisecond)
	log, _ := os.ReadFile(mixLog)
	writeFile(t, path, string(log))
	time.Sleep(1500 * time.Millisecond)             // several polls (200 ms)
	if err := os.Truncate(path, 4096); err != nil { // ends the follower
		t.Fatal(err)
	}
	select {
	case r := <-res:
		if want := golden(t, "mix.plain"); r.code != 1 || r.out != want || !strings.Contains(r.errs, "the file shrank") {
			t.Errorf("exit %d, stderr %q, %d of %d bytes of output", r.code, r.errs, len(r.out), len(want))
		}
	case <-time.After(15 * time.Second):
		t.Fatal("still following after 15 s")
	}
}
