package rewriter

import (
	"bytes"
	"strconv"
	"strings"

	"github.com/logpack/logpack/fmtdb"
	"github.com/logpack/logpack/internal/logfile"
	"github.com/logpack/logpack/internal/sitetab"
)

// The emitted forms (REC is logpack_on(), CALL the runtime call, which
// returns whether the log took the record, ORIG the original call, left
// in place, TEXT the original call again, for a record the log could not
// take):
//
//	constant level:      ((REC && CALL) ? (void)0 : (void)ORIG)
//	... impure arguments: ({ T a0 = x0; ...; if (!(REC && CALL)) (void)TEXT; if (0) (void)ORIG; })
//	... also as text:    ({ T a0 = x0; ...; CALL; (void)TEXT; if (0) (void)ORIG; })
//	run-time level:      ((REC && L != 0) ? ({ temps; if (!CALL || TL(L)) (void)TEXT; }) : (void)ORIG),
//	                     L evaluated once, TL(L): L is a level that also prints as text
//	once-macro:          do { if (REC) { static int g; if (!g) { g = 1; if (!CALL) TEXT; } } else ORIG; } while (0)
//	prefix function:     ({ int v = (int)(x); if (REC) CALL; FN(v); })
//
// Arguments are evaluated once either way: TEXT reads them from
// temporaries of exactly the types the format's conversions read (so it
// prints what the original would have), or evaluates them again when they
// have no side effects. ORIG stays the original call, so compiler format
// checking keeps seeing the real arguments. The text fallback is what
// makes a full log lose nothing: a process that cannot grow the log (CRIU's
// restored tasks close every descriptor they inherit) prints those lines
// as text, and decoding with the text log puts them back in place.

const recExpr = "logpack_on()"

// emitCall records the plan's site and the edits that rewrite the call.
func (r *rewriter) emitCall(p *callPlan) bool {
	e := r.entry(p)
	// Every call falls back to text but those that print as text anyway
	// (textAlso is only ever set for a constant level).
	if !p.textAlso {
		e.Flags |= logfile.DescTextFallback
	}
	site, err := r.site(p, &e)
	if err != nil {
		r.diag(p.name, "internal: the stored format does not parse: %v", err)
		return false
	}
	sym := r.unit.Add(e)
	r.res.Sites = append(r.res.Sites, site)

	level := ""
	if !p.constLevel {
		level = "(int)logpack_level_"
		if r.pureExpr(p.args[p.levelIdx]) {
			level = "(int)(" + r.argText(p.args[p.levelIdx]) + ")"
		}
	}
	wantText := p.textAlso || !p.constLevel && r.cfg.TextLevel > 0
	// Temporaries hold the arguments when the call prints as text too, or
	// may print as text after the runtime call evaluated side effects.
	useTemps := wantText || !r.pureArgs(p, false)
	// The temporaries, in the call's order.
	type temp struct{ typ, name, val string }
	var all []temp
	var temps []string // per pf.Args entry: its temporary
	// pass-through arguments are still evaluated once when recording
	var pass strings.Builder
	var passTemps map[int]string
	for n, k := range p.passIdx {
		a := p.args[k]
		switch {
		case r.simpleArg(a):
		case useTemps:
			if passTemps == nil {
				passTemps = map[int]string{}
			}
			passTemps[k] = "logpack_p" + strconv.Itoa(n)
			// the type of the value passed (an array decays, a
			// bit-field is its promoted type), without evaluating it
			x := "(" + r.argText(a) + ")"
			all = append(all, temp{"__typeof__(0 ? " + x + " : " + x + ")", passTemps[k], x})
		default:
			pass.WriteString("(void)(" + r.argText(a) + "), ")
		}
	}
	if useTemps {
		temps = make([]string, len(p.fargs))
		for k, a := range p.fargs {
			if !sitetab.Recorded(a) {
				continue
			}
			temps[k] = "logpack_a" + strconv.Itoa(k)
			t := argCType(p.pf, k)
			all = append(all, temp{t, temps[k], "(" + t + ")(" + r.argText(p.callArgs[p.cIndex[k]]) + ")"})
		}
	}
	// Declared, then set. Where an argument has side effects (not
	// strerror(errno), which only reads errno), they are set as the
	// arguments of one call, so that the compiler evaluates them in the
	// order it evaluates the original call's (gcc: the last first; a call
	// that sets errno, or a variable that an increment changes, gives what
	// the original printed).
	var decls strings.Builder
	if len(all) > 1 && !r.othersPure(p) {
		sets := make([]string, len(all))
		for i, t := range all {
			decls.WriteString(t.typ + " " + t.name + "; ")
			sets[i] = "(" + t.name + " = " + t.val + ")"
		}
		decls.WriteString("logpack_seq(0, " + strings.Join(sets, ", ") + "); ")
	} else {
		for _, t := range all {
			decls.WriteString(t.typ + " " + t.name + " = " + t.val + "; ")
		}
	}
	call := r.runtimeCall(p, &e, sym, level, temps)
	text := r.textCall(p, temps, passTemps)
	// record is what runs when the call is recorded; without temporaries
	// it is an int expression (whether the log took the record), which
	// the forms combine with the condition.
	record := "(" + pass.String() + call + ")"
	switch {
	case !useTemps:
	case p.f.Once && wantText:
		// a once-macro is a statement: no cast, no value
		record = "{ " + decls.String() + call + "; " + text + "; }"
	case p.f.Once:
		record = "{ " + decls.String() + "if (!" + call + ") " + text + "; }"
	case p.constLevel:
		// the constant-level forms with temporaries are built whole below
	case wantText:
		record = "__extension__ ({ " + decls.String() + "if (!" + call + " || logpack_text_level(" + level + ", " +
			strconv.Itoa(r.cfg.TextLevel) + ")) (void)" + text + "; })"
	default:
		record = "__extension__ ({ " + decls.String() + "if (!" + call + ") (void)" + text + "; })"
	}

	name := p.name
	closeEnd := r.toks[p.closeIdx].End
	switch {
	case p.f.Once:
		// a do/while statement, since a once-macro is one too
		guard := "logpack_once_" + strconv.Itoa(r.unit.Len()-1)
		if !useTemps {
			record = "if (!" + record + ") " + text
		}
		r.edits = append(r.edits,
			edit{name.Off, name.Off, "do { if (" + recExpr + ") { static int " + guard + "; if (!" + guard + ") { " +
				guard + " = 1; " + record + "; } } else "},
			edit{closeEnd, closeEnd, "; } while (0)"})
	case p.constLevel && wantText:
		// Printed either way: the arguments are evaluated once into the
		// temporaries, recorded (the runtime does nothing while logging is
		// off: no test here, which saves code at every error site) and
		// printed from them; the original call stays, never run, for the
		// compiler's format checks.
		r.edits = append(r.edits,
			edit{name.Off, name.Off, "__extension__ ({ " + decls.String() + call +
				"; (void)" + text + "; if (0) (void)"},
			edit{closeEnd, closeEnd, "; })"})
	case p.constLevel && useTemps:
		// The temporaries are evaluated whether or not logging is on, as
		// the original call's arguments were; the original call stays,
		// never run, for the compiler's format checks.
		r.edits = append(r.edits,
			edit{name.Off, name.Off, "__extension__ ({ " + decls.String() + "if (!(" + recExpr + " && " + call + ")) (void)" + text +
				"; if (0) (void)"},
			edit{closeEnd, closeEnd, "; })"})
	case p.constLevel:
		r.edits = append(r.edits,
			edit{name.Off, name.Off, "((" + recExpr + " && " + record + ") ? (void)0 : (void)"},
			edit{closeEnd, closeEnd, ")"})
	case r.pureExpr(p.args[p.levelIdx]):
		// A level without side effects is simply read again: the
		// original call stays exactly as written.
		lt := "(" + r.argText(p.args[p.levelIdx]) + ")"
		r.edits = append(r.edits,
			edit{name.Off, name.Off, r.leveledForm(r.recordingCond(lt), record, useTemps)},
			edit{closeEnd, closeEnd, ")"})
	default:
		// Otherwise the level is evaluated once into a variable of its
		// own type (no conversion warnings); __extension__ keeps
		// -pedantic quiet about the statement expression.
		la := p.args[p.levelIdx]
		lo, hi := r.toks[la.lo].Off, r.toks[la.hi].End
		nl := strings.Repeat("\n", bytes.Count(r.src[lo:hi], []byte{'\n'}))
		r.edits = append(r.edits,
			edit{name.Off, name.Off, "__extension__ ({ __typeof__((" + r.argText(la) + ") + 0) logpack_level_ = (" +
				r.argText(la) + "); " + r.leveledForm(r.recordingCond("logpack_level_"), record, useTemps)},
			edit{lo, hi, "logpack_level_" + nl},
			edit{closeEnd, closeEnd, "); })"})
	}
	return true
}

// leveledForm opens the conditional of a run-time level call, up to the
// original call: record, under cond, is either a statement expression that
// prints as text itself (withTemps) or an int expression whose failure
// leaves the printing to the original call.
func (r *rewriter) leveledForm(cond, record string, withTemps bool) string {
	if withTemps {
		return "((" + cond + ") ? " + record + " : (void)"
	}
	return "((" + cond + " && " + record + ") ? (void)0 : (void)"
}

// pureArgs reports whether evaluating the call's arguments has no side
// effects, so that the original call may evaluate them again. With
// errnoReads, strerror(errno) counts as pure (it only reads errno) and a
// macro's synthesized arguments are looked at too (constants are pure).
func (r *rewriter) pureArgs(p *callPlan, errnoReads bool) bool {
	pure := func(a arg) bool {
		switch {
		case errnoReads && r.isErrnoText(a):
			return true
		case a.synth != "":
			_, ok := r.constValue(a, p.name)
			return ok
		}
		return r.pureExpr(a)
	}
	for _, a := range p.args {
		if !pure(a) {
			return false
		}
	}
	for _, a := range p.callArgs {
		if errnoReads && a.synth != "" && !pure(a) {
			return false
		}
	}
	return true
}

// recordingCond is the condition under which a call with the run-time
// level lt is recorded: logging is on and the level is not text only.
func (r *rewriter) recordingCond(lt string) string {
	cond := recExpr
	for _, tl := range r.cfg.TextLevels {
		cond += " && " + lt + " != " + strconv.Itoa(tl)
	}
	return cond
}

// runtimeCall is the call of the runtime for the plan: its signature's
// encoder, or logpack_emit with an array. temps, when set, hold the
// recorded arguments already.
func (r *rewriter) runtimeCall(p *callPlan, e *logfile.Descriptor, sym, level string, temps []string) string {
	argText := func(k int) string {
		if temps != nil {
			return temps[k]
		}
		return r.argText(p.callArgs[p.cIndex[k]])
	}
	if sig := sitetab.Signature(e); r.cfg.Encoders && sig != "" {
		r.encoders[sitetab.EncoderDecl(sig, level != "")] = true
		var args []string
		for k, a := range p.fargs {
			if sitetab.Recorded(a) {
				args = append(args, sitetab.EncoderArg(a.Class, argText(k)))
			}
		}
		return sitetab.EncoderCall(sig, sym, level, args)
	}
	var ab strings.Builder
	for k, a := range p.fargs {
		if !sitetab.Recorded(a) {
			continue
		}
		if ab.Len() > 0 {
			ab.WriteString(", ")
		}
		ab.WriteString(sitetab.ArraySlot(a.Class, argText(k)))
	}
	argv := "0"
	if ab.Len() > 0 {
		argv = "(const union logpack_arg[]){" + ab.String() + "}"
	}
	if level != "" {
		return "logpack_emit_level(&" + sym + ", " + level + ", " + argv + ")"
	}
	return "logpack_emit(&" + sym + ", " + argv + ")"
}

// textCall is the original call again with the recorded arguments taken
// from their temporaries: constants and strerror(errno) as written.
func (r *rewriter) textCall(p *callPlan, temps []string, passTemps map[int]string) string {
	byCallArg := map[int]string{}
	for k, t := range temps {
		if t != "" {
			byCallArg[p.cIndex[k]] = t
		}
	}
	var parts []string
	for k, prm := range p.f.Params {
		switch prm.Kind {
		case ParamLevel:
			if p.constLevel {
				parts = append(parts, r.argText(p.args[k]))
			} else if r.pureExpr(p.args[k]) {
				parts = append(parts, r.argText(p.args[k]))
			} else {
				parts = append(parts, "logpack_level_")
			}
		case ParamFmt:
			parts = append(parts, r.argText(p.args[k]))
		case ParamOther:
			if t, ok := passTemps[k]; ok {
				parts = append(parts, t)
			} else {
				parts = append(parts, r.argText(p.args[k]))
			}
		case ParamVarargs:
			for j := k; j < len(p.args); j++ {
				ca := len(p.f.PrefixArgs) + j - k
				if t, ok := byCallArg[ca]; ok {
					parts = append(parts, t)
				} else {
					parts = append(parts, r.argText(p.args[j]))
				}
			}
		}
	}
	return p.f.Name + "(" + strings.Join(parts, ", ") + ")"
}

// argCType is the C type the conversion that reads pf.Args[k] takes, as
// -Wformat checks it.
func argCType(pf *fmtdb.Format, k int) string {
	for i := range pf.Specs {
		sp := &pf.Specs[i]
		if sp.WidthArg == k || sp.PrecArg == k {
			return "int"
		}
		if sp.Arg != k {
			continue
		}
		switch sp.Conv {
		case 'd', 'i':
			return intType(sp.Length, false)
		case 'u', 'o', 'x', 'X', 'b', 'B':
			return intType(sp.Length, true)
		case 'c':
			return "int"
		case 's':
			return "const char *"
		case 'p':
			return "const void *"
		case 'e', 'E', 'f', 'F', 'g', 'G', 'a', 'A':
			if sp.Length == fmtdb.LenBigL || sp.Length == fmtdb.LenLL || sp.Length == fmtdb.LenQ {
				return "long double"
			}
			return "double"
		}
	}
	return sitetab.CType(pf.Args[k].Class)
}

func intType(l fmtdb.Length, unsigned bool) string {
	t := ""
	switch l {
	case fmtdb.LenNone:
		t = "int"
	case fmtdb.LenHH, fmtdb.LenH:
		return "int" // promoted: -Wformat-signedness wants int
	case fmtdb.LenL, fmtdb.LenJ, fmtdb.LenZ, fmtdb.LenBigZ, fmtdb.LenT:
		t = "long"
	default: // ll, q
		t = "long long"
	}
	if unsigned {
		return "unsigned " + t
	}
	return t
}

// emitPrefix rewrites a call of a prefix function: its argument goes into
// a temporary, recorded when logging is on, and the call takes it; the
// whole is an expression with the call's value.
func (r *rewriter) emitPrefix(i int, pf *PrefixFunc, args []arg, closeIdx int) bool {
	name := r.toks[i]
	if len(args) != 1 || args[0].empty() {
		r.diag(name, "%s takes one argument here", pf.Name)
		return false
	}
	f, err := fmtdb.Parse(pf.Format)
	if err != nil || len(f.Args) != 1 || !f.Args[0].Class.TakesArgument() {
		r.diag(name, "internal: prefix format %q", pf.Format)
		return false
	}
	class := f.Args[0].Class
	e := logfile.Descriptor{Flags: logfile.DescPrefix, TextLevel: logfile.TextLevelNone, File: name.File, Line: name.Line,
		Func: r.curFunc, Format: pf.Format, Args: []logfile.DescArg{{Class: class, BoundArg: -1}}}
	site := fmtdb.Site{File: e.File, Line: e.Line, Func: e.Func, Format: e.Format, Args: f.Args}
	site.ID = fmtdb.SiteID(&site)
	sym := r.unit.Add(e)
	r.res.Sites = append(r.res.Sites, site)
	t := argCType(f, 0)
	a := args[0]
	p := &callPlan{fargs: e.Args, cIndex: []int{0}, callArgs: args}
	call := r.runtimeCall(p, &e, sym, "", []string{"logpack_v"})
	lo, hi := r.toks[a.lo].Off, r.toks[a.hi].End
	nl := strings.Repeat("\n", bytes.Count(r.src[lo:hi], []byte{'\n'}))
	closeEnd := r.toks[closeIdx].End
	r.edits = append(r.edits,
		edit{name.Off, name.Off, "__extension__ ({ " + t + " logpack_v = (" + t + ")(" + r.argText(a) + "); if (" +
			recExpr + ") " + call + "; "},
		edit{lo, hi, "logpack_v" + nl},
		edit{closeEnd, closeEnd, "; })"})
	return true
}
