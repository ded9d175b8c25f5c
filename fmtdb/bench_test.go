package fmtdb

import (
	"fmt"
	"runtime"
	"syscall"
	"testing"
	"time"
)

// threadCPU is the CPU time of the calling thread: on a shared machine
// wall-clock ns/op depends on the neighbours, CPU time much less.
func threadCPU() time.Duration {
	var ru syscall.Rusage
	const rusageThread = 1
	if err := syscall.Getrusage(rusageThread, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// loop runs body b.N times on a locked thread and reports CPU ns per op
// and millions of renders per CPU second.
func loop(b *testing.B, body func(i int)) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	b.ReportAllocs()
	start := threadCPU()
	n := 0
	for b.Loop() {
		body(n)
		n++
	}
	cpu := threadCPU() - start
	if n > 0 && cpu > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(n), "cpu-ns/op")
		b.ReportMetric(float64(n)/cpu.Seconds()/1e6, "M/cpu-s")
	}
}

// benchCase is one format with the values a record would carry, and the
// equivalent Go format and arguments for comparison with fmt.
type benchCase struct {
	name   string
	format string
	vals   []Value
	goFmt  string
	goArgs []any
}

var benchCases = []benchCase{
	{"d", "%d", []Value{Int(12345)}, "%d", []any{12345}},
	{"vma", "%s: %lx-%lx %#x", []Value{String("mnt"), Uint(0x7f1b731c8000), Uint(0x7f1b731ca000), Uint(0x22)},
		"%s: %x-%x %#x", []any{"mnt", uint64(0x7f1b731c8000), uint64(0x7f1b731ca000), uint32(0x22)}},
	{"message", "Some message %s %s %c %li %d %lu\n", []Value{String("hello"), String("world"), Int('x'), Int(-123456789), Int(42), Uint(987654321)},
		"Some message %s %s %c %d %d %d\n", []any{"hello", "world", 'x', int64(-123456789), 42, uint64(987654321)}},
}

// A CRIU-like mix, shaped on the most frequent lines of a -v4 dump log:
// mostly integers and hex, some strings.
var criuMix = []benchCase{
	{"", "page-pipe: Will grow page pipe (iov off is %u)\n", []Value{Uint(1234)}, "page-pipe: Will grow page pipe (iov off is %d)\n", []any{uint32(1234)}},
	{"", "page-xfer: p %#lx - %#lx\n", []Value{Uint(0x7f1b731c8000), Uint(0x7f1b731ca000)}, "page-xfer: p %#x - %#x\n", []any{uint64(0x7f1b731c8000), uint64(0x7f1b731ca000)}},
	{"", "page-pipe: Add iov to page pipe (%u iovs, %u/%u total)\n", []Value{Uint(3), Uint(17), Uint(512)}, "page-pipe: Add iov to page pipe (%d iovs, %d/%d total)\n", []any{uint32(3), uint32(17), uint32(512)}},
	{"", "Wait for ack %d on daemon socket\n", []Value{Int(12)}, "Wait for ack %d on daemon socket\n", []any{12}},
	{"", "Sent msg to daemon %d %d %d\n", []Value{Int(3), Int(0), Int(1)}, "Sent msg to daemon %d %d %d\n", []any{3, 0, 1}},
	{"", "%d: __fetched msg: %d %d %d\n", []Value{Int(13004), Int(3), Int(0), Int(1)}, "%d: __fetched msg: %d %d %d\n", []any{13004, 3, 0, 1}},
	{"", "PPB: %u pages %u segs %u pipe %d off\n", []Value{Uint(64), Uint(2), Uint(256), Int(0)}, "PPB: %d pages %d segs %d pipe %d off\n", []any{uint32(64), uint32(2), uint32(256), 0}},
	{"", "Pagemap generated: %lu pages (%lu lazy) %lu holes\n", []Value{Uint(51234), Uint(0), Uint(12)}, "Pagemap generated: %d pages (%d lazy) %d holes\n", []any{uint64(51234), uint64(0), uint64(12)}},
	{"", "%#lx-%#lx (%luK) prot %#x flags %#x fdflags %#o st %#x off %#lx %s shmid: %#lx\n",
		[]Value{Uint(0x7f1b731c8000), Uint(0x7f1b731ca000), Uint(8), Uint(3), Uint(0x22), Uint(0o2), Uint(0x41), Uint(0x1000), String("reg fp"), Uint(0x1)},
		"%#x-%#x (%dK) prot %#x flags %#x fdflags %#o st %#x off %#x %s shmid: %#x\n",
		[]any{uint64(0x7f1b731c8000), uint64(0x7f1b731ca000), uint64(8), uint32(3), uint32(0x22), uint32(0o2), uint32(0x41), uint64(0x1000), "reg fp", uint64(0x1)}},
	{"", "Dumping path for %d fd via self %d [%s]\n", []Value{Int(7), Int(31), String("/home/user/app/pyfiles/f17")}, "Dumping path for %d fd via self %d [%s]\n", []any{7, 31, "/home/user/app/pyfiles/f17"}},
	{"", "%d: Daemon waits for command\n", []Value{Int(13004)}, "%d: Daemon waits for command\n", []any{13004}},
	{"", "Error (%s:%d): mnt: Can't open %s: %s\n", []Value{String("criu/mount.c"), Int(1234), String("/proc/self/mountinfo"), Errno(2)}, "Error (%s:%d): mnt: Can't open %s: %s\n", []any{"criu/mount.c", 1234, "/proc/self/mountinfo", "No such file or directory"}},
}

func parsed(b *testing.B, cs []benchCase) []*Format {
	fs := make([]*Format, len(cs))
	for i, c := range cs {
		f, err := Parse(c.format)
		if err != nil {
			b.Fatal(err)
		}
		if c.format == criuMix[len(criuMix)-1].format {
			f.Args[3].Class = ClassErrno // strerror(errno) recorded as errno
		}
		if err := f.Check(c.vals); err != nil {
			b.Fatalf("%q: %v", c.format, err)
		}
		if got, want := string(f.Append(nil, c.vals)), fmt.Sprintf(c.goFmt, c.goArgs...); got != want {
			b.Fatalf("%q renders %q, Go's %q", c.format, got, want)
		}
		fs[i] = f
	}
	return fs
}

// BenchmarkRender measures Format.Append into a reused buffer, and
// fmt.Sprintf of the equivalent Go format for comparison.
func BenchmarkRender(b *testing.B) {
	for _, c := range append(benchCases, benchCase{name: "criu-mix"}) {
		cs := []benchCase{c}
		if c.name == "criu-mix" {
			cs = criuMix
		}
		fs := parsed(b, cs)
		b.Run(c.name+"/fmtdb", func(b *testing.B) {
			buf := make([]byte, 0, 4096)
			loop(b, func(n int) {
				i := n % len(cs)
				buf = fs[i].Append(buf[:0], cs[i].vals)
			})
		})
		b.Run(c.name+"/fmt.Sprintf", func(b *testing.B) {
			loop(b, func(n int) {
				i := n % len(cs)
				_ = fmt.Sprintf(cs[i].goFmt, cs[i].goArgs...)
			})
		})
	}
}

// Parse cost, paid once per site descriptor by the decoder.
func BenchmarkParse(b *testing.B) {
	loop(b, func(int) {
		if _, err := Parse("%#lx-%#lx (%luK) prot %#x flags %#x fdflags %#o st %#x off %#lx %s shmid: %#lx\n"); err != nil {
			b.Fatal(err)
		}
	})
}

func BenchmarkFloat(b *testing.B) {
	f, _ := Parse("%f %.3e %g %a")
	vals := []Value{Float64(3.14159), Float64(2.5e-10), Float64(123456.789), Float64(1)}
	buf := make([]byte, 0, 256)
	loop(b, func(int) { buf = f.Append(buf[:0], vals) })
}
