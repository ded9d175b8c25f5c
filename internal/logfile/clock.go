package logfile

import (
	"math"
	"math/bits"
	"slices"
)

// Pair is a calibration pair: a timestamp in the log's units and the
// CLOCK_MONOTONIC nanoseconds read at the same moment.
type Pair struct{ TS, Mono uint64 }

// Clock converts record timestamps to nanoseconds since the log started.
type Clock struct {
	kind      uint32
	startTS   uint64
	startMono uint64
	hz        uint64
	slope     float64 // ns per tick, from calibration pairs
}

// NewClock returns the conversion for a log with header h. For TSC logs
// without a known frequency, the rate is a least-squares fit through the
// header's start pair of the calibration pairs (chunk headers and clock
// records) whose own rate is within 1% of the median: one damaged pair
// cannot skew it. Ticks are taken as nanoseconds if there are no pairs.
func NewClock(h *Header, pairs []Pair) Clock {
	c := Clock{kind: h.TSKind, startTS: h.StartTS, startMono: h.StartMonoNS, hz: h.TSCHz, slope: 1}
	if c.kind != TSTSC || c.hz != 0 {
		return c
	}
	rates := make([]float64, 0, len(pairs))
	for _, p := range pairs {
		dx := float64(int64(p.TS - h.StartTS))
		dy := float64(int64(p.Mono - h.StartMonoNS))
		if dx > 0 && dy > 0 {
			rates = append(rates, dy/dx)
		}
	}
	if len(rates) == 0 {
		return c
	}
	slices.Sort(rates)
	med := rates[len(rates)/2]
	var sxy, sxx float64
	for _, p := range pairs {
		dx := float64(int64(p.TS - h.StartTS))
		dy := float64(int64(p.Mono - h.StartMonoNS))
		if dx > 0 && dy > 0 && math.Abs(dy/dx-med) <= 0.01*med {
			sxy += dx * dy
			sxx += dx * dx
		}
	}
	c.slope = med
	if sxx > 0 && sxy > 0 {
		c.slope = sxy / sxx
	}
	return c
}

// NSFrom returns ts in nanoseconds since the log's start, measured from
// the closest calibration pair before it in the same writer's stream
// (its chunk header or a clock record): for TSC logs without a known
// frequency, the fitted rate then only scales the short distance from
// that pair, so the error stays below a microsecond however long the run.
func (c *Clock) NSFrom(ts uint64, anchor Pair) int64 {
	if c.kind != TSTSC {
		return int64(ts - c.startTS) // kept small enough to inline
	}
	return c.tscFrom(ts, anchor)
}

func (c *Clock) tscFrom(ts uint64, anchor Pair) int64 {
	if c.hz != 0 || anchor.TS == 0 && anchor.Mono == 0 {
		return c.NS(ts)
	}
	return int64(anchor.Mono-c.startMono) + int64(float64(int64(ts-anchor.TS))*c.slope)
}

// NS returns ts in nanoseconds since the log's start.
func (c *Clock) NS(ts uint64) int64 {
	d := int64(ts - c.startTS)
	if c.kind != TSTSC {
		return d
	}
	if c.hz != 0 {
		neg := d < 0
		u := uint64(d)
		if neg {
			u = uint64(-d)
		}
		hi, lo := bits.Mul64(u, 1e9)
		if hi >= c.hz {
			return math.MaxInt64
		}
		q, _ := bits.Div64(hi, lo, c.hz)
		if q > math.MaxInt64 {
			q = math.MaxInt64
		}
		if neg {
			return -int64(q)
		}
		return int64(q)
	}
	return int64(float64(d) * c.slope)
}
