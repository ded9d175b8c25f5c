package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"time"

	"github.com/logpack/logpack/decoder"
)

// stdin is the input of LOG "-" (a variable for tests).
var stdin io.Reader = os.Stdin

func runDecode(args []string, stdout, stderr io.Writer) int {
	c := newCLI("logpack decode", stdout, stderr,
		`Renders binary logs ('-': standard input) as the text printf would have
printed, records of all processes and threads merged by time. Anything
skipped (damage, a cut-off tail, unknown sites) is summarised on standard
error and makes the exit status 1, as does a log that cannot be read.`,
		"logpack decode [options] LOG...")
	c.footer = decoder.RedactHelp
	flags := c.flags
	dbPath := flags.String("db", "", "check that the log's sites belong to the format database `FILE` (the build's database from logpack cc --db)")
	format := flags.String("format", "plain", "output `FORMAT`: plain (messages exactly as printf printed them), criu (CRIU's log layout) or json (one object per record)")
	level := flags.Int("level", -1, "keep records of level <= `N` (0 msg, 1 error, 2 warn, 3 info, 4 debug; default: all); in criu format N >= 3 (or no --level) adds timestamps")
	pids := flags.UintSlice("pid", nil, "keep only records of process `PID` (repeatable, or comma-separated)")
	sites := flags.StringArray("site", nil, "keep only records of the call site `FILE:LINE` (or all sites of FILE; a path suffix matches); repeatable")
	grep := flags.String("grep", "", "keep only records whose message contains `TEXT`")
	follow := flags.Bool("follow", false, "keep reading a log that is still being written, like tail -f (one LOG; stop with Ctrl-C)")
	force := flags.Bool("force", false, "decode even if the log does not match --db or its site descriptors do not match their IDs")
	redact := flags.Bool("redact", false, "replace string arguments and IP addresses by pseudonyms (see below)")
	out := flags.StringP("output", "o", "-", "write the output to `OUT` (default: standard output)")
	if st, done := c.parse(args); done {
		return st
	}
	if st, ok := c.operands(1, -1, "LOG"); !ok {
		return st
	}
	logs := flags.Args()
	fail := c.usageError
	f, err := decoder.ParseFormat(*format)
	if err != nil {
		return c.badValue("format", *format, "plain, criu or json")
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
	if st, ok := c.oneStdin(append(logs, *dbPath)); !ok {
		return st
	}
	if err := checkOutput(*out, append(logs, *dbPath)...); err != nil {
		return fail("%v", err)
	}
	opts := &decoder.Options{Force: *force}
	if *dbPath != "" {
		db, _, probs, err := loadDBs([]string{*dbPath})
		if err != nil {
			return c.fail("--db: %v", err)
		}
		for _, p := range probs {
			fmt.Fprintf(stderr, "logpack decode: %s\n", p)
		}
		opts.DB, opts.DBName = db, *dbPath
	}
	how := 0
	if *follow {
		how = outInPlace // the output grows with the log
	}
	o, err := createOutput(*out, stdout, how)
	if err != nil {
		return c.fail("%v", err)
	}
	w := io.Writer(o)
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
	status, decoded := exitOK, false
	for _, name := range logs {
		st := decodeOne(name, f, filter, opts, wopts, *follow, w, stderr)
		if st == 2 {
			st = exitFailure // nothing of that log
		} else {
			decoded = true
		}
		status = max(status, st)
	}
	if !decoded {
		o.abort() // an existing OUT keeps its content
		return status
	}
	reported := o.err // decodeOne reports failed writes
	if err := o.close(); err != nil {
		if reported == nil {
			c.errorf("%v", err)
		}
		return exitFailure
	}
	return status
}

// decodeOne decodes one LOG and reports what it skipped. It returns 2
// when nothing of the log could be decoded (runDecode makes that status 1).
func decodeOne(name string, f decoder.Format, filter *decoder.Filter, opts *decoder.Options, wopts *decoder.WriterOptions, follow bool, w, stderr io.Writer) int {
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
		var firstPID uint32
		err = decoder.Follow(ctx, name, &fo, 200*time.Millisecond, func(h *decoder.Header) {
			firstPID = h.FirstPID
			wo := *wopts
			wo.FirstPID = firstPID
			rw = decoder.NewWriter(w, f, &wo)
		}, func(r *decoder.Record) error {
			if !filter.Keep(r) {
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
	wo := *wopts
	wo.FirstPID = d.Header().FirstPID
	rw = decoder.NewWriter(w, f, &wo)
	for r, err := range d.Records() {
		if err != nil {
			rw.Flush()
			fmt.Fprintf(stderr, "logpack decode: %s: %v\n", display, err)
			return 2
		}
		if !filter.Keep(r) {
			continue
		}
		if _, err := rw.Write(r); err != nil {
			fmt.Fprintf(stderr, "logpack decode: %v\n", err)
			return 2
		}
	}
	if err := rw.Flush(); err != nil {
		fmt.Fprintf(stderr, "logpack decode: %v\n", err)
		return 2
	}
	return summarize("logpack decode", display, d, stderr)
}

// summarize prints what was skipped, grouped by kind, and dropped-record
// counts; it returns 1 if anything was skipped.
func summarize(prog, name string, d *decoder.Decoder, stderr io.Writer) int {
	procs := d.Processes()
	var pids []uint32
	for pid, p := range procs {
		if p.Dropped > 0 {
			pids = append(pids, pid)
		}
	}
	sort.Slice(pids, func(i, j int) bool { return pids[i] < pids[j] })
	for _, pid := range pids {
		fmt.Fprintf(stderr, "%s: %s: note: process %d dropped %d records while logging (log full or unwritable)\n", prog, name, pid, procs[pid].Dropped)
	}
	if n := d.Header().Dropped; n > 0 && len(pids) == 0 {
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
