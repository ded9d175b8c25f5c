package fmtdb

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The format database is a file of JSON lines, one call site per line
// (docs/DATABASE.md). Every `logpack cc` process appends the sites of one
// compile unit with a single O_APPEND write, so parallel builds need no
// lock and a killed compiler can at worst leave one torn last line, which
// readers skip and report.

// Entry is one line of the database: a site plus where it was built.
type Entry struct {
	Site
	Unit  string // compile unit: the source file as given to the compiler
	Build string // build identity (free form; empty if unknown)
}

// jsonEntry fixes the field order and spelling of a database line.
type jsonEntry struct {
	ID     string `json:"id"`
	Level  int    `json:"level"`
	File   string `json:"file"`
	Line   int    `json:"line"`
	Func   string `json:"func"`
	Format string `json:"format"`
	// FormatB64 replaces Format when the format is not valid UTF-8 (JSON
	// strings cannot carry arbitrary bytes).
	FormatB64 string   `json:"format_b64,omitempty"`
	Args      []string `json:"args"`
	Unit      string   `json:"unit,omitempty"`
	Build     string   `json:"build,omitempty"`
}

// FormatID renders a site ID the way the database and the CLI show it.
func FormatID(id uint64) string { return fmt.Sprintf("%016x", id) }

// ParseID is the inverse of FormatID (leading zeros optional).
func ParseID(s string) (uint64, error) {
	if s == "" || len(s) > 16 {
		return 0, fmt.Errorf("bad site id %q", s)
	}
	return strconv.ParseUint(s, 16, 64)
}

// FormatArgSpec renders one argument class: the class name, and for a
// bounded string "strmax:5" (fixed bound) or "strmax:*2" (bound is the
// value of argument 2).
func FormatArgSpec(a ArgSpec) string {
	if a.Class != ClassStrMax {
		return a.Class.String()
	}
	if a.BoundArg >= 0 {
		return fmt.Sprintf("strmax:*%d", a.BoundArg)
	}
	return fmt.Sprintf("strmax:%d", a.Bound)
}

// ParseArgSpec is the inverse of FormatArgSpec.
func ParseArgSpec(s string) (ArgSpec, error) {
	name, bound, hasBound := strings.Cut(s, ":")
	c, ok := ParseClass(name)
	if !ok {
		return ArgSpec{}, fmt.Errorf("unknown argument class %q", name)
	}
	a := ArgSpec{Class: c, BoundArg: -1}
	if c != ClassStrMax {
		if hasBound {
			return ArgSpec{}, fmt.Errorf("class %s takes no bound: %q", name, s)
		}
		return a, nil
	}
	if !hasBound {
		return ArgSpec{}, fmt.Errorf("class strmax needs a bound: %q", s)
	}
	if rest, ok := strings.CutPrefix(bound, "*"); ok {
		n, err := strconv.ParseUint(rest, 10, 8)
		if err != nil {
			return ArgSpec{}, fmt.Errorf("bad bound argument in %q", s)
		}
		a.BoundArg = int(n)
		return a, nil
	}
	n, err := strconv.ParseUint(bound, 10, 31)
	if err != nil {
		return ArgSpec{}, fmt.Errorf("bad bound in %q", s)
	}
	a.Bound = int(n)
	return a, nil
}

// MarshalLine renders e as one database line, newline included.
func (e *Entry) MarshalLine() ([]byte, error) {
	j := jsonEntry{ID: FormatID(e.ID), Level: int(e.Level), File: e.File, Line: e.Line,
		Func: e.Func, Format: e.Format, Args: make([]string, len(e.Args)), Unit: e.Unit, Build: e.Build}
	if !utf8.ValidString(e.Format) {
		j.Format, j.FormatB64 = "", base64.StdEncoding.EncodeToString([]byte(e.Format))
	}
	for i, a := range e.Args {
		j.Args[i] = FormatArgSpec(a)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(&j); err != nil { // Encode appends the newline
		return nil, err
	}
	return buf.Bytes(), nil
}

// UnmarshalLine parses one database line (without its newline).
func UnmarshalLine(line []byte) (Entry, error) {
	var j jsonEntry
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil {
		return Entry{}, err
	}
	if dec.More() {
		return Entry{}, errors.New("trailing data after the JSON object")
	}
	id, err := ParseID(j.ID)
	if err != nil {
		return Entry{}, err
	}
	if j.Level < 0 || (j.Level > 7 && j.Level != LevelRuntime) {
		return Entry{}, fmt.Errorf("bad level %d", j.Level)
	}
	if j.Line < 0 {
		return Entry{}, fmt.Errorf("bad line %d", j.Line)
	}
	if j.FormatB64 != "" {
		if j.Format != "" {
			return Entry{}, errors.New("both format and format_b64")
		}
		b, err := base64.StdEncoding.DecodeString(j.FormatB64)
		if err != nil {
			return Entry{}, fmt.Errorf("format_b64: %w", err)
		}
		j.Format = string(b)
	}
	e := Entry{Site: Site{ID: id, Level: uint8(j.Level), File: j.File, Line: j.Line,
		Func: j.Func, Format: j.Format, Args: make([]ArgSpec, len(j.Args))}, Unit: j.Unit, Build: j.Build}
	for i, s := range j.Args {
		a, err := ParseArgSpec(s)
		if err != nil {
			return Entry{}, err
		}
		if a.Class == ClassStrMax && a.BoundArg >= len(j.Args) {
			return Entry{}, fmt.Errorf("string bound names argument %d of %d", a.BoundArg, len(j.Args))
		}
		e.Args[i] = a
	}
	return e, nil
}

// Problem kinds reported by Read and Check.
const (
	ProblemTorn      = "torn"      // a line that does not parse (a killed writer, or damage); skipped
	ProblemDuplicate = "duplicate" // the same site recorded more than once (rebuilds, shared headers); harmless
	ProblemConflict  = "conflict"  // one ID, two different sites: the database cannot be trusted for it
	ProblemBadID     = "bad-id"    // the ID is not the one SiteID derives from the site
)

// Problem is something wrong (or worth knowing) about a database file.
type Problem struct {
	Kind   string
	Name   string // file name
	Line   int    // 1-based line number, 0 if not about one line
	Offset int64  // byte offset of that line
	ID     uint64
	Msg    string
}

func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.Name)
	if p.Line > 0 {
		fmt.Fprintf(&b, ":%d (byte %d)", p.Line, p.Offset)
	}
	fmt.Fprintf(&b, ": %s", p.Kind)
	if p.ID != 0 {
		fmt.Fprintf(&b, " %s", FormatID(p.ID))
	}
	if p.Msg != "" {
		fmt.Fprintf(&b, ": %s", p.Msg)
	}
	return b.String()
}

// RawEntry is an entry with where it was read from.
type RawEntry struct {
	Entry
	Name   string
	Line   int
	Offset int64
}

// MaxLineLen bounds one database line: a longer one is reported as torn
// instead of being read into memory.
const MaxLineLen = 1 << 20

// Read parses a database stream line by line, without deduplicating. Lines
// that do not parse (including a last line without its newline: a writer
// killed mid-write) are skipped and returned as problems; only I/O errors
// are errors.
func Read(r io.Reader, name string) ([]RawEntry, []Problem, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	head, _ := br.Peek(512)
	if err := notDatabase(head, name); err != nil {
		return nil, nil, err
	}
	var (
		out   []RawEntry
		probs []Problem
		off   int64
		lineN int
	)
	for {
		line, tooLong, err := readLine(br)
		if err != nil && err != io.EOF {
			return out, probs, fmt.Errorf("%s: byte %d: %w", name, off, err)
		}
		if len(line) == 0 && err == io.EOF {
			return out, probs, nil
		}
		lineN++
		start := off
		off += int64(len(line))
		complete := len(line) > 0 && line[len(line)-1] == '\n'
		body := bytes.TrimSuffix(line, []byte("\n"))
		switch {
		case tooLong:
			probs = append(probs, Problem{Kind: ProblemTorn, Name: name, Line: lineN, Offset: start, Msg: fmt.Sprintf("line longer than %d bytes", MaxLineLen)})
		case len(bytes.TrimSpace(body)) == 0:
			// blank lines are allowed (hand-edited files)
		case !complete:
			probs = append(probs, Problem{Kind: ProblemTorn, Name: name, Line: lineN, Offset: start, Msg: "last line has no newline (a writer was interrupted); skipped"})
		default:
			e, perr := UnmarshalLine(body)
			if perr != nil {
				probs = append(probs, Problem{Kind: ProblemTorn, Name: name, Line: lineN, Offset: start, Msg: perr.Error()})
				break
			}
			out = append(out, RawEntry{Entry: e, Name: name, Line: lineN, Offset: start})
		}
		if err == io.EOF {
			return out, probs, nil
		}
	}
}

// NotDatabaseError is Read's error for data that is no database at all.
type NotDatabaseError struct {
	Name string
	What string // what it is instead
	ELF  bool   // an ELF file (ExtractELF reads its sites)
}

func (e *NotDatabaseError) Error() string { return e.Name + ": not a format database: " + e.What }

// notDatabase recognises binary data by the start of a stream: a
// database is text, and its first line (a torn write leaves only the
// last one damaged) holds no NUL byte.
func notDatabase(head []byte, name string) error {
	switch {
	case bytes.HasPrefix(head, []byte("\x7fELF")):
		return &NotDatabaseError{Name: name, What: "an ELF file", ELF: true}
	case bytes.HasPrefix(head, []byte("LOGPACK\n")): // internal/logfile.Magic
		return &NotDatabaseError{Name: name, What: "a binary log"}
	}
	line, _, _ := bytes.Cut(head, []byte("\n"))
	if i := bytes.IndexByte(line, 0); i >= 0 {
		return &NotDatabaseError{Name: name, What: fmt.Sprintf("binary data (a NUL byte at offset %d)", i)}
	}
	return nil
}

// readLine returns one line including its newline; a line over MaxLineLen
// is consumed and reported as tooLong with only its tail kept (so the
// caller can still see whether it ended with a newline).
func readLine(br *bufio.Reader) (line []byte, tooLong bool, err error) {
	for {
		frag, e := br.ReadSlice('\n')
		if len(line)+len(frag) > MaxLineLen {
			tooLong = true
			line = append(line[:0], frag...)
		} else {
			line = append(line, frag...)
		}
		if e == bufio.ErrBufferFull {
			continue
		}
		return line, tooLong, e
	}
}

// DB is a loaded database: one entry per site ID, in a deterministic
// order (file, line, function, format, ID).
type DB struct {
	Entries []Entry
	byID    map[uint64]int
}

// Load reads database files, skipping and reporting torn lines, and
// deduplicates by ID. Duplicates and conflicts are reported by Check, not
// here; on a conflict the first entry read wins.
func Load(paths ...string) (*DB, []Problem, error) {
	var all []RawEntry
	var probs []Problem
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return nil, probs, err
		}
		es, ps, err := Read(f, p)
		f.Close()
		probs = append(probs, ps...)
		if err != nil {
			return nil, probs, err
		}
		all = append(all, es...)
	}
	es := make([]Entry, len(all))
	for i := range all {
		es[i] = all[i].Entry
	}
	return New(es), probs, nil
}

// New builds a DB from entries: deduplicated by ID (first wins), sorted.
func New(entries []Entry) *DB {
	db := &DB{byID: make(map[uint64]int, len(entries))}
	for _, e := range entries {
		if _, ok := db.byID[e.ID]; ok {
			continue
		}
		db.byID[e.ID] = len(db.Entries)
		db.Entries = append(db.Entries, e)
	}
	sort.SliceStable(db.Entries, func(i, j int) bool { return lessEntry(&db.Entries[i], &db.Entries[j]) })
	for i, e := range db.Entries {
		db.byID[e.ID] = i
	}
	return db
}

func lessEntry(a, b *Entry) bool {
	if a.File != b.File {
		return a.File < b.File
	}
	if a.Line != b.Line {
		return a.Line < b.Line
	}
	if a.Func != b.Func {
		return a.Func < b.Func
	}
	if a.Format != b.Format {
		return a.Format < b.Format
	}
	return a.ID < b.ID
}

// Lookup returns the entry for a site ID.
func (db *DB) Lookup(id uint64) (*Entry, bool) {
	i, ok := db.byID[id]
	if !ok {
		return nil, false
	}
	return &db.Entries[i], true
}

// Len is the number of distinct sites.
func (db *DB) Len() int { return len(db.Entries) }

// Write writes the database as JSON lines in its deterministic order.
func (db *DB) Write(w io.Writer) error {
	bw := bufio.NewWriter(w)
	for i := range db.Entries {
		b, err := db.Entries[i].MarshalLine()
		if err != nil {
			return err
		}
		bw.Write(b)
	}
	return bw.Flush()
}

// Merge combines databases: the union of their sites, deduplicated by ID
// (the first database's entry wins on a conflict; run Check first).
func Merge(dbs ...*DB) *DB {
	var es []Entry
	for _, d := range dbs {
		es = append(es, d.Entries...)
	}
	return New(es)
}

// MarshalEntries renders entries as one byte slice of database lines, so
// that a writer can append them with a single write.
func MarshalEntries(entries []Entry) ([]byte, error) {
	var buf []byte
	for i := range entries {
		b, err := entries[i].MarshalLine()
		if err != nil {
			return nil, err
		}
		buf = append(buf, b...)
	}
	return buf, nil
}

// Append adds entries to the database file at path (created if missing)
// with one O_APPEND write: concurrent writers (make -j) never interleave
// lines and need no lock. A short write (disk full) is an error; what did
// get written is at worst one torn last line that readers skip.
func Append(path string, entries []Entry) error {
	if len(entries) == 0 {
		return nil
	}
	buf, err := MarshalEntries(entries)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	// A torn last line (an earlier writer hit a full disk) must not swallow
	// our first line: start on a fresh line. Racing with another writer
	// only adds a blank line, which readers ignore.
	if st, err := f.Stat(); err == nil && st.Size() > 0 {
		var last [1]byte
		if _, err := f.ReadAt(last[:], st.Size()-1); err == nil && last[0] != '\n' {
			buf = append([]byte{'\n'}, buf...)
		}
	}
	n, err := f.Write(buf)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && n != len(buf) {
		err = io.ErrShortWrite
	}
	if err != nil {
		return fmt.Errorf("appending %d sites to %s: %w", len(entries), path, err)
	}
	return nil
}

// Check reports duplicates (the same site more than once), conflicts (one
// ID, different sites) and entries whose ID is not SiteID of their site.
// Problems come in input order.
func Check(entries []RawEntry) []Problem {
	var probs []Problem
	first := make(map[uint64]int, len(entries))
	for i := range entries {
		e := &entries[i]
		if want := SiteID(&e.Site); want != e.ID {
			probs = append(probs, Problem{Kind: ProblemBadID, Name: e.Name, Line: e.Line, Offset: e.Offset, ID: e.ID,
				Msg: fmt.Sprintf("the site's content gives %s", FormatID(want))})
		}
		j, seen := first[e.ID]
		if !seen {
			first[e.ID] = i
			continue
		}
		f := &entries[j]
		if SameSite(&f.Site, &e.Site) {
			probs = append(probs, Problem{Kind: ProblemDuplicate, Name: e.Name, Line: e.Line, Offset: e.Offset, ID: e.ID,
				Msg: fmt.Sprintf("same site as %s:%d (unit %s)", f.Name, f.Line, f.Unit)})
		} else {
			probs = append(probs, Problem{Kind: ProblemConflict, Name: e.Name, Line: e.Line, Offset: e.Offset, ID: e.ID,
				Msg: fmt.Sprintf("differs from %s:%d: %s", f.Name, f.Line, siteDiff(&f.Site, &e.Site))})
		}
	}
	return probs
}

// SameSite reports whether two sites render identically (ID included).
func SameSite(a, b *Site) bool {
	if a.ID != b.ID || a.Level != b.Level || a.File != b.File || a.Line != b.Line ||
		a.Func != b.Func || a.Format != b.Format || len(a.Args) != len(b.Args) {
		return false
	}
	for i := range a.Args {
		if FormatArgSpec(a.Args[i]) != FormatArgSpec(b.Args[i]) {
			return false
		}
	}
	return true
}

func siteDiff(a, b *Site) string {
	switch {
	case a.Level != b.Level:
		return fmt.Sprintf("level %d vs %d", a.Level, b.Level)
	case a.File != b.File || a.Line != b.Line:
		return fmt.Sprintf("%s:%d vs %s:%d", a.File, a.Line, b.File, b.Line)
	case a.Func != b.Func:
		return fmt.Sprintf("function %q vs %q", a.Func, b.Func)
	case a.Format != b.Format:
		return fmt.Sprintf("format %q vs %q", a.Format, b.Format)
	}
	return "argument classes differ"
}
