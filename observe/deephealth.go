package observe

import (
	"context"
	"fmt"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/assess"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/binding"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/sccadmin"
)

// DeepHealthSource reads, for one subaccount, the configured Cloud Connectors that may serve it
// through their own administration API (package sccadmin) into assess.Facts.Deep. The Reader's
// cache and shared reads serve every subaccount, so a connector read for one is not read again
// for the next within its TTL. It never fails the subaccount's read: a connector that cannot be
// read is a Health with its Failure, which the rules turn into a finding.
type DeepHealthSource struct {
	reader *sccadmin.Reader
	sub    sccadmin.CloudSubaccount // the subaccount's name, label and ID
}

// NewDeepHealthSource returns the deep-health source of the subaccount bound by b, or nil when
// no configured connector may serve it (nothing to register).
func NewDeepHealthSource(reader *sccadmin.Reader, b *binding.Binding) *DeepHealthSource {
	if reader == nil || b == nil || len(reader.NamesFor(b.Name, b.Label(), b.SubaccountID)) == 0 {
		return nil
	}
	return &DeepHealthSource{reader: reader, sub: sccadmin.CloudSubaccount{Name: b.Name, Label: b.Label(), ID: b.SubaccountID}}
}

// Read reads the connectors that may serve the subaccount, in config file order, from the
// Reader's cache unless refresh. A connector whose read outlasts ctx keeps its previous read, or is reported unreachable when there is none.
func (s *DeepHealthSource) Read(ctx context.Context, f *assess.Facts, refresh bool) error {
	// The connectors get three quarters of the read's time: the rest is the assessment's and the
	// caller's, so that a connector that never answers cannot make the subaccount's observation
	// (the Connectivity service's facts) miss the deadline of the question that asked for it.
	if deadline, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, time.Now().Add(time.Until(deadline)*3/4))
		defer cancel()
	}
	names := s.reader.NamesFor(s.sub.Name, s.sub.Label, s.sub.ID)
	prev := map[string]*sccadmin.Health{}
	if f.Deep != nil {
		for _, h := range f.Deep.Reads {
			if h != nil {
				prev[h.Name] = h
			}
		}
	}
	deep := &assess.DeepFacts{Subaccount: s.sub, Reads: make([]*sccadmin.Health, len(names)), Scopes: make([]string, len(names))}
	var g errgroup.Group
	g.SetLimit(sccadmin.DefaultConnectors)
	for i, name := range names {
		if e := s.reader.Entry(name); e != nil {
			deep.Scopes[i] = e.Subaccount
		}
		g.Go(func() error {
			h, err := s.reader.Read(ctx, name, refresh)
			switch {
			case err == nil:
			case prev[name] != nil:
				h = prev[name]
			default:
				e := s.reader.Entry(name)
				h = &sccadmin.Health{Name: name, Endpoint: e.Endpoint(), User: e.User, Failure: &sccadmin.Failure{Kind: sccadmin.FailureUnreachable,
					Message: fmt.Sprintf("connector %q was not read within the subaccount's read (%v); it is read on", name, err)}}
			}
			deep.Reads[i] = h
			return nil
		})
	}
	_ = g.Wait()
	f.Deep = deep
	return nil
}
