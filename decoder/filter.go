package decoder

import (
	"fmt"
	"strconv"
	"strings"
)

// Filter selects records by level, process and call site. The zero value
// keeps everything except that MaxLevel 0 keeps only level 0: use
// NewFilter for a filter that keeps all.
type Filter struct {
	MaxLevel int      // keep records of level <= MaxLevel; negative: any level
	PIDs     []uint32 // keep only these processes, if any
	Sites    []SiteRef
}

// NewFilter returns a filter that keeps every record.
func NewFilter() *Filter { return &Filter{MaxLevel: -1} }

// SiteRef names call sites by source position: a file (matched whole or
// as the last components of the site's path) and a line (0: any line).
type SiteRef struct {
	File string
	Line int
}

// ParseSiteRef parses "FILE:LINE" or "FILE".
func ParseSiteRef(s string) (SiteRef, error) {
	if i := strings.LastIndexByte(s, ':'); i >= 0 {
		n, err := strconv.Atoi(s[i+1:])
		if err != nil || n <= 0 {
			return SiteRef{}, fmt.Errorf("bad site %q: want FILE:LINE", s)
		}
		return SiteRef{File: s[:i], Line: n}, nil
	}
	if s == "" {
		return SiteRef{}, fmt.Errorf("empty site")
	}
	return SiteRef{File: s}, nil
}

// Match reports whether the site is at ref.
func (ref SiteRef) Match(s *Site) bool {
	if ref.Line != 0 && ref.Line != s.Line {
		return false
	}
	f := s.File
	return f == ref.File || strings.HasSuffix(f, ref.File) && f[len(f)-len(ref.File)-1] == '/'
}

// Keep reports whether r passes the filter.
func (f *Filter) Keep(r *Record) bool {
	if f == nil {
		return true
	}
	if f.MaxLevel >= 0 && int(r.Level) > f.MaxLevel {
		return false
	}
	if len(f.PIDs) > 0 {
		ok := false
		for _, p := range f.PIDs {
			if p == r.PID {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	if len(f.Sites) > 0 {
		ok := false
		for _, s := range f.Sites {
			if s.Match(r.Site) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}
