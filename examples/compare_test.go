package examples

import (
	"strings"
	"testing"
)

func TestNormalize(t *testing.T) {
	pids := map[string]string{}
	for _, c := range []struct{ in, want string }{
		{"(00.000162) CRIU run id = 9a21", "(TS) CRIU run id = 9a21"},
		{"(123.000001) x", "(TS) x"},
		{"(00.220811)  11501: Parsed 7f7c-7f7d vma", "(TS)     P1: Parsed 7f7c-7f7d vma"},
		{"(00.220811) 1234567: x", "(TS)     P2: x"},
		{"(00.220811)  11501: y", "(TS)     P1: y"},
		{"  11501: Warn  (criu/cr-restore.c:45): Task", "    P1: Warn  (criu/cr-restore.c:45): Task"},
		// Not prefixes: too narrow, no space, wrong digit counts.
		{"12899 fdinfo 0: pos: 0", "12899 fdinfo 0: pos: 0"},
		{"(00.2208) x", "(00.2208) x"},
		{"(0.220811) x", "(0.220811) x"},
		{"   12: x", "   12: x"},
		{"", ""},
	} {
		if got := Normalize(c.in, pids); got != c.want {
			t.Errorf("Normalize(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestCompare(t *testing.T) {
	text := []string{"(00.000001) a", "(00.000002)   4242: b", "(00.000003) c"}
	same := []string{"(00.100001) a", "(00.100002)   9999: b", "(00.100003) c"}
	if n, d := Compare(text, same, 10); n != 3 || len(d) != 0 {
		t.Errorf("Compare(same) = %d, %v", n, d)
	}
	other := []string{"(00.100001) a", "(00.100002)   9999: B"}
	n, d := Compare(text, other, 10)
	if n != 3 || len(d) != 2 || d[0].Line != 2 || d[1].Got != "<missing>" {
		t.Errorf("Compare(other) = %d, %+v", n, d)
	}
	// Two distinct children must not be folded into one.
	a := []string{"(00.000001)   4242: x", "(00.000002)   4243: x"}
	b := []string{"(00.000001)   5000: x", "(00.000002)   5000: x"}
	if _, d := Compare(a, b, 10); len(d) != 1 || !strings.Contains(d[0].Want, "P2") {
		t.Errorf("pids of different tasks compared equal: %+v", d)
	}
}
