package main

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/pflag"

	lpruntime "github.com/logpack/logpack/runtime"
)

func runRuntime(args []string, stdout, stderr io.Writer) int {
	flags := pflag.NewFlagSet("logpack runtime", pflag.ContinueOnError)
	flags.SetOutput(stderr)
	dir := flags.StringP("output", "o", "", "directory to write the runtime's C files into (created if missing)")
	flags.Usage = func() {
		fmt.Fprintln(stderr, "usage: logpack runtime -o DIR")
		fmt.Fprintln(stderr, "Writes logpack.c, logpack.h and logpack_site.h for projects that vendor the runtime.")
		flags.PrintDefaults()
	}
	if err := flags.Parse(args); err != nil {
		return 2
	}
	if *dir == "" || flags.NArg() != 0 {
		flags.Usage()
		return 2
	}
	if err := writeRuntime(*dir); err != nil {
		fmt.Fprintf(stderr, "logpack runtime: %v\n", err)
		return 1
	}
	return 0
}

func writeRuntime(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	src := lpruntime.Files()
	return fs.WalkDir(src, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(src, path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, path), b, 0o644)
	})
}
