package decoder_test

import (
	"fmt"
	"log"
	"os"

	"github.com/logpack/logpack/decoder"
)

// Decoding a log to text in CRIU's layout.
func Example() {
	d, err := decoder.Open("testdata/features.lpk", nil)
	if err != nil {
		log.Fatal(err)
	}
	defer d.Close()
	w := decoder.NewWriter(os.Stdout, decoder.FormatCRIU, nil)
	for r, err := range d.Records() {
		if err != nil {
			log.Fatal(err)
		}
		if r.Level <= 2 { // errors and warnings only
			w.WriteRecord(r)
		}
	}
	w.Flush()
	for _, s := range d.Skipped() {
		fmt.Println("skipped:", s)
	}
	// Output:
	// (00.000000)    200: Error (criu/cr-dump.c:77): Can't dump 200: No such file or directory
	// (00.000000)    200: level 2
}

// Records are typed: the call site, the time, the writer and the raw
// arguments are there without rendering anything.
func ExampleDecoder_Records() {
	d, err := decoder.Open("testdata/features.lpk", nil)
	if err != nil {
		log.Fatal(err)
	}
	defer d.Close()
	for r, err := range d.Records() {
		if err != nil {
			log.Fatal(err)
		}
		if r.Site.File == "criu/mount.c" {
			fmt.Printf("%s:%d pid %d tid %d at %d ns: %q %v\n", r.Site.File, r.Site.Line, r.PID, r.TID, r.TS, r.Site.Format, r.Args)
			fmt.Printf("%q\n", r.AppendMessage(nil))
		}
	}
	// Output:
	// criu/mount.c:200 pid 100 tid 100 at 600 ns: "mnt: Found %s at %#lx\n" [str("/proc") uint(0x7fff0000)]
	// "mnt: Found /proc at 0x7fff0000\n"
}

// Per call site statistics, largest first.
func ExampleDecoder_Stats() {
	d, err := decoder.Open("testdata/mix.lpk", nil)
	if err != nil {
		log.Fatal(err)
	}
	defer d.Close()
	st, err := d.Stats()
	if err != nil {
		log.Fatal(err)
	}
	top := st.Sites[0]
	fmt.Printf("%d records, %d bytes; top: %s:%d, %d records, %d bytes\n", st.Records, st.Bytes, top.Site.File, top.Site.Line, top.Count, top.Bytes)
	// Output:
	// 300 records, 3656 bytes; top: criu/mem.c:312, 81 records, 879 bytes
}

// Filtering by level, process and call site.
func ExampleFilter() {
	d, err := decoder.Open("testdata/features.lpk", nil)
	if err != nil {
		log.Fatal(err)
	}
	defer d.Close()
	f := decoder.NewFilter()
	f.PIDs = []uint32{200}
	ref, _ := decoder.ParseSiteRef("log.c:5")
	f.Sites = []decoder.SiteRef{ref}
	w := decoder.NewWriter(os.Stdout, decoder.FormatJSON, nil)
	for r, err := range d.Records() {
		if err != nil {
			log.Fatal(err)
		}
		if f.Keep(r) {
			w.WriteRecord(r)
		}
	}
	w.Flush()
	// Output:
	// {"session":1,"ts":800,"pid":200,"tid":200,"level":2,"site":"5ec3eae19caaa876","index":22,"file":"criu/log.c","line":5,"func":"fn","msg":"level 2\n"}
	// {"session":1,"ts":850,"pid":200,"tid":200,"level":4,"site":"5ec3eae19caaa876","index":22,"file":"criu/log.c","line":5,"func":"fn","msg":"level 4\n"}
}
