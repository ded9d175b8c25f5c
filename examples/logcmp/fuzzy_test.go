package main

import "testing"

// Numbers do not count: addresses, pids and sizes differ between runs.
func TestShapeIgnoresNumbers(t *testing.T) {
	for in, want := range map[string]string{
		"(00.039880)  18280: Collect fdinfo pid=18280 fd=0 id=0x11": "#: Collect fdinfo pid=# fd=# id=#",
		"pr8804-2 Read 7f00 4 pages":                                "pr#-# Read # # pages",
		"x86: cwd:0x37f swd:0":                                      "x#: cwd:# swd:#",
	} {
		if got := shape(in); got != want {
			t.Errorf("shape(%q) = %q, want %q", in, got, want)
		}
	}
}

// Concurrent writers interleave differently in every run: each one's
// lines are aligned on their own, writers numbered by first appearance.
func TestWritersAlignOnTheirOwn(t *testing.T) {
	a := []string{
		"main one",
		"   100: task a",
		"pie: 7: parasite x",
		"   200: task b",
		"main two",
	}
	b := []string{
		"main one",
		"   300: task a",
		"main two",
		"   400: task b",
		"pie: 9: parasite x",
	}
	r := fuzzyCompare(a, b)
	if r.Matched != 5 || len(r.OnlyA)+len(r.OnlyB) != 0 {
		t.Errorf("matched %d, only in a %q, only in b %q; want all 5 matched", r.Matched, r.OnlyA, r.OnlyB)
	}
	// A line that one run has and the other lacks still counts.
	r = fuzzyCompare(a, b[:4])
	if len(r.OnlyA) != 1 || r.OnlyA[0] != "pie: #: parasite x" {
		t.Errorf("only in a: %q, want the parasite line", r.OnlyA)
	}
}
