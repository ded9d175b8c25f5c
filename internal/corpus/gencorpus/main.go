// Command gencorpus writes the generated CRIU-like tree into a directory:
//
//	go run ./internal/corpus/gencorpus [-full|-realistic] [-seed N] DIR
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/logpack/logpack/internal/corpus"
)

func main() {
	full := flag.Bool("full", false, "the full corpus (>= 3,000 call sites in >= 50 files) instead of the small one")
	realistic := flag.Bool("realistic", false, "a corpus with CRIU's density of log calls (ordinary code around them), for build benchmarks")
	seed := flag.Uint64("seed", 1, "generator seed")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: gencorpus [-full|-realistic] [-seed N] DIR")
		os.Exit(2)
	}
	cfg := corpus.Small()
	if *full {
		cfg = corpus.Full()
	}
	if *realistic {
		cfg = corpus.Realistic()
	}
	cfg.Seed = *seed
	c := corpus.Generate(cfg)
	if err := c.Write(flag.Arg(0)); err != nil {
		fmt.Fprintln(os.Stderr, "gencorpus:", err)
		os.Exit(1)
	}
	fmt.Printf("%d files with log calls; program: %d rewritable sites, %d pr_msg; plugin %d; version unit %d (compiled twice); no-glibc %d\n",
		c.LogFiles, c.Sites, c.TextSites, c.PluginSites, c.VersionSites, c.PieSites)
}
