package cc

import (
	"bytes"
	"strings"
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
	lineStart := true
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == '\n':
			lineStart = true
			i++
		case c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v':
			i++
		case lineStart && c == '#' && isLineMarker(src[i:]):
			// File names are no literals of the program ("/tmp/dir//"
			// names the working directory under -g).
			for i < len(src) && src[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(src) && (src[i+1] == '*' || src[i+1] == '/'):
			if src[i+1] == '/' {
				for i < len(src) && src[i] != '\n' {
					i++
				}
				continue
			}
			end := bytes.Index(src[i+2:], commentEnd)
			if end < 0 {
				return true
			}
			i += 2 + end + 2
			if lineStart {
				// Only blanks and more comments may follow before a '#'.
				j := i
				for j < len(src) && (src[j] == ' ' || src[j] == '\t') {
					j++
				}
				if j < len(src) && src[j] == '#' {
					return true
				}
			}
		case c == '"' || c == '\'':
			j := i + 1
			for j < len(src) && src[j] != c && src[j] != '\n' {
				if src[j] == '\\' && j+1 < len(src) {
					j++
				} else if src[j] == '/' && j+1 < len(src) && (src[j+1] == '*' || src[j+1] == '/') {
					return true
				}
				j++
			}
			if j < len(src) {
				j++
			}
			lineStart = false
			i = j
		default:
			lineStart = false
			i++
		}
	}
	return false
}

// sameTokens reports whether two preprocessed outputs of one source, one
// with comments (-C) and one without, hold the same tokens: comments,
// whitespace and line markers aside, string and character literals exact.
func sameTokens(withComments, without []byte) bool {
	var a, b strings.Builder
	canonical(&a, withComments)
	canonical(&b, without)
	return a.String() == b.String()
}

// canonical writes src without comments, whitespace and line markers. It
// is a small state machine over the preprocessed C (literals copied
// verbatim, with their escapes).
func canonical(w *strings.Builder, src []byte) {
	lineStart := true
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == '\n':
			lineStart = true
			i++
		case c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v':
			i++
		case lineStart && c == '#' && isLineMarker(src[i:]):
			for i < len(src) && src[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(src) && src[i+1] == '*':
			end := bytes.Index(src[i+2:], commentEnd)
			if end < 0 {
				i = len(src)
			} else {
				i += 2 + end + 2
			}
		case c == '/' && i+1 < len(src) && src[i+1] == '/':
			for i < len(src) && src[i] != '\n' {
				i++
			}
		case c == '"' || c == '\'':
			j := i + 1
			for j < len(src) && src[j] != c && src[j] != '\n' {
				if src[j] == '\\' && j+1 < len(src) {
					j++
				}
				j++
			}
			if j < len(src) && src[j] == c {
				j++
			}
			w.WriteByte(0) // literals never merge with neighbouring text
			w.Write(src[i:j])
			w.WriteByte(0)
			lineStart = false
			i = j
		default:
			w.WriteByte(c)
			lineStart = false
			i++
		}
	}
}

// isLineMarker reports whether a line starting with '#' is a line marker
// (# 12 "file" flags) rather than a #pragma or other directive kept in
// the output.
func isLineMarker(s []byte) bool {
	i := 1
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	if strings.HasPrefix(string(s[i:min(len(s), i+4)]), "line") {
		return true
	}
	return i < len(s) && s[i] >= '0' && s[i] <= '9'
}
