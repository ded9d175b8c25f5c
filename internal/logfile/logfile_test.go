package logfile

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/logpack/logpack/fmtdb"
)

// The header layout is the one docs/FORMAT.md tables give, byte for byte.
func TestHeaderLayout(t *testing.T) {
	h := Header{TSKind: TSTSC, FileID: 0x1122334455667788, StartRealtimeNS: 1, StartMonoNS: 2, StartTS: 3, TSCHz: 4,
		FirstPID: 5, BuildID: 6, Tail: 7, Capacity: 8, Dropped: 9, NextSiteIndex: 10, Flags: FlagClosed, Exe: "/bin/x"}
	b := h.Append(nil)
	if len(b) != HeaderSize {
		t.Fatalf("%d bytes", len(b))
	}
	le := binary.LittleEndian
	checks := []struct {
		off  int
		got  uint64
		want uint64
	}{
		{8, uint64(le.Uint16(b[8:])), 2}, {10, uint64(le.Uint16(b[10:])), 4096}, {12, uint64(le.Uint32(b[12:])), 1},
		{16, le.Uint64(b[16:]), 0x1122334455667788}, {24, le.Uint64(b[24:]), 1}, {32, le.Uint64(b[32:]), 2},
		{40, le.Uint64(b[40:]), 3}, {48, le.Uint64(b[48:]), 4}, {56, uint64(le.Uint32(b[56:])), 5},
		{60, uint64(le.Uint32(b[60:])), uint64(FNV32(b[:60]))}, {64, le.Uint64(b[64:]), 6}, {72, le.Uint64(b[72:]), 7},
		{80, le.Uint64(b[80:]), 8}, {88, le.Uint64(b[88:]), 9}, {96, uint64(le.Uint32(b[96:])), 10}, {100, uint64(le.Uint32(b[100:])), 1},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("offset %d: %#x, want %#x", c.off, c.got, c.want)
		}
	}
	if string(b[:8]) != "LOGPACK\n" || string(b[104:111]) != "/bin/x\x00" {
		t.Errorf("magic or exe wrong")
	}
	got, err := ParseHeader(b)
	if err != nil {
		t.Fatal(err)
	}
	h.Version = 2
	if diff := cmp.Diff(&h, got); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	// Shared fields are outside the check: changing them keeps it valid.
	le.PutUint64(b[72:], 1<<20)
	if _, err := ParseHeader(b); err != nil {
		t.Errorf("tail changed: %v", err)
	}
}

// FNV-1a 32 test vectors.
func TestFNV32(t *testing.T) {
	for s, want := range map[string]uint32{"": 0x811c9dc5, "a": 0xe40c292c, "foobar": 0xbf9cf968} {
		if got := FNV32([]byte(s)); got != want {
			t.Errorf("FNV32(%q) = %#x, want %#x", s, got, want)
		}
	}
}

func TestChunkHeader(t *testing.T) {
	c := ChunkHeader{Size: 8192, PID: 1, TID: 2, BaseTS: 3, MonoNS: 4}
	b := c.Append(nil)
	if len(b) != ChunkHeaderSize || string(b[:4]) != "LPCK" || binary.LittleEndian.Uint32(b[32:]) != FNV32(b[:32]) {
		t.Fatalf("layout: % x", b)
	}
	got, err := ParseChunkHeader(b)
	if err != nil || got != c {
		t.Fatalf("round trip: %+v %v", got, err)
	}
	if _, err := ParseChunkHeader(make([]byte, 40)); !errors.Is(err, ErrUnused) {
		t.Errorf("zeros: %v", err)
	}
	inFlight := bytes.Clone(b)
	binary.LittleEndian.PutUint32(inFlight[32:], 0)
	if _, err := ParseChunkHeader(inFlight); !errors.Is(err, ErrUnused) {
		t.Errorf("header without its check yet: %v", err)
	}
	for name, mut := range map[string]func([]byte){
		"magic": func(b []byte) { b[0] = 'X' },
		"check": func(b []byte) { b[12] ^= 1 },
		"size": func(b []byte) {
			binary.LittleEndian.PutUint32(b[4:], 100)
			binary.LittleEndian.PutUint32(b[32:], FNV32(b[:32]))
		},
		"zero": func(b []byte) {
			binary.LittleEndian.PutUint32(b[4:], 0)
			binary.LittleEndian.PutUint32(b[32:], FNV32(b[:32]))
		},
	} {
		bad := bytes.Clone(b)
		mut(bad)
		if _, err := ParseChunkHeader(bad); !errors.Is(err, ErrBadChunk) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestFrame(t *testing.T) {
	long := append([]byte{255, 0x2c, 0x01}, make([]byte, 300)...)
	cases := []struct {
		in   []byte
		body int
		n    int
		err  error
	}{
		{nil, 0, 0, nil},
		{[]byte{0, 5}, 0, 0, nil},
		{[]byte{3, 16, 0, 2, 9}, 3, 4, nil},
		{[]byte{3, 16, 0}, 0, 0, ErrShort},
		{long, 300, 303, nil},
		{long[:200], 0, 0, ErrShort},
		{[]byte{255, 1}, 0, 0, ErrShort},
		{[]byte{255, 0, 0}, 0, 0, ErrFraming},
	}
	for _, c := range cases {
		body, n, err := Frame(c.in)
		if len(body) != c.body || n != c.n || err != c.err {
			t.Errorf("Frame(% x): body %d n %d err %v, want %d %d %v", c.in[:min(len(c.in), 4)], len(body), n, err, c.body, c.n, c.err)
		}
	}
}

// Every class decodes what AppendArg encodes; values that cannot come
// from the C runtime (a 33-bit int, a string longer than the record) are
// errors, not truncations.
func TestArgs(t *testing.T) {
	specs := []fmtdb.ArgSpec{{Class: fmtdb.ClassI32}, {Class: fmtdb.ClassU32}, {Class: fmtdb.ClassI64}, {Class: fmtdb.ClassU64},
		{Class: fmtdb.ClassF64}, {Class: fmtdb.ClassF80}, {Class: fmtdb.ClassStr}, {Class: fmtdb.ClassPtr}, {Class: fmtdb.ClassErrno},
		{Class: fmtdb.ClassStrMax}, {Class: fmtdb.ClassStr}}
	vals := []fmtdb.Value{fmtdb.Int(math.MinInt32), fmtdb.Uint(math.MaxUint32), fmtdb.Int(math.MinInt64), fmtdb.Uint(math.MaxUint64),
		fmtdb.Float64(-0.5), fmtdb.Float80(1<<63, 0x3fff), fmtdb.String("héllo"), fmtdb.Ptr(0xdeadbeef), fmtdb.Errno(2),
		fmtdb.String(""), fmtdb.Null()}
	var b []byte
	for _, v := range vals {
		b = AppendArg(b, v)
	}
	got, n, err := DecodeArgs(b, specs, nil)
	if err != nil || n != len(b) {
		t.Fatalf("n %d of %d, err %v", n, len(b), err)
	}
	if diff := cmp.Diff(vals, got); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	// Every prefix is an error, never a panic.
	for i := 0; i < len(b); i++ {
		if _, _, err := DecodeArgs(b[:i], specs, nil); err == nil {
			t.Errorf("prefix of %d bytes decoded", i)
		}
	}
	bad := [][]byte{
		AppendArg(nil, fmtdb.Int(1<<31)),                                   // i32 out of range
		binary.AppendUvarint(nil, 1<<40),                                   // string of 2^40 bytes
		{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, // varint too long
	}
	classes := []fmtdb.Class{fmtdb.ClassI32, fmtdb.ClassStr, fmtdb.ClassU64}
	for i, p := range bad {
		if _, _, err := DecodeArgs(p, []fmtdb.ArgSpec{{Class: classes[i]}}, nil); err == nil {
			t.Errorf("case %d decoded", i)
		}
	}
}

func TestZigzag(t *testing.T) {
	for _, v := range []int64{0, -1, 1, math.MinInt64, math.MaxInt64, -2147483648} {
		if got := Zigzag(ZigzagEncode(v)); got != v {
			t.Errorf("%d -> %d", v, got)
		}
	}
	if ZigzagEncode(-1) != 1 || ZigzagEncode(1) != 2 {
		t.Errorf("zigzag mapping")
	}
}

// TSC timestamps convert through the header's frequency when known, else
// through a fit of the calibration pairs; ts_kind 0 is already ns.
func TestClock(t *testing.T) {
	mono := Header{StartTS: 1000}
	c := NewClock(&mono, nil)
	if got := c.NS(3500); got != 2500 {
		t.Errorf("mono: %d", got)
	}
	hz := Header{TSKind: TSTSC, StartTS: 1_000_000, TSCHz: 3_000_000_000}
	c = NewClock(&hz, nil)
	if got := c.NS(1_000_000 + 3_000_000_000*2); got != 2_000_000_000 {
		t.Errorf("tsc with hz: %d", got)
	}
	fit := Header{TSKind: TSTSC, StartTS: 500, StartMonoNS: 10_000}
	pairs := []Pair{{TS: 500 + 2500, Mono: 10_000 + 1000}, {TS: 500 + 25_000_000, Mono: 10_000 + 10_000_000}}
	c = NewClock(&fit, pairs)
	if got := c.NS(500 + 2_500_000); got < 999_000 || got > 1_001_000 {
		t.Errorf("tsc fitted: %d, want about 1e6", got)
	}
	// A damaged pair far off the others' rate does not move the fit.
	pairs = append(pairs, Pair{TS: 500 + 50_000_000, Mono: 10_000 + 9_000_000_000})
	c = NewClock(&fit, pairs)
	if got := c.NS(500 + 2_500_000); got < 999_000 || got > 1_001_000 {
		t.Errorf("tsc fitted with an outlier: %d, want about 1e6", got)
	}
}

// The Writer's first site use stores the descriptor before the record,
// and a full chunk makes the thread claim the next one at the tail.
func TestWriterChunks(t *testing.T) {
	s := &fmtdb.Site{Level: 3, File: "a.c", Line: 1, Format: "%s\n", Args: []fmtdb.ArgSpec{{Class: fmtdb.ClassStr, BoundArg: -1}}}
	s.ID = fmtdb.SiteID(s)
	w := NewWriter(Header{FirstPID: 1}, 4096)
	th := w.Thread(1, 1)
	for i := 0; i < 20; i++ {
		th.Log(s, uint64(100+i), 0, fmtdb.String(string(make([]byte, 500))))
	}
	log := w.Bytes(0)
	h, err := ParseHeader(log)
	if err != nil {
		t.Fatal(err)
	}
	if h.Tail != uint64(len(log)) || h.NextSiteIndex != 17 || (len(log)-HeaderSize)%4096 != 0 || len(log) < HeaderSize+3*4096 {
		t.Errorf("tail %d next %d len %d", h.Tail, h.NextSiteIndex, len(log))
	}
	body, _, err := Frame(log[HeaderSize+ChunkHeaderSize:])
	if err != nil || body[0] != TagDescriptor || body[1] != 16 {
		t.Errorf("first record is not the descriptor: % x", body[:2])
	}
}

// Without a known frequency, ticks convert through the calibration pairs
// of all writers, whatever order they were found in: the mapping never
// goes back, even through jittery pairs, repeated ticks and pairs read
// across a preemption, and it passes within the jitter of every good pair
// while the damaged ones are ignored.
func TestClockThroughPairs(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := 0; round < 50; round++ {
		h := Header{TSKind: TSTSC, StartTS: 1 << 40, StartMonoNS: 1 << 33}
		truth := func(ts uint64) uint64 { return h.StartMonoNS + uint64(float64(ts-h.StartTS)/3) }
		var pairs []Pair
		bad := map[Pair]bool{}
		for i := 0; i < 2+round*4; i++ {
			ts := h.StartTS + rng.Uint64N(1<<34)
			p := Pair{TS: ts, Mono: truth(ts) + rng.Uint64N(200)}
			if rng.IntN(10) == 0 {
				p.Mono += 50_000 + rng.Uint64N(10_000_000) // preempted between the reads
				bad[p] = true
			}
			pairs = append(pairs, p)
			if rng.IntN(10) == 0 {
				pairs = append(pairs, Pair{TS: ts, Mono: truth(ts) + rng.Uint64N(200)})
			}
		}
		c := NewClock(&h, pairs)
		probes := []uint64{h.StartTS - 1000, h.StartTS}
		for _, p := range pairs {
			probes = append(probes, p.TS-1, p.TS, p.TS+1)
		}
		for i := 0; i < 1000; i++ {
			probes = append(probes, h.StartTS+rng.Uint64N(1<<35))
		}
		slices.Sort(probes)
		seg, prev := 0, int64(math.MinInt64)
		for _, ts := range probes {
			ns := c.NSAt(ts, &seg)
			if ns < prev {
				t.Fatalf("round %d: tick %d converts to %d ns, an earlier tick to %d", round, ts, ns, prev)
			}
			if again := c.NS(ts); again != ns {
				t.Fatalf("round %d: tick %d: NS %d, NSAt %d", round, ts, again, ns)
			}
			prev = ns
		}
		if len(pairs) < 10 {
			continue // too few neighbours to outvote the damage
		}
		for _, p := range pairs {
			want := int64(truth(p.TS) - h.StartMonoNS)
			if got := c.NS(p.TS); !bad[p] && (got < want-400 || got > want+400) {
				t.Errorf("round %d: good pair at tick %d: %d ns, want %d", round, p.TS, got, want)
			}
		}
	}
}
