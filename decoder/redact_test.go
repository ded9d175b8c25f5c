package decoder

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"

	"github.com/logpack/logpack/fmtdb"
	"github.com/logpack/logpack/internal/logfile"
)

// Redaction replaces string arguments and IP addresses by pseudonyms
// that are stable and one-to-one within one output; numbers, NULL, empty
// strings and the format's own text stay.
func TestRedact(t *testing.T) {
	w := newLog(1)
	th := w.Thread(1, 1)
	conn := site(3, "net.c", 1, "%s -> %s port %d (%s) %p [%s]\n", fmtdb.ClassStr, fmtdb.ClassStr, fmtdb.ClassI32, fmtdb.ClassStr, fmtdb.ClassPtr, fmtdb.ClassStr)
	ipv4 := site(3, "net.c", 2, "peer %u.%u.%u.%u, mask 255.255.255.0, errno %m\n", fmtdb.ClassU32, fmtdb.ClassU32, fmtdb.ClassU32, fmtdb.ClassU32, fmtdb.ClassErrno)
	ipv6 := site(3, "net.c", 3, "v6 fe80::1 and 2001:db8::42. time 12:30:45, mac aa:bb:cc:dd:ee:ff, addr 7f1b731c8000\n")
	th.Log(conn, 2000, 0, fmtdb.String("/home/alice/secret"), fmtdb.String("10.1.2.3"), fmtdb.Int(8080), fmtdb.String(""), fmtdb.Ptr(0x1000), fmtdb.Null())
	th.Log(conn, 2001, 0, fmtdb.String("10.1.2.3"), fmtdb.String("/home/alice/secret"), fmtdb.Int(22), fmtdb.String("bob"), fmtdb.Ptr(0), fmtdb.String("/home/alice/secret"))
	th.Log(ipv4, 2002, 0, fmtdb.Uint(10), fmtdb.Uint(1), fmtdb.Uint(2), fmtdb.Uint(3), fmtdb.Errno(13))
	th.Log(ipv6, 2003, 0)
	log := w.Bytes(0)
	out := decodeRedacted(t, log)
	want := "<s1> -> <ip1> port 8080 () 0x1000 [(null)]\n" +
		"<ip1> -> <s1> port 22 (<s2>) (nil) [<s1>]\n" +
		"peer <ip1>, mask <ip2>, errno Permission denied\n" +
		"v6 <ip3> and <ip4>. time 12:30:45, mac aa:bb:cc:dd:ee:ff, addr 7f1b731c8000\n"
	if out != want {
		t.Errorf("redacted:\n%s\nwant:\n%s", out, want)
	}
}

func decodeRedacted(t *testing.T, log []byte) string {
	t.Helper()
	d, err := newDecoder(log)
	if err != nil {
		t.Fatal(err)
	}
	var b []byte
	r := NewRedactor()
	w := &Writer{f: FormatPlain, opts: WriterOptions{Redact: r}}
	for rec, err := range d.Records() {
		if err != nil {
			t.Fatal(err)
		}
		b = append(b, w.Message(rec)...)
	}
	return string(b)
}

// redactCase is one call site for the differential tests: a descriptor
// (constants included) and the recorded arguments of its calls.
type redactCase struct {
	desc  logfile.Descriptor
	calls [][]fmtdb.Value
}

// randomRedactCases makes call sites with every way a string reaches the
// output: %s with flags, fixed and '*' widths (negative too) and
// precisions (cutting inside multi-byte characters, before and after an
// embedded NUL), strmax bounds, NULL, empty strings, constant strings
// folded into the format, strerror(errno), next to numbers and %c.
func randomRedactCases(rng *rand.Rand, n int) []redactCase {
	words := []string{"SECRETalpha", "päßwörd€€€", "10.20.30.40", "fe80::dead:beef", "a", "", "nul\x00hidden", "/home/alice/.ssh/id_rsa", "ümläut"}
	var out []redactCase
	for range n {
		var fmtText strings.Builder
		var d logfile.Descriptor
		d.Level, d.TextLevel, d.File, d.Line = 3, logfile.TextLevelNone, "r.c", 1
		type gen func() fmtdb.Value
		var gens []gen
		arg := func(c fmtdb.Class, g gen) {
			d.Args = append(d.Args, logfile.DescArg{Class: c, BoundArg: -1})
			gens = append(gens, g)
		}
		for range 1 + rng.IntN(5) {
			fmtText.WriteString([]string{"x ", "[", "] ", "%% ", ": ", "=", "\n"}[rng.IntN(7)])
			switch k := rng.IntN(10); {
			case k < 6: // a string directive
				fmtText.WriteByte('%')
				if rng.IntN(3) == 0 {
					fmtText.WriteByte('-')
				}
				star := false
				switch rng.IntN(3) {
				case 1:
					fmt.Fprintf(&fmtText, "%d", 1+rng.IntN(25))
				case 2:
					fmtText.WriteByte('*')
					arg(fmtdb.ClassI32, func() fmtdb.Value { return fmtdb.Int(int64(rng.IntN(41) - 20)) })
					star = true
				}
				class, bound, boundArg := fmtdb.ClassStr, 0, -1
				switch rng.IntN(4) {
				case 1:
					bound = rng.IntN(12)
					fmt.Fprintf(&fmtText, ".%d", bound)
					class = fmtdb.ClassStrMax
				case 2:
					fmtText.WriteString(".*")
					boundArg = len(d.Args)
					arg(fmtdb.ClassI32, func() fmtdb.Value { return fmtdb.Int(int64(rng.IntN(16) - 3)) })
					star, class = true, fmtdb.ClassStrMax
				case 3:
					fmtText.WriteString(".0")
					class = fmtdb.ClassStrMax
				}
				fmtText.WriteByte('s')
				if !star && rng.IntN(3) == 0 {
					w := words[rng.IntN(len(words))]
					d.Args = append(d.Args, logfile.DescArg{Class: logfile.ClassConstStr, Str: w, BoundArg: -1})
					continue
				}
				arg(class, func() fmtdb.Value {
					if rng.IntN(8) == 0 {
						return fmtdb.Null()
					}
					return fmtdb.String(words[rng.IntN(len(words))])
				})
				d.Args[len(d.Args)-1].Bound, d.Args[len(d.Args)-1].BoundArg = bound, boundArg
			case k < 7:
				fmtText.WriteString("%s")
				arg(fmtdb.ClassErrno, func() fmtdb.Value { return fmtdb.Errno(int64(rng.IntN(40))) })
			case k < 8:
				fmtText.WriteString("%5d")
				if rng.IntN(2) == 0 {
					d.Args = append(d.Args, logfile.DescArg{Class: logfile.ClassConstInt, Bits: uint64(rng.IntN(1000)), BoundArg: -1})
					continue
				}
				arg(fmtdb.ClassI32, func() fmtdb.Value { return fmtdb.Int(int64(rng.IntN(1 << 20))) })
			case k < 9:
				fmtText.WriteString("%c")
				arg(fmtdb.ClassI32, func() fmtdb.Value { return fmtdb.Int(int64('A' + rng.IntN(26))) })
			default:
				fmtText.WriteString("%#lx")
				arg(fmtdb.ClassU64, func() fmtdb.Value { return fmtdb.Uint(rng.Uint64()) })
			}
		}
		d.Format = fmtText.String() + "\n"
		c := redactCase{desc: d}
		for range 4 {
			var vals []fmtdb.Value
			for _, g := range gens {
				vals = append(vals, g())
			}
			c.calls = append(c.calls, vals)
		}
		out = append(out, c)
	}
	return out
}

// Differential: the redacted rendering, given the parts of the strings
// printf printed instead of their pseudonyms, is byte for byte the
// message as printf prints it (fmtdb, itself checked against glibc); and
// with pseudonyms, no string argument's text is left in it, each
// pseudonym printed whole.
func TestRedactDifferential(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	cases := randomRedactCases(rng, 400)
	w := newLog(1)
	th := w.Thread(1, 1)
	ts := uint64(2000)
	for _, c := range cases {
		for _, vals := range c.calls {
			th.LogDesc(&c.desc, ts, 0, vals...)
			ts++
		}
	}
	d, err := newDecoder(w.Bytes(0))
	if err != nil {
		t.Fatal(err)
	}
	rd := NewRedactor()
	pseudo := regexp.MustCompile(`<(s|ip)[0-9]+>`)
	n := 0
	for r, err := range d.Records() {
		if err != nil {
			t.Fatal(err)
		}
		n++
		want := string(r.AppendMessage(nil))
		x := newRedaction(r.Site)
		if x.f == nil {
			t.Fatalf("%q: not rewritten for redaction", r.Site.descFormat)
		}
		var printed [][]byte
		same := x.f.Append(nil, x.values(nil, r.Args, func(b []byte) []byte {
			printed = append(printed, bytes.Clone(b))
			return b
		}))
		if string(same) != want {
			t.Fatalf("%q %v: rendered for redaction with the printed parts\n%q\nwant\n%q", r.Site.descFormat, r.Args, same, want)
		}
		got := string(rd.AppendMessage(nil, r))
		for _, p := range printed {
			if len(p) >= 3 && strings.Contains(got, string(p)) && !strings.Contains("(null)", string(p)) {
				t.Errorf("%q: %q left in %q", r.Site.descFormat, p, got)
			}
		}
		if strings.ContainsAny(got, "äöü€") {
			t.Errorf("%q: multi-byte string text left in %q", r.Site.descFormat, got)
		}
		if strings.Count(got, "<s")+strings.Count(got, "<ip") != len(pseudo.FindAllString(got, -1)) {
			t.Errorf("%q: a pseudonym cut in %q", r.Site.descFormat, got)
		}
	}
	if n != 4*len(cases) {
		t.Errorf("%d records, want %d", n, 4*len(cases))
	}
}

// The redacted output of logpack decode: pseudonyms are printed whole
// whatever the precision, padded to the width; constant strings the
// build folded into the format (__FILE__ in pr_err's prefix) are
// arguments like the others; errno texts, numbers, NULL and empty
// strings stay.
func TestRedactWidthsPrecisionsConstants(t *testing.T) {
	w := newLog(1)
	th := w.Thread(1, 1)
	errSite := logfile.Descriptor{Level: 1, TextLevel: logfile.TextLevelNone, File: "criu/files.c", Line: 7, Format: "Error (%s:%d): open %.3s|%-8s|%.*s|%5.0s|%s: %s\n",
		Args: []logfile.DescArg{{Class: logfile.ClassConstStr, Str: "criu/files.c", BoundArg: -1}, {Class: logfile.ClassConstInt, Bits: 7, BoundArg: -1},
			{Class: fmtdb.ClassStrMax, Bound: 3, BoundArg: -1}, {Class: fmtdb.ClassStr, BoundArg: -1}, {Class: fmtdb.ClassI32, BoundArg: -1}, {Class: fmtdb.ClassStrMax, BoundArg: 4},
			{Class: fmtdb.ClassStrMax, BoundArg: -1}, {Class: fmtdb.ClassStr, BoundArg: -1}, {Class: fmtdb.ClassErrno, BoundArg: -1}}}
	th.LogDesc(&errSite, 2000, 0, fmtdb.String("/etc/shadow"), fmtdb.String("ab"), fmtdb.Int(4), fmtdb.String("größer"), fmtdb.String("gone"), fmtdb.Null(), fmtdb.Errno(2))
	th.LogDesc(&errSite, 2001, 0, fmtdb.String("/etc/passwd"), fmtdb.String(""), fmtdb.Int(-1), fmtdb.String("10.0.0.1"), fmtdb.String("x"), fmtdb.String("/etc/shadow"), fmtdb.Errno(13))
	out := decodeRedacted(t, w.Bytes(0))
	want := "Error (<s1>:7): open <s2>|<s3>    |<s4>|     |(null): No such file or directory\n" +
		"Error (<s1>:7): open <s2>|        |<ip1>|     |<s5>: Permission denied\n"
	if out != want {
		t.Errorf("redacted:\n%s\nwant:\n%s", out, want)
	}
	plain, _ := decodeAll(t, w.Bytes(0), FormatPlain, nil)
	if wantPlain := "Error (criu/files.c:7): open /et|ab      |grö|     |(null): No such file or directory\n" +
		"Error (criu/files.c:7): open /et|        |10.0.0.1|     |/etc/shadow: Permission denied\n"; plain != wantPlain {
		t.Errorf("plain:\n%q\nwant:\n%q", plain, wantPlain)
	}
}
