package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"github.com/logpack/logpack/fmtdb"
	"github.com/logpack/logpack/rewriter"
)

func runRewrite(args []string, stdout, stderr io.Writer) int {
	c := newCLI("logpack rewrite", stdout, stderr,
		`Rewrites the log calls of raw C sources ('-': standard input). The output
includes "logpack_site.h" (see logpack runtime). Calls left as text are
reported on standard error.`,
		"logpack rewrite [options] FILE.c",
		"logpack rewrite [options] -d DIR FILE.c...")
	flags := c.flags
	var (
		specs  = flags.StringArray("log-func", nil, "declare a log function or macro by its `SPEC`, 'NAME(level, fmt, ...)' or 'NAME(fmt, ...) level=N' (repeatable)")
		preset = flags.String("preset", "", "declare the log functions of the known project `NAME` (criu)")
		db     = flags.String("db", "", "append the rewritten call sites to the format database `FILE`")
		out    = flags.StringP("output", "o", "", "write the rewritten file to `OUT` (one FILE; default: standard output)")
		dir    = flags.StringP("dir", "d", "", "write each rewritten file into `DIR` under its base name")
		text   = flags.Int("text-level", rewriter.DefaultTextLevel, "calls at levels 1..`N` (errors and warnings) also print as text while binary logging is on; 0: none")
	)
	if st, done := c.parse(args); done {
		return st
	}
	files := flags.Args()
	switch {
	case len(files) == 0:
		return c.usageError("no FILE.c given")
	case *out != "" && *dir != "":
		return c.usageError("-o and -d exclude each other")
	case *dir == "" && len(files) > 1:
		return c.usageError("%d FILEs need -d DIR (-o and standard output take one)", len(files))
	}
	if *dir != "" {
		for _, f := range files {
			if f == "-" {
				return c.usageError("-d DIR names outputs after their FILEs: standard input has no name")
			}
		}
	}
	if st, ok := checkLogFuncs(c, *preset, *specs); !ok {
		return st
	}
	if *text < 0 || *text > rewriter.MaxLevel {
		return c.badValue("text-level", strconv.Itoa(*text), fmt.Sprintf("a level from 0 to %d", rewriter.MaxLevel))
	}
	cfg, err := rewriter.BuildConfig(*preset, *specs)
	if err != nil {
		return c.usageError("%v", err)
	}
	if flags.Changed("text-level") {
		cfg.TextLevel = *text
	}
	if *db != "" {
		if err := checkOutput(*db, files...); err != nil {
			return c.usageError("--db: %v", err)
		}
	}
	outs := make([]string, len(files))
	for i, name := range files {
		outs[i] = *out
		if *dir != "" {
			outs[i] = filepath.Join(*dir, filepath.Base(name))
		}
		if err := checkOutput(outs[i], files...); err != nil {
			return c.usageError("%v", err)
		}
	}
	status := exitOK
	var entries []fmtdb.Entry
	for i, name := range files {
		src, display, err := readSource(name)
		if err != nil {
			status = c.fail("%v", err)
			continue
		}
		res, err := rewriter.RewriteSource(src, display, &cfg)
		if err != nil {
			status = c.fail("%s: %v", display, err)
			continue
		}
		for _, d := range res.Diags {
			fmt.Fprintln(stderr, d)
		}
		o, err := createOutput(outs[i], stdout, outMkdir)
		if err == nil {
			o.Write(res.Output)
			err = o.close()
		}
		if err != nil {
			status = c.fail("%v", err)
			continue
		}
		for _, s := range res.Sites {
			entries = append(entries, fmtdb.Entry{Site: s, Unit: display})
		}
	}
	if *db != "" {
		if err := fmtdb.Append(*db, entries); err != nil {
			status = c.fail("%v", err)
		}
	}
	return status
}

// maxSource bounds a C source read into memory.
const maxSource = 256 << 20

// readSource reads a C source ("-": standard input, named "<stdin>" as
// gcc names it), refusing binary data and endless streams.
func readSource(name string) (src []byte, display string, err error) {
	display = name
	var r io.Reader
	if name == "-" {
		display, r = "<stdin>", stdin
	} else {
		f, err := os.Open(name)
		if err != nil {
			return nil, name, err
		}
		defer f.Close()
		r = f
	}
	// Look at the start first: /dev/zero must not be read to the limit.
	head := make([]byte, 4096)
	n, err := io.ReadFull(r, head)
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		return nil, display, fmt.Errorf("reading %s: %w", display, err)
	}
	if i := bytes.IndexByte(head[:n], 0); i >= 0 {
		return nil, display, fmt.Errorf("%s: not a C source: binary data (a NUL byte at offset %d)", display, i)
	}
	src, err = io.ReadAll(io.MultiReader(bytes.NewReader(head[:n]), io.LimitReader(r, maxSource+1-int64(n))))
	switch {
	case err != nil:
		return nil, display, fmt.Errorf("reading %s: %w", display, err)
	case len(src) > maxSource:
		return nil, display, fmt.Errorf("%s: not a C source: over %d MiB", display, maxSource>>20)
	}
	return src, display, nil
}
