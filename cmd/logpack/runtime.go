package main

import (
	"fmt"
	"io"
)

func runRuntime(args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "logpack runtime: not built yet")
	return 2
}
