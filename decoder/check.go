package decoder

import (
	"fmt"
	"strings"

	"github.com/logpack/logpack/fmtdb"
)

// MismatchError reports a log whose site descriptors do not belong to the
// given format database: decoding with it would risk printing text of
// another build.
type MismatchError struct {
	LogBuildID uint64
	LogExe     string
	DBName     string
	DBSites    int
	Missing    []*Site // described by the log, absent from the database
	Differ     []*Site // same ID in both, different content
}

func (e *MismatchError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "the log (build %s, %s) does not match database %s (%d sites): ",
		fmtdb.FormatID(e.LogBuildID), e.LogExe, e.DBName, e.DBSites)
	var parts []string
	if n := len(e.Missing); n > 0 {
		s := e.Missing[0]
		parts = append(parts, fmt.Sprintf("%d of its sites are not in the database (first: %s %s:%d)", n, fmtdb.FormatID(s.ID), s.File, s.Line))
	}
	if n := len(e.Differ); n > 0 {
		s := e.Differ[0]
		parts = append(parts, fmt.Sprintf("%d sites differ from the database's (first: %s %s:%d)", n, fmtdb.FormatID(s.ID), s.File, s.Line))
	}
	b.WriteString(strings.Join(parts, "; "))
	return b.String()
}

// checkSites compares the log's descriptors with the database.
func (d *Decoder) checkSites() error {
	db := d.opts.DB
	if db == nil {
		return nil
	}
	e := &MismatchError{LogBuildID: d.hdr.BuildID, LogExe: d.hdr.Exe, DBName: d.opts.DBName, DBSites: db.Len()}
	for _, s := range d.ordered {
		ent, ok := db.Lookup(s.ID)
		switch {
		case !ok:
			e.Missing = append(e.Missing, s)
		case !fmtdb.SameSite(&ent.Site, &s.Site):
			e.Differ = append(e.Differ, s)
		}
	}
	if len(e.Missing) > 0 || len(e.Differ) > 0 {
		if !d.opts.Force {
			return e
		}
		d.mismatch = e
	}
	return nil
}
