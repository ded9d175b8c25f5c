package decoder

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"
)

// Format is an output format of Writer.
type Format int

const (
	// FormatPlain prints each message exactly as printf would have
	// rendered it, nothing added.
	FormatPlain Format = iota
	// FormatCRIU prints CRIU's line layout: "(SS.uuuuuu) " (time since
	// the session started) when the verbosity is 3 or more, then the
	// process's line prefix (Process.LinePrefix: "%6d: " with the pid in
	// processes that called CRIU's log_init_by_pid, and their children),
	// then the message. Level 0 records (user messages) get no prefix.
	FormatCRIU
	// FormatJSON prints one JSON object per record: session (its number,
	// from 1, in order of start), ts (ns since the session started), pid,
	// tid, level, site (the 16-hex-digit site ID), index, file, line,
	// func and msg; and for a record whose strings were cut to fit it,
	// cut: [{"arg": k, "len": n}] (argument k of the call was n bytes).
	FormatJSON
)

var formatNames = []string{"plain", "criu", "json"}

func (f Format) String() string {
	if int(f) < len(formatNames) {
		return formatNames[f]
	}
	return fmt.Sprintf("Format(%d)", int(f))
}

// ParseFormat returns the Format named s.
func ParseFormat(s string) (Format, error) {
	for i, n := range formatNames {
		if n == s {
			return Format(i), nil
		}
	}
	return 0, fmt.Errorf("unknown format %q (want plain, criu or json)", s)
}

// WriterOptions adjust a Writer.
type WriterOptions struct {
	// Verbosity is CRIU's log level: timestamps appear in CRIU format
	// when it is 3 or more. Zero means 4.
	Verbosity int
	// Grep, if not nil, keeps only records whose message contains it.
	Grep []byte
	// Redact, if set, replaces strings and IP addresses by pseudonyms.
	Redact *Redactor
}

// Writer renders records to an io.Writer, buffered: call Flush at the
// end. It does not allocate per record once its buffers have grown.
type Writer struct {
	// RedactedText counts the text-only lines a redacting Writer left out.
	RedactedText int

	w    io.Writer
	out  []byte // rendered, not yet written; messages are rendered into it
	err  error
	f    Format
	opts WriterOptions
	msg  []byte
	// flushAt is where the buffer is written out (a slice's Writer of
	// parallel.go keeps all of it).
	flushAt int
}

// flushAt is the output buffer's high-water mark.
const flushAt = 32 << 10

// NewWriter returns a Writer of format f on w. opts may be nil.
func NewWriter(w io.Writer, f Format, opts *WriterOptions) *Writer {
	wr := &Writer{w: w, out: make([]byte, 0, flushAt+4096), f: f, flushAt: flushAt}
	if opts != nil {
		wr.opts = *opts
	}
	if wr.opts.Verbosity == 0 {
		wr.opts.Verbosity = 4
	}
	return wr
}

// Message renders r's message into the Writer's scratch buffer (redacted
// if the Writer redacts) and returns it; valid until the next call.
func (w *Writer) Message(r *Record) []byte {
	if w.opts.Redact != nil {
		w.msg = w.opts.Redact.AppendMessage(w.msg[:0], r)
		return w.opts.Redact.Text(w.msg)
	}
	w.msg = r.Site.msg.append(w.msg[:0], r.Args)
	return w.msg
}

// WriteRecord renders one record. It reports whether the record was
// written: false when Grep rejected it, and for the records of prefix
// sites, which are not lines (their text is the line prefix of their
// process).
func (w *Writer) WriteRecord(r *Record) (bool, error) {
	if w.err != nil {
		return false, w.err
	}
	if r.Site.Prefix {
		return false, nil
	}
	if w.f == FormatPlain && w.opts.Grep == nil && w.opts.Redact == nil {
		// The most common case: the message straight into the buffer.
		w.out = r.Site.msg.append(w.out, r.Args)
	} else if w.opts.Grep != nil || w.opts.Redact != nil || w.f == FormatJSON {
		msg := w.Message(r)
		if w.opts.Grep != nil && !bytes.Contains(msg, w.opts.Grep) {
			return false, nil
		}
		switch w.f {
		case FormatPlain:
			w.out = append(w.out, msg...)
		case FormatCRIU:
			w.out = append(w.criuPrefix(w.out, r), msg...)
		case FormatJSON:
			w.out = appendJSON(w.out, r, msg)
		}
	} else {
		// CRIU format renders straight into the output buffer too.
		out := w.out
		if w.f == FormatCRIU {
			out = w.criuPrefix(out, r)
		}
		w.out = r.Site.msg.append(out, r.Args)
	}
	if len(w.out) >= w.flushAt {
		w.Flush()
	}
	return w.err == nil, w.err
}

// raw reports whether the Writer renders records from their encoded
// arguments (see Decoder.WriteRecords): it neither greps nor redacts.
func (w *Writer) raw() bool { return w.opts.Grep == nil && w.opts.Redact == nil }

// writeEncoded writes a record whose arguments are still encoded, with
// its site's plan. It returns false, having written nothing, if they do
// not decode as the site's.
func (w *Writer) writeEncoded(r *Record) bool {
	p := r.args
	switch w.f {
	case FormatPlain:
		out, ok := r.Site.plan.render(w.out, p)
		if !ok {
			return false
		}
		w.out = out
	case FormatCRIU:
		n := len(w.out)
		out, ok := r.Site.plan.render(w.criuPrefix(w.out, r), p)
		if !ok {
			w.out = w.out[:n]
			return false
		}
		w.out = out
	case FormatJSON:
		msg, ok := r.Site.plan.render(w.msg[:0], p)
		if !ok {
			return false
		}
		w.msg = msg
		w.out = appendJSON(w.out, r, msg)
	default:
		return false
	}
	if len(w.out) >= w.flushAt {
		w.Flush()
	}
	return true
}

// WriteText writes a line only a text log has: verbatim in plain and
// CRIU format (with a newline if it has none), as {"session", "source":
// "text", "offset", "msg"} in JSON. Grep applies to it. A Writer that
// redacts writes none (a text line has no arguments to tell from its
// text): it counts them in RedactedText. It reports whether it wrote l.
func (w *Writer) WriteText(l *TextLine) (bool, error) {
	if w.err != nil {
		return false, w.err
	}
	if w.opts.Grep != nil && !bytes.Contains(l.Line, w.opts.Grep) {
		return false, nil
	}
	if w.opts.Redact != nil {
		w.RedactedText++
		return false, nil
	}
	switch w.f {
	case FormatJSON:
		w.out = append(w.out, `{"session":`...)
		w.out = strconv.AppendInt(w.out, int64(l.Session.N), 10)
		w.out = append(w.out, `,"source":"text","offset":`...)
		w.out = strconv.AppendInt(w.out, l.Offset, 10)
		w.out = append(w.out, `,"msg":`...)
		w.out = AppendJSONString(w.out, l.Line)
		w.out = append(w.out, '}', '\n')
	default:
		w.out = append(w.out, l.Line...)
		if len(l.Line) == 0 || l.Line[len(l.Line)-1] != '\n' {
			w.out = append(w.out, '\n')
		}
	}
	if len(w.out) >= w.flushAt {
		w.Flush()
	}
	return w.err == nil, w.err
}

func (w *Writer) criuPrefix(b []byte, r *Record) []byte {
	if r.Level == 0 {
		return b
	}
	if w.opts.Verbosity >= 3 {
		b = AppendCRIUTime(b, r.TS)
	}
	if r.Proc != nil {
		b = append(b, r.Proc.LinePrefix()...)
	}
	return b
}

// Flush writes out buffered output.
func (w *Writer) Flush() error {
	if w.err == nil && len(w.out) > 0 {
		_, w.err = w.w.Write(w.out)
	}
	w.out = w.out[:0]
	return w.err
}

// AppendCRIUTime appends CRIU's timestamp prefix for ns since the start
// (negative times count as 0) byte for byte as CRIU's print_ts writes it
// into the 12 bytes it keeps for it: "(%02u.%06u" of the seconds and
// microseconds (truncated) cut to 10 bytes, then ") ". Under 100 s that
// is "(SS.uuuuuu) "; later, the seconds take the place of the last
// digits of the microseconds: "(123.45678) ", "(10785215.) ".
func AppendCRIUTime(b []byte, ns int64) []byte {
	if ns < 0 {
		ns = 0
	}
	sec, us := ns/1e9, ns%1e9/1e3
	if sec < 100 {
		var d [12]byte
		d[0], d[1], d[2], d[3] = '(', byte('0'+sec/10), byte('0'+sec%10), '.'
		for i := 9; i >= 4; i-- {
			d[i] = byte('0' + us%10)
			us /= 10
		}
		d[10], d[11] = ')', ' '
		return append(b, d[:]...)
	}
	var d [32]byte
	t := append(d[:0], '(')
	t = strconv.AppendUint(t, uint64(uint32(sec)), 10) // CRIU prints tv_sec as unsigned
	t = append(t, '.')
	t = append(t, byte('0'+us/100000), byte('0'+us/10000%10), byte('0'+us/1000%10), byte('0'+us/100%10), byte('0'+us/10%10), byte('0'+us%10))
	b = append(b, t[:10]...)
	return append(b, ')', ' ')
}

func appendJSON(b []byte, r *Record, msg []byte) []byte {
	sess := 0
	if r.Proc != nil {
		sess = r.Proc.Session.N
	}
	return appendJSONFields(b, sess, r.TS, r.PID, r.TID, r.Level, r.Site, r.Index, r.Cuts, msg)
}

func appendJSONFields(b []byte, sess int, ts int64, pid, tid uint32, level uint8, site *Site, index uint32, cuts []Cut, msg []byte) []byte {
	b = append(b, `{"session":`...)
	b = strconv.AppendInt(b, int64(sess), 10)
	b = append(b, `,"ts":`...)
	b = strconv.AppendInt(b, ts, 10)
	b = append(b, `,"pid":`...)
	b = strconv.AppendUint(b, uint64(pid), 10)
	b = append(b, `,"tid":`...)
	b = strconv.AppendUint(b, uint64(tid), 10)
	b = append(b, `,"level":`...)
	b = strconv.AppendUint(b, uint64(level), 10)
	b = append(b, `,"site":"`...)
	b = appendHex16(b, site.ID)
	b = append(b, `","index":`...)
	b = strconv.AppendUint(b, uint64(index), 10)
	b = append(b, `,"file":`...)
	b = AppendJSONString(b, site.File)
	b = append(b, `,"line":`...)
	b = strconv.AppendInt(b, int64(site.Line), 10)
	b = append(b, `,"func":`...)
	b = AppendJSONString(b, site.Func)
	b = append(b, `,"msg":`...)
	b = AppendJSONString(b, msg)
	if len(cuts) > 0 {
		b = append(b, `,"cut":[`...)
		for i, c := range cuts {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"arg":`...)
			b = strconv.AppendInt(b, int64(c.Arg), 10)
			b = append(b, `,"len":`...)
			b = strconv.AppendUint(b, c.Len, 10)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	return append(b, '}', '\n')
}

func appendHex16(b []byte, v uint64) []byte {
	const hex = "0123456789abcdef"
	for i := 60; i >= 0; i -= 4 {
		b = append(b, hex[v>>uint(i)&15])
	}
	return b
}

// AppendJSONString appends s as a JSON string. Bytes that are not UTF-8
// become U+FFFD, as JSON text cannot carry them.
func AppendJSONString[S ~string | ~[]byte](b []byte, s S) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\t':
				b = append(b, '\\', 't')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c < 0x20 || c == 0x7f:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&15])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(string(s[i:min(i+utf8.UTFMax, len(s))]))
		if r == utf8.RuneError && n == 1 {
			b = append(b, `\ufffd`...)
		} else {
			b = append(b, s[i:i+n]...)
		}
		i += n
	}
	return append(b, '"')
}
