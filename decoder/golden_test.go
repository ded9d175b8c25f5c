package decoder

import (
	"bytes"
	"flag"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/logpack/logpack/fmtdb"
	"github.com/logpack/logpack/internal/logfile"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// featureLog exercises every record kind and argument class: several
// processes and threads, a descriptor stored after the first record that
// uses it (by another thread), runtime levels, NULL and empty strings,
// errno, floats, long doubles, clock, process and dropped records, a
// prefix site (the child's lines start with its pid, as after CRIU's
// log_init_by_pid) and a record big enough for the escaped length, whose
// string was cut.
func featureLog() []byte {
	w := newLog(100)
	main := w.Thread(100, 100)
	worker := w.Thread(100, 101)
	child := w.Thread(200, 200)
	main.Process(1100, proc(1, logfile.ProcStarted, "/usr/sbin/criu", "criu", "dump"))
	main.Log(siteNone, 1200, 0)
	main.Log(siteHello, 1500, 0, fmtdb.Int(-42))
	// The worker uses a site whose descriptor the main thread stores later.
	late := site(4, "criu/late.c", 9, "late %s|%5s|%-6s|%.2s\n", fmtdb.ClassStr, fmtdb.ClassStr, fmtdb.ClassStr, fmtdb.ClassStrMax)
	late.Args[3].Bound = 2
	late.ID = fmtdb.SiteID(late)
	idx := w.NewIndex()
	worker.LogIndex(idx, false, 1600, 0, fmtdb.String("a"), fmtdb.Null(), fmtdb.String(""), fmtdb.String("xyz"))
	main.Descriptor(idx, descOf(late))
	main.Log(siteMount, 1700, 0, fmtdb.String("/proc"), fmtdb.Uint(0x7fff0000))
	child.Process(1750, proc(100, 0, "/usr/sbin/criu"))
	child.LogDesc(&initByPID, 1760, 0, fmtdb.Int(200)) // log_init_by_pid(200)
	child.Log(siteErr, 1800, 0, fmtdb.String("criu/cr-dump.c"), fmtdb.Int(77), fmtdb.Int(200), fmtdb.Errno(2))
	child.Log(siteDyn, 1900, 2, fmtdb.Uint(2))
	child.Log(siteDyn, 1950, 4, fmtdb.Uint(4))
	child.Clock(2000, 2000)
	child.Dropped(3)
	floats := site(3, "criu/float.c", 3, "%.3f %g %e %Lf %p %p\n", fmtdb.ClassF64, fmtdb.ClassF64, fmtdb.ClassF64, fmtdb.ClassF80, fmtdb.ClassPtr, fmtdb.ClassPtr)
	worker.Log(floats, 2100, 0, fmtdb.Float64(2.675), fmtdb.Float64(1e-5), fmtdb.Float64(math.Inf(-1)), fmtdb.Float80(1<<63, 0x3fff), fmtdb.Ptr(0), fmtdb.Ptr(0xdeadbeef))
	wide := site(3, "criu/wide.c", 4, "%d|%5d|%-5d|%05d|%x|%#x|%o|%c|%lld|%llu|%zd\n",
		fmtdb.ClassI32, fmtdb.ClassI32, fmtdb.ClassI32, fmtdb.ClassI32, fmtdb.ClassU32, fmtdb.ClassU32, fmtdb.ClassU32, fmtdb.ClassI32, fmtdb.ClassI64, fmtdb.ClassU64, fmtdb.ClassI64)
	worker.Log(wide, 2200, 0, fmtdb.Int(math.MinInt32), fmtdb.Int(7), fmtdb.Int(-7), fmtdb.Int(42), fmtdb.Uint(math.MaxUint32), fmtdb.Uint(0), fmtdb.Uint(8), fmtdb.Int('A'), fmtdb.Int(math.MinInt64), fmtdb.Uint(math.MaxUint64), fmtdb.Int(-1))
	star := site(3, "criu/star.c", 5, "[%*d] [%-*s] [%.*s]\n", fmtdb.ClassI32, fmtdb.ClassI32, fmtdb.ClassI32, fmtdb.ClassStr, fmtdb.ClassI32, fmtdb.ClassStrMax)
	star.Args[5].BoundArg = 4
	star.ID = fmtdb.SiteID(star)
	main.Log(star, 2300, 0, fmtdb.Int(6), fmtdb.Int(42), fmtdb.Int(-4), fmtdb.String("ab"), fmtdb.Int(3), fmtdb.String("abcdef"))
	big := site(4, "criu/big.c", 6, "big %s\n", fmtdb.ClassStr)
	main.Log(big, 2400, 0, fmtdb.String(string(bytes.Repeat([]byte("0123456789"), 40))))
	main.Cut(0, 70000) // as if the runtime had cut it from 70000 bytes
	main.Log(siteHello, 1_234_567_890+1000, 0, fmtdb.Int(99))
	return w.Bytes(4096)
}

var goldenLogs = map[string]func() []byte{
	"features": featureLog,
	"mix":      func() []byte { return writeMix(300, 4096) },
}

// Golden tests: logs written by the Go writer, decoded in each format.
// The .lpk files are kept in testdata as samples for other tools; the
// writer must keep producing them byte for byte.
func TestGolden(t *testing.T) {
	for name, gen := range goldenLogs {
		t.Run(name, func(t *testing.T) {
			log := gen()
			golden(t, filepath.Join("testdata", name+".lpk"), log)
			for _, f := range []Format{FormatPlain, FormatCRIU, FormatJSON} {
				out, skips := decodeAll(t, log, f, nil)
				if len(skips) != 0 {
					t.Errorf("%v: skips: %v", f, skips)
				}
				golden(t, filepath.Join("testdata", name+"."+f.String()), []byte(out))
			}
		})
	}
}

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		if bytes.IndexByte(want, 0) >= 0 || filepath.Ext(path) == ".lpk" {
			t.Errorf("%s: got %d bytes that differ from the golden file's %d", path, len(got), len(want))
			return
		}
		t.Errorf("%s differs (-want +got):\n%s", path, cmp.Diff(string(want), string(got)))
	}
}

var _ = logfile.HeaderSize
