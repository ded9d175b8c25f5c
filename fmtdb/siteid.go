package fmtdb

import "hash/fnv"

// SiteID derives a site's stable ID from what the decoder needs to render
// it: the same source gives the same ID in every build, on every machine,
// without a central counter, and any change that would alter the rendered
// text changes the ID (so a stale database cannot match).
func SiteID(s *Site) uint64 {
	h := fnv.New64a()
	h.Write(s.appendContent(nil))
	id := h.Sum64()
	if id == 0 { // 0 means "no ID" everywhere
		id = 1
	}
	return id
}
