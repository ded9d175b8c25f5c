// Package corpus generates a C source tree shaped like CRIU's logging (the
// census in CRIU-LOGGING.md): many files with per-file LOG_PREFIX, the
// pr_* macro family over print_on_level, PRIx64-style format macros,
// multi-line calls, calls inside #define bodies and #ifdef inside an
// argument list, no-glibc "pie" code with its own tiny printf, an
// assembly file, a shared library, a plugin built in one step, and a
// Makefile in CRIU's style (-Werror, a separate -M dependency pass,
// feature probes from stdin, ld -r). The generated program runs every
// call site with deterministic arguments, so its text log and its decoded
// binary log can be compared line for line.
package corpus

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Config sizes a corpus. The same Config always generates the same tree.
type Config struct {
	Seed  uint64
	Files int // C files with log calls under criu/ (besides main.c)
	Sites int // log call sites to spread over them (approximate: rounded per function)
	// PieSites are calls in the no-glibc code (passed through unrewritten).
	PieSites int
	// Filler is how many lines of ordinary code (loops, structs, string
	// handling: no logging) to generate per call site. The census corpus
	// has none, which makes it far denser in log calls than CRIU (about
	// 30 lines of code per call site); build-time comparisons want both.
	Filler int
}

// Full is the size of the corpus: at least 3,000 call sites in at
// least 50 files.
func Full() Config { return Config{Seed: 1, Files: 60, Sites: 3200, PieSites: 60} }

// Small is a quick corpus for the default tests.
func Small() Config { return Config{Seed: 1, Files: 8, Sites: 400, PieSites: 12} }

// Realistic has CRIU's density of log calls in its code (about one call
// per 30 lines), for build-time benchmarks.
func Realistic() Config { return Config{Seed: 1, Files: 24, Sites: 960, PieSites: 12, Filler: 30} }

// Corpus is a generated tree.
type Corpus struct {
	Config Config
	Files  map[string][]byte // path relative to the root → content

	// Site counts of the main program (criu/criu): every call in glibc
	// code except pr_msg becomes one database entry (run-time levels
	// included); pr_msg (level 0) stays text on stdout.
	Sites     int
	TextSites int // pr_msg calls
	// Outside the program: the plugin's sites and the version unit's,
	// which is compiled twice (into the program and the shared library):
	// its site is in the database twice with the same ID.
	PluginSites  int
	VersionSites int
	PieSites     int // calls in no-glibc code, never rewritten
	LogFiles     int // C files with log calls
}

// Program is the executable the Makefile builds, relative to the root.
const Program = "criu/criu"

// Args are the program's arguments for a run that logs everything into
// logFile; with ts false the text log has no timestamp prefixes.
func Args(logFile string, ts bool) []string {
	a := []string{"-v4", "--log-file", logFile}
	if !ts {
		a = append(a, "--no-ts")
	}
	return a
}

// Write writes the tree under dir.
func (c *Corpus) Write(dir string) error {
	names := make([]string, 0, len(c.Files))
	for n := range c.Files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		p := filepath.Join(dir, n)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, c.Files[n], 0o644); err != nil {
			return err
		}
	}
	return nil
}

// Generate builds the tree for cfg.
func Generate(cfg Config) *Corpus {
	if cfg.Files < 1 {
		cfg.Files = 1
	}
	g := &gen{cfg: cfg, rng: rand.New(rand.NewPCG(cfg.Seed, 0x10c9ac4)), c: &Corpus{Config: cfg, Files: map[string][]byte{}}}
	g.generate()
	return g.c
}

type gen struct {
	cfg Config
	rng *rand.Rand
	c   *Corpus
	// per file state
	file       string
	constSeq   int
	longDone   bool
	fileSites  int
	fillerDone int
	workSeq    int
}

func (g *gen) put(name, body string) { g.c.Files[name] = []byte(body) }

// pick draws an index from weights.
func (g *gen) pick(weights []int) int {
	total := 0
	for _, w := range weights {
		total += w
	}
	r := g.rng.IntN(total)
	for i, w := range weights {
		if r < w {
			return i
		}
		r -= w
	}
	return len(weights) - 1
}

var fileStems = []string{
	"mount", "files", "sockets", "pipes", "namespaces", "cgroup", "mem", "vma", "pagemap",
	"page-xfer", "tty", "net", "tun", "sk-unix", "sk-inet", "sk-packet", "sk-netlink", "eventfd",
	"eventpoll", "signalfd", "inotify", "fanotify", "timerfd", "fsnotify", "autofs", "proc_parse",
	"cr-dump", "cr-restore", "cr-check", "pstree", "seccomp", "sysctl", "kerndat", "image",
	"protobuf", "irmap", "file-lock", "file-ids", "fifo", "filesystems", "shmem", "sysvipc",
	"uts_ns", "user_ns", "pid_ns", "time_ns", "cgroup-props", "action-scripts", "lsm", "apparmor",
	"bpfmap", "memfd", "fdstore", "pidfd", "rst-malloc", "restorer-blob", "parasite-syscall",
	"aio", "vdso", "cr-errno", "stats", "crtools", "config", "cr-service", "lazy-pages", "uffd",
	"page-pipe", "pie-util-fd", "infect-rpc", "sk-queue",
}

func cIdent(stem string) string { return strings.NewReplacer("-", "_", ".", "_").Replace(stem) }

func (g *gen) generate() {
	cfg := g.cfg
	g.put("include/log.h", logH)
	g.put("include/util.h", utilH)
	g.put("include/asm-answer.h", asmAnswerH)
	g.put("criu/log.c", logC)
	g.put("criu/util.c", utilC)
	g.put("criu/arch/x86/answer.S", answerS)
	g.put("lib/corpus-lib.c", libC)
	g.put("Makefile", makefile)

	var stems []string
	for i := 0; i < cfg.Files; i++ {
		s := fileStems[i%len(fileStems)]
		if i >= len(fileStems) {
			s = fmt.Sprintf("%s%d", s, i/len(fileStems)+1)
		}
		stems = append(stems, s)
	}
	per := cfg.Sites / cfg.Files
	for i, s := range stems {
		n := per
		if i < cfg.Sites%cfg.Files {
			n++
		}
		g.genFile(s, n, i == 0)
	}
	g.c.LogFiles = len(stems)
	g.genMain(stems)
	g.genVersion()
	g.genPlugin()
	g.genPie()
}

// ---- call generation ----

// conv is one printf conversion with the C expression it prints.
type conv struct {
	spec string // "%#08x", "%\" PRIx64 \"" ...
	args []string
}

var convWeights = []struct {
	name string
	w    int
}{
	{"d", 1645}, {"s", 1141}, {"lx", 429}, {"x", 402}, {"u", 165}, {"ld", 73}, {"p", 58},
	{"lu", 54}, {"zu", 51}, {"o", 16}, {"llu", 16}, {"llx", 15}, {"zd", 13}, {"zx", 10},
	{"li", 6}, {"c", 5}, {"ju", 4}, {"lld", 4}, {"i", 2}, {"zi", 1},
	{"PRIx64", 119}, {"PRIu64", 14}, {"PRId64", 10}, {"PRIx32", 3}, {"PRIu32", 2},
	{"*s", 2}, {".*s", 2},
}

func (g *gen) k() int { g.constSeq++; return 3 + g.rng.IntN(997) }

// argExpr is a deterministic C expression of the function parameter a.
func (g *gen) conv() conv {
	ws := make([]int, len(convWeights))
	for i, c := range convWeights {
		ws[i] = c.w
	}
	name := convWeights[g.pick(ws)].name
	k := g.k()
	flags := ""
	intFlags := func(hex bool) {
		switch r := g.rng.IntN(100); {
		case hex && r < 18:
			flags = "#"
			if g.rng.IntN(4) == 0 {
				flags = "#08"
			}
		case r < 24:
			flags = fmt.Sprint(2 + g.rng.IntN(14))
		case r < 28:
			flags = "0" + fmt.Sprint(2+g.rng.IntN(15))
		case r < 31:
			flags = "-" + fmt.Sprint(2+g.rng.IntN(6))
		}
	}
	switch name {
	case "d", "i":
		intFlags(false)
		return conv{"%" + flags + name, []string{fmt.Sprintf("a + %d", k)}}
	case "c":
		return conv{"%c", []string{fmt.Sprintf("'A' + ((a + %d) & 15)", k)}}
	case "u", "x", "o":
		intFlags(name != "u")
		return conv{"%" + flags + name, []string{fmt.Sprintf("(unsigned int)a * %du", k)}}
	case "ld", "li":
		intFlags(false)
		return conv{"%" + flags + name, []string{fmt.Sprintf("(long)a * -%dL", k*1000003)}}
	case "lx", "lu":
		intFlags(name == "lx")
		if name == "lx" && g.rng.IntN(10) == 0 {
			flags = "#016"
		}
		return conv{"%" + flags + name, []string{fmt.Sprintf("(unsigned long)a * %dUL", k*7919)}}
	case "lld":
		return conv{"%lld", []string{fmt.Sprintf("(long long)a * %dLL", k*65537)}}
	case "llu", "llx":
		intFlags(name == "llx")
		return conv{"%" + flags + name, []string{fmt.Sprintf("(unsigned long long)a * %dULL", k*104729)}}
	case "zu", "zx":
		return conv{"%" + name, []string{fmt.Sprintf("(size_t)a * %d", k)}}
	case "zd", "zi":
		return conv{"%" + name, []string{fmt.Sprintf("(ssize_t)a * %d", k)}}
	case "ju":
		return conv{"%ju", []string{fmt.Sprintf("(uintmax_t)a * %d", k)}}
	case "p":
		return conv{"%p", []string{fmt.Sprintf("corpus_ptr(a + %d)", k)}}
	case "s":
		if g.rng.IntN(40) == 0 {
			return conv{"%s", []string{fmt.Sprintf("corpus_str_or_null(a + %d)", k)}}
		}
		if g.rng.IntN(30) == 0 {
			return conv{"%-12s", []string{fmt.Sprintf("corpus_str(a + %d)", k)}}
		}
		return conv{"%s", []string{fmt.Sprintf("corpus_str(a + %d)", k)}}
	case "*s":
		return conv{"%*s", []string{fmt.Sprintf("(a & 7) + %d", k%9), fmt.Sprintf("corpus_str(a + %d)", k)}}
	case ".*s":
		return conv{"%.*s", []string{fmt.Sprintf("(a & 3) + %d", k%5), fmt.Sprintf("corpus_str(a + %d)", k)}}
	case "PRIx64":
		p := "%\" PRIx64 \""
		if g.rng.IntN(3) == 0 {
			p = "%#\" PRIx64 \""
		}
		return conv{p, []string{fmt.Sprintf("(uint64_t)a * %dUL", k*2654435761)}}
	case "PRIu64":
		return conv{"%\" PRIu64 \"", []string{fmt.Sprintf("(uint64_t)a * %dUL", k*40503)}}
	case "PRId64":
		return conv{"%\" PRId64 \"", []string{fmt.Sprintf("(int64_t)a * -%dL", k*40503)}}
	case "PRIx32":
		return conv{"%\" PRIx32 \"", []string{fmt.Sprintf("(uint32_t)a * %du", k)}}
	case "PRIu32":
		return conv{"%\" PRIu32 \"", []string{fmt.Sprintf("(uint32_t)a * %du", k)}}
	}
	panic("corpus: unknown conversion " + name)
}

var words = []string{
	"can't", "open", "read", "write", "dump", "restore", "mount", "vma", "fd", "pid", "task",
	"pipe", "socket", "image", "entry", "found", "collect", "parse", "failed", "bad", "unexpected",
	"seize", "page", "pages", "cgroup", "namespace", "set", "get", "tty", "link", "unlink", "map",
	"unmap", "inode", "dev", "flags", "size", "id", "for", "of", "on", "with", "at", "in", "to",
}

func (g *gen) text(n int) string {
	var b []string
	for i := 0; i < n; i++ {
		w := words[g.rng.IntN(len(words))]
		switch g.rng.IntN(60) {
		case 0:
			w = "\\\"" + w + "\\\""
		case 1:
			w += "\\t"
		case 2:
			w = "100%%"
		case 3:
			w = "[" + w + "]"
		}
		b = append(b, w)
	}
	return strings.Join(b, " ")
}

// call is one generated log call.
type call struct {
	macro  string // pr_err, pr_perror, ..., or "print_on_level"
	level  string // for print_on_level: a LOG_* name or "lvl" (run time)
	format string // the literal(s) as C text, quotes included
	args   []string
}

var argCountWeights = []int{1696, 1410, 647, 202, 100, 39, 30}

var macroWeights = []struct {
	name string
	w    int
}{
	{"pr_err", 1507}, {"pr_perror", 1203}, {"pr_debug", 559}, {"pr_info", 552}, {"pr_warn", 147},
	{"pr_msg", 44}, {"pr_warn_once", 12}, {"pr_err_once", 12}, {"pr_pwarn", 10},
	{"print_on_level", 24}, {"print_on_level_rt", 12},
}

func (g *gen) call() call {
	ws := make([]int, len(macroWeights))
	for i, m := range macroWeights {
		ws[i] = m.w
	}
	c := call{macro: macroWeights[g.pick(ws)].name}
	if c.macro == "print_on_level" {
		c.level = []string{"LOG_ERROR", "LOG_WARN", "LOG_INFO", "LOG_DEBUG"}[g.rng.IntN(4)]
	} else if c.macro == "print_on_level_rt" {
		c.macro, c.level = "print_on_level", "lvl"
	}
	nargs := g.pick(argCountWeights)
	if nargs == 6 {
		nargs = 6 + g.rng.IntN(3)
	}
	var parts []string
	parts = append(parts, g.text(1+g.rng.IntN(3)))
	for i := 0; i < nargs; i++ {
		cv := g.conv()
		parts = append(parts, cv.spec)
		c.args = append(c.args, cv.args...)
		if g.rng.IntN(3) > 0 {
			parts = append(parts, g.text(1+g.rng.IntN(2)))
		}
	}
	f := strings.Join(parts, " ")
	if c.macro != "pr_perror" && c.macro != "pr_pwarn" {
		f += "\\n"
	}
	// Adjacent literals now and then.
	if g.rng.IntN(50) == 0 {
		if i := strings.Index(f, " "); i > 0 {
			f = f[:i] + " \" \"" + f[i+1:]
		}
	}
	c.format = "\"" + f + "\""
	return c
}

// render writes the call; multi-line calls put each argument on its own
// line, sometimes with a comment between arguments.
func (g *gen) render(c call, indent string, multi bool) string {
	var head string
	if c.macro == "print_on_level" {
		head = "print_on_level(" + c.level + ", "
	} else {
		head = c.macro + "("
	}
	if !multi || len(c.args) == 0 {
		s := head + c.format
		for _, a := range c.args {
			s += ", " + a
		}
		return indent + s + ");"
	}
	var b strings.Builder
	b.WriteString(indent + head + c.format + ",\n")
	for i, a := range c.args {
		b.WriteString(indent + "\t" + a)
		if i < len(c.args)-1 {
			b.WriteString(",")
			if g.rng.IntN(5) == 0 {
				b.WriteString(" /* " + words[g.rng.IntN(len(words))] + ", (x) */")
			}
		}
		if i == len(c.args)-1 {
			b.WriteString(");")
		}
		b.WriteString("\n")
	}
	return strings.TrimSuffix(b.String(), "\n")
}

func (g *gen) count(c call) {
	if c.macro == "pr_msg" {
		g.c.TextSites++
		return
	}
	g.c.Sites++
	g.fileSites++
}

// ---- files ----

func (g *gen) genFile(stem string, nsites int, withLong bool) {
	id := cIdent(stem)
	g.file = "criu/" + stem + ".c"
	var b strings.Builder
	fmt.Fprintf(&b, "/* %s.c: generated CRIU-like logging, %d call sites. */\n", stem, nsites)
	b.WriteString("#include <errno.h>\n#include <stdint.h>\n#include <stdio.h>\n#include <string.h>\n#include <sys/types.h>\n\n")
	b.WriteString("#include \"log.h\"\n#include \"util.h\"\n\n")
	if g.rng.IntN(8) != 0 {
		fmt.Fprintf(&b, "#undef LOG_PREFIX\n#define LOG_PREFIX \"%s: \"\n\n", strings.ReplaceAll(stem, "_", "-"))
	}
	// A call inside a #define body, used twice (two sites: one per line).
	macro := strings.ToUpper(id) + "_CHECK"
	fmt.Fprintf(&b, "#define %s(x, what)\t\t\t\t\t\\\n\tdo {\t\t\t\t\t\t\\\n\t\tif ((x) < 0)\t\t\t\t\\\n\t\t\tpr_debug(\"%s: %%s is %%d\\n\", what, (x));\t\\\n\t} while (0)\n\n", macro, id)

	remaining := nsites
	fn := 0
	var fns, works []string
	g.fileSites, g.fillerDone = 0, 0
	first := true
	for remaining > 0 {
		name := fmt.Sprintf("%s_step%d", id, fn)
		fns = append(fns, name)
		fn++
		fmt.Fprintf(&b, "static int %s(int a)\n{\n", name)
		b.WriteString("\tunsigned int lvl = ((unsigned int)a & 3) + 1;\n\tint ret = 0;\n\n")
		fmt.Fprintf(&b, "\terrno = %d + (a & 7);\n", 1+g.rng.IntN(30))
		budget := 4 + g.rng.IntN(10)
		if first {
			// The two uses of the #define'd call.
			fmt.Fprintf(&b, "\t%s(-a, \"minus a\");\n\t%s(a, \"a\");\n", macro, macro)
			g.c.Sites += 2
			g.fileSites += 2
			remaining -= 2
			first = false
		}
		if withLong && !g.longDone && remaining > 0 {
			g.longDone = true
			b.WriteString(g.longCall())
			g.c.Sites++
			remaining--
		}
		for budget > 0 && remaining > 0 {
			budget--
			switch r := g.rng.IntN(100); {
			case r < 8 && remaining >= 2: // unbraced if/else
				c1, c2 := g.call(), g.call()
				fmt.Fprintf(&b, "\tif (a > 0)\n%s\n\telse\n%s\n", g.render(c1, "\t\t", false), g.render(c2, "\t\t", false))
				g.count(c1)
				g.count(c2)
				remaining -= 2
			case r < 13 && remaining >= 2: // switch with a fall-through comment
				c1, c2 := g.call(), g.call()
				fmt.Fprintf(&b, "\tswitch (a > 0 ? 2 : 1) {\n\tcase 2:\n%s\n\t\t/* fall through */\n\tcase 1:\n%s\n\t\tbreak;\n\tdefault:\n\t\tret = -1;\n\t}\n",
					g.render(c1, "\t\t", false), g.render(c2, "\t\t", false))
				g.count(c1)
				g.count(c2)
				remaining -= 2
			case r < 16: // inside a braced block
				c := g.call()
				fmt.Fprintf(&b, "\tif (a != 0) {\n\t\tret |= 0;\n%s\n\t}\n", g.render(c, "\t\t", false))
				g.count(c)
				remaining--
			default:
				c := g.call()
				b.WriteString(g.render(c, "\t", g.rng.IntN(100) < 8) + "\n")
				g.count(c)
				remaining--
			}
		}
		b.WriteString("\t(void)lvl;\n\treturn ret;\n}\n\n")
		if g.cfg.Filler > 0 {
			// Ordinary code in proportion to the calls just written.
			lines := (g.fileSites - g.fillerDone) * g.cfg.Filler
			g.fillerDone = g.fileSites
			for ; lines > 0; lines -= 30 {
				w := fmt.Sprintf("%s_work%d", id, g.workSeq)
				g.workSeq++
				b.WriteString(g.filler(w))
				works = append(works, w)
			}
		}
	}
	fns = append(fns, works...)
	fmt.Fprintf(&b, "int run_%s(int a)\n{\n\tint ret = 0;\n\n", id)
	for _, f := range fns {
		fmt.Fprintf(&b, "\tret |= %s(a);\n", f)
	}
	b.WriteString("\treturn ret;\n}\n")
	g.put(g.file, b.String())
}

// longCall is CRIU's longest call: one pr_info spanning well over a
// hundred lines, with #ifdef inside its argument list.
func (g *gen) longCall() string {
	var b strings.Builder
	const n = 20
	b.WriteString("\tpr_info(\"features:")
	for i := 0; i < n; i++ {
		b.WriteString(" %s")
	}
	b.WriteString("\\n\",\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "\t\t/* feature %d */\n#ifdef CONFIG_HAS_PROBE\n\t\t\"probe%d\"\n#else\n\t\t\"noprobe%d\"\n#endif\n", i, i, i)
		if i < n-1 {
			b.WriteString("\t\t,\n")
		}
	}
	b.WriteString("\t);\n")
	return b.String()
}

func (g *gen) genMain(stems []string) {
	var b strings.Builder
	b.WriteString(mainHead)
	for _, s := range stems {
		fmt.Fprintf(&b, "int run_%s(int a);\n", cIdent(s))
	}
	b.WriteString(mainBody1)
	for i, s := range stems {
		fmt.Fprintf(&b, "\tret |= run_%s(%d);\n\tret |= run_%s(-%d);\n", cIdent(s), 2*i+1, cIdent(s), 2*i+3)
	}
	b.WriteString(strings.Replace(mainBody2, "CHILD_RUN", fmt.Sprintf("ret = run_%s(%d)", cIdent(stems[0]), 1001), 1))
	g.c.Sites += mainSites
	g.c.TextSites += mainTextSites
	g.put("criu/main.c", b.String())
}

func (g *gen) genVersion() {
	g.put("criu/version.c.in", versionC)
	g.c.VersionSites = 1
}

func (g *gen) genPlugin() {
	var b strings.Builder
	b.WriteString("/* A plugin built and linked in one step from its own directory. */\n#include <stdint.h>\n#include \"log.h\"\n#include \"util.h\"\n\n#undef LOG_PREFIX\n#define LOG_PREFIX \"demo-plugin: \"\n\n")
	b.WriteString("int demo_plugin_init(int a)\n{\n\tunsigned int lvl = ((unsigned int)a & 3) + 1;\n\tint ret = 0;\n\n")
	g.fileSites = 0
	for i := 0; i < 6; i++ {
		c := g.call()
		if c.macro == "pr_msg" {
			c.macro = "pr_info"
		}
		b.WriteString(g.render(c, "\t", false) + "\n")
		g.c.PluginSites++
	}
	b.WriteString("\t(void)lvl;\n\treturn ret;\n}\n")
	g.put("plugins/demo/demo-plugin.c", b.String())
}

// genPie writes the no-glibc code: the same log macros over a tiny
// printf (only %s %d %x %p %u with l/ll/z, as CRIU's), never rewritten.
func (g *gen) genPie() {
	var b strings.Builder
	b.WriteString(pieHead)
	convs := []struct{ spec, expr string }{
		{"%d", "a + %d"}, {"%u", "(unsigned int)a * %du"}, {"%x", "(unsigned int)a * %du"},
		{"%lx", "(unsigned long)a * %dUL"}, {"%ld", "(long)a * %d"}, {"%s", "\"pie%d\""},
		{"%p", "(void *)(unsigned long)(0x1000 + %d)"}, {"%zu", "(unsigned long)%d"}, {"%llu", "(unsigned long long)a * %dULL"},
	}
	b.WriteString("void pie_run(int a)\n{\n")
	for i := 0; i < g.cfg.PieSites; i++ {
		macro := []string{"pr_info", "pr_debug", "pr_err", "pr_warn"}[g.rng.IntN(4)]
		n := g.rng.IntN(3)
		f := g.text(1 + g.rng.IntN(2))
		f = strings.NewReplacer("\\\"", "", "\\t", "", "100%%", "all", "[", "", "]", "").Replace(f)
		var args []string
		for j := 0; j < n; j++ {
			cv := convs[g.rng.IntN(len(convs))]
			f += " " + cv.spec
			args = append(args, fmt.Sprintf(cv.expr, g.k()))
		}
		s := "\t" + macro + "(\"" + f + "\\n\""
		for _, a := range args {
			s += ", " + a
		}
		b.WriteString(s + ");\n")
		g.c.PieSites++
	}
	b.WriteString("}\n")
	g.put("criu/pie/parasite.c", b.String())
	g.put("criu/pie/log-simple.c", pieLogC)
}

// filler is about 30 lines of ordinary C with no logging, in one of a few
// shapes, so that the compiler has CRIU-like work besides the log calls.
func (g *gen) filler(name string) string {
	k1, k2, k3 := g.k(), g.k(), g.k()
	switch g.rng.IntN(3) {
	case 0:
		return fmt.Sprintf(`struct %[1]s_ent {
	int id;
	unsigned long flags;
	char name[24];
	struct %[1]s_ent *next;
};

static int %[1]s(int a)
{
	struct %[1]s_ent ents[8], *e;
	unsigned long acc = %[2]dUL;
	int i, j;

	for (i = 0; i < 8; i++) {
		ents[i].id = a * i + %[3]d;
		ents[i].flags = acc ^ ((unsigned long)i << 3);
		for (j = 0; j < (int)sizeof(ents[i].name) - 1; j++)
			ents[i].name[j] = (char)('a' + ((unsigned int)(a + i * j) %% 26));
		ents[i].name[j] = '\0';
		ents[i].next = i ? &ents[i - 1] : NULL;
		acc = acc * %[4]dUL + (unsigned long)strlen(ents[i].name);
	}
	for (e = &ents[7]; e; e = e->next)
		if (e->flags & 1)
			acc += (unsigned long)e->id;
	switch (acc %% 4) {
	case 0:
		acc += %[2]dUL;
		break;
	case 1:
		acc ^= %[3]dUL;
		break;
	default:
		acc >>= 1;
	}
	return (int)(acc & 0x7fff);
}

`, name, k1, k2, k3)
	case 1:
		return fmt.Sprintf(`static int %[1]s(int a)
{
	char buf[128], *p, *q;
	unsigned int sum = %[2]du;
	int n;

	n = snprintf(buf, sizeof(buf), "%%d:%%x:%%s", a, (unsigned int)a * %[3]du, "field");
	if (n < 0 || (size_t)n >= sizeof(buf))
		return -1;
	for (p = buf; *p; p = q) {
		q = strchr(p, ':');
		if (!q)
			q = p + strlen(p);
		else
			*q++ = '\0';
		while (*p) {
			sum = sum * 31u + (unsigned char)*p;
			p++;
		}
	}
	if (sum %% 3 == 0)
		sum += %[4]du;
	else if (sum %% 3 == 1)
		sum ^= sum >> 7;
	else
		sum = ~sum;
	memset(buf, 0, sizeof(buf));
	strncpy(buf, "done", sizeof(buf) - 1);
	sum += (unsigned int)strlen(buf);
	sum ^= (unsigned int)a << 2;
	return (int)(sum & 0x7fff);
}

`, name, k1, k2, k3)
	default:
		return fmt.Sprintf(`static int %[1]s(int a)
{
	long vals[16];
	long lo = %[2]d, hi = -%[3]d, total = 0;
	int i;

	for (i = 0; i < 16; i++) {
		vals[i] = (long)a * (i + 1) - %[4]d;
		if (vals[i] < lo)
			lo = vals[i];
		if (vals[i] > hi)
			hi = vals[i];
	}
	for (i = 1; i < 16; i++) {
		long v = vals[i];
		int j = i - 1;

		while (j >= 0 && vals[j] > v) {
			vals[j + 1] = vals[j];
			j--;
		}
		vals[j + 1] = v;
	}
	for (i = 0; i < 16; i += 2)
		total += vals[i] - vals[i + 1];
	total += hi - lo;
	if (total < 0)
		total = -total;
	return (int)(total & 0x7fff);
}

`, name, k1, k2, k3)
	}
}
