package decoder

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/logpack/logpack/fmtdb"
	"github.com/logpack/logpack/internal/logfile"
)

func dbOf(sites ...*fmtdb.Site) *fmtdb.DB {
	var es []fmtdb.Entry
	for _, s := range sites {
		es = append(es, fmtdb.Entry{Site: *s})
	}
	return fmtdb.New(es)
}

// A database that lacks a site of the log, or has other content under
// its ID, stops decoding with an error naming both sides; --force
// decodes anyway and keeps the mismatch for a warning.
func TestDatabaseMismatch(t *testing.T) {
	w := newLog(1)
	th := w.Thread(1, 1)
	th.Log(siteHello, 2000, 0, fmtdb.Int(1))
	th.Log(siteMount, 2100, 0, fmtdb.String("/"), fmtdb.Uint(1))
	log := w.Bytes(0)
	open := func(db *fmtdb.DB, force bool) (*Decoder, error) {
		return New(bytes.NewReader(log), int64(len(log)), &Options{DB: db, DBName: "criu.lpdb", Force: force})
	}

	if _, err := open(dbOf(siteHello, siteMount, siteErr), false); err != nil {
		t.Fatalf("matching database: %v", err)
	}

	_, err := open(dbOf(siteHello), false)
	var me *MismatchError
	if !errors.As(err, &me) || len(me.Missing) != 1 || me.Missing[0].ID != siteMount.ID {
		t.Fatalf("missing site: err %v", err)
	}
	for _, want := range []string{"build 0000000000000b1d", "/usr/sbin/criu", "database criu.lpdb (1 sites)", fmtdb.FormatID(siteMount.ID), "criu/mount.c:200"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}

	changed := *siteMount
	changed.Format = "mnt: Found %s at %#lx (new)\n" // same ID, other text: a stale database
	_, err = open(dbOf(siteHello, &changed), false)
	if !errors.As(err, &me) || len(me.Differ) != 1 {
		t.Fatalf("changed site: err %v", err)
	}

	d, err := open(dbOf(siteHello), true)
	if err != nil || d.Mismatch() == nil {
		t.Fatalf("forced: err %v, mismatch %v", err, d.Mismatch())
	}
}

// A descriptor lists the format as written and its constant arguments;
// the decoder folds them in, so that the site is the one the format
// database holds (same format, same ID) and renders as printf did.
func TestDescriptorConstants(t *testing.T) {
	folded := site(1, "criu/files.c", 42, "Error (criu/files.c:42): Can't open %s: %m\n", fmtdb.ClassStr, fmtdb.ClassErrno)
	desc := logfile.Descriptor{Level: 1, TextLevel: 2, File: "criu/files.c", Line: 42, Func: "fn", Format: "Error (%s:%d): Can't open %s: %s\n",
		Args: []logfile.DescArg{{Class: logfile.ClassConstStr, Str: "criu/files.c", BoundArg: -1}, {Class: logfile.ClassConstInt, Bits: 42, BoundArg: -1},
			{Class: fmtdb.ClassStr, BoundArg: -1}, {Class: fmtdb.ClassErrno, BoundArg: -1}}}
	w := newLog(1)
	w.Thread(1, 1).LogDesc(&desc, 2000, 0, fmtdb.String("/etc/x"), fmtdb.Errno(13))
	log := w.Bytes(0)
	d, err := New(bytes.NewReader(log), int64(len(log)), &Options{DB: dbOf(folded)})
	if err != nil {
		t.Fatal(err)
	}
	s := d.Sites()[0]
	if s.Format != folded.Format || s.ID != folded.ID || s.TextLevel != 2 || s.Prefix {
		t.Errorf("site %q %s text_level %d prefix %v, want %q %s", s.Format, fmtdb.FormatID(s.ID), s.TextLevel, s.Prefix, folded.Format, fmtdb.FormatID(folded.ID))
	}
	out, skips := decodeAll(t, log, FormatPlain, nil)
	if out != "Error (criu/files.c:42): Can't open /etc/x: Permission denied\n" || len(skips) != 0 {
		t.Errorf("out %q skips %v", out, skips)
	}
}

// Two indexes for one site (after exec, or two threads racing) are
// harmless; one index with two different descriptors is refused rather
// than rendered as either site's text.
func TestDescriptorIndexes(t *testing.T) {
	w := newLog(1)
	a := w.Thread(1, 1)
	i1, i2, i3 := w.NewIndex(), w.NewIndex(), w.NewIndex()
	a.Descriptor(i1, descOf(siteHello))
	a.Descriptor(i2, descOf(siteHello))
	a.Descriptor(i3, descOf(siteHello))
	a.Descriptor(i3, descOf(siteMount))
	a.LogIndex(i1, false, 2000, 0, fmtdb.Int(1))
	a.LogIndex(i2, false, 2001, 0, fmtdb.Int(2))
	a.LogIndex(i3, false, 2002, 0, fmtdb.Int(3))
	log := w.Bytes(0)
	d, err := New(bytes.NewReader(log), int64(len(log)), nil)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(d.Sites()); n != 1 {
		t.Errorf("%d distinct sites, want 1", n)
	}
	out, skips := decodeAll(t, log, FormatPlain, nil)
	if out != "hello 1\nhello 2\n" {
		t.Errorf("out %q", out)
	}
	if len(skips) != 2 || skips[0].Kind != SkipConflict || skips[1].Kind != SkipUnknownSite {
		t.Errorf("skips %v", skips)
	}
}

// One site described by two builds that differ in a flag (the text
// level it also prints at) is two sites, each with its own records, and
// every index of either shares its one Site: the same on every opening,
// whichever order the indexes are looked at in.
func TestOneSiteTwoBuilds(t *testing.T) {
	w := newLog(1)
	a := w.Thread(1, 1)
	quiet, loud := logfile.DescriptorOf(siteHello), logfile.DescriptorOf(siteHello)
	loud.TextLevel = 2
	var idx []uint32
	for i := range 12 {
		idx = append(idx, w.NewIndex())
		d := quiet
		if i%3 == 1 {
			d = loud
		}
		a.Descriptor(idx[i], d.Append(nil))
		a.LogIndex(idx[i], false, uint64(2000+i), 0, fmtdb.Int(int64(i)))
	}
	log := w.Bytes(0)
	for range 20 {
		d, err := New(bytes.NewReader(log), int64(len(log)), nil)
		if err != nil {
			t.Fatal(err)
		}
		st, err := d.Stats()
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, s := range d.Sites() {
			got = append(got, fmt.Sprintf("text level %d", s.TextLevel))
		}
		for _, ss := range st.Sites {
			got = append(got, fmt.Sprintf("text level %d: %d records", ss.Site.TextLevel, ss.Count))
		}
		if want := []string{"text level 255", "text level 2", "text level 255: 8 records", "text level 2: 4 records"}; !slices.Equal(got, want) {
			t.Fatalf("sites %q, want %q", got, want)
		}
	}
}

// A descriptor whose format does not parse, or whose classes disagree
// with its format, renders nothing: its records are reported.
func TestUnrenderableSite(t *testing.T) {
	w := newLog(1)
	th := w.Thread(1, 1)
	th.Log(site(3, "n.c", 1, "count %n\n", fmtdb.ClassPtr), 2000, 0, fmtdb.Ptr(1))
	th.Log(site(3, "c.c", 2, "%s\n", fmtdb.ClassI32), 2001, 0, fmtdb.Int(1))
	th.Log(siteHello, 2002, 0, fmtdb.Int(3))
	out, skips := decodeAll(t, w.Bytes(0), FormatPlain, nil)
	if out != "hello 3\n" || len(skips) != 2 || skips[0].Kind != SkipBadDescriptor || skips[1].Kind != SkipBadDescriptor {
		t.Errorf("out %q, skips %v", out, skips)
	}
}
