package fmtdb

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestDescriptorRoundTrip(t *testing.T) {
	s := Site{
		Level:  LevelRuntime,
		File:   "criu/mount.c",
		Line:   1234,
		Func:   "collect_mounts",
		Format: "mnt: Error (criu/mount.c:1234): %s: %.*s %lx\n",
		Args: []ArgSpec{
			{Class: ClassStr, BoundArg: -1},
			{Class: ClassI32, BoundArg: -1},
			{Class: ClassStrMax, BoundArg: 1},
			{Class: ClassU64, BoundArg: -1},
			{Class: ClassStrMax, Bound: 5, BoundArg: -1},
			{Class: ClassErrno, BoundArg: -1},
		},
	}
	s.ID = SiteID(&s)
	desc := s.AppendDescriptor(nil)
	got, err := DecodeDescriptor(desc)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(s, got); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	off, err := ClassListOffset(desc)
	if err != nil || desc[off] != byte(len(s.Args)) {
		t.Errorf("ClassListOffset = %d, %v; byte there %d", off, err, desc[off])
	}
}

func TestDescriptorRejectsEveryTruncation(t *testing.T) {
	s := Site{Level: 3, File: "a.c", Line: 7, Func: "f", Format: "%d %s\n",
		Args: []ArgSpec{{Class: ClassI32, BoundArg: -1}, {Class: ClassStr, BoundArg: -1}}}
	s.ID = SiteID(&s)
	desc := s.AppendDescriptor(nil)
	for n := 0; n < len(desc); n++ {
		if _, err := DecodeDescriptor(desc[:n]); err == nil {
			t.Errorf("descriptor cut to %d of %d bytes decoded without error", n, len(desc))
		}
	}
}

func TestSiteIDChangesWithContent(t *testing.T) {
	a := Site{Level: 3, File: "a.c", Line: 7, Format: "%d\n", Args: []ArgSpec{{Class: ClassI32, BoundArg: -1}}}
	b := a
	b.Format = "%u\n"
	if SiteID(&a) == SiteID(&b) {
		t.Error("different formats share an ID")
	}
	c := a
	c.Args = slices.Clone(a.Args)
	if SiteID(&a) != SiteID(&c) {
		t.Error("ID is not deterministic")
	}
}
