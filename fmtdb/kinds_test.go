package fmtdb

import (
	"strings"
	"testing"
)

// Every conversion renders every kind of value without panicking, and
// Check tells the caller which renderings are not what glibc printed.
func TestWrongKinds(t *testing.T) {
	kinds := []Value{{}, Int(-5), Uint(7), Float64(1.5), Float80(1<<63, 0x3fff), String("s"), Null(), Ptr(0x10), Errno(2), {Kind: 200}}
	for _, c := range "diouxXbBcspeEfFgGaAmCS%y" {
		for _, l := range []string{"", "hh", "h", "l", "L"} {
			f, err := Parse("%-+ #08.3" + l + string(c) + "|%*.*" + l + string(c))
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range kinds {
				args := make([]Value, len(f.Args))
				for i := range args {
					args[i] = v
				}
				f.Append(nil, args)
				f.Append(nil, args[:len(args)/2])
				err := f.Check(args)
				match := true
				for _, a := range f.Args {
					match = match && (a.Class.Accepts(v.Kind) || a.Class == ClassStr && v.Kind == KindErrno)
				}
				if match && err != nil && !strings.Contains(err.Error(), "limit") || !match && err == nil {
					t.Errorf("%q with %v: Check = %v", f.Text, v, err)
				}
			}
		}
	}
	f, _ := Parse("%d %s")
	if err := f.Check([]Value{Int(1), Errno(2)}); err != nil {
		t.Errorf("Check refuses errno for %%s: %v", err)
	}
	if err := f.Check([]Value{Int(1)}); err == nil {
		t.Error("Check accepts a missing argument")
	}
	if got := string(f.Append(nil, []Value{String("x"), Int(3)})); got != "0 (?)" {
		t.Errorf("wrong kinds render %q, want the documented \"0 (?)\"", got)
	}
	g, _ := Parse("%*d|%.*s")
	if err := g.Check([]Value{Int(MaxAmount + 1), Int(1), Int(2), String("abc")}); err == nil {
		t.Error("Check accepts a width over MaxAmount")
	}
	if got := len(g.Append(nil, []Value{Int(1 << 30), Int(1), Int(2), String("abc")})); got != MaxAmount+1+2 {
		t.Errorf("a huge '*' width renders %d bytes, want it clamped to MaxAmount", got)
	}
}

// A decoder fills a reused []Value from record bytes and renders into a
// reused buffer: neither step allocates.
func TestAppendDoesNotAllocate(t *testing.T) {
	record := []byte("criu/mount.c/proc/self/mountinfo")
	f, err := Parse("Error (%s:%d): %-10s %.*s %#lx %5.2x %c %p %m %s %+d|%hhu\n")
	if err != nil {
		t.Fatal(err)
	}
	vals := make([]Value, len(f.Args))
	buf := make([]byte, 0, 1024)
	allocs := testing.AllocsPerRun(100, func() {
		vals[0] = Bytes(record[:12])
		vals[1] = Int(1234)
		vals[2] = Bytes(record[12:17])
		vals[3] = Int(4)
		vals[4] = Bytes(record[12:])
		vals[5] = Uint(0xdead)
		vals[6] = Uint(0xab)
		vals[7] = Int('x')
		vals[8] = Ptr(0x7ffd0000)
		vals[9] = Errno(2)
		vals[10] = Null()
		vals[11] = Int(-1)
		vals[12] = Uint(300)
		buf = f.Append(buf[:0], vals)
	})
	if allocs != 0 {
		t.Errorf("rendering allocates %v times", allocs)
	}
	if err := f.Check(vals); err != nil {
		t.Error(err)
	}
	if d := diff(f.Text, vals...); d != "" {
		t.Error(d)
	}
}
