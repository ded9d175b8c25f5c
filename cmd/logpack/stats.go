package main

import (
	"fmt"
	"io"
)

func runStats(args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "logpack stats: not built yet")
	return 2
}
