package main

import (
	"fmt"
	"io"
)

func runDB(args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "logpack db: not built yet")
	return 2
}
