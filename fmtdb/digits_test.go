package fmtdb

import (
	"strconv"
	"testing"
)

// The in-place digit writers must agree with strconv at every digit
// count boundary.
func TestAppendDigits(t *testing.T) {
	var xs []uint64
	for p := uint64(1); ; p *= 10 {
		xs = append(xs, p-1, p, p+1)
		if p > ^uint64(0)/10 {
			break
		}
	}
	for s := 0; s < 64; s++ {
		xs = append(xs, 1<<s, 1<<s-1)
	}
	xs = append(xs, ^uint64(0), ^uint64(0)-1)
	for _, x := range xs {
		if got, want := string(appendDec([]byte("a"), x)), "a"+strconv.FormatUint(x, 10); got != want {
			t.Errorf("appendDec(%d) = %q, want %q", x, got, want)
		}
		if got, want := decLen(x), len(strconv.FormatUint(x, 10)); got != want {
			t.Errorf("decLen(%d) = %d, want %d", x, got, want)
		}
		if got, want := string(appendHex([]byte("a"), x)), "a"+strconv.FormatUint(x, 16); got != want {
			t.Errorf("appendHex(%#x) = %q, want %q", x, got, want)
		}
	}
}
