package lpruntime_test

import (
	"fmt"
	"path/filepath"
	"testing"
)

// Every string length at every alignment, in the middle of memory and
// ending at the last byte before an unmapped page, comes back whole: the
// record path's strlen neither stops short nor faults.
func TestStringsOfEveryLengthAndAlignment(t *testing.T) {
	t.Parallel()
	prog := buildProg(t, "strings")
	log := filepath.Join(t.TempDir(), "log")
	run(t, prog, log)
	var want []string
	for n := 0; n <= 100; n++ {
		for align := 0; align < 16; align++ {
			s := []byte(fmt.Sprintf("%d:%d:", n, align))
			if len(s) > n {
				s = s[:n]
			}
			for i := len(s); i < n; i++ {
				s = append(s, byte('a'+i%26))
			}
			want = append(want, string(s), string(s))
		}
	}
	got := mustScan(t, log).logRecords("str %s\n")
	if len(got) != len(want) {
		t.Fatalf("%d records, want %d", len(got), len(want))
	}
	for i, r := range got {
		if r.Args[0] != want[i] {
			t.Errorf("record %d: %q, want %q", i, r.Args[0], want[i])
		}
	}
	recs, ok := decodeJSON(t, log)
	if !ok {
		return
	}
	for i, r := range recs {
		if r.Msg != "str "+want[i]+"\n" {
			t.Errorf("decoded record %d: %q, want %q", i, r.Msg, "str "+want[i]+"\n")
			break
		}
	}
}
