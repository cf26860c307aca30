package assess

import (
	"crypto/sha256"
	"slices"
	"strconv"
	"strings"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/connectivity"
)

// High availability without location IDs. The API documents no location attribute, and two
// masters connected to one subaccount normally sit in two locations (SAP: "The location ID must
// be unique per subaccount"). So an absent location means "unknown", never "the default
// location", and each shadow is paired with its master by evidence:
//
//  1. the same reported location, when both report one;
//  2. otherwise the shadow mirrors its master's configuration: identical, non-empty sets of
//     exposed systems (protocol and virtual host), with the same version and connected_by as
//     supporting evidence;
//  3. a shadow that exposes nothing yet (not connected, or not yet synchronised), or a pair whose
//     systems could not be read, is paired only when exactly one unpaired master has both its
//     version and its connected_by.
//
// Each master takes at most one shadow ("Only one shadow instance is supported"). Two masters
// are a double master only when both report the same location.

// pairing is the outcome of pairing one snapshot's masters and shadows.
type pairing struct {
	masterOf map[int]int    // shadow index → master index
	shadowOf map[int]int    // master index → shadow index
	how      map[int]string // shadow index → how the pair was matched, for evidence
	doubles  [][]int        // masters that report the same location, per location
	inDouble map[int]bool
	keys     map[int][sha256.Size]byte // systemsKey of each connector compared
}

// pairHA pairs the masters and shadows of every subaccount of snap. known are the pairs the
// Cloud Connectors' own administration API tells (shadow client_id → master client_id, from the
// deep-health join): they are taken first, as facts, before any inference.
func pairHA(snap *connectivity.Snapshot, known map[string]string) pairing {
	p := pairing{masterOf: map[int]int{}, shadowOf: map[int]int{}, how: map[int]string{}, inDouble: map[int]bool{}, keys: map[int][sha256.Size]byte{}}
	type group struct{ masters, shadows []int }
	groups := map[string]*group{}
	var order []string
	for i := range snap.Connectors {
		c := &snap.Connectors[i]
		if !c.IsMaster() && !c.IsShadow() {
			continue
		}
		sub := ""
		if i < len(snap.Subaccounts) {
			sub = snap.Subaccounts[i]
		}
		g := groups[sub]
		if g == nil {
			g = &group{}
			groups[sub] = g
			order = append(order, sub)
		}
		if c.IsMaster() {
			g.masters = append(g.masters, i)
		} else {
			g.shadows = append(g.shadows, i)
		}
	}
	for _, sub := range order {
		p.pairKnown(snap.Connectors, groups[sub].masters, groups[sub].shadows, known)
		p.pairGroup(snap.Connectors, groups[sub].masters, groups[sub].shadows)
	}
	return p
}

// pairKnown pairs the shadows whose master the administration API names.
func (p *pairing) pairKnown(cs []connectivity.Connector, masters, shadows []int, known map[string]string) {
	for _, s := range shadows {
		master, ok := known[cs[s].ClientID]
		if !ok {
			continue
		}
		for _, m := range masters {
			if _, taken := p.shadowOf[m]; !taken && cs[m].ClientID == master {
				p.pair(m, s, "the Cloud Connectors' administration API (the master names this shadow's host)")
				break
			}
		}
	}
}

func (p *pairing) pairGroup(cs []connectivity.Connector, masters, shadows []int) {
	// 1. Reported locations.
	byLocation := map[string][]int{}
	var locations []string
	for _, m := range masters {
		if loc := cs[m].LocationID; loc != "" {
			if byLocation[loc] == nil {
				locations = append(locations, loc)
			}
			byLocation[loc] = append(byLocation[loc], m)
		}
	}
	for _, loc := range locations {
		if ms := byLocation[loc]; len(ms) > 1 {
			p.doubles = append(p.doubles, ms)
			for _, m := range ms {
				p.inDouble[m] = true
			}
		}
	}
	for _, s := range shadows {
		loc := cs[s].LocationID
		if _, done := p.masterOf[s]; done || loc == "" {
			continue
		}
		for _, m := range byLocation[loc] {
			if _, taken := p.shadowOf[m]; !taken {
				p.pair(m, s, "same location "+strconv.Quote(loc))
				break
			}
		}
	}
	// 2 and 3. Configuration evidence, best candidates first.
	type candidate struct{ master, shadow, score int }
	var candidates []candidate
	for _, s := range shadows {
		if _, done := p.masterOf[s]; done {
			continue
		}
		for _, m := range masters {
			if _, taken := p.shadowOf[m]; taken || p.inDouble[m] {
				continue
			}
			if a, b := cs[m].LocationID, cs[s].LocationID; a != "" && b != "" && a != b {
				continue // both report a location, and they differ
			}
			if score := p.matchScore(cs, m, s); score > 0 {
				candidates = append(candidates, candidate{m, s, score})
			}
		}
	}
	slices.SortStableFunc(candidates, func(x, y candidate) int { return y.score - x.score })
	for _, c := range candidates {
		if _, done := p.masterOf[c.shadow]; done {
			continue
		}
		if _, taken := p.shadowOf[c.master]; taken {
			continue
		}
		if c.score < scoreSystems && !p.onlyCandidate(cs, masters, c.master, c.shadow) {
			continue // a shadow without systems matched on version and user alone must be unambiguous
		}
		p.pair(c.master, c.shadow, describeMatch(&cs[c.master], &cs[c.shadow], c.score))
	}
}

func (p *pairing) pair(master, shadow int, how string) {
	p.masterOf[shadow], p.shadowOf[master], p.how[shadow] = master, shadow, how
}

// Scores of the evidence that a shadow mirrors a master.
const (
	scoreSystems     = 4 // identical, non-empty exposed systems
	scoreVersion     = 2
	scoreConnectedBy = 1
)

// matchScore weighs the evidence that shadow cs[si] mirrors master cs[mi]; 0 means no match.
func (p *pairing) matchScore(cs []connectivity.Connector, mi, si int) int {
	m, s := &cs[mi], &cs[si]
	score := 0
	if m.AgentVersion != "" && m.AgentVersion == s.AgentVersion {
		score += scoreVersion
	}
	if m.ConnectedBy != "" && strings.EqualFold(m.ConnectedBy, s.ConnectedBy) {
		score += scoreConnectedBy
	}
	switch {
	case len(s.ExposedSystems) > 0 && p.systemsKey(cs, mi) == p.systemsKey(cs, si):
		return score + scoreSystems
	case (len(s.ExposedSystems) == 0 || unreadableSystems(s) || unreadableSystems(m)) && score == scoreVersion+scoreConnectedBy:
		return score
	}
	return 0
}

func unreadableSystems(c *connectivity.Connector) bool {
	_, bad := problemOf(c, "exposed_systems")
	return bad
}

// onlyCandidate reports whether master is the only unpaired master that matches shadow on version
// and connected_by.
func (p *pairing) onlyCandidate(cs []connectivity.Connector, masters []int, master, shadow int) bool {
	for _, m := range masters {
		if m == master || p.inDouble[m] {
			continue
		}
		if _, taken := p.shadowOf[m]; !taken && p.matchScore(cs, m, shadow) > 0 {
			return false
		}
	}
	return true
}

func describeMatch(m, s *connectivity.Connector, score int) string {
	var parts []string
	if score >= scoreSystems {
		parts = append(parts, "identical exposed systems ("+strconv.Itoa(len(s.ExposedSystems))+")")
	} else {
		parts = append(parts, "systems not comparable (none or unreadable); the only candidate master")
	}
	if m.AgentVersion == s.AgentVersion {
		parts = append(parts, "same version "+m.AgentVersion)
	}
	if m.ConnectedBy != "" && strings.EqualFold(m.ConnectedBy, s.ConnectedBy) {
		parts = append(parts, "same connected_by")
	}
	return strings.Join(parts, ", ")
}

// systemsKey is the SHA-256 of the set of protocol and virtual host pairs connector i exposes:
// two connectors expose the same systems when their keys are equal. Built once per connector
// (pairing compares every master with every shadow); the digest rather than the joined text is
// kept, 32 bytes instead of kilobytes per connector while the rules run.
func (p *pairing) systemsKey(cs []connectivity.Connector, i int) [sha256.Size]byte {
	if k, ok := p.keys[i]; ok {
		return k
	}
	out := make([]string, len(cs[i].ExposedSystems))
	for j, s := range cs[i].ExposedSystems {
		out[j] = strings.ToUpper(s.Protocol) + " " + strings.ToLower(s.Host)
	}
	slices.Sort(out)
	h := sha256.New()
	for _, s := range slices.Compact(out) {
		h.Write([]byte(s + "\n"))
	}
	var k [sha256.Size]byte
	h.Sum(k[:0])
	p.keys[i] = k
	return k
}

// notConnected reports whether a connector shows no sign of a connection: the API has no
// connection-state attribute, so one whose connected_since and agent_recent_start_ms are both
// missing or unreadable is taken as not connected.
func notConnected(c *connectivity.Connector) bool {
	return c.ConnectedSince.IsZero() && c.RecentStart.IsZero()
}

func locationEvidence(c *connectivity.Connector) string {
	if c.LocationID == "" {
		return "unknown" // the API reports none
	}
	return c.LocationID
}

// highAvailability reports double masters, masters without a shadow, shadows that match no master
// and shadows that are not connected while their master is.
func (a *assessor) highAvailability() {
	cs := a.snap.Connectors
	for _, ms := range a.ha.doubles {
		newest := ms[0] // reported once, on the master that connected last: the likelier newcomer
		var list []string
		for _, m := range ms {
			if !cs[m].ConnectedSince.Before(cs[newest].ConnectedSince) {
				newest = m
			}
			list = append(list, cs[m].ClientID+" (connected since "+timeEvidence(&cs[m])+")")
		}
		var related []string
		for _, m := range ms {
			if m != newest {
				related = append(related, cs[m].ClientID)
			}
		}
		loc := cs[newest].LocationID
		a.add(newest, RuleHADoubleMaster, High, loc, strconv.Itoa(len(ms))+" masters report location "+strconv.Quote(loc),
			Evidence{{"location_id", loc}, {"masters", strings.Join(list, "; ")}}, related...)
	}
	for i := range cs {
		c := &cs[i]
		switch {
		case c.IsMaster() && !a.ha.inDouble[i]:
			if _, ok := a.ha.shadowOf[i]; !ok {
				a.add(i, RuleHANoShadow, Medium, "", "Master without a shadow (no failover)", Evidence{
					{"location_id", locationEvidence(c)}, {"matched_shadows", "0"},
				})
			}
		case c.IsShadow():
			m, ok := a.ha.masterOf[i]
			if !ok {
				a.add(i, RuleHAUnmatchedShadow, Low, "", "Shadow that matches no master", Evidence{
					{"location_id", locationEvidence(c)}, {"exposed_systems", strconv.Itoa(len(c.ExposedSystems))},
				})
				continue
			}
			if notConnected(c) && !cs[m].ConnectedSince.IsZero() {
				a.add(i, RuleHAShadowDisconnected, Medium, "", "Shadow not connected while its master "+cs[m].ClientID+" is", Evidence{
					{"connected_since", timeEvidence(c)},
					{"master_connected_since", timeEvidence(&cs[m])},
					{"paired_by", a.ha.how[i]},
				}, cs[m].ClientID)
			}
		}
	}
}

// timeEvidence renders a connector's connected_since for evidence.
func timeEvidence(c *connectivity.Connector) string {
	if !c.ConnectedSince.IsZero() {
		return c.ConnectedSince.UTC().Format("2006-01-02T15:04:05Z")
	}
	if msg, ok := problemOf(c, "connected_since"); ok {
		return "unreadable: " + msg
	}
	return "not reported"
}
