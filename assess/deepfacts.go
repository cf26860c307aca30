package assess

import (
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/connectivity"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/sccadmin"
)

// DeepFacts are the reads of the configured Cloud Connectors that may serve one subaccount (their
// own administration API, package sccadmin), with what joining them to the subaccount's
// Connectivity facts needs.
type DeepFacts struct {
	// Subaccount names the subaccount these reads are joined in: Name (the binding's), Label and
	// ID; Run fills its connectors from the Connectivity facts of the same read.
	Subaccount sccadmin.CloudSubaccount
	Reads      []*sccadmin.Health // in config file order; a read that failed carries its Failure
	Scopes     []string           // per read: the entry's subaccount ("" for any)
}

// cloudView copies the Connectivity service's view of the subaccount into the join's terms.
func (d *DeepFacts) cloudView(snap *connectivity.Snapshot) []sccadmin.CloudSubaccount {
	view := d.Subaccount
	view.Connectors = make([]sccadmin.CloudConnector, 0, len(snap.Connectors))
	for i := range snap.Connectors {
		c := &snap.Connectors[i]
		view.Connectors = append(view.Connectors, sccadmin.CloudConnector{ClientID: c.ClientID, AgentType: c.AgentType,
			AgentVersion: c.AgentVersion, ConnectedBy: c.ConnectedBy, ConnectedSince: c.ConnectedSince, LocationID: c.LocationID})
	}
	return []sccadmin.CloudSubaccount{view}
}

// join matches every read with the subaccount's Connectivity facts: the subaccounts a master
// reports (sccadmin.Join), then each shadow through the master that names it (JoinShadow). pairs
// are the HA pairs this makes certain: a matched shadow's client_id → its matched master's.
func (d *DeepFacts) join(snap *connectivity.Snapshot) (_ []sccadmin.Match, pairs map[string]string) {
	if d == nil {
		return nil, nil
	}
	pairs = map[string]string{}
	cloud := d.cloudView(snap)
	byRead := make([][]sccadmin.Match, len(d.Reads))
	for i, h := range d.Reads {
		if h != nil && h.Role != sccadmin.RoleShadow {
			byRead[i] = sccadmin.Join(h, d.scope(i), cloud)
		}
	}
	var out []sccadmin.Match
	for i, h := range d.Reads {
		if h == nil {
			continue
		}
		if h.Role == sccadmin.RoleShadow && h.Reachable() {
			m := sccadmin.Match{Connector: h.Name, Unmatched: "no configured master names this shadow's host as its shadowHost"}
			for j, master := range d.Reads {
				if master != nil && master.Role == sccadmin.RoleMaster && sccadmin.IsShadowOf(h, master) {
					m = sccadmin.JoinShadow(h, master, byRead[j], cloud)
					for _, mm := range byRead[j] {
						if m.Matched() && mm.Matched() && mm.CloudSubaccount == m.CloudSubaccount {
							pairs[m.ClientID] = mm.ClientID
							break
						}
					}
					break
				}
			}
			byRead[i] = []sccadmin.Match{m}
		}
		out = append(out, byRead[i]...)
	}
	return out, pairs
}

func (d *DeepFacts) scope(i int) string {
	if i < len(d.Scopes) {
		return d.Scopes[i]
	}
	return ""
}

// assess runs the deep-health rules over every read with its matches.
func (d *DeepFacts) assess(matches []sccadmin.Match, p DeepPolicy) []Finding {
	if d == nil {
		return nil
	}
	var out []Finding
	for _, h := range d.Reads {
		var own []sccadmin.Match
		for _, m := range matches {
			if h != nil && m.Connector == h.Name {
				own = append(own, m)
			}
		}
		out = append(out, AssessDeepHealth(h, own, p)...)
	}
	for i := range out { // answers name a subaccount by its label, like the other findings
		if out[i].Subaccount == d.Subaccount.Name && d.Subaccount.Label != "" {
			out[i].Subaccount = d.Subaccount.Label
		}
	}
	return out
}
