package decoder

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/logpack/logpack/fmtdb"
	"github.com/logpack/logpack/internal/logfile"
)

// Records of several processes and threads come out in timestamp order;
// equal timestamps keep the order of the writers' first chunks in the file.
func TestMergeAcrossProcesses(t *testing.T) {
	w := newLog(100)
	main := w.Thread(100, 100)
	child := w.Thread(101, 101)
	thr := w.Thread(100, 102)
	main.Log(siteHello, 2000, 0, fmtdb.Int(1))
	child.Log(siteHello, 1500, 0, fmtdb.Int(2))
	thr.Log(siteHello, 2000, 0, fmtdb.Int(3))
	main.Log(siteHello, 3000, 0, fmtdb.Int(4))
	child.Log(siteHello, 2500, 0, fmtdb.Int(5))
	thr.Log(siteHello, 3000, 0, fmtdb.Int(6))
	child.Log(siteHello, 3000, 0, fmtdb.Int(7))
	d := open(t, w.Bytes(8192))
	var got []string
	for r, err := range d.Records() {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%d %d/%d %s", r.TS, r.PID, r.TID, r.AppendMessage(nil)))
	}
	want := []string{
		"500 101/101 hello 2\n",
		"1000 100/100 hello 1\n",
		"1000 100/102 hello 3\n",
		"1500 101/101 hello 5\n",
		"2000 100/100 hello 4\n",
		"2000 101/101 hello 7\n",
		"2000 100/102 hello 6\n",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("merged output (-want +got):\n%s", diff)
	}
	if len(d.Skipped()) != 0 {
		t.Errorf("skips: %v", d.Skipped())
	}
}

// A thread's records come out in timestamp order even across chunks that
// overlap in time (a new chunk with an earlier base, as after a TSC
// resync); the merge interleaves other writers around them.
func TestThreadOrderIsTimeOrder(t *testing.T) {
	w := newLog(1)
	a, b := w.Thread(1, 1), w.Thread(2, 2)
	a.Log(siteHello, 3000, 0, fmtdb.Int(1))
	a.Log(siteHello, 2000, 0, fmtdb.Int(2)) // earlier than its predecessor: a new chunk
	b.Log(siteHello, 2500, 0, fmtdb.Int(3))
	a.Log(siteHello, 2600, 0, fmtdb.Int(4))
	out, _ := decodeAll(t, w.Bytes(0), FormatPlain, nil)
	if want := "hello 2\nhello 3\nhello 4\nhello 1\n"; out != want {
		t.Errorf("got %q, want %q", out, want)
	}
}

// A shared library with its own copy of the runtime writes records of the
// same pid and tid as the main program into chunks of its own. The thread's
// records interleave by timestamp, not by chunk (host 1, plugin 2, host 3,
// not host 1, host 3, plugin 2); equal timestamps keep file order.
func TestTwoRuntimeCopiesInOneThread(t *testing.T) {
	w := newLog(7)
	host, plugin := w.Thread(7, 7), w.Thread(7, 7)
	other := w.Thread(7, 8)
	host.Log(siteHello, 1000, 0, fmtdb.Int(1))
	plugin.Log(siteHello, 1100, 0, fmtdb.Int(2))
	host.Log(siteHello, 1200, 0, fmtdb.Int(3))
	other.Log(siteHello, 1250, 0, fmtdb.Int(4))
	plugin.Log(siteHello, 1300, 0, fmtdb.Int(5))
	host.Log(siteHello, 1300, 0, fmtdb.Int(6)) // a tie: the plugin's chunk is later in the file
	plugin.Log(siteHello, 1400, 0, fmtdb.Int(7))
	out, skips := decodeAll(t, w.Bytes(0), FormatPlain, nil)
	if want := "hello 1\nhello 2\nhello 3\nhello 4\nhello 6\nhello 5\nhello 7\n"; out != want || len(skips) != 0 {
		t.Errorf("got %q, want %q; skips %v", out, want, skips)
	}

	// Many chunks of each copy, interleaved in the file, and a third
	// thread: everything comes out in the order it was logged.
	w = logfile.NewWriter(logfile.Header{FirstPID: 7, StartTS: 1000, StartMonoNS: 1000}, 4096)
	host, plugin, other = w.Thread(7, 7), w.Thread(7, 7), w.Thread(7, 8)
	const n = 6000
	for i := range n {
		th := host
		switch i % 7 {
		case 2, 5:
			th = plugin
		case 3:
			th = other
		}
		th.Log(siteHello, uint64(1000+10*i), 0, fmtdb.Int(int64(i)))
	}
	var want strings.Builder
	for i := range n {
		fmt.Fprintf(&want, "hello %d\n", i)
	}
	out, skips = decodeAll(t, w.Bytes(0), FormatPlain, nil)
	if out != want.String() || len(skips) != 0 {
		t.Errorf("interleaved chunks: %d bytes, want %d; skips %v", len(out), want.Len(), skips)
	}
}
