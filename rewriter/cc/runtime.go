package cc

import (
	"bytes"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"github.com/logpack/logpack/internal/sitetab"
	lpruntime "github.com/logpack/logpack/runtime"
)

func execve(path string, argv, env []string) error { return syscall.Exec(path, argv, env) }

// Symbols that rewritten code references; a link needs the runtime when
// an input leaves one of them (or an encoder) undefined and none defines
// logpack_emit (a project that vendors the runtime links its own copy).
var runtimeRefs = map[string]bool{"logpack_emit": true, "logpack_emit_level": true, "logpack_recording": true,
	"logpack_text_fd": true}

// symUse is what a link's inputs want from the runtime.
type symUse struct {
	uses, defines bool
	encoders      map[string]bool // encoders referenced and not defined
	defined       map[string]bool // encoders defined (by a vendored copy)
}

func (u *symUse) add(v symUse) {
	u.uses = u.uses || v.uses
	u.defines = u.defines || v.defines
	for n := range v.encoders {
		u.addName(&u.encoders, n)
	}
	for n := range v.defined {
		u.addName(&u.defined, n)
	}
}

func (u *symUse) addName(m *map[string]bool, n string) {
	if *m == nil {
		*m = map[string]bool{}
	}
	(*m)[n] = true
}

// encoderNames lists the encoders the link needs, sorted.
func (u *symUse) encoderNames() []string {
	var out []string
	for n := range u.encoders {
		if !u.defined[n] {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// needsRuntime reports what the link's inputs want from the runtime: the
// objects compiled in this step (own), object files, archives and -l
// libraries found as archives in the -L directories.
func (w *wrapper) needsRuntime(inv *Invocation, own []string) (symUse, error) {
	var u symUse
	var firstErr error
	for _, o := range own {
		v, err := scanLinkInput(o)
		if err != nil && firstErr == nil {
			firstErr = err
		}
		u.add(v)
	}
	for _, in := range inv.Inputs {
		var path string
		switch in.Lang {
		case LangLinker:
			path = in.Path
		case LangLib:
			path = findArchive(in.Path, inv.LibDirs)
		}
		if path == "" {
			continue
		}
		v, err := scanLinkInput(path)
		if err != nil && firstErr == nil {
			firstErr = err
		}
		u.add(v)
	}
	return u, firstErr
}

// EncodersCalled lists the encoders that objects and archives call and do
// not define, sorted: what a runtime linked with them must carry.
func EncodersCalled(paths []string) ([]string, error) {
	var u symUse
	for _, p := range paths {
		if !fileExists(p) {
			return nil, fmt.Errorf("%s: no such file", p)
		}
		v, err := scanLinkInput(p)
		if err != nil {
			return nil, err
		}
		u.add(v)
	}
	return u.encoderNames(), nil
}

// findArchive finds libNAME.a the way the linker would, if a shared
// libNAME.so does not come first in the same directory (a shared library
// carries its own runtime).
func findArchive(name string, dirs []string) string {
	if strings.HasPrefix(name, ":") {
		for _, d := range dirs {
			p := filepath.Join(d, name[1:])
			if strings.HasSuffix(p, ".a") && fileExists(p) {
				return p
			}
		}
		return ""
	}
	for _, d := range dirs {
		if fileExists(filepath.Join(d, "lib"+name+".so")) {
			return ""
		}
		if p := filepath.Join(d, "lib"+name+".a"); fileExists(p) {
			return p
		}
	}
	return ""
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

// scanLinkInput looks at the symbols of an ELF object or every object of
// an ar archive. Other files (scripts, shared libraries) use nothing.
func scanLinkInput(path string) (symUse, error) {
	f, err := os.Open(path)
	if err != nil {
		return symUse{}, nil // the linker reports missing inputs
	}
	defer f.Close()
	var magic [8]byte
	if _, err := io.ReadFull(f, magic[:]); err != nil {
		return symUse{}, nil
	}
	if string(magic[:]) == "!<arch>\n" {
		return scanArchive(f, path)
	}
	if string(magic[:4]) == "\x7fELF" {
		return scanObject(io.NewSectionReader(f, 0, 1<<62), path)
	}
	return symUse{}, nil
}

func scanObject(r io.ReaderAt, name string) (symUse, error) {
	ef, err := elf.NewFile(r)
	if err != nil {
		return symUse{}, fmt.Errorf("%s: %v", name, err)
	}
	defer ef.Close()
	if ef.Type != elf.ET_REL {
		return symUse{}, nil
	}
	var u symUse
	note := func(sym string, undefined bool) {
		if _, _, enc := sitetab.ParseEncoderName(sym); enc {
			if undefined {
				u.uses = true
				u.addName(&u.encoders, sym)
			} else {
				u.addName(&u.defined, sym)
			}
			return
		}
		if !runtimeRefs[sym] {
			return
		}
		if undefined {
			u.uses = true
		} else if sym == "logpack_emit" {
			u.defines = true
		}
	}
	// An object compiled with -flto holds its symbols in GCC's LTO
	// symbol table (a slim one: only there).
	for _, sec := range ef.Sections {
		if strings.HasPrefix(sec.Name, ".gnu.lto_.symtab.") {
			data, err := sec.Data()
			if err != nil {
				return symUse{}, fmt.Errorf("%s: %s: %v", name, sec.Name, err)
			}
			if err := ltoSymbols(data, note); err != nil {
				return symUse{}, fmt.Errorf("%s: %s: %v", name, sec.Name, err)
			}
		}
	}
	syms, err := ef.Symbols()
	if err != nil {
		if err == elf.ErrNoSymbols {
			return u, nil
		}
		return symUse{}, fmt.Errorf("%s: %v", name, err)
	}
	for _, s := range syms {
		note(s.Name, s.Section == elf.SHN_UNDEF)
	}
	return u, nil
}

// ltoSymbols reads GCC's LTO symbol table: per symbol its name and comdat
// group (NUL-terminated), kind (0 defined, 1 weak, 2 undefined, 3 weak
// undefined, 4 common), visibility, size (8 bytes) and slot (4).
func ltoSymbols(data []byte, note func(sym string, undefined bool)) error {
	for len(data) > 0 {
		name, rest, ok := bytes.Cut(data, []byte{0})
		if !ok {
			return errors.New("a symbol name without its end")
		}
		_, rest, ok = bytes.Cut(rest, []byte{0})
		if !ok || len(rest) < 14 {
			return errors.New("a symbol cut short")
		}
		kind := rest[0]
		note(string(name), kind == 2 || kind == 3)
		data = rest[14:]
	}
	return nil
}

// scanArchive walks a System V / GNU ar archive member by member.
func scanArchive(f *os.File, name string) (symUse, error) {
	st, err := f.Stat()
	if err != nil {
		return symUse{}, err
	}
	var u symUse
	off := int64(8)
	hdr := make([]byte, 60)
	for off+60 <= st.Size() {
		if _, err := f.ReadAt(hdr, off); err != nil {
			return u, fmt.Errorf("%s: byte %d: %v", name, off, err)
		}
		size, err := strconv.ParseInt(strings.TrimSpace(string(hdr[48:58])), 10, 64)
		if err != nil || size < 0 || off+60+size > st.Size() || string(hdr[58:60]) != "`\n" {
			return u, fmt.Errorf("%s: byte %d: bad archive member header", name, off)
		}
		mname := strings.TrimSpace(string(hdr[:16]))
		if mname != "/" && mname != "//" && mname != "/SYM64/" {
			sr := io.NewSectionReader(f, off+60, size)
			var m [4]byte
			if _, err := sr.ReadAt(m[:], 0); err == nil && string(m[:]) == "\x7fELF" {
				v, err := scanObject(sr, name+"("+mname+")")
				if err != nil {
					return u, err
				}
				u.add(v)
			}
		}
		off += 60 + size + size&1
	}
	return u, nil
}

// runtimeObj is a compiled runtime in the cache.
type runtimeObj struct {
	path string
}

// runtimeFlags are the compiler options that change which runtime object
// a link can take: code model, ABI, position independence.
func runtimeFlags(inv *Invocation) []string {
	var out []string
	pic := inv.Shared
	for _, a := range inv.Args {
		switch {
		case a == "-m32" || a == "-m64" || a == "-mx32" || a == "-m16":
			out = append(out, a)
		case a == "-fPIC" || a == "-fpic":
			pic = true
		case strings.HasPrefix(a, "-march=") || strings.HasPrefix(a, "-mabi=") || strings.HasPrefix(a, "--sysroot") || strings.HasPrefix(a, "-mcmodel="):
			out = append(out, a)
		}
	}
	if pic {
		out = append(out, "-fPIC")
	}
	return out
}

// runtimeObject compiles the embedded runtime with the encoders the link
// needs, for this compiler and these flags, once into the cache (keyed by
// the runtime's content, the encoders, the compiler and the flags) and
// returns it. Parallel wrappers race harmlessly: each writes a temporary
// file and renames it into place.
func (w *wrapper) runtimeObject(inv *Invocation, encoders []string) (runtimeObj, error) {
	flags := runtimeFlags(inv)
	h := sha256.New()
	files := lpruntime.Files()
	var names []string
	fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			names = append(names, p)
		}
		return nil
	})
	sort.Strings(names)
	for _, n := range names {
		b, _ := fs.ReadFile(files, n)
		fmt.Fprintf(h, "%s %d\n", n, len(b))
		h.Write(b)
	}
	fmt.Fprintf(h, "compiler %s\n", compilerIdentity(w.compiler[len(w.compiler)-1]))
	fmt.Fprintf(h, "flags %q\n", flags)
	fmt.Fprintf(h, "encoders %q\n", encoders)
	key := hex.EncodeToString(h.Sum(nil))[:24]

	dir, err := w.cacheDir()
	if err != nil {
		return runtimeObj{}, err
	}
	obj := filepath.Join(dir, "rt-"+key+".o")
	if fileExists(obj) {
		return runtimeObj{path: obj}, nil
	}
	src, err := os.MkdirTemp(dir, "src-")
	if err != nil {
		return runtimeObj{}, err
	}
	defer os.RemoveAll(src)
	var unity bytes.Buffer
	for _, n := range names {
		b, _ := fs.ReadFile(files, n)
		if err := os.WriteFile(filepath.Join(src, n), b, 0o644); err != nil {
			return runtimeObj{}, err
		}
		if strings.HasSuffix(n, ".c") {
			fmt.Fprintf(&unity, "#include \"%s\"\n", n)
		}
	}
	// The encoders use the runtime's internals: same unit, after it.
	unity.WriteString(sitetab.Encoders(encoders))
	// One unit for all runtime sources: one object to add to links.
	if err := os.WriteFile(filepath.Join(src, "logpack-runtime.c"), unity.Bytes(), 0o644); err != nil {
		return runtimeObj{}, err
	}
	tmpObj := filepath.Join(src, "rt.o")
	args := w.command(flags...)
	args = append(args, "-std=gnu11", "-O2", "-g", "-c", "-o", tmpObj, filepath.Join(src, "logpack-runtime.c"))
	st, _, errOut := w.runQuiet(args)
	if st != 0 {
		return runtimeObj{}, fmt.Errorf("%s failed:\n%s", strings.Join(args, " "), errOut)
	}
	if err := os.Rename(tmpObj, obj); err != nil {
		return runtimeObj{}, err
	}
	return runtimeObj{path: obj}, nil
}

// compilerIdentity names the compiler binary by path, size and time, so a
// compiler upgrade gets a fresh runtime object without running it.
func compilerIdentity(name string) string {
	p, err := lookPath(name)
	if err != nil {
		return name
	}
	if r, err := filepath.EvalSymlinks(p); err == nil {
		p = r
	}
	st, err := os.Stat(p)
	if err != nil {
		return p
	}
	return fmt.Sprintf("%s %d %d", p, st.Size(), st.ModTime().UnixNano())
}

// cacheDir is LOGPACK_CACHE_DIR, else the user cache directory's logpack,
// else one in the temporary directory.
func (w *wrapper) cacheDir() (string, error) {
	var cands []string
	if w.opts.CacheDir != "" {
		cands = append(cands, w.opts.CacheDir)
	}
	if d := os.Getenv("LOGPACK_CACHE_DIR"); d != "" {
		cands = append(cands, d)
	}
	if d, err := os.UserCacheDir(); err == nil {
		cands = append(cands, filepath.Join(d, "logpack"))
	}
	cands = append(cands, filepath.Join(os.TempDir(), fmt.Sprintf("logpack-%d", os.Getuid())))
	var lastErr error
	for _, d := range cands {
		if err := os.MkdirAll(d, 0o755); err != nil {
			lastErr = err
			continue
		}
		probe, err := os.CreateTemp(d, "probe-")
		if err != nil {
			lastErr = err
			continue
		}
		probe.Close()
		os.Remove(probe.Name())
		return d, nil
	}
	return "", fmt.Errorf("no writable cache directory: %v", lastErr)
}
