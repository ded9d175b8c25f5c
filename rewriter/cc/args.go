// Package cc is the compiler wrapper behind `logpack cc`: it classifies a
// compiler invocation from its arguments (in the style of ccache and
// distcc), rewrites the log calls of C compiles by way of the preprocessed
// unit, adds the runtime to links that need it, and passes everything else
// to the compiler untouched.
package cc

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Kind is what the wrapper does with an invocation.
type Kind int

const (
	// PassThrough runs the compiler with the original arguments.
	PassThrough Kind = iota
	// Compile is `-c` of C sources: each is preprocessed, rewritten and
	// compiled to its object.
	Compile
	// Link produces an executable or shared library, possibly compiling C
	// sources first (`gcc -o prog a.c b.o`); the runtime is added when the
	// linked objects use it.
	Link
)

func (k Kind) String() string {
	switch k {
	case Compile:
		return "compile"
	case Link:
		return "link"
	}
	return "pass-through"
}

// Lang is the language gcc would give one input.
type Lang string

const (
	LangC        Lang = "c"
	LangCPP      Lang = "cpp-output" // already preprocessed C (.i)
	LangAsm      Lang = "assembler"  // .s
	LangAsmCPP   Lang = "assembler-with-cpp"
	LangHeader   Lang = "c-header"
	LangOther    Lang = "other"  // C++, Objective-C, Fortran ...: not ours
	LangLinker   Lang = "linker" // objects, archives, shared libraries, scripts
	LangLib      Lang = "lib"    // -lNAME
	LangStdin    Lang = "stdin"  // "-"
	langNoneFlag Lang = ""
)

// Input is one positional input of the compiler command.
type Input struct {
	Path  string // file name, or NAME for -lNAME
	Index int    // index in Invocation.Args of the argument naming it
	Lang  Lang
	// ExplicitLang is set when a -x option, not the file name, decided
	// the language.
	ExplicitLang bool
}

// Invocation is a classified compiler command line.
type Invocation struct {
	Kind   Kind
	Reason string   // why it is passed through (for -v and tests)
	Args   []string // arguments after the compiler, response files expanded
	Inputs []Input
	Output string // the -o argument, "" if none

	Shared      bool // -shared
	Relocatable bool // -r: a partial link, the runtime belongs in the final link
	DepGen      bool // -MD or -MMD: the compile writes a dependency file
	HasDepFile  bool // -MF given
	HasDepTgt   bool // -MT or -MQ given
	HasLangFlag bool // some -x option appears
	LibDirs     []string

	// skip marks argument indexes that the wrapper removes when it builds
	// its own commands (inputs, -o, -c, -x, dependency options); keepDep
	// marks the dependency options among them, which go to the
	// preprocessing run.
	skip    map[int]bool
	depArgs []int
}

// Options whose argument may be the next word. (Joined forms such as
// -Idir, -DX=1, -ofile, -lm are recognised by prefix below.)
var takesArg = map[string]bool{
	"-o": true, "-x": true, "-I": true, "-include": true, "-imacros": true,
	"-isystem": true, "-iquote": true, "-idirafter": true, "-iprefix": true,
	"-iwithprefix": true, "-iwithprefixbefore": true, "-isysroot": true,
	"-imultilib": true, "-iplugindir": true, "-MF": true, "-MT": true, "-MQ": true,
	"-D": true, "-U": true, "-L": true, "-l": true, "-Xlinker": true,
	"-Xassembler": true, "-Xpreprocessor": true, "-aux-info": true, "-T": true,
	"-u": true, "-z": true, "-A": true, "-B": true, "-e": true, "--param": true,
	"-dumpbase": true, "-dumpbase-ext": true, "-dumpdir": true, "--sysroot": true,
	"-wrapper": true, "--include": true, "--output": true, "-G": true,
	"-specs": true, "--specs": true,
}

// Flags after which the wrapper must not touch the invocation.
var passFlags = map[string]string{
	"-E":               "preprocessing only (-E)",
	"-M":               "dependency pass (-M)",
	"-MM":              "dependency pass (-MM)",
	"-S":               "compiling to assembly (-S)",
	"-fsyntax-only":    "syntax check only",
	"-v":               "verbose driver query (-v)",
	"--version":        "version query",
	"-dumpversion":     "version query",
	"-dumpfullversion": "version query",
	"-dumpmachine":     "target query",
	"-dumpspecs":       "specs query",
	"-###":             "dry run (-###)",
	"--help":           "help query",
	"--target-help":    "help query",
	"-save-temps":      "-save-temps keeps the compiler's own temporaries",
}

// noGlibcFlags mark code built without glibc: its compiles are passed
// through (CRIU's parasite and restorer), but a link with them of objects
// compiled with glibc (a plugin: -shared -nostdlib) still takes the
// runtime, whose C library calls the process's libc then serves.
var noGlibcFlags = map[string]string{
	"-ffreestanding": "built without glibc (-ffreestanding)",
	"-fno-hosted":    "built without glibc (-fno-hosted)",
	"-nostdlib":      "built without glibc (-nostdlib)",
	"-nolibc":        "built without glibc (-nolibc)",
	"-nodefaultlibs": "built without glibc (-nodefaultlibs)",
}

// Classify parses the arguments that follow the compiler name. noGlibc
// names macros whose -D marks an object built without glibc.
func Classify(args []string, noGlibc []string) (*Invocation, error) {
	expanded, err := ExpandResponseFiles(args, 0)
	if err != nil {
		return nil, err
	}
	c := &classifier{inv: &Invocation{Args: expanded, skip: map[int]bool{}}, noGlibc: noGlibc, lang: langNoneFlag}
	c.scan()
	c.decide()
	return c.inv, nil
}

// classifier is Classify's state while it reads the arguments.
type classifier struct {
	inv         *Invocation
	noGlibc     []string
	compileOnly bool   // -c
	lang        Lang   // of the inputs that follow (-x), langNoneFlag: by name
	pass        string // why the invocation is passed through, the first reason found
	noGlibcWhy  string // why its C code is built without glibc (noGlibcFlags)
}

func (c *classifier) passBecause(why string) {
	if c.pass == "" {
		c.pass = why
	}
}

// scan reads the arguments in order.
func (c *classifier) scan() {
	a := c.inv.Args
	for i := 0; i < len(a); i++ {
		arg := a[i]
		switch {
		case takesArg[arg]:
			if i+1 >= len(a) {
				c.passBecause(fmt.Sprintf("%s without its argument", arg))
				return
			}
			c.separate(i, arg, a[i+1])
			i++
		case arg == "-":
			c.inv.Inputs = append(c.inv.Inputs, Input{Path: arg, Index: i, Lang: LangStdin})
			c.passBecause("reads its source from stdin (a feature probe)")
		case arg == "" || arg[0] != '-':
			in := Input{Path: arg, Index: i, Lang: c.lang, ExplicitLang: c.lang != langNoneFlag}
			if c.lang == langNoneFlag {
				in.Lang = langFromName(arg)
			}
			c.inv.Inputs = append(c.inv.Inputs, in)
		default:
			c.option(i, arg)
		}
	}
}

// separate handles an option whose argument is the next word, val
// (at i+1).
func (c *classifier) separate(i int, opt, val string) {
	inv := c.inv
	switch opt {
	case "-o", "--output":
		inv.Output = val
		inv.skip[i], inv.skip[i+1] = true, true
	case "-x":
		c.lang = langFromX(val)
		inv.HasLangFlag = true
		inv.skip[i], inv.skip[i+1] = true, true
	case "-MF", "-MT", "-MQ":
		c.depOption(opt, i, i+1)
	case "-D":
		if isNoGlibc(val, c.noGlibc) {
			c.passBecause("built without glibc (-D" + val + ")")
		}
	case "-l":
		inv.Inputs = append(inv.Inputs, Input{Path: val, Index: i + 1, Lang: LangLib})
	case "-L":
		inv.LibDirs = append(inv.LibDirs, val)
	}
}

// option handles an option in one word (at i).
func (c *classifier) option(i int, arg string) {
	inv := c.inv
	if why, ok := passFlags[arg]; ok {
		c.passBecause(why)
		return
	}
	if why, ok := noGlibcFlags[arg]; ok {
		if c.noGlibcWhy == "" {
			c.noGlibcWhy = why
		}
		return
	}
	switch {
	case arg == "-c":
		c.compileOnly = true
		inv.skip[i] = true
	case arg == "-shared":
		inv.Shared = true
	case arg == "-r":
		inv.Relocatable = true
	case arg == "-MD" || arg == "-MMD" || arg == "-MP" || arg == "-MG":
		c.depOption(arg, i)
	case strings.HasPrefix(arg, "-MF") || strings.HasPrefix(arg, "-MT") || strings.HasPrefix(arg, "-MQ"):
		c.depOption(arg[:3], i)
	case strings.HasPrefix(arg, "-o"):
		inv.Output = arg[2:]
		inv.skip[i] = true
	case strings.HasPrefix(arg, "--output="):
		inv.Output = strings.TrimPrefix(arg, "--output=")
		inv.skip[i] = true
	case strings.HasPrefix(arg, "-x"):
		c.lang = langFromX(arg[2:])
		inv.HasLangFlag = true
		inv.skip[i] = true
	case strings.HasPrefix(arg, "-D"):
		if isNoGlibc(arg[2:], c.noGlibc) {
			c.passBecause("built without glibc (" + arg + ")")
		}
	case strings.HasPrefix(arg, "-l"):
		inv.Inputs = append(inv.Inputs, Input{Path: arg[2:], Index: i, Lang: LangLib})
	case strings.HasPrefix(arg, "-L"):
		inv.LibDirs = append(inv.LibDirs, arg[2:])
	default:
		if why := passReason(arg); why != "" {
			c.passBecause(why)
		}
	}
}

// depOption records a dependency-output option (-MD, -MMD, -MP, -MG,
// -MF, -MT, -MQ) at the argument indexes idx (two for a separate
// argument): the wrapper gives them to its preprocessing run only.
func (c *classifier) depOption(opt string, idx ...int) {
	inv := c.inv
	for _, i := range idx {
		inv.skip[i] = true
	}
	inv.depArgs = append(inv.depArgs, idx...)
	switch opt {
	case "-MD", "-MMD":
		inv.DepGen = true
	case "-MF":
		inv.HasDepFile = true
	case "-MT", "-MQ":
		inv.HasDepTgt = true
	}
}

// passReason says why an option in one word makes the wrapper pass the
// invocation through, "" if it does not.
func passReason(arg string) string {
	switch {
	case strings.HasPrefix(arg, "-save-temps"):
		return "-save-temps keeps the compiler's own temporaries"
	case strings.HasPrefix(arg, "--help") || strings.HasPrefix(arg, "-print-") || strings.HasPrefix(arg, "--print-"):
		return "query (" + arg + ")"
	case arg == "-Wp,-M" || arg == "-Wp,-MM" || strings.HasPrefix(arg, "-Wp,-M,") || strings.HasPrefix(arg, "-Wp,-MM,"):
		return "dependency pass (" + arg + ")"
	}
	return ""
}

// decide sets the kind of the invocation, or why it is passed through.
func (c *classifier) decide() {
	inv := c.inv
	switch {
	case c.pass != "":
		inv.Reason = c.pass
	case c.noGlibcWhy != "" && (c.compileOnly || inv.hasCSource()):
		inv.Reason = c.noGlibcWhy
	case len(inv.Inputs) == 0:
		inv.Reason = "no input files"
	case c.compileOnly:
		inv.Reason = compileProblem(inv)
		if inv.Reason == "" {
			inv.Kind = Compile
		}
	case inv.Relocatable:
		inv.Reason = "partial link (-r): the runtime belongs in the final link"
	default:
		inv.Kind = Link
	}
}

// hasCSource reports whether the invocation compiles C source.
func (inv *Invocation) hasCSource() bool {
	for _, in := range inv.Inputs {
		if in.Lang == LangC {
			return true
		}
	}
	return false
}

// compileProblem says why a -c invocation cannot be rewritten, "" if it
// can.
func compileProblem(inv *Invocation) string {
	for _, in := range inv.Inputs {
		if in.Lang != LangC {
			return fmt.Sprintf("%s is not C source (%s)", in.Path, in.Lang)
		}
	}
	if len(inv.Inputs) > 1 && inv.Output != "" {
		return "-o with several inputs (the compiler reports it)"
	}
	return ""
}

// Sources returns the C sources the wrapper rewrites: all inputs of a
// compile; for a link, the C inputs compiled in the same step, unless a
// -x option or dependency output makes splitting the step unsafe (those
// sources are then left to the compiler, unrewritten).
func (inv *Invocation) Sources() []Input {
	var out []Input
	switch inv.Kind {
	case Compile:
		return inv.Inputs
	case Link:
		if inv.HasLangFlag || len(inv.depArgs) > 0 {
			return nil
		}
		for _, in := range inv.Inputs {
			if in.Lang == LangC {
				out = append(out, in)
			}
		}
	}
	return out
}

// objectFor is the object gcc writes for source src under `-c` without -o.
func objectFor(src string) string {
	return trimExt(filepath.Base(src)) + ".o"
}

// depFileFor is the dependency file gcc -MD writes when -MF is absent:
// the object (the -o argument) with its suffix replaced by .d, or the
// source's base name with .d.
func depFileFor(src, output string) string {
	if output != "" {
		return trimExt(output) + ".d"
	}
	return trimExt(filepath.Base(src)) + ".d"
}

func trimExt(p string) string {
	ext := filepath.Ext(p)
	if ext == "" || strings.ContainsRune(ext, '/') {
		return p
	}
	return p[:len(p)-len(ext)]
}

func isNoGlibc(def string, names []string) bool {
	name, _, _ := strings.Cut(def, "=")
	for _, n := range names {
		if n == name {
			return true
		}
	}
	return false
}

func langFromX(x string) Lang {
	switch x {
	case "none":
		return langNoneFlag
	case "c":
		return LangC
	case "cpp-output":
		return LangCPP
	case "assembler":
		return LangAsm
	case "assembler-with-cpp":
		return LangAsmCPP
	case "c-header":
		return LangHeader
	}
	return LangOther
}

func langFromName(p string) Lang {
	switch filepath.Ext(p) {
	case ".c":
		return LangC
	case ".i":
		return LangCPP
	case ".s":
		return LangAsm
	case ".S", ".sx":
		return LangAsmCPP
	case ".h":
		return LangHeader
	case ".cc", ".cp", ".cxx", ".cpp", ".CPP", ".c++", ".C", ".ii", ".hh", ".H", ".hp",
		".hxx", ".hpp", ".HPP", ".h++", ".tcc", ".m", ".mi", ".mm", ".M", ".mii",
		".f", ".for", ".ftn", ".F", ".FOR", ".fpp", ".FPP", ".FTN", ".f90", ".f95",
		".f03", ".f08", ".F90", ".F95", ".F03", ".F08", ".go", ".d", ".ads", ".adb":
		return LangOther
	}
	return LangLinker
}

// ExpandResponseFiles replaces each @FILE argument by the arguments in
// FILE, as gcc does (whitespace separated, with '...' "..." and backslash
// quoting; nested @files too). An @FILE that cannot be read stays as it
// is, again as gcc does.
func ExpandResponseFiles(args []string, depth int) ([]string, error) {
	if depth > 16 {
		return nil, fmt.Errorf("response files nested more than 16 deep")
	}
	var out []string
	for _, a := range args {
		if len(a) < 2 || a[0] != '@' {
			out = append(out, a)
			continue
		}
		b, err := os.ReadFile(a[1:])
		if err != nil {
			out = append(out, a)
			continue
		}
		words, err := splitResponseFile(string(b))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", a[1:], err)
		}
		words, err = ExpandResponseFiles(words, depth+1)
		if err != nil {
			return nil, err
		}
		out = append(out, words...)
	}
	return out, nil
}

// splitResponseFile splits like libiberty's buildargv.
func splitResponseFile(s string) ([]string, error) {
	var (
		out   []string
		cur   strings.Builder
		in    bool // inside a word
		quote byte
	)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			} else if c == '\\' && i+1 < len(s) {
				i++
				cur.WriteByte(s[i])
			} else {
				cur.WriteByte(c)
			}
		case c == '\\':
			in = true
			if i+1 < len(s) {
				i++
				cur.WriteByte(s[i])
			}
		case c == '\'' || c == '"':
			in = true
			quote = c
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			if in {
				out = append(out, cur.String())
				cur.Reset()
				in = false
			}
		default:
			in = true
			cur.WriteByte(c)
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unterminated %c quote", quote)
	}
	if in {
		out = append(out, cur.String())
	}
	return out, nil
}
