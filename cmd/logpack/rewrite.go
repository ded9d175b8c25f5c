package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/pflag"

	"github.com/logpack/logpack/fmtdb"
	"github.com/logpack/logpack/rewriter"
)

func runRewrite(args []string, stdout, stderr io.Writer) int {
	flags := pflag.NewFlagSet("logpack rewrite", pflag.ContinueOnError)
	flags.SetOutput(stderr)
	var (
		specs  = flags.StringArray("log-func", nil, "declare a log function or macro: 'NAME(level, fmt, ...)' or 'NAME(fmt, ...) level=N' (repeatable)")
		preset = flags.String("preset", "", "declare a known project's log functions: criu")
		db     = flags.String("db", "", "append the rewritten call sites to this format database")
		out    = flags.StringP("output", "o", "", "write the rewritten file here (one input; default: standard output)")
		dir    = flags.StringP("dir", "d", "", "write each rewritten file into this directory under its base name")
	)
	flags.Usage = func() {
		fmt.Fprintln(stderr, "usage: logpack rewrite [options] FILE.c...")
		fmt.Fprintln(stderr, "Rewrites the log calls of raw C sources. The output includes \"logpack_site.h\"")
		fmt.Fprintln(stderr, "(see logpack runtime). Calls left as text are reported on standard error.")
		flags.PrintDefaults()
	}
	if err := flags.Parse(args); err != nil {
		return 2
	}
	files := flags.Args()
	if len(files) == 0 || *out != "" && *dir != "" || *out != "" && len(files) > 1 ||
		*out == "" && *dir == "" && len(files) > 1 {
		flags.Usage()
		return 2
	}
	cfg, err := rewriter.BuildConfig(*preset, *specs)
	if err != nil {
		fmt.Fprintf(stderr, "logpack rewrite: %v\n", err)
		return 2
	}
	status := 0
	var entries []fmtdb.Entry
	for _, name := range files {
		src, err := os.ReadFile(name)
		if err != nil {
			fmt.Fprintf(stderr, "logpack rewrite: %v\n", err)
			status = 1
			continue
		}
		res, err := rewriter.RewriteSource(src, name, &cfg)
		if err != nil {
			fmt.Fprintf(stderr, "logpack rewrite: %s: %v\n", name, err)
			status = 1
			continue
		}
		for _, d := range res.Diags {
			fmt.Fprintln(stderr, d)
		}
		switch {
		case *dir != "":
			err = writeRewritten(filepath.Join(*dir, filepath.Base(name)), res.Output)
		case *out != "":
			err = writeRewritten(*out, res.Output)
		default:
			_, err = stdout.Write(res.Output)
		}
		if err != nil {
			fmt.Fprintf(stderr, "logpack rewrite: %v\n", err)
			status = 1
			continue
		}
		for _, s := range res.Sites {
			entries = append(entries, fmtdb.Entry{Site: s, Unit: name})
		}
	}
	if *db != "" {
		if err := fmtdb.Append(*db, entries); err != nil {
			fmt.Fprintf(stderr, "logpack rewrite: %v\n", err)
			status = 1
		}
	}
	return status
}

// writeRewritten writes via a temporary file and a rename, so a reader
// (or a failed run) never sees half a file.
func writeRewritten(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".logpack-*")
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}
