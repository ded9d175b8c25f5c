package cc

import (
	"fmt"

	"github.com/logpack/logpack/fmtdb"
	"github.com/logpack/logpack/internal/sitetab"
	"github.com/logpack/logpack/rewriter"
)

// Unit is one preprocessed translation unit to rewrite.
type Unit struct {
	Text []byte
	Name string // the source file as given to the compiler (for messages)
	// ID makes the unit's site symbols unique in a program: a hash of
	// the unit and the object it becomes.
	ID string
	// Strings says where the compiler puts the unit's string literals.
	Strings sitetab.StringRule
}

// Rewritten is the result of rewriting a unit.
type Rewritten struct {
	Out     []byte       // the complete unit to compile
	Sites   []fmtdb.Site // the sites it defines
	Diags   []string     // calls left as text, and why
	Changed bool         // Out differs from the unit
}

// Rewriter rewrites the log calls of one preprocessed translation unit.
type Rewriter interface {
	RewriteUnit(u *Unit) (*Rewritten, error)
}

// unitRewriter adapts package rewriter to the wrapper.
type unitRewriter struct{ cfg *rewriter.Config }

// NewRewriter returns the wrapper's rewrite step for a configuration
// (rewriter.BuildConfig). Its calls go to per-signature encoders, which
// the wrapper generates when it links.
func NewRewriter(cfg *rewriter.Config) Rewriter { return unitRewriter{cfg} }

func (u unitRewriter) RewriteUnit(unit *Unit) (rw *Rewritten, err error) {
	// A bug in the rewrite must not fail the build: the wrapper then
	// compiles the original source.
	defer func() {
		if r := recover(); r != nil {
			rw, err = nil, fmt.Errorf("internal error: %v", r)
		}
	}()
	cfg := *u.cfg
	cfg.Encoders, cfg.UnitID, cfg.Strings = true, unit.ID, unit.Strings
	res, err := rewriter.RewritePreprocessed(unit.Text, unit.Name, &cfg)
	if err != nil {
		return nil, err
	}
	rw = &Rewritten{Out: res.Output, Sites: res.Sites, Changed: res.Changed}
	for _, d := range res.Diags {
		rw.Diags = append(rw.Diags, d.String())
	}
	return rw, nil
}
