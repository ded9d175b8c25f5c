package fmtdb

import (
	"testing"

	"github.com/logpack/logpack/fmtdb/internal/glibc"
)

// %m and %#m print glibc's strerror text and errno name for every errno,
// known or not, as snprintf does with errno set.
func TestErrnoTexts(t *testing.T) {
	f, err := Parse("%m|%#m|%-12.4m|%#.3m|%+#6m|%s")
	if err != nil {
		t.Fatal(err)
	}
	// the last %s receives strerror(errno) recorded as class errno
	f.Args[len(f.Args)-1].Class = ClassErrno
	g, _ := Parse("%m|%#m|%-12.4m|%#.3m|%+#6m|%m")
	errnos := []int64{-1, -200, 1 << 20, -1 << 31, 1<<31 - 1, 4096, 9999}
	for e := int64(0); e <= 200; e++ {
		errnos = append(errnos, e)
	}
	vals := make([]Value, len(f.Args))
	for _, e := range errnos {
		for i := range vals {
			vals[i] = Errno(e)
		}
		w, n := glibc.Sprintf(g.Text, int(e), nil)
		if n < 0 {
			t.Fatalf("glibc fails for errno %d", e)
		}
		if got := f.Append(nil, vals); string(got) != string(w) {
			t.Errorf("errno %d:\n got %q\nwant %q", e, got, w)
		}
	}
	if ErrnoText(2) != "No such file or directory" || ErrnoName(2) != "ENOENT" || ErrnoText(-5) != "Unknown error -5" || ErrnoName(9999) != "" {
		t.Error("ErrnoText/ErrnoName disagree with glibc")
	}
}

// The committed table was generated from the same glibc the tests link.
func TestErrnoTableVersion(t *testing.T) {
	if v := glibc.Version(); v != glibcVersion {
		t.Errorf("errno_table.go is from glibc %s, this system has %s: run go generate ./fmtdb", glibcVersion, v)
	}
}
