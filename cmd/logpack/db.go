package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/pflag"

	"github.com/logpack/logpack/decoder"
	"github.com/logpack/logpack/fmtdb"
)

const dbUsage = `usage: logpack db COMMAND [options] FILE...
  show [--json] DB...              list the sites (table, or JSON lines)
  check [--log LOG]... DB...       report torn lines, duplicates, conflicts and wrong IDs;
                                   with --log, check that the database describes the log
  merge -o OUT DB...               combine databases (deduplicated, in a stable order)
  extract [-o OUT] FILE            the sites in a program, shared library or object file
`

func runDB(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(stderr, dbUsage)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	switch args[0] {
	case "show":
		return dbShow(args[1:], stdout, stderr)
	case "check":
		return dbCheck(args[1:], stdout, stderr)
	case "merge":
		return dbMerge(args[1:], stdout, stderr)
	case "extract":
		return dbExtract(args[1:], stdout, stderr)
	}
	fmt.Fprintf(stderr, "logpack db: unknown command %q\n%s", args[0], dbUsage)
	return 2
}

func dbFlags(name string, stderr io.Writer) *pflag.FlagSet {
	fs := pflag.NewFlagSet("logpack db "+name, pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, dbUsage); fs.PrintDefaults() }
	return fs
}

// loadDBs loads database files, reporting torn lines on stderr.
func loadDBs(paths []string, stderr io.Writer) (*fmtdb.DB, []fmtdb.RawEntry, []fmtdb.Problem, error) {
	var raw []fmtdb.RawEntry
	var probs []fmtdb.Problem
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return nil, nil, nil, err
		}
		es, ps, err := fmtdb.Read(f, p)
		f.Close()
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
	fs := dbFlags("show", stderr)
	asJSON := fs.Bool("json", false, "print JSON lines (the database format) instead of a table")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return 2
	}
	db, _, probs, err := loadDBs(fs.Args(), stderr)
	if err != nil {
		fmt.Fprintf(stderr, "logpack db show: %v\n", err)
		return 1
	}
	for _, p := range probs {
		fmt.Fprintf(stderr, "logpack db show: %s\n", p)
	}
	if *asJSON {
		if err := db.Write(stdout); err != nil {
			fmt.Fprintf(stderr, "logpack db show: %v\n", err)
			return 1
		}
		return 0
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
	tw.Flush()
	return 0
}

func dbCheck(args []string, stdout, stderr io.Writer) int {
	fs := dbFlags("check", stderr)
	logs := fs.StringArray("log", nil, "a binary log whose site descriptors the database must describe (repeatable)")
	quiet := fs.BoolP("quiet", "q", false, "do not list duplicates (they are harmless)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return 2
	}
	db, raw, probs, err := loadDBs(fs.Args(), stderr)
	if err != nil {
		fmt.Fprintf(stderr, "logpack db check: %v\n", err)
		return 1
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
	status := 0
	if counts[fmtdb.ProblemConflict]+counts[fmtdb.ProblemBadID]+counts[fmtdb.ProblemTorn] > 0 {
		status = 1
	}
	fmt.Fprintf(stdout, "%d sites in %d lines: %d duplicates, %d conflicts, %d wrong IDs, %d torn lines\n",
		db.Len(), len(raw), counts[fmtdb.ProblemDuplicate], counts[fmtdb.ProblemConflict],
		counts[fmtdb.ProblemBadID], counts[fmtdb.ProblemTorn])
	for _, l := range *logs {
		d, err := decoder.Open(l, &decoder.Options{DB: db, DBName: strings.Join(fs.Args(), ",")})
		var mm *decoder.MismatchError
		switch {
		case errors.As(err, &mm):
			fmt.Fprintf(stdout, "%s: %v\n", l, mm)
			status = 1
		case err != nil:
			fmt.Fprintf(stderr, "logpack db check: %v\n", err)
			status = 1
		default:
			fmt.Fprintf(stdout, "%s: every site the log describes is in the database\n", l)
			d.Close()
		}
	}
	return status
}

func dbMerge(args []string, stdout, stderr io.Writer) int {
	fs := dbFlags("merge", stderr)
	out := fs.StringP("output", "o", "", "file to write (default: standard output)")
	force := fs.Bool("force", false, "merge despite conflicting entries (the first file's entry wins)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return 2
	}
	db, raw, probs, err := loadDBs(fs.Args(), stderr)
	if err != nil {
		fmt.Fprintf(stderr, "logpack db merge: %v\n", err)
		return 1
	}
	bad := false
	for _, p := range append(probs, fmtdb.Check(raw)...) {
		if p.Kind == fmtdb.ProblemDuplicate {
			continue
		}
		fmt.Fprintf(stderr, "logpack db merge: %s\n", p)
		if p.Kind == fmtdb.ProblemConflict || p.Kind == fmtdb.ProblemBadID {
			bad = true
		}
	}
	if bad && !*force {
		fmt.Fprintln(stderr, "logpack db merge: conflicting entries; nothing written (--force to merge anyway)")
		return 1
	}
	return writeDB(db, *out, stdout, stderr, "merge")
}

func writeDB(db *fmtdb.DB, out string, stdout, stderr io.Writer, cmd string) int {
	var buf bytes.Buffer
	if err := db.Write(&buf); err != nil {
		fmt.Fprintf(stderr, "logpack db %s: %v\n", cmd, err)
		return 1
	}
	if out == "" {
		stdout.Write(buf.Bytes())
		return 0
	}
	// Write then rename: a reader never sees half a database.
	tmp := out + ".tmp"
	if err := os.WriteFile(tmp, buf.Bytes(), 0o644); err != nil {
		fmt.Fprintf(stderr, "logpack db %s: %v\n", cmd, err)
		return 1
	}
	if err := os.Rename(tmp, out); err != nil {
		os.Remove(tmp)
		fmt.Fprintf(stderr, "logpack db %s: %v\n", cmd, err)
		return 1
	}
	return 0
}

func dbExtract(args []string, stdout, stderr io.Writer) int {
	fs := dbFlags("extract", stderr)
	out := fs.StringP("output", "o", "", "file to write (default: standard output)")
	asJSONSummary := fs.Bool("summary", false, "print only the build identity and site count, as JSON")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return 2
	}
	entries, build, err := fmtdb.ExtractELF(fs.Arg(0))
	if err != nil {
		fmt.Fprintf(stderr, "logpack db extract: %v\n", err)
		return 1
	}
	if len(entries) == 0 {
		fmt.Fprintf(stderr, "logpack db extract: %s has no logpack sites\n", fs.Arg(0))
	}
	if *asJSONSummary {
		b, _ := json.Marshal(map[string]any{"build": fmtdb.FormatID(build), "sites": len(entries), "file": fs.Arg(0)})
		fmt.Fprintf(stdout, "%s\n", b)
		return 0
	}
	return writeDB(fmtdb.New(entries), *out, stdout, stderr, "extract")
}
