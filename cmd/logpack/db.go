package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/logpack/logpack/decoder"
	"github.com/logpack/logpack/fmtdb"
	"github.com/logpack/logpack/internal/sitetab"
)

var dbCommands = []command{
	{name: "show", args: "[--json] DB...", summary: "list the sites (a table, or JSON lines)", run: dbShow},
	{name: "check", args: "[--log LOG]... DB...", summary: "report torn lines, duplicates, conflicts and wrong IDs; with --log, whether the database describes the log", run: dbCheck},
	{name: "merge", args: "[-o OUT] DB...", summary: "combine databases (deduplicated, in a stable order)", run: dbMerge},
	{name: "extract", args: "[-o OUT] FILE", summary: "the sites in a program, shared library or object file", run: dbExtract},
}

// loadDBs loads database files ("-": standard input).
func loadDBs(paths []string) (*fmtdb.DB, []fmtdb.RawEntry, []fmtdb.Problem, error) {
	var raw []fmtdb.RawEntry
	var probs []fmtdb.Problem
	for _, p := range paths {
		r, name := stdin, "standard input"
		if p != "-" {
			f, err := os.Open(p)
			if err != nil {
				return nil, nil, nil, err
			}
			defer f.Close()
			r, name = f, p
		}
		es, ps, err := fmtdb.Read(r, name)
		var nd *fmtdb.NotDatabaseError
		if errors.As(err, &nd) && nd.ELF {
			err = fmt.Errorf("%w (logpack db extract reads the sites of a program)", err)
		}
		if err != nil {
			return nil, nil, nil, err
		}
		raw = append(raw, es...)
		probs = append(probs, ps...)
	}
	es := make([]fmtdb.Entry, len(raw))
	for i := range raw {
		es[i] = raw[i].Entry
	}
	return fmtdb.New(es), raw, probs, nil
}

func dbShow(args []string, stdout, stderr io.Writer) int {
	c := newCLI("logpack db show", stdout, stderr,
		"Lists the sites of format databases ('-': standard input), one line each.",
		"logpack db show [--json] DB...")
	asJSON := c.flags.Bool("json", false, "print JSON lines (the database format) instead of a table")
	if st, done := c.parse(args); done {
		return st
	}
	if st, ok := c.operands(1, -1, "DB"); !ok {
		return st
	}
	if st, ok := c.oneStdin(c.flags.Args()); !ok {
		return st
	}
	db, _, probs, err := loadDBs(c.flags.Args())
	if err != nil {
		return c.fail("%v", err)
	}
	for _, p := range probs {
		c.errorf("%s", p)
	}
	if *asJSON {
		if err := db.Write(stdout); err != nil {
			return c.fail("%v", err)
		}
		return exitOK
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tLEVEL\tSITE\tFUNC\tARGS\tFORMAT")
	for _, e := range db.Entries {
		lvl := strconv.Itoa(int(e.Level))
		if e.Level == fmtdb.LevelRuntime {
			lvl = "run-time"
		}
		var args []string
		for _, a := range e.Args {
			args = append(args, fmtdb.FormatArgSpec(a))
		}
		fn := e.Func
		if fn == "" {
			fn = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s:%d\t%s\t%s\t%s\n", fmtdb.FormatID(e.ID), lvl, e.File, e.Line, fn,
			strings.Join(args, ","), strconv.Quote(e.Format))
	}
	if err := tw.Flush(); err != nil {
		return c.fail("%v", err)
	}
	return exitOK
}

func dbCheck(args []string, stdout, stderr io.Writer) int {
	c := newCLI("logpack db check", stdout, stderr,
		`Reports torn lines, duplicate sites (harmless), conflicts (one ID, two sites)
and wrong IDs in format databases ('-': standard input); with --log, checks
that the databases describe every site the log describes. Exit status 1 on
anything but duplicates.`,
		"logpack db check [-q] [--log LOG]... DB...")
	logs := c.flags.StringArray("log", nil, "check that the database describes the binary log `LOG` (repeatable)")
	quiet := c.flags.BoolP("quiet", "q", false, "do not list duplicates (they are harmless)")
	if st, done := c.parse(args); done {
		return st
	}
	if st, ok := c.operands(1, -1, "DB"); !ok {
		return st
	}
	if st, ok := c.oneStdin(append(c.flags.Args(), *logs...)); !ok {
		return st
	}
	db, raw, probs, err := loadDBs(c.flags.Args())
	if err != nil {
		return c.fail("%v", err)
	}
	probs = append(probs, fmtdb.Check(raw)...)
	counts := map[string]int{}
	for _, p := range probs {
		counts[p.Kind]++
		if p.Kind == fmtdb.ProblemDuplicate && *quiet {
			continue
		}
		fmt.Fprintln(stdout, p)
	}
	status := exitOK
	if counts[fmtdb.ProblemConflict]+counts[fmtdb.ProblemBadID]+counts[fmtdb.ProblemTorn] > 0 {
		status = exitFailure
	}
	fmt.Fprintf(stdout, "%d sites in %d lines: %d duplicates, %d conflicts, %d wrong IDs, %d torn lines\n",
		db.Len(), len(raw), counts[fmtdb.ProblemDuplicate], counts[fmtdb.ProblemConflict],
		counts[fmtdb.ProblemBadID], counts[fmtdb.ProblemTorn])
	for _, l := range *logs {
		opts := &decoder.Options{DB: db, DBName: strings.Join(c.flags.Args(), ",")}
		var d *decoder.Decoder
		if l == "-" {
			d, err = decoder.ReadAll(stdin, opts)
		} else {
			d, err = decoder.Open(l, opts)
		}
		var mm *decoder.MismatchError
		switch {
		case errors.As(err, &mm):
			fmt.Fprintf(stdout, "%s: %v\n", l, mm)
			status = exitFailure
		case err != nil:
			status = c.fail("%v", err)
		default:
			fmt.Fprintf(stdout, "%s: every site the log describes is in the database\n", l)
			d.Close()
		}
	}
	if err := stdoutError(stdout); err != nil {
		return c.fail("%v", err)
	}
	return status
}

func dbMerge(args []string, stdout, stderr io.Writer) int {
	c := newCLI("logpack db merge", stdout, stderr,
		`Combines format databases ('-': standard input) into one, each site once, in
a stable order. Conflicting entries (one ID, two sites) stop it unless
--force is given.`,
		"logpack db merge [-o OUT] [--force] DB...")
	out := c.flags.StringP("output", "o", "", "write the database to `OUT` (default: standard output)")
	force := c.flags.Bool("force", false, "merge despite conflicting entries (the first file's entry wins)")
	if st, done := c.parse(args); done {
		return st
	}
	if st, ok := c.operands(1, -1, "DB"); !ok {
		return st
	}
	if st, ok := c.oneStdin(c.flags.Args()); !ok {
		return st
	}
	if err := checkOutput(*out, c.flags.Args()...); err != nil {
		return c.usageError("%v", err)
	}
	db, raw, probs, err := loadDBs(c.flags.Args())
	if err != nil {
		return c.fail("%v", err)
	}
	bad := false
	for _, p := range append(probs, fmtdb.Check(raw)...) {
		if p.Kind == fmtdb.ProblemDuplicate {
			continue
		}
		c.errorf("%s", p)
		if p.Kind == fmtdb.ProblemConflict || p.Kind == fmtdb.ProblemBadID {
			bad = true
		}
	}
	if bad && !*force {
		return c.fail("conflicting entries; nothing written (--force to merge anyway)")
	}
	return writeDB(c, db, *out)
}

// writeDB writes a database to out ("" or "-": standard output).
func writeDB(c *cli, db *fmtdb.DB, out string) int {
	o, err := createOutput(out, c.stdout, 0)
	if err != nil {
		return c.fail("%v", err)
	}
	if err := db.Write(o); err != nil {
		o.abort()
		return c.fail("%v", err)
	}
	if err := o.close(); err != nil {
		return c.fail("%v", err)
	}
	return exitOK
}

func dbExtract(args []string, stdout, stderr io.Writer) int {
	c := newCLI("logpack db extract", stdout, stderr,
		`Reads the call sites linked into a program, shared library or object file
(x86-64 ELF; '-': standard input) and writes them as a format database.`,
		"logpack db extract [-o OUT] FILE",
		"logpack db extract --summary FILE")
	out := c.flags.StringP("output", "o", "", "write the database to `OUT` (default: standard output)")
	summary := c.flags.Bool("summary", false, "print only the build identity and the number of sites, as JSON")
	if st, done := c.parse(args); done {
		return st
	}
	if st, ok := c.operands(1, 1, "FILE"); !ok {
		return st
	}
	in := c.flags.Arg(0)
	if err := checkOutput(*out, in); err != nil {
		return c.usageError("%v", err)
	}
	path, display := in, in
	if in == "-" {
		tmp, err := spoolStdin()
		if err != nil {
			return c.fail("%v", err)
		}
		defer os.Remove(tmp)
		path, display = tmp, "standard input"
	}
	sites, build, err := sitetab.ExtractFile(path)
	if err != nil {
		if in == "-" {
			err = errors.New(strings.ReplaceAll(err.Error(), path, display))
		}
		return c.fail("%v", err)
	}
	if len(sites) == 0 {
		c.errorf("%s has no logpack sites", display)
	}
	entries := make([]fmtdb.Entry, len(sites))
	for i, s := range sites {
		entries[i] = fmtdb.Entry{Site: s, Build: build}
	}
	if *summary {
		b, _ := json.Marshal(map[string]any{"build": build, "sites": len(entries), "file": display})
		fmt.Fprintf(stdout, "%s\n", b)
		return exitOK
	}
	return writeDB(c, fmtdb.New(entries), *out)
}

// spoolStdin copies standard input to a temporary file (ELF is read at
// random offsets) and returns its name.
func spoolStdin() (string, error) {
	f, err := os.CreateTemp("", "logpack-stdin-*")
	if err != nil {
		return "", err
	}
	// Not ELF: the first bytes are enough for ExtractELF to say so
	// (and /dev/zero is not copied).
	var magic [4]byte
	n, err := io.ReadFull(stdin, magic[:])
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		err = nil
	}
	if err == nil {
		_, err = f.Write(magic[:n])
	}
	if err == nil && string(magic[:n]) == "\x7fELF" {
		_, err = io.Copy(f, io.LimitReader(stdin, maxELF+1-int64(n)))
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if st, serr := os.Stat(f.Name()); err == nil && serr == nil && st.Size() > maxELF {
		err = fmt.Errorf("standard input: over %d GiB", maxELF>>30)
	}
	if err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("reading standard input: %w", err)
	}
	return f.Name(), nil
}

// maxELF bounds a program read from standard input.
const maxELF = 4 << 30
