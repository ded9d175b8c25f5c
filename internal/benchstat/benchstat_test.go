package benchstat

import (
	"os/exec"
	"testing"
)

func TestMedian(t *testing.T) {
	for _, c := range []struct {
		in   []float64
		want float64
	}{{nil, 0}, {[]float64{3}, 3}, {[]float64{5, 1, 3}, 3}, {[]float64{4, 1, 3, 2}, 2.5}} {
		in := append([]float64(nil), c.in...)
		if got := Median(in); got != c.want {
			t.Errorf("Median(%v) = %v, want %v", c.in, got, c.want)
		}
		for i := range in {
			if in[i] != c.in[i] {
				t.Errorf("Median(%v) reordered its argument to %v", c.in, in)
			}
		}
	}
}

func TestPairedDelta(t *testing.T) {
	// b is a plus a constant 2 plus noise that is symmetric round by round:
	// the median difference is -2, and the interval holds it and not 0.
	a := make([]float64, 41)
	b := make([]float64, 41)
	for i := range a {
		noise := float64(i%5 - 2)
		a[i] = 100 + float64(i*7%13)
		b[i] = a[i] + 2 + noise
	}
	m, lo, hi := PairedDelta(a, b)
	if m != -2 || lo > m || hi < m || hi >= 0 {
		t.Errorf("PairedDelta = %v [%v, %v], want -2 inside an interval below 0", m, lo, hi)
	}
	if m2, lo2, hi2 := PairedDelta(a, b); m2 != m || lo2 != lo || hi2 != hi {
		t.Errorf("PairedDelta is not repeatable: %v [%v, %v] then %v [%v, %v]", m, lo, hi, m2, lo2, hi2)
	}
	if m, lo, hi := PairedDelta(a, a); m != 0 || lo != 0 || hi != 0 {
		t.Errorf("PairedDelta(a, a) = %v [%v, %v], want 0 [0, 0]", m, lo, hi)
	}
}

func TestCPU(t *testing.T) {
	cmd := exec.Command("sh", "-c", "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done")
	if err := cmd.Run(); err != nil {
		t.Skip(err)
	}
	us, flt, rss := CPU(cmd.ProcessState)
	if us <= 0 || flt <= 0 || rss <= 0 {
		t.Errorf("CPU of a busy shell = %v µs, %d faults, %d KiB; want all above 0", us, flt, rss)
	}
}
