// Package testutil holds what logpack's tests share: the environment they
// start programs in, and how they show where two long texts differ.
package testutil

import (
	"fmt"
	"os"
	"strings"
)

// WithoutLogpack returns the environment without logpack's own variables
// (LOGPACK_FILE and the others), so that only the test decides whether a
// program it starts logs in binary and where.
func WithoutLogpack() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "LOGPACK_") {
			env = append(env, kv)
		}
	}
	return env
}

// FirstLineDiff shows the first line where got and want differ (texts of
// thousands of lines, where a whole diff would drown the point).
func FirstLineDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < len(g) || i < len(w); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return fmt.Sprintf("line %d:\n got %q\nwant %q", i+1, gl, wl)
		}
	}
	return "(no difference)"
}
