package decoder

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/logpack/logpack/fmtdb"
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
	out, skips := decodeAll(t, w.Bytes(8192), FormatCRIU, nil)
	want := "" +
		"(00.000000)    101: hello 2\n" +
		"(00.000001) hello 1\n" +
		"(00.000001) hello 3\n" +
		"(00.000001)    101: hello 5\n" +
		"(00.000002) hello 4\n" +
		"(00.000002)    101: hello 7\n" +
		"(00.000002) hello 6\n"
	if diff := cmp.Diff(want, out); diff != "" {
		t.Errorf("merged output (-want +got):\n%s", diff)
	}
	if len(skips) != 0 {
		t.Errorf("skips: %v", skips)
	}
}

// One writer's records keep their file order even if its clock steps
// back (a new chunk with an earlier base, as after a TSC resync); the
// merge only interleaves other writers around them.
func TestWriterOrderIsFileOrder(t *testing.T) {
	w := newLog(1)
	a, b := w.Thread(1, 1), w.Thread(2, 2)
	a.Log(siteHello, 3000, 0, fmtdb.Int(1))
	a.Log(siteHello, 2000, 0, fmtdb.Int(2)) // earlier than its predecessor
	b.Log(siteHello, 2500, 0, fmtdb.Int(3))
	a.Log(siteHello, 2600, 0, fmtdb.Int(4))
	out, _ := decodeAll(t, w.Bytes(0), FormatPlain, nil)
	if want := "hello 3\nhello 1\nhello 2\nhello 4\n"; out != want {
		t.Errorf("got %q, want %q", out, want)
	}
}
