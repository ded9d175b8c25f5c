package main

import (
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/logpack/logpack/internal/sitetab"
	"github.com/logpack/logpack/rewriter/cc"
	lpruntime "github.com/logpack/logpack/runtime"
)

func runRuntime(args []string, stdout, stderr io.Writer) int {
	c := newCLI("logpack runtime", stdout, stderr,
		`Writes logpack.c, logpack.h and logpack_site.h, for projects that vendor the
runtime. Objects compiled by logpack cc call per-signature encoders, which
logpack cc's links add; a project that links them with its own runtime
names them (objects, archives) with --encoders, and compiles logpack_enc.c
(the runtime with those encoders) instead of logpack.c.`,
		"logpack runtime -o DIR",
		"logpack runtime -o DIR --encoders OBJECT...")
	dir := c.flags.StringP("output", "o", "", "write the runtime's C files into the directory `DIR` (created if missing)")
	encoders := c.flags.Bool("encoders", false, "also write logpack_enc.c with the encoders the OBJECTs call")
	if st, done := c.parse(args); done {
		return st
	}
	if *encoders && c.flags.NArg() == 0 {
		return c.usageError("--encoders needs the OBJECTs that call them")
	}
	if !*encoders {
		if st, ok := c.operands(0, 0, "operand"); !ok {
			return st
		}
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
	if *encoders {
		names, err := cc.EncodersCalled(c.flags.Args())
		if err != nil {
			return c.fail("%v", err)
		}
		o, err := createOutput(filepath.Join(*dir, "logpack_enc.c"), nil, 0)
		if err != nil {
			return c.fail("%v", err)
		}
		o.Write([]byte("/* The logpack runtime with the encoders of: " + strings.Join(c.flags.Args(), " ") + " */\n#include \"logpack.c\"\n"))
		o.Write([]byte(sitetab.Encoders(names)))
		if err := o.close(); err != nil {
			return c.fail("%v", err)
		}
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
