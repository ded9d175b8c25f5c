package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// writeError is a failed write, naming where it went.
type writeError struct {
	name string
	err  error
}

func (e *writeError) Error() string { return "writing " + e.name + ": " + e.err.Error() }
func (e *writeError) Unwrap() error { return e.err }

// wrapWrite names a write error ("no space left on device" rather than
// "write /dev/stdout: no space left on device").
func wrapWrite(name string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return &writeError{name, err}
}

// checkedWriter remembers the first write error to standard output, and
// fails every write after it.
type checkedWriter struct {
	w   io.Writer
	err error
}

func (c *checkedWriter) Write(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.w.Write(p)
	if err != nil {
		c.err = err
		var we *writeError
		if !errors.As(err, &we) {
			c.err = wrapWrite("standard output", err)
		}
		return n, c.err
	}
	return n, nil
}

// output is where a command writes its result: standard output for "-"
// (or an empty name), else the file named. A regular file (new, or
// existing) is written as a temporary file in its directory and renamed
// into place by close, keeping an existing file's mode: a failed run
// leaves the old file as it was, and a reader never sees half a file.
// Through a symbolic link, the link's target is replaced. Anything else
// (a device, a FIFO) is written in place.
type output struct {
	name string // for messages: the file, or "standard output"
	w    io.Writer
	f    *os.File // nil for standard output
	dest string   // the file the temporary one replaces; "" when in place
	err  error    // the first write error
}

// How createOutput opens a file.
const (
	outMkdir   = 1 << iota // create the file's directory if missing
	outInPlace             // write into the file as it goes (decode --follow)
)

// createOutput opens the output path (how: outMkdir, outInPlace).
func createOutput(path string, stdout io.Writer, how int) (*output, error) {
	if path == "" || path == "-" {
		return &output{name: "standard output", w: stdout}, nil
	}
	o := &output{name: path}
	if how&outInPlace != 0 {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o666)
		if err != nil {
			return nil, err
		}
		o.f, o.w = f, f
		return o, nil
	}
	dest := path
	if r, err := filepath.EvalSymlinks(path); err == nil {
		dest = r
	}
	st, err := os.Stat(dest)
	switch {
	case err == nil && st.IsDir():
		return nil, fmt.Errorf("%s is a directory", path)
	case err == nil && !st.Mode().IsRegular():
		f, err := os.OpenFile(dest, os.O_WRONLY|os.O_TRUNC, 0)
		if err != nil {
			return nil, err
		}
		o.f, o.w = f, f
		return o, nil
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return nil, err
	}
	if how&outMkdir != 0 {
		if err := os.MkdirAll(filepath.Dir(dest), 0o777); err != nil {
			return nil, err
		}
	}
	f, err := createTemp(dest)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = fmt.Errorf("creating %s: %w", path, pe.Err) // not the temporary name
		}
		return nil, err
	}
	if st != nil {
		if err := f.Chmod(st.Mode().Perm()); err != nil {
			f.Close()
			os.Remove(f.Name())
			return nil, err
		}
	}
	o.f, o.w, o.dest = f, f, dest
	return o, nil
}

// createTemp creates a new file beside path, with the mode a new file
// gets (0666 less the umask), which os.CreateTemp does not give.
func createTemp(path string) (*os.File, error) {
	dir, base := filepath.Split(path)
	for range 100 {
		var r [6]byte
		rand.Read(r[:])
		f, err := os.OpenFile(filepath.Join(dir, "."+base+".tmp-"+hex.EncodeToString(r[:])),
			os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666)
		if !errors.Is(err, fs.ErrExist) {
			return f, err
		}
	}
	return nil, fmt.Errorf("%s: cannot create a temporary file beside it", path)
}

func (o *output) Write(p []byte) (int, error) {
	if o.err != nil {
		return 0, o.err
	}
	n, err := o.w.Write(p)
	if err != nil {
		o.err = err
		var we *writeError
		if !errors.As(err, &we) {
			o.err = wrapWrite(o.name, err)
		}
	}
	return n, o.err
}

// close finishes the output: a temporary file is closed and renamed into
// place, unless a write failed (then it is removed and the error
// returned).
func (o *output) close() error {
	if o.f == nil {
		return o.err
	}
	err := o.f.Close()
	if err != nil && o.err == nil {
		o.err = wrapWrite(o.name, err)
	}
	if o.dest == "" {
		return o.err
	}
	if o.err == nil {
		if err := os.Rename(o.f.Name(), o.dest); err != nil {
			o.err = wrapWrite(o.name, err)
		}
	}
	if o.err != nil {
		os.Remove(o.f.Name())
	}
	return o.err
}

// abort drops the output: an existing file keeps its old content.
func (o *output) abort() {
	if o.f == nil {
		return
	}
	o.f.Close()
	if o.dest != "" {
		os.Remove(o.f.Name())
	}
}

// sameFileError is an output that is one of the command's inputs.
type sameFileError struct{ out, in string }

func (e *sameFileError) Error() string {
	if e.out == e.in {
		return fmt.Sprintf("%s is both an input and the output; refusing to overwrite an input", e.in)
	}
	return fmt.Sprintf("%s and %s are the same file; refusing to overwrite an input", e.out, e.in)
}

// checkOutput refuses an output that is one of the inputs: the same file
// by device and inode, so also under another path, through a hard link or
// a symbolic link. The output "-" (or "") is standard output and the
// input "-" standard input, each compared when it is a file. Only a
// regular file is refused as an output (a device or a FIFO is no copy of
// an input), and an output that does not exist yet is no input.
func checkOutput(out string, inputs ...string) error {
	display := "output " + out
	var ost fs.FileInfo
	if out == "" || out == "-" {
		display, ost = "standard output", statFile(os.Stdout)
	} else {
		ost, _ = os.Stat(out)
	}
	if ost == nil || !ost.Mode().IsRegular() {
		return nil
	}
	for _, in := range inputs {
		var ist fs.FileInfo
		switch in {
		case "":
			continue
		case "-":
			ist = statFile(stdinFile())
		default:
			ist, _ = os.Stat(in)
		}
		if ist != nil && os.SameFile(ost, ist) {
			if in == out {
				return &sameFileError{in, in}
			}
			if in == "-" {
				return &sameFileError{display, "standard input"}
			}
			return &sameFileError{display, "the input " + in}
		}
	}
	return nil
}

// statFile stats an open file; nil if it cannot.
func statFile(f *os.File) fs.FileInfo {
	if f == nil {
		return nil
	}
	st, err := f.Stat()
	if err != nil {
		return nil
	}
	return st
}

// stdinFile is standard input as a file, nil when tests replaced it.
func stdinFile() *os.File {
	f, _ := stdin.(*os.File)
	return f
}

// stdoutError is the first failed write to standard output, if any.
func stdoutError(w io.Writer) error {
	if cw, ok := w.(*checkedWriter); ok {
		return cw.err
	}
	return nil
}
