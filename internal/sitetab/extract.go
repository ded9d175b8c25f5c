package sitetab

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/logpack/logpack/fmtdb"
	"github.com/logpack/logpack/internal/logfile"
)

// ErrNotELF is wrapped by Extract's error for a file that is not an ELF
// object at all.
var ErrNotELF = errors.New("not an ELF file")

// maxString bounds one string of a table read from a file: a hostile file
// must not make the reader allocate without limit.
const maxString = 1 << 20

// Extract reads the site table of an executable, shared library or
// relocatable object (x86-64 ELF), in section order. A file without the
// section has no sites. In a relocatable object (a .o, or ld -r's
// built-in.o) the string offsets are still relocations, which it applies.
func Extract(r io.ReaderAt) ([]logfile.Descriptor, error) {
	f, err := elf.NewFile(r)
	if err != nil {
		var fe *elf.FormatError
		if errors.As(err, &fe) {
			return nil, fmt.Errorf("%w (%v)", ErrNotELF, err)
		}
		return nil, err
	}
	defer f.Close()
	if f.Class != elf.ELFCLASS64 || f.Data != elf.ELFDATA2LSB {
		return nil, errors.New("only 64-bit little-endian ELF files are supported")
	}
	if f.Type != elf.ET_EXEC && f.Type != elf.ET_DYN && f.Type != elf.ET_REL {
		return nil, fmt.Errorf("ELF type %v holds no sites", f.Type)
	}
	sec := f.Section(Section)
	if sec == nil {
		return nil, nil
	}
	if sec.Type == elf.SHT_NOBITS {
		return nil, fmt.Errorf("section %s has no data", Section)
	}
	data, err := sec.Data()
	if err != nil {
		return nil, fmt.Errorf("section %s: %w", Section, err)
	}
	var str func(entry, field int, rel int32) (string, error)
	if f.Type == elf.ET_REL {
		rs, err := newRelocated(f, sec)
		if err != nil {
			return nil, err
		}
		str = rs.str
	} else {
		str = func(entry, field int, rel int32) (string, error) {
			return readCString(f, uint64(int64(sec.Addr)+int64(entry)+int64(rel)))
		}
	}
	var out []logfile.Descriptor
	for off := 0; off+OffArgs <= len(data); {
		if allZero(data[off : off+OffArgs]) {
			off += EntryAlign // padding between the tables of two objects
			continue
		}
		e, n, err := parseEntry(data, off, str)
		if err != nil {
			return nil, fmt.Errorf("site at %s+%#x: %w", Section, off, err)
		}
		out = append(out, e)
		off = (off + n + EntryAlign - 1) &^ (EntryAlign - 1)
	}
	return out, nil
}

func parseEntry(data []byte, off int, str func(entry, field int, rel int32) (string, error)) (logfile.Descriptor, int, error) {
	le := binary.LittleEndian
	b := data[off:]
	var e logfile.Descriptor
	var err error
	field := func(at int) string {
		if err != nil {
			return ""
		}
		var s string
		s, err = str(off, at, int32(le.Uint32(b[at:])))
		return s
	}
	e.Format = field(OffFormat)
	e.File = field(OffFile)
	e.Func = field(OffFunc)
	if err != nil {
		return e, 0, err
	}
	e.Line = int(le.Uint32(b[OffLine:]))
	e.Level, e.Flags, e.TextLevel = b[OffLevel], b[OffFlags], b[OffTextLevel]
	n := int(b[OffNargs])
	p := OffArgs
	for i := 0; i < n; i++ {
		if p >= len(b) {
			return e, 0, errors.New("argument list cut short")
		}
		a := logfile.DescArg{Class: fmtdb.Class(b[p]), BoundArg: -1}
		p++
		switch a.Class {
		case fmtdb.ClassStrMax:
			v, k := binary.Uvarint(b[p:])
			if k <= 0 {
				return e, 0, errors.New("bad bound")
			}
			p += k
			if v&1 != 0 {
				a.BoundArg = int(v >> 1)
			} else {
				a.Bound = int(v >> 1)
			}
		case logfile.ClassConstStr:
			if p+4 > len(b) {
				return e, 0, errors.New("argument list cut short")
			}
			a.Str = field(p)
			if err != nil {
				return e, 0, err
			}
			p += 4
		case logfile.ClassConstInt, logfile.ClassConstUint:
			v, k := binary.Uvarint(b[p:])
			if k <= 0 {
				return e, 0, errors.New("bad constant")
			}
			p += k
			a.Bits = v
			if a.Class == logfile.ClassConstInt {
				a.Bits = uint64(logfile.Zigzag(v))
			}
		default:
			if a.Class == fmtdb.ClassInvalid || a.Class > fmtdb.ClassStrMax {
				return e, 0, fmt.Errorf("unknown argument class %d", a.Class)
			}
		}
		e.Args = append(e.Args, a)
	}
	return e, p, nil
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// readCString reads a NUL-terminated string at a virtual address from the
// loadable segment holding it.
func readCString(f *elf.File, addr uint64) (string, error) {
	for _, p := range f.Progs {
		if p.Type != elf.PT_LOAD || addr < p.Vaddr || addr >= p.Vaddr+p.Filesz {
			continue
		}
		return cstringAt(p, int64(addr-p.Vaddr), int64(p.Filesz))
	}
	return "", fmt.Errorf("address %#x is in no loaded segment", addr)
}

func cstringAt(r io.ReaderAt, off, size int64) (string, error) {
	var out []byte
	buf := make([]byte, 256)
	for off < size && len(out) < maxString {
		n := int64(len(buf))
		if off+n > size {
			n = size - off
		}
		k, err := r.ReadAt(buf[:n], off)
		if k == 0 && err != nil {
			return "", err
		}
		if i := bytes.IndexByte(buf[:k], 0); i >= 0 {
			return string(append(out, buf[:i]...)), nil
		}
		out = append(out, buf[:k]...)
		off += int64(k)
	}
	return "", errors.New("string without its NUL")
}

// relocated resolves the string offsets of a relocatable object's table:
// each is an R_X86_64_PC32 relocation against the section holding the
// string (symbol + addend).
type relocated struct {
	f    *elf.File
	syms []elf.Symbol
	at   map[uint64]rela
}

type rela struct {
	sym    uint32
	addend int64
}

func newRelocated(f *elf.File, sec *elf.Section) (*relocated, error) {
	var rs *elf.Section
	for _, s := range f.Sections {
		if s.Type == elf.SHT_RELA && int(s.Info) < len(f.Sections) && f.Sections[s.Info] == sec {
			rs = s
		}
	}
	if rs == nil {
		return nil, fmt.Errorf("section %s has no relocations", Section)
	}
	rd, err := rs.Data()
	if err != nil {
		return nil, err
	}
	syms, err := f.Symbols()
	if err != nil {
		return nil, err
	}
	r := &relocated{f: f, syms: syms, at: map[uint64]rela{}}
	le := binary.LittleEndian
	for i := 0; i+24 <= len(rd); i += 24 {
		info := le.Uint64(rd[i+8:])
		if elf.R_X86_64(info&0xffffffff) == elf.R_X86_64_PC32 {
			r.at[le.Uint64(rd[i:])] = rela{uint32(info >> 32), int64(le.Uint64(rd[i+16:]))}
		}
	}
	return r, nil
}

func (r *relocated) str(entry, field int, _ int32) (string, error) {
	t, ok := r.at[uint64(entry+field)]
	// Symbols() leaves out the null symbol: index i is syms[i-1].
	if !ok || t.sym < 1 || int(t.sym) > len(r.syms) {
		return "", errors.New("no relocation for a string offset")
	}
	sym := r.syms[t.sym-1]
	if int(sym.Section) <= 0 || int(sym.Section) >= len(r.f.Sections) {
		return "", fmt.Errorf("string symbol %q is not defined here", sym.Name)
	}
	s := r.f.Sections[sym.Section]
	// The field holds string - entry = S + A - P at link time, and the
	// assembler made A = string - S + (P - entry): the string sits at
	// S + A - (P - entry).
	start := int64(sym.Value) + t.addend - int64(field)
	if start < 0 || uint64(start) >= s.Size {
		return "", errors.New("string outside its section")
	}
	return cstringAt(s, start, int64(s.Size))
}

// ExtractFile reads the sites of an ELF file as the format database
// describes them (the table's entries folded as a decoder folds the log's
// descriptors), and the file's build ID (its GNU build ID note, in hex; ""
// without one). Errors name the file.
func ExtractFile(path string) (sites []fmtdb.Site, buildID string, err error) {
	file, err := os.Open(path)
	if err != nil {
		return nil, "", err
	}
	defer file.Close()
	var magic [len(elf.ELFMAG)]byte
	n, _ := io.ReadFull(file, magic[:])
	if string(magic[:n]) != elf.ELFMAG {
		what := "it is empty"
		if n > 0 {
			what = fmt.Sprintf("it starts with %q", magic[:n])
		}
		return nil, "", fmt.Errorf("%s: not an ELF file (a program, shared library or object file starts with %q; %s)", path, elf.ELFMAG, what)
	}
	entries, err := Extract(file)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", path, err)
	}
	for i := range entries {
		s, _, err := entries[i].Site()
		if err != nil {
			return nil, "", fmt.Errorf("%s: site %d (%s:%d): %w", path, i, entries[i].File, entries[i].Line, err)
		}
		sites = append(sites, s)
	}
	return sites, gnuBuildID(file), nil
}

// gnuBuildID returns the file's GNU build ID note in hex, or "".
func gnuBuildID(r io.ReaderAt) string {
	f, err := elf.NewFile(r)
	if err != nil {
		return ""
	}
	defer f.Close()
	for _, s := range f.Sections {
		if s.Type != elf.SHT_NOTE {
			continue
		}
		b, err := s.Data()
		if err != nil {
			continue
		}
		le := binary.LittleEndian
		for len(b) >= 12 {
			nsz, dsz, typ := le.Uint32(b), le.Uint32(b[4:]), le.Uint32(b[8:])
			name := 12 + (int(nsz)+3)&^3
			end := name + (int(dsz)+3)&^3
			if nsz > 1<<16 || dsz > 1<<16 || end > len(b) {
				break
			}
			if typ == 3 /* NT_GNU_BUILD_ID */ && nsz == 4 && string(b[12:15]) == "GNU" {
				return hex.EncodeToString(b[name : name+int(dsz)])
			}
			b = b[end:]
		}
	}
	return ""
}
