package fmtdb

import "testing"

// A constant folds into its directive as printf prints it, escaped as
// format text; a directive that cannot take it refuses.
func TestFoldConst(t *testing.T) {
	cases := []struct {
		format string
		c      Value
		want   string // "" means refused
	}{
		{"%s", String("50% done"), "50%% done"},
		{"%-6s|", String("ab"), "ab    "},
		{"%.2s", String("abc"), "ab"},
		{"%5d", Int(42), "   42"},
		{"%#x", Uint(255), "0xff"},
		{"%o", Uint(8), "10"},
		{"%d", Int(-1), "-1"},
		{"%u", Int(-1), "4294967295"},
		{"%hhd", Int(300), "44"},
		{"%d", Uint(1 << 32), ""},
		{"%d", Int(-1 << 31), "-2147483648"},
		{"%d", Int(-1<<31 - 1), ""},
		{"%ld", Uint(1<<64 - 1), "-1"},
		{"%lu", Uint(1<<64 - 1), "18446744073709551615"},
		{"%zx", Uint(1 << 40), "10000000000"},
		{"%*d", Int(1), ""},
		{"%.*s", String("x"), ""},
		{"%1$d", Int(1), ""},
		{"%m", Int(1), ""},
		{"%p", Uint(1), ""},
		{"%c", Int('A'), ""},
		{"%s", Int(1), ""},
		{"%d", String("1"), ""},
		{"%f", Int(1), ""},
	}
	for _, c := range cases {
		f, err := Parse(c.format)
		if err != nil {
			t.Fatal(err)
		}
		var sp *Spec
		for i := range f.Specs {
			if f.Specs[i].Arg >= 0 && f.Specs[i].WidthArg < 0 && f.Specs[i].PrecArg < 0 || i == len(f.Specs)-1 {
				sp = &f.Specs[i]
				break
			}
		}
		got, ok := FoldConst(f, sp, c.c)
		if !ok {
			got = ""
		}
		if got != c.want || ok != (c.want != "") {
			t.Errorf("FoldConst(%q, %v) = %q %v, want %q", c.format, c.c, got, ok, c.want)
		}
	}
}

// A %s of strerror(errno) is stored as %m, keeping flags and width.
func TestErrnoDirective(t *testing.T) {
	for format, want := range map[string]string{"%s": "%m", "%-20s": "%-20m", "%.3s": "", "%*s": "", "%d": "", "%1$s": ""} {
		f, err := Parse(format)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := ErrnoDirective(f, &f.Specs[len(f.Specs)-1])
		if got != want || ok != (want != "") {
			t.Errorf("ErrnoDirective(%q) = %q %v, want %q", format, got, ok, want)
		}
	}
}
