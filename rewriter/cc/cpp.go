package cc

import (
	"bytes"
	"strings"

	"github.com/logpack/logpack/rewriter"
)

var commentEnd = []byte("*/")

// Preprocessing drops comments, and with them the "fall through" comments
// that -Wimplicit-fallthrough reads: a unit that compiles clean under
// -Werror would fail as preprocessed output. `gcc -E -C` keeps comments,
// but it is not always equivalent: a comment inside a stringized macro
// argument ends up in the string, and a comment before a directive turns
// the directive into text. So the wrapper keeps comments only when the
// build enables the warning, and only after checking that the unit is the
// same token for token without them.

// fallthroughWarning reports whether the flags enable
// -Wimplicit-fallthrough (the last flag deciding wins, as in gcc).
func fallthroughWarning(args []string) bool {
	on := false
	for _, a := range args {
		switch {
		case a == "-Wextra" || a == "-W" || a == "-Wimplicit-fallthrough":
			on = true
		case strings.HasPrefix(a, "-Wimplicit-fallthrough="):
			on = a != "-Wimplicit-fallthrough=0"
		case a == "-Wno-implicit-fallthrough":
			on = false
		case a == "-Wno-extra":
			// -Wno-extra does not turn off an explicit -Wimplicit-fallthrough;
			// treating it as "maybe on" only costs a comparison.
		}
	}
	return on
}

// commentRisk reports whether comments kept by -C may have changed the
// unit: a string or character literal holding "/*" or "//" (a comment
// stringized from a macro argument, or just such a string), or a comment
// at the start of a line followed by '#' (a directive turned into text).
// Where it reports false the unit is the same token for token, and the
// comparison with a second preprocessing run (sameTokens) is not needed.
func commentRisk(src []byte) bool {
	var u unitScanner
	u.init(src)
	lastComment := -1 // end of the comment just before, or -1
	for {
		t := u.next()
		switch t.kind {
		case rewriter.EOF:
			return false
		case rewriter.String, rewriter.Char:
			// Line markers come whole, so their file names ("/tmp/dir//"
			// names the working directory under -g) are not looked into.
			if bytes.Contains(t.text, commentStart) || bytes.Contains(t.text, lineCommentStart) {
				return true
			}
		case rewriter.Comment:
			if bytes.HasPrefix(t.text, commentStart) && (len(t.text) < 4 || !bytes.HasSuffix(t.text, commentEnd)) {
				return true // unterminated: the rest of the unit is in doubt
			}
			lastComment = t.off + len(t.text)
			continue
		case rewriter.Directive:
			// The scanner starts a directive after a comment only when
			// the comment began the line: only blanks lie between them.
			if !t.end && lastComment >= 0 && !lineBreak(src[lastComment:t.off]) {
				return true
			}
		}
		lastComment = -1
	}
}

// sameTokens reports whether two preprocessed outputs of one source, one
// with comments (-C) and one without, hold the same tokens: comments,
// whitespace and line markers aside, string and character literals exact.
func sameTokens(withComments, without []byte) bool {
	var a, b unitScanner
	a.init(withComments)
	b.init(without)
	for {
		s, t := a.significant(), b.significant()
		if s.kind != t.kind || s.end != t.end || !bytes.Equal(s.text, t.text) {
			return false
		}
		if s.kind == rewriter.EOF {
			return true
		}
	}
}

var (
	commentStart     = []byte("/*")
	lineCommentStart = []byte("//")
)

// unitToken is a token of a preprocessed unit as unitScanner sees it.
type unitToken struct {
	kind   rewriter.Kind
	off    int    // byte offset in the unit
	text   []byte // the token's bytes, literals with their escapes
	marker bool   // a line marker: position information, no program text
	end    bool   // the end of a directive line stepped into (empty text)
}

// unitScanner walks a preprocessed unit with the rewriter's scanner. The
// scanner returns a directive line as one token; the directives left in
// gcc -E output other than line markers (#pragma, #ident) hold program
// text, so unitScanner steps into them: their '#', their tokens and an
// end token.
type unitScanner struct {
	src          []byte
	outer, inner rewriter.Scanner
	base         int  // offset of the inner scanner's text in src
	dirEnd       int  // end of the directive being stepped into
	inDirective  bool // the inner scanner is active
}

func (u *unitScanner) init(src []byte) {
	u.src = src
	u.outer.Init(src, "", nil)
	u.inDirective = false
}

// next returns the next token; at the end of the unit it returns EOF
// forever. Lexical errors are left to the compiler.
func (u *unitScanner) next() unitToken {
	if u.inDirective {
		t := u.inner.Scan()
		if t.Kind != rewriter.EOF {
			off := u.base + t.Off
			return unitToken{kind: t.Kind, off: off, text: u.src[off : u.base+t.End]}
		}
		u.inDirective = false
		return unitToken{kind: rewriter.Directive, off: u.dirEnd, end: true}
	}
	t := u.outer.Scan()
	tok := unitToken{kind: t.Kind, off: t.Off, text: u.src[t.Off:t.End]}
	if t.Kind != rewriter.Directive {
		return tok
	}
	if rewriter.IsLineMarker(tok.text) {
		tok.marker = true
		return tok
	}
	n := 1 // '#', or the digraph "%:"
	if tok.text[0] == '%' {
		n = 2
	}
	u.base, u.dirEnd, u.inDirective = t.Off+n, t.End, true
	u.inner.Init(u.src[u.base:t.End], "", nil)
	tok.text = tok.text[:n]
	return tok
}

// significant returns the next token that is program text: comments and
// line markers skipped.
func (u *unitScanner) significant() unitToken {
	for {
		t := u.next()
		if t.kind != rewriter.Comment && !t.marker {
			return t
		}
	}
}

// lineBreak reports whether blanks between two tokens hold a newline that
// is not a line continuation.
func lineBreak(b []byte) bool {
	for i, c := range b {
		if c != '\n' {
			continue
		}
		j := i - 1
		if j >= 0 && b[j] == '\r' {
			j--
		}
		if j < 0 || b[j] != '\\' {
			return true
		}
	}
	return false
}
