package rewriter

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// bigUnit is gcc -E of a CRIU-like file: the usual glibc headers, then
// 2,000 functions with a census-like mix of pr_* calls (CRIU-LOGGING.md):
// 10,000 calls, far denser than real code.
func bigUnit(b *testing.B) []byte { return unit(b, 2000, true) }

// typicalUnit has CRIU's density: about one call per 15 source lines, so
// most of the preprocessed unit is headers and ordinary code.
func typicalUnit(b *testing.B) []byte { return unit(b, 100, false) }

func unit(b *testing.B, nfuncs int, dense bool) []byte {
	b.Helper()
	if _, err := exec.LookPath("gcc"); err != nil {
		b.Skip("gcc not found")
	}
	var src strings.Builder
	src.WriteString("#include <stdio.h>\n#include <stdlib.h>\n#include <unistd.h>\n#include <sys/types.h>\n#include \"log.h\"\n")
	src.WriteString("#undef LOG_PREFIX\n#define LOG_PREFIX \"mnt: \"\n")
	for i := 0; i < nfuncs; i++ {
		if !dense {
			fmt.Fprintf(&src, `
static int helper_%d(int a, int b)
{
	int i, s = 0;

	for (i = 0; i < a; i++) {
		if (i %% 3 == 0)
			s += b * i;
		else
			s -= (b << 1) ^ i;
	}
	return s > 0 ? s : -s;
}
`, i)
			fmt.Fprintf(&src, `
int func_%d(int fd, const char *path)
{
	int ret = helper_%d(fd, 3);

	if (ret < 0) {
		pr_perror("Can't handle %%s", path);
		return -1;
	}
	return ret + %d;
}
`, i, i, i)
			continue
		}
		fmt.Fprintf(&src, `
int func_%d(int fd, const char *path, unsigned long addr, uint64_t off)
{
	int ret = 0;

	pr_debug("Opening %%s at %%d\n", path, fd);
	if (fd < 0) {
		pr_perror("Can't open %%s", path);
		return -1;
	}
	pr_info("addr %%lx off %%" PRIx64 " len %%zu\n", addr, off, (size_t)%d);
	if (addr & 1)
		pr_err("Bad address %%#lx\n", addr);
	else
		pr_warn("Odd %%d %%d\n", ret, fd);
	pr_msg("done\n");
	ret = fd + %d;
	return ret;
}
`, i, i, i)
	}
	dir := b.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "big.c"), []byte(src.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	inc, _ := filepath.Abs("testdata/include")
	cmd := exec.Command("gcc", "-E", "-iquote", inc, "big.c")
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		b.Fatal(err)
	}
	return out
}

// BenchmarkRewritePreprocessed reports rewrite throughput in input lines
// per second on a large preprocessed unit.
func BenchmarkRewritePreprocessed(b *testing.B) {
	src := bigUnit(b)
	lines := bytes.Count(src, []byte("\n"))
	cfg, _ := Preset("criu")
	b.SetBytes(int64(len(src)))
	b.ResetTimer()
	var sites int
	for i := 0; i < b.N; i++ {
		res, err := RewritePreprocessed(src, "big.c", &cfg)
		if err != nil {
			b.Fatal(err)
		}
		sites = len(res.Sites)
	}
	b.ReportMetric(float64(lines)*float64(b.N)/b.Elapsed().Seconds(), "lines/s")
	b.ReportMetric(float64(sites), "sites")
}

// BenchmarkRewriteTypical: a unit with CRIU's density of log calls.
func BenchmarkRewriteTypical(b *testing.B) {
	src := typicalUnit(b)
	lines := bytes.Count(src, []byte("\n"))
	cfg, _ := Preset("criu")
	b.SetBytes(int64(len(src)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := RewritePreprocessed(src, "typical.c", &cfg); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(lines)*float64(b.N)/b.Elapsed().Seconds(), "lines/s")
}

// BenchmarkScan reports the lexer's throughput alone on the same unit.
func BenchmarkScan(b *testing.B) {
	src := bigUnit(b)
	lines := bytes.Count(src, []byte("\n"))
	b.SetBytes(int64(len(src)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var s Scanner
		s.Init(src, "big.c", nil)
		for s.Scan().Kind != EOF {
		}
	}
	b.ReportMetric(float64(lines)*float64(b.N)/b.Elapsed().Seconds(), "lines/s")
}
