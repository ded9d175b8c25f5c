package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/logpack/logpack/decoder"
	"github.com/logpack/logpack/fmtdb"
)

func runStats(args []string, stdout, stderr io.Writer) int {
	c := newCLI("logpack stats", stdout, stderr,
		`The sessions (program runs) in a binary log ('-': standard input): start,
pid, records, records dropped, command line; the records dropped in all
(a writer that never got room again could not say which session it
was in) and those printed as text instead. Per call site: records, bytes
in the log, share of the log's record bytes, bytes of the rendered
text, first and last time; largest first.`,
		"logpack stats [--format table|json] LOG")
	flags := c.flags
	format := flags.String("format", "table", "output `FORMAT`: table or json")
	if st, done := c.parse(args); done {
		return st
	}
	if st, ok := c.operands(1, 1, "LOG"); !ok {
		return st
	}
	if *format != "table" && *format != "json" {
		return c.badValue("format", *format, "table or json")
	}
	name := flags.Arg(0)
	var d *decoder.Decoder
	var err error
	if name == "-" {
		if d, err = decoder.ReadAll(stdin, nil); err != nil {
			err = fmt.Errorf("standard input: %w", err)
		}
	} else {
		d, err = decoder.Open(name, nil)
	}
	if err != nil {
		return c.fail("%v", err)
	}
	defer d.Close()
	st, err := d.Stats()
	if err != nil {
		return c.fail("%s: %v", name, err)
	}
	bw := bufio.NewWriter(stdout)
	if *format == "json" {
		writeStatsJSON(bw, d, st)
	} else {
		writeStatsTable(bw, d, st)
	}
	if err := bw.Flush(); err != nil {
		return c.fail("%v", err)
	}
	return summarize("logpack stats", name, d, stderr)
}

func share(part, whole int64) float64 {
	if whole == 0 {
		return 0
	}
	return 100 * float64(part) / float64(whole)
}

// seconds formats ns as CRIU's timestamps do under 100 s: SS.uuuuuu.
func seconds(ns int64) string {
	ns = max(ns, 0)
	return fmt.Sprintf("%02d.%06d", ns/1e9, ns%1e9/1e3)
}

func writeStatsTable(w *bufio.Writer, d *decoder.Decoder, st *decoder.Stats) {
	h := d.Header()
	fmt.Fprintf(w, "%s: %d records, %d bytes of records (text: %d bytes, %.2fx smaller), %d sites\n",
		h.Exe, st.Records, st.Bytes, st.TextBytes, ratio(st.TextBytes, st.Bytes), len(st.Sites))
	if all, marked := d.Dropped(); all > 0 {
		fmt.Fprintf(w, "dropped while logging (log full or unwritable): %d records", all)
		if all > marked {
			fmt.Fprintf(w, ", %d of them by writers that could not say which (in no session below)", all-marked)
		}
		fmt.Fprintln(w)
	}
	if h.ToText > 0 {
		fmt.Fprintf(w, "printed as text instead (the log could not take them; they are in the program's text log): %d records\n", h.ToText)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "%7s  %-26s %7s %9s %8s  %s\n", "session", "start (UTC)", "pid", "records", "dropped", "command line (executable)")
	for _, s := range d.Sessions() {
		fmt.Fprintf(w, "%7d  %-26s %7s %9d %8d  %s\n", s.N, s.Time.UTC().Format("2006-01-02 15:04:05.000000"), sessionPID(s), s.Records, s.Dropped, sessionCommand(s))
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "%9s %11s %6s %11s %11s %11s  %s\n", "records", "bytes", "share", "text", "first", "last", "site")
	for _, s := range st.Sites {
		fmt.Fprintf(w, "%9d %11d %5.1f%% %11d %11s %11s  %s:%d %s\n",
			s.Count, s.Bytes, share(s.Bytes, st.Bytes), s.TextBytes, seconds(s.First), seconds(s.Last),
			s.Site.File, s.Site.Line, shorten(s.Site.Format, 60))
	}
}

// sessionPID is the pid of the process that started s ("-" for the
// records of processes without a process record).
func sessionPID(s *decoder.Session) string {
	if s.Process == nil || s.Process.Offset < 0 {
		return "-"
	}
	return strconv.FormatUint(uint64(s.Process.PID), 10)
}

// sessionCommand is the command line of the process that started s, with
// its executable.
func sessionCommand(s *decoder.Session) string {
	p := s.Process
	if p == nil || p.Offset < 0 {
		return "(records of processes without a process record)"
	}
	var q []string
	for _, a := range p.Cmdline {
		q = append(q, shellQuote(a))
	}
	return strings.Join(q, " ") + " (" + p.Exe + ")"
}

// shellQuote quotes an argument for reading, as a shell would take it.
func shellQuote(a string) string {
	if a != "" && strings.Trim(a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,+@%") == "" {
		return a
	}
	return "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
}

func ratio(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// shorten quotes a format for one table cell.
func shorten(f string, n int) string {
	q := strconv.Quote(f)
	q = q[1 : len(q)-1]
	if len(q) > n {
		q = q[:n-3] + "..."
	}
	return q
}

type statsSiteJSON struct {
	Site      string  `json:"site"`
	File      string  `json:"file"`
	Line      int     `json:"line"`
	Func      string  `json:"func"`
	Format    string  `json:"format"`
	Level     int     `json:"level"`
	Records   int     `json:"records"`
	Bytes     int64   `json:"bytes"`
	Share     float64 `json:"share"`
	TextBytes int64   `json:"text_bytes"`
	FirstNS   int64   `json:"first_ns"`
	LastNS    int64   `json:"last_ns"`
}

type statsSessionJSON struct {
	N         int      `json:"n"`
	ID        string   `json:"id"`
	StartNS   int64    `json:"start_ns"` // since the file was created
	Time      string   `json:"time"`
	PID       uint32   `json:"pid"`
	Exe       string   `json:"exe"`
	Cmdline   []string `json:"cmdline"`
	Records   int      `json:"records"`
	Processes int      `json:"processes"`
	Dropped   uint64   `json:"dropped"` // marked by its processes
}

type statsJSON struct {
	Exe       string `json:"exe"`
	BuildID   string `json:"build_id"`
	Records   int    `json:"records"`
	Bytes     int64  `json:"bytes"`
	TextBytes int64  `json:"text_bytes"`
	// Dropped is every record the writers dropped (the header's count);
	// DroppedMarked those they marked in the log, which the sessions'
	// dropped counts sum to; ToText the records the log could not take
	// that were printed as text instead.
	Dropped       uint64             `json:"dropped"`
	DroppedMarked uint64             `json:"dropped_marked"`
	ToText        uint64             `json:"to_text"`
	Sessions      []statsSessionJSON `json:"sessions"`
	Sites         []statsSiteJSON    `json:"sites"`
}

func writeStatsJSON(w *bufio.Writer, d *decoder.Decoder, st *decoder.Stats) {
	h := d.Header()
	out := statsJSON{Exe: h.Exe, BuildID: fmtdb.FormatID(h.BuildID), Records: st.Records, Bytes: st.Bytes, TextBytes: st.TextBytes,
		ToText: h.ToText, Sessions: []statsSessionJSON{}, Sites: []statsSiteJSON{}}
	out.Dropped, out.DroppedMarked = d.Dropped()
	for _, s := range d.Sessions() {
		js := statsSessionJSON{N: s.N, ID: fmtdb.FormatID(s.ID), StartNS: s.Start, Time: s.Time.UTC().Format(time.RFC3339Nano),
			Records: s.Records, Processes: len(s.Processes), Dropped: s.Dropped, Cmdline: []string{}}
		if p := s.Process; p != nil && p.Offset >= 0 {
			js.PID, js.Exe, js.Cmdline = p.PID, p.Exe, append(js.Cmdline, p.Cmdline...)
		}
		out.Sessions = append(out.Sessions, js)
	}
	for _, s := range st.Sites {
		out.Sites = append(out.Sites, statsSiteJSON{
			Site: fmtdb.FormatID(s.Site.ID), File: s.Site.File, Line: s.Site.Line, Func: s.Site.Func,
			Format: s.Site.Format, Level: int(s.Site.Level), Records: s.Count, Bytes: s.Bytes,
			Share: share(s.Bytes, st.Bytes), TextBytes: s.TextBytes, FirstNS: s.First, LastNS: s.Last,
		})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(out)
}
