package main

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/logpack/logpack/rewriter"
	"github.com/logpack/logpack/rewriter/cc"
)

// execPassThrough lets the wrapper replace itself by the compiler for
// invocations it passes through (off in tests, which run in-process).
var execPassThrough = true

func runCC(args []string, stdout, stderr io.Writer) int {
	c := newCLI("logpack cc", stdout, stderr,
		`Compiles C with its log calls rewritten; everything that is not a C compile
(dependency passes, -E, assembling, feature probes, pure links) is passed
through, links with the runtime added where the program needs it. The
options end at the compiler's name or at "--".`,
		"logpack cc [options] -- COMPILER ARGS...")
	flags := c.flags
	flags.SetInterspersed(false)
	preset := flags.String("preset", "", "declare the log functions of the known project `NAME` (criu)")
	specs := flags.StringArray("log-func", nil, "declare a log function or macro by its `SPEC`, 'NAME(level, fmt, ...)' or 'NAME(fmt, ...) level=N' (repeatable)")
	db := flags.String("db", os.Getenv("LOGPACK_DB"), "append the rewritten sites to the format database `FILE` (default: $LOGPACK_DB; none: logs describe their own sites)")
	build := flags.String("build", os.Getenv("LOGPACK_BUILD"), "record the build identity `ID` with each database entry (default: $LOGPACK_BUILD)")
	verbose := flags.BoolP("verbose", "v", false, "report calls left as text and why invocations are passed through")
	textLevel := flags.Int("text-level", rewriter.DefaultTextLevel, "calls at levels 1..`N` (errors and warnings) also print as text while binary logging is on; 0: none")
	if st, done := c.parse(args); done {
		return st
	}
	if flags.NArg() == 0 {
		return c.usageError("no compiler given")
	}
	if st, ok := checkLogFuncs(c, *preset, *specs); !ok {
		return st
	}
	opts := &cc.Options{DB: *db, Build: *build, Verbose: *verbose, ExecPassThrough: execPassThrough,
		Stdin: os.Stdin, Stdout: stdout, Stderr: stderr}
	if *textLevel < 0 || *textLevel > rewriter.MaxLevel {
		return c.badValue("text-level", strconv.Itoa(*textLevel), fmt.Sprintf("a level from 0 to %d", rewriter.MaxLevel))
	}
	cfg, err := rewriter.BuildConfig(*preset, *specs)
	if err != nil {
		// No log functions: a build must not break over it; compiles go
		// as they are (a link needs none).
		opts.NoRewrite = err.Error()
	} else {
		if flags.Changed("text-level") {
			cfg.TextLevel = *textLevel
		}
		opts.Rewriter = cc.NewRewriter(&cfg)
		opts.NoGlibcDefines = cfg.NoGlibcDefines
	}
	return cc.Run(opts, flags.Args())
}

// checkLogFuncs reports an unknown --preset or a --log-func SPEC that
// does not parse as a usage error (cc and rewrite).
func checkLogFuncs(c *cli, preset string, specs []string) (int, bool) {
	if preset != "" {
		if _, err := rewriter.Preset(preset); err != nil {
			return c.badValue("preset", preset, strings.Join(rewriter.Presets, " or ")), false
		}
	}
	for _, s := range specs {
		if _, err := rewriter.ParseLogFunc(s); err != nil {
			return c.usageError("%v", err), false
		}
	}
	return exitOK, true
}
