package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strconv"

	"github.com/logpack/logpack/decoder"
	"github.com/logpack/logpack/fmtdb"
)

func runStats(args []string, stdout, stderr io.Writer) int {
	c := newCLI("logpack stats", stdout, stderr,
		`Per call site of a binary log ('-': standard input): records, bytes in the
log, share of the log's record bytes, bytes of the rendered text, first and
last time; largest first.`,
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
		d, err = decoder.ReadAll(stdin, nil)
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

func seconds(ns int64) string {
	b := decoder.AppendCRIUTime(nil, ns) // "(SS.uuuuuu) "
	return string(b[1 : len(b)-2])
}

func writeStatsTable(w *bufio.Writer, d *decoder.Decoder, st *decoder.Stats) {
	h := d.Header()
	fmt.Fprintf(w, "%s: %d records, %d bytes of records (text: %d bytes, %.2fx smaller), %d sites\n\n",
		h.Exe, st.Records, st.Bytes, st.TextBytes, ratio(st.TextBytes, st.Bytes), len(st.Sites))
	fmt.Fprintf(w, "%9s %11s %6s %11s %11s %11s  %s\n", "records", "bytes", "share", "text", "first", "last", "site")
	for _, s := range st.Sites {
		fmt.Fprintf(w, "%9d %11d %5.1f%% %11d %11s %11s  %s:%d %s\n",
			s.Count, s.Bytes, share(s.Bytes, st.Bytes), s.TextBytes, seconds(s.First), seconds(s.Last),
			s.Site.File, s.Site.Line, shorten(s.Site.Format, 60))
	}
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

type statsJSON struct {
	Exe       string          `json:"exe"`
	BuildID   string          `json:"build_id"`
	Records   int             `json:"records"`
	Bytes     int64           `json:"bytes"`
	TextBytes int64           `json:"text_bytes"`
	Sites     []statsSiteJSON `json:"sites"`
}

func writeStatsJSON(w *bufio.Writer, d *decoder.Decoder, st *decoder.Stats) {
	h := d.Header()
	out := statsJSON{Exe: h.Exe, BuildID: fmtdb.FormatID(h.BuildID), Records: st.Records, Bytes: st.Bytes, TextBytes: st.TextBytes, Sites: []statsSiteJSON{}}
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
