package rewriter

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/logpack/logpack/internal/sitetab"
)

// ParamKind is the role of one parameter of a log function.
type ParamKind uint8

const (
	ParamOther   ParamKind = iota // passed through unchanged
	ParamLevel                    // the level, constant or decided at run time
	ParamFmt                      // the printf format
	ParamVarargs                  // "...": the format's arguments
)

// Param is one parameter of a log function's signature.
type Param struct {
	Kind ParamKind
	Name string
}

// LogFunc declares a log function or function-like macro.
type LogFunc struct {
	Name   string
	Params []Param
	// Level is the fixed level of a function without a level parameter
	// (" level=N", which such a function must have); unused when Params
	// has one.
	Level int

	// Macro semantics understood in source mode only (presets set them;
	// in preprocessed input the macros are already expanded).
	SourceOnly bool     // the name is a macro: look for it in raw source only
	Prefix     string   // literal text before the format ("Error (%s:%d): ")
	PrefixArgs []string // arguments the prefix consumes, before the caller's: "__FILE__", "__LINE__"
	LogPrefix  bool     // LOG_PREFIX goes between Prefix and the format
	Suffix     string   // literal text after the format (": %s\n")
	SuffixArgs []string // arguments the suffix consumes, after the caller's: "strerror(errno)"
	Once       bool     // the macro prints only the first time (a static flag)

	// LevelMap translates the function's own constant levels to logpack's
	// (CRIU's numbering), as the program's sink does; levels it does not
	// list become LevelMapDefault. nil: levels are taken as they are.
	LevelMap        map[int]int
	LevelMapDefault int
	// Units limits the declaration to translation units with one of these
	// base names ("soccr.c"): for a name as common as "log".
	Units []string
}

// PrefixFunc declares a function whose one argument, rendered with
// Format, prefixes every later line of the calling process (CRIU's
// log_init_by_pid: "%6d: " of the pid). Its calls are recorded too, so the
// decoder can put the prefix where the program did.
type PrefixFunc struct {
	Name   string
	Format string
}

// MaxLevel is the highest constant level a site descriptor holds.
const MaxLevel = 7

// hasParam returns the index of the first parameter of kind k, or -1.
func (f *LogFunc) hasParam(k ParamKind) int {
	for i, p := range f.Params {
		if p.Kind == k {
			return i
		}
	}
	return -1
}

// String renders the function in --log-func syntax.
func (f *LogFunc) String() string {
	var b strings.Builder
	b.WriteString(f.Name)
	b.WriteByte('(')
	for i, p := range f.Params {
		if i > 0 {
			b.WriteString(", ")
		}
		switch p.Kind {
		case ParamLevel:
			b.WriteString("level")
		case ParamFmt:
			b.WriteString("fmt")
		case ParamVarargs:
			b.WriteString("...")
		default:
			b.WriteString(p.Name)
		}
	}
	b.WriteByte(')')
	if f.hasParam(ParamLevel) < 0 {
		fmt.Fprintf(&b, " level=%d", f.Level)
	}
	return b.String()
}

// Config says which calls to rewrite and how.
type Config struct {
	Funcs []LogFunc
	// TextLevels are levels that always stay text (CRIU: 0, the user
	// messages printed to stdout): constant ones are left untouched, and
	// run-time levels equal to one of them call the original function.
	TextLevels []int
	// NoGlibcDefines name macros (-DNAME) marking objects built without
	// glibc, which the cc wrapper passes through unchanged (CR_NOGLIBC).
	NoGlibcDefines []string
	// StringMacros are object-like macros expanding to string literals,
	// used to resolve formats in source mode (PRIx64 → "lx"). Macros
	// defined in the file itself (#define NAME "...") are added per file.
	StringMacros map[string]string
	// IntMacros are object-like macros expanding to integer constants,
	// used for levels in source mode (LOG_INFO → 3).
	IntMacros map[string]int
	// LogPrefixMacro names the macro a LogFunc with LogPrefix inserts
	// ("LOG_PREFIX"); it is "" until the file defines it.
	LogPrefixMacro string
	// TextLevel: calls at levels 1..TextLevel (errors and warnings in
	// CRIU's numbering) also run the original call while binary logging
	// is on, so that the program's text log, stderr and error reporting
	// (CRIU's RPC error message) keep them. 0: none.
	TextLevel int
	// PrefixFuncs declare functions that set a line prefix.
	PrefixFuncs []PrefixFunc
	// TextFdFunc names the program's function that returns the descriptor
	// of its text log (CRIU's log_get_fd); the unit that defines it tells
	// the runtime, which then notes where the text log's other lines go.
	TextFdFunc string

	// How the output is made (set by the cc wrapper, not by presets).
	// Encoders: calls go to per-signature encoders (the wrapper generates
	// them at link time); otherwise to logpack_emit with an array.
	Encoders bool
	// UnitID makes the unit's site symbols unique in a program.
	UnitID string
	// Strings says where the compiler puts string literals.
	Strings sitetab.StringRule
}

// DefaultTextLevel is TextLevel unless told otherwise: errors and
// warnings.
const DefaultTextLevel = 2

// ParseLogFunc parses a --log-func SPEC: NAME(PARAMS) where each param is
// "level", "fmt", "..." or another name (passed through unchanged),
// optionally followed by " level=N" for functions without a level
// parameter. Exactly one fmt; "..." only last.
func ParseLogFunc(spec string) (LogFunc, error) {
	var f LogFunc
	bad := func(format string, a ...any) (LogFunc, error) {
		return LogFunc{}, fmt.Errorf("--log-func %q: %s", spec, fmt.Sprintf(format, a...))
	}
	s := strings.TrimSpace(spec)
	open := strings.IndexByte(s, '(')
	close := strings.LastIndexByte(s, ')')
	if open < 0 || close < open {
		return bad("want NAME(PARAMS)")
	}
	f.Name = strings.TrimSpace(s[:open])
	if !isIdent(f.Name) {
		return bad("%q is not a C identifier", f.Name)
	}
	levelSet := false
	if rest := strings.TrimSpace(s[close+1:]); rest != "" {
		v, ok := strings.CutPrefix(rest, "level=")
		if !ok {
			return bad("unexpected %q after the parameters (want level=N)", rest)
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > MaxLevel {
			return bad("level=%s: want a number from 0 to %d", v, MaxLevel)
		}
		f.Level = n
		levelSet = true
	}
	seen := map[string]bool{}
	if inner := strings.TrimSpace(s[open+1 : close]); inner != "" {
		for _, p := range strings.Split(inner, ",") {
			p = strings.TrimSpace(p)
			var prm Param
			switch p {
			case "level":
				prm.Kind = ParamLevel
			case "fmt":
				prm.Kind = ParamFmt
			case "...":
				prm.Kind = ParamVarargs
			default:
				if !isIdent(p) {
					return bad("parameter %q is not level, fmt, ... or a C identifier", p)
				}
				prm = Param{Kind: ParamOther, Name: p}
			}
			if seen[p] {
				return bad("parameter %q appears twice", p)
			}
			seen[p] = true
			if len(f.Params) > 0 && f.Params[len(f.Params)-1].Kind == ParamVarargs {
				return bad("... must be the last parameter")
			}
			f.Params = append(f.Params, prm)
		}
	}
	if !seen["fmt"] {
		return bad("no fmt parameter")
	}
	if !seen["level"] && !levelSet {
		return bad("no level: name the level parameter \"level\", or give a fixed level with \" level=N\" after the parameters")
	}
	if seen["level"] && levelSet {
		return bad("level=N given for a function with a level parameter")
	}
	return f, nil
}

func isIdent(s string) bool {
	if s == "" || isDigit(s[0]) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isLetter(s[i]) && !isDigit(s[i]) || s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// Presets lists the names Preset accepts.
var Presets = []string{"criu"}

// Preset returns a named configuration.
//
// "criu": the sink print_on_level(level, fmt, ...) for preprocessed input,
// with level 0 (pr_msg and run-time level 0: user messages on stdout)
// kept as text and errors and warnings printed as text too; compel's
// compel_print_on_level and soccr's log pointer; log_init_by_pid, which
// starts a restored task's "%6d: " pid prefix; log_get_fd, the text log's
// descriptor; for source mode CRIU's pr_* macros as defined in its log.h
// (CRIU-LOGGING.md), LOG_PREFIX, the LOG_* levels and the PRI* macros;
// CR_NOGLIBC marks objects built without glibc.
func Preset(name string) (Config, error) {
	switch name {
	case "criu":
		return criuPreset(), nil
	}
	return Config{}, fmt.Errorf("unknown preset %q (known: %s)", name, strings.Join(Presets, ", "))
}

func criuPreset() Config {
	fmtv := []Param{{Kind: ParamFmt}, {Kind: ParamVarargs}}
	lvl := []Param{{Kind: ParamLevel}, {Kind: ParamFmt}, {Kind: ParamVarargs}}
	fileLine := []string{"__FILE__", "__LINE__"}
	errnoArg := []string{"strerror(errno)"}
	const errPre, warnPre = "Error (%s:%d): ", "Warn  (%s:%d): "
	cfg := Config{
		Funcs: []LogFunc{
			{Name: "print_on_level", Params: lvl},
			{Name: "pr_msg", Params: fmtv, Level: 0, SourceOnly: true},
			{Name: "pr_info", Params: fmtv, Level: 3, SourceOnly: true, LogPrefix: true},
			{Name: "pr_debug", Params: fmtv, Level: 4, SourceOnly: true, LogPrefix: true},
			{Name: "pr_err", Params: fmtv, Level: 1, SourceOnly: true, Prefix: errPre, PrefixArgs: fileLine, LogPrefix: true},
			{Name: "pr_warn", Params: fmtv, Level: 2, SourceOnly: true, Prefix: warnPre, PrefixArgs: fileLine, LogPrefix: true},
			{Name: "pr_perror", Params: fmtv, Level: 1, SourceOnly: true, Prefix: errPre, PrefixArgs: fileLine, LogPrefix: true,
				Suffix: ": %s\n", SuffixArgs: errnoArg},
			{Name: "pr_pwarn", Params: fmtv, Level: 2, SourceOnly: true, Prefix: warnPre, PrefixArgs: fileLine, LogPrefix: true,
				Suffix: ": %s\n", SuffixArgs: errnoArg},
			{Name: "pr_err_once", Params: fmtv, Level: 1, SourceOnly: true, Prefix: errPre, PrefixArgs: fileLine, LogPrefix: true, Once: true},
			{Name: "pr_warn_once", Params: fmtv, Level: 2, SourceOnly: true, Prefix: warnPre, PrefixArgs: fileLine, LogPrefix: true, Once: true},
			{Name: "print_once", Params: lvl, SourceOnly: true, Once: true},
			// compel's library logs through its own sink, with the same
			// levels (an enum in its header), handed on to criu's.
			{Name: "compel_print_on_level", Params: lvl},
			// soccr logs through a function pointer named log, with
			// levels of its own that criu maps: SOCCR_LOG_ERR (1) to
			// LOG_ERROR, SOCCR_LOG_DBG (2) to LOG_DEBUG, others to LOG_INFO.
			{Name: "log", Params: lvl, LevelMap: map[int]int{1: 1, 2: 4}, LevelMapDefault: 3, Units: []string{"soccr.c"}},
		},
		PrefixFuncs:    []PrefixFunc{{Name: "log_init_by_pid", Format: "%6d: "}},
		TextFdFunc:     "log_get_fd",
		TextLevel:      DefaultTextLevel,
		TextLevels:     []int{0},
		NoGlibcDefines: []string{"CR_NOGLIBC"},
		StringMacros:   map[string]string{},
		IntMacros: map[string]int{
			"LOG_UNSET": -1, "LOG_MSG": 0, "LOG_ERROR": 1, "LOG_WARN": 2, "LOG_INFO": 3, "LOG_DEBUG": 4,
		},
		LogPrefixMacro: "LOG_PREFIX",
	}
	for k, v := range priMacros {
		cfg.StringMacros[k] = v
	}
	return cfg
}

// priMacros are <inttypes.h>'s format macros as glibc defines them on
// x86-64 (LP64: 64-bit types are long).
var priMacros = func() map[string]string {
	m := map[string]string{}
	for _, c := range []string{"d", "i", "o", "u", "x", "X"} {
		// glibc's PRId8 and PRId16 are plain "d": the value arrives promoted
		for _, n := range []string{"8", "16", "32"} {
			m["PRI"+c+n] = c
			m["PRI"+c+"LEAST"+n] = c
			m["PRI"+c+"FAST"+n] = c
		}
		// x86-64: int_fast16/32 are long
		m["PRI"+c+"FAST16"] = "l" + c
		m["PRI"+c+"FAST32"] = "l" + c
		m["PRI"+c+"64"] = "l" + c
		m["PRI"+c+"LEAST64"] = "l" + c
		m["PRI"+c+"FAST64"] = "l" + c
		m["PRI"+c+"MAX"] = "l" + c
		m["PRI"+c+"PTR"] = "l" + c
	}
	return m
}()

// BuildConfig combines a preset ("" for none) with --log-func specs, as
// the cc and rewrite commands take them. A spec naming a function the
// preset already declares replaces the preset's declaration.
func BuildConfig(preset string, specs []string) (Config, error) {
	cfg := Config{TextLevel: DefaultTextLevel}
	if preset != "" {
		var err error
		if cfg, err = Preset(preset); err != nil {
			return Config{}, err
		}
	}
	for _, s := range specs {
		f, err := ParseLogFunc(s)
		if err != nil {
			return Config{}, err
		}
		replaced := false
		for i := range cfg.Funcs {
			if cfg.Funcs[i].Name == f.Name {
				cfg.Funcs[i], replaced = f, true
			}
		}
		if !replaced {
			cfg.Funcs = append(cfg.Funcs, f)
		}
	}
	if len(cfg.Funcs) == 0 {
		return Config{}, fmt.Errorf("no log functions: give --preset or --log-func")
	}
	return cfg, nil
}
