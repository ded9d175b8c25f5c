package main

import (
	"io"
	"io/fs"
	"os"
	"path/filepath"

	lpruntime "github.com/logpack/logpack/runtime"
)

func runRuntime(args []string, stdout, stderr io.Writer) int {
	c := newCLI("logpack runtime", stdout, stderr,
		`Writes logpack.c, logpack.h and logpack_site.h, for projects that vendor the
runtime.`,
		"logpack runtime -o DIR")
	dir := c.flags.StringP("output", "o", "", "write the runtime's C files into the directory `DIR` (created if missing)")
	if st, done := c.parse(args); done {
		return st
	}
	if st, ok := c.operands(0, 0, "operand"); !ok {
		return st
	}
	switch *dir {
	case "":
		return c.usageError("no -o DIR given")
	case "-":
		return c.badValue("output", *dir, "a directory (the runtime is several files)")
	}
	if err := writeRuntime(*dir); err != nil {
		return c.fail("%v", err)
	}
	return exitOK
}

func writeRuntime(dir string) error {
	if err := os.MkdirAll(dir, 0o777); err != nil {
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
		o, err := createOutput(filepath.Join(dir, path), nil, 0)
		if err != nil {
			return err
		}
		o.Write(b)
		return o.close()
	})
}
