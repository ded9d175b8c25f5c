package decoder

import (
	"bytes"
	"fmt"
	"hash/fnv"
	"iter"
	"path/filepath"
	"slices"
	"sort"
)

// TextLog is a program's own text log of one run.
type TextLog struct {
	Name string
	// What MergeText decided: the session the text log belongs to (nil:
	// none), how that was decided, and how many of its lines are the text
	// of records (shown once, as records).
	Session *Session
	How     string
	Matched int

	data  []byte
	lines []textLine
	index map[uint64][]int32 // message hash → lines, in order
}

// textLine is one line of a text log: data[off:end] (end after its
// newline, if it has one).
type textLine struct {
	off, end int
	body     int   // where the text starts after a "(SS.uuuuuu) " timestamp
	msg      int   // and after a "%6d: " pid prefix (body if none)
	ts       int64 // the timestamp in ns, -1 if none
	matched  bool
}

// NewTextLog returns the text log with the given contents.
func NewTextLog(name string, data []byte) *TextLog {
	t := &TextLog{Name: name, data: data, index: map[uint64][]int32{}}
	for off := 0; off < len(data); {
		end := len(data)
		if i := bytes.IndexByte(data[off:], '\n'); i >= 0 {
			end = off + i + 1
		}
		l := textLine{off: off, end: end, ts: -1}
		text := data[off:trimNL(data, end)]
		body := 0
		if ns, n := parseCRIUTime(text); n > 0 {
			l.ts, body = ns, n
		}
		l.body = off + body
		l.msg = l.body + pidPrefixLen(text[body:])
		i := int32(len(t.lines))
		for _, from := range []int{l.body, l.msg}[:1+min(1, l.msg-l.body)] {
			h := hashText(data[from:trimNL(data, end)])
			t.index[h] = append(t.index[h], i)
		}
		t.lines = append(t.lines, l)
		off = end
	}
	return t
}

// trimNL returns end less a newline just before it.
func trimNL(data []byte, end int) int {
	if end > 0 && data[end-1] == '\n' {
		return end - 1
	}
	return end
}

func hashText(b []byte) uint64 {
	h := fnv.New64a()
	h.Write(b)
	return h.Sum64()
}

// parseCRIUTime parses CRIU's timestamp prefix at the start of b (see
// AppendCRIUTime): "(SS.uuuuuu) " with two or more digits of seconds and
// six of microseconds, or, past 99 seconds, the same cut to 12 bytes
// ("(123.45678) ", whose microseconds are known to the digits left). It
// returns the time in ns and the prefix's length, 0 if there is none.
func parseCRIUTime(b []byte) (int64, int) {
	if len(b) < 12 || b[0] != '(' {
		return 0, 0
	}
	var sec int64
	i := 1
	for ; i < len(b) && b[i] >= '0' && b[i] <= '9' && i < 16; i++ {
		sec = sec*10 + int64(b[i]-'0')
	}
	if i < 3 || i >= len(b) || b[i] != '.' {
		return 0, 0
	}
	var us int64
	j := i + 1
	for ; j < len(b) && j < i+7 && b[j] >= '0' && b[j] <= '9'; j++ {
		us = us*10 + int64(b[j]-'0')
	}
	digits := j - i - 1
	if j+1 >= len(b) || b[j] != ')' || b[j+1] != ' ' || digits < 6 && (j+2 != 12 || sec < 100) {
		return 0, 0
	}
	for range 6 - digits {
		us *= 10
	}
	return sec*1e9 + us*1e3, j + 2
}

// pidPrefixLen returns the length of a printf("%6d: ", pid) prefix at the
// start of b, 0 if there is none.
func pidPrefixLen(b []byte) int {
	i := 0
	for i < len(b) && b[i] == ' ' {
		i++
	}
	j := i
	for j < len(b) && b[j] >= '0' && b[j] <= '9' && j-i < 10 {
		j++
	}
	if j == i || j < 6 || j+1 >= len(b) || b[j] != ':' || b[j+1] != ' ' {
		return 0
	}
	return j + 2
}

// anchor is a record whose text is lines [line, line+n) of a text log.
type anchor struct {
	line, n int
	seq     int    // the record's place among its session's records
	raw     uint64 // its time in the log's units
	ts      int64  // and in ns since the session started
}

// matcher matches one session's records with one text log's lines.
type matcher struct {
	t       *TextLog
	s       *Session
	cursor  int // the line after the latest match
	anchors []anchor
	lines   int // lines matched
}

// match looks for msg, the text of the record at seq, from the cursor on.
func (m *matcher) match(msg []byte, seq int, r *Record) {
	t := m.t
	first, rest, multi := bytes.Cut(msg, []byte{'\n'})
	if len(first) == 0 && !multi {
		return
	}
	cands := t.index[hashText(first)]
	k := sort.Search(len(cands), func(i int) bool { return int(cands[i]) >= m.cursor })
	for ; k < len(cands); k++ {
		i := int(cands[k])
		l := &t.lines[i]
		end := trimNL(t.data, l.end)
		if !bytes.Equal(t.data[l.body:end], first) && !bytes.Equal(t.data[l.msg:end], first) {
			continue // another text with the same hash
		}
		// The message's further lines are the next text lines, whole.
		n, ok := 1, true
		for more := bytes.TrimSuffix(rest, []byte{'\n'}); ok && multi && len(more) > 0; n++ {
			var line []byte
			line, more, _ = bytes.Cut(more, []byte{'\n'})
			ok = i+n < len(t.lines) && bytes.Equal(t.data[t.lines[i+n].off:trimNL(t.data, t.lines[i+n].end)], line)
		}
		if !ok {
			continue
		}
		m.anchors = append(m.anchors, anchor{line: i, n: n, seq: seq, raw: r.raw, ts: r.TS})
		m.cursor = i + n
		m.lines += n
		return
	}
}

// alsoText reports whether r was also printed by the program's text path.
func alsoText(r *Record) bool {
	s := r.Site
	return s.TextLevel != 255 && r.Level <= s.TextLevel && !s.Prefix && r.Level != 0
}

// TextMerge is a log merged with the text logs of its runs: the lines a
// program wrote to its own text log of a run that the binary log does not
// have, each in its place among the run's records.
//
// A program's text log of a run (CRIU's -o file, or its stderr) holds
// lines the binary log does not: code that logs without the rewritten
// calls (CRIU's parasite and restorer, built without libc, write raw
// lines such as "pie: 11365: __fetched msg: 74 0 0", some with CRIU's
// "(SS.uuuuuu) " timestamp), output of commands the program runs, and,
// while binary logging is on, the errors and warnings it also printed as
// text (a site's text_level). MergeText puts that text log's lines into
// the decoded log of the session it belongs to:
//
//   - Which session: one whose text marks name the file (by path, then by
//     base name; among several, the one with the most matched lines, then
//     the latest), else the one with the most matched lines, else the
//     only session of the log if its marks name no other file. A text log
//     that belongs to no session is not merged (TextLog.Session is nil).
//   - Matched lines: a text line that is the text of a record also
//     printed as text (its level at most its site's text_level) is the
//     same line, shown once, as the record. Lines are compared with the
//     record's message after CRIU's optional "(SS.uuuuuu) " timestamp and
//     "%6d: " pid prefix are taken off (a message of several lines must
//     match as many text lines). Records are matched in order, each with
//     the first line after the previous match that has its text: missing
//     lines are tolerated (the program's verbosity may have left some
//     out), and a record whose text appears again later may match that
//     later line.
//   - Every other line is a text-only line, shown in its place: after
//     the record of the matched line before it and before the record of
//     the matched line after it, keeping the file order of text lines.
//     Between those, text marks ("the text log held size bytes at this
//     moment") decide: a line whose end offset is within a mark's size was
//     written before that mark, so it goes right before the first record
//     at or after the earliest such mark; and it never goes before the
//     records logged before a mark that did not hold it yet. A line that
//     no mark holds goes, if it has CRIU's timestamp, before the first
//     record whose time is later (the text's clock set to the session's
//     by the nearest matched line with a timestamp, the one before it if
//     any), else right after the matched line before it (or the mark
//     before it).
//
// Text-only lines are not records: level, process and site filters do
// not apply to them.
type TextMerge struct {
	d      *Decoder
	Logs   []*TextLog
	queues map[*Session][]*textQueue
	nseq   map[*Session]int
}

// textQueue holds the text-only lines of one text log, in file order,
// with where each may go.
type textQueue struct {
	t     *TextLog
	lines []placed
	next  int
}

// placed is a text-only line and its place among the session's records:
// before record hi at the latest, not before record lo, and, between
// them, before the first record at or after lowRaw that is at or after
// atRaw (marks) or later than afterNS (its own timestamp).
type placed struct {
	line    int
	lo, hi  int
	lowRaw  uint64
	atRaw   uint64
	afterNS int64
	byRaw   bool
	byTime  bool
}

func (p *placed) ready(seq int, r *Record) bool {
	if seq < p.lo {
		return false
	}
	if seq >= p.hi {
		return true
	}
	if r.raw < p.lowRaw {
		return false
	}
	switch {
	case p.byRaw:
		return r.raw >= p.atRaw
	case p.byTime:
		return r.TS > p.afterNS
	}
	return true
}

// MergeText reads the log once to match its records with the text logs'
// lines, decides which session each text log belongs to, and places the
// lines that are only in the text logs among the records (see TextMerge
// for the rules). Entries then yields the merged log.
func (d *Decoder) MergeText(logs ...*TextLog) (*TextMerge, error) {
	m := &TextMerge{d: d, Logs: logs, queues: map[*Session][]*textQueue{}, nseq: map[*Session]int{}}
	// A text log that marks name is matched with the sessions naming it
	// only; one that none names, with every session. (A test suite's
	// shared log names thousands of text logs, one per run: matching
	// each with every session cost their product.)
	named := make([][]*Session, len(logs))
	norm := pathNormalizer()
	for i, t := range logs {
		named[i] = d.sessionsNaming(t, norm)
	}
	all := map[[2]any]*matcher{}
	var buf []byte
	for _, s := range d.sessions {
		var ms []*matcher
		for i, t := range logs {
			if named[i] == nil || slices.Contains(named[i], s) {
				mt := &matcher{t: t, s: s}
				all[[2]any{t, s}] = mt
				ms = append(ms, mt)
			}
		}
		seq := 0
		for r, err := range d.SessionRecords(s) {
			if err != nil {
				return nil, err
			}
			if len(ms) > 0 && alsoText(r) {
				buf = r.AppendMessage(buf[:0])
				for _, mt := range ms {
					mt.match(buf, seq, r)
				}
			}
			seq++
		}
		m.nseq[s] = seq
	}
	for i, t := range logs {
		t.Session, t.How, t.Matched = nil, "", 0
		for i := range t.lines {
			t.lines[i].matched = false
		}
		matched := func(s *Session) int {
			if mt := all[[2]any{t, s}]; mt != nil {
				return mt.lines
			}
			return 0
		}
		s, how := d.sessionOf(t, named[i], matched)
		if s == nil {
			continue
		}
		t.Session, t.How = s, how
		mt := all[[2]any{t, s}]
		t.Matched = mt.lines
		m.queues[s] = append(m.queues[s], m.place(t, s, mt.anchors))
	}
	return m, nil
}

// sessionsNaming returns the sessions whose text marks name the text log
// t: by its path (normPath, through the cache norm), or if none,
// by its file name; nil if none does.
func (d *Decoder) sessionsNaming(t *TextLog, norm func(string) string) []*Session {
	name, base := norm(t.Name), filepath.Base(t.Name)
	for _, same := range []func(string) bool{
		func(p string) bool { return norm(p) == name },
		func(p string) bool { return filepath.Base(p) == base },
	} {
		var named []*Session
		for _, s := range d.sessions {
			if slices.ContainsFunc(s.marks, func(mk mark) bool { return mk.path != "" && same(mk.path) }) {
				named = append(named, s)
			}
		}
		if len(named) > 0 {
			return named
		}
	}
	return nil
}

// pathNormalizer returns normPath with its answers kept: a text log's
// name is compared with every session's marks.
func pathNormalizer() func(string) string {
	seen := map[string]string{}
	return func(p string) string {
		n, ok := seen[p]
		if !ok {
			n = normPath(p)
			seen[p] = n
		}
		return n
	}
}

// sessionOf decides which session a text log belongs to, of the sessions
// whose marks name it if any (named); matched gives the lines of the text
// log matched with a session's records.
func (d *Decoder) sessionOf(t *TextLog, named []*Session, matched func(*Session) int) (*Session, string) {
	best := func(ss []*Session) *Session {
		var b *Session
		for _, s := range ss {
			if b == nil || matched(s) >= matched(b) {
				b = s
			}
		}
		return b
	}
	if len(named) > 0 {
		return best(named), fmt.Sprintf("its text marks name %s", t.Name)
	}
	if s := best(d.sessions); s != nil && matched(s) > 0 {
		return s, fmt.Sprintf("%d of its lines are the text of the session's records", matched(s))
	}
	if len(d.sessions) == 1 {
		s := d.sessions[0]
		if !slices.ContainsFunc(s.marks, func(mk mark) bool { return mk.path != "" }) {
			return s, "the log has this one session"
		}
	}
	return nil, ""
}

// samePath reports whether two paths name the same file as far as the
// names tell (the program's working directory is not known; a relative
// name is taken from the decoder's).
func samePath(a, b string) bool { return a == b || normPath(a) == normPath(b) }

// normPath is a path made absolute (against the working directory) and
// clean.
func normPath(p string) string {
	if !filepath.IsAbs(p) {
		if a, err := filepath.Abs(p); err == nil {
			return a
		}
	}
	return filepath.Clean(p)
}

// place works out where the text-only lines of t go among the records of
// s, given the matched lines.
func (m *TextMerge) place(t *TextLog, s *Session, anchors []anchor) *textQueue {
	q := &textQueue{t: t}
	for _, a := range anchors {
		for i := a.line; i < a.line+a.n; i++ {
			t.lines[i].matched = true
		}
	}
	// The marks about this file: those naming it, and those naming none.
	var marks []mark
	for _, mk := range s.marks {
		if mk.path == "" || samePath(mk.path, t.Name) || filepath.Base(mk.path) == filepath.Base(t.Name) {
			marks = append(marks, mk)
		}
	}
	// The text's clock against the session's, from matched lines with a
	// timestamp: the nearest one before a line, else the first after.
	offsetAt := func(ai int) int64 { // ai: anchors before the line
		for k := ai - 1; k >= 0; k-- {
			if l := t.lines[anchors[k].line]; l.ts >= 0 {
				return anchors[k].ts - l.ts
			}
		}
		for k := ai; k < len(anchors); k++ {
			if l := t.lines[anchors[k].line]; l.ts >= 0 {
				return anchors[k].ts - l.ts
			}
		}
		return 0
	}
	ai, mi := 0, 0
	for i := range t.lines {
		l := &t.lines[i]
		for ai < len(anchors) && anchors[ai].line < i {
			ai++
		}
		if l.matched {
			continue
		}
		p := placed{line: i, hi: m.nseq[s]}
		if ai > 0 {
			p.lo = anchors[ai-1].seq + 1
		}
		if ai < len(anchors) {
			p.hi = anchors[ai].seq
		}
		// The earliest mark that holds the whole line.
		for mi < len(marks) && marks[mi].size < uint64(l.end) {
			mi++
		}
		if mi > 0 {
			p.lowRaw = marks[mi-1].raw // written after the marks before
		}
		switch {
		case mi < len(marks):
			p.byRaw, p.atRaw = true, marks[mi].raw
		case l.ts >= 0:
			p.byTime, p.afterNS = true, l.ts+offsetAt(ai)
		}
		q.lines = append(q.lines, p)
	}
	return q
}

// Entry is one line of a merged log: a record, or a line only the text
// log has.
type Entry struct {
	Record *Record
	Text   *TextLine
}

// TextLine is a line of a text log that is not the text of a record.
type TextLine struct {
	Log     *TextLog
	Session *Session
	Offset  int64  // in the text log
	Line    []byte // as the program wrote it, with its newline (the last line may have none)
}

// Entries returns the records of session s (of every session, in order,
// if s is nil) with the text-only lines of their text logs in their
// places. An Entry and what it points to are valid until the loop
// continues.
func (m *TextMerge) Entries(s *Session) iter.Seq2[Entry, error] {
	ss := m.d.sessions
	if s != nil {
		ss = []*Session{s}
	}
	return func(yield func(Entry, error) bool) {
		var tl TextLine
		text := func(s *Session, q *textQueue) bool {
			l := &q.t.lines[q.lines[q.next].line]
			q.next++
			tl = TextLine{Log: q.t, Session: s, Offset: int64(l.off), Line: q.t.data[l.off:l.end]}
			return yield(Entry{Text: &tl}, nil)
		}
		for _, s := range ss {
			qs := m.queues[s]
			for _, q := range qs {
				q.next = 0
			}
			seq := 0
			for r, err := range m.d.SessionRecords(s) {
				if err != nil {
					yield(Entry{}, err)
					return
				}
				for _, q := range qs {
					for q.next < len(q.lines) && q.lines[q.next].ready(seq, r) {
						if !text(s, q) {
							return
						}
					}
				}
				if !yield(Entry{Record: r}, nil) {
					return
				}
				seq++
			}
			for _, q := range qs {
				for q.next < len(q.lines) {
					if !text(s, q) {
						return
					}
				}
			}
		}
	}
}
