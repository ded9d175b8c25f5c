// Package examples holds the programs that show logpack end to end (the
// CRIU-like example, a minimal one) and the comparison of their text logs
// with decoded binary logs, used by `make demo` and by the tests.
package examples

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// Normalize rewrites the parts of a CRIU-style log line that differ
// between two runs of the same program: the "(SS.uuuuuu) " timestamp
// becomes "(TS) ", and the "%6d: " pid prefix of a forked task becomes
// "P1", "P2", ... in order of first appearance (pids tracks them across
// calls). Everything else is compared byte for byte.
func Normalize(line string, pids map[string]string) string {
	rest := line
	var out strings.Builder
	if n := TimestampPrefix(rest); n > 0 {
		out.WriteString("(TS) ")
		rest = rest[n:]
	}
	if pid, n := PidPrefix(rest); n > 0 {
		name, ok := pids[pid]
		if !ok {
			name = fmt.Sprintf("P%d", len(pids)+1)
			pids[pid] = name
		}
		fmt.Fprintf(&out, "%6s: ", name)
		rest = rest[n:]
	}
	out.WriteString(rest)
	return out.String()
}

// TimestampPrefix returns the length of CRIU's timestamp prefix at the
// start of s ("(" 2+ digits "." 6 digits ") "), 0 if there is none.
func TimestampPrefix(s string) int {
	if len(s) < 12 || s[0] != '(' {
		return 0
	}
	i := 1
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	if i-1 < 2 || i >= len(s) || s[i] != '.' {
		return 0
	}
	j := i + 1
	for j < len(s) && isDigit(s[j]) {
		j++
	}
	if j-(i+1) != 6 || j+1 >= len(s) || s[j] != ')' || s[j+1] != ' ' {
		return 0
	}
	return j + 2
}

// PidPrefix matches CRIU's printf("%6d: ", pid) at the start of s: a
// right-aligned number at least six columns wide, then ": ". It returns
// the pid and the prefix's length, 0 if there is none.
func PidPrefix(s string) (string, int) {
	i := 0
	for i < len(s) && s[i] == ' ' {
		i++
	}
	j := i
	for j < len(s) && isDigit(s[j]) {
		j++
	}
	if j == i || j < 6 || j+1 >= len(s) || s[j] != ':' || s[j+1] != ' ' {
		return "", 0
	}
	return s[i:j], j + 2
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// ReadLines splits a log into lines, keeping a final line without newline.
func ReadLines(r io.Reader) ([]string, error) {
	var lines []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 16<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return lines, sc.Err()
}

// Difference is one line where two normalised logs disagree (1-based line
// number; a missing line is reported as "<missing>").
type Difference struct {
	Line      int
	Want, Got string
}

// Compare normalises both logs and returns the number of lines and up to
// max differences. The logs are identical when no difference is returned.
func Compare(want, got []string, max int) (int, []Difference) {
	pw, pg := map[string]string{}, map[string]string{}
	n := max2(len(want), len(got))
	var diffs []Difference
	for i := 0; i < n && len(diffs) < max; i++ {
		w, g := "<missing>", "<missing>"
		if i < len(want) {
			w = Normalize(want[i], pw)
		}
		if i < len(got) {
			g = Normalize(got[i], pg)
		}
		if w != g {
			diffs = append(diffs, Difference{Line: i + 1, Want: w, Got: g})
		}
	}
	return n, diffs
}

func max2(a, b int) int {
	if a > b {
		return a
	}
	return b
}
