package decoder

import (
	"bytes"
	"strings"
	"testing"

	"github.com/logpack/logpack/fmtdb"
	"github.com/logpack/logpack/internal/logfile"
)

// site returns a site with its ID computed, as the rewriter makes them.
func site(level uint8, file string, line int, format string, classes ...fmtdb.Class) *fmtdb.Site {
	s := &fmtdb.Site{Level: level, File: file, Line: line, Func: "fn", Format: format}
	for _, c := range classes {
		s.Args = append(s.Args, fmtdb.ArgSpec{Class: c, BoundArg: -1})
	}
	s.ID = fmtdb.SiteID(s)
	return s
}

var (
	siteHello = site(3, "hello.c", 10, "hello %d\n", fmtdb.ClassI32)
	siteMount = site(4, "criu/mount.c", 200, "mnt: Found %s at %#lx\n", fmtdb.ClassStr, fmtdb.ClassU64)
	siteErr   = site(1, "criu/cr-dump.c", 77, "Error (%s:%d): Can't dump %d: %m\n", fmtdb.ClassStr, fmtdb.ClassI32, fmtdb.ClassI32, fmtdb.ClassErrno)
	siteDyn   = site(fmtdb.LevelRuntime, "criu/log.c", 5, "level %u\n", fmtdb.ClassU32)
	siteNone  = site(3, "criu/crtools.c", 1, "Version: 4.2\n")
)

// descOf returns the descriptor of a site whose constants are folded in.
func descOf(s *fmtdb.Site) []byte {
	d := logfile.DescriptorOf(s)
	return d.Append(nil)
}

// session is the session ID of the test logs' first run.
const session = 0x5e55

// proc returns a process record of the session.
func proc(ppid uint32, flags uint64, exe string, args ...string) logfile.Process {
	p := logfile.Process{PPID: ppid, Session: session, Flags: flags, BuildID: 0xb1d, Exe: []byte(exe)}
	if len(args) > 0 {
		p.Cmdline = []byte(strings.Join(args, "\x00"))
	}
	return p
}

// initByPID is CRIU's log_init_by_pid as a prefix site: its record sets
// the process's line prefix to printf("%6d: ", pid).
var initByPID = logfile.Descriptor{Level: 4, Flags: logfile.DescPrefix, TextLevel: logfile.TextLevelNone, File: "criu/log.c", Line: 90,
	Func: "log_init_by_pid", Format: "%6d: ", Args: []logfile.DescArg{{Class: fmtdb.ClassI32, BoundArg: -1}}}

func newLog(firstPID uint32) *logfile.Writer {
	return logfile.NewWriter(logfile.Header{FirstPID: firstPID, StartTS: 1000, StartMonoNS: 1000, Exe: "/usr/sbin/criu", BuildID: 0xb1d}, 4096)
}

// decodeAll decodes a log in memory and renders it.
func decodeAll(t testing.TB, log []byte, f Format, opts *Options) (string, []Skip) {
	t.Helper()
	d, err := New(bytes.NewReader(log), int64(len(log)), opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	var out bytes.Buffer
	w := NewWriter(&out, f, nil)
	for r, err := range d.Records() {
		if err != nil {
			t.Fatalf("Records: %v", err)
		}
		if _, err := w.WriteRecord(r); err != nil {
			t.Fatal(err)
		}
	}
	w.Flush()
	return out.String(), d.Skipped()
}

func newDecoder(log []byte) (*Decoder, error) {
	return New(bytes.NewReader(log), int64(len(log)), nil)
}
