package logfile

import (
	"cmp"
	"math"
	"math/bits"
	"slices"
)

// Pair is a calibration pair: a timestamp in the log's units and the
// CLOCK_MONOTONIC nanoseconds read at the same moment. Stream, if not 0,
// names the thread of one process that read it: the pairs of one stream
// were read one after the other on one clock, so they measure the TSC's
// rate even where streams read CLOCK_MONOTONIC with different offsets
// (processes in different time namespaces).
type Pair struct {
	TS, Mono uint64
	Stream   uint32
}

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
	others    int // pairs of another CLOCK_MONOTONIC offset, left out
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
// without a known frequency:
//
//   - The rate comes from the streams' own pairs (Pair.Stream): the
//     rates between consecutive pairs of one stream, their median
//     weighted by the ticks between them, then the mean over the
//     intervals that agree with it (see pairNoise). A stream reads one
//     clock, so its rate is right even when streams disagree on what
//     CLOCK_MONOTONIC reads: processes in time namespaces of their own
//     see it shifted by a constant. Without two pairs in any stream, the
//     rate is a least-squares fit through the header's start pair of the
//     pairs whose own rate is within 1% of the median.
//   - A stream's pairs are split into runs where the offset between them
//     jumps (a process that enters another time namespace), and the runs
//     whose offset differs from that of the pairs before them (the start
//     pair's, first) are left out (see sameOffset): the TSC is one
//     machine-wide counter, so times follow the ticks whatever namespace
//     read the other clock, and are never compared across offsets.
//   - The knots are the start pair and the pairs kept that agree with
//     most of their neighbours (see pairNoise); of pairs that would make
//     the mapping go back, the later one is dropped. Beyond the first and
//     last knot, times extend at the mean rate between them if they span
//     most of the pairs' ticks, else at the fitted rate.
//
// Ticks are taken as nanoseconds if there are no pairs.
func NewClock(h *Header, pairs []Pair) Clock {
	c := Clock{kind: h.TSKind, startTS: h.StartTS, startMono: h.StartMonoNS, hz: h.TSCHz, slope: 1}
	if c.kind != TSTSC || c.hz != 0 {
		return c
	}
	c.knots = []knot{{ts: h.StartTS, rate: 1}}
	med, slope, ok := streamRate(pairs)
	if !ok {
		med, slope, ok = c.startRate(pairs)
	}
	if !ok {
		return c
	}
	c.slope = slope
	span := 0.0 // the pairs' ticks, from the start pair
	for _, p := range pairs {
		span = max(span, float64(int64(p.TS-c.startTS)))
	}
	pairs, c.others = c.sameOffset(pairs, med)
	c.knots = c.fitKnots(pairs, med, span)
	return c
}

// Others returns how many calibration pairs NewClock left out as reading
// CLOCK_MONOTONIC with another offset than the start pair (or damaged).
func (c *Clock) Others() int { return c.others }

// streamRate measures the rate (ns per tick) between consecutive pairs of
// each stream: it returns the median weighted by ticks, and the mean over
// the intervals that agree with it.
func streamRate(pairs []Pair) (med, mean float64, ok bool) {
	idx := make([]int, 0, len(pairs))
	for i, p := range pairs {
		if p.Stream != 0 {
			idx = append(idx, i)
		}
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		pa, pb := &pairs[a], &pairs[b]
		if pa.Stream != pb.Stream {
			return cmp.Compare(uint64(pa.Stream), uint64(pb.Stream))
		}
		return cmp.Compare(pa.TS, pb.TS)
	})
	type interval struct{ dx, dy, rate float64 }
	var ivs []interval
	total := 0.0
	for k := 1; k < len(idx); k++ {
		a, b := &pairs[idx[k-1]], &pairs[idx[k]]
		if a.Stream != b.Stream {
			continue
		}
		dx, dy := float64(int64(b.TS-a.TS)), float64(int64(b.Mono-a.Mono))
		if dx > 0 {
			ivs = append(ivs, interval{dx, dy, dy / dx})
			total += dx
		}
	}
	if len(ivs) == 0 {
		return 0, 0, false
	}
	slices.SortFunc(ivs, func(a, b interval) int { return cmp.Compare(a.rate, b.rate) })
	sum := 0.0
	for _, iv := range ivs {
		sum += iv.dx
		if 2*sum >= total {
			med = iv.rate
			break
		}
	}
	if !(med > 0) || math.IsInf(med, 0) {
		return 0, 0, false
	}
	var sx, sy float64
	for _, iv := range ivs {
		if math.Abs(iv.dy-med*iv.dx) <= pairNoise+pairDrift*med*iv.dx {
			sx += iv.dx
			sy += iv.dy
		}
	}
	mean = med
	if sx > 0 && sy > 0 {
		mean = sy / sx
	}
	return med, mean, true
}

// startRate is the rate from the start pair to each pair: the median,
// and a least-squares fit of the pairs within 1% of it.
func (c *Clock) startRate(pairs []Pair) (med, slope float64, ok bool) {
	rates := make([]float64, 0, len(pairs))
	for _, p := range pairs {
		dx := float64(int64(p.TS - c.startTS))
		dy := float64(int64(p.Mono - c.startMono))
		if dx > 0 && dy > 0 {
			rates = append(rates, dy/dx)
		}
	}
	if len(rates) == 0 {
		return 0, 0, false
	}
	slices.Sort(rates)
	med = rates[len(rates)/2]
	var sxy, sxx float64
	for _, p := range pairs {
		dx := float64(int64(p.TS - c.startTS))
		dy := float64(int64(p.Mono - c.startMono))
		if dx > 0 && dy > 0 && math.Abs(dy/dx-med) <= 0.01*med {
			sxy += dx * dy
			sxx += dx * dx
		}
	}
	slope = med
	if sxx > 0 && sxy > 0 {
		slope = sxy / sxx
	}
	return med, slope, true
}

// offsetWindow is how many of the latest pairs of the start pair's offset
// the offset of a run is compared with (their median: one damaged pair
// among them does not decide).
const offsetWindow = 5

// sameOffset returns the pairs that read CLOCK_MONOTONIC with the start
// pair's offset, and how many others it left out. A run is a stream's
// pairs between jumps of their offset (their distance from the line of
// the given rate); pairs without a stream are runs of their own. Going
// through the pairs in tick order from the start pair, a run is kept if
// its first pair's offset agrees with the median of the latest kept
// pairs, within pairNoise and pairDrift over the ticks since the latest.
// The runs left out read the clock with another offset (another time
// namespace), or are damaged: they measure the rate (streamRate), but
// where they lie, times come from the kept pairs around them.
func (c *Clock) sameOffset(pairs []Pair, rate float64) ([]Pair, int) {
	n := len(pairs)
	res := make([]float64, n)
	for i, p := range pairs {
		res[i] = float64(int64(p.Mono-c.startMono)) - float64(int64(p.TS-c.startTS))*rate
	}
	// Runs: by stream, in tick order, split where the offset jumps.
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		pa, pb := &pairs[a], &pairs[b]
		if pa.Stream != pb.Stream {
			return cmp.Compare(uint64(pa.Stream), uint64(pb.Stream))
		}
		return cmp.Compare(pa.TS-c.startTS+1<<63, pb.TS-c.startTS+1<<63) // signed ticks since the start
	})
	run := make([]int, n)
	var runOffset []float64 // the offset of a run's first pair
	for k, i := range idx {
		p := &pairs[i]
		newRun := k == 0 || p.Stream == 0
		if !newRun {
			q := pairs[idx[k-1]]
			dx := math.Abs(float64(int64(p.TS - q.TS)))
			newRun = q.Stream != p.Stream || math.Abs(res[i]-res[idx[k-1]]) > pairNoise+pairDrift*rate*dx
		}
		if newRun {
			runOffset = append(runOffset, res[i])
		}
		run[i] = len(runOffset) - 1
	}
	// The sweep in tick order.
	slices.SortStableFunc(idx, func(a, b int) int {
		return cmp.Compare(pairs[a].TS-c.startTS+1<<63, pairs[b].TS-c.startTS+1<<63)
	})
	const undecided, kept = 0, 1
	state := make([]uint8, len(runOffset)) // undecided, kept, or shifted (2)
	win := []float64{0}                    // offsets of the latest kept pairs; the start pair's is 0
	lastTS := c.startTS
	var med [offsetWindow]float64
	nshifted := 0
	for _, i := range idx {
		p := &pairs[i]
		r := run[i]
		if state[r] == undecided {
			m := med[:copy(med[:], win)]
			slices.Sort(m)
			ref := m[len(m)/2]
			dx := math.Abs(float64(int64(p.TS - lastTS)))
			if d := runOffset[r] - ref; math.Abs(d) <= pairNoise+pairDrift*rate*dx {
				state[r] = kept
			} else {
				state[r] = 2
			}
		}
		if state[r] == kept {
			if len(win) == offsetWindow {
				copy(win, win[1:])
				win = win[:offsetWindow-1]
			}
			win = append(win, res[i])
			lastTS = p.TS
			continue
		}
		nshifted++
	}
	if nshifted == 0 {
		return pairs, 0
	}
	out := make([]Pair, 0, n-nshifted)
	for i, p := range pairs {
		if state[run[i]] == kept {
			out = append(out, p)
		}
	}
	return out, nshifted
}

// fitKnots selects and orders the knots among the start pair and pairs.
// The outlier test measures offsets from the line of the median rate: a
// least-squares rate can be pulled by the outliers it is to find.
func (c *Clock) fitKnots(pairs []Pair, rate, span float64) []knot {
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
	add(Pair{TS: c.startTS, Mono: c.startMono})
	for _, p := range pairs {
		add(p)
	}
	// Sorted by signed distance from the start: an early buffer's pairs
	// lie before it.
	slices.SortStableFunc(cs, func(a, b cand) int { return cmp.Compare(a.x, b.x) })
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
	if n := len(keep); n > 1 && 2*(keep[n-1].x-keep[0].x) >= span {
		// Beyond the ends, the mean rate of the kept pairs: the
		// least-squares fit may include outliers within 1%.
		c.slope = (keep[n-1].y - keep[0].y) / (keep[n-1].x - keep[0].x)
	}
	if n := len(ks); n > 0 {
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
