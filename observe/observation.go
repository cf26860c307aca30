package observe

import (
	"sync"
	"time"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/assess"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/connectivity"
)

// Observation is what is known of one subaccount after a read: the facts of its last successful
// read, the findings assessed once from them, and, when the latest read failed, its error. It is
// immutable; a new read makes a new one.
type Observation struct {
	Subaccount *Subaccount
	Facts      assess.Facts   // of the last successful read; empty parts were never read
	ReadAt     time.Time      // of the last successful read; zero when there was none
	Result     *assess.Result // the findings of Facts, accepted risks applied; nil when never read
	Err        error          // of the latest read, nil when it succeeded
	Failure    string         // Err as a sentence that says what to do
	fresh      bool           // this read brought new facts (not a failure answered from old ones)
	outOfTime  bool           // the read failed because its own deadline ended
	indexOnce  sync.Once
	index      *SystemIndex
}

// Stale reports whether the latest read failed while older facts still answer.
func (o *Observation) Stale() bool { return o.Err != nil && !o.ReadAt.IsZero() }

// Fresh reports whether this observation's read brought new facts (history records those).
func (o *Observation) Fresh() bool { return o.fresh }

// Snapshot is the Connectivity service's facts; an empty snapshot when never read.
func (o *Observation) Snapshot() *connectivity.Snapshot {
	if o.Facts.Connectivity == nil {
		return connectivity.NewSnapshot(o.ReadAt, nil, nil)
	}
	return o.Facts.Connectivity
}

// Systems is the search index of the exposed systems, built once per observation.
func (o *Observation) Systems() *SystemIndex {
	o.indexOnce.Do(func() { o.index = NewSystemIndex(o.Snapshot()) })
	return o.index
}

// Part is what a question got of one subaccount: its observation (nil when it was never read
// and this question's wait ended first), and the error of this question's own wait when its
// deadline ended before a read.
type Part struct {
	Sub     *Subaccount
	Obs     *Observation
	Err     error
	Failure string
}

// Usable reports whether the part has facts to answer from.
func (p Part) Usable() bool { return p.Obs != nil && p.Obs.Result != nil }

// Failed returns the failure to report for the part, and its sentence: this question's own wait
// when it ran out, else the observation's latest read; nil when that read succeeded.
func (p Part) Failed() (error, string) {
	switch {
	case p.Err != nil:
		return p.Err, p.Failure
	case p.Obs != nil && p.Obs.Err != nil:
		return p.Obs.Err, p.Obs.Failure
	}
	return nil, ""
}

// View is what a question sees: the observation of each subaccount in scope, in subaccount order.
type View struct {
	Parts  []Part
	policy assess.Policy
}

// Usable returns the parts with facts to answer from.
func (v *View) Usable() []Part {
	var out []Part
	for _, p := range v.Parts {
		if p.Usable() {
			out = append(out, p)
		}
	}
	return out
}

// Snapshot joins the facts of the usable parts (the part's own snapshot when there is one), as
// old as the oldest of them.
func (v *View) Snapshot() *connectivity.Snapshot {
	parts := v.Usable()
	if len(parts) == 1 {
		return parts[0].Obs.Snapshot()
	}
	var connectors []connectivity.Connector
	var labels []string
	var at time.Time
	for _, p := range parts {
		s := p.Obs.Snapshot()
		connectors = append(connectors, s.Connectors...)
		labels = append(labels, s.Subaccounts...)
		if at.IsZero() || s.FetchedAt.Before(at) {
			at = s.FetchedAt
		}
	}
	return connectivity.NewSnapshot(at, connectors, labels)
}

// Assessment joins the findings of the usable parts, worst first, with a finding for each
// subaccount whose latest read failed.
func (v *View) Assessment() *assess.Result {
	var results []*assess.Result
	var unreachable []assess.Unreachable
	for _, p := range v.Parts {
		if p.Usable() {
			results = append(results, p.Obs.Result)
		}
		if err, why := p.Failed(); err != nil {
			unreachable = append(unreachable, assess.Unreachable{Subaccount: p.Sub.Label(), Binding: p.Sub.Name(), Reason: why})
		}
	}
	return assess.Merge(results, unreachable, v.policy)
}
