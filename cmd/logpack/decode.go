package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/logpack/logpack/decoder"
	"github.com/logpack/logpack/fmtdb"
)

// stdin is the input of LOG "-" (a variable for tests).
var stdin io.Reader = os.Stdin

func runDecode(args []string, stdout, stderr io.Writer) int {
	flags := pflag.NewFlagSet("logpack decode", pflag.ContinueOnError)
	flags.SetOutput(stderr)
	dbPath := flags.String("db", "", "check that the log's sites belong to the format database `FILE` (the build's database from logpack cc --db)")
	format := flags.String("format", "plain", "output `FORMAT`: plain (messages exactly as printf printed them), criu (CRIU's log layout) or json (one object per record)")
	level := flags.Int("level", -1, "keep records of level <= `N` (0 msg, 1 error, 2 warn, 3 info, 4 debug; default: all); in criu format N >= 3 (or no --level) adds timestamps")
	pids := flags.UintSlice("pid", nil, "keep only records of process `PID` (repeatable, or comma-separated)")
	sites := flags.StringArray("site", nil, "keep only records of the call site `FILE:LINE` (or all sites of FILE; a path suffix matches); repeatable")
	grep := flags.String("grep", "", "keep only records whose message contains `TEXT`")
	session := flags.Int("session", 0, "decode only session `N` (1, 2, ...: the program runs in the log, in order of start; see logpack stats)")
	follow := flags.Bool("follow", false, "keep reading a log that is still being written, like tail -f (one LOG; stop with Ctrl-C)")
	force := flags.Bool("force", false, "decode even if the log does not match --db or its site descriptors do not match their IDs")
	redact := flags.Bool("redact", false, "replace string arguments and IP addresses by pseudonyms (see below)")
	out := flags.StringP("output", "o", "-", "write the output to `OUT` ('-': standard output)")
	flags.Usage = func() {
		fmt.Fprintln(stderr, "usage: logpack decode [options] LOG...   ('-' reads standard input)")
		fmt.Fprintln(stderr, "Renders binary logs as the text printf would have printed, records of all")
		fmt.Fprintln(stderr, "processes and threads merged by time. Anything skipped (damage, a cut-off")
		fmt.Fprintln(stderr, "tail, unknown sites) is summarised on standard error and makes the exit")
		fmt.Fprintln(stderr, "status 1; usage and fatal errors exit 2.")
		flags.PrintDefaults()
		fmt.Fprintln(stderr)
		io.WriteString(stderr, decoder.RedactHelp+"\n")
	}
	if err := flags.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return 0
		}
		return 2
	}
	logs := flags.Args()
	if len(logs) == 0 {
		flags.Usage()
		return 2
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "logpack decode: "+format+"\n", a...)
		return 2
	}
	f, err := decoder.ParseFormat(*format)
	if err != nil {
		return fail("%v", err)
	}
	filter := decoder.NewFilter()
	filter.MaxLevel = *level
	for _, p := range *pids {
		filter.PIDs = append(filter.PIDs, uint32(p))
	}
	for _, s := range *sites {
		ref, err := decoder.ParseSiteRef(s)
		if err != nil {
			return fail("--site: %v", err)
		}
		filter.Sites = append(filter.Sites, ref)
	}
	if *follow && (len(logs) != 1 || logs[0] == "-") {
		return fail("--follow takes exactly one LOG file")
	}
	opts := &decoder.Options{Force: *force}
	if *dbPath != "" {
		db, probs, err := fmtdb.Load(*dbPath)
		if err != nil {
			return fail("--db: %v", err)
		}
		for _, p := range probs {
			fmt.Fprintf(stderr, "logpack decode: %s\n", p)
		}
		opts.DB, opts.DBName = db, *dbPath
	}
	w := stdout
	if *out != "-" {
		fo, err := os.Create(*out)
		if err != nil {
			return fail("%v", err)
		}
		defer fo.Close()
		w = fo
	}
	wopts := &decoder.WriterOptions{Verbosity: *level}
	if *level < 0 {
		wopts.Verbosity = 4
	}
	if *grep != "" {
		wopts.Grep = []byte(*grep)
	}
	if *redact {
		wopts.Redact = decoder.NewRedactor() // one per output: pseudonyms hold across LOGs
	}
	if *session < 0 {
		return fail("--session %d: sessions are numbered from 1", *session)
	}
	status := 0
	for _, name := range logs {
		st := decodeOne(name, f, filter, opts, wopts, *follow, *session, w, stderr)
		status = max(status, st)
	}
	return status
}

// decodeOne decodes one LOG and reports what it skipped.
func decodeOne(name string, f decoder.Format, filter *decoder.Filter, opts *decoder.Options, wopts *decoder.WriterOptions, follow bool, session int, w, stderr io.Writer) int {
	display := name
	var d *decoder.Decoder
	var err error
	if name == "-" {
		display = "standard input"
		d, err = decoder.ReadAll(stdin, opts)
	} else if !follow {
		d, err = decoder.Open(name, opts)
	}
	if err != nil {
		var me *decoder.MismatchError
		if errors.As(err, &me) {
			fmt.Fprintf(stderr, "logpack decode: %v\n(use --force to decode anyway)\n", err)
		} else {
			fmt.Fprintf(stderr, "logpack decode: %v\n", err)
		}
		return 2
	}
	var rw *decoder.Writer
	var skips []decoder.Skip
	if follow {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
		defer stop()
		fo := *opts
		fo.OnSkip = func(s decoder.Skip) {
			fmt.Fprintf(stderr, "logpack decode: %s: skipped %s\n", display, s)
			skips = append(skips, s)
		}
		err = decoder.Follow(ctx, name, &fo, 200*time.Millisecond, func(h *decoder.Header) {
			rw = decoder.NewWriter(w, f, wopts)
		}, func(r *decoder.Record) error {
			if !filter.Keep(r) || session > 0 && r.Proc.Session.N != session {
				return nil
			}
			_, err := rw.Write(r)
			return err
		}, func() error { return rw.Flush() })
		if err != nil && !errors.Is(err, context.Canceled) {
			fmt.Fprintf(stderr, "logpack decode: %v\n", err)
			return 2
		}
		if len(skips) > 0 {
			return 1
		}
		return 0
	}
	defer d.Close()
	if me := d.Mismatch(); me != nil {
		fmt.Fprintf(stderr, "logpack decode: warning: %v (decoding anyway: --force)\n", me)
	}
	records := d.Records()
	if session > 0 {
		ss := d.Sessions()
		if session > len(ss) {
			fmt.Fprintf(stderr, "logpack decode: --session %d: %s has %d sessions\n", session, display, len(ss))
			return 2
		}
		records = d.SessionRecords(ss[session-1])
	}
	rw = decoder.NewWriter(w, f, wopts)
	for r, err := range records {
		if err != nil {
			rw.Flush()
			fmt.Fprintf(stderr, "logpack decode: %s: %v\n", display, err)
			return 2
		}
		if !filter.Keep(r) {
			continue
		}
		if _, err := rw.Write(r); err != nil {
			fmt.Fprintf(stderr, "logpack decode: writing: %v\n", err)
			return 2
		}
	}
	if err := rw.Flush(); err != nil {
		fmt.Fprintf(stderr, "logpack decode: writing: %v\n", err)
		return 2
	}
	return summarize("logpack decode", display, d, stderr)
}

// summarize prints what was skipped, grouped by kind, and dropped-record
// counts; it returns 1 if anything was skipped.
func summarize(prog, name string, d *decoder.Decoder, stderr io.Writer) int {
	dropped := false
	for _, p := range d.Processes() {
		if p.Dropped > 0 {
			dropped = true
			fmt.Fprintf(stderr, "%s: %s: note: process %d (session %d) dropped %d records while logging (log full or unwritable)\n", prog, name, p.PID, p.Session.N, p.Dropped)
		}
	}
	if n, recs := d.CutStrings(); n > 0 {
		fmt.Fprintf(stderr, "%s: %s: note: %d strings in %d records were cut to fit a record; the text shows what was recorded (json: \"cut\")\n", prog, name, n, recs)
	}
	if n := d.Header().Dropped; n > 0 && !dropped {
		fmt.Fprintf(stderr, "%s: %s: note: writers dropped %d records while logging\n", prog, name, n)
	}
	groups := d.SkipSummary()
	if len(groups) == 0 {
		return 0
	}
	var bytes int64
	var recs int
	for _, g := range groups {
		fmt.Fprintf(stderr, "%s: %s: skipped %s\n", prog, name, g)
		bytes += g.AllBytes
		recs += g.AllRecords
	}
	fmt.Fprintf(stderr, "%s: %s: %s\n", prog, name, strings.TrimSpace(fmt.Sprintf("in all %d bytes and %d records skipped", bytes, recs)))
	return 1
}
