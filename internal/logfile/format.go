// Package logfile reads and writes the logpack binary log format
// (docs/FORMAT.md) at the level of bytes: the file header, chunk headers,
// record framing, record bodies and argument encodings. It knows nothing
// about rendering; package decoder builds on it.
//
// Every parser here takes a byte slice that the caller has already read and
// never allocates from a length field: a length is checked against the bytes
// that are really there before it is used.
package logfile

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Layout constants of format version 2.
const (
	Magic           = "LOGPACK\n"
	ChunkMagic      = "LPCK"
	Version         = 2
	HeaderSize      = 4096
	Align           = 4096 // chunks start and end on multiples of this
	ChunkHeaderSize = 40
	FirstSiteIndex  = 16 // record tags below this are control records
	MaxBody         = 0xFFFF
	exeField        = 104
	exeFieldSize    = 256
	toTextField     = 360
	headerCheckEnd  = 60
	chunkCheckEnd   = 32
)

// Timestamp kinds (header field ts_kind).
const (
	TSMonotonic = 0 // CLOCK_MONOTONIC nanoseconds
	TSTSC       = 1 // TSC ticks, calibrated by (tsc, mono_ns) pairs
)

// Header flags.
const FlagClosed = 1 // the creator's session ended normally

// Record tags below FirstSiteIndex.
const (
	TagDescriptor = 0
	TagDropped    = 1
	TagClock      = 2
	TagProcess    = 3
	TagTextMark   = 4
	TagCut        = 5
)

// Header is the decoded file header.
type Header struct {
	Version         uint16
	TSKind          uint32
	FileID          uint64
	StartRealtimeNS uint64
	StartMonoNS     uint64
	StartTS         uint64
	TSCHz           uint64
	FirstPID        uint32
	BuildID         uint64
	Tail            uint64
	Capacity        uint64
	Dropped         uint64
	NextSiteIndex   uint32
	Flags           uint32
	Exe             string
	ToText          uint64 // records the log could not take that their calls printed as text instead
}

// Error is a problem found at a byte offset of a log file.
type Error struct {
	Offset int64
	Reason string
}

func (e *Error) Error() string { return fmt.Sprintf("offset %d: %s", e.Offset, e.Reason) }

func errAt(off int64, format string, args ...any) error {
	return &Error{Offset: off, Reason: fmt.Sprintf(format, args...)}
}

// ErrNotLog is wrapped by header errors that mean the input is not a
// logpack log at all (as opposed to a damaged one).
var ErrNotLog = errors.New("not a logpack log")

// FNV32 is FNV-1a 32 as the format uses it for header checks.
func FNV32(b []byte) uint32 {
	h := uint32(2166136261)
	for _, c := range b {
		h ^= uint32(c)
		h *= 16777619
	}
	return h
}

// ParseHeader decodes and validates the file header. b holds the first
// bytes of the file (all of it if the file is shorter than HeaderSize).
func ParseHeader(b []byte) (*Header, error) {
	if len(b) == 0 {
		return nil, fmt.Errorf("%w: empty file", ErrNotLog)
	}
	if len(b) < len(Magic) || string(b[:len(Magic)]) != Magic {
		n := min(len(b), len(Magic))
		return nil, fmt.Errorf("%w: %w", ErrNotLog, errAt(0, "magic %q, want %q", b[:n], Magic))
	}
	if len(b) < HeaderSize {
		return nil, errAt(int64(len(b)), "file header cut short: %d of %d bytes", len(b), HeaderSize)
	}
	le := binary.LittleEndian
	h := &Header{
		Version:         le.Uint16(b[8:]),
		TSKind:          le.Uint32(b[12:]),
		FileID:          le.Uint64(b[16:]),
		StartRealtimeNS: le.Uint64(b[24:]),
		StartMonoNS:     le.Uint64(b[32:]),
		StartTS:         le.Uint64(b[40:]),
		TSCHz:           le.Uint64(b[48:]),
		FirstPID:        le.Uint32(b[56:]),
		BuildID:         le.Uint64(b[64:]),
		Tail:            le.Uint64(b[72:]),
		Capacity:        le.Uint64(b[80:]),
		Dropped:         le.Uint64(b[88:]),
		NextSiteIndex:   le.Uint32(b[96:]),
		Flags:           le.Uint32(b[100:]),
		ToText:          le.Uint64(b[toTextField:]),
	}
	if h.Version != Version {
		why := "a newer logpack wrote it"
		if h.Version < Version {
			why = "an older logpack wrote it: decode it with that version"
		}
		return nil, errAt(8, "log format version %d, this decoder reads version %d (%s)", h.Version, Version, why)
	}
	if hs := le.Uint16(b[10:]); hs != HeaderSize {
		return nil, errAt(10, "header size %d, want %d", hs, HeaderSize)
	}
	if got, want := le.Uint32(b[headerCheckEnd:]), FNV32(b[:headerCheckEnd]); got != want {
		return nil, errAt(headerCheckEnd, "header check %#08x, computed %#08x: the header is damaged", got, want)
	}
	if h.TSKind > TSTSC {
		return nil, errAt(12, "unknown timestamp kind %d", h.TSKind)
	}
	exe := b[exeField : exeField+exeFieldSize]
	for i, c := range exe {
		if c == 0 {
			exe = exe[:i]
			break
		}
	}
	h.Exe = string(exe)
	return h, nil
}

// Append appends the HeaderSize bytes of h, with its check computed.
func (h *Header) Append(b []byte) []byte {
	start := len(b)
	b = append(b, make([]byte, HeaderSize)...)
	p := b[start:]
	le := binary.LittleEndian
	copy(p, Magic)
	v := h.Version
	if v == 0 {
		v = Version
	}
	le.PutUint16(p[8:], v)
	le.PutUint16(p[10:], HeaderSize)
	le.PutUint32(p[12:], h.TSKind)
	le.PutUint64(p[16:], h.FileID)
	le.PutUint64(p[24:], h.StartRealtimeNS)
	le.PutUint64(p[32:], h.StartMonoNS)
	le.PutUint64(p[40:], h.StartTS)
	le.PutUint64(p[48:], h.TSCHz)
	le.PutUint32(p[56:], h.FirstPID)
	le.PutUint32(p[60:], FNV32(p[:headerCheckEnd]))
	le.PutUint64(p[64:], h.BuildID)
	le.PutUint64(p[72:], h.Tail)
	le.PutUint64(p[80:], h.Capacity)
	le.PutUint64(p[88:], h.Dropped)
	le.PutUint32(p[96:], h.NextSiteIndex)
	le.PutUint32(p[100:], h.Flags)
	exe := h.Exe
	if len(exe) > exeFieldSize-1 {
		exe = exe[:exeFieldSize-1]
	}
	copy(p[exeField:], exe)
	le.PutUint64(p[toTextField:], h.ToText)
	return b
}

// ChunkHeader is the decoded header of one chunk.
type ChunkHeader struct {
	Size   uint32
	PID    uint32
	TID    uint32
	BaseTS uint64
	MonoNS uint64
}

// Chunk header problems that ParseChunkHeader distinguishes.
var (
	// ErrUnused: the space is not written (yet): a zero chunk magic, or
	// a header whose check is not stored yet.
	ErrUnused = errors.New("unused space")
	// ErrBadChunk: the header is damaged or not a chunk header.
	ErrBadChunk = errors.New("bad chunk header")
)

// ParseChunkHeader decodes the chunk header in b (at least
// ChunkHeaderSize bytes). The error wraps ErrUnused or ErrBadChunk.
func ParseChunkHeader(b []byte) (ChunkHeader, error) {
	var c ChunkHeader
	if len(b) < ChunkHeaderSize {
		if allZero(b) {
			return c, ErrUnused
		}
		return c, fmt.Errorf("%w: cut short at %d bytes", ErrBadChunk, len(b))
	}
	le := binary.LittleEndian
	if le.Uint32(b) == 0 {
		return c, ErrUnused
	}
	if string(b[:4]) != ChunkMagic {
		return c, fmt.Errorf("%w: magic %q", ErrBadChunk, b[:4])
	}
	if got, want := le.Uint32(b[chunkCheckEnd:]), FNV32(b[:chunkCheckEnd]); got != want {
		if got == 0 {
			// The C runtime stores the magic, then the check: a header
			// caught in between is being written, not damaged.
			return c, ErrUnused
		}
		return c, fmt.Errorf("%w: check %#08x, computed %#08x", ErrBadChunk, got, want)
	}
	c.Size = le.Uint32(b[4:])
	c.PID = le.Uint32(b[8:])
	c.TID = le.Uint32(b[12:])
	c.BaseTS = le.Uint64(b[16:])
	c.MonoNS = le.Uint64(b[24:])
	if c.Size == 0 || c.Size%Align != 0 {
		return c, fmt.Errorf("%w: size %d is not a positive multiple of %d", ErrBadChunk, c.Size, Align)
	}
	return c, nil
}

// Append appends the ChunkHeaderSize bytes of c with its check computed.
func (c *ChunkHeader) Append(b []byte) []byte {
	start := len(b)
	b = append(b, make([]byte, ChunkHeaderSize)...)
	p := b[start:]
	le := binary.LittleEndian
	copy(p, ChunkMagic)
	le.PutUint32(p[4:], c.Size)
	le.PutUint32(p[8:], c.PID)
	le.PutUint32(p[12:], c.TID)
	le.PutUint64(p[16:], c.BaseTS)
	le.PutUint64(p[24:], c.MonoNS)
	le.PutUint32(p[32:], FNV32(p[:chunkCheckEnd]))
	return b
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
