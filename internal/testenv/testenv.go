// Package testenv holds what logpack's tests share about the environment
// they start programs in.
package testenv

import (
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
