package lpruntime_test

import (
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	goruntime "runtime"
	"slices"
	"strings"
	"testing"

	"github.com/logpack/logpack/internal/testutil"
)

// f80 returns the x87 extended encoding of a float64 value.
func f80(f float64) [10]byte {
	var b [10]byte
	bits := math.Float64bits(f)
	sign := bits >> 63
	exp := (bits >> 52) & 0x7ff
	mant := bits & (1<<52 - 1)
	var e uint64
	var m uint64
	if exp != 0 {
		e = exp - 1023 + 16383
		m = 1<<63 | mant<<11
	}
	binary.LittleEndian.PutUint64(b[:], m)
	binary.LittleEndian.PutUint16(b[8:], uint16(sign<<15|e))
	return b
}

// Every class is stored as FORMAT.md says, the run-time level travels in
// the record, level 0 stays text, strings longer than a record are cut,
// and errno is what the program had when it called.
func TestRecordsEncodeEveryClass(t *testing.T) {
	t.Parallel()
	prog := buildProg(t, "basic")
	dir := t.TempDir()
	log := filepath.Join(dir, "log")
	// Output into a regular file, as a text log: the runtime marks it, so
	// that after a pause a call looks at its descriptor.
	outFile := filepath.Join(dir, "out")
	f, err := os.Create(outFile)
	if err != nil {
		t.Fatal(err)
	}
	cmd := command(prog, "100")
	cmd.Env = append(testutil.WithoutLogpack(), "LOGPACK_FILE="+log)
	cmd.Stdout, cmd.Stderr = f, f
	err = cmd.Run()
	f.Close()
	b, _ := os.ReadFile(outFile)
	if err != nil {
		t.Fatalf("%v (exit 13: the call after the pause changed errno)\n%s", err, b)
	}
	if out := string(b); out != "lvl 8\ndone 1\n" {
		t.Errorf("program output %q, want only the level-0 text line and done", out)
	}
	l := mustScan(t, log)
	seq := l.logRecords("seq %d %d %d %d\n")
	if len(seq) != 100 {
		t.Fatalf("%d seq records, want 100", len(seq))
	}
	for i, r := range seq {
		if r.Args[1] != int64(i) || r.Args[2] != int64(r.Pid) || r.Args[3] != int64(r.Tid) {
			t.Fatalf("seq record %d: args %v in chunk of %d/%d", i, r.Args, r.Pid, r.Tid)
		}
	}
	all := l.logRecords("all %d %u %ld %lu %f %Lf %s %p %m %.*s %.3s\n")
	want := [][]any{
		{int64(-5), uint64(4000000000), int64(-1234567890123), uint64(math.MaxUint64), 2.5, f80(1.25), "hello", uint64(0x1234), errnoVal(13), int64(2), "xy", "abc"},
		{int64(math.MaxInt32), uint64(0), int64(0), uint64(0), math.Copysign(0, -1), f80(-3), nil, uint64(0), errnoVal(0), int64(-1), "whole", "abc"},
		// after a pause, with the text log's descriptor closed
		{int64(1), uint64(1), int64(1), uint64(1), 1.0, f80(1), "paused", uint64(0), errnoVal(1), int64(0), "", "abc"},
	}
	if len(all) != len(want) {
		t.Fatalf("%d all records, want %d", len(all), len(want))
	}
	for i := range want {
		for j := range want[i] {
			if all[i].Args[j] != want[i][j] {
				t.Errorf("all record %d arg %d (%v): got %#v want %#v", i, j, all[i].Site.Args[j].Class, all[i].Args[j], want[i][j])
			}
		}
	}
	var lv []int
	for _, r := range l.logRecords("lvl %d\n") {
		lv = append(lv, r.Level)
	}
	if len(lv) != 2 || lv[0] != 3 || lv[1] != 4 {
		t.Errorf("run-time levels %v, want [3 4]", lv)
	}
	strs := l.logRecords("str %s\n")
	if len(strs) != 4 {
		t.Fatalf("%d str records, want 4", len(strs))
	}
	if s := strs[0].Args[0].(string); s != strings.Repeat("m", 300) {
		t.Errorf("300-byte string came back as %d bytes", len(s))
	}
	if s := strs[1].Args[0].(string); len(s) < 60000 || len(s) > 65000 || strings.Trim(s, "b") != "" {
		t.Errorf("70000-byte string came back as %d bytes, want cut to one record", len(s))
	}
	if strs[2].Args[0] != nil || strs[3].Args[0] != "" {
		t.Errorf("NULL and empty strings came back as %#v, %#v", strs[2].Args[0], strs[3].Args[0])
	}
	if n := len(l.logRecords("zero\n")); n != 2 {
		t.Errorf("%d zero-argument records, want 2", n)
	}
	if n, _ := l.count(3); n != 1 {
		t.Errorf("%d process records, want 1", n)
	}
	h := l.Hdr
	if h.TSKind > 1 || h.FirstPID == 0 || h.NextSiteIndex != 16+6-1 || h.Exe != prog || h.BuildID == 0 {
		t.Errorf("header %+v", h)
	}
	if h.Flags&1 != 1 {
		t.Errorf("flags %#x: the first writer exited normally, want bit 0 set", h.Flags)
	}
	var last uint64
	for _, r := range l.Records {
		if r.Tag >= 16 {
			if r.TS < last || r.TS < h.StartTS {
				t.Errorf("offset %d: timestamp %d before %d", r.Off, r.TS, last)
			}
			last = r.TS
		}
	}

	// Logging off: the same calls print.
	out := run(t, prog, "", "3")
	if !strings.HasPrefix(out, "seq 0 ") || !strings.Contains(out, "all -5 4000000000 -1234567890123 18446744073709551615 2.500000 1.250000 hello 0x1234 Permission denied xy abc\n") || !strings.HasSuffix(out, "done 0\n") {
		t.Errorf("text output without LOGPACK_FILE:\n%.400s", out)
	}

	// The decoder renders the same log.
	recs, ok := decodeJSON(t, log)
	if !ok {
		return
	}
	// The decoder also merges the text log the marks name (out): its
	// lines that are no record.
	var msgs, textOnly []string
	logged := recs[:0]
	for _, r := range recs {
		if r.File == "" {
			textOnly = append(textOnly, r.Msg)
			continue
		}
		msgs = append(msgs, r.Msg)
		logged = append(logged, r)
	}
	recs = logged
	if strings.Join(textOnly, "") != "lvl 8\ndone 1\n" {
		t.Errorf("text-only lines merged from the text log: %q", textOnly)
	}
	joined := strings.Join(msgs, "")
	for _, w := range []string{
		"seq 0 0 ", "seq 0 99 ",
		"all -5 4000000000 -1234567890123 18446744073709551615 2.500000 1.250000 hello 0x1234 Permission denied xy abc\n",
		"all 2147483647 0 0 0 -0.000000 -3.000000 (null) (nil) Success whole abc\n",
		"lvl 7\n", "lvl 9\n", "zero\n", "str " + strings.Repeat("m", 300) + "\n", "str (null)\n", "str \n",
	} {
		if !strings.Contains(joined, w) {
			t.Errorf("decoded log lacks %.80q", w)
		}
	}
	if len(recs) != 100+3+2+2+4 {
		t.Errorf("decoder gave %d records, want 111", len(recs))
	}
	for _, r := range recs {
		if r.File != "testdata/prog.c" || r.Pid != h.FirstPID {
			t.Errorf("decoded record %+v", r)
			break
		}
	}
}

// invariantTSC reports whether the kernel found an invariant TSC (CPUID
// 0x80000007 EDX bit 8, its flag nonstop_tsc), the runtime's condition
// for using it; known is false off x86-64.
func invariantTSC() (invariant, known bool) {
	if goruntime.GOARCH != "amd64" {
		return false, false
	}
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return false, false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if name, flags, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(name) == "flags" {
			return slices.Contains(strings.Fields(flags), "nonstop_tsc"), true
		}
	}
	return false, false
}

// The log names the executable by the path it was started by when that
// is absolute (a symbolic link stays the link), and by the kernel's link
// to it when it was started by a relative path.
func TestExecutablePath(t *testing.T) {
	t.Parallel()
	prog := buildProg(t, "basic")
	dir := t.TempDir()
	link := filepath.Join(dir, "linked")
	if err := os.Symlink(prog, link); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ run, want string }{{link, link}, {"./linked", prog}} {
		log := filepath.Join(t.TempDir(), "log")
		cmd := command(c.run, "1")
		cmd.Dir = dir
		cmd.Env = append(testutil.WithoutLogpack(), "LOGPACK_FILE="+log)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s: %v: %s", c.run, err, out)
		}
		if l := mustScan(t, log); l.Hdr.Exe != c.want {
			t.Errorf("started as %s: the log names %q, want %q", c.run, l.Hdr.Exe, c.want)
		}
	}
}

// Where the TSC is not used, timestamps are CLOCK_MONOTONIC nanoseconds
// (ts_kind 0) from the log's start; with it, TSC ticks (ts_kind 1) that
// the chunk headers pair with CLOCK_MONOTONIC.
func TestClockKinds(t *testing.T) {
	t.Parallel()
	prog := buildProg(t, "basic")
	for _, clock := range []string{"ns", "auto"} {
		log := filepath.Join(t.TempDir(), "log")
		cmd := command(prog, "50")
		cmd.Env = append(testutil.WithoutLogpack(), "LOGPACK_FILE="+log, "LOGPACK_CLOCK="+clock)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		l := mustScan(t, log)
		if clock == "ns" && l.Hdr.TSKind != 0 {
			t.Errorf("LOGPACK_CLOCK=ns: ts_kind %d", l.Hdr.TSKind)
		}
		if invariant, known := invariantTSC(); clock == "auto" && known && (l.Hdr.TSKind == 1) != invariant {
			t.Errorf("ts_kind %d where the kernel says the TSC is invariant: %v", l.Hdr.TSKind, invariant)
		}
		if l.Hdr.TSKind == 0 && l.Hdr.StartTS != l.Hdr.StartMonoNS {
			t.Errorf("ts_kind 0: start_ts %d != start_mono_ns %d", l.Hdr.StartTS, l.Hdr.StartMonoNS)
		}
		seq := l.logRecords("seq %d %d %d %d\n")
		first, last := seq[0].TS, seq[len(seq)-1].TS
		if first < l.Hdr.StartTS || last < first {
			t.Errorf("%s: timestamps %d..%d, log started at %d", clock, first, last, l.Hdr.StartTS)
		}
		if l.Hdr.TSKind == 0 && last-l.Hdr.StartTS > 60e9 {
			t.Errorf("ns timestamps span %d ns", last-l.Hdr.StartTS)
		}
	}
}

// After a long pause a thread adds a clock record (a calibration pair)
// before its next record, in both clock kinds.
func TestClockRecordAfterPause(t *testing.T) {
	t.Parallel()
	for _, clock := range []string{"ns", "auto"} {
		log := filepath.Join(t.TempDir(), "log")
		runHostile(t, []string{"LOGPACK_FILE=" + log, "LOGPACK_CLOCK=" + clock}, "pause", "10")
		l := mustScan(t, log)
		var clocks []scanRecord
		for _, r := range l.Records {
			if r.Tag == 2 {
				clocks = append(clocks, r)
			}
		}
		if len(clocks) != 1 {
			t.Fatalf("%s: %d clock records, want 1", clock, len(clocks))
		}
		c := clocks[0]
		if c.Mono < l.Hdr.StartMonoNS+1e9 || c.Mono > l.Hdr.StartMonoNS+60e9 {
			t.Errorf("%s: clock record at %d ns, log started at %d", clock, c.Mono, l.Hdr.StartMonoNS)
		}
		if l.Hdr.TSKind == 0 && c.TS != c.Mono {
			t.Errorf("ns clock: record ts %d != its CLOCK_MONOTONIC %d", c.TS, c.Mono)
		}
		checkWriters(t, l, 2, 10)
	}
}
