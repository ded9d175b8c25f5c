package cc

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Every kind of compiler invocation a CRIU build makes
// (CRIU-LOGGING.md, "How CRIU builds"), and what the wrapper does with it.
func TestClassify(t *testing.T) {
	noGlibc := []string{"CR_NOGLIBC"}
	tests := []struct {
		name    string
		args    string
		kind    Kind
		sources []string // C sources rewritten
		output  string
		reason  string // substring of the pass-through reason
	}{
		{"compile", "-O2 -g -Wall -Werror -iquote include -I. -DCONFIG_X86_64 -c criu/mount.c -o criu/mount.o",
			Compile, []string{"criu/mount.c"}, "criu/mount.o", ""},
		{"compile, -o first", "-o criu/mount.o -c criu/mount.c", Compile, []string{"criu/mount.c"}, "criu/mount.o", ""},
		{"compile, joined -o", "-c -ocriu/mount.o criu/mount.c", Compile, []string{"criu/mount.c"}, "criu/mount.o", ""},
		{"compile with dependency output", "-MD -MP -MF criu/.mount.d -c criu/mount.c -o criu/mount.o",
			Compile, []string{"criu/mount.c"}, "criu/mount.o", ""},
		{"compile, quoted define", `-DSYSCONFDIR="/etc" -DCR_VERSION="4.2" -fPIC -c a.c`, Compile, []string{"a.c"}, "", ""},
		{"compile, -x c", "-x c -c gen.txt -o gen.o", Compile, []string{"gen.txt"}, "gen.o", ""},
		{"compile without -o", "-c a.c b.c", Compile, []string{"a.c", "b.c"}, "", ""},
		{"compile, separate -I and -include", "-I include -include config.h -isystem sys -c a.c", Compile, []string{"a.c"}, "", ""},
		{"dependency pass", "-M -MT criu/mount.d -MT criu/mount.o -iquote include criu/mount.c -o criu/mount.d",
			PassThrough, nil, "criu/mount.d", "-M"},
		{"dependency pass -MM", "-MM -MG criu/mount.c", PassThrough, nil, "", "-MM"},
		{"preprocess", "-E -P lds.in -o lds", PassThrough, nil, "lds", "-E"},
		{"to assembly", "-S a.c -o a.s", PassThrough, nil, "a.s", "-S"},
		{"assemble .S", "-D__ASSEMBLY__ -c criu/arch/x86/call32.S -o call32.o", PassThrough, nil, "call32.o", "not C"},
		{"assemble .s", "-c a.s", PassThrough, nil, "", "not C"},
		{"probe from stdin", "-O2 -Werror -x c - -o /dev/null", PassThrough, nil, "/dev/null", "stdin"},
		{"asm probe from stdin", "-x assembler-with-cpp - -c -o /dev/null", PassThrough, nil, "/dev/null", "stdin"},
		{"version", "--version", PassThrough, nil, "", "version"},
		{"verbose query", "-v", PassThrough, nil, "", "-v"},
		{"print query", "-print-file-name=libc.a", PassThrough, nil, "", "query"},
		{"dumpmachine", "-dumpmachine", PassThrough, nil, "", "target"},
		{"parasite, no glibc", "-DCR_NOGLIBC -ffreestanding -fno-stack-protector -nostdlib -c criu/pie/parasite.c -o parasite.o",
			PassThrough, nil, "parasite.o", "glibc"},
		{"no-glibc define only", "-D CR_NOGLIBC=1 -c compel/plugins/std/string.c", PassThrough, nil, "", "CR_NOGLIBC"},
		{"freestanding only", "-ffreestanding -c a.c", PassThrough, nil, "", "freestanding"},
		{"link executable", "-o criu/criu criu/built-in.o lib/c/built-in.o -lprotobuf-c -ldl -lnl-3 -lnet -Wl,-z,now",
			Link, nil, "criu/criu", ""},
		{"link shared library", "-shared -fPIC -o lib/c/libcriu.so lib/c/built-in.o -lprotobuf-c", Link, nil, "lib/c/libcriu.so", ""},
		{"compile and link", "-O2 -o plugin.so -shared -fPIC plugin.c helper.o", Link, []string{"plugin.c"}, "plugin.so", ""},
		{"compile and link, -x", "-o t -x c t.src", Link, nil, "t", ""},
		{"partial link", "-r -o built-in.o a.o b.o", PassThrough, nil, "built-in.o", "partial link"},
		{"syntax only", "-fsyntax-only a.c", PassThrough, nil, "", "syntax"},
		{"save-temps", "-save-temps=obj -c a.c", PassThrough, nil, "", "save-temps"},
		{"no inputs", "-O2", PassThrough, nil, "", "no input"},
		{"header", "-c config.h", PassThrough, nil, "", "not C"},
		{"C++", "-c a.cc", PassThrough, nil, "", "not C"},
		{"preprocessed", "-c a.i", PassThrough, nil, "", "not C"},
		{"dangling -o", "-c a.c -o", PassThrough, nil, "", "without its argument"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			inv, err := Classify(strings.Fields(tc.args), noGlibc)
			if err != nil {
				t.Fatal(err)
			}
			if inv.Kind != tc.kind {
				t.Errorf("kind %v (%s), want %v", inv.Kind, inv.Reason, tc.kind)
			}
			var got []string
			for _, s := range inv.Sources() {
				got = append(got, s.Path)
			}
			if diff := cmp.Diff(tc.sources, got); diff != "" {
				t.Errorf("sources (-want +got):\n%s", diff)
			}
			if inv.Output != tc.output {
				t.Errorf("output %q, want %q", inv.Output, tc.output)
			}
			if tc.kind == PassThrough && !strings.Contains(inv.Reason, tc.reason) {
				t.Errorf("reason %q does not mention %q", inv.Reason, tc.reason)
			}
		})
	}
}

// The wrapper builds its own commands from the original flags: it keeps
// every flag (quotes and all), removes only what it sets itself, and
// hands the dependency options to the preprocessing run with the file
// and target gcc would have derived from -o.
func TestCommandsKeepFlags(t *testing.T) {
	args := []string{`-DSYSCONFDIR="/etc"`, "-iquote", "include", "-fPIC", "-MMD", "-MP", "-c", "-o", "out/m.o", "criu/mount.c", "-Werror"}
	inv, err := Classify(args, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{`-DSYSCONFDIR="/etc"`, "-iquote", "include", "-fPIC", "-Werror"}
	if diff := cmp.Diff(want, inv.baseArgs()); diff != "" {
		t.Errorf("base args (-want +got):\n%s", diff)
	}
	wantDep := []string{"-MMD", "-MP", "-MF", "out/m.d", "-MQ", "out/m.o"}
	if diff := cmp.Diff(wantDep, inv.depArgsFor("criu/mount.c", "out/m.o")); diff != "" {
		t.Errorf("dependency args (-want +got):\n%s", diff)
	}
	// Without -o, gcc names the dependency file after the source's base
	// name and uses its default target.
	inv, _ = Classify([]string{"-MD", "-c", "sub/a.c"}, nil)
	if diff := cmp.Diff([]string{"-MD", "-MF", "a.d"}, inv.depArgsFor("sub/a.c", "a.o")); diff != "" {
		t.Errorf("dependency args without -o (-want +got):\n%s", diff)
	}
	// Given -MF/-MT stay as they are.
	inv, _ = Classify([]string{"-MD", "-MFdeps/x.d", "-MT", "x", "-c", "a.c", "-o", "a.o"}, nil)
	if diff := cmp.Diff([]string{"-MD", "-MFdeps/x.d", "-MT", "x"}, inv.depArgsFor("a.c", "a.o")); diff != "" {
		t.Errorf("explicit dependency args (-want +got):\n%s", diff)
	}
}

func TestResponseFiles(t *testing.T) {
	dir := t.TempDir()
	inner := filepath.Join(dir, "inner.rsp")
	os.WriteFile(inner, []byte(`-o 'out dir/a.o'`), 0o644)
	outer := filepath.Join(dir, "outer.rsp")
	os.WriteFile(outer, []byte("-c \"a b.c\"\n-DX=\\\"q\\\" @"+inner+"\n"), 0o644)
	inv, err := Classify([]string{"-O2", "@" + outer, "@missing.rsp"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"-O2", "-c", "a b.c", `-DX="q"`, "-o", "out dir/a.o", "@missing.rsp"}
	if diff := cmp.Diff(want, inv.Args); diff != "" {
		t.Errorf("expanded (-want +got):\n%s", diff)
	}
	// "@missing.rsp" is an input to gcc as well (it reports it): not C.
	if inv.Kind != PassThrough {
		t.Errorf("kind %v", inv.Kind)
	}
	if _, err := splitResponseFile(`-c "a.c`); err == nil {
		t.Error("unterminated quote accepted")
	}
}

func TestRuntimeFlags(t *testing.T) {
	for _, tc := range []struct {
		args string
		want []string
	}{
		{"-o prog a.o", nil},
		{"-shared -o lib.so a.o", []string{"-fPIC"}},
		{"-m32 -fpic -o prog a.o", []string{"-m32", "-fPIC"}},
	} {
		inv, _ := Classify(strings.Fields(tc.args), nil)
		if diff := cmp.Diff(tc.want, runtimeFlags(inv)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.args, diff)
		}
	}
}

// FuzzClassify: no argument list makes classification panic, and what it
// decides is consistent: rewritten sources are C inputs, and the commands
// the wrapper builds never repeat an input or the output.
func FuzzClassify(f *testing.F) {
	for _, s := range []string{
		"-c a.c -o a.o", "-MD -MF x.d -c a.c", "-o p a.c b.o -lm", "-x c - -o /dev/null",
		"-c -x c a.txt -x none b.c", "-shared -fPIC -o l.so a.c", "-M -MT x a.c", "-l", "-o", "@x",
		"-DCR_NOGLIBC -c a.c", "-Wp,-MD,a.d -c a.c", "-c a.c -ofoo -MQfoo -MTbar",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		args := strings.Split(s, " ")
		inv, err := Classify(args, []string{"CR_NOGLIBC"})
		if err != nil {
			return
		}
		base := inv.baseArgs()
		for _, src := range inv.Sources() {
			if src.Lang != LangC || src.Path == "-" {
				t.Fatalf("rewriting %+v", src)
			}
			if inv.Args[src.Index] != src.Path {
				t.Fatalf("source %q at %d is %q", src.Path, src.Index, inv.Args[src.Index])
			}
		}
		if inv.Kind != PassThrough && len(base) > len(inv.Args) {
			t.Fatalf("base %q longer than %q", base, inv.Args)
		}
		_ = inv.depArgsFor("a.c", "a.o")
		_ = runtimeFlags(inv)
	})
}
