package sitetab

import (
	"bufio"
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"github.com/logpack/logpack/fmtdb"
	"github.com/logpack/logpack/internal/logfile"
	lpruntime "github.com/logpack/logpack/runtime"
)

// StringRule says where the compiler puts a unit's string literals, so
// that the table's strings land in the same mergeable sections and the
// linker keeps one copy of each (formats and file names are the literals
// the original calls use).
type StringRule struct {
	// SizeOpt: the unit is optimised for size (-Os, -Oz): gcc keeps every
	// literal byte-aligned. Otherwise gcc aligns literals of 31 bytes or
	// more (with their NUL) to 8 when optimising.
	SizeOpt bool
}

func (r StringRule) section(s string) (name string, align int) {
	if !r.SizeOpt && len(s)+1 >= 31 {
		return ".rodata.str1.8", 8
	}
	return ".rodata.str1.1", 1
}

// Unit collects the sites of one translation unit and renders them as one
// top-level asm statement. Strings are stored once per unit.
type Unit struct {
	// Local makes the site symbols local to the object (for code that
	// defines the same table in several units of a program, as tests do);
	// by default they are global and hidden, which link-time optimisation
	// needs.
	Local   bool
	id      string
	rule    StringRule
	entries []logfile.Descriptor
	strs    map[string]int // string → label number
	order   []string
}

// NewUnit starts the table of a unit; id must differ between the units of
// one program (a hash of the unit's text and its object's name).
func NewUnit(id string, rule StringRule) *Unit {
	return &Unit{id: id, rule: rule, strs: map[string]int{}}
}

// Add appends a site and returns the symbol the rewritten call refers to.
func (u *Unit) Add(e logfile.Descriptor) string {
	u.entries = append(u.entries, e)
	for _, s := range []string{e.Format, e.File, e.Func} {
		u.str(s)
	}
	for _, a := range e.Args {
		if a.Class == logfile.ClassConstStr {
			u.str(a.Str)
		}
	}
	return SymbolName(u.id, len(u.entries)-1)
}

// Entries returns the sites added, in order.
func (u *Unit) Entries() []logfile.Descriptor { return u.entries }

// Len is the number of sites added.
func (u *Unit) Len() int { return len(u.entries) }

func (u *Unit) str(s string) string {
	if i := strings.IndexByte(s, 0); i >= 0 {
		s = s[:i] // C reads up to the NUL
	}
	n, ok := u.strs[s]
	if !ok {
		n = len(u.order)
		u.strs[s] = n
		u.order = append(u.order, s)
	}
	return fmt.Sprintf(".Llogpack_%s_s%d", u.id, n)
}

// Prelude returns logpack_site.h with comments and preprocessor lines
// removed, ready to paste at the top of an already preprocessed
// translation unit (which the compiler reads without running cpp again).
func Prelude() []byte {
	var out bytes.Buffer
	inComment := false
	sc := bufio.NewScanner(bytes.NewReader(lpruntime.SiteHeader()))
	for sc.Scan() {
		line := sc.Text()
		var kept strings.Builder
		for i := 0; i < len(line); i++ {
			switch {
			case inComment:
				if strings.HasPrefix(line[i:], "*/") {
					inComment = false
					i++
				}
			case strings.HasPrefix(line[i:], "/*"):
				inComment = true
				i++
			default:
				kept.WriteByte(line[i])
			}
		}
		s := strings.TrimRight(kept.String(), " \t")
		if strings.TrimSpace(s) == "" || strings.HasPrefix(strings.TrimSpace(s), "#") {
			continue
		}
		out.WriteString(s)
		out.WriteByte('\n')
	}
	return out.Bytes()
}

// Decls returns the C declarations of the unit's site symbols.
func (u *Unit) Decls() string {
	var b strings.Builder
	for i := range u.entries {
		fmt.Fprintf(&b, "extern struct logpack_site %s __attribute__((visibility(\"hidden\")));\n", SymbolName(u.id, i))
	}
	return b.String()
}

// Asm returns the unit's table as a C top-level asm statement.
func (u *Unit) Asm() string {
	if len(u.entries) == 0 {
		return ""
	}
	var a strings.Builder
	a.WriteString("\t.pushsection " + Section + ",\"aw\",@progbits\n")
	for i := range u.entries {
		u.entryAsm(&a, i)
	}
	a.WriteString("\t.popsection\n")
	for _, s := range u.order {
		name, align := u.rule.section(s)
		fmt.Fprintf(&a, "\t.pushsection %s,\"aMS\",@progbits,1\n", name)
		if align > 1 {
			fmt.Fprintf(&a, "\t.balign %d\n", align)
		}
		fmt.Fprintf(&a, "%s:\n\t.string %s\n\t.popsection\n", u.str(s), asmString(s))
	}
	return "__asm__(" + CString([]byte(a.String())) + ");\n"
}

func (u *Unit) entryAsm(a *strings.Builder, i int) {
	e := &u.entries[i]
	sym := SymbolName(u.id, i)
	rel := func(s string) string { return u.str(s) + "-" + sym }
	fmt.Fprintf(a, "\t.balign %d\n", EntryAlign)
	if !u.Local {
		fmt.Fprintf(a, "\t.globl %s\n\t.hidden %s\n", sym, sym)
	}
	fmt.Fprintf(a, "\t.type %s,@object\n%s:\n", sym, sym)
	a.WriteString("\t.quad 0\n")
	fmt.Fprintf(a, "\t.long %s, %s, %s, %d\n", rel(e.Format), rel(e.File), rel(e.Func), uint32(e.Line))
	fmt.Fprintf(a, "\t.byte %d, %d, %d, %d\n", e.Level, e.Flags, e.TextLevel, len(e.Args))
	for _, arg := range e.Args {
		fmt.Fprintf(a, "\t.byte %d\n", arg.Class)
		switch arg.Class {
		case fmtdb.ClassStrMax:
			if arg.BoundArg >= 0 {
				asmVarint(a, 2*uint64(arg.BoundArg)+1)
			} else {
				asmVarint(a, 2*uint64(arg.Bound))
			}
		case logfile.ClassConstStr:
			fmt.Fprintf(a, "\t.long %s\n", rel(arg.Str))
		case logfile.ClassConstInt:
			asmVarint(a, logfile.ZigzagEncode(int64(arg.Bits)))
		case logfile.ClassConstUint:
			asmVarint(a, arg.Bits)
		}
	}
	fmt.Fprintf(a, "\t.size %s, .-%s\n", sym, sym)
}

// asmVarint emits v as a varint (docs/FORMAT.md).
func asmVarint(a *strings.Builder, v uint64) {
	for v >= 0x80 {
		fmt.Fprintf(a, "\t.byte %d\n", v&0x7f|0x80)
		v >>= 7
	}
	fmt.Fprintf(a, "\t.byte %d\n", v)
}

// asmString renders s as a GNU as string literal: printable ASCII as is,
// everything else as three-digit octal escapes (\x would run on into the
// next hex digit).
func asmString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c >= 0x20 && c < 0x7f:
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "\\%03o", c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// CString renders bytes as a C string literal that any C compiler reads
// back to exactly these bytes (octal escapes cannot run on into the next
// character the way \x escapes can; '?' is escaped against trigraphs).
func CString(p []byte) string {
	b := make([]byte, 0, len(p)+len(p)/4+2)
	b = append(b, '"')
	for _, c := range p {
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c == '?':
			b = append(b, '\\', '?')
		case c == '\n':
			b = append(b, '\\', 'n')
		case c >= 0x20 && c < 0x7f:
			b = append(b, c)
		default:
			b = append(b, '\\', '0'+c>>6, '0'+c>>3&7, '0'+c&7)
		}
	}
	b = append(b, '"')
	return string(b)
}

// Describe renders an entry on one line, for tests and diagnostics:
// level, text level, flags, position, format and arguments.
func Describe(e *logfile.Descriptor) string {
	var b strings.Builder
	lv := strconv.Itoa(int(e.Level))
	if e.Level == fmtdb.LevelRuntime {
		lv = "run-time"
	}
	fmt.Fprintf(&b, "level %s", lv)
	if e.TextLevel != logfile.TextLevelNone {
		fmt.Fprintf(&b, " text<=%d", e.TextLevel)
	}
	if e.Flags&logfile.DescPrefix != 0 {
		b.WriteString(" prefix")
	}
	fmt.Fprintf(&b, " %s:%d %s %q", e.File, e.Line, e.Func, e.Format)
	for _, a := range e.Args {
		switch a.Class {
		case logfile.ClassConstStr:
			fmt.Fprintf(&b, " str=%q", a.Str)
		case logfile.ClassConstInt:
			fmt.Fprintf(&b, " int=%d", int64(a.Bits))
		case logfile.ClassConstUint:
			fmt.Fprintf(&b, " uint=%d", a.Bits)
		default:
			b.WriteString(" " + fmtdb.FormatArgSpec(fmtdb.ArgSpec{Class: a.Class, Bound: a.Bound, BoundArg: a.BoundArg}))
		}
	}
	return b.String()
}
