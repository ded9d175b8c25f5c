package rewriter

import (
	"bytes"
	"fmt"
	"strconv"
)

// Kind is the lexical class of a C token.
type Kind uint8

const (
	EOF       Kind = iota
	Ident          // identifier or keyword
	Number         // preprocessing number: 42, 0x1p-3, 10ull, 1'000
	String         // string literal with optional prefix (u8, L, u, U)
	Char           // character constant with optional prefix
	Punct          // punctuator, digraphs included
	Comment        // /* ... */ or // ...
	Directive      // a whole preprocessor line from '#' to its end, continuations included
	Invalid        // a byte that starts no token (stray '@', '`', '\\')
)

var kindNames = [...]string{"EOF", "Ident", "Number", "String", "Char", "Punct", "Comment", "Directive", "Invalid"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Token is one lexical token. Off and End are byte offsets into the
// scanned source; File and Line are the position in the original file,
// following "# N "file"" line markers and #line directives.
type Token struct {
	Kind Kind
	Off  int
	End  int
	Line int
	File string
}

// ErrorHandler receives lexical errors with their position.
type ErrorHandler func(file string, line int, msg string)

// Scanner tokenizes C source or preprocessed C in the manner of
// go/scanner: a hand-written state machine over bytes that never fails
// hard, reports errors through a handler and always makes progress.
type Scanner struct {
	src  []byte
	err  ErrorHandler
	off  int
	file string
	line int
	bol  bool // only whitespace since the last newline: '#' starts a directive

	// pending line marker: applies to the line after the directive
	markLine int
	markFile string
	marked   bool

	ErrorCount int
}

// Init prepares s to scan src, whose first line is line 1 of file.
func (s *Scanner) Init(src []byte, file string, err ErrorHandler) {
	*s = Scanner{src: src, err: err, file: file, line: 1, bol: true}
}

func (s *Scanner) error(line int, msg string) {
	s.ErrorCount++
	if s.err != nil {
		s.err(s.file, line, msg)
	}
}

// newline is called after consuming a '\n': it advances the line or
// applies a pending line marker.
func (s *Scanner) newline() {
	if s.marked {
		s.line, s.file, s.marked = s.markLine, s.markFile, false
	} else {
		s.line++
	}
	s.bol = true
}

func (s *Scanner) peek(k int) byte {
	if s.off+k < len(s.src) {
		return s.src[s.off+k]
	}
	return 0
}

// splice skips backslash-newline pairs at the current offset (line
// continuations are invisible everywhere in C) and reports how many.
func (s *Scanner) splice() {
	for s.off+1 < len(s.src) && s.src[s.off] == '\\' {
		if s.src[s.off+1] == '\n' {
			s.off += 2
			s.line++
		} else if s.src[s.off+1] == '\r' && s.off+2 < len(s.src) && s.src[s.off+2] == '\n' {
			s.off += 3
			s.line++
		} else {
			return
		}
	}
}

func isLetter(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_' || c == '$' || c >= 0x80
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// Scan returns the next token; at the end of input it returns EOF forever.
func (s *Scanner) Scan() Token {
	// whitespace
	for s.off < len(s.src) {
		c := s.src[s.off]
		switch {
		case c == '\n':
			s.off++
			s.newline()
			continue
		case c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v':
			s.off++
			continue
		case c == '\\' && (s.peek(1) == '\n' || s.peek(1) == '\r' && s.peek(2) == '\n'):
			s.splice()
			continue
		}
		break
	}
	tok := Token{Off: s.off, Line: s.line, File: s.file}
	if s.off >= len(s.src) {
		tok.Kind = EOF
		tok.End = s.off
		return tok
	}
	bol := s.bol
	s.bol = false
	c := s.src[s.off]
	switch {
	case bol && (c == '#' || c == '%' && s.peek(1) == ':'):
		tok.Kind = Directive
		s.scanDirective(tok.Line)
	case isLetter(c):
		s.off++
		s.scanIdentRest()
		if q := s.peek(0); (q == '"' || q == '\'') && isLiteralPrefix(s.src[tok.Off:s.off]) {
			tok.Kind = s.scanQuoted(q, tok.Line)
		} else if q == '"' && isRawPrefix(s.src[tok.Off:s.off]) {
			tok.Kind = s.scanRaw(tok.Line)
		} else {
			tok.Kind = Ident
		}
	case isDigit(c) || c == '.' && isDigit(s.peek(1)):
		tok.Kind = Number
		s.scanNumber()
	case c == '"' || c == '\'':
		tok.Kind = s.scanQuoted(c, tok.Line)
	case c == '/' && s.peek(1) == '*':
		tok.Kind = Comment
		s.scanBlockComment(tok.Line)
		s.bol = bol // a comment does not end "start of line"
	case c == '/' && s.peek(1) == '/':
		tok.Kind = Comment
		s.scanLineComment()
	default:
		if n := punctLen(s.src[s.off:]); n > 0 {
			tok.Kind = Punct
			s.off += n
		} else {
			tok.Kind = Invalid
			s.error(tok.Line, fmt.Sprintf("stray %q in program", c))
			s.off++
		}
	}
	tok.End = s.off
	return tok
}

func isLiteralPrefix(p []byte) bool {
	switch string(p) {
	case "L", "u", "U", "u8":
		return true
	}
	return false
}

// isRawPrefix: the prefixes of a raw string literal, R"delim(...)delim",
// which GNU C accepts too (its content is never a format logpack reads:
// decodeLiteral refuses it).
func isRawPrefix(p []byte) bool {
	switch string(p) {
	case "R", "LR", "uR", "UR", "u8R":
		return true
	}
	return false
}

// scanRaw consumes a raw string literal from its opening quote: a
// delimiter of up to 16 characters, '(', anything (newlines, quotes,
// backslashes) up to ')', the delimiter and '"'.
func (s *Scanner) scanRaw(line int) Kind {
	start := s.off
	s.off++ // opening quote
	d := s.off
	for s.off < len(s.src) && s.off-d <= 16 {
		c := s.src[s.off]
		if c == '(' {
			break
		}
		if c == ' ' || c == ')' || c == '\\' || c == '\t' || c == '\v' || c == '\f' || c == '\n' {
			s.off = start
			return s.scanQuoted('"', line) // not a raw string after all
		}
		s.off++
	}
	if s.off >= len(s.src) || s.src[s.off] != '(' {
		s.off = start
		return s.scanQuoted('"', line)
	}
	end := append(append([]byte{')'}, s.src[d:s.off]...), '"')
	s.off++
	stop := len(s.src)
	if k := bytes.Index(s.src[s.off:], end); k >= 0 {
		stop = s.off + k + len(end)
	} else {
		s.error(line, "raw string literal not terminated")
	}
	s.line += bytes.Count(s.src[s.off:stop], []byte{'\n'})
	s.off = stop
	return String
}

func (s *Scanner) scanIdentRest() {
	for s.off < len(s.src) {
		s.splice()
		if s.off < len(s.src) && (isLetter(s.src[s.off]) || isDigit(s.src[s.off])) {
			s.off++
			continue
		}
		return
	}
}

// scanNumber consumes a preprocessing number (C11 6.4.8 plus C23 digit
// separators): it covers hex floats and every suffix without judging them.
func (s *Scanner) scanNumber() {
	s.off++
	for s.off < len(s.src) {
		s.splice()
		if s.off >= len(s.src) {
			return
		}
		c := s.src[s.off]
		switch {
		case (c == '+' || c == '-') && s.off > 0 && isExpChar(s.src[s.off-1]):
			s.off++
		case c == '\'' && (isLetter(s.peek(1)) || isDigit(s.peek(1))):
			s.off += 2
		case isLetter(c) || isDigit(c) || c == '.':
			s.off++
		default:
			return
		}
	}
}

func isExpChar(c byte) bool { return c == 'e' || c == 'E' || c == 'p' || c == 'P' }

// scanQuoted consumes a string literal or character constant starting at
// the quote q. An unterminated literal ends at the end of the line.
func (s *Scanner) scanQuoted(q byte, line int) Kind {
	kind := String
	if q == '\'' {
		kind = Char
	}
	s.off++ // opening quote
	for {
		if s.off >= len(s.src) {
			s.error(line, "literal not terminated")
			return kind
		}
		c := s.src[s.off]
		switch c {
		case q:
			s.off++
			return kind
		case '\n':
			s.error(line, "literal not terminated")
			return kind
		case '\\':
			if s.peek(1) == '\n' || s.peek(1) == '\r' && s.peek(2) == '\n' {
				s.splice()
				continue
			}
			s.off++
			if s.off < len(s.src) && s.src[s.off] != '\n' {
				s.off++
			}
		default:
			s.off++
		}
	}
}

func (s *Scanner) scanBlockComment(line int) {
	s.off += 2
	for s.off < len(s.src) {
		c := s.src[s.off]
		if c == '*' && s.peek(1) == '/' {
			s.off += 2
			return
		}
		s.off++
		if c == '\n' {
			s.line++
		}
	}
	s.error(line, "comment not terminated")
}

// scanLineComment stops before the newline, which ends the line as usual;
// a backslash-newline continues the comment.
func (s *Scanner) scanLineComment() {
	s.off += 2
	for s.off < len(s.src) {
		c := s.src[s.off]
		if c == '\n' {
			return
		}
		if c == '\\' {
			before := s.off
			s.splice()
			if s.off != before {
				continue
			}
		}
		s.off++
	}
}

// scanDirective consumes a preprocessor line up to (not including) its
// newline. Comments and literals inside it are skipped as units so that
// "/*" in a string or a newline in a comment do not end it wrongly. A line
// marker ("# 12 "f.c" 2" or "#line 12 "f.c"") sets the position of the
// next line.
func (s *Scanner) scanDirective(line int) {
	start := s.off
	for s.off < len(s.src) {
		c := s.src[s.off]
		switch {
		case c == '\n':
			s.lineMarker(s.src[start:s.off], line)
			return
		case c == '\\' && (s.peek(1) == '\n' || s.peek(1) == '\r' && s.peek(2) == '\n'):
			s.splice()
		case c == '/' && s.peek(1) == '*':
			s.scanBlockComment(s.line)
		case c == '/' && s.peek(1) == '/':
			s.scanLineComment()
		case c == '"' || c == '\'':
			// '#include <it's.h>' style apostrophes are not literals
			if d := directiveName(s.src[start:s.off]); d == "include" || d == "include_next" || d == "error" || d == "warning" {
				s.off++
				continue
			}
			s.scanQuoted(c, s.line)
		default:
			s.off++
		}
	}
	s.lineMarker(s.src[start:s.off], line)
}

// directiveName returns the directive's name ("define", "if", ...) or ""
// for a null directive or a line marker.
func directiveName(d []byte) string {
	i := directiveStart(d)
	j := i
	for j < len(d) && (isLetter(d[j]) || isDigit(d[j])) {
		j++
	}
	if j > i && !isDigit(d[i]) {
		return string(d[i:j])
	}
	return ""
}

// IsLineMarker reports whether the directive d (its text from the '#' or
// "%:") is a line marker: "# N "file" flags..." as gcc -E writes them, or
// "#line N "file"". Every other directive (#pragma, #define kept by -dD,
// a null directive) is not.
func IsLineMarker(d []byte) bool {
	if directiveName(d) == "line" {
		return true
	}
	i := directiveStart(d)
	return i < len(d) && isDigit(d[i])
}

// directiveStart is the index of what follows the '#' (or "%:") of the
// directive d and the blanks after it.
func directiveStart(d []byte) int {
	i := 1
	if len(d) > 0 && d[0] == '%' {
		i = 2
	}
	for i < len(d) && (d[i] == ' ' || d[i] == '\t') {
		i++
	}
	return i
}

// lineMarker records the position a line marker d gives to the next line.
func (s *Scanner) lineMarker(d []byte, line int) {
	if !IsLineMarker(d) {
		return
	}
	i := directiveStart(d)
	if directiveName(d) == "line" {
		i += 4
		for i < len(d) && (d[i] == ' ' || d[i] == '\t') {
			i++
		}
	}
	j := i
	for j < len(d) && isDigit(d[j]) {
		j++
	}
	if j == i {
		return
	}
	n, err := strconv.Atoi(string(d[i:j]))
	if err != nil || n < 0 {
		s.error(line, "bad line number in line marker")
		return
	}
	file := s.file
	for j < len(d) && (d[j] == ' ' || d[j] == '\t') {
		j++
	}
	if j < len(d) && d[j] == '"' {
		k := j + 1
		for k < len(d) && d[k] != '"' {
			if d[k] == '\\' {
				k++
			}
			k++
		}
		if k >= len(d) {
			s.error(line, "bad file name in line marker")
			return
		}
		v, err := decodeLiteral(d[j : k+1])
		if err != nil {
			s.error(line, "bad file name in line marker: "+err.Error())
			return
		}
		file = string(v.Bytes)
	}
	s.markLine, s.markFile, s.marked = n, file, true
}

// puncts lists C punctuators longest first within each leading byte so
// that the first match is the longest (maximal munch).
var puncts = [256][]string{
	'[': {"["}, ']': {"]"}, '(': {"("}, ')': {")"}, '{': {"{"}, '}': {"}"},
	'.': {"...", "."}, '-': {"->", "--", "-=", "-"}, '+': {"++", "+=", "+"},
	'&': {"&&", "&=", "&"}, '*': {"*=", "*"}, '~': {"~"}, '!': {"!=", "!"},
	'/': {"/=", "/"}, '%': {"%:%:", "%=", "%>", "%:", "%"},
	'<': {"<<=", "<<", "<=", "<:", "<%", "<"}, '>': {">>=", ">>", ">=", ">"},
	'=': {"==", "="}, '^': {"^=", "^"}, '|': {"||", "|=", "|"}, '?': {"?"},
	':': {":>", ":"}, ';': {";"}, ',': {","}, '#': {"##", "#"},
}

func punctLen(b []byte) int {
	for _, p := range puncts[b[0]] {
		if len(b) >= len(p) && string(b[:len(p)]) == p {
			return len(p)
		}
	}
	return 0
}

// normPunct maps digraphs to the punctuator they spell.
func normPunct(p string) string {
	switch p {
	case "<%":
		return "{"
	case "%>":
		return "}"
	case "<:":
		return "["
	case ":>":
		return "]"
	case "%:":
		return "#"
	case "%:%:":
		return "##"
	}
	return p
}
