package rewriter

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"slices"
	"sort"
	"strings"

	"github.com/logpack/logpack/fmtdb"
	"github.com/logpack/logpack/internal/logfile"
	"github.com/logpack/logpack/internal/sitetab"
)

// Diag reports a log call left as text.
type Diag struct {
	File   string
	Line   int
	Reason string
}

func (d Diag) String() string {
	return fmt.Sprintf("%s:%d: logpack: left as text: %s", d.File, d.Line, d.Reason)
}

// Result is one rewritten translation unit.
type Result struct {
	Output  []byte               // the rewritten C
	Sites   []fmtdb.Site         // one per rewritten call, in source order
	Diags   []Diag               // calls left as text, in source order
	Changed bool                 // Output differs from the input
	UnitID  string               // names the unit's site symbols (sitetab.SymbolName)
	Table   []logfile.Descriptor // the unit's site table, in the order of Sites
}

type mode uint8

const (
	modePreprocessed mode = iota
	modeSource
)

// unitHash names a unit that was given no ID: from its text and name.
func unitHash(src []byte, name string) string {
	h := fnv.New64a()
	h.Write([]byte(name))
	h.Write([]byte{0})
	h.Write(src)
	return hex.EncodeToString(h.Sum(nil))
}

// RewritePreprocessed rewrites a preprocessed unit (gcc -E output).
// filename names the input when it carries no line markers. The runtime
// prelude and the site definitions are pasted at the top under a
// "# 1 "<logpack>"" marker; every original line keeps its line number.
func RewritePreprocessed(src []byte, filename string, cfg *Config) (*Result, error) {
	return rewrite(src, filename, cfg, modePreprocessed)
}

// RewriteSource rewrites raw C source. filename is the name the compiler
// will see (it is what __FILE__ expands to). The output includes
// "logpack_site.h", defines the sites, and restores line numbering with
// #line so diagnostics and __LINE__ are unchanged.
func RewriteSource(src []byte, filename string, cfg *Config) (*Result, error) {
	return rewrite(src, filename, cfg, modeSource)
}

type edit struct {
	off, end int // replaced byte range of src (off == end: insertion)
	text     string
}

type opener struct {
	tok      int  // index in toks
	ctrl     bool // '(' of if/for/while/switch
	fn       bool // '{' of a function body
	stmtExpr bool // '{' right after '(': a GNU statement expression
	q        int  // unmatched '?' inside
}

// condState saves the bracket state at #if so each branch of a
// conditional group starts from it (source mode).
type condState struct {
	stack   []opener
	curFunc string
	after   []opener // state at the end of the first branch
	afterFn string
	taken   bool
	skip    bool // too deep: branches are not reset
	// "#if 0" (or the #else of "#if 1"): code the compiler never sees
	dead, liveFirst bool
}

// maxCondDepth bounds the bracket and #if nesting whose state is saved.
const maxCondDepth = 256

type rewriter struct {
	src   []byte
	file  string
	cfg   *Config
	mode  mode
	toks  []Token
	funcs map[string]*LogFunc

	res     Result
	diagOff []int // source offset of each diagnostic, to sort them
	edits   []edit
	// per token: a ')' that closes an if/for/while/switch condition, a
	// ':' that ends a label
	ctrlClose  []bool
	labelColon []bool
	match      []int32 // bracket partners (index)
	nextDir    []int32 // next non-marker directive at or after each token

	stack      []opener
	fileQ      int
	curFunc    string
	declName   string
	noEdit     int // byte offset up to which a rewritten call's arguments run
	conds      []condState
	dead       int // enclosing conditional branches that are never compiled
	deadFrom   int
	deadRanges [][2]int // byte ranges of never compiled code
	macros     map[string]fileMacro
	prefixes   map[string]*PrefixFunc
	enums      map[string]int // file-scope enumeration constants with known values
	typedefs   map[string]bool
	fnParams   int // the '(' of the parameters of the function being walked, -1 outside one
	unit       *sitetab.Unit
	encoders   map[string]bool // declarations of the encoders the unit calls
	// definesTextFd: the unit defines cfg.TextFdFunc
	definesTextFd bool
}

// fileMacro is an object-like macro defined in the file being rewritten.
type fileMacro struct {
	str         string
	isStr       bool
	conditional bool // defined inside #if: its value depends on the build
}

func rewrite(src []byte, filename string, cfg *Config, m mode) (res *Result, err error) {
	if cfg == nil {
		cfg = &Config{}
	}
	r := &rewriter{src: src, file: filename, cfg: cfg, mode: m, funcs: map[string]*LogFunc{},
		macros: map[string]fileMacro{}, prefixes: map[string]*PrefixFunc{}, enums: map[string]int{},
		typedefs: map[string]bool{}, encoders: map[string]bool{}, fnParams: -1}
	unitID := cfg.UnitID
	if unitID == "" {
		unitID = unitHash(src, filename)
	}
	r.unit = sitetab.NewUnit(unitID, cfg.Strings)
	r.res.UnitID = unitID
	base := filename
	if k := strings.LastIndexByte(base, '/'); k >= 0 {
		base = base[k+1:]
	}
	for i := range cfg.Funcs {
		f := &cfg.Funcs[i]
		if f.SourceOnly && m != modeSource || len(f.Units) > 0 && !slices.Contains(f.Units, base) {
			continue
		}
		r.funcs[f.Name] = f
	}
	for i := range cfg.PrefixFuncs {
		r.prefixes[cfg.PrefixFuncs[i].Name] = &cfg.PrefixFuncs[i]
	}
	var sc Scanner
	sc.Init(src, filename, func(file string, line int, msg string) {
		r.res.Diags = append(r.res.Diags, Diag{File: file, Line: line, Reason: "C syntax: " + msg})
		r.diagOff = append(r.diagOff, sc.off)
	})
	r.toks = make([]Token, 0, len(src)/6+16)
	for {
		t := sc.Scan()
		if t.Kind == EOF {
			break
		}
		if t.Kind != Comment {
			r.toks = append(r.toks, t)
		}
	}
	r.index()
	r.ctrlClose = make([]bool, len(r.toks))
	r.labelColon = make([]bool, len(r.toks))
	r.walk()
	out, err := r.output()
	if err != nil {
		return nil, err
	}
	r.res.Output = out
	r.res.Table = r.unit.Entries()
	if r.dead > 0 {
		r.setDead(-r.dead, len(src))
	}
	// source order: lexical errors were found before the calls; those in
	// code under #if 0 do not matter (an apostrophe in a disabled note)
	var idx []int
	for i := range r.res.Diags {
		if !r.inDead(r.diagOff[i]) {
			idx = append(idx, i)
		}
	}
	sort.SliceStable(idx, func(i, j int) bool { return r.diagOff[idx[i]] < r.diagOff[idx[j]] })
	diags := make([]Diag, len(idx))
	for i, k := range idx {
		diags[i] = r.res.Diags[k]
	}
	r.res.Diags = diags
	return &r.res, nil
}

func (r *rewriter) inDead(off int) bool {
	for _, d := range r.deadRanges {
		if off >= d[0] && off < d[1] {
			return true
		}
	}
	return false
}

func (r *rewriter) text(t Token) string { return string(r.src[t.Off:t.End]) }

func (r *rewriter) punct(i int) string {
	if i < 0 || i >= len(r.toks) || r.toks[i].Kind != Punct {
		return ""
	}
	return normPunct(r.text(r.toks[i]))
}

func (r *rewriter) isMarker(i int) bool {
	return r.toks[i].Kind == Directive && IsLineMarker(r.src[r.toks[i].Off:r.toks[i].End])
}

// prev and next step over directives: line markers fall anywhere in
// preprocessed output, and in source "#ifdef X" before a statement does
// not change what the statement is.
func (r *rewriter) prev(i int) int {
	for i--; i >= 0 && r.toks[i].Kind == Directive; i-- {
	}
	return i
}

func (r *rewriter) next(i int) int {
	for i++; i < len(r.toks) && r.toks[i].Kind == Directive; i++ {
	}
	return i
}

func (r *rewriter) diag(t Token, format string, a ...any) {
	r.res.Diags = append(r.res.Diags, Diag{File: t.File, Line: t.Line, Reason: fmt.Sprintf(format, a...)})
	r.diagOff = append(r.diagOff, t.Off)
}

// declarator names that are not the function being defined
var notDeclName = map[string]bool{
	"__attribute__": true, "__attribute": true, "__declspec": true, "asm": true, "__asm__": true,
	"__asm": true, "_Alignas": true, "alignas": true, "typeof": true, "__typeof__": true, "__typeof": true,
	"_Static_assert": true, "static_assert": true, "__extension__": true, "_Pragma": true,
	"__typeof_unqual__": true, "typeof_unqual": true, "_Atomic": true,
}

// declarator reports whether the identifier at i, followed by '(', may
// name the function a definition defines: at file scope, or inside the
// parentheses of a declarator of a function that returns a pointer
// ("void (*f(int))(int)": f, not void).
func (r *rewriter) declarator(i int) bool {
	for _, o := range r.stack {
		if r.punct(o.tok) != "(" {
			return false
		}
	}
	return len(r.stack) == 0 || r.punct(r.prev(i)) == "*"
}

func (r *rewriter) top() *opener {
	if len(r.stack) == 0 {
		return nil
	}
	return &r.stack[len(r.stack)-1]
}

func (r *rewriter) walk() {
	for i := 0; i < len(r.toks); i++ {
		t := r.toks[i]
		switch t.Kind {
		case Directive:
			if r.mode == modeSource {
				r.directive(i)
			}
		case Ident:
			name := r.text(t)
			// (a type word before '(': "void (*f(int))(int)" returns a
			// function pointer)
			if r.punct(r.next(i)) == "(" && !notDeclName[name] && !typeWords[name] && r.declarator(i) {
				r.declName = name
			}
			if f, ok := r.funcs[name]; ok && r.dead == 0 {
				r.candidate(i, f)
			} else if pf, ok := r.prefixes[name]; ok && r.dead == 0 {
				r.prefixCandidate(i, pf)
			} else if name == "enum" && r.dead == 0 {
				r.enumDecl(i)
			} else if name == "typedef" {
				r.typedefDecl(i)
			}
		case Punct:
			switch p := r.punct(i); p {
			case "(", "[", "{":
				o := opener{tok: i}
				pi := r.prev(i)
				if p == "(" && pi >= 0 && r.toks[pi].Kind == Ident {
					switch r.text(r.toks[pi]) {
					case "if", "for", "while", "switch":
						o.ctrl = true
					}
				}
				if p == "{" {
					if len(r.stack) == 0 && r.punct(pi) == ")" && r.declName != "" {
						o.fn = true
						r.curFunc = r.declName
						r.fnParams = int(r.match[pi])
						if r.curFunc == r.cfg.TextFdFunc && r.dead == 0 {
							r.definesTextFd = true
						}
					}
					o.stmtExpr = r.punct(pi) == "("
				}
				r.stack = append(r.stack, o)
			case ")", "]", "}":
				if len(r.stack) > 0 {
					o := r.stack[len(r.stack)-1]
					r.stack = r.stack[:len(r.stack)-1]
					r.ctrlClose[i] = p == ")" && o.ctrl
					if o.fn {
						r.curFunc, r.fnParams = "", -1
					}
				}
				if p == "}" && len(r.stack) == 0 {
					r.declName = ""
				}
			case ";":
				if len(r.stack) == 0 {
					r.declName = ""
				}
				if o := r.top(); o != nil {
					o.q = 0
				} else {
					r.fileQ = 0
				}
			case "?":
				if o := r.top(); o != nil {
					o.q++
				} else {
					r.fileQ++
				}
			case ":":
				q := &r.fileQ
				if o := r.top(); o != nil {
					q = &o.q
				}
				if *q > 0 {
					*q--
				} else {
					r.labelColon[i] = true
				}
			}
		}
	}
}

// directive tracks, in source mode, string macros defined in the file
// (LOG_PREFIX) and conditional groups (each branch starts from the
// bracket state at its #if, so unbalanced braces in #if/#else branches do
// not derail function tracking).
func (r *rewriter) directive(i int) {
	t := r.toks[i]
	d := r.src[t.Off:t.End]
	name := directiveName(d)
	switch name {
	case "if", "ifdef", "ifndef":
		c := condState{curFunc: r.curFunc, skip: true}
		if len(r.stack) <= maxCondDepth && len(r.conds) <= maxCondDepth {
			// (deeper nesting is not reset per branch: bounds the copying)
			c.stack, c.skip = append([]opener(nil), r.stack...), false
		}
		if name == "if" {
			switch constCond(d) {
			case "0":
				c.dead = true
				r.setDead(+1, t.End)
			case "1":
				c.liveFirst = true
			}
		}
		r.conds = append(r.conds, c)
	case "elif", "else", "elifdef", "elifndef":
		if n := len(r.conds); n > 0 {
			c := &r.conds[n-1]
			switch {
			case c.dead:
				c.dead = false
				r.setDead(-1, t.Off)
			case c.liveFirst:
				c.liveFirst = false
				c.dead = true
				r.setDead(+1, t.End)
			}
			if c.skip {
				break
			}
			if !c.taken {
				c.after, c.afterFn, c.taken = append([]opener(nil), r.stack...), r.curFunc, true
			}
			r.stack, r.curFunc = append([]opener(nil), c.stack...), c.curFunc
		}
	case "endif":
		if n := len(r.conds); n > 0 {
			c := r.conds[n-1]
			r.conds = r.conds[:n-1]
			if c.dead {
				r.setDead(-1, t.Off)
			}
			if c.taken {
				r.stack, r.curFunc = c.after, c.afterFn
			}
		}
	case "define", "undef":
		if r.dead == 0 {
			r.defineDirective(t, name)
		}
	}
}

// setDead counts entering (+1) or leaving (-1) a branch that is never
// compiled, and records the byte ranges of dead code.
func (r *rewriter) setDead(d, off int) {
	if r.dead == 0 && d > 0 {
		r.deadFrom = off
	}
	r.dead += d
	if r.dead == 0 && d < 0 {
		r.deadRanges = append(r.deadRanges, [2]int{r.deadFrom, off})
	}
}

// constCond returns the condition of "#if 0" or "#if 1" ("0", "1"), else "".
func constCond(d []byte) string {
	s := string(d)
	i := strings.Index(s, "if")
	if i < 0 {
		return ""
	}
	s = s[i+2:]
	if j := strings.Index(s, "/*"); j >= 0 {
		s = s[:j]
	}
	if j := strings.Index(s, "//"); j >= 0 {
		s = s[:j]
	}
	return strings.TrimSpace(s)
}

// defineDirective records #define NAME "literal"... and #undef NAME, and
// reports log calls inside #define bodies (only preprocessed input shows
// what they expand to).
func (r *rewriter) defineDirective(t Token, name string) {
	var sc Scanner
	body := r.src[t.Off:t.End]
	var toks []Token
	// scan the directive's inside as tokens (after the '#')
	sc.Init(body[1:], t.File, nil)
	sc.line = t.Line
	sc.bol = false
	for {
		x := sc.Scan()
		if x.Kind == EOF {
			break
		}
		if x.Kind != Comment {
			x.Off++
			x.End++
			toks = append(toks, x)
		}
	}
	txt := func(x Token) string { return string(body[x.Off:x.End]) }
	if len(toks) < 2 || toks[1].Kind != Ident {
		return
	}
	mname := txt(toks[1])
	if name == "undef" {
		delete(r.macros, mname)
		return
	}
	rest := toks[2:]
	funcLike := len(rest) > 0 && txt(rest[0]) == "(" && rest[0].Off == toks[1].End
	if !funcLike {
		m := fileMacro{conditional: len(r.conds) > 0}
		m.isStr = true
		var sb strings.Builder
		for _, x := range rest {
			if x.Kind != String {
				m.isStr = false
				break
			}
			lit, err := decodeLiteral(body[x.Off:x.End])
			if err != nil || lit.Prefix != "" && lit.Prefix != "u8" {
				m.isStr = false
				break
			}
			sb.Write(lit.Bytes)
		}
		m.str = sb.String()
		if old, ok := r.macros[mname]; ok && old.conditional {
			m.conditional = true
		}
		r.macros[mname] = m
	}
	for k := 2; k+1 < len(rest)+2; k++ {
		x := toks[k]
		if x.Kind == Ident && k+1 < len(toks) && txt(toks[k+1]) == "(" {
			if _, ok := r.funcs[txt(x)]; ok && txt(x) != mname {
				at := x
				at.Off += t.Off // for ordering: x is relative to the directive
				r.diag(at, "call to %s in the body of macro %s: rewritten only in preprocessed input (logpack cc)", txt(x), mname)
			}
		}
	}
}

// arg is one argument of a call: token indices lo..hi (inclusive) into
// r.toks, or a synthesized argument of a macro (synth != "").
type arg struct {
	lo, hi int
	synth  string
}

func (a arg) empty() bool { return a.synth == "" && a.hi < a.lo }

// candidate examines an occurrence of a log function's name.
func (r *rewriter) candidate(i int, f *LogFunc) {
	name := r.toks[i]
	open := r.next(i)
	if r.punct(open) != "(" {
		return // a use as a function pointer, or the name of something else
	}
	pi := r.prev(i)
	pp := r.punct(pi)
	if pp == "." || pp == "->" {
		return // a struct member that happens to share the name
	}
	if len(r.stack) == 0 {
		return // file scope: a prototype or a definition
	}
	if pi >= 0 && r.toks[pi].Kind == Ident && !exprKeyword(r.text(r.toks[pi])) {
		return // a local declaration: "void print_on_level(...);"
	}
	args, closeIdx, why := r.splitArgs(open)
	if closeIdx < 0 {
		r.diag(name, "%s", why)
		return
	}
	if why != "" {
		r.diag(name, "%s", why)
		return
	}
	stmt := r.stmtStart(pi)
	if !stmt && pp == ")" && r.mode == modeSource {
		// "list_for_each(pos, head) pr_info(...);": in raw source only a
		// loop-like macro can put a statement right after "NAME(...)"
		if o := int(r.match[pi]); o >= 0 {
			if m := r.prev(o); m >= 0 && r.toks[m].Kind == Ident && !exprKeyword(r.text(r.toks[m])) && r.stmtStart(r.prev(m)) {
				stmt = true
			}
		}
	}
	if !stmt && pp == ")" {
		// "(void)call(...);" discards the value like a plain statement
		v := r.prev(pi)
		o := r.prev(v)
		stmt = v >= 0 && r.toks[v].Kind == Ident && r.text(r.toks[v]) == "void" && r.punct(o) == "(" && r.stmtStart(r.prev(o))
	}
	after := r.next(closeIdx)
	if !stmt || r.punct(after) != ";" {
		r.diag(name, "the value of the call is used (not a statement of its own)")
		return
	}
	if o := r.top(); o != nil && o.stmtExpr && r.punct(r.next(after)) == "}" && !r.discarded(r.prev(o.tok)) {
		r.diag(name, "the call is the value of a statement expression")
		return
	}
	if name.Off < r.noEdit {
		r.diag(name, "the call is inside the arguments of another log call")
		return
	}
	if p := r.plan(i, f, args, closeIdx); p != nil && r.emitCall(p) {
		r.noEdit = r.toks[closeIdx].End
	}
}

// prefixCandidate examines an occurrence of a prefix function's name: a
// call anywhere in an expression inside a function.
func (r *rewriter) prefixCandidate(i int, pf *PrefixFunc) {
	name := r.toks[i]
	open := r.next(i)
	if r.punct(open) != "(" || len(r.stack) == 0 {
		return
	}
	pi := r.prev(i)
	if pp := r.punct(pi); pp == "." || pp == "->" {
		return
	}
	if pi >= 0 && r.toks[pi].Kind == Ident && !exprKeyword(r.text(r.toks[pi])) {
		return // a local declaration
	}
	args, closeIdx, why := r.splitArgs(open)
	if closeIdx < 0 || why != "" {
		r.diag(name, "%s", why)
		return
	}
	if name.Off < r.noEdit {
		r.diag(name, "the call is inside the arguments of a log call")
		return
	}
	if r.emitPrefix(i, pf, args, closeIdx) {
		r.noEdit = r.toks[closeIdx].End
	}
}

// discarded reports whether the parenthesized expression opening at
// token open is a statement of its own, so its value is not used.
func (r *rewriter) discarded(open int) bool {
	if open < 0 || r.match[open] < 0 {
		return false
	}
	return r.stmtStart(r.prev(open)) && r.punct(r.next(int(r.match[open]))) == ";"
}

// stmtStart reports whether a statement may begin right after token pi.
func (r *rewriter) stmtStart(pi int) bool {
	if pi < 0 {
		return false
	}
	switch r.punct(pi) {
	case ";", "{", "}":
		return true
	case ")":
		return r.ctrlClose[pi]
	case ":":
		return r.labelColon[pi]
	}
	if r.toks[pi].Kind == Ident {
		switch r.text(r.toks[pi]) {
		case "else", "do":
			return true
		}
	}
	return false
}

func exprKeyword(s string) bool {
	switch s {
	case "return", "else", "do", "case", "sizeof", "_Alignof", "alignof", "__alignof__", "goto", "default":
		return true
	}
	return false
}

// splitArgs finds the ')' matching the '(' at open and splits the
// arguments on top-level commas. closeIdx < 0 when there is none.
func (r *rewriter) splitArgs(open int) (args []arg, closeIdx int, why string) {
	closeIdx = int(r.match[open])
	if closeIdx < 0 {
		return nil, -1, "no closing parenthesis"
	}
	if d := int(r.nextDir[open]); d < closeIdx {
		t := r.toks[d]
		why = "#" + directiveName(r.src[t.Off:t.End]) + " inside the argument list"
	}
	// walk the top level only, jumping over nested brackets, so nested
	// calls cost linear time in all
	start := open + 1
	for k := open + 1; k < closeIdx; k++ {
		switch r.punct(k) {
		case "(", "[", "{":
			if r.match[k] < 0 || int(r.match[k]) > closeIdx {
				return nil, -1, "unbalanced brackets in the argument list"
			}
			k = int(r.match[k])
		case ",":
			args = append(args, r.trimArg(start, k-1))
			start = k + 1
		case ";":
			// only a statement expression puts ';' inside arguments
			return nil, -1, "no closing parenthesis before ';'"
		}
	}
	args = append(args, r.trimArg(start, closeIdx-1))
	if len(args) == 1 && args[0].empty() {
		args = nil
	}
	return args, closeIdx, why
}

// index computes, for every bracket token, the index of its partner (-1
// when unbalanced or mismatched), and for every token the index of the
// next directive that is not a line marker.
func (r *rewriter) index() {
	n := len(r.toks)
	r.match = make([]int32, n)
	r.nextDir = make([]int32, n+1)
	var stack []int32
	for k := 0; k < n; k++ {
		r.match[k] = -1
		switch p := r.punct(k); p {
		case "(", "[", "{":
			stack = append(stack, int32(k))
		case ")", "]", "}":
			if len(stack) == 0 {
				continue
			}
			o := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if closerOf(r.punct(int(o))) == p {
				r.match[o], r.match[k] = int32(k), o
			}
		}
	}
	r.nextDir[n] = int32(n)
	for k := n - 1; k >= 0; k-- {
		r.nextDir[k] = r.nextDir[k+1]
		if r.toks[k].Kind == Directive && !r.isMarker(k) {
			r.nextDir[k] = int32(k)
		}
	}
}

func closerOf(p string) string {
	switch p {
	case "(":
		return ")"
	case "[":
		return "]"
	}
	return "}"
}

// trimArg drops line markers at the ends of an argument's token range.
func (r *rewriter) trimArg(lo, hi int) arg {
	for lo <= hi && r.isMarker(lo) {
		lo++
	}
	for hi >= lo && r.isMarker(hi) {
		hi--
	}
	return arg{lo: lo, hi: hi}
}

// argText is the argument's C text on one line: the original spacing
// where it has no newline or comment, else one space.
func (r *rewriter) argText(a arg) string {
	if a.synth != "" {
		return a.synth
	}
	var b strings.Builder
	last := -1
	for k := a.lo; k <= a.hi; k++ {
		t := r.toks[k]
		if t.Kind == Directive {
			continue
		}
		if last >= 0 {
			gap := r.src[r.toks[last].End:t.Off]
			if len(gap) > 0 && !bytes.ContainsAny(gap, "\n/\\") {
				b.Write(gap)
			} else if len(gap) > 0 {
				b.WriteByte(' ')
			}
		}
		b.Write(unsplice(r.src[t.Off:t.End]))
		last = k
	}
	return b.String()
}

// unsplice removes the line splices (backslash-newline) in a token's
// text, as translation phase 2 does: the token then fits on one line.
func unsplice(tok []byte) []byte {
	if !bytes.Contains(tok, []byte("\\\n")) && !bytes.Contains(tok, []byte("\\\r\n")) {
		return tok
	}
	out := make([]byte, 0, len(tok))
	for i := 0; i < len(tok); i++ {
		if tok[i] == '\\' {
			if i+1 < len(tok) && tok[i+1] == '\n' {
				i++
				continue
			}
			if i+2 < len(tok) && tok[i+1] == '\r' && tok[i+2] == '\n' {
				i += 2
				continue
			}
		}
		out = append(out, tok[i])
	}
	return out
}

// argToks lists the argument's tokens as text (markers skipped).
func (r *rewriter) argToks(a arg) []string {
	var s []string
	for k := a.lo; k <= a.hi; k++ {
		if r.toks[k].Kind != Directive {
			s = append(s, r.text(r.toks[k]))
		}
	}
	return s
}

// isErrnoText reports whether the argument is exactly strerror(errno),
// before or after preprocessing (glibc's errno is (*__errno_location ())).
func (r *rewriter) isErrnoText(a arg) bool {
	if a.synth != "" {
		return a.synth == "strerror(errno)"
	}
	s := strings.Join(r.argToks(a), " ")
	return s == "strerror ( errno )" || s == "strerror ( ( * __errno_location ( ) ) )"
}

// constValue returns the argument's value when it is known now: string
// literals (adjacent ones joined), an integer literal, __func__, and in
// source mode __FILE__ and __LINE__.
func (r *rewriter) constValue(a arg, call Token) (constant, bool) {
	toks := r.argToks(a)
	if a.synth != "" {
		toks = []string{a.synth}
	}
	if len(toks) == 0 {
		return constant{}, false
	}
	if len(toks) == 1 {
		switch toks[0] {
		case "__func__", "__FUNCTION__", "__PRETTY_FUNCTION__":
			if r.curFunc != "" {
				return constant{isStr: true, str: r.curFunc}, true
			}
			return constant{}, false
		}
		if r.mode == modeSource {
			switch toks[0] {
			case "__FILE__":
				return constant{isStr: true, str: r.file}, true
			case "__LINE__":
				return constant{ival: IntLiteral{Value: uint64(call.Line)}}, true
			}
		}
		if a.synth == "" && r.toks[a.lo].Kind == Number {
			if v, ok := parseIntLiteral(toks[0]); ok {
				return constant{ival: v}, true
			}
			return constant{}, false
		}
	}
	if a.synth != "" {
		return constant{}, false
	}
	var sb strings.Builder
	for k := a.lo; k <= a.hi; k++ {
		t := r.toks[k]
		if t.Kind == Directive {
			continue
		}
		if t.Kind != String {
			return constant{}, false
		}
		lit, err := decodeLiteral(r.src[t.Off:t.End])
		if err != nil || lit.Prefix != "" && lit.Prefix != "u8" {
			return constant{}, false
		}
		sb.Write(lit.Bytes)
	}
	str := sb.String()
	if i := strings.IndexByte(str, 0); i >= 0 {
		str = str[:i] // %s stops at the first NUL
	}
	return constant{isStr: true, str: str}, true
}

// formatText resolves the format argument to its bytes: string literals
// only, and in source mode also macros expanding to string literals.
func (r *rewriter) formatText(a arg) (string, string) {
	var sb strings.Builder
	if a.empty() {
		return "", "empty format argument"
	}
	for k := a.lo; k <= a.hi; k++ {
		t := r.toks[k]
		switch t.Kind {
		case Directive:
			continue
		case String:
			lit, err := decodeLiteral(r.src[t.Off:t.End])
			if err != nil {
				return "", "bad string literal in the format: " + err.Error()
			}
			if lit.Prefix != "" && lit.Prefix != "u8" {
				return "", "wide string format (" + lit.Prefix + " prefix)"
			}
			sb.Write(lit.Bytes)
			continue
		case Ident:
			if r.mode == modeSource {
				s, why := r.stringMacro(r.text(t))
				if why != "" {
					return "", why
				}
				sb.WriteString(s)
				continue
			}
		}
		return "", "the format is not a string literal"
	}
	return sb.String(), ""
}

func (r *rewriter) stringMacro(name string) (string, string) {
	if m, ok := r.macros[name]; ok {
		switch {
		case m.conditional:
			return "", "the format uses macro " + name + ", defined differently under #if"
		case !m.isStr:
			return "", "the format uses macro " + name + ", which is not a string literal"
		}
		return m.str, ""
	}
	if s, ok := r.cfg.StringMacros[name]; ok {
		return s, ""
	}
	if name == r.cfg.LogPrefixMacro && name != "" {
		return "", "" // undefined in this file: the header's empty default
	}
	return "", "the format is not a string literal (" + name + " is no string macro logpack knows)"
}

// level resolves a level argument: a constant, or ok=false for a level
// decided at run time.
func (r *rewriter) level(a arg) (int, bool) {
	lo, hi := a.lo, a.hi
	for lo < hi && r.punct(lo) == "(" && r.punct(hi) == ")" {
		lo, hi = lo+1, hi-1
	}
	if lo != hi {
		return 0, false
	}
	t := r.toks[lo]
	switch t.Kind {
	case Number:
		if v, ok := parseIntLiteral(r.text(t)); ok && v.Value < 1<<31 {
			return int(v.Value), true
		}
	case Ident:
		if r.mode == modeSource {
			if v, ok := r.cfg.IntMacros[r.text(t)]; ok {
				return v, true
			}
		}
		if v, ok := r.enums[r.text(t)]; ok && !r.declaredInFunc(r.text(t), lo) {
			return v, true
		}
	}
	return 0, false
}

// declaredInFunc reports whether the function being walked may declare
// name before token at, as a parameter or a local (after a type keyword,
// a typedef name or '*'): then the name there is that variable, not the
// enumeration constant of the same name.
func (r *rewriter) declaredInFunc(name string, at int) bool {
	if r.fnParams < 0 {
		return false
	}
	for k := r.fnParams; k < at; k = r.next(k) {
		t := r.toks[k]
		if t.Kind != Ident || r.text(t) != name {
			continue
		}
		p := r.prev(k)
		if r.punct(p) == "*" {
			return true
		}
		if r.isTypeWord(p) || r.isTag(r.prev(p)) {
			return true
		}
	}
	return false
}

func (r *rewriter) isTextLevel(l int) bool {
	for _, t := range r.cfg.TextLevels {
		if t == l {
			return true
		}
	}
	return false
}

// typedefDecl notes the names a typedef at i declares (the identifiers
// before its ';', ',', ')' or '['), so that a cast to one is told from a
// call through a pointer (pureExpr).
func (r *rewriter) typedefDecl(i int) {
	for k := r.next(i); k < len(r.toks); k = r.next(k) {
		switch r.punct(k) {
		case ";":
			return
		case "{":
			if r.match[k] < 0 {
				return
			}
			k = int(r.match[k]) // a struct's members are no types
			continue
		}
		if r.toks[k].Kind == Ident {
			switch r.punct(r.next(k)) {
			case ";", ",", ")", "[":
				r.typedefs[r.text(r.toks[k])] = true
			}
		}
	}
}

// typeWords are the keywords a cast's type is made of.
var typeWords = map[string]bool{
	"void": true, "char": true, "short": true, "int": true, "long": true, "float": true, "double": true,
	"signed": true, "unsigned": true, "_Bool": true, "bool": true, "const": true, "volatile": true,
	"restrict": true, "__restrict": true, "__restrict__": true, "__signed__": true, "__const": true,
	"__volatile__": true, "_Complex": true, "__int128": true,
}

// isTypeWord: the token at k is a type keyword or a typedef name the unit
// declared.
func (r *rewriter) isTypeWord(k int) bool {
	if k < 0 || k >= len(r.toks) || r.toks[k].Kind != Ident {
		return false
	}
	w := r.text(r.toks[k])
	return typeWords[w] || r.typedefs[w]
}

// isTag: the token at k is struct, union or enum.
func (r *rewriter) isTag(k int) bool {
	if k < 0 || k >= len(r.toks) || r.toks[k].Kind != Ident {
		return false
	}
	switch r.text(r.toks[k]) {
	case "struct", "union", "enum":
		return true
	}
	return false
}

// isCast reports whether the parentheses from open to close hold a type:
// keywords, '*', struct/union/enum tags, and typedef names the unit
// declared.
func (r *rewriter) isCast(open, close int) bool {
	n := 0
	for k := r.next(open); k < close; k = r.next(k) {
		switch {
		case r.punct(k) == "*", r.isTypeWord(k):
		case r.isTag(k):
			if k = r.next(k); k >= close || r.toks[k].Kind != Ident {
				return false
			}
		default:
			return false
		}
		n++
	}
	return n > 0
}

// pureExpr reports whether evaluating the argument twice is the same as
// once: identifiers, literals and operators, but no calls (also through a
// pointer or an array element: "(*f)()", "t[i]()"), assignments,
// increments or statement expressions.
func (r *rewriter) pureExpr(a arg) bool {
	if a.synth != "" {
		return false
	}
	for k := a.lo; k <= a.hi; k++ {
		t := r.toks[k]
		switch t.Kind {
		case Directive:
		case Ident:
			if r.punct(r.next(k)) == "(" && !unevaluated[r.text(t)] {
				return false // a call (or a function-like macro left over)
			}
		case Number, Char, String:
		case Punct:
			switch p := r.punct(k); p {
			case "=", "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "<<=", ">>=", "++", "--", "{", "}":
				return false
			case ")", "]":
				if r.punct(r.next(k)) == "(" && (p == "]" || r.match[k] < 0 || !r.isCast(int(r.match[k]), k)) {
					return false
				}
			}
		default:
			return false
		}
	}
	return true
}

// unevaluated are the operators written like calls that evaluate
// nothing (of an operand that is no variable-length array).
var unevaluated = map[string]bool{
	"sizeof": true, "_Alignof": true, "__alignof__": true, "__alignof": true, "alignof": true,
	"__typeof__": true, "typeof": true, "__typeof": true, "__builtin_offsetof": true,
}

// simpleArg: an identifier or a literal, evaluated without effects.
func (r *rewriter) simpleArg(a arg) bool {
	if a.synth != "" {
		return true
	}
	n := 0
	for k := a.lo; k <= a.hi; k++ {
		if r.toks[k].Kind == Directive {
			continue
		}
		n++
		switch r.toks[k].Kind {
		case Ident, Number, String, Char:
		default:
			return false
		}
	}
	return n == 1
}

func fmtReason(err error) string {
	s := err.Error()
	s = strings.TrimPrefix(s, "fmtdb: ")
	return s
}

// output applies the edits and pastes the definitions at the top.
func (r *rewriter) output() ([]byte, error) {
	textFd := ""
	if r.definesTextFd {
		// The runtime learns the text log's descriptor from the unit that
		// knows it (at the end: after the function's definition).
		textFd = "\nstatic void __attribute__((__constructor__, __used__)) logpack_text_fd_init(void) { logpack_text_fd(" +
			r.cfg.TextFdFunc + "); }\n"
	}
	if len(r.edits) == 0 && textFd == "" {
		return r.src, nil
	}
	r.res.Changed = true
	sort.SliceStable(r.edits, func(i, j int) bool { return r.edits[i].off < r.edits[j].off })
	var defs strings.Builder
	encs := make([]string, 0, len(r.encoders))
	for d := range r.encoders {
		encs = append(encs, d)
	}
	sort.Strings(encs)
	for _, d := range encs {
		defs.WriteString(d + "\n")
	}
	defs.WriteString(r.unit.Decls())
	defs.WriteString(r.unit.Asm())
	var b bytes.Buffer
	b.Grow(len(r.src) + defs.Len() + 8192)
	switch r.mode {
	case modePreprocessed:
		b.WriteString("# 1 \"<logpack>\"\n")
		b.Write(sitetab.Prelude())
		b.WriteString(defs.String())
		if !startsWithMarker(r.src) {
			b.WriteString("# 1 " + sitetab.CString([]byte(r.file)) + "\n")
		}
	case modeSource:
		b.WriteString("#include \"logpack_site.h\"\n")
		b.WriteString(defs.String())
		b.WriteString("#line 1 " + sitetab.CString([]byte(r.file)) + "\n")
	}
	pos := 0
	for _, e := range r.edits {
		if e.off < pos {
			return nil, fmt.Errorf("rewriter: overlapping edits at byte %d", e.off)
		}
		b.Write(r.src[pos:e.off])
		b.WriteString(e.text)
		pos = e.end
	}
	b.Write(r.src[pos:])
	b.WriteString(textFd)
	return b.Bytes(), nil
}

func startsWithMarker(src []byte) bool {
	var s Scanner
	s.Init(src, "", nil)
	t := s.Scan()
	return t.Kind == Directive && t.Off == 0 && IsLineMarker(src[t.Off:t.End]) && s.marked
}
