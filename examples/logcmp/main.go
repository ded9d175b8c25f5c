// Command logcmp compares a program's text log with the decoded binary log
// of another run of it, after normalising timestamps and pid prefixes
// (examples.Normalize). It prints "identical: N lines", or the differing
// lines and exits 1. With -side N it first shows the first N lines of both
// logs side by side. With -fuzzy TOL it compares logs of two different
// runs of a real program: numbers do not count, lines are aligned writer
// by writer (the program, each pid-prefixed task, each parasite), and up
// to the fraction TOL of the lines may differ (the CRIU check uses it).
//
//	logcmp [-side N] [-width W] TEXT.log DECODED.log
//	logcmp -fuzzy TOL [-show N] A.log B.log
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/logpack/logpack/examples"
)

func main() {
	side := flag.Int("side", 0, "show the first N lines of both logs side by side")
	width := flag.Int("width", 78, "columns per side for -side")
	names := flag.String("names", "text log,decoded binary log", "column titles for -side, comma-separated")
	fuzzy := flag.Float64("fuzzy", -1, "compare two runs' logs: numbers ignored, lines aligned, up to this fraction may differ")
	show := flag.Int("show", 20, "with -fuzzy: how many unmatched lines of each log to show")
	flag.Parse()
	if flag.NArg() != 2 {
		fmt.Fprintln(os.Stderr, "usage: logcmp [-side N] [-width W] TEXT.log DECODED.log\n       logcmp -fuzzy TOL [-show N] A.log B.log")
		os.Exit(2)
	}
	want, err := readLog(flag.Arg(0))
	if err != nil {
		fail(err)
	}
	got, err := readLog(flag.Arg(1))
	if err != nil {
		fail(err)
	}
	if *fuzzy >= 0 {
		if !fuzzyReport(flag.Arg(0), flag.Arg(1), fuzzyCompare(want, got), *fuzzy, *show) {
			os.Exit(1)
		}
		return
	}
	if *side > 0 {
		title := strings.SplitN(*names+",", ",", 3)
		fmt.Printf("%s | %s\n", pad(title[0], *width), title[1])
		fmt.Printf("%s-+-%s\n", strings.Repeat("-", *width), strings.Repeat("-", *width))
		for i := 0; i < *side && (i < len(want) || i < len(got)); i++ {
			fmt.Printf("%s | %s\n", pad(at(want, i), *width), cut(at(got, i), *width))
		}
		fmt.Println()
	}
	n, diffs := examples.Compare(want, got, 10)
	if len(diffs) == 0 {
		fmt.Printf("identical: %d lines (after normalising timestamps and pids)\n", n)
		return
	}
	fmt.Printf("DIFFERENT: %s has %d lines, %s has %d; first differences (normalised):\n",
		flag.Arg(0), len(want), flag.Arg(1), len(got))
	for _, d := range diffs {
		fmt.Printf("line %d:\n  - %s\n  + %s\n", d.Line, d.Want, d.Got)
	}
	os.Exit(1)
}

func readLog(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	lines, err := examples.ReadLines(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return lines, nil
}

func at(lines []string, i int) string {
	if i < len(lines) {
		return strings.ReplaceAll(lines[i], "\t", "  ")
	}
	return ""
}

func cut(s string, w int) string {
	if utf8.RuneCountInString(s) <= w {
		return s
	}
	r := []rune(s)
	return string(r[:w-1]) + "…"
}

func pad(s string, w int) string {
	s = cut(s, w)
	return s + strings.Repeat(" ", w-utf8.RuneCountInString(s))
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "logcmp:", err)
	os.Exit(2)
}
