package cc

import (
	"github.com/logpack/logpack/fmtdb"
	"github.com/logpack/logpack/rewriter"
)

// unitRewriter adapts package rewriter to the wrapper.
type unitRewriter struct{ cfg *rewriter.Config }

// NewRewriter returns the wrapper's rewrite step for a configuration
// (rewriter.BuildConfig).
func NewRewriter(cfg *rewriter.Config) Rewriter { return unitRewriter{cfg} }

func (u unitRewriter) RewriteUnit(src []byte, name string) ([]byte, []fmtdb.Site, []string, error) {
	res, err := rewriter.RewritePreprocessed(src, name, u.cfg)
	if err != nil {
		return nil, nil, nil, err
	}
	diags := make([]string, len(res.Diags))
	for i, d := range res.Diags {
		diags[i] = d.String()
	}
	return res.Output, res.Sites, diags, nil
}
