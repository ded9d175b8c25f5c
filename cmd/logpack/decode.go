package main

import (
	"fmt"
	"io"
)

func runDecode(args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "logpack decode: not built yet")
	return 2
}
