package assess_test

import (
	"slices"
	"testing"
	"time"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/assess"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/connectivity"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/sccadmin"
)

// TestDeepHealthMakesHAPairingExact: two masters alike in version and connected_by and a shadow
// that exposes nothing yet cannot be paired by evidence; the administration API names the shadow's
// master, so the pair is certain.
func TestDeepHealthMakesHAPairingExact(t *testing.T) {
	t.Parallel()
	since := time.Date(2026, 11, 9, 6, 12, 44, 120e6, time.UTC)
	sys := func(host string) []connectivity.ExposedSystem {
		return []connectivity.ExposedSystem{{Protocol: "HTTPS", Host: host, Status: "exposed"}}
	}
	cs := []connectivity.Connector{
		{ClientID: "1", AgentType: "master", AgentVersion: "2.18.2", ConnectedBy: "basis", ConnectedSince: since.Add(-time.Hour), ExposedSystems: sys("a:443")},
		{ClientID: "2", AgentType: "master", AgentVersion: "2.18.2", ConnectedBy: "basis", ConnectedSince: since, ExposedSystems: sys("b:443")},
		{ClientID: "3", AgentType: "shadow", AgentVersion: "2.18.2", ConnectedBy: "basis"},
	}
	snap := connectivity.NewSnapshot(since, cs, []string{"prod", "prod", "prod"})
	master := &sccadmin.Health{Name: "scc b", Version: "2.18.2.1", Role: "master", HA: &sccadmin.HAState{MasterState: "CONNECTED", ShadowHost: "scc-b-2:8443"},
		Subaccounts: []sccadmin.Subaccount{{ID: "sub-1", Tunnel: sccadmin.Tunnel{State: "Connected", ConnectedSince: since, User: "basis"}}}}
	shadow := &sccadmin.Health{Name: "scc b shadow", Version: "2.18.2.1", Role: "shadow", HA: &sccadmin.HAState{ShadowState: "READY", OwnHosts: []string{"scc-b-2"}}}
	noShadow := func(res *assess.Result) []string {
		var out []string
		for _, f := range res.Findings {
			if f.Rule == assess.RuleHANoShadow || f.Rule == assess.RuleHAUnmatchedShadow {
				out = append(out, f.Rule+" "+f.ClientID)
			}
		}
		slices.Sort(out)
		return out
	}
	without, err := assess.Run(assess.Facts{Connectivity: snap}, assess.Policy{})
	if err != nil {
		t.Fatal(err)
	}
	if got := noShadow(without); !slices.Equal(got, []string{"ha.no_shadow 1", "ha.no_shadow 2", "ha.unmatched_shadow 3"}) {
		t.Fatalf("by evidence alone: %v", got)
	}
	with, err := assess.Run(assess.Facts{Connectivity: snap, Deep: &assess.DeepFacts{
		Subaccount: sccadmin.CloudSubaccount{Name: "prod", Label: "prod", ID: "sub-1"}, Reads: []*sccadmin.Health{master, shadow}}}, assess.Policy{})
	if err != nil {
		t.Fatal(err)
	}
	if got := noShadow(with); !slices.Equal(got, []string{"ha.no_shadow 1"}) {
		t.Errorf("with the administration API: %v, want only master 1 without a shadow", got)
	}
	if len(with.Matches) != 2 || with.Matches[0].ClientID != "2" || with.Matches[1].ClientID != "3" {
		t.Errorf("matches %+v", with.Matches)
	}
}
