package observe_test

import (
	"testing"
	"time"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/observe"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/simulator"
)

// A read that brings the same answer again is a new observation of the very same connectors and
// findings: nothing is decoded or assessed twice. A changed answer is assessed anew (and so is
// one after an accepted risk expired: assess.TestPolicyHolds).
func TestUnchangedReadKeepsItsFindings(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		change     func(*simulator.Server)
		reassessed bool
	}{
		{"unchanged", func(*simulator.Server) {}, false},
		{"changed answer", func(sim *simulator.Server) { sim.SetLandscape(simulator.CleanLandscape()) }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sim, p, _ := pipeline(t, observe.Options{CacheTTL: time.Hour})
			first := p.Observe(t.Context(), p.Subaccounts(), false, nil).Parts[0].Obs
			tc.change(sim)
			second := p.Observe(t.Context(), p.Subaccounts(), true, nil).Parts[0].Obs
			if first.Err != nil || second.Err != nil || sim.Counts().APIRequests != 2 || second == first {
				t.Fatalf("two reads: %v, %v, %d API requests", first.Err, second.Err, sim.Counts().APIRequests)
			}
			sameConnectors := &first.Snapshot().Connectors[0] == &second.Snapshot().Connectors[0]
			if reassessed := second.Result != first.Result; reassessed != tc.reassessed || sameConnectors == (tc.name == "changed answer") {
				t.Errorf("assessed anew %v (want %v), the same connectors %v", reassessed, tc.reassessed, sameConnectors)
			}
		})
	}
}
