// Package benchstat holds what logpack's benchmark commands (bench/whole,
// examples/criubench) measure processes with: a finished process's CPU
// time, medians, and the median of paired differences with a bootstrap
// interval.
package benchstat

import (
	"math/rand/v2"
	"os"
	"slices"
	"syscall"
)

// CPU returns the user+system CPU time of a finished process in
// microseconds (its reaped children included, as wait4 reports it), its
// minor page faults and its peak resident set in KiB.
func CPU(ps *os.ProcessState) (us float64, minflt, maxrssKiB int64) {
	ru, ok := ps.SysUsage().(*syscall.Rusage)
	if !ok {
		return 0, 0, 0
	}
	tv := func(t syscall.Timeval) float64 { return float64(t.Sec)*1e6 + float64(t.Usec) }
	return tv(ru.Utime) + tv(ru.Stime), ru.Minflt, ru.Maxrss
}

// Median returns the median of v (the mean of the middle two for an even
// count), 0 for none. v is not changed.
func Median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// PairedDelta returns the median of the differences a[i]-b[i] of two
// series measured round by round, with a 95% percentile bootstrap
// interval of it. The resampling is seeded: the same data give the same
// interval.
func PairedDelta(a, b []float64) (median, lo, hi float64) {
	n := min(len(a), len(b))
	if n == 0 {
		return 0, 0, 0
	}
	d := make([]float64, n)
	for i := range d {
		d[i] = a[i] - b[i]
	}
	rng := rand.New(rand.NewPCG(1, 2))
	const resamples = 2000
	meds := make([]float64, resamples)
	s := make([]float64, n)
	for r := range meds {
		for i := range s {
			s[i] = d[rng.IntN(n)]
		}
		meds[r] = Median(s)
	}
	slices.Sort(meds)
	return Median(d), meds[resamples*25/1000], meds[resamples*975/1000]
}
