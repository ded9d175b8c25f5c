package rewriter

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Literal is a decoded string literal or character constant.
type Literal struct {
	Prefix string // "", "u8", "L", "u" or "U"
	Bytes  []byte // the value; for a prefix other than "" and "u8", the UTF-8 of the code points
}

// decodeLiteral decodes the text of one string or char literal token with
// every C escape: simple ones (\n \t \a \b \f \r \v \\ \' \" \? and GNU's
// \e \E), octal (1-3 digits), hex (any number of digits, value must fit),
// and universal character names \u and \U (stored as UTF-8).
func decodeLiteral(t []byte) (Literal, error) {
	var lit Literal
	i := 0
	for i < len(t) && t[i] != '"' && t[i] != '\'' {
		i++
	}
	lit.Prefix = string(t[:i])
	if i >= len(t) || !isLiteralPrefix(t[:i]) && i != 0 {
		return lit, errors.New("not a literal")
	}
	q := t[i]
	if len(t) < i+2 || t[len(t)-1] != q {
		return lit, errors.New("literal not terminated")
	}
	body := t[i+1 : len(t)-1]
	// max value of one escaped unit: char for "" and u8, else 32 bits
	maxUnit := uint64(0xff)
	switch lit.Prefix {
	case "u":
		maxUnit = 0xffff
	case "L", "U":
		maxUnit = 0xffffffff
	}
	out := make([]byte, 0, len(body))
	for j := 0; j < len(body); {
		c := body[j]
		if c == '\\' && j+1 < len(body) && body[j+1] == '\n' {
			j += 2 // line continuation inside a literal
			continue
		}
		if c != '\\' {
			if c == q {
				return lit, errors.New("unescaped quote in literal")
			}
			out = append(out, c)
			j++
			continue
		}
		j++
		if j >= len(body) {
			return lit, errors.New("backslash at end of literal")
		}
		e := body[j]
		j++
		switch e {
		case 'n':
			out = append(out, '\n')
		case 't':
			out = append(out, '\t')
		case 'a':
			out = append(out, 7)
		case 'b':
			out = append(out, 8)
		case 'f':
			out = append(out, 12)
		case 'r':
			out = append(out, '\r')
		case 'v':
			out = append(out, 11)
		case 'e', 'E':
			out = append(out, 27)
		case '\\', '\'', '"', '?':
			out = append(out, e)
		case '0', '1', '2', '3', '4', '5', '6', '7':
			v := uint64(e - '0')
			for k := 0; k < 2 && j < len(body) && body[j] >= '0' && body[j] <= '7'; k++ {
				v = v*8 + uint64(body[j]-'0')
				j++
			}
			if v > maxUnit {
				return lit, fmt.Errorf("octal escape out of range")
			}
			out = appendUnit(out, v, lit.Prefix)
		case 'x':
			v, n := uint64(0), 0
			for j < len(body) && isHex(body[j]) {
				v = v*16 + uint64(hexVal(body[j]))
				if v > maxUnit {
					return lit, errors.New("hex escape out of range")
				}
				j++
				n++
			}
			if n == 0 {
				return lit, errors.New(`\x used with no following hex digits`)
			}
			out = appendUnit(out, v, lit.Prefix)
		case 'u', 'U':
			n := 4
			if e == 'U' {
				n = 8
			}
			if j+n > len(body) {
				return lit, fmt.Errorf(`incomplete universal character name \%c`, e)
			}
			v := uint64(0)
			for k := 0; k < n; k++ {
				if !isHex(body[j+k]) {
					return lit, fmt.Errorf(`incomplete universal character name \%c`, e)
				}
				v = v*16 + uint64(hexVal(body[j+k]))
			}
			j += n
			if v > utf8.MaxRune || v >= 0xd800 && v <= 0xdfff {
				return lit, fmt.Errorf("universal character %#x is not valid", v)
			}
			out = utf8.AppendRune(out, rune(v))
		default:
			return lit, fmt.Errorf("unknown escape sequence \\%c", e)
		}
	}
	lit.Bytes = out
	return lit, nil
}

// appendUnit stores one escaped code unit: a raw byte for narrow literals,
// UTF-8 for wide ones (only compared, never used as a format).
func appendUnit(out []byte, v uint64, prefix string) []byte {
	if prefix == "" || prefix == "u8" {
		return append(out, byte(v))
	}
	if v <= utf8.MaxRune {
		return utf8.AppendRune(out, rune(v))
	}
	return utf8.AppendRune(out, utf8.RuneError)
}

func isHex(c byte) bool {
	return isDigit(c) || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func hexVal(c byte) int {
	switch {
	case isDigit(c):
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	default:
		return int(c-'A') + 10
	}
}

// IntLiteral is a decoded integer constant.
type IntLiteral struct {
	Value    uint64
	Unsigned bool // u suffix
	Long     int  // number of l suffixes (0, 1, 2)
}

// parseIntLiteral decodes an integer constant (decimal, octal, hex, binary,
// digit separators, u/l/ll suffixes in any order and case). Floating
// constants and anything malformed return ok=false.
func parseIntLiteral(t string) (IntLiteral, bool) {
	var v IntLiteral
	t = strings.ReplaceAll(t, "'", "")
	// suffix
	end := len(t)
	for end > 0 && strings.ContainsRune("uUlL", rune(t[end-1])) {
		end--
	}
	if strings.Contains(t[end:], "lL") || strings.Contains(t[end:], "Ll") {
		return v, false
	}
	suf := strings.ToLower(t[end:])
	t = t[:end]
	switch suf {
	case "", "u":
	case "l", "ul", "lu":
		v.Long = 1
	case "ll", "ull", "llu":
		v.Long = 2
	default:
		return v, false
	}
	v.Unsigned = strings.Contains(suf, "u")
	base := uint64(10)
	switch {
	case len(t) > 2 && (t[:2] == "0x" || t[:2] == "0X"):
		base, t = 16, t[2:]
	case len(t) > 2 && (t[:2] == "0b" || t[:2] == "0B"):
		base, t = 2, t[2:]
	case len(t) > 1 && t[0] == '0':
		base, t = 8, t[1:]
	}
	if t == "" {
		return v, false
	}
	for i := 0; i < len(t); i++ {
		if !isHex(t[i]) {
			return v, false
		}
		d := uint64(hexVal(t[i]))
		if d >= base {
			return v, false
		}
		if v.Value > (^uint64(0)-d)/base {
			return v, false
		}
		v.Value = v.Value*base + d
	}
	return v, true
}
