package decoder

import (
	"testing"

	"github.com/logpack/logpack/fmtdb"
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
