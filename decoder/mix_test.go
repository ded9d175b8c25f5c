package decoder

import (
	"github.com/logpack/logpack/fmtdb"
	"github.com/logpack/logpack/internal/logfile"
)

// criuMix is a CRIU-like message mix modelled on the line counts of a
// real dump log (dump-bigproc-v4.log): page-pipe and daemon messages with
// a few ints each dominate, hex addresses are common, strings are rare.
var criuMix = []struct {
	site   *fmtdb.Site
	weight int
	args   func(i int) []fmtdb.Value
}{
	{site(4, "criu/page-pipe.c", 120, "page-pipe: Will grow page pipe (iov off is %u)\n", fmtdb.ClassU32), 274,
		func(i int) []fmtdb.Value { return []fmtdb.Value{fmtdb.Uint(uint64(i % 300))} }},
	{site(4, "criu/page-pipe.c", 201, "page-pipe: Add iov to page pipe (%u iovs, %u/%u total)\n", fmtdb.ClassU32, fmtdb.ClassU32, fmtdb.ClassU32), 271,
		func(i int) []fmtdb.Value {
			return []fmtdb.Value{fmtdb.Uint(uint64(i % 64)), fmtdb.Uint(uint64(i % 1024)), fmtdb.Uint(1024)}
		}},
	{site(4, "criu/pie-util.c", 33, "Wait for ack %d on daemon socket\n", fmtdb.ClassI32), 255,
		func(i int) []fmtdb.Value { return []fmtdb.Value{fmtdb.Int(int64(i % 5))} }},
	{site(4, "criu/pie-util.c", 40, "Sent msg to daemon %d %d %d\n", fmtdb.ClassI32, fmtdb.ClassI32, fmtdb.ClassI32), 255,
		func(i int) []fmtdb.Value {
			return []fmtdb.Value{fmtdb.Int(3), fmtdb.Int(0), fmtdb.Int(int64(i % 7))}
		}},
	{site(4, "criu/pie-util.c", 52, "Fetched ack: %d %d %d\n", fmtdb.ClassI32, fmtdb.ClassI32, fmtdb.ClassI32), 255,
		func(i int) []fmtdb.Value {
			return []fmtdb.Value{fmtdb.Int(3), fmtdb.Int(3), fmtdb.Int(0)}
		}},
	{site(4, "criu/mem.c", 312, "PPB: %d pages %d segs %u pipe %d off\n", fmtdb.ClassI32, fmtdb.ClassI32, fmtdb.ClassU32, fmtdb.ClassI32), 244,
		func(i int) []fmtdb.Value {
			return []fmtdb.Value{fmtdb.Int(int64(i % 512)), fmtdb.Int(int64(i % 9)), fmtdb.Uint(uint64(i % 4)), fmtdb.Int(int64(i * 4096 % 1000000))}
		}},
	{site(4, "criu/page-xfer.c", 88, "page-xfer: \tbuf %d/%d\n", fmtdb.ClassI32, fmtdb.ClassI32), 240,
		func(i int) []fmtdb.Value { return []fmtdb.Value{fmtdb.Int(int64(i % 16)), fmtdb.Int(16)} }},
	{site(4, "criu/page-pipe.c", 400, "page-pipe: \tbuf %d pages, %d iovs, flags: %x pipe_off: %x :\n", fmtdb.ClassI32, fmtdb.ClassI32, fmtdb.ClassU32, fmtdb.ClassU32), 240,
		func(i int) []fmtdb.Value {
			return []fmtdb.Value{fmtdb.Int(int64(i % 512)), fmtdb.Int(int64(i % 33)), fmtdb.Uint(1), fmtdb.Uint(uint64(i * 4096))}
		}},
	{site(3, "criu/mem.c", 501, "Pagemap generated: %lu pages (%lu lazy) %lu holes\n", fmtdb.ClassU64, fmtdb.ClassU64, fmtdb.ClassU64), 131,
		func(i int) []fmtdb.Value {
			return []fmtdb.Value{fmtdb.Uint(uint64(i % 51200)), fmtdb.Uint(0), fmtdb.Uint(uint64(i % 40))}
		}},
	{site(4, "criu/page-xfer.c", 120, "page-xfer: \tp %#lx - %#lx\n", fmtdb.ClassU64, fmtdb.ClassU64), 79,
		func(i int) []fmtdb.Value {
			return []fmtdb.Value{fmtdb.Uint(0x7f1b731c8000 + uint64(i)*4096), fmtdb.Uint(0x7f1b731c8000 + uint64(i+16)*4096)}
		}},
	{site(3, "criu/files-reg.c", 1700, "Only file size could be stored for validation for file %s\n", fmtdb.ClassStr), 50,
		func(i int) []fmtdb.Value { return []fmtdb.Value{fmtdb.String(pyfiles[i%len(pyfiles)])} }},
	{site(4, "criu/files.c", 640, "Dumping path for %d fd via self %d [%s]\n", fmtdb.ClassI32, fmtdb.ClassI32, fmtdb.ClassStr), 50,
		func(i int) []fmtdb.Value {
			return []fmtdb.Value{fmtdb.Int(int64(i % 60)), fmtdb.Int(int64(12 + i%3)), fmtdb.String(pyfiles[i%len(pyfiles)])}
		}},
	{site(4, "criu/proc_parse.c", 700, "%lx-%lx (%luK) prot %#x flags %#x fdflags %#o st %#x off %#lx reg %s shmid: %#lx\n",
		fmtdb.ClassU64, fmtdb.ClassU64, fmtdb.ClassU64, fmtdb.ClassU32, fmtdb.ClassU32, fmtdb.ClassU32, fmtdb.ClassU32, fmtdb.ClassU64, fmtdb.ClassStr, fmtdb.ClassU64), 30,
		func(i int) []fmtdb.Value {
			return []fmtdb.Value{fmtdb.Uint(0x55d4c6a1f000), fmtdb.Uint(0x55d4c6a21000), fmtdb.Uint(8), fmtdb.Uint(1), fmtdb.Uint(0x2), fmtdb.Uint(0100002), fmtdb.Uint(0x1), fmtdb.Uint(uint64(i) * 4096), fmtdb.String("fp"), fmtdb.Uint(0)}
		}},
	{site(1, "criu/cr-dump.c", 1400, "Error (%s:%d): Can't dump vma at %lx: %m\n", fmtdb.ClassStr, fmtdb.ClassI32, fmtdb.ClassU64, fmtdb.ClassErrno), 2,
		func(i int) []fmtdb.Value {
			return []fmtdb.Value{fmtdb.String("criu/cr-dump.c"), fmtdb.Int(1400), fmtdb.Uint(0x7f00 + uint64(i)), fmtdb.Errno(int64(1 + i%40))}
		}},
}

var pyfiles = []string{"/home/user/app/pyfiles/f1", "/home/user/app/pyfiles/f22", "/home/user/app/pyfiles/f37"}

// writeMix writes n records of the CRIU-like mix: a main process with two
// threads and two children, deterministic timestamps ~1.3 µs apart.
func writeMix(n int, chunkSize int) []byte {
	w := logfile.NewWriter(logfile.Header{FirstPID: 4000, StartTS: 5_000_000, StartMonoNS: 5_000_000, Exe: "/usr/sbin/criu", BuildID: 0xc0ffee}, chunkSize)
	threads := []*logfile.Thread{w.Thread(4000, 4000), w.Thread(4000, 4001), w.Thread(4002, 4002), w.Thread(4003, 4003)}
	total := 0
	for _, m := range criuMix {
		total += m.weight
	}
	ts := uint64(5_000_000)
	for i := 0; i < n; i++ {
		k := (i * 7919) % total
		j := 0
		for k >= criuMix[j].weight {
			k -= criuMix[j].weight
			j++
		}
		m := criuMix[j]
		t := threads[(i/3)%len(threads)]
		ts += 1300 + uint64(i%7)*10
		t.Log(m.site, ts, 0, m.args(i)...)
	}
	return w.Bytes(3 * 4096)
}
