package decoder

import (
	"fmt"
	"math"

	"github.com/logpack/logpack/fmtdb"
	"github.com/logpack/logpack/internal/logfile"
)

// Cut says that a string argument of a record was cut to fit the record
// (a body holds at most 64 KiB): the decoded text shows what was
// recorded, not all that the program printed.
type Cut struct {
	// Arg is the argument as the cut record names it: its place among
	// the call's format arguments (constants counted, as in the site
	// descriptor). Value is its index in Record.Args.
	Arg   int
	Value int
	Len   uint64 // the string's length in the program
}

// cutAt is a cut record found by the index pass.
type cutAt struct {
	of  int64 // the log record it is about
	at  int64 // the cut record
	arg uint64
	len uint64
}

// noteCut takes in a cut record: counted for CutStrings, and kept for
// Records to attach to its log record (up to a bound: see minCuts).
func (d *Decoder) noteCut(rec *logfile.Record) {
	d.cutStrings++
	if rec.Cut.Of != d.lastCutOf {
		d.cutRecords++
		d.lastCutOf = rec.Cut.Of
	}
	if len(d.cuts) < d.bound(minCuts, 9) {
		d.cuts = append(d.cuts, cutAt{of: rec.Cut.Of, at: rec.Offset, arg: rec.Cut.Arg, len: rec.Cut.Len})
	}
}

// CutStrings returns how many strings the writers cut to fit a record,
// and in how many records.
func (d *Decoder) CutStrings() (strings, records int) { return d.cutStrings, d.cutRecords }

// cutsOf attaches the cuts about r from the writer's chunk, and sets
// w.nextCut to the offset of the next record that needs cutsOf: one with
// cuts, or the one after r if r has some (to clear them).
func (d *Decoder) cutsOf(w *writer, r *Record) {
	w.cuts = w.cuts[d.attachCuts(r, w.cuts):]
	switch {
	case r.Cuts != nil:
		w.nextCut = 0
	case len(w.cuts) > 0:
		w.nextCut = w.cuts[0].of
	default:
		w.nextCut = math.MaxInt64
	}
}

// attachCuts sets r.Cuts from the cuts cs about the record at r.Offset,
// which come first in cs; it returns the cuts it used up. A cut that
// names no string argument of the record's site is reported.
func (d *Decoder) attachCuts(r *Record, cs []cutAt) int {
	r.Cuts = r.Cuts[:0]
	n := 0
	for n < len(cs) && cs[n].of < r.Offset {
		n++ // about a record that did not decode
	}
	for ; n < len(cs) && cs[n].of == r.Offset; n++ {
		c := cs[n]
		k := -1
		if c.arg < uint64(len(r.Site.recorded)) {
			k = r.Site.recorded[c.arg]
		}
		if k < 0 || k >= len(r.Args) || r.Args[k].Kind != fmtdb.KindStr || c.len < uint64(len(r.Args[k].Str)) {
			d.skip(Skip{Kind: SkipBadRecord, Detail: fmt.Sprintf("cut record: argument %d of %s:%d is no string cut from %d bytes", c.arg, r.Site.File, r.Site.Line, c.len), Offset: c.at})
			continue
		}
		r.Cuts = append(r.Cuts, Cut{Arg: int(c.arg), Value: k, Len: c.len})
	}
	if len(r.Cuts) == 0 {
		r.Cuts = nil
	}
	return n
}
