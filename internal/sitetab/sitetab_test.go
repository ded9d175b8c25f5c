package sitetab

import (
	"bytes"
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/logpack/logpack/fmtdb"
	"github.com/logpack/logpack/internal/logfile"
	lpruntime "github.com/logpack/logpack/runtime"
)

func needGCC(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Skip("gcc not found")
	}
}

func gcc(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command("gcc", args...).CombinedOutput(); err != nil {
		t.Fatalf("gcc %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// The Go constants are the C compiler's offsets of struct logpack_site,
// and the class numbers agree with fmtdb's.
func TestLayoutMatchesTheHeader(t *testing.T) {
	needGCC(t)
	dir := t.TempDir()
	hdr, err := lpruntime.Files().Open("logpack_site.h")
	if err != nil {
		t.Fatal(err)
	}
	var h bytes.Buffer
	h.ReadFrom(hdr)
	os.WriteFile(filepath.Join(dir, "logpack_site.h"), h.Bytes(), 0o644)
	prog := `#include <stdio.h>
#include <stddef.h>
#include "logpack_site.h"
#define F(m) printf(#m " %zu\n", offsetof(struct logpack_site, m))
int main(void) {
	F(state); F(format); F(file); F(func); F(line); F(level); F(flags); F(text_level); F(nargs); F(args);
	printf("align %zu\n", _Alignof(struct logpack_site));
	printf("i32 %d\nu32 %d\ni64 %d\nu64 %d\nf64 %d\nf80 %d\nstr %d\nptr %d\nerrno %d\nstrmax %d\n",
		LOGPACK_I32, LOGPACK_U32, LOGPACK_I64, LOGPACK_U64, LOGPACK_F64, LOGPACK_F80, LOGPACK_STR, LOGPACK_PTR, LOGPACK_ERRNO, LOGPACK_STRMAX);
	printf("conststr %d\nconstint %d\nconstuint %d\nprefix %d\n", LOGPACK_CONST_STR, LOGPACK_CONST_INT, LOGPACK_CONST_UINT, LOGPACK_SITE_PREFIX);
	return 0;
}
`
	os.WriteFile(filepath.Join(dir, "p.c"), []byte(prog), 0o644)
	gcc(t, "-std=c11", "-Wall", "-Werror", "-o", filepath.Join(dir, "p"), filepath.Join(dir, "p.c"))
	out, err := exec.Command(filepath.Join(dir, "p")).Output()
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("state %d\nformat %d\nfile %d\nfunc %d\nline %d\nlevel %d\nflags %d\ntext_level %d\nnargs %d\nargs %d\nalign %d\n",
		OffState, OffFormat, OffFile, OffFunc, OffLine, OffLevel, OffFlags, OffTextLevel, OffNargs, OffArgs, EntryAlign)
	for c := fmtdb.ClassI32; c <= fmtdb.ClassStrMax; c++ {
		want += fmt.Sprintf("%s %d\n", c, c)
	}
	want += fmt.Sprintf("conststr %d\nconstint %d\nconstuint %d\nprefix %d\n", logfile.ClassConstStr, logfile.ClassConstInt, logfile.ClassConstUint, logfile.DescPrefix)
	if diff := cmp.Diff(want, string(out)); diff != "" {
		t.Errorf("C layout differs from the Go constants (-go +c):\n%s", diff)
	}
}

var sampleEntries = []logfile.Descriptor{
	{Level: 1, TextLevel: 2, File: "criu/cr-dump.c", Line: 2128, Func: "cr_dump_tasks",
		Format: "Error (%s:%d): Dumping FAILED.\n",
		Args:   []logfile.DescArg{{Class: logfile.ClassConstStr, Str: "criu/cr-dump.c", BoundArg: -1}, {Class: logfile.ClassConstInt, Bits: 2128, BoundArg: -1}}},
	{Level: 4, TextLevel: logfile.TextLevelNone, File: "criu/cr-dump.c", Line: 7, Func: "f",
		Format: "x=%d s=%s %.*s %.3s %lu %p \"q\" \\ \x01 \xff\n",
		Args: []logfile.DescArg{{Class: fmtdb.ClassI32, BoundArg: -1}, {Class: fmtdb.ClassStr, BoundArg: -1},
			{Class: fmtdb.ClassI32, BoundArg: -1}, {Class: fmtdb.ClassStrMax, BoundArg: 2},
			{Class: fmtdb.ClassStrMax, Bound: 300, BoundArg: -1}, {Class: fmtdb.ClassU64, BoundArg: -1},
			{Class: fmtdb.ClassPtr, BoundArg: -1}}},
	{Level: 0, Flags: logfile.DescPrefix, TextLevel: logfile.TextLevelNone, File: "criu/cr-restore.c", Line: 1544, Func: "restore_task_with_children",
		Format: "%6d: ", Args: []logfile.DescArg{{Class: fmtdb.ClassI32, BoundArg: -1}}},
	{Level: fmtdb.LevelRuntime, TextLevel: 2, File: "soccr/soccr.c", Line: 94, Func: "",
		Format: "%d %lu %lld %m", Args: []logfile.DescArg{{Class: logfile.ClassConstInt, Bits: neg5, BoundArg: -1}, {Class: logfile.ClassConstUint, Bits: 1 << 63, BoundArg: -1},
			{Class: logfile.ClassConstInt, Bits: 1 << 63, BoundArg: -1}, {Class: fmtdb.ClassErrno, BoundArg: -1}}},
}

// A unit's table compiles into objects and programs whose table reads
// back exactly, and the runtime's struct sees the same fields.
func TestTableRoundTrip(t *testing.T) {
	needGCC(t)
	for _, opt := range []string{"-O0", "-O2", "-Os"} {
		t.Run(opt, func(t *testing.T) {
			dir := t.TempDir()
			hdr, _ := lpruntime.Files().Open("logpack_site.h")
			var h bytes.Buffer
			h.ReadFrom(hdr)
			os.WriteFile(filepath.Join(dir, "logpack_site.h"), h.Bytes(), 0o644)
			u := NewUnit("t0", StringRule{SizeOpt: opt == "-Os"})
			var syms []string
			for _, e := range sampleEntries {
				syms = append(syms, u.Add(e))
			}
			var src strings.Builder
			src.WriteString("#include <stdio.h>\n#include \"logpack_site.h\"\n")
			src.WriteString(u.Decls())
			src.WriteString(u.Asm())
			src.WriteString("int main(void) {\n")
			for _, s := range syms {
				fmt.Fprintf(&src, "\t{ struct logpack_site *s = &%s; printf(\"%%s|%%s|%%s|%%u|%%d|%%d|%%d\\n\", (char *)s + s->format, (char *)s + s->file, (char *)s + s->func, s->line, s->level, s->flags, s->nargs); }\n", s)
			}
			// the literal of an original call, to share storage with
			src.WriteString("\tprintf(\"Error (%s:%d): Dumping FAILED.\\n\", \"criu/cr-dump.c\", 2128);\n\treturn 0;\n}\n")
			c := filepath.Join(dir, "u.c")
			os.WriteFile(c, []byte(src.String()), 0o644)
			obj := filepath.Join(dir, "u.o")
			exe := filepath.Join(dir, "u")
			gcc(t, opt, "-std=gnu11", "-Wall", "-Wextra", "-Werror", "-fPIE", "-c", "-o", obj, c)
			gcc(t, "-pie", "-o", exe, obj)
			out, err := exec.Command(exe).Output()
			if err != nil {
				t.Fatal(err)
			}
			var want strings.Builder
			for _, e := range sampleEntries {
				fmt.Fprintf(&want, "%s|%s|%s|%d|%d|%d|%d\n", e.Format, e.File, e.Func, e.Line, e.Level, e.Flags, len(e.Args))
			}
			want.WriteString("Error (criu/cr-dump.c:2128): Dumping FAILED.\n")
			if diff := cmp.Diff(want.String(), string(out)); diff != "" {
				t.Errorf("program output (-want +got):\n%s", diff)
			}
			for _, file := range []string{obj, exe} {
				f, err := os.Open(file)
				if err != nil {
					t.Fatal(err)
				}
				got, err := Extract(f)
				f.Close()
				if err != nil {
					t.Fatalf("%s: %v", file, err)
				}
				if diff := cmp.Diff(sampleEntries, got); diff != "" {
					t.Errorf("%s: extracted table (-want +got):\n%s", filepath.Base(file), diff)
				}
			}
			if opt != "-O0" {
				// The format is stored once, shared with the call's literal.
				ef, err := elf.Open(exe)
				if err != nil {
					t.Fatal(err)
				}
				defer ef.Close()
				n := 0
				for _, s := range ef.Sections {
					if s.Type != elf.SHT_PROGBITS {
						continue
					}
					d, _ := s.Data()
					n += bytes.Count(d, []byte("Error (%s:%d): Dumping FAILED.\n\x00"))
				}
				if n != 1 {
					t.Errorf("the format is stored %d times in the program, want once", n)
				}
			}
		})
	}
}

// neg5 is -5 as a constant's bits (two's complement).
var neg5 = func() uint64 { v := int64(-5); return uint64(v) }()

// The sites read back from programs, shared libraries, objects and ld -r
// of objects (CRIU's built-in.o) are the database's sites, with the
// file's build ID; files that are not ELF are named as such.
func TestExtractFile(t *testing.T) {
	needGCC(t)
	dir := t.TempDir()
	hdr, _ := lpruntime.Files().Open("logpack_site.h")
	var h bytes.Buffer
	h.ReadFrom(hdr)
	os.WriteFile(filepath.Join(dir, "logpack_site.h"), h.Bytes(), 0o644)
	var want []fmtdb.Site
	for i := range sampleEntries {
		s, _, err := sampleEntries[i].Site()
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, s)
	}
	unit := func(id string) string {
		u := NewUnit(id, StringRule{})
		var uses strings.Builder
		for _, e := range sampleEntries {
			fmt.Fprintf(&uses, "(void)&%s;\n", u.Add(e))
		}
		return "#include \"logpack_site.h\"\n" + u.Decls() + u.Asm() + "void use_" + id + "(void) {\n" + uses.String() + "}\n"
	}
	p, q := filepath.Join(dir, "p.c"), filepath.Join(dir, "q.c")
	os.WriteFile(p, []byte(unit("p")+"int main(void) { return 0; }\n"), 0o644)
	os.WriteFile(q, []byte(unit("q")), 0o644)
	for _, mode := range [][]string{{"-no-pie"}, {"-pie", "-fPIE"}, {"-shared", "-fPIC"}, {"-c"}} {
		bin := filepath.Join(dir, "p"+mode[0])
		gcc(t, append(append([]string{}, mode...), "-O2", "-Wl,--build-id", "-o", bin, p)...)
		got, build, err := ExtractFile(bin)
		if err != nil {
			t.Fatalf("%s: %v", mode[0], err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: sites (-want +got):\n%s", mode[0], diff)
		}
		if (build == "") != (mode[0] == "-c") {
			t.Errorf("%s: build ID %q", mode[0], build)
		}
	}
	// ld -r of two objects: both tables, in order.
	qo := filepath.Join(dir, "q.o")
	gcc(t, "-c", "-O2", "-o", qo, q)
	builtIn := filepath.Join(dir, "built-in.o")
	if out, err := exec.Command("ld", "-r", "-o", builtIn, filepath.Join(dir, "p-c"), qo).CombinedOutput(); err != nil {
		t.Fatalf("ld -r: %v\n%s", err, out)
	}
	got, _, err := ExtractFile(builtIn)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(append(append([]fmtdb.Site{}, want...), want...), got); diff != "" {
		t.Errorf("built-in.o (-want +got):\n%s", diff)
	}
	if _, _, err := ExtractFile(p); err == nil || !strings.Contains(err.Error(), p+`: not an ELF file (a program, shared library or object file starts with "\x7fELF"; it starts with`) {
		t.Errorf("a C source: %v", err)
	}
	empty := filepath.Join(dir, "empty")
	os.WriteFile(empty, nil, 0o644)
	if _, _, err := ExtractFile(empty); err == nil || !strings.HasSuffix(err.Error(), "; it is empty)") {
		t.Errorf("an empty file: %v", err)
	}
	if _, _, err := ExtractFile("/dev/zero"); err == nil || !strings.Contains(err.Error(), `not an ELF file`) {
		t.Errorf("/dev/zero: %v", err)
	}
}
