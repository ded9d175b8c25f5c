package logfile

import (
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/logpack/logpack/fmtdb"
)

// DecodeArgs's fast loop and its careful one agree on every input: the
// same values, the same length, an error exactly when the careful loop
// reports one. Inputs are random argument lists over short, mostly
// one- and two-byte varints, valid or not.
func TestArgsFastAgrees(t *testing.T) {
	classes := []fmtdb.Class{fmtdb.ClassI32, fmtdb.ClassU32, fmtdb.ClassI64, fmtdb.ClassU64, fmtdb.ClassPtr,
		fmtdb.ClassErrno, fmtdb.ClassStr, fmtdb.ClassStrMax, fmtdb.ClassF64, fmtdb.ClassF80}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		specs := make([]fmtdb.ArgSpec, rng.IntN(5))
		for i := range specs {
			specs[i].Class = classes[rng.IntN(len(classes))]
		}
		p := make([]byte, rng.IntN(12))
		for i := range p {
			switch rng.IntN(4) {
			case 0:
				p[i] = byte(rng.IntN(8))
			case 1:
				p[i] = 0x80 | byte(rng.IntN(128))
			default:
				p[i] = byte(rng.IntN(256))
			}
		}
		prefix := []fmtdb.Value{fmtdb.Int(7)}
		got, n, err := DecodeArgs(p, specs, prefix)
		want, wn, werr := decodeArgsSlow(p, specs, append(append([]fmtdb.Value(nil), prefix...), make([]fmtdb.Value, len(specs))...), 1)
		if (err == nil) != (werr == nil) || n != wn {
			t.Fatalf("%x %v: got n %d err %v, want n %d err %v", p, specs, n, err, wn, werr)
		}
		if err == nil {
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("%x %v (-careful +fast):\n%s", p, specs, diff)
			}
		}
	}
}

// Ten-byte varints carry at most bit 63 in their last byte; more is
// damage, in either loop.
func TestArgsLongVarints(t *testing.T) {
	specs := []fmtdb.ArgSpec{{Class: fmtdb.ClassU64}}
	for _, v := range []uint64{1 << 14, 1<<21 - 1, 0x7f1b731c8000, 1 << 63, ^uint64(0)} {
		got, n, err := DecodeArgs(AppendArg(nil, fmtdb.Uint(v)), specs, nil)
		if err != nil || got[0].Bits != v {
			t.Errorf("%#x: got %v n %d err %v", v, got, n, err)
		}
	}
	over := []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02}
	if _, _, err := DecodeArgs(over, specs, nil); err == nil {
		t.Errorf("%x (over 64 bits) decoded", over)
	}
}
