package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"

	"github.com/logpack/logpack/decoder"
)

// stdin is the input of LOG "-" (a variable for tests).
var stdin io.Reader = os.Stdin

func runDecode(args []string, stdout, stderr io.Writer) int {
	c := newCLI("logpack decode", stdout, stderr,
		`Renders binary logs ('-': standard input; a FIFO or device is read as a
stream, its header first) as the text printf would have printed, records
of all processes and threads merged by time, each program run (session)
on its own. A file that is not a logpack log is the program's
own text log of the run: its lines that are not records (CRIU's parasite
and restorer, command output) are shown in their place; without one, the
text log the log's text marks name is used if it is there. Level, pid and
site filters apply to records only; --grep to both. Anything skipped
(damage, a cut-off tail, unknown sites, a text log of no session) is
summarised on standard error and makes the exit status 1, as does a log
that cannot be read; usage errors exit 2.`,
		"logpack decode [options] LOG... [TEXTLOG...]")
	c.footer = redactHelp
	flags := c.flags
	dbPath := flags.String("db", "", "check that the log's sites belong to the format database `FILE` (the build's database from logpack cc --db)")
	format := flags.String("format", "plain", "output `FORMAT`: plain (messages exactly as printf printed them), criu (CRIU's log layout) or json (one object per record)")
	level := flags.Int("level", -1, "keep records of level <= `N` (0 msg, 1 error, 2 warn, 3 info, 4 debug; default: all); in criu format N >= 3 (or no --level) adds timestamps")
	pids := flags.UintSlice("pid", nil, "keep only records of process `PID` (repeatable, or comma-separated)")
	sites := flags.StringArray("site", nil, "keep only records of the call site `FILE:LINE` (or all sites of FILE; a path suffix matches); repeatable")
	grep := flags.String("grep", "", "keep only records, and lines of text logs, that contain `TEXT`")
	textNames := flags.StringArray("text", nil, "merge the program's own text log `FILE` of the run (as a TEXTLOG argument does); 'none': do not look for it where the log's text marks say; repeatable")
	session := flags.Int("session", 0, "decode only session `N` (1, 2, ...: the program runs in the log, in order of start; see logpack stats)")
	follow := flags.Bool("follow", false, "keep reading a log that is still being written, like tail -f (one LOG; stop with Ctrl-C)")
	force := flags.Bool("force", false, "decode even if the log does not match --db")
	redact := flags.Bool("redact", false, "replace string arguments and IP addresses by pseudonyms (see below)")
	out := flags.StringP("output", "o", "-", "write the output to `OUT` (default: standard output)")
	if st, done := c.parse(args); done {
		return st
	}
	if st, ok := c.operands(1, -1, "LOG"); !ok {
		return st
	}
	if os.Getenv("GOGC") == "" {
		// What the decoder keeps is mostly long-lived (the log's index,
		// output buffers) and it allocates little per record: half the
		// collector's default headroom (as much again as is live) takes
		// a fifth off its peak memory on a large log, at no measurable
		// cost in time.
		debug.SetGCPercent(50)
	}
	fail := c.usageError
	// Files that are not logpack logs are text logs.
	var logs, empty []string
	tx := &textLogs{auto: true}
	for _, name := range flags.Args() {
		// Following, every file is a LOG (an empty one may become one).
		log, isEmpty := isLog(name)
		if *follow || log {
			logs = append(logs, name)
		} else {
			tx.named = append(tx.named, name)
			if isEmpty {
				empty = append(empty, name)
			}
		}
	}
	for _, name := range *textNames {
		if name == "none" {
			tx.auto = false
		} else {
			tx.named = append(tx.named, name)
		}
	}
	if len(logs) == 0 {
		if len(empty) > 0 {
			// A log is made in place: empty until its header is written.
			return fail("no LOG among the arguments: %s is empty (a log not made yet, or whose making was cut short; --follow waits for it)", empty[0])
		}
		return fail("no LOG among the arguments: %s is not a logpack log", strings.Join(tx.named, ", "))
	}
	f, err := decoder.ParseFormat(*format)
	if err != nil {
		return c.badValue("format", *format, "plain, criu or json")
	}
	if *session < 0 {
		return fail("--session %d: sessions are numbered from 1", *session)
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
	if *follow && (len(tx.named) > 0 || len(logs) > 1) {
		return fail("--follow takes one LOG file and does not merge text logs")
	}
	if *follow && logs[0] == "-" {
		return fail("--follow takes a LOG file, not standard input")
	}
	tx.auto = tx.auto && !*follow
	inputs := append(append(append([]string(nil), logs...), tx.named...), *dbPath)
	if st, ok := c.oneStdin(inputs); !ok {
		return st
	}
	if err := checkOutput(*out, inputs...); err != nil {
		return fail("%v", err)
	}
	for _, name := range tx.named {
		data, err := readTextLog(name)
		if err != nil {
			return c.fail("text log: %v", err)
		}
		tx.logs = append(tx.logs, decoder.NewTextLog(name, data))
	}
	tx.auto = tx.auto && len(tx.logs) == 0
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
		st := decodeOne(name, f, filter, opts, wopts, *follow, *session, tx, w, stderr)
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
	for _, t := range tx.logs {
		if t.Session == nil {
			c.errorf("%s: not merged: no text mark of the log names it, none of its lines is the text of a record, and the log has more than one session", t.Name)
			status = max(status, exitFailure)
		}
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

// textLogs are the text logs of a decode: those named, which each go with
// the first log they belong to, or, if none is named and auto is set,
// the ones the log's text marks name.
type textLogs struct {
	named []string
	logs  []*decoder.TextLog
	auto  bool
}

// isLog reports whether a file argument is a logpack log (or standard
// input, or something that cannot be read, which decoding reports). A
// file that is not a regular one (a FIFO, a device) is a LOG: reading
// its start to tell would take it from the decoder, and a text log is
// read whole. empty: a regular file with nothing in it yet.
func isLog(name string) (log, empty bool) {
	if name == "-" {
		return true, false
	}
	if st, err := os.Stat(name); err != nil || !st.Mode().IsRegular() {
		return true, false
	}
	f, err := os.Open(name)
	if err != nil {
		return true, false
	}
	defer f.Close()
	var magic [8]byte
	n, _ := io.ReadFull(f, magic[:])
	return string(magic[:n]) == "LOGPACK\n", n == 0
}

// maxStreamText bounds a text log read from a FIFO or a device (a
// regular file is read as long as it is).
const maxStreamText = 64 << 20

// readTextLog reads a text log.
func readTextLog(name string) ([]byte, error) {
	if st, err := os.Stat(name); err == nil && st.Mode().IsRegular() {
		return os.ReadFile(name)
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// A device of zeros is no text log: say so before reading much.
	head := make([]byte, 4096)
	n, err := io.ReadFull(f, head)
	if bytes.IndexByte(head[:n], 0) >= 0 {
		return nil, fmt.Errorf("%s: not a text log (NUL bytes)", name)
	}
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	rest, err := io.ReadAll(io.LimitReader(f, maxStreamText+1-int64(n)))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if n+len(rest) > maxStreamText {
		return nil, fmt.Errorf("%s: over %d MiB: not a text log", name, maxStreamText>>20)
	}
	return append(head[:n], rest...), nil
}

// merge returns the text logs to merge into d: the named ones not merged
// with an earlier log, or those d's text marks name that are there and
// as long as the marks say (saying so on stderr).
func (tx *textLogs) merge(d *decoder.Decoder, name string, stderr io.Writer) []*decoder.TextLog {
	var out []*decoder.TextLog
	for _, t := range tx.logs {
		if t.Session == nil {
			out = append(out, t)
		}
	}
	if !tx.auto {
		return out
	}
	// A file several sessions name (the stderr of every run of a test
	// suite) is read once.
	var loaded []os.FileInfo
	for _, s := range d.Sessions() {
		// The file a session's marks named last is its log; one named
		// earlier was where it wrote before opening that (CRIU: stderr
		// before -o), often a file that others write too.
		refs := s.TextLogs()
		if len(refs) > 1 {
			refs = refs[len(refs)-1:]
		}
		for _, ref := range refs {
			cands := []string{ref.Path}
			if !filepath.IsAbs(ref.Path) && name != "-" {
				cands = append(cands, filepath.Join(filepath.Dir(name), ref.Path))
			}
			for _, p := range cands {
				st, err := os.Stat(p)
				if err != nil || !st.Mode().IsRegular() || uint64(st.Size()) < ref.Size {
					continue
				}
				if slices.ContainsFunc(loaded, func(fi os.FileInfo) bool { return os.SameFile(fi, st) }) {
					break
				}
				loaded = append(loaded, st)
				data, err := os.ReadFile(p)
				if err != nil {
					continue
				}
				fmt.Fprintf(stderr, "logpack decode: %s: merging the program's text log %s, named by the log's text marks (--text=none leaves it out)\n", name, p)
				out = append(out, decoder.NewTextLog(p, data))
				break
			}
		}
	}
	return out
}

// decodeOne decodes one LOG and reports what it skipped. It returns 2
// when nothing of the log could be decoded (runDecode makes that status 1).
func decodeOne(name string, f decoder.Format, filter *decoder.Filter, opts *decoder.Options, wopts *decoder.WriterOptions, follow bool, session int, tx *textLogs, w, stderr io.Writer) int {
	display := name
	var d *decoder.Decoder
	var err error
	if name == "-" {
		display = "standard input"
		if d, err = decoder.ReadAll(stdin, opts); err != nil {
			err = fmt.Errorf("%s: %w", display, err)
		}
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
		ctx, damaged := context.WithCancel(ctx)
		defer damaged()
		fo := *opts
		fo.OnSkip = func(s decoder.Skip) {
			// A log being written has no damage: waiting would not
			// mend it.
			fmt.Fprintf(stderr, "logpack decode: %s: skipped %s\n", display, s)
			skips = append(skips, s)
			damaged()
		}
		fl := decoder.Follow(name, &fo)
		rw = decoder.NewWriter(w, f, wopts)
		for r, err := range fl.Records(ctx) {
			if err != nil {
				rw.Flush()
				var pe *fs.PathError
				if errors.As(err, &pe) {
					fmt.Fprintf(stderr, "logpack decode: %v\n", err)
				} else {
					fmt.Fprintf(stderr, "logpack decode: %s: %v\n", display, err)
				}
				return 2
			}
			if filter.Keep(r) && (session == 0 || r.Proc.Session.N == session) {
				_, err = rw.WriteRecord(r)
			}
			if err == nil && fl.CaughtUp() {
				err = rw.Flush()
			}
			if err != nil {
				fmt.Fprintf(stderr, "logpack decode: %v\n", err)
				return 2
			}
		}
		if err := rw.Flush(); err != nil {
			fmt.Fprintf(stderr, "logpack decode: %v\n", err)
			return 2
		}
		if len(skips) > 0 {
			fmt.Fprintf(stderr, "logpack decode: %s: the log is damaged: stopped following\n", display)
			return 1
		}
		return 0
	}
	defer d.Close()
	if me := d.Mismatch(); me != nil {
		fmt.Fprintf(stderr, "logpack decode: warning: %v (decoding anyway: --force)\n", me)
	}
	var only *decoder.Session
	if session > 0 {
		ss := d.Sessions()
		if session > len(ss) {
			what := "sessions"
			if len(ss) == 1 {
				what = "session"
			}
			fmt.Fprintf(stderr, "logpack decode: --session %d: %s has %d %s\n", session, display, len(ss), what)
			return 2
		}
		only = ss[session-1]
	}
	var texts *decoder.TextMerge
	if tl := tx.merge(d, name, stderr); len(tl) > 0 {
		if texts, err = d.MergeText(tl...); err != nil {
			fmt.Fprintf(stderr, "logpack decode: %s: %v\n", display, err)
			return 2
		}
	}
	rw = decoder.NewWriter(w, f, wopts)
	write := func(r *decoder.Record) error {
		if !filter.Keep(r) {
			return nil
		}
		_, err := rw.WriteRecord(r)
		return err
	}
	var werr error
	if texts == nil {
		if err := d.WriteRecords(rw, filter, only); err != nil {
			var we *writeError
			if errors.As(err, &we) {
				werr = err
			} else {
				rw.Flush()
				fmt.Fprintf(stderr, "logpack decode: %s: %v\n", display, err)
				return 2
			}
		}
	} else {
		for e, err := range texts.Entries(only) {
			if err != nil {
				rw.Flush()
				fmt.Fprintf(stderr, "logpack decode: %s: %v\n", display, err)
				return 2
			}
			if e.Record != nil {
				werr = write(e.Record)
			} else {
				_, werr = rw.WriteText(e.Text)
			}
			if werr != nil {
				break
			}
		}
		if rw.RedactedText > 0 {
			fmt.Fprintf(stderr, "logpack decode: %s: %d lines only the text log has are left out: --redact cannot tell their arguments from their text\n", display, rw.RedactedText)
		}
	}
	if werr != nil {
		fmt.Fprintf(stderr, "logpack decode: %v\n", werr)
		return 2
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
	for _, p := range d.Processes() {
		if p.Dropped > 0 {
			fmt.Fprintf(stderr, "%s: %s: note: process %d (session %d) dropped %d records while logging (log full or unwritable)\n", prog, name, p.PID, p.Session.N, p.Dropped)
		}
	}
	if n, recs := d.CutStrings(); n > 0 {
		fmt.Fprintf(stderr, "%s: %s: note: %d strings in %d records were cut to fit a record; the text shows what was recorded (json: \"cut\")\n", prog, name, n, recs)
	}
	// The header counts every drop; a writer that never got space again
	// could not mark its own (a process that lost the log's descriptor).
	if all, marked := d.Dropped(); all > marked {
		if marked == 0 {
			fmt.Fprintf(stderr, "%s: %s: note: writers dropped %d records while logging (log full or unwritable)\n", prog, name, all)
		} else {
			fmt.Fprintf(stderr, "%s: %s: note: writers dropped %d records in all while logging; %d of them by writers that could not say which\n", prog, name, all, all-marked)
		}
	}
	for _, n := range d.ClockNotes() {
		fmt.Fprintf(stderr, "%s: %s: note: %s\n", prog, name, n)
	}
	if n := d.Header().ToText; n > 0 {
		fmt.Fprintf(stderr, "%s: %s: note: %d records did not fit the log and were printed as text instead: decoding with the program's text log shows them in place\n", prog, name, n)
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

// redactHelp states exactly what --redact removes and what it keeps.
const redactHelp = `--redact replaces, in the rendered output:
  - every string argument that printed something (%s: paths, names, any
    text passed as an argument, and also the string constants, such as
    __FILE__ in an error's prefix, that the build folded into the site's
    format) by a pseudonym of the part printf printed (up to the
    directive's precision or a NUL byte): <sN>, or <ipN> when that part
    is an IP address. Nothing of the string is kept, not even its
    length: the pseudonym is printed whole, padded to the directive's
    width;
  - every IPv4 (a.b.c.d) or IPv6 address left in the message text (from
    numbers or the format's own text) by <ipN>.
Pseudonyms are stable and one-to-one within one output: the same printed
text always gets the same pseudonym, different texts different ones.
It keeps: the format text of every call site as written (with anything
a macro put there, but not the constant strings passed as arguments),
numbers of every kind (integers, hex values, pointers, floats), %c
characters, error texts (%m, strerror(errno)), "(null)" for NULL
strings, empty strings (and strings a precision cut to nothing),
timestamps, pids and tids, CRIU's pid prefixes, and in json format the
site's file, line and function names (its place in the source, which
__FILE__ as an argument repeats). Lines only the program's text log has
are left out: they have no arguments to tell from their text.`
