package assess

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/connectivity"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/sccadmin"
)

// Policy holds what an assessment is measured against.
type Policy struct {
	// MinSCCVersion is the lowest Cloud Connector version that is not outdated, e.g. "2.18.0"
	// (--min-scc-version). Empty derives a bar per subaccount (see docs/assessment.md).
	MinSCCVersion string
	// MinJavaMajor is the lowest Java major version that is not a finding (--min-java); 0 means
	// DefaultMinJava.
	MinJavaMajor int
	// Accepted are the risks a team has accepted (--accepted-risks); nil accepts none.
	Accepted *AcceptedRisks
	// Now decides which accepted risks have expired; zero means time.Now.
	Now time.Time
	// Deep holds the thresholds of the deep-health rules (--cert-warn-days).
	Deep DeepPolicy
}

// DefaultMinJava is the lowest Java major version that is not a finding by default.
const DefaultMinJava = 17

// Finding is one problem the assessment found.
type Finding struct {
	Rule     string   // stable rule ID, e.g. ha.no_shadow
	Severity Severity // critical, high, medium, low or info
	// Fingerprint identifies the finding across runs, restarts and machines: a hash of the rule,
	// subaccount, connector and subject.
	Fingerprint string
	Subaccount  string
	ClientID    string
	AgentType   string
	LocationID  string   // the reported location, empty when the API reports none
	Subject     string   // what inside the connector it is about: a check, a virtual host, an attribute
	Related     []string // other connectors involved, e.g. the master of a shadow
	Title       string
	Evidence    Evidence // read-only: findings share it
	// Accepted is the unexpired accepted-risk entry that covers the finding; Expired, an entry
	// that covered it until it expired.
	Accepted, Expired *Acceptance

	unverified bool  // ranks after confirmed findings of the same severity
	connector  int32 // index in the snapshot, for ordering
	seq        int32 // the rule's place in the order of the rules, then the finding's in the rule's
}

// Result is the outcome of every rule over one snapshot.
type Result struct {
	Findings     []Finding    // worst first: severity, confirmed before unverified, connector order
	Versions     []VersionBar // the version bar of each subaccount, in subaccount order
	MinJavaMajor int
	// Unused lists the accepted-risk entries that matched no finding, so stale ones get cleaned up.
	Unused []Entry
	// Matches is the join of the deep-health reads (Facts.Deep) with the Connectivity service's
	// view: per configured connector, each subaccount it reports (a shadow: itself), in read order.
	Matches []sccadmin.Match
}

// Fingerprint returns the stable identity of a finding.
func Fingerprint(rule, subaccount, clientID, subject string) string {
	sum := sha256.Sum256([]byte(rule + "\x00" + subaccount + "\x00" + clientID + "\x00" + subject))
	return hex.EncodeToString(sum[:8])
}

// assessor collects findings while the rules run.
type assessor struct {
	snap     *connectivity.Snapshot
	ha       pairing
	findings []Finding
	order    int32 // of the rule running, in the order of a connector's findings
	// Evidence shared between findings: of each unencrypted protocol, and of one field.
	protocolEvidence map[string]Evidence
	memo             evidenceMemo
}

// Facts are what the sources read of one subaccount; each rule reads the facts it needs. A
// source that was never read successfully leaves its part nil.
type Facts struct {
	Connectivity *connectivity.Snapshot // the Connectivity service's view of the Cloud Connectors
	Deep         *DeepFacts             // the configured connectors' own administration API; nil when none is configured
}

// Unreachable is a subaccount that could not be read, so none of its connectors were assessed.
type Unreachable struct {
	Subaccount string // its label
	Binding    string // the binding's name
	Reason     string // the sentence that says why and what to do
}

// Run assesses every connector of one subaccount's facts, marking the findings p.Accepted
// covers. It fails only when p.MinSCCVersion is not a version.
func Run(f Facts, p Policy) (*Result, error) {
	snap := f.Connectivity
	if snap == nil {
		snap = connectivity.NewSnapshot(time.Time{}, nil, nil)
	}
	bars, err := versionBars(snap, p.MinSCCVersion)
	if err != nil {
		return nil, err
	}
	minJava := cmp.Or(p.MinJavaMajor, DefaultMinJava)
	matches, known := f.Deep.join(snap)
	a := &assessor{snap: snap, ha: pairHA(snap, known), protocolEvidence: map[string]Evidence{}, memo: evidenceMemo{}}
	// A connector's findings come in the order of these rules, then those of high availability.
	// The unencrypted protocols, one finding per exposed system, run last, into a list grown once
	// to its final size: 30,000 findings take 7 MB, and appending would allocate five times that.
	rules := []func(i int){a.security, func(i int) { a.version(i, bars) }, func(i int) { a.java(i, minJava) }, a.protocols, a.decoding}
	const protocols = 3
	for i := range snap.Connectors {
		for order, rule := range rules {
			if a.order = int32(order); order != protocols {
				rule(i)
			}
		}
	}
	a.order = int32(len(rules))
	a.highAvailability()
	a.findings = append(a.findings, f.Deep.assess(matches, p.Deep)...)
	n := 0
	for i := range snap.Connectors {
		a.unencrypted(i, func(*connectivity.ExposedSystem, string) { n++ })
	}
	a.findings, a.order = slices.Grow(a.findings, n), protocols
	for i := range snap.Connectors {
		a.protocols(i)
	}
	slices.SortStableFunc(a.findings, worstFirst)
	res := &Result{Findings: a.findings, MinJavaMajor: minJava, Matches: matches}
	for _, b := range bars.order {
		res.Versions = append(res.Versions, *bars.bySubaccount[b])
	}
	res.Unused = p.Accepted.apply(res.Findings, p.now())
	return res, nil
}

// worstFirst orders findings: severity, confirmed before unverified, connector order.
func worstFirst(x, y Finding) int {
	return cmp.Or(
		cmp.Compare(y.Severity.Rank(), x.Severity.Rank()),
		compareBool(x.unverified, y.unverified),
		cmp.Compare(x.connector, y.connector),
		cmp.Compare(x.seq, y.seq),
	)
}

func (p Policy) now() time.Time {
	if p.Now.IsZero() {
		return time.Now()
	}
	return p.Now
}

// Merge joins the results of several subaccounts (in subaccount order) into one, worst first,
// with a finding for each unreachable subaccount; accepted risks are applied to those findings
// too. An accepted-risk entry is unused when it matched nothing in any of them.
func Merge(results []*Result, unreachable []Unreachable, p Policy) *Result {
	if len(results) == 1 && len(unreachable) == 0 {
		return results[0]
	}
	out := &Result{MinJavaMajor: cmp.Or(p.MinJavaMajor, DefaultMinJava)}
	for _, u := range unreachable {
		out.Findings = append(out.Findings, Finding{
			Rule: RuleSubaccountUnreachable, Severity: High, Fingerprint: Fingerprint(RuleSubaccountUnreachable, u.Subaccount, "", u.Binding),
			Subaccount: u.Subaccount, Subject: u.Binding, Title: "Subaccount " + u.Subaccount + " could not be read",
			Evidence: Evidence{{"binding", u.Binding}, {"error", u.Reason}}, connector: -1,
		})
	}
	unused := map[int]int{} // line → results it was unused in
	for _, u := range p.Accepted.apply(out.Findings, p.now()) {
		unused[u.Line]++
	}
	seen := map[string]bool{} // a configured connector read for several subaccounts is reported once
	for _, r := range results {
		for _, f := range r.Findings {
			if strings.HasPrefix(f.Rule, "scc.") {
				if seen[f.Fingerprint] {
					continue
				}
				seen[f.Fingerprint] = true
			}
			out.Findings = append(out.Findings, f)
		}
		out.Matches = append(out.Matches, r.Matches...)
		out.Versions = append(out.Versions, r.Versions...)
		for _, u := range r.Unused {
			unused[u.Line]++
		}
	}
	// Connector indexes restart in each result: a stable sort on severity keeps subaccount order.
	slices.SortStableFunc(out.Findings, func(x, y Finding) int {
		return cmp.Or(cmp.Compare(y.Severity.Rank(), x.Severity.Rank()), compareBool(x.unverified, y.unverified))
	})
	if p.Accepted != nil {
		for _, e := range p.Accepted.Entries {
			if unused[e.Line] == len(results)+1 {
				out.Unused = append(out.Unused, e)
			}
		}
	}
	return out
}

// compareBool orders false before true.
func compareBool(x, y bool) int {
	switch {
	case x == y:
		return 0
	case !x:
		return -1
	}
	return 1
}

// add records a finding about connector i.
func (a *assessor) add(i int, rule string, severity Severity, subject, title string, evidence Evidence, related ...string) *Finding {
	c := &a.snap.Connectors[i]
	sub := a.subaccount(i)
	a.findings = append(a.findings, Finding{
		Rule: rule, Severity: severity, Fingerprint: Fingerprint(rule, sub, c.ClientID, subject),
		Subaccount: sub, ClientID: c.ClientID, AgentType: c.AgentType, LocationID: c.LocationID,
		Subject: subject, Related: related, Title: title, Evidence: evidence,
		connector: int32(i), seq: a.order<<24 | int32(len(a.findings)),
	})
	return &a.findings[len(a.findings)-1]
}

func (a *assessor) subaccount(i int) string {
	if i < len(a.snap.Subaccounts) {
		return a.snap.Subaccounts[i]
	}
	return ""
}

// problemOf returns the decoding problem of attribute attr, if any.
func problemOf(c *connectivity.Connector, attr string) (string, bool) {
	for _, p := range c.Problems {
		if p.Attribute == attr {
			return p.Message, true
		}
	}
	return "", false
}

// SecuritySeverity maps a check's rating to a severity: high_risk → high (critical for the two
// traces that write tunnel payload to disk), an undocumented rating → high, medium_risk →
// medium, low_risk → low, ok → "" (no finding).
func SecuritySeverity(key string, r connectivity.Risk) Severity {
	switch {
	case r == connectivity.RiskOK:
		return ""
	case r == connectivity.RiskHigh && (key == "payload_trace" || key == "cpic_trace"):
		return Critical
	case r == connectivity.RiskHigh, !r.Known():
		return High
	case r == connectivity.RiskMedium:
		return Medium
	}
	return Low
}

// security reports every check that is not ok, and a security status that could not be read.
func (a *assessor) security(i int) {
	c := &a.snap.Connectors[i]
	problem, hasProblem := problemOf(c, "security_status")
	if c.Security == nil {
		if !hasProblem {
			problem = "the API did not report it"
		}
		f := a.add(i, RuleDecodeSecurityStatus, High, "security_status", "Security status unknown: check the connector",
			Evidence{{"security_status", problem}})
		f.unverified = true
		return
	}
	if hasProblem {
		a.add(i, RuleDecodeSecurityStatus, Low, "security_status", "Security status only partly readable",
			Evidence{{"security_status", problem}})
	}
	for _, check := range c.Security.Checks {
		severity := SecuritySeverity(check.Key, check.Status)
		if severity == "" {
			continue
		}
		label, _ := LookupCheck(check.Key)
		title := label.Label + " rated " + string(check.Status)
		if !check.Status.Known() {
			title = label.Label + " rated " + strconv.Quote(string(check.Status)) + " (undocumented: treated as high)"
		}
		f := a.add(i, "security."+idPart(check.Key), severity, check.Key, title,
			a.memo.one("security_status."+check.Key, string(check.Status)))
		f.unverified = !check.Status.Known()
	}
}

// decodeImpact says what a decoding problem of an attribute hides, and its severity.
func decodeImpact(attr string) (Severity, string) {
	switch attr {
	case "exposed_systems":
		return Low, "its exposed systems, and so their protocols, are not assessed"
	case "connected_since":
		return Low, "whether it is connected is unknown to the high-availability rules"
	case "client_id":
		return Low, "the connector cannot be told apart from others"
	case "agent_type":
		return Low, "the high-availability rules skip this connector"
	case "agent_recent_start_ms":
		return Info, "its last start and uptime are unknown"
	case "attributes":
		return Info, "the affected values were kept as JSON text"
	}
	return Low, "this value is unknown"
}

// decoding reports every attribute the API sent malformed, except security_status (see security).
func (a *assessor) decoding(i int) {
	c := &a.snap.Connectors[i]
	for _, p := range c.Problems {
		if p.Attribute == "security_status" {
			continue
		}
		severity, impact := decodeImpact(p.Attribute)
		a.add(i, "decode."+idPart(p.Attribute), severity, p.Attribute, p.Attribute+" could not be read",
			Evidence{{p.Attribute, p.Message}, {"impact", impact}})
	}
}

// unencrypted maps each protocol that has an encrypted variant to that variant.
var unencrypted = map[string]string{"HTTP": "HTTPS", "RFC": "RFCS", "LDAP": "LDAPS", "TCP": "TCPS"}

// protocols reports each exposed system reached over an unencrypted protocol. Plain TCP is rated
// low: TLS may run inside the TCP stream, which the API cannot show.
func (a *assessor) protocols(i int) {
	a.unencrypted(i, func(sys *connectivity.ExposedSystem, protocol string) {
		severity := Medium
		if protocol == "TCP" {
			severity = Low
		}
		var related []string
		if s, ok := a.ha.shadowOf[i]; ok && exposes(&a.snap.Connectors[s], *sys) {
			related = []string{a.snap.Connectors[s].ClientID}
		}
		evidence, ok := a.protocolEvidence[protocol] // the host is the subject
		if !ok {
			evidence = Evidence{{"protocol", protocol}, {"encrypted_variant", unencrypted[protocol]}}
			a.protocolEvidence[protocol] = evidence
		}
		a.add(i, RuleProtocolUnencrypted, severity, sys.Host, protocol+" to "+sys.Host+" is not encrypted", evidence, related...)
	})
}

// unencrypted calls f with each exposed system of connector i reached over an unencrypted
// protocol, and the protocol. A shadow's system that its matched master exposes too is left to
// the master, which names this shadow as related.
func (a *assessor) unencrypted(i int, f func(sys *connectivity.ExposedSystem, protocol string)) {
	c := &a.snap.Connectors[i]
	master, hasMaster := a.ha.masterOf[i]
	for j := range c.ExposedSystems {
		sys := &c.ExposedSystems[j]
		protocol := strings.ToUpper(strings.TrimSpace(sys.Protocol))
		if _, ok := unencrypted[protocol]; !ok || !strings.EqualFold(strings.TrimSpace(sys.Status), "exposed") {
			continue
		}
		if !hasMaster || !exposes(&a.snap.Connectors[master], *sys) {
			f(sys, protocol)
		}
	}
}

// exposes reports whether c exposes sys (same protocol and virtual host).
func exposes(c *connectivity.Connector, sys connectivity.ExposedSystem) bool {
	for _, s := range c.ExposedSystems {
		if strings.EqualFold(s.Protocol, sys.Protocol) && strings.EqualFold(s.Host, sys.Host) {
			return true
		}
	}
	return false
}
