package runtime

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/logpack/logpack/fmtdb"
)

// The prelude and a site definition must compile warning-free in an
// already preprocessed unit, and the descriptor bytes the C compiler
// stores must be exactly the Go encoding.
func TestSiteDefinitionCompilesToSameBytes(t *testing.T) {
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Skip("gcc not found")
	}
	s := fmtdb.Site{Level: 3, File: "dir/a \"q\".c", Line: 42, Func: "f",
		Format: "mnt: %d %s ?\x01\xff%%\n", Args: []fmtdb.ArgSpec{
			{Class: fmtdb.ClassI32, BoundArg: -1}, {Class: fmtdb.ClassStr, BoundArg: -1}}}
	s.ID = fmtdb.SiteID(&s)
	def, err := SiteDefinition("site0", &s)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	src := string(Prelude()) + def + `
int printf(const char *, ...);
int main(void) {
	unsigned i;
	for (i = 0; i < site0.desc_len; i++) printf("%02x", site0.desc[i]);
	printf(" %u\n", (unsigned)(site0.classes - site0.desc));
	return 0;
}
`
	if err := os.WriteFile(filepath.Join(dir, "t.i"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("gcc", "-std=gnu11", "-Wall", "-Wextra", "-Werror", "-o", filepath.Join(dir, "t"), filepath.Join(dir, "t.i")).CombinedOutput()
	if err != nil {
		t.Fatalf("gcc: %v\n%s", err, out)
	}
	out, err = exec.Command(filepath.Join(dir, "t")).Output()
	if err != nil {
		t.Fatal(err)
	}
	desc := s.AppendDescriptor(nil)
	off, _ := fmtdb.ClassListOffset(desc)
	want := fmt.Sprintf("%x %d", desc, off)
	if got := strings.TrimSpace(string(out)); got != want {
		t.Errorf("compiled descriptor\n got %s\nwant %s", got, want)
	}
}
