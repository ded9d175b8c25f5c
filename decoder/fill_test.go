package decoder

import (
	"testing"

	"github.com/logpack/logpack/fmtdb"
	"github.com/logpack/logpack/internal/logfile"
)

// Damaged records between good ones of the same sites are skipped with
// the reason, whichever path decodes them: good records take a one-pass
// decoder once the writer's argument buffer has grown, damage the
// careful one. A run-time level travels in the record.
func TestDamagedArgsBetweenGoodRecords(t *testing.T) {
	w := newLog(1)
	a := w.Thread(1, 1)
	a.Log(siteHello, 2000, 0, fmtdb.Int(1))
	a.Log(siteDyn, 2100, 2, fmtdb.Uint(5))
	hello, dyn := a.Index(siteHello), a.Index(siteDyn)
	body := func(idx uint32, runtimeLevel bool, args ...fmtdb.Value) []byte {
		return logfile.AppendLogBody(nil, idx, 0, runtimeLevel, 3, args)
	}
	a.Raw(2100, append(body(hello, false, fmtdb.Int(2)), 7))       // a byte too many
	a.Raw(2100, body(hello, false, fmtdb.Int(1<<31)))              // not an int
	a.Raw(2100, logfile.AppendLogBody(nil, dyn, 0, false, 0, nil)) // no level byte
	a.Raw(2100, body(dyn, true, fmtdb.Uint(1<<32)))                // not a u32
	a.Raw(2100, body(hello, false, fmtdb.Int(-3)))                 // good
	a.Raw(2100, body(dyn, true, fmtdb.Uint(6)))                    // good, level 3
	a.Raw(2100, append(body(dyn, true, fmtdb.Uint(6)), 0x80))      // a byte after
	d, err := newDecoder(w.Bytes(0))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	var levels []uint8
	for r, err := range d.Records() {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, string(r.AppendMessage(nil)))
		levels = append(levels, r.Level)
	}
	want := []string{"hello 1\n", "level 5\n", "hello -3\n", "level 6\n"}
	if len(got) != len(want) {
		t.Fatalf("records %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("record %d: %q, want %q", i, got[i], want[i])
		}
	}
	if levels[1] != 2 || levels[3] != 3 {
		t.Errorf("run-time levels %v, want 2 and 3 for the level records", levels)
	}
	wantSkips := []string{
		"hello.c:10: 1 bytes left after the arguments",
		"hello.c:10: argument 0 (i32): value 2147483648 does not fit 32 bits",
		"criu/log.c:5: no level byte",
		"criu/log.c:5: argument 0 (u32): value 4294967296 does not fit 32 bits",
		"criu/log.c:5: 1 bytes left after the arguments",
	}
	skips := d.Skipped()
	if len(skips) != len(wantSkips) {
		t.Fatalf("skips %v, want %d", skips, len(wantSkips))
	}
	for i, s := range skips {
		if s.Kind != SkipBadArgs || s.Detail != wantSkips[i] {
			t.Errorf("skip %d: %v %q, want %q", i, s.Kind, s.Detail, wantSkips[i])
		}
	}
}
