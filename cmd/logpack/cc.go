package main

import (
	"fmt"
	"io"
	"os"

	"github.com/spf13/pflag"

	"github.com/logpack/logpack/rewriter"
	"github.com/logpack/logpack/rewriter/cc"
)

func runCC(args []string, stdout, stderr io.Writer) int {
	flags := pflag.NewFlagSet("logpack cc", pflag.ContinueOnError)
	flags.SetOutput(stderr)
	// Our options end at the compiler's name (or at "--").
	flags.SetInterspersed(false)
	preset := flags.String("preset", "", "declare a known project's log functions (criu)")
	specs := flags.StringArray("log-func", nil, "declare a log function or macro: 'NAME(level, fmt, ...)' or 'NAME(fmt, ...) level=N' (repeatable)")
	db := flags.String("db", os.Getenv("LOGPACK_DB"), "format database to append the rewritten sites to (default $LOGPACK_DB; none: logs describe their own sites)")
	build := flags.String("build", os.Getenv("LOGPACK_BUILD"), "build identity recorded with each database entry (default $LOGPACK_BUILD)")
	verbose := flags.BoolP("verbose", "v", false, "report calls left as text and why invocations are passed through")
	flags.Usage = func() {
		fmt.Fprintln(stderr, "usage: logpack cc [options] -- COMPILER ARGS...")
		fmt.Fprintln(stderr, "Compiles C with its log calls rewritten; everything that is not a C compile is passed through.")
		flags.PrintDefaults()
	}
	if err := flags.Parse(args); err != nil {
		return 2
	}
	argv := flags.Args()
	if len(argv) == 0 {
		flags.Usage()
		return 2
	}
	opts := &cc.Options{DB: *db, Build: *build, Verbose: *verbose, ExecPassThrough: true,
		Stdin: os.Stdin, Stdout: stdout, Stderr: stderr}
	cfg, err := rewriter.BuildConfig(*preset, *specs)
	if err != nil {
		// A bad configuration must not break the build: compile as is.
		fmt.Fprintf(stderr, "logpack cc: warning: %v; compiling without rewriting\n", err)
	} else {
		opts.Rewriter = cc.NewRewriter(&cfg)
		opts.NoGlibcDefines = cfg.NoGlibcDefines
	}
	return cc.Run(opts, argv)
}
