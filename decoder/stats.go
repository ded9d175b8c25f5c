package decoder

import (
	"sort"
)

// SiteStats sums up one call site's records.
type SiteStats struct {
	Site      *Site
	Count     int
	Bytes     int64 // bytes of its records in the log, framing included
	TextBytes int64 // bytes of its rendered messages
	First     int64 // ns since the log started
	Last      int64
}

// Stats sums up a log per call site.
type Stats struct {
	Records   int
	Bytes     int64 // bytes of all log records
	TextBytes int64
	Sites     []SiteStats // by Bytes, largest first
}

// Stats reads every record and sums them up per site.
func (d *Decoder) Stats() (*Stats, error) {
	by := map[*Site]*SiteStats{}
	st := &Stats{}
	var msg []byte
	for r, err := range d.Records() {
		if err != nil {
			return st, err
		}
		s := by[r.Site]
		if s == nil {
			s = &SiteStats{Site: r.Site, First: r.TS}
			by[r.Site] = s
		}
		msg = r.AppendMessage(msg[:0])
		s.Count++
		s.Bytes += int64(r.Size)
		s.TextBytes += int64(len(msg))
		s.First = min(s.First, r.TS)
		s.Last = max(s.Last, r.TS)
		st.Records++
		st.Bytes += int64(r.Size)
		st.TextBytes += int64(len(msg))
	}
	for _, s := range by {
		st.Sites = append(st.Sites, *s)
	}
	sort.Slice(st.Sites, func(i, j int) bool {
		a, b := &st.Sites[i], &st.Sites[j]
		if a.Bytes != b.Bytes {
			return a.Bytes > b.Bytes
		}
		if a.Count != b.Count {
			return a.Count > b.Count
		}
		if a.Site.File != b.Site.File {
			return a.Site.File < b.Site.File
		}
		if a.Site.Line != b.Site.Line {
			return a.Site.Line < b.Site.Line
		}
		return a.Site.ID < b.Site.ID
	})
	return st, nil
}
