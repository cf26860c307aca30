package tools

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/connectivity"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/schemas"
)

// The assessment rules: pure functions from a snapshot to findings. docs/assessment.md lists
// every rule with its severity and explains the version policy; keep the two in step.

// Rule IDs that are not derived from an API key (security.<check> and decode.<attribute> are).
const (
	ruleHANoShadow           = "ha.no_shadow"
	ruleHADoubleMaster       = "ha.double_master"
	ruleHAShadowDisconnected = "ha.shadow_disconnected"
	ruleVersionOutdated      = "version.outdated"
	ruleVersionJava          = "version.java"
	ruleProtocolUnencrypted  = "protocol.unencrypted"
	ruleDecodeSecurityStatus = "decode.security_status"
	ruleDecodeAgentVersion   = "decode.agent_version"
	ruleDecodeJavaVersion    = "decode.java_version"
)

// DefaultMinJavaMajor is the lowest Java major version that is not a finding.
const DefaultMinJavaMajor = 17

// AssessPolicy holds the thresholds of the version rules.
type AssessPolicy struct {
	// MinSCCVersion is the lowest Cloud Connector version that is not outdated, e.g. "2.17.0".
	// Empty derives it from the landscape: the newest version seen, one minor release back
	// (newest 2.18.2 gives 2.17.0).
	MinSCCVersion string
	// MinJavaMajor is the lowest Java major version that is not a finding; 0 means
	// DefaultMinJavaMajor.
	MinJavaMajor int
}

// severityRank orders severities from info 0 to critical 4; -1 for anything else.
func severityRank(s string) int {
	switch s {
	case schemas.SeverityCritical:
		return 4
	case schemas.SeverityHigh:
		return 3
	case schemas.SeverityMedium:
		return 2
	case schemas.SeverityLow:
		return 1
	case schemas.SeverityInfo:
		return 0
	}
	return -1
}

// SeverityAtLeast reports whether severity is at least as bad as threshold. An unknown
// severity or threshold is never "at least".
func SeverityAtLeast(severity, threshold string) bool {
	s, t := severityRank(severity), severityRank(threshold)
	return s >= 0 && t >= 0 && s >= t
}

// securitySeverity maps a check's rating to a severity (see docs/assessment.md):
// high_risk → high (critical for the two traces that write tunnel payload to disk),
// an unknown rating → high, medium_risk → medium, low_risk → low.
func securitySeverity(key string, r connectivity.Risk) string {
	switch {
	case r == connectivity.RiskHigh && (key == "payload_trace" || key == "cpic_trace"):
		return schemas.SeverityCritical
	case r == connectivity.RiskHigh, !r.Known():
		return schemas.SeverityHigh
	case r == connectivity.RiskMedium:
		return schemas.SeverityMedium
	}
	return schemas.SeverityLow
}

// assessment is the outcome of every rule over one snapshot.
type assessment struct {
	findings []schemas.Finding // worst first
	policy   schemas.AssessmentPolicy
}

// rankedFinding carries what findings are sorted by.
type rankedFinding struct {
	finding   schemas.Finding
	severity  int // severityRank
	weight    int // orders findings of one severity: confirmed before unverified
	connector int // index in the snapshot
	seq       int // generation order
}

// Weights order findings of one severity: what the data confirms comes before what it leaves
// unverified (an undocumented rating, an unreadable security status).
const (
	weightUnverified = 0
	weightConfirmed  = 1
)

// assessor collects findings while the rules run.
type assessor struct {
	snap     *connectivity.Snapshot
	policy   schemas.AssessmentPolicy
	minSCC   sccVersion
	hasMin   bool
	findings []rankedFinding
}

// assess runs every rule over snap and returns the findings worst first: by severity, then by
// weight, then in connector order. It fails only when policy.MinSCCVersion is not a version.
func assess(snap *connectivity.Snapshot, policy AssessPolicy) (assessment, error) {
	a := &assessor{snap: snap}
	if err := a.setPolicy(policy); err != nil {
		return assessment{}, err
	}
	for i := range snap.Connectors {
		a.security(i)
		a.version(i)
		a.java(i)
		a.protocols(i)
		a.decoding(i)
	}
	a.highAvailability()

	slices.SortStableFunc(a.findings, func(x, y rankedFinding) int {
		return cmp.Or(
			cmp.Compare(y.severity, x.severity),
			cmp.Compare(y.weight, x.weight),
			cmp.Compare(x.connector, y.connector),
			cmp.Compare(x.seq, y.seq),
		)
	})
	out := assessment{policy: a.policy, findings: make([]schemas.Finding, len(a.findings))}
	for i, f := range a.findings {
		out.findings[i] = f.finding
	}
	return out, nil
}

// add records a finding about connector i.
func (a *assessor) add(i int, id, severity string, weight int, title string, evidence map[string]string, recommendation string, related ...string) {
	c := &a.snap.Connectors[i]
	a.findings = append(a.findings, rankedFinding{
		finding: schemas.Finding{
			ID:               id,
			Severity:         severity,
			ClientID:         c.ClientID,
			Subaccount:       subaccountOf(a.snap, i),
			AgentType:        c.AgentType,
			LocationID:       c.LocationID,
			RelatedClientIDs: related,
			Title:            title,
			Evidence:         evidence,
			Recommendation:   recommendation,
		},
		severity:  severityRank(severity),
		weight:    weight,
		connector: i,
		seq:       len(a.findings),
	})
}

func subaccountOf(snap *connectivity.Snapshot, i int) string {
	if i < len(snap.Subaccounts) {
		return snap.Subaccounts[i]
	}
	return ""
}

// problemOf returns the decoding problem of attribute attr, if any.
func problemOf(c *connectivity.Connector, attr string) (connectivity.Problem, bool) {
	for _, p := range c.Problems {
		if p.Attribute == attr {
			return p, true
		}
	}
	return connectivity.Problem{}, false
}

// --- security ----------------------------------------------------------------------------

// security reports every check that is not ok, and a security status that could not be read.
func (a *assessor) security(i int) {
	c := &a.snap.Connectors[i]
	problem, hasProblem := problemOf(c, "security_status")
	if c.Security == nil {
		why := "the API did not report it"
		if hasProblem {
			why = problem.Message
		}
		a.add(i, ruleDecodeSecurityStatus, schemas.SeverityHigh, weightUnverified,
			"Security status unknown — check the connector",
			map[string]string{"security_status": why},
			"The Connectivity service sent no readable security status for this connector ("+why+"), so none of its security checks can be assessed: "+
				"open the connector's Security Status page in its administration UI and fix what it rates, and update the Cloud Connector if it is old. "+
				"Verify: the next assessment shows its individual security checks instead of this finding.")
		return
	}
	if hasProblem {
		a.add(i, ruleDecodeSecurityStatus, schemas.SeverityLow, weightConfirmed,
			"Security status only partly readable",
			map[string]string{"security_status": problem.Message},
			"Part of the security status could not be read ("+problem.Message+"); the checks that could be read are assessed on their own. "+
				"Compare with the connector's Security Status page in its administration UI.")
	}
	for _, check := range c.Security.Checks {
		if check.Status == connectivity.RiskOK {
			continue
		}
		result := checkResult(check)
		title := result.Label + " rated " + result.Status
		if !check.Status.Known() {
			title = result.Label + " rated " + strconv.Quote(string(check.Status)) + " (an undocumented rating)"
		}
		weight := weightConfirmed
		if !check.Status.Known() {
			weight = weightUnverified
		}
		a.add(i, "security."+idPart(check.Key), securitySeverity(check.Key, check.Status), weight,
			title,
			map[string]string{"security_status." + check.Key: string(check.Status)},
			result.Recommendation+" Verify: the check shows ok on the connector's Security Status page and in the next assessment.")
	}
}

// idPart makes an API key safe for a rule ID: lower-case letters, digits and underscores.
func idPart(key string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(key) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '_':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
		if b.Len() >= 64 {
			break
		}
	}
	if b.Len() == 0 {
		return "unnamed"
	}
	return b.String()
}

// --- versions ----------------------------------------------------------------------------

// sccVersion is a Cloud Connector version: major.minor.patch.
type sccVersion struct{ major, minor, patch int }

func (v sccVersion) String() string { return fmt.Sprintf("%d.%d.%d", v.major, v.minor, v.patch) }

func (v sccVersion) compare(w sccVersion) int {
	return cmp.Or(cmp.Compare(v.major, w.major), cmp.Compare(v.minor, w.minor), cmp.Compare(v.patch, w.patch))
}

// sccVersionPattern matches "2.18.2", "2.18", "v2.18.2" and versions with a suffix such as
// "2.18.2-SNAPSHOT" or "2.18.2.1"; the suffix is ignored.
var sccVersionPattern = regexp.MustCompile(`^v?(\d{1,4})\.(\d{1,4})(?:\.(\d{1,6}))?(?:[-+._ ].*)?$`)

// parseSCCVersion reads a Cloud Connector version.
func parseSCCVersion(s string) (sccVersion, bool) {
	m := sccVersionPattern.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return sccVersion{}, false
	}
	var v sccVersion
	v.major, _ = strconv.Atoi(m[1])
	v.minor, _ = strconv.Atoi(m[2])
	if m[3] != "" {
		v.patch, _ = strconv.Atoi(m[3])
	}
	return v, true
}

// CheckSCCVersion reports whether s can serve as a minimum Cloud Connector version
// (--min-scc-version), e.g. "2.17.0".
func CheckSCCVersion(s string) error {
	if _, ok := parseSCCVersion(s); !ok {
		return fmt.Errorf("%q is not a Cloud Connector version like 2.17.0", s)
	}
	return nil
}

// setPolicy fixes the thresholds: the configured minimum version, or one derived from the newest
// version in the landscape (same major, one minor release back, patch 0).
func (a *assessor) setPolicy(p AssessPolicy) error {
	a.policy.MinJavaMajor = p.MinJavaMajor
	if a.policy.MinJavaMajor <= 0 {
		a.policy.MinJavaMajor = DefaultMinJavaMajor
	}
	var newest sccVersion
	found := false
	for i := range a.snap.Connectors {
		if v, ok := parseSCCVersion(a.snap.Connectors[i].AgentVersion); ok && (!found || v.compare(newest) > 0) {
			newest, found = v, true
		}
	}
	if found {
		a.policy.NewestSCCVersion = newest.String()
	}
	switch {
	case strings.TrimSpace(p.MinSCCVersion) != "":
		v, ok := parseSCCVersion(p.MinSCCVersion)
		if !ok {
			return fmt.Errorf("the minimum Cloud Connector version %q (--min-scc-version) is not a version like 2.17.0", p.MinSCCVersion)
		}
		a.minSCC, a.hasMin = v, true
		a.policy.MinSCCVersionSource = "configured"
	case found:
		a.minSCC = sccVersion{major: newest.major, minor: max(newest.minor-1, 0)}
		a.hasMin = true
		a.policy.MinSCCVersionSource = "derived"
	default:
		a.policy.MinSCCVersionSource = "none"
	}
	if a.hasMin {
		a.policy.MinSCCVersion = a.minSCC.String()
	}
	return nil
}

// version reports an agent_version below the minimum, or one that cannot be read.
func (a *assessor) version(i int) {
	c := &a.snap.Connectors[i]
	v, ok := parseSCCVersion(c.AgentVersion)
	if !ok {
		what := "not reported"
		if strings.TrimSpace(c.AgentVersion) != "" {
			what = "not a version: " + strconv.Quote(c.AgentVersion)
		}
		a.add(i, ruleDecodeAgentVersion, schemas.SeverityLow, weightConfirmed,
			"Cloud Connector version unknown",
			map[string]string{"agent_version": c.AgentVersion},
			"The Connectivity service reported the Cloud Connector version as "+what+", so this connector is left out of the version rule: "+
				"check its version in the BTP cockpit (Cloud Connectors) or on its administration UI's About page.")
		return
	}
	if !a.hasMin || v.compare(a.minSCC) >= 0 {
		return
	}
	basis := "the configured minimum"
	if a.policy.MinSCCVersionSource == "derived" {
		basis = "one minor release behind the newest version in this landscape, " + a.policy.NewestSCCVersion
	}
	target := a.minSCC.String()
	if a.policy.NewestSCCVersion != "" && a.policy.MinSCCVersionSource == "derived" {
		target = a.policy.NewestSCCVersion
	}
	a.add(i, ruleVersionOutdated, schemas.SeverityMedium, weightConfirmed,
		"Cloud Connector "+c.AgentVersion+" is older than "+a.minSCC.String(),
		map[string]string{"agent_version": c.AgentVersion, "min_scc_version": a.minSCC.String()},
		"Update this Cloud Connector to "+target+" or newer (the minimum "+a.minSCC.String()+" is "+basis+"); updates bring security fixes. "+
			"In a high-availability pair update one instance at a time so that the other keeps the tunnel open. "+
			"Verify: agent_version in list_cloud_connectors shows the new version.")
}

// legacyJava matches java_version values of Java 8 and older ("1.8.0_292"), modernJava those of
// Java 9 and newer ("17.0.14 (SAP SE)", "21", "11.0.22+7-LTS").
var (
	legacyJava = regexp.MustCompile(`^1\.(\d{1,2})(?:[._\s-]|$)`)
	modernJava = regexp.MustCompile(`^(\d{1,3})(?:[.+\s-]|$)`)
	// vendorJava finds a runtime version in jvm_vendor_version, e.g. "(SAP SE, 17.0.14+7-LTS, …)"
	// or "1.8.0_292-b10": only the JEP 223 form with "+build" or the legacy "1.x.y_u" form, so
	// that "64-Bit" or a HotSpot VM build number (25.292 for Java 8) is never taken for Java.
	vendorJava = regexp.MustCompile(`\b(?:1\.(\d{1,2})\.\d+_\d+|(\d{1,3})(?:\.\d+)*\+\d+)`)
)

// javaMajor reads the Java major version from java_version, or failing that from
// jvm_vendor_version.
func javaMajor(c *connectivity.Connector) (int, bool) {
	jv := strings.TrimSpace(c.JavaVersion)
	if m := legacyJava.FindStringSubmatch(jv); m != nil {
		n, _ := strconv.Atoi(m[1])
		return n, n > 0
	}
	if m := modernJava.FindStringSubmatch(jv); m != nil {
		n, _ := strconv.Atoi(m[1])
		if n >= 2 { // "1" alone is not a Java release
			return n, true
		}
	}
	if m := vendorJava.FindStringSubmatch(c.JVMVendorVersion); m != nil {
		s := m[1]
		if s == "" {
			s = m[2]
		}
		n, _ := strconv.Atoi(s)
		return n, n > 0
	}
	return 0, false
}

// java reports a Java runtime below the supported floor, or one that cannot be read.
func (a *assessor) java(i int) {
	c := &a.snap.Connectors[i]
	evidence := map[string]string{"java_version": c.JavaVersion, "jvm_vendor_version": c.JVMVendorVersion}
	major, ok := javaMajor(c)
	if !ok {
		a.add(i, ruleDecodeJavaVersion, schemas.SeverityLow, weightConfirmed,
			"Java version unknown",
			evidence,
			"Neither java_version nor jvm_vendor_version names a Java release this server can read, so this connector is left out of the Java rule: "+
				"check the JVM on the connector's administration UI (About).")
		return
	}
	if major >= a.policy.MinJavaMajor {
		return
	}
	evidence["java_major"] = strconv.Itoa(major)
	a.add(i, ruleVersionJava, schemas.SeverityMedium, weightConfirmed,
		fmt.Sprintf("Runs on Java %d, below Java %d", major, a.policy.MinJavaMajor),
		evidence,
		fmt.Sprintf("Move this Cloud Connector to a supported Java %d or newer runtime (for example SapMachine %d or 21) and update the Cloud Connector with it; "+
			"older runtimes stop receiving security fixes. Verify: java_version in list_cloud_connectors shows %d or newer.", a.policy.MinJavaMajor, a.policy.MinJavaMajor, a.policy.MinJavaMajor))
}

// --- protocols ---------------------------------------------------------------------------

// unencrypted lists the protocols with an encrypted variant, and how to move to it.
var unencrypted = []struct{ protocol, encrypted, how string }{
	{"HTTP", "HTTPS", "enable TLS on the back end, import its certificate into the Cloud Connector's trust store, and change the system mapping's protocol to HTTPS"},
	{"RFC", "RFCS", "configure SNC between the Cloud Connector and the ABAP back end, and change the system mapping's protocol to RFCS"},
	{"LDAP", "LDAPS", "enable LDAP over TLS on the directory, import its certificate into the Cloud Connector's trust store, and change the system mapping's protocol to LDAPS"},
	{"TCP", "TCPS", "enable TLS on the back end's port, import its certificate into the Cloud Connector's trust store, and change the system mapping's protocol to TCPS"},
}

// maxHostsInEvidence bounds the hosts one finding lists.
const maxHostsInEvidence = 20

// protocols reports each unencrypted protocol a connector exposes, with the virtual hosts.
func (a *assessor) protocols(i int) {
	c := &a.snap.Connectors[i]
	for _, u := range unencrypted {
		var hosts []string
		for _, sys := range c.ExposedSystems {
			if !strings.EqualFold(strings.TrimSpace(sys.Protocol), u.protocol) {
				continue
			}
			host := sys.Host
			if host == "" {
				host = "(no host)"
			}
			if sys.Status != "" && sys.Status != "exposed" {
				host += " (status " + sys.Status + ")"
			}
			hosts = append(hosts, host)
		}
		if len(hosts) == 0 {
			continue
		}
		listed := strings.Join(hosts[:min(len(hosts), maxHostsInEvidence)], ", ")
		if len(hosts) > maxHostsInEvidence {
			listed += fmt.Sprintf(" and %d more", len(hosts)-maxHostsInEvidence)
		}
		systems := "system"
		if len(hosts) > 1 {
			systems = "systems"
		}
		a.add(i, ruleProtocolUnencrypted, schemas.SeverityMedium, weightConfirmed,
			fmt.Sprintf("%s exposed without encryption (%d %s)", u.protocol, len(hosts), systems),
			map[string]string{"protocol": u.protocol, "hosts": listed, "encrypted_variant": u.encrypted},
			fmt.Sprintf("These back ends are reached from the Cloud Connector over plain %s, so credentials and data cross the on-premise network unencrypted "+
				"(the tunnel to SAP BTP itself is always TLS). Move them to %s: %s, then test the destinations that use these virtual hosts. "+
				"Verify: find_exposed_system with protocol=%s returns none of these hosts.", u.protocol, u.encrypted, u.how, u.protocol))
	}
}

// --- decoding ----------------------------------------------------------------------------

// decodeImpact says what a decoding problem of an attribute hides, and its severity.
func decodeImpact(attr string) (severity, impact string) {
	switch attr {
	case "exposed_systems":
		return schemas.SeverityLow, "its exposed systems, and so their protocols, are not assessed"
	case "connected_since":
		return schemas.SeverityLow, "whether it is connected is unknown to the high-availability rules"
	case "client_id":
		return schemas.SeverityLow, "the connector cannot be told apart from others"
	case "agent_recent_start_ms":
		return schemas.SeverityInfo, "its last start and uptime are unknown"
	case "attributes":
		return schemas.SeverityInfo, "the affected values were kept as JSON text"
	}
	return schemas.SeverityLow, "this value is unknown"
}

// decoding reports every attribute the API sent malformed, except security_status (see security).
func (a *assessor) decoding(i int) {
	c := &a.snap.Connectors[i]
	for _, p := range c.Problems {
		if p.Attribute == "security_status" {
			continue
		}
		severity, impact := decodeImpact(p.Attribute)
		a.add(i, "decode."+idPart(p.Attribute), severity, weightConfirmed,
			p.Attribute+" could not be read",
			map[string]string{p.Attribute: p.Message},
			"The Connectivity service sent "+p.Attribute+" in a form this server cannot read ("+p.Message+"), so "+impact+". "+
				"Check the connector in the BTP cockpit (Cloud Connectors) or on its administration UI; if the value stays malformed, report it to SAP with the connector's version.")
	}
}

// --- high availability -------------------------------------------------------------------

// notConnected reports whether a connector shows no sign of a connection: the API has no
// connection-state attribute, so a connector whose connected_since and agent_recent_start_ms
// are both empty, missing or unreadable is taken as not connected.
func notConnected(c *connectivity.Connector) bool {
	return c.ConnectedSince.IsZero() && c.RecentStart.IsZero()
}

// describeTime renders a connector's timestamp attribute for evidence.
func describeTime(c *connectivity.Connector, attr string) string {
	t := c.ConnectedSince
	if attr == "agent_recent_start_ms" {
		t = c.RecentStart
	}
	if !t.IsZero() {
		return rfc3339(t)
	}
	if p, ok := problemOf(c, attr); ok {
		return "unreadable: " + p.Message
	}
	return "not reported"
}

func locationName(id string) string {
	if id == "" {
		return "the default location"
	}
	return "location " + strconv.Quote(id)
}

// highAvailability pairs masters and shadows by subaccount and location ID (empty = the default
// location) and reports a master without a shadow, two masters in one location, and a shadow that
// is not connected while its master is.
func (a *assessor) highAvailability() {
	type group struct{ masters, shadows []int }
	type key struct{ subaccount, location string }
	groups := map[key]*group{}
	var order []key
	for i := range a.snap.Connectors {
		c := &a.snap.Connectors[i]
		if !c.IsMaster() && !c.IsShadow() {
			continue
		}
		k := key{subaccountOf(a.snap, i), c.LocationID}
		g := groups[k]
		if g == nil {
			g = &group{}
			groups[k] = g
			order = append(order, k)
		}
		if c.IsMaster() {
			g.masters = append(g.masters, i)
		} else {
			g.shadows = append(g.shadows, i)
		}
	}
	for _, k := range order {
		g := groups[k]
		where := locationName(k.location)
		ids := func(list []int, except int) []string {
			var out []string
			for _, j := range list {
				if j != except {
					out = append(out, a.snap.Connectors[j].ClientID)
				}
			}
			return out
		}
		switch {
		case len(g.masters) > 1:
			// Report once, on the master that connected last: the likelier newcomer.
			newest := g.masters[0]
			var masters []string
			for _, j := range g.masters {
				c := &a.snap.Connectors[j]
				if !c.ConnectedSince.Before(a.snap.Connectors[newest].ConnectedSince) {
					newest = j
				}
				masters = append(masters, c.ClientID+" (connected since "+describeTime(c, "connected_since")+")")
			}
			a.add(newest, ruleHADoubleMaster, schemas.SeverityHigh, weightConfirmed,
				fmt.Sprintf("%d masters in %s (double master)", len(g.masters), where),
				map[string]string{"location_id": k.location, "masters": strings.Join(masters, "; ")},
				"Only one master should hold the tunnel of a location; cloud requests may reach either connector. A short double-master state can happen while a shadow takes over: "+
					"if it lasts, decide which instance stays master, make the other its shadow (High Availability settings) or disconnect it, and keep their configurations identical. "+
					"Verify: the next assessment shows one master and one shadow in "+where+".",
				ids(g.masters, newest)...)
		case len(g.masters) == 1 && len(g.shadows) == 0:
			m := g.masters[0]
			a.add(m, ruleHANoShadow, schemas.SeverityMedium, weightConfirmed,
				"Master without a shadow in "+where+" (no failover)",
				map[string]string{"agent_type": a.snap.Connectors[m].AgentType, "location_id": k.location, "shadows_in_location": "0"},
				"Install a shadow instance for this master (Cloud Connector > High Availability) on a second host: without one, an outage of this master cuts cloud applications off "+
					"from every on-premise system of "+where+". Verify: list_cloud_connectors shows a shadow with the same location ID.")
		}
		var connectedMasters []int
		for _, j := range g.masters {
			if !a.snap.Connectors[j].ConnectedSince.IsZero() {
				connectedMasters = append(connectedMasters, j)
			}
		}
		if len(connectedMasters) == 0 {
			continue
		}
		for _, s := range g.shadows {
			c := &a.snap.Connectors[s]
			if !notConnected(c) {
				continue
			}
			master := &a.snap.Connectors[connectedMasters[0]]
			a.add(s, ruleHAShadowDisconnected, schemas.SeverityMedium, weightConfirmed,
				"Shadow not connected while its master is, in "+where,
				map[string]string{
					"connected_since":        describeTime(c, "connected_since"),
					"agent_recent_start_ms":  describeTime(c, "agent_recent_start_ms"),
					"master_connected_since": describeTime(master, "connected_since"),
				},
				"The shadow reports no connection (no connected_since and no last start), so there is no failover for "+where+": "+
					"start the shadow instance, check its High Availability settings (master host and port) and the network between it and the master. "+
					"Verify: list_cloud_connectors shows the shadow with a connected_since time.",
				ids(connectedMasters, -1)...)
		}
	}
}
