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
//
// For TSC logs without a known frequency the conversion is piecewise
// linear through the calibration pairs (knots), sorted on the TSC axis:
// the TSC is one machine-wide counter, so every writer shares the one
// mapping, which passes through each kept pair (no drift however long the
// run) and never decreases (a writer whose ticks do not go back gets times
// that do not go back, also across its chunk boundaries). Beyond the first
// and last pair it extends with the mean rate between them.
type Clock struct {
	kind      uint32
	startTS   uint64
	startMono uint64
	hz        uint64
	slope     float64 // ns per tick, from calibration pairs
	knots     []knot
}

// knot is a kept calibration pair: ns since the start at tick ts, and the
// rate (ns per tick) up to the next knot.
type knot struct {
	ts   uint64
	ns   int64
	rate float64
}

// The outlier test: two pairs agree if their offsets from the fitted line
// differ by at most pairNoise plus pairDrift times their distance
// (CLOCK_MONOTONIC is slewed by at most 500 ppm, so rates differ by at
// most 1000 ppm from one another, and from the median). A pair that disagrees
// with most of its pairNeighbors on either side is damaged, or was read
// across a preemption, and is not used.
const (
	pairNoise     = 2000 // ns
	pairDrift     = 2e-3
	pairNeighbors = 4 // on each side
)

// NewClock returns the conversion for a log with header h. For TSC logs
// without a known frequency, the rate is a least-squares fit through the
// header's start pair of the calibration pairs (chunk headers and clock
// records) whose own rate is within 1% of the median: one damaged pair
// cannot skew it. The knots are the start pair and the calibration pairs
// that agree with most of their neighbours (see pairNoise); of pairs that would
// make the mapping go back, the later one is dropped. Ticks are taken as
// nanoseconds if there are no pairs.
func NewClock(h *Header, pairs []Pair) Clock {
	c := Clock{kind: h.TSKind, startTS: h.StartTS, startMono: h.StartMonoNS, hz: h.TSCHz, slope: 1}
	if c.kind != TSTSC || c.hz != 0 {
		return c
	}
	c.knots = []knot{{ts: h.StartTS, rate: 1}}
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
	c.knots = c.fitKnots(pairs, med)
	return c
}

// fitKnots selects and orders the knots among the start pair and pairs.
// The outlier test measures offsets from the line of the median rate: a
// least-squares rate can be pulled by the outliers it is to find.
func (c *Clock) fitKnots(pairs []Pair, rate float64) []knot {
	type cand struct {
		x, y float64 // ticks and ns since the start
		ts   uint64
		ns   int64
		res  float64 // y off the fitted line, in ns
	}
	cs := make([]cand, 0, len(pairs)+1)
	add := func(p Pair) {
		x, ns := float64(int64(p.TS-c.startTS)), int64(p.Mono-c.startMono)
		cs = append(cs, cand{x: x, y: float64(ns), ts: p.TS, ns: ns, res: float64(ns) - x*rate})
	}
	add(Pair{c.startTS, c.startMono})
	for _, p := range pairs {
		add(p)
	}
	// Sorted by signed distance from the start: an early buffer's pairs
	// lie before it.
	slices.SortStableFunc(cs, func(a, b cand) int {
		switch {
		case a.x < b.x:
			return -1
		case a.x > b.x:
			return 1
		}
		return 0
	})
	keep := cs[:0:0]
	for i, p := range cs {
		near, agree := 0, 0
		for j := max(0, i-pairNeighbors); j <= min(len(cs)-1, i+pairNeighbors); j++ {
			if j != i {
				near++
				if math.Abs(p.res-cs[j].res) <= pairNoise+pairDrift*math.Abs(cs[j].x-p.x)*rate {
					agree++
				}
			}
		}
		if near >= 2 && 2*agree < near {
			continue // off the line its neighbours agree on
		}
		if n := len(keep); n > 0 && (p.x <= keep[n-1].x || p.ns < keep[n-1].ns) {
			continue // a repeated tick, or time going back
		}
		keep = append(keep, p)
	}
	ks := make([]knot, len(keep))
	for i, p := range keep {
		ks[i] = knot{ts: p.ts, ns: p.ns, rate: c.slope}
		if i > 0 {
			ks[i-1].rate = (p.y - keep[i-1].y) / (p.x - keep[i-1].x)
		}
	}
	if len(ks) == 0 { // every pair is beyond float precision: keep the line
		ks = append(ks, knot{ts: c.startTS, rate: c.slope})
	}
	if n := len(keep); n > 1 {
		// Beyond the ends, the mean rate of the kept pairs: the
		// least-squares fit may include outliers within 1%.
		c.slope = (keep[n-1].y - keep[0].y) / (keep[n-1].x - keep[0].x)
		ks[n-1].rate = c.slope
	}
	return ks
}

// NSAt returns ts in nanoseconds since the log's start. seg caches the
// knot segment of the caller's previous timestamp: a writer's timestamps
// mostly grow, so the search mostly stays put. Start it at 0.
func (c *Clock) NSAt(ts uint64, seg *int) int64 {
	if c.kind != TSTSC {
		return int64(ts - c.startTS) // kept small enough to inline
	}
	return c.tscAt(ts, seg)
}

func (c *Clock) tscAt(ts uint64, seg *int) int64 {
	k := c.knots
	if c.hz != 0 || len(k) == 0 {
		return c.NS(ts)
	}
	x := int64(ts - c.startTS) // signed ticks since the start, the knots' order
	i := *seg
	if i < 0 || i >= len(k) || x < int64(k[i].ts-c.startTS) {
		i = c.find(x)
	} else if i+1 < len(k) && x >= int64(k[i+1].ts-c.startTS) {
		i++
		if i+1 < len(k) && x >= int64(k[i+1].ts-c.startTS) {
			i = c.find(x)
		}
	}
	*seg = i
	if i < 0 {
		return k[0].ns - int64(float64(int64(k[0].ts-ts))*c.slope)
	}
	ns := k[i].ns + int64(float64(int64(ts-k[i].ts))*k[i].rate)
	if i+1 < len(k) {
		ns = min(ns, k[i+1].ns) // rounding never steps over the next knot
	}
	return ns
}

// find returns the last knot at or before x ticks since the start, or -1.
func (c *Clock) find(x int64) int {
	k := c.knots
	lo, hi := 0, len(k) // k[:lo] are at or before x, k[hi:] after
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if int64(k[m].ts-c.startTS) <= x {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo - 1
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
	if len(c.knots) == 0 {
		return int64(float64(d) * c.slope)
	}
	seg := -1
	return c.tscAt(ts, &seg)
}
