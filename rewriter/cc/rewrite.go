package cc

import (
	"fmt"

	"github.com/logpack/logpack/fmtdb"
	"github.com/logpack/logpack/rewriter"
)

// unitRewriter adapts package rewriter to the wrapper.
type unitRewriter struct{ cfg *rewriter.Config }

// NewRewriter returns the wrapper's rewrite step for a configuration
// (rewriter.BuildConfig).
func NewRewriter(cfg *rewriter.Config) Rewriter { return unitRewriter{cfg} }

func (u unitRewriter) RewriteUnit(src []byte, name string) (out []byte, sites []fmtdb.Site, diags []string, err error) {
	// A bug in the rewrite must not fail the build: the wrapper then
	// compiles the original source.
	defer func() {
		if r := recover(); r != nil {
			out, sites, diags, err = nil, nil, nil, fmt.Errorf("internal error: %v", r)
		}
	}()
	res, rerr := rewriter.RewritePreprocessed(src, name, u.cfg)
	if rerr != nil {
		return nil, nil, nil, rerr
	}
	diags = make([]string, len(res.Diags))
	for i, d := range res.Diags {
		diags[i] = d.String()
	}
	return res.Output, res.Sites, diags, nil
}
