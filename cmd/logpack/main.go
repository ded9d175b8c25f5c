// Command logpack is the binary logging toolchain for C programs: it
// rewrites log calls at build time (cc, rewrite), ships the C runtime
// (runtime) and turns binary logs back into text (decode, stats, db).
//
// This package is the command line only: flags, usage and dispatch to
// the packages that do the work (cli.go holds the conventions every
// command follows).
package main

import "os"

var logpack = command{
	summary: "Binary logging for C programs: log calls are rewritten at build time to record their raw arguments, and binary logs are decoded to exactly printf's text",
	sub: []command{
		{name: "cc", args: "[options] -- COMPILER ARGS...", summary: "compile C with its log calls rewritten", run: runCC, rawStdout: true},
		{name: "rewrite", args: "[options] FILE.c...", summary: "rewrite log calls source to source", run: runRewrite},
		{name: "decode", args: "[options] LOG...", summary: "render binary logs as the text printf would have printed", run: runDecode},
		{name: "stats", args: "[options] LOG", summary: "records and bytes per call site", run: runStats},
		{name: "db", args: "show|check|merge|extract ...", summary: "inspect and combine format databases", sub: dbCommands},
		{name: "runtime", args: "-o DIR", summary: "write the C runtime's files", run: runRuntime},
	},
}

func main() {
	os.Exit(dispatch(os.Args[1:], os.Stdout, os.Stderr))
}
