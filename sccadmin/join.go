package sccadmin

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// No connector-side field equals the cloud side's client_id. The join matches on what both
// sides report about the same connector and subaccount: the tunnel's connected-since time and the
// cloud's connected_since (to the millisecond) decide; the tunnel user against connected_by, the
// version, the role and the location ID support. An answer says which evidence matched and which
// disagreed; nothing is guessed: no decisive evidence, or more than one candidate, is unmatched.

// CloudConnector is what the Connectivity service reports of one connector: the fields of
// connectivity.Connector the join reads (the caller copies them; this package does not import
// the connectivity source).
type CloudConnector struct {
	ClientID       string
	AgentType      string // "master" or "shadow"
	AgentVersion   string // three parts, "2.18.2"
	ConnectedBy    string
	ConnectedSince time.Time
	LocationID     string // "" when the API reports none
}

// CloudSubaccount is the Connectivity service's view of one subaccount.
type CloudSubaccount struct {
	Name       string // the binding's name
	Label      string // the subaccount's subdomain or ID (binding.Label)
	ID         string // the subaccount ID, when the binding tells it
	Connectors []CloudConnector
}

// Evidence names.
const (
	EvidenceConnectedSince = "connected_since" // tunnel connected-since = connected_since (ms)
	EvidenceConnectedBy    = "connected_by"    // tunnel user = connected_by
	EvidenceVersion        = "version"         // the first three parts of the version = agent_version
	EvidenceRole           = "role"            // the HA role = agent_type
	EvidenceLocation       = "location_id"     // the location IDs agree
	EvidenceSubaccountID   = "subaccount_id"   // the subaccount ID = the binding's subaccount_id
	EvidenceMaster         = "master"          // a shadow: its master's shadowHost is one of its own hosts
)

// Match is the join of one subaccount a connector reports (or of a shadow) with the cloud's view.
type Match struct {
	Connector  string // the configured name
	Subaccount string // the subaccount ID the connector reports ("" for a shadow)
	LocationID string
	// CloudSubaccount is the Name of the cloud subaccount matched in; ClientID the connector
	// there. Both are "" when unmatched.
	CloudSubaccount string
	ClientID        string
	Evidence        []string // evidence that agreed
	Conflicts       []string // supporting evidence that disagreed, each "name: connector says X, cloud says Y"
	Unmatched       string   // why nothing matched; "" when matched
}

// Matched reports whether a cloud connector was found.
func (m Match) Matched() bool { return m.ClientID != "" }

// scopeFor returns the cloud subaccounts the admin subaccount id may be matched in: the one
// with that ID if any is known, else the one named scope (the entry's subaccount), else all.
func scopeFor(id, scope string, cloud []CloudSubaccount) (subs []CloudSubaccount, byID bool) {
	for _, c := range cloud {
		if id != "" && strings.EqualFold(c.ID, id) {
			return []CloudSubaccount{c}, true
		}
	}
	for _, c := range cloud {
		if scope != "" && (c.Name == scope || c.Label == scope || strings.EqualFold(c.ID, scope)) {
			return []CloudSubaccount{c}, false
		}
	}
	if scope != "" {
		return nil, false
	}
	return cloud, false
}

// Join matches each subaccount a master reports to a connector of the cloud's view. scope is
// the entry's subaccount (a name, label or ID; "" for every subaccount in cloud). A read without
// subaccounts (a shadow, a failure) gives no matches.
func Join(h *Health, scope string, cloud []CloudSubaccount) []Match {
	if h == nil {
		return nil
	}
	var out []Match
	for _, s := range h.Subaccounts {
		m := Match{Connector: h.Name, Subaccount: s.ID, LocationID: s.LocationID}
		subs, byID := scopeFor(s.ID, scope, cloud)
		since := s.Tunnel.ConnectedSince
		switch {
		case len(subs) == 0:
			m.Unmatched = fmt.Sprintf("no bound subaccount is named %q (the entry's subaccount)", scope)
		case since.IsZero():
			m.Unmatched = fmt.Sprintf("the tunnel (state %s) reports no connected-since time, the one decisive evidence", orDash(s.Tunnel.State))
		default:
			type cand struct {
				sub string
				c   CloudConnector
			}
			var cands []cand
			for _, sub := range subs {
				for _, c := range sub.Connectors {
					if c.ConnectedSince.UnixMilli() == since.UnixMilli() {
						cands = append(cands, cand{sub.Name, c})
					}
				}
			}
			if len(cands) > 1 { // equal times: the tunnel user decides, else nothing
				cands = slices.DeleteFunc(cands, func(x cand) bool { return x.c.ConnectedBy != s.Tunnel.User })
			}
			switch len(cands) {
			case 0:
				m.Unmatched = fmt.Sprintf("no connector in %s reports connected_since %d (%s)", subNames(subs), since.UnixMilli(), since.UTC().Format(time.RFC3339Nano))
			case 1:
				c := cands[0]
				m.CloudSubaccount, m.ClientID = c.sub, c.c.ClientID
				m.Evidence = []string{EvidenceConnectedSince}
				if byID {
					m.Evidence = append(m.Evidence, EvidenceSubaccountID)
				}
				m.support(EvidenceConnectedBy, s.Tunnel.User, c.c.ConnectedBy)
				m.support(EvidenceVersion, threeParts(h.Version), threeParts(c.c.AgentVersion))
				m.support(EvidenceRole, h.Role, c.c.AgentType)
				m.support(EvidenceLocation, s.LocationID, c.c.LocationID)
			default:
				ids := make([]string, len(cands))
				for i, c := range cands {
					ids[i] = c.c.ClientID
				}
				m.Unmatched = fmt.Sprintf("%d connectors report the same connected_since and user (%s): not guessed", len(cands), strings.Join(ids, ", "))
			}
		}
		out = append(out, m)
	}
	return out
}

// support records supporting evidence: agreed, disagreed, or not comparable (one side empty).
func (m *Match) support(name, ours, theirs string) {
	switch {
	case ours == "" || theirs == "":
	case strings.EqualFold(ours, theirs):
		m.Evidence = append(m.Evidence, name)
	default:
		m.Conflicts = append(m.Conflicts, fmt.Sprintf("%s: connector says %q, cloud says %q", name, ours, theirs))
	}
}

// JoinShadow matches a shadow to a cloud connector: its master (the read whose shadowHost is one
// of the shadow's own hosts) must be matched already (masterMatches, from Join); the candidates
// are the shadows of that subaccount, narrowed by the master's location ID (when the cloud reports
// locations) and the shadow's version. Exactly one candidate matches; anything else is unmatched.
func JoinShadow(shadow, master *Health, masterMatches []Match, cloud []CloudSubaccount) Match {
	m := Match{Connector: shadow.Name}
	switch {
	case shadow.Role != RoleShadow:
		m.Unmatched = "not a shadow"
		return m
	case master == nil || master.HA == nil || !pairs(master.HA.ShadowHost, shadow.HA):
		m.Unmatched = "no configured master names this shadow's host as its shadowHost"
		return m
	}
	var mm *Match
	for i := range masterMatches {
		if masterMatches[i].Matched() {
			mm = &masterMatches[i]
			break
		}
	}
	if mm == nil {
		m.Unmatched = fmt.Sprintf("its master %q is not matched", master.Name)
		return m
	}
	m.LocationID = mm.LocationID
	m.Evidence = []string{EvidenceMaster}
	var cands []CloudConnector
	for _, sub := range cloud {
		if sub.Name == mm.CloudSubaccount {
			for _, c := range sub.Connectors {
				if strings.EqualFold(c.AgentType, RoleShadow) {
					cands = append(cands, c)
				}
			}
		}
	}
	// narrow keeps the candidates that agree on one piece of evidence, when any does.
	narrow := func(name string, keep func(CloudConnector) bool) {
		if kept := slices.DeleteFunc(slices.Clone(cands), func(c CloudConnector) bool { return !keep(c) }); len(kept) > 0 {
			cands = kept
			m.Evidence = append(m.Evidence, name)
		}
	}
	narrow(EvidenceLocation, func(c CloudConnector) bool { return c.LocationID != "" && c.LocationID == mm.LocationID })
	if v := threeParts(shadow.Version); v != "" {
		narrow(EvidenceVersion, func(c CloudConnector) bool { return threeParts(c.AgentVersion) == v })
	}
	switch len(cands) {
	case 0:
		m.Evidence = nil
		m.Unmatched = fmt.Sprintf("the cloud reports no shadow in %s", mm.CloudSubaccount)
	case 1:
		m.CloudSubaccount, m.ClientID = mm.CloudSubaccount, cands[0].ClientID
		m.Evidence = append(m.Evidence, EvidenceRole)
	default:
		ids := make([]string, len(cands))
		for i, c := range cands {
			ids[i] = c.ClientID
		}
		m.Evidence = nil
		m.Unmatched = fmt.Sprintf("%d shadows in %s fit (%s): not guessed", len(cands), mm.CloudSubaccount, strings.Join(ids, ", "))
	}
	return m
}

// pairs reports whether a master's shadowHost is one of the shadow's own hosts (host part, any case).
// IsShadowOf reports whether master names shadow as its shadow: the master's shadowHost is one of
// the shadow's own hosts.
func IsShadowOf(shadow, master *Health) bool {
	return shadow != nil && master != nil && master.HA != nil && pairs(master.HA.ShadowHost, shadow.HA)
}

func pairs(shadowHost string, ha *HAState) bool {
	host := hostPart(shadowHost)
	if host == "" || ha == nil {
		return false
	}
	return slices.ContainsFunc(ha.OwnHosts, func(h string) bool { return strings.EqualFold(hostPart(h), host) })
}

func hostPart(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, ':'); i > 0 && !strings.Contains(s[i:], "]") {
		s = s[:i]
	}
	return strings.Trim(s, "[]")
}

// threeParts returns the first three parts of a version, "2.19.0" of "2.19.0.2".
func threeParts(v string) string {
	parts := strings.Split(strings.TrimSpace(v), ".")
	if len(parts) > 3 {
		parts = parts[:3]
	}
	return strings.Join(parts, ".")
}

func subNames(subs []CloudSubaccount) string {
	names := make([]string, len(subs))
	for i, s := range subs {
		names[i] = s.Name
	}
	return strings.Join(names, ", ")
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
