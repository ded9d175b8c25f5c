// Package lpruntime holds logpack's C runtime: the code that rewritten log
// calls use to record into a binary log. It is embedded into the logpack
// binary so that `logpack cc` can build it into programs and `logpack
// runtime -o DIR` can write it out.
package lpruntime

import (
	"embed"
	"io/fs"
)

//go:embed c/*.c c/*.h
var files embed.FS

// Files returns the runtime's C sources and headers.
func Files() fs.FS {
	sub, err := fs.Sub(files, "c")
	if err != nil {
		panic(err)
	}
	return sub
}

// SiteHeader is logpack_site.h: the declarations rewritten code needs.
func SiteHeader() []byte {
	b, err := files.ReadFile("c/logpack_site.h")
	if err != nil {
		panic("logpack: runtime header missing from the binary: " + err.Error())
	}
	return b
}
