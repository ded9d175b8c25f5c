package decoder

import (
	"context"
	"errors"
	"time"
)

// Follow is defined in follow_live.go.
var errNoFollow = errors.New("follow: not available")

func Follow(ctx context.Context, path string, opts *Options, poll time.Duration, start func(*Header), fn func(*Record) error, flush func() error) error {
	return errNoFollow
}
