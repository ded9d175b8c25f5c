package cc

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/logpack/logpack/fmtdb"
	"github.com/logpack/logpack/internal/sitetab"
)

// Options configure the wrapper.
type Options struct {
	Rewriter Rewriter
	// NoRewrite says why there is no Rewriter (no log functions
	// declared): compiles are warned about, links need none.
	NoRewrite string
	// NoGlibcDefines: -DNAME of one of these marks an object built
	// without glibc (CRIU's CR_NOGLIBC); it is passed through.
	NoGlibcDefines []string
	DB             string // format database to append to ("" for none)
	Build          string // build identity recorded with each DB entry
	Verbose        bool   // report left-as-text calls and pass-through reasons
	CacheDir       string // where the compiled runtime is kept ("" for the default)
	// ExecPassThrough replaces the wrapper process by the compiler for an
	// invocation passed through (exactly the compiler's behaviour, signals
	// and all). Only for the command line tool.
	ExecPassThrough bool

	Stdin          io.Reader
	Stdout, Stderr io.Writer
}

var lookPath = exec.LookPath

// Run runs one compiler invocation: argv is the compiler and its
// arguments. It returns the exit status to exit with.
func Run(opts *Options, argv []string) int {
	w := &wrapper{opts: opts}
	if w.opts.Stdin == nil {
		w.opts.Stdin = os.Stdin
	}
	if w.opts.Stdout == nil {
		w.opts.Stdout = os.Stdout
	}
	if w.opts.Stderr == nil {
		w.opts.Stderr = os.Stderr
	}
	if len(argv) == 0 {
		fmt.Fprintln(w.opts.Stderr, "logpack cc: no compiler given (usage: logpack cc [options] -- COMPILER ARGS...)")
		return 2
	}
	// A compiler launcher (CC="ccache gcc") goes with the compiler.
	n := 1
	for n < len(argv) && launchers[filepath.Base(argv[n-1])] && !strings.HasPrefix(argv[n], "-") {
		n++
	}
	w.compiler = argv[:n]
	inv, err := Classify(argv[n:], opts.NoGlibcDefines)
	if err != nil {
		w.warnf("%v; running the compiler unchanged", err)
		return w.passThrough(argv)
	}
	switch inv.Kind {
	case Compile:
		if w.opts.Rewriter == nil && w.opts.NoRewrite != "" {
			w.warnf("%s; compiling without rewriting", w.opts.NoRewrite)
		}
		defer w.handleSignals()()
		return w.compile(argv, inv)
	case Link:
		defer w.handleSignals()()
		return w.link(argv, inv)
	}
	w.verbosef("passing through: %s", inv.Reason)
	return w.passThrough(argv)
}

// launchers run the compiler named after them.
var launchers = map[string]bool{"ccache": true, "distcc": true, "sccache": true, "icecc": true}

type wrapper struct {
	opts     *Options
	compiler []string // the compiler, with its launcher if any

	mu      sync.Mutex
	child   *os.Process // the command running now
	stopped bool        // a signal asked the wrapper to stop
}

// command is the compiler followed by args.
func (w *wrapper) command(args ...string) []string {
	return append(append([]string(nil), w.compiler...), args...)
}

func (w *wrapper) warnf(format string, a ...any) {
	fmt.Fprintf(w.opts.Stderr, "logpack cc: warning: "+format+"\n", a...)
}

func (w *wrapper) verbosef(format string, a ...any) {
	if w.opts.Verbose {
		fmt.Fprintf(w.opts.Stderr, "logpack cc: "+format+"\n", a...)
	}
}

// passThrough runs the compiler with the original arguments and streams.
func (w *wrapper) passThrough(argv []string) int {
	if w.opts.ExecPassThrough {
		if path, err := exec.LookPath(argv[0]); err == nil {
			err = execve(path, argv, os.Environ())
			w.warnf("exec %s: %v", path, err)
		}
	}
	return w.run(argv, w.opts.Stdout, w.opts.Stderr)
}

// run runs a command with the wrapper's stdin and the given outputs and
// returns its exit status (1 if it could not run or died by a signal).
func (w *wrapper) run(argv []string, stdout, stderr io.Writer) int {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = w.opts.Stdin, stdout, stderr
	err := cmd.Start()
	if err == nil {
		w.mu.Lock()
		w.child = cmd.Process
		w.mu.Unlock()
		err = cmd.Wait()
		w.mu.Lock()
		w.child = nil
		w.mu.Unlock()
	}
	if err == nil {
		return 0
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return signalStatus + int(ws.Signal())
		}
		if ee.ExitCode() > 0 {
			return ee.ExitCode()
		}
	}
	fmt.Fprintf(stderr, "logpack cc: %s: %v\n", argv[0], err)
	return 1
}

// signalStatus + n is the status of a command killed by signal n (as a
// shell reports it). Such a compile is not retried: the build is being
// stopped.
const signalStatus = 128

// interrupted reports a status that must end the wrapper at once.
func (w *wrapper) interrupted(st int) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return st > signalStatus || w.stopped
}

// handleSignals passes SIGINT, SIGTERM and SIGHUP on to the running
// compiler instead of dying with temporary files left behind; the wrapper
// then stops without falling back to another compile.
func (w *wrapper) handleSignals() (stop func()) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case sig := <-ch:
				w.mu.Lock()
				w.stopped = true
				if w.child != nil {
					w.child.Signal(sig)
				}
				w.mu.Unlock()
			case <-done:
				return
			}
		}
	}()
	return func() { signal.Stop(ch); close(done) }
}

// runQuiet runs a command with its output captured.
func (w *wrapper) runQuiet(argv []string) (status int, stdout, stderr []byte) {
	var o, e bytes.Buffer
	status = w.run(argv, &o, &e)
	return status, o.Bytes(), e.Bytes()
}

// execCharset returns the execution character set the arguments ask for,
// if it is not UTF-8.
func execCharset(args []string) string {
	cs := ""
	for _, a := range args {
		if v, ok := strings.CutPrefix(a, "-fexec-charset="); ok {
			cs = v
		}
	}
	switch strings.ToUpper(strings.ReplaceAll(cs, "-", "")) {
	case "", "UTF8":
		return ""
	}
	return cs
}

// baseArgs is the invocation without what the wrapper sets itself:
// inputs, -o, -c, -x and the dependency options.
func (inv *Invocation) baseArgs() []string {
	var out []string
	for i, a := range inv.Args {
		if inv.skip[i] || inv.isInput(i) {
			continue
		}
		out = append(out, a)
	}
	return out
}

func (inv *Invocation) isInput(i int) bool {
	for _, in := range inv.Inputs {
		if in.Index == i {
			return true
		}
		// "-l NAME": the option word goes with its input.
		if in.Lang == LangLib && in.Index == i+1 && inv.Args[i] == "-l" {
			return true
		}
	}
	return false
}

// depArgsFor returns the dependency options for the preprocessing run of
// src, with the dependency file and target that the real compile would
// have used made explicit (under -E gcc would derive them from the .i).
func (inv *Invocation) depArgsFor(src, obj string) []string {
	var out []string
	for _, i := range inv.depArgs {
		out = append(out, inv.Args[i])
	}
	if !inv.DepGen {
		return out
	}
	if !inv.HasDepFile {
		out = append(out, "-MF", depFileFor(src, inv.Output))
	}
	if !inv.HasDepTgt && inv.Output != "" {
		out = append(out, "-MQ", obj)
	}
	return out
}

// compile handles -c of C sources: each source in turn, as gcc would.
func (w *wrapper) compile(argv []string, inv *Invocation) int {
	for _, src := range inv.Sources() {
		obj := inv.Output
		if obj == "" {
			obj = objectFor(src.Path)
		}
		if st := w.compileOne(inv, src, obj); st != 0 {
			return st
		}
	}
	return 0
}

// compileOne compiles one C source to obj with its log calls rewritten.
func (w *wrapper) compileOne(inv *Invocation, src Input, obj string) int {
	st, _ := w.compileOneSites(inv, src, obj)
	return st
}

// compileOneSites is compileOne that also returns how many sites the
// object defines. Whatever goes wrong inside the wrapper, the original
// source is compiled unchanged instead: the build never fails because of
// logpack.
func (w *wrapper) compileOneSites(inv *Invocation, src Input, obj string) (status int, nsites int) {
	base := inv.baseArgs()
	// original compiles the source as it is. The warning only matters
	// when the original compiles: otherwise the compiler's own errors
	// say everything.
	original := func(why string) (int, int) {
		args := w.originalArgs(base, inv.depArgsFor(src.Path, obj), src, obj)
		w.verbosef("running %s", strings.Join(args, " "))
		st := w.run(args, w.opts.Stdout, w.opts.Stderr)
		if st == 0 && why != "" {
			w.warnf("%s: %s; compiled it unchanged (its log calls stay text)", src.Path, why)
		}
		return st, 0
	}
	if w.opts.Rewriter == nil {
		return original("")
	}

	tmp, err := os.CreateTemp("", "logpack-*.i")
	if err != nil {
		return original(fmt.Sprintf("temporary file: %v", err))
	}
	tmpName := tmp.Name()
	tmp.Close()
	defer os.Remove(tmpName)

	// Preprocess with the same flags, keeping line markers so that
	// diagnostics and __FILE__ name the source (see cpp.go for comments).
	preprocess := func(out string, withDeps bool, extra ...string) (int, []byte) {
		pp := w.command(withoutOutputFormFlags(base)...)
		if withDeps {
			pp = append(pp, inv.depArgsFor(src.Path, obj)...)
		}
		pp = append(pp, "-E")
		pp = append(pp, extra...)
		pp = append(pp, "-o", out)
		if src.ExplicitLang {
			pp = append(pp, "-x", "c")
		}
		pp = append(pp, src.Path)
		st, _, errOut := w.runQuiet(pp)
		return st, errOut
	}
	keepComments := fallthroughWarning(inv.Args)
	var extra []string
	if keepComments {
		extra = []string{"-C"}
	}
	st, ppErr := preprocess(tmpName, true, extra...)
	if w.interrupted(st) {
		return st, 0
	}
	if st != 0 {
		// The compiler reports the problem itself on the original.
		return original("")
	}
	text, err := os.ReadFile(tmpName)
	if err != nil {
		return original(fmt.Sprintf("reading the preprocessed unit: %v", err))
	}
	if keepComments && commentRisk(text) {
		plainName := tmpName + ".nc.i"
		defer os.Remove(plainName)
		if st, _ := preprocess(plainName, false); st == 0 {
			if plainText, err := os.ReadFile(plainName); err == nil && !sameTokens(text, plainText) {
				w.verbosef("%s: keeping comments would change the unit; preprocessing without them", src.Path)
				text = plainText
			}
		}
	}
	unit := &Unit{Text: text, Name: src.Path, ID: unitID(text, obj, base), Strings: stringRule(base)}
	rw, err := w.rewrite(unit)
	if err != nil {
		return original(fmt.Sprintf("rewrite failed: %v", err))
	}
	if w.opts.Verbose {
		for _, d := range rw.Diags {
			fmt.Fprintln(w.opts.Stderr, d)
		}
	}
	if !rw.Changed {
		// Nothing to record: the original compile is the safest. (Its
		// preprocessed text would save a few percent of the compile at
		// most, but its object would differ: debug line columns count
		// in expanded macros.)
		w.verbosef("%s: no log calls rewritten", src.Path)
		return original("")
	}
	if cs := execCharset(base); cs != "" {
		return original("-fexec-charset=" + cs + " (the log would hold its formats as UTF-8)")
	}
	if err := os.WriteFile(tmpName, rw.Out, 0o600); err != nil {
		return original(fmt.Sprintf("writing the rewritten unit: %v", err))
	}
	// The preprocessed unit is UTF-8 already: converting it again from
	// the source's charset would change its strings.
	cc := w.command(slices.DeleteFunc(slices.Clone(base), func(a string) bool { return strings.HasPrefix(a, "-finput-charset=") })...)
	cc = append(cc, "-c", "-o", obj, "-x", "cpp-output", tmpName)
	st, ccOut, ccErr := w.runQuiet(cc)
	if w.interrupted(st) {
		return st, 0
	}
	if st != 0 || len(ccErr) > 0 || len(ccOut) > 0 {
		// What the compiler says is the original source's business:
		// diagnostics of the rewritten unit would point into rewritten
		// text. Compile the original (into a scratch object when the
		// rewritten one is good) and show exactly what it says.
		st, rewritten := w.diagnose(src, obj, base, st == 0)
		if st != 0 || !rewritten {
			return st, 0
		}
	} else {
		w.opts.Stderr.Write(ppErr)
	}
	w.recordSites(src, rw.Sites)
	w.verbosef("%s: %d log calls rewritten", src.Path, len(rw.Sites))
	return 0, len(rw.Sites)
}

// originalArgs is the command that compiles the unit's source as it is
// into out, with the dependency options deps.
func (w *wrapper) originalArgs(base, deps []string, src Input, out string) []string {
	args := w.command(base...)
	args = append(args, deps...)
	args = append(args, "-c", "-o", out)
	if src.ExplicitLang {
		args = append(args, "-x", "c")
	}
	return append(args, src.Path)
}

// diagnose compiles the original source of a unit whose rewritten
// compile said something (or failed), and reports what the original
// compile says (the preprocessor's messages included), with its status.
// The object stays the rewritten one when that compiled (haveObj) and the
// original compiles too (rewritten is then true); otherwise it is the
// original's.
func (w *wrapper) diagnose(src Input, obj string, base []string, haveObj bool) (status int, rewritten bool) {
	out := obj
	if haveObj {
		f, err := os.CreateTemp(filepath.Dir(obj), ".logpack-*.o")
		if err != nil {
			f, err = os.CreateTemp("", "logpack-*.o")
		}
		if err == nil {
			out = f.Name()
			f.Close()
			defer os.Remove(out)
		} else {
			haveObj = false
		}
	}
	st, stdout, stderr := w.runQuiet(w.originalArgs(base, nil, src, out))
	w.opts.Stdout.Write(stdout)
	w.opts.Stderr.Write(stderr)
	if st != 0 {
		return st, false
	}
	if !haveObj {
		// The rewritten unit did not compile; the original did.
		w.warnf("%s: the rewritten unit did not compile; compiled it unchanged (its log calls stay text)", src.Path)
		return 0, false
	}
	return 0, true
}

// recordSites appends a unit's sites to the format database.
func (w *wrapper) recordSites(src Input, sites []fmtdb.Site) {
	if w.opts.DB == "" || len(sites) == 0 {
		return
	}
	entries := make([]fmtdb.Entry, len(sites))
	for i, s := range sites {
		entries[i] = fmtdb.Entry{Site: s, Unit: src.Path, Build: w.opts.Build}
	}
	if err := fmtdb.Append(w.opts.DB, entries); err != nil {
		w.warnf("%v", err)
	}
}

// unitID names a unit's site symbols: a hash of its text, the object it
// becomes and the flags, so that two units of one program never share it
// (the same source compiled twice into one program has two objects).
func unitID(text []byte, obj string, args []string) string {
	h := sha256.New()
	h.Write(text)
	fmt.Fprintf(h, "\x00%s\x00%q", obj, args)
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// stringRule tells where gcc puts string literals for these flags: the
// last -O option decides (-Os and -Oz keep them byte-aligned).
func stringRule(args []string) sitetab.StringRule {
	var r sitetab.StringRule
	for _, a := range args {
		if strings.HasPrefix(a, "-O") {
			r.SizeOpt = a == "-Os" || a == "-Oz"
		}
	}
	return r
}

// withoutOutputFormFlags drops the options that only shape -E output
// (-P: no line markers; -dD/-dM/...: macro dumps). They do nothing to a
// compile, but in the wrapper's preprocessing run they would lose the
// source positions or put directives into the unit.
func withoutOutputFormFlags(args []string) []string {
	var out []string
	for _, a := range args {
		switch a {
		case "-P", "-dD", "-dM", "-dN", "-dI", "-dU":
			continue
		}
		out = append(out, a)
	}
	return out
}

// rewriteTimeout bounds one unit's rewrite: past it the wrapper compiles
// the original source (a rewrite that never ends must not hang the build).
var rewriteTimeout = 2 * time.Minute

func (w *wrapper) rewrite(u *Unit) (*Rewritten, error) {
	type result struct {
		rw  *Rewritten
		err error
	}
	ch := make(chan result, 1)
	go func() {
		var r result
		defer func() {
			if p := recover(); p != nil {
				r = result{err: fmt.Errorf("internal error: %v", p)}
			}
			ch <- r
		}()
		r.rw, r.err = w.opts.Rewriter.RewriteUnit(u)
	}()
	select {
	case r := <-ch:
		return r.rw, r.err
	case <-time.After(rewriteTimeout):
		return nil, fmt.Errorf("rewrite took longer than %v", rewriteTimeout)
	}
}

// link handles a link, compiling C inputs of the same step first.
func (w *wrapper) link(argv []string, inv *Invocation) int {
	sources := inv.Sources()
	replace := map[int]string{}
	var ownObjs []string
	if len(sources) > 0 {
		dir, err := os.MkdirTemp("", "logpack-link-")
		if err != nil {
			w.warnf("temporary directory: %v; running the compiler unchanged", err)
			return w.passThrough(argv)
		}
		defer os.RemoveAll(dir)
		for i, src := range sources {
			obj := filepath.Join(dir, fmt.Sprintf("%d-%s", i, objectFor(src.Path)))
			st, n := w.compileOneSites(inv, src, obj)
			if st != 0 {
				return st
			}
			replace[src.Index] = obj
			if n > 0 {
				ownObjs = append(ownObjs, obj)
			}
		}
	}
	args := w.command()
	for i, a := range inv.Args {
		if obj, ok := replace[i]; ok {
			a = obj
		}
		args = append(args, a)
	}
	use, err := w.needsRuntime(inv, ownObjs)
	if err != nil {
		w.verbosef("%v", err)
	}
	need := use.uses && !use.defines
	export := false
	switch {
	case need:
		rt, err := w.runtimeObject(inv, use.encoderNames())
		if err != nil {
			w.warnf("cannot build the logpack runtime: %v", err)
		} else {
			args = append(args, rt.path)
			export = !inv.Shared
		}
	case use.defines && len(use.encoderNames()) > 0:
		w.warnf("the link carries its own logpack runtime but not the encoders %s that logpack cc's objects call; "+
			"write them with 'logpack runtime -o DIR --encoders OBJECTS...'", strings.Join(use.encoderNames(), ", "))
	default:
		w.verbosef("link: no input uses logpack; runtime not added")
	}
	if len(replace) == 0 && !need {
		return w.passThrough(argv)
	}
	if export {
		// An executable exports its runtime, so that shared libraries and
		// plugins built with logpack (each carrying a copy for programs
		// without one) bind to it: one runtime per process. A linker too
		// old for the option gets the link without it.
		st, out, errOut := w.runQuiet(append(args, exportRuntimeFlag))
		if st == 0 || w.interrupted(st) {
			w.opts.Stdout.Write(out)
			w.opts.Stderr.Write(errOut)
			return st
		}
		w.verbosef("link with %s failed; linking without it", exportRuntimeFlag)
	}
	return w.run(args, w.opts.Stdout, w.opts.Stderr)
}

// exportRuntimeFlag puts the runtime's symbols in an executable's dynamic
// symbol table (GNU ld >= 2.35, gold, lld).
const exportRuntimeFlag = "-Wl,--export-dynamic-symbol=logpack_*"
