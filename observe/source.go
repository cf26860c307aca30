package observe

import (
	"context"
	"slices"
	"time"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/assess"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/connectivity"
)

// Source reads one kind of facts of one subaccount. Read fills its own part of f within ctx's
// deadline and leaves f untouched when it fails; refresh says a question asked for new facts (a
// source with a cache of its own reads past it); sources of one subaccount run concurrently, each
// on its own part. The pipeline owns caching, backoff, parallelism and publication; a new source
// is one type and one registration (Bound.Sources), its rules one function in assess.
type Source interface {
	Read(ctx context.Context, f *assess.Facts, refresh bool) error
}

// connectivitySource reads the Connectivity service's Cloud Connector info of a subaccount.
type connectivitySource struct{ client *connectivity.Client }

func (s connectivitySource) Read(ctx context.Context, f *assess.Facts, _ bool) error {
	at := time.Now()
	connectors, err := s.client.CloudConnectors(ctx)
	if err != nil {
		return err
	}
	f.Connectivity = connectivity.NewSnapshot(at, connectors, slices.Repeat([]string{s.client.Binding().Label()}, len(connectors)))
	return nil
}

// sameFacts reports whether b is what a was: the very connectors (connectivity.Reader decodes an
// unchanged answer to the same slice), read through the same subaccounts, and no deep health,
// whose findings depend on the time.
func sameFacts(a, b assess.Facts) bool {
	x, y := a.Connectivity, b.Connectivity
	return a.Deep == nil && b.Deep == nil && x != nil && y != nil && len(x.Connectors) > 0 &&
		len(x.Connectors) == len(y.Connectors) && &x.Connectors[0] == &y.Connectors[0] &&
		slices.Equal(x.Subaccounts, y.Subaccounts)
}
