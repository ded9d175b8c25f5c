package rewriter

import (
	"strings"

	"github.com/logpack/logpack/fmtdb"
	"github.com/logpack/logpack/internal/logfile"
)

// A call is rewritten in two phases, as cmd/stringer generates code:
// first everything about it is decided (plan, below: which argument is
// what, the level, the full format, which arguments are constants), and a
// call that cannot be recorded exactly is left as text with a reason;
// then the C text is emitted from the plan (emit.go).

// callPlan is everything decided about one log call.
type callPlan struct {
	f        *LogFunc
	name     Token // the function name
	args     []arg // the call's arguments
	closeIdx int   // its ')'

	fmtIdx   int   // index in args of the format
	levelIdx int   // index in args of the level, -1 for a fixed level
	passIdx  []int // indexes in args passed through unchanged
	nvar     int   // index in args of the first variadic argument, -1 if none
	// callArgs are the format's C arguments: a macro's synthesized prefix
	// arguments, the variadic ones, its synthesized suffix arguments.
	callArgs []arg

	level      int // logpack's level for a constant one
	constLevel bool
	format     string // as written: prefix, LOG_PREFIX, body, suffix
	pf         *fmtdb.Format
	// per entry of pf.Args: the call argument (-1 for %m) and what the
	// table says of it (a class, a constant, errno for strerror(errno))
	cIndex []int
	fargs  []logfile.DescArg
	folded string // the format with the constants folded in (database)

	textAlso bool // a constant level whose records print as text too
}

// plan decides about the call at token i; it reports the reason the call
// stays text through r.diag and returns nil.
func (r *rewriter) plan(i int, f *LogFunc, args []arg, closeIdx int) *callPlan {
	p := &callPlan{f: f, name: r.toks[i], args: args, closeIdx: closeIdx}
	if !r.bindArgs(p) || !r.resolveLevel(p) || !r.assembleFormat(p) {
		return nil
	}
	r.foldConstants(p)
	for _, a := range p.callArgs {
		if a.synth != "" && r.isErrnoText(a) && !r.othersPure(p) {
			// The macro reads errno itself when it prints: after the
			// arguments' effects, where the original read it first.
			r.diag(p.name, "an argument has effects (errno may change) and the macro reads errno after it")
			return nil
		}
	}
	return p
}

// bindArgs matches the call's arguments to the function's parameters.
func (r *rewriter) bindArgs(p *callPlan) bool {
	f, args := p.f, p.args
	p.nvar, p.levelIdx, p.fmtIdx = -1, -1, -1
	if f.hasParam(ParamVarargs) >= 0 {
		p.nvar = len(f.Params) - 1
	}
	if p.nvar >= 0 && len(args) < p.nvar || p.nvar < 0 && len(args) != len(f.Params) {
		r.diag(p.name, "%d arguments for %s", len(args), f.String())
		return false
	}
	for _, a := range args {
		if a.empty() {
			r.diag(p.name, "empty argument")
			return false
		}
	}
	for k, prm := range f.Params {
		switch prm.Kind {
		case ParamFmt:
			p.fmtIdx = k
		case ParamLevel:
			p.levelIdx = k
		case ParamOther:
			p.passIdx = append(p.passIdx, k)
		}
	}
	for _, s := range f.PrefixArgs {
		p.callArgs = append(p.callArgs, arg{synth: s})
	}
	if p.nvar >= 0 {
		p.callArgs = append(p.callArgs, args[p.nvar:]...)
	}
	for _, s := range f.SuffixArgs {
		p.callArgs = append(p.callArgs, arg{synth: s})
	}
	return true
}

// resolveLevel finds the call's level: a constant (mapped to logpack's
// numbering) or one decided at run time.
func (r *rewriter) resolveLevel(p *callPlan) bool {
	f := p.f
	p.level, p.constLevel = f.Level, true
	if p.levelIdx >= 0 {
		p.level, p.constLevel = r.level(p.args[p.levelIdx])
	}
	if f.LevelMap != nil {
		if !p.constLevel {
			r.diag(p.name, "a run-time level for %s, whose levels logpack maps", f.Name)
			return false
		}
		if m, ok := f.LevelMap[p.level]; ok {
			p.level = m
		} else {
			p.level = f.LevelMapDefault
		}
	}
	if !p.constLevel && f.Once {
		r.diag(p.name, "a run-time level in a once-macro")
		return false
	}
	if p.constLevel {
		if r.isTextLevel(p.level) {
			return false // stays text by configuration (CRIU's user messages)
		}
		if p.level < 0 || p.level > MaxLevel {
			r.diag(p.name, "level %d is outside 0..%d", p.level, MaxLevel)
			return false
		}
		p.textAlso = p.level >= 1 && p.level <= r.cfg.TextLevel
	}
	return true
}

// assembleFormat puts the full format together and checks that it can be
// recorded and that the call passes what it takes.
func (r *rewriter) assembleFormat(p *callPlan) bool {
	f := p.f
	body, why := r.formatText(p.args[p.fmtIdx])
	if why != "" {
		r.diag(p.name, "%s", why)
		return false
	}
	format := f.Prefix
	if f.LogPrefix && r.cfg.LogPrefixMacro != "" {
		pre, why := r.stringMacro(r.cfg.LogPrefixMacro)
		if why != "" {
			r.diag(p.name, "%s", why)
			return false
		}
		format += pre
	}
	format += body + f.Suffix
	if strings.IndexByte(format, 0) >= 0 {
		r.diag(p.name, "the format contains a NUL byte (printf stops there)")
		return false
	}
	pf, err := fmtdb.Parse(format)
	if err == nil {
		err = pf.Recordable()
	}
	if err != nil {
		r.diag(p.name, "%s", fmtReason(err))
		return false
	}
	if want := countTaking(pf.Args); want != len(p.callArgs) {
		r.diag(p.name, "the format takes %d arguments, the call passes %d", want, len(p.callArgs))
		return false
	}
	if len(pf.Args) > 255 {
		r.diag(p.name, "the format takes %d arguments, over the site table's 255", len(pf.Args))
		return false
	}
	p.format, p.pf = format, pf
	return true
}

// foldConstants finds the arguments known now (literals, __FILE__ and
// __LINE__, __func__) and strerror(errno): the table lists them beside the
// format instead of the call passing them, and the database's format has
// them folded in, as the decoder will fold them.
func (r *rewriter) foldConstants(p *callPlan) {
	pf := p.pf
	p.cIndex = make([]int, len(pf.Args))
	p.fargs = make([]logfile.DescArg, len(pf.Args))
	for k, c := 0, 0; k < len(pf.Args); k++ {
		a := pf.Args[k]
		p.fargs[k] = logfile.DescArg{Class: a.Class, Bound: a.Bound, BoundArg: a.BoundArg}
		p.cIndex[k] = -1
		if a.Class.TakesArgument() {
			p.cIndex[k] = c
			c++
		}
	}
	var stored strings.Builder
	last := 0
	for si := range pf.Specs {
		sp := &pf.Specs[si]
		if sp.Arg < 0 || pf.Positional {
			continue
		}
		ca := p.cIndex[sp.Arg]
		if ca < 0 {
			continue
		}
		a := p.callArgs[ca]
		if c, ok := r.constValue(a, p.name); ok {
			if text, ok := foldSpec(pf, sp, c); ok {
				stored.WriteString(p.format[last:sp.Offset])
				stored.WriteString(text)
				last = sp.End
				p.fargs[sp.Arg] = constArg(pf.Args[sp.Arg].Class, c)
				continue
			}
		}
		if r.isErrnoText(a) && sp.Conv == 's' && sp.PrecArg < 0 && sp.WidthArg < 0 && pf.Args[sp.Arg].Class == fmtdb.ClassStr &&
			r.othersPure(p) {
			stored.WriteString(p.format[last : sp.End-1])
			stored.WriteByte('m')
			last = sp.End
			p.fargs[sp.Arg] = logfile.DescArg{Class: fmtdb.ClassErrno, BoundArg: -1}
		}
	}
	stored.WriteString(p.format[last:])
	p.folded = stored.String()
}

// othersPure reports whether the call's arguments other than
// strerror(errno) have no side effects (pureArgs, reading errno allowed).
// Only then is strerror(errno) recorded as errno, which the runtime reads
// after every argument: the compiler evaluates a call's arguments in its
// own order (gcc: the last first), so an argument that sets errno (a
// failing call) ran after strerror(errno) read it in the original call,
// and the text must be the string the call evaluated then.
func (r *rewriter) othersPure(p *callPlan) bool { return r.pureArgs(p, true) }

// constArg is the table entry of a constant argument of class c.
func constArg(c fmtdb.Class, v constant) logfile.DescArg {
	switch {
	case v.isStr:
		return logfile.DescArg{Class: logfile.ClassConstStr, Str: v.str, BoundArg: -1}
	case c == fmtdb.ClassU32 || c == fmtdb.ClassU64:
		return logfile.DescArg{Class: logfile.ClassConstUint, Bits: v.ival.Value, BoundArg: -1}
	}
	return logfile.DescArg{Class: logfile.ClassConstInt, Bits: v.ival.Value, BoundArg: -1}
}

// entry is the call's site table entry: what its descriptor in the log
// will say.
func (r *rewriter) entry(p *callPlan) logfile.Descriptor {
	e := logfile.Descriptor{Level: uint8(p.level), TextLevel: logfile.TextLevelNone, File: p.name.File, Line: p.name.Line,
		Func: r.curFunc, Format: p.format, Args: p.fargs}
	if !p.constLevel {
		e.Level = fmtdb.LevelRuntime
		if r.cfg.TextLevel > 0 {
			e.TextLevel = uint8(r.cfg.TextLevel)
		}
	} else if p.textAlso {
		e.TextLevel = uint8(r.cfg.TextLevel)
	}
	return e
}

// site is the call's site as the format database describes it: the
// format with its constants folded in, the recorded arguments' classes.
func (r *rewriter) site(p *callPlan, e *logfile.Descriptor) (fmtdb.Site, error) {
	ff := p.pf
	if p.folded != p.format {
		var err error
		if ff, err = fmtdb.Parse(p.folded); err == nil {
			err = ff.Recordable()
		}
		if err != nil {
			return fmtdb.Site{}, err
		}
	}
	s := fmtdb.Site{Level: e.Level, File: e.File, Line: e.Line, Func: e.Func, Format: p.folded, Args: ff.Args}
	s.ID = fmtdb.SiteID(&s)
	return s, nil
}

func countTaking(args []fmtdb.ArgSpec) int {
	n := 0
	for _, a := range args {
		if a.Class.TakesArgument() {
			n++
		}
	}
	return n
}

// enumDecl records the values of an enumeration's constants (compel's log
// levels are one), so that a level written as one is a constant level.
// Values it cannot work out end the recording: later constants of that
// enumeration stay unknown.
func (r *rewriter) enumDecl(i int) {
	k := r.next(i)
	if k < len(r.toks) && r.toks[k].Kind == Ident {
		k = r.next(k)
	}
	if r.punct(k) != "{" || r.match[k] < 0 {
		return
	}
	end := int(r.match[k])
	next := int64(0)
	for k = r.next(k); k < end; {
		if r.toks[k].Kind != Ident {
			return
		}
		name := r.text(r.toks[k])
		k = r.next(k)
		if r.punct(k) == "=" {
			v, n, ok := r.enumValue(r.next(k), end)
			if !ok {
				return
			}
			next, k = v, n
		}
		if next >= -1<<31 && next < 1<<31 {
			r.enums[name] = int(next)
		}
		next++
		if r.punct(k) == "," {
			k = r.next(k)
		} else if k != end {
			return
		}
	}
}

// enumValue reads an enumerator's value: a number, a known constant, or
// one of those plus or minus a number. It returns the token after it.
func (r *rewriter) enumValue(k, end int) (int64, int, bool) {
	term := func(k int) (int64, bool) {
		t := r.toks[k]
		switch t.Kind {
		case Number:
			if v, ok := parseIntLiteral(r.text(t)); ok && v.Value < 1<<31 {
				return int64(v.Value), true
			}
		case Ident:
			if v, ok := r.enums[r.text(t)]; ok {
				return int64(v), true
			}
		}
		return 0, false
	}
	if k >= end {
		return 0, 0, false
	}
	v, ok := term(k)
	if !ok {
		return 0, 0, false
	}
	k = r.next(k)
	if op := r.punct(k); (op == "+" || op == "-") && r.next(k) < end {
		w, ok := term(r.next(k))
		if !ok {
			return 0, 0, false
		}
		if op == "-" {
			w = -w
		}
		v += w
		k = r.next(r.next(k))
	}
	return v, k, true
}
