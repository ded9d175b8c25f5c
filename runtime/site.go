package runtime

import (
	"bufio"
	"bytes"
	"fmt"
	"strings"

	"github.com/logpack/logpack/fmtdb"
)

// SiteSection is the ELF section holding every struct logpack_site of a
// program; the runtime walks it (via __start_/__stop_ symbols) to compute
// the build identity.
const SiteSection = "logpack_sites"

// Prelude returns logpack_site.h with comments and preprocessor lines
// removed, ready to paste at the top of an already preprocessed
// translation unit (which the compiler reads without running cpp again).
func Prelude() []byte {
	var out bytes.Buffer
	inComment := false
	sc := bufio.NewScanner(bytes.NewReader(SiteHeader()))
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

// SiteDefinition returns the C definition of the static site variable
// named name for s: its descriptor bytes and the struct the runtime reads.
// It is valid at file scope after Prelude (or #include "logpack_site.h").
func SiteDefinition(name string, s *fmtdb.Site) (string, error) {
	desc := s.AppendDescriptor(nil)
	off, err := fmtdb.ClassListOffset(desc)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "static const unsigned char %s_desc[%d] = ", name, len(desc)+1)
	b.WriteString(CString(desc))
	b.WriteString(";\n")
	fmt.Fprintf(&b, "static struct logpack_site %s __attribute__((used, section(%q))) = { 0, %s_desc, %s_desc + %d, %d, %d, {0, 0, 0} };\n",
		name, SiteSection, name, name, off, len(desc), s.Level)
	return b.String(), nil
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
		case c >= 0x20 && c < 0x7f:
			b = append(b, c)
		default:
			b = append(b, '\\', '0'+c>>6, '0'+c>>3&7, '0'+c&7)
		}
	}
	b = append(b, '"')
	return string(b)
}
