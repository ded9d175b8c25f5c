package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/logpack/logpack/examples"
)

// Two runs of a real program (CRIU dumping a process) never log exactly
// the same lines: addresses, pids, inode numbers, descriptor numbers and
// timings differ, and a few lines depend on timing. The fuzzy comparison
// puts every number in a line as "#", aligns the two logs line by line
// (longest common subsequence) and counts what only one of them has.
//
// Lines of writers that run at the same time (CRIU's restored tasks, each
// with its "%6d: " prefix, and the parasite's "pie: N: " lines beside
// criu's own) interleave differently in every run, so each writer's lines
// are aligned on their own: the writers are told apart by their prefix
// and numbered in order of first appearance, since pids differ too.

// shape is a line with its timestamp prefix dropped, every number
// (decimal or hex, with an optional 0x) and every run of digits inside a
// word replaced by "#".
func shape(line string) string {
	if n := examples.TimestampPrefix(line); n > 0 {
		line = line[n:]
	}
	var b strings.Builder
	for i := 0; i < len(line); {
		c := line[i]
		if isHexDigit(c) && (i == 0 || !isWordChar(line[i-1])) {
			j := i
			if c == '0' && i+1 < len(line) && (line[i+1] == 'x' || line[i+1] == 'X') {
				j += 2
			}
			k := j
			for k < len(line) && isHexDigit(line[k]) {
				k++
			}
			// a number: digits only, or hex with at least one digit
			if k > i && (k == len(line) || !isWordChar(line[k])) && hasDigit(line[i:k]) {
				b.WriteByte('#')
				i = k
				continue
			}
		}
		if c >= '0' && c <= '9' {
			// digits inside a word too ("pr8804-2", a pid in a name)
			for i < len(line) && line[i] >= '0' && line[i] <= '9' {
				i++
			}
			b.WriteByte('#')
			continue
		}
		if c == ' ' && b.Len() > 0 && strings.HasSuffix(b.String(), " ") {
			i++ // runs of spaces (padding of numbers) count as one
			continue
		}
		b.WriteByte(c)
		i++
	}
	return strings.TrimSpace(b.String())
}

func isHexDigit(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func isWordChar(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func hasDigit(s string) bool {
	return strings.ContainsAny(s, "0123456789")
}

// fuzzyResult summarises an alignment of two logs.
type fuzzyResult struct {
	A, B, Matched int
	OnlyA, OnlyB  []string // the unmatched lines (shapes), in order
}

// writer names the writer of a line (its timestamp taken off): "task N"
// for the N-th pid prefix seen, "pie N" for the N-th parasite, "" for the
// program itself. seen numbers the writers of one log.
func writer(line string, seen map[string]int) string {
	kind, id := "", ""
	if pid, n := examples.PidPrefix(line); n > 0 {
		kind, id = "task", pid
	} else if r, ok := strings.CutPrefix(line, "pie: "); ok {
		n := 0
		for n < len(r) && r[n] >= '0' && r[n] <= '9' {
			n++
		}
		if n > 0 && strings.HasPrefix(r[n:], ": ") {
			kind, id = "pie", r[:n]
		}
	}
	if kind == "" {
		return ""
	}
	key := kind + " " + id
	if _, ok := seen[key]; !ok {
		seen[kind]++ // writers are numbered per kind
		seen[key] = seen[kind]
	}
	return fmt.Sprintf("%s %d", kind, seen[key])
}

// byWriter splits a log into its writers' lines, as shapes.
func byWriter(lines []string) map[string][]string {
	out := map[string][]string{}
	seen := map[string]int{}
	for _, l := range lines {
		body := l
		if n := examples.TimestampPrefix(l); n > 0 {
			body = l[n:]
		}
		w := writer(body, seen)
		out[w] = append(out[w], shape(body))
	}
	return out
}

// fuzzyCompare aligns a and b, writer by writer, by their shapes.
func fuzzyCompare(a, b []string) fuzzyResult {
	r := fuzzyResult{A: len(a), B: len(b)}
	wa, wb := byWriter(a), byWriter(b)
	var names []string
	for w := range wa {
		names = append(names, w)
	}
	for w := range wb {
		if _, ok := wa[w]; !ok {
			names = append(names, w)
		}
	}
	slices.Sort(names)
	for _, w := range names {
		align(&r, wa[w], wb[w])
	}
	return r
}

// align adds the alignment of the shapes sa and sb to r.
func align(r *fuzzyResult, sa, sb []string) {
	// LCS over lines, in O(n*m) bits of a table of lengths by rows of
	// uint16: logs of a few thousand lines.
	n, m := len(sa), len(sb)
	table := make([][]uint16, n+1)
	for i := range table {
		table[i] = make([]uint16, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			switch {
			case sa[i] == sb[j]:
				table[i][j] = table[i+1][j+1] + 1
			case table[i+1][j] >= table[i][j+1]:
				table[i][j] = table[i+1][j]
			default:
				table[i][j] = table[i][j+1]
			}
		}
	}
	i, j := 0, 0
	for i < n && j < m {
		switch {
		case sa[i] == sb[j]:
			r.Matched++
			i++
			j++
		case table[i+1][j] >= table[i][j+1]:
			r.OnlyA = append(r.OnlyA, sa[i])
			i++
		default:
			r.OnlyB = append(r.OnlyB, sb[j])
			j++
		}
	}
	r.OnlyA = append(r.OnlyA, sa[i:]...)
	r.OnlyB = append(r.OnlyB, sb[j:]...)
}

// fuzzyReport prints the summary and the unmatched lines, and reports
// whether the logs agree within tolerance (a fraction of the longer log
// that may differ, as two runs of a program do).
func fuzzyReport(nameA, nameB string, r fuzzyResult, tolerance float64, show int) bool {
	longer := max(r.A, r.B)
	diff := len(r.OnlyA) + len(r.OnlyB)
	frac := 0.0
	if longer > 0 {
		frac = float64(diff) / float64(2*longer)
	}
	ok := frac <= tolerance
	verdict := "agree"
	if !ok {
		verdict = "DIFFER"
	}
	fmt.Printf("%s: %s %d lines, %s %d lines, %d aligned, %d only in the first, %d only in the second (%.1f%%, tolerance %.1f%%)\n",
		verdict, nameA, r.A, nameB, r.B, r.Matched, len(r.OnlyA), len(r.OnlyB), 100*frac, 100*tolerance)
	for k, l := range r.OnlyA {
		if k >= show {
			fmt.Printf("  ... %d more only in %s\n", len(r.OnlyA)-show, nameA)
			break
		}
		fmt.Printf("  - %s\n", l)
	}
	for k, l := range r.OnlyB {
		if k >= show {
			fmt.Printf("  ... %d more only in %s\n", len(r.OnlyB)-show, nameB)
			break
		}
		fmt.Printf("  + %s\n", l)
	}
	return ok
}
