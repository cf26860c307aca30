package history

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/connectivity"
)

// Diff returns what changed from prev to cur, two reads of one subaccount, in a stable order
// (by connector, then kind and field). Connectors are matched by client ID, exposed systems by
// protocol and host, security checks by key, findings by fingerprint.
//
// Severities: a connector that disappeared is high when it was the master (or its role is
// unknown), else medium; a role change is medium; a security check that got worse takes the
// severity of its new rating (high_risk high, medium_risk or an unknown or missing rating
// medium, low_risk low), one that got better is info; a newly exposed system is medium, a
// changed one low, a removed one info; a new finding takes its own severity, a finding whose
// severity rose takes the new one, a lowered or resolved one is info; a new connector, a
// reconnection and a restart are low; version and Java changes are info. The deep health of
// configured connectors (tunnels, certificates, HA, their alerts) is compared by connector name;
// see [HealthState].
func Diff(prev, cur Read) []Change {
	var out []Change
	add := func(clientID string, kind Kind, field, old, new, detail, severity string) {
		out = append(out, Change{
			ObservedAt: cur.At, PreviousReadAt: prev.At, Subaccount: cur.Subaccount,
			ClientID: clientID, Kind: kind, Field: field, Old: old, New: new, Detail: detail, Severity: severity,
		})
	}

	before, after := byKey(prev.Connectors), byKey(cur.Connectors)
	for _, key := range unionKeys(before, after) {
		p, c := before[key], after[key]
		switch {
		case p == nil:
			add(c.ClientID, KindConnectorAppeared, "", "", c.AgentType, describe(c), SeverityLow)
		case c == nil:
			sev := SeverityHigh
			if p.IsShadow() {
				sev = SeverityMedium
			}
			add(p.ClientID, KindConnectorDisappeared, "", p.AgentType, "", describe(p), sev)
		default:
			diffConnector(p, c, add)
		}
	}

	diffHealth(prev.Health, cur.Health, add) // deep health: see diffHealth for its severities

	oldF, newF := byFingerprint(prev.Findings), byFingerprint(cur.Findings)
	for _, fp := range unionKeys(oldF, newF) {
		p, c := oldF[fp], newF[fp]
		switch {
		case p == nil:
			add(c.ClientID, KindFindingNew, c.Rule, "", c.Severity, c.Title, c.Severity)
		case c == nil:
			add(p.ClientID, KindFindingResolved, p.Rule, p.Severity, "", p.Title, SeverityInfo)
		case p.Severity != c.Severity:
			sev := SeverityInfo
			if SeverityRank(c.Severity) > SeverityRank(p.Severity) {
				sev = c.Severity
			}
			add(c.ClientID, KindFindingChanged, "severity", p.Severity, c.Severity, c.Title, sev)
		}
	}
	return out
}

type addFunc func(clientID string, kind Kind, field, old, new, detail, severity string)

func diffConnector(p, c *connectivity.Connector, add addFunc) {
	id := c.ClientID
	if p.AgentType != c.AgentType {
		add(id, KindRoleChanged, "agent_type", p.AgentType, c.AgentType, "", SeverityMedium)
	}
	if !p.RecentStart.Equal(c.RecentStart) {
		add(id, KindRestarted, "agent_recent_start", stamp(p.RecentStart), stamp(c.RecentStart), "", SeverityLow)
	}
	if !p.ConnectedSince.Equal(c.ConnectedSince) {
		add(id, KindReconnected, "connected_since", stamp(p.ConnectedSince), stamp(c.ConnectedSince), "", SeverityLow)
	}
	if p.AgentVersion != c.AgentVersion {
		add(id, KindVersionChanged, "agent_version", p.AgentVersion, c.AgentVersion, "", SeverityInfo)
	}
	if p.JavaVersion != c.JavaVersion {
		add(id, KindJavaChanged, "java_version", p.JavaVersion, c.JavaVersion, "", SeverityInfo)
	}

	oldR, newR := ratings(p.Security), ratings(c.Security)
	for _, key := range unionKeys(oldR, newR) {
		o, n := oldR[key], newR[key]
		if o == n {
			continue
		}
		sev := SeverityInfo
		if n == "" || n.Rank() > o.Rank() || o == "" {
			switch n {
			case connectivity.RiskHigh:
				sev = SeverityHigh
			case connectivity.RiskLow:
				sev = SeverityLow
			case connectivity.RiskOK:
				sev = SeverityInfo
			default:
				sev = SeverityMedium
			}
		}
		add(id, KindSecurityChanged, key, string(o), string(n), "", sev)
	}

	oldS, newS := systemsByKey(p.ExposedSystems), systemsByKey(c.ExposedSystems)
	for _, key := range unionKeys(oldS, newS) {
		o, n := oldS[key], newS[key]
		switch {
		case o == nil:
			add(id, KindSystemExposed, key, "", n.Status, systemDetail(n), SeverityMedium)
		case n == nil:
			add(id, KindSystemRemoved, key, o.Status, "", systemDetail(o), SeverityInfo)
		default:
			for _, f := range [...]struct{ name, old, new string }{
				{"type", o.Type, n.Type}, {"status", o.Status, n.Status}, {"description", o.Description, n.Description},
			} {
				if f.old != f.new {
					add(id, KindSystemChanged, key+" "+f.name, f.old, f.new, "", SeverityLow)
				}
			}
		}
	}
}

// byKey indexes connectors by client ID; a repeated or empty ID gets a numbered suffix so that no
// connector is dropped.
func byKey(cs []connectivity.Connector) map[string]*connectivity.Connector {
	m := make(map[string]*connectivity.Connector, len(cs))
	for i := range cs {
		m[uniqueKey(m, cs[i].ClientID)] = &cs[i]
	}
	return m
}

func uniqueKey[V any](m map[string]V, key string) string {
	k := key
	for n := 2; ; n++ {
		if _, dup := m[k]; !dup {
			return k
		}
		k = key + "#" + strconv.Itoa(n)
	}
}

func byFingerprint(fs []Finding) map[string]*Finding {
	m := make(map[string]*Finding, len(fs))
	for i := range fs {
		m[fs[i].Fingerprint] = &fs[i]
	}
	return m
}

// ratings maps each check key to its rating; nil security status gives an empty map, so every
// check it had reads as now missing ("").
func ratings(s *connectivity.SecurityStatus) map[string]connectivity.Risk {
	m := map[string]connectivity.Risk{}
	if s != nil {
		for _, c := range s.Checks {
			m[c.Key] = c.Status
		}
	}
	return m
}

// systemsByKey indexes exposed systems by "PROTOCOL host".
func systemsByKey(list []connectivity.ExposedSystem) map[string]*connectivity.ExposedSystem {
	m := make(map[string]*connectivity.ExposedSystem, len(list))
	for i := range list {
		m[uniqueKey(m, list[i].Protocol+" "+list[i].Host)] = &list[i]
	}
	return m
}

func unionKeys[V any](a, b map[string]V) []string {
	keys := make([]string, 0, max(len(a), len(b)))
	for k := range a {
		keys = append(keys, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, cmp.Compare)
	return keys
}

func describe(c *connectivity.Connector) string {
	return fmt.Sprintf("%s %s, location %q, %d exposed systems", c.AgentType, c.AgentVersion, c.LocationID, len(c.ExposedSystems))
}

func systemDetail(s *connectivity.ExposedSystem) string {
	return fmt.Sprintf("%s, %q", s.Type, s.Description)
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}
