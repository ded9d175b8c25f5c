package main

// The conventions every logpack command follows (README, "Command line"):
//
//   - -h/--help prints the command's usage on standard output, status 0;
//     --version prints logpack's version, status 0.
//   - A usage error (unknown flag, bad value, missing argument, wrong number
//     of operands, unknown command) prints "logpack CMD: REASON" and
//     "Run 'logpack CMD --help' for usage." on standard error, status 2.
//     A bare "logpack" or "logpack db" prints its usage on standard error,
//     status 2.
//   - A failure (a missing file, an I/O error, output that cannot be
//     written) prints "logpack CMD: ..." naming the file, status 1.
//   - "-" names standard input or output wherever a file is named.
//   - No command overwrites one of its inputs (output.go).

import (
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/spf13/pflag"
)

// Exit statuses.
const (
	exitOK      = 0
	exitFailure = 1 // something failed: a file, a write, damage in a log
	exitUsage   = 2 // the command line is wrong
)

// A command is a subcommand (run) or a group of them (sub).
type command struct {
	name    string
	args    string // the operands' synopsis, for the group's usage
	summary string
	run     func(args []string, stdout, stderr io.Writer) int
	sub     []command
	// rawStdout hands the command the process's standard output itself
	// (cc: the compiler's output goes through untouched).
	rawStdout bool
}

// dispatch runs the command line args (without the program name).
func dispatch(args []string, stdout, stderr io.Writer) int {
	return runGroup(&logpack, "logpack", args, stdout, stderr)
}

func runGroup(g *command, name string, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		groupUsage(g, name, stderr)
		return exitUsage
	}
	switch a := args[0]; {
	case a == "-h" || a == "--help" || a == "help" && len(args) == 1:
		return checkStdout(name, stdout, stderr, exitOK, func(w io.Writer) { groupUsage(g, name, w) })
	case a == "help":
		// logpack help CMD... is logpack CMD... --help
		return runGroup(g, name, append(args[1:len(args):len(args)], "--help"), stdout, stderr)
	case a == "--version":
		return checkStdout(name, stdout, stderr, exitOK, printVersion)
	case strings.HasPrefix(a, "-") && a != "-":
		return usageError(stderr, name, "unknown flag: %s", a)
	}
	for i := range g.sub {
		c := &g.sub[i]
		if c.name != args[0] {
			continue
		}
		full := name + " " + c.name
		if c.sub != nil {
			return runGroup(c, full, args[1:], stdout, stderr)
		}
		if c.rawStdout {
			return c.run(args[1:], stdout, stderr)
		}
		cw := &checkedWriter{w: stdout}
		st := c.run(args[1:], cw, stderr)
		return reportStdout(full, cw, stderr, st)
	}
	return usageError(stderr, name, "unknown command %q", args[0])
}

func groupUsage(g *command, name string, w io.Writer) {
	fmt.Fprintf(w, "usage: %s COMMAND [options] ARGS...\n", name)
	fmt.Fprintf(w, "       %s --help | --version\n\n", name)
	about := strings.ToUpper(g.summary[:1]) + g.summary[1:] + "."
	for _, l := range wrap(about, 80) {
		fmt.Fprintln(w, l)
	}
	fmt.Fprintln(w, "\nCommands:")
	width := 0
	for _, c := range g.sub {
		width = max(width, len(c.name)+1+len(c.args))
	}
	for _, c := range g.sub {
		for i, l := range wrap(c.summary, 80-4-width) {
			left := ""
			if i == 0 {
				left = c.name + " " + c.args
			}
			fmt.Fprintf(w, "  %-*s  %s\n", width, left, l)
		}
	}
	fmt.Fprintf(w, "\nRun '%s COMMAND --help' for a command's options.\n", name)
}

// checkStdout writes with print and turns a write error into status 1.
func checkStdout(name string, stdout, stderr io.Writer, st int, print func(io.Writer)) int {
	cw := &checkedWriter{w: stdout}
	print(cw)
	return reportStdout(name, cw, stderr, st)
}

// reportStdout reports a failed write to standard output that the command
// did not report itself (its status is still 0).
func reportStdout(name string, cw *checkedWriter, stderr io.Writer, st int) int {
	if cw.err != nil && st == exitOK {
		fmt.Fprintf(stderr, "%s: %v\n", name, cw.err)
		return exitFailure
	}
	return st
}

// usageError prints a usage error and returns exitUsage.
func usageError(stderr io.Writer, name, format string, a ...any) int {
	fmt.Fprintf(stderr, "%s: %s\nRun '%s --help' for usage.\n", name, fmt.Sprintf(format, a...), name)
	return exitUsage
}

// cli is one subcommand's command line: its flags and usage text, and the
// conventions above.
type cli struct {
	name     string // "logpack db show"
	synopsis []string
	about    string // what the command does, after the synopsis
	footer   string // after the options
	flags    *pflag.FlagSet
	stdout   io.Writer
	stderr   io.Writer

	help, version bool
}

// newCLI starts the command line of name ("logpack decode"); synopsis is
// one line per form, without "usage: ".
func newCLI(name string, stdout, stderr io.Writer, about string, synopsis ...string) *cli {
	c := &cli{name: name, synopsis: synopsis, about: about, stdout: stdout, stderr: stderr}
	c.flags = pflag.NewFlagSet(name, pflag.ContinueOnError)
	c.flags.SetOutput(io.Discard) // errors are reported by parse
	c.flags.Usage = func() {}
	c.flags.BoolVarP(&c.help, "help", "h", false, "show this help and exit")
	c.flags.BoolVar(&c.version, "version", false, "print logpack's version and exit")
	return c
}

// parse parses args. done means the command is over with status: help or
// the version was printed, or a usage error reported.
func (c *cli) parse(args []string) (status int, done bool) {
	if err := c.flags.Parse(args); err != nil {
		return c.usageError("%s", flagError(err)), true
	}
	switch {
	case c.help:
		return checkStdout(c.name, c.stdout, c.stderr, exitOK, c.usage), true
	case c.version:
		return checkStdout(c.name, c.stdout, c.stderr, exitOK, printVersion), true
	}
	return exitOK, false
}

// operands checks the number of operands: at least lo, at most hi (-1: no
// limit); what names one ("LOG").
func (c *cli) operands(lo, hi int, what string) (status int, ok bool) {
	n := c.flags.NArg()
	switch {
	case n < lo && n == 0:
		return c.usageError("no %s given", what), false
	case n < lo:
		return c.usageError("%s given, %d needed", countOf(n, what), lo), false
	case hi >= 0 && n > hi && hi == 0:
		return c.usageError("takes no operands (got %s)", strings.Join(c.flags.Args(), " ")), false
	case hi >= 0 && n > hi:
		return c.usageError("takes %s, got %d: %s", countOf(hi, what), n, strings.Join(c.flags.Args(), " ")), false
	}
	return exitOK, true
}

// oneStdin refuses standard input ("-") named more than once among the
// inputs.
func (c *cli) oneStdin(inputs []string) (int, bool) {
	n := 0
	for _, in := range inputs {
		if in == "-" {
			n++
		}
	}
	if n > 1 {
		return c.usageError("standard input ('-') named %d times; it can be read once", n), false
	}
	return exitOK, true
}

func countOf(n int, what string) string {
	if n == 1 {
		return "one " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// usageError reports a usage error and returns exitUsage.
func (c *cli) usageError(format string, a ...any) int {
	return usageError(c.stderr, c.name, format, a...)
}

// badValue reports a flag value the command does not accept.
func (c *cli) badValue(flag, value, want string) int {
	return c.usageError("invalid value %q for --%s: want %s", value, flag, want)
}

// fail reports a failure and returns exitFailure.
func (c *cli) fail(format string, a ...any) int {
	c.errorf(format, a...)
	return exitFailure
}

// errorf prints "logpack CMD: MESSAGE" on standard error.
func (c *cli) errorf(format string, a ...any) {
	fmt.Fprintf(c.stderr, "%s: %s\n", c.name, fmt.Sprintf(format, a...))
}

// flagError words pflag's errors for people.
func flagError(err error) string {
	var ive *pflag.InvalidValueError
	if !errors.As(err, &ive) {
		return err.Error()
	}
	f := ive.GetFlag()
	var want string
	switch f.Value.Type() {
	case "bool":
		want = "true or false"
	case "int", "int64", "int32":
		want = "an integer"
	case "uint", "uint64", "uint32":
		want = "a non-negative integer"
	case "uintSlice":
		want = "non-negative integers, comma-separated"
	default:
		cause := ive.Unwrap()
		var ne *strconv.NumError
		if errors.As(cause, &ne) {
			cause = ne.Err
		}
		return fmt.Sprintf("invalid value %q for --%s: %v", ive.GetValue(), f.Name, cause)
	}
	return fmt.Sprintf("invalid value %q for --%s: want %s", ive.GetValue(), f.Name, want)
}

// usage prints the synopsis, the description and the options.
func (c *cli) usage(w io.Writer) {
	for i, s := range c.synopsis {
		if i == 0 {
			fmt.Fprintf(w, "usage: %s\n", s)
		} else {
			fmt.Fprintf(w, "       %s\n", s)
		}
	}
	if c.about != "" {
		fmt.Fprintf(w, "\n%s\n", strings.TrimRight(c.about, "\n"))
	}
	fmt.Fprintf(w, "\nOptions:\n%s", c.flagUsages())
	if c.footer != "" {
		fmt.Fprintf(w, "\n%s\n", strings.TrimRight(c.footer, "\n"))
	}
}

// flagUsages lists the options, --help and --version last. Unlike
// pflag's own listing it never shows "[=true|false]" or a zero default,
// and shows a default only where the text does not already say it.
func (c *cli) flagUsages() string {
	type row struct{ left, text string }
	var rows, last []row
	c.flags.VisitAll(func(f *pflag.Flag) {
		if f.Hidden {
			return
		}
		left := "      --" + f.Name
		if f.Shorthand != "" {
			left = "  -" + f.Shorthand + ", --" + f.Name
		}
		name, text := pflag.UnquoteUsage(f)
		if f.Value.Type() != "bool" && name != "" {
			left += " " + name
		}
		switch f.DefValue {
		case "", "false", "0", "[]":
		default:
			if !strings.Contains(text, "default") {
				text += fmt.Sprintf(" (default: %s)", f.DefValue)
			}
		}
		if f.Name == "help" || f.Name == "version" {
			last = append(last, row{left, text})
		} else {
			rows = append(rows, row{left, text})
		}
	})
	rows = append(rows, last...)
	const maxLeft, cols = 26, 80
	col := 0
	for _, r := range rows {
		if len(r.left) <= maxLeft {
			col = max(col, len(r.left))
		}
	}
	col += 2
	var b strings.Builder
	for _, r := range rows {
		b.WriteString(r.left)
		if len(r.left)+2 > col {
			b.WriteString("\n" + strings.Repeat(" ", col))
		} else {
			b.WriteString(strings.Repeat(" ", col-len(r.left)))
		}
		for i, line := range wrap(r.text, cols-col) {
			if i > 0 {
				b.WriteString(strings.Repeat(" ", col))
			}
			b.WriteString(line + "\n")
		}
	}
	return b.String()
}

// wrap breaks text into lines of at most width bytes at spaces (a longer
// word gets a line of its own).
func wrap(text string, width int) []string {
	var lines []string
	line := ""
	for _, w := range strings.Fields(text) {
		if line != "" && len(line)+1+len(w) > width {
			lines = append(lines, line)
			line = ""
		}
		if line != "" {
			line += " "
		}
		line += w
	}
	return append(lines, line)
}

// printVersion prints "logpack VERSION (GOVERSION)".
func printVersion(w io.Writer) {
	bi, _ := debug.ReadBuildInfo()
	fmt.Fprintln(w, versionLine(bi))
}

// versionLine is the version line for a build: the main module's version
// (a release tag, or a pseudo-version naming the commit), else the VCS
// revision the binary was built from ("+dirty": with uncommitted
// changes), else "(devel)".
func versionLine(bi *debug.BuildInfo) string {
	if bi == nil {
		return "logpack (unknown version: no build information)"
	}
	v := bi.Main.Version
	if v == "" || v == "(devel)" {
		v = "(devel)"
		var rev, modified string
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				modified = s.Value
			}
		}
		if rev != "" {
			v = rev[:min(12, len(rev))]
			if modified == "true" {
				v += "+dirty"
			}
		}
	}
	return fmt.Sprintf("logpack %s (%s)", v, bi.GoVersion)
}
