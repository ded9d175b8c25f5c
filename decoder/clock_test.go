package decoder

import (
	"bytes"
	"testing"

	"github.com/logpack/logpack/fmtdb"
	"github.com/logpack/logpack/internal/logfile"
)

// trueMono is the CLOCK_MONOTONIC reading at a tick of the synthetic TSC
// below: 0.4 ns per tick, 500 ppm faster from the calibration pair at tick
// 1_050_001_000 on (a slew), so no single rate fits the whole run.
func trueMono(ts uint64) uint64 {
	const knee = 1_050_001_000
	if ts <= knee {
		return 5000 + (ts-1000)*2/5
	}
	return trueMono(knee) + (ts-knee)*4002/10000
}

// TSC ticks without a known frequency convert through the calibration
// pairs (chunk headers and clock records) of all writers: a writer whose
// ticks do not go back gets times that do not go back, also where its next
// chunk starts, each time lies within a few ns of the true clock, and a
// damaged pair far off the others is ignored. Converting from the last
// pair with the fitted rate instead stepped back by about 40 µs at the
// chunk boundary after the slew.
func TestTSCTimesFollowThePairs(t *testing.T) {
	w := logfile.NewWriter(logfile.Header{FirstPID: 1, TSKind: logfile.TSTSC, StartTS: 1000, StartMonoNS: 5000}, 4096)
	a, b := w.Thread(1, 1), w.Thread(1, 2)
	a.Mono, b.Mono = trueMono, trueMono
	var ticks []uint64
	for ts := uint64(1000); ts < 3_000_000_000; ts += 7_000_000 {
		ticks = append(ticks, ts)
	}
	for i, ts := range ticks {
		switch {
		case i == 0:
			a.Claim(ts)
		case i == 25:
			b.Claim(ts + 1)
		case i%100 == 50:
			a.Log(siteHello, ts-500, 0, fmtdb.Int(-1)) // 200 ns before the pair
			a.Claim(ts)                                // a new chunk, and with it a calibration pair
		case i == 320:
			b.Clock(ts, trueMono(ts)+3_000_000) // read across a 3 ms preemption
		}
		a.Log(siteHello, ts, 0, fmtdb.Int(int64(i)))
		if i%50 == 25 {
			b.Log(siteHello, ts+1, 0, fmtdb.Int(int64(i)))
		}
	}
	log := w.Bytes(0)
	d, err := New(bytes.NewReader(log), int64(len(log)), nil)
	if err != nil {
		t.Fatal(err)
	}
	last := map[uint32]int64{}
	n := 0
	for r, err := range d.Records() {
		if err != nil {
			t.Fatal(err)
		}
		n++
		if prev, ok := last[r.TID]; ok && r.TS < prev {
			t.Errorf("thread %d: time goes back from %d to %d ns at tick %d", r.TID, prev, r.TS, r.raw)
		}
		last[r.TID] = r.TS
		// Exact between pairs up to rounding; past the last one (tick
		// 2_450_001_000) the mean rate extrapolates, off by the slew.
		want := int64(trueMono(r.raw) - 5000)
		if diff := r.TS - want; r.raw <= 2_450_001_000 && (diff < -5 || diff > 5) {
			t.Errorf("thread %d, tick %d: %d ns, want %d", r.TID, r.raw, r.TS, want)
		}
	}
	if want := len(ticks) + (len(ticks)+24)/50 + (len(ticks)+49)/100; n != want {
		t.Errorf("%d records, want %d", n, want)
	}
}
