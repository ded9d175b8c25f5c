// Command logpack is the binary logging toolchain for C programs: it
// rewrites log calls at build time (cc, rewrite), ships the C runtime
// (runtime) and turns binary logs back into text (decode, stats, db).
package main

import (
	"fmt"
	"io"
	"os"
)

// command is one subcommand: run gets the arguments after its name and
// returns the process exit status.
type command struct {
	name    string
	summary string
	run     func(args []string, stdout, stderr io.Writer) int
}

var commands = []command{
	{"cc", "compile C with log calls rewritten: logpack cc [options] -- COMPILER ARGS...", runCC},
	{"rewrite", "rewrite log calls source to source: logpack rewrite [options] FILE.c...", runRewrite},
	{"decode", "render binary logs as text: logpack decode [options] LOG...", runDecode},
	{"stats", "per call site counts and bytes: logpack stats LOG", runStats},
	{"db", "inspect format databases: logpack db show|check|merge|extract", runDB},
	{"runtime", "write the C runtime files: logpack runtime -o DIR", runRuntime},
}

func main() {
	os.Exit(dispatch(os.Args[1:], os.Stdout, os.Stderr))
}

func dispatch(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands {
		if c.name == args[0] {
			return c.run(args[1:], stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "logpack: unknown command %q\n", args[0])
	usage(stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: logpack COMMAND [options] [args]")
	fmt.Fprintln(w)
	for _, c := range commands {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
}
