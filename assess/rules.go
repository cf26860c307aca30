package assess

import (
	"regexp"
	"strings"
)

// Rule IDs that do not follow an API key (security.<check> and decode.<attribute> do).
const (
	RuleHANoShadow            = "ha.no_shadow"
	RuleHADoubleMaster        = "ha.double_master"
	RuleHAShadowDisconnected  = "ha.shadow_disconnected"
	RuleHAUnmatchedShadow     = "ha.unmatched_shadow"
	RuleVersionOutdated       = "version.outdated"
	RuleVersionJava           = "version.java"
	RuleProtocolUnencrypted   = "protocol.unencrypted"
	RuleSubaccountUnreachable = "subaccount.unreachable"
	RuleDecodeSecurityStatus  = "decode.security_status"
)

// Rule describes one rule: what it means and what to do about it. The remediation is written once
// per rule, so that an answer can carry it once however many findings the rule raised.
type Rule struct {
	ID          string // e.g. ha.no_shadow
	Title       string // one line: what the rule detects
	Remediation string // what to do, and how to verify the fix
}

// Check describes one check of the Cloud Connector's Security Status page.
type Check struct {
	Key         string // the key in security_status
	Label       string // the name the Cloud Connector UI shows
	Remediation string // what to do when the check is not ok
}

// checks are the documented security checks, in the documentation's order.
var checks = [...]Check{
	{"ui_certificate", "UI Certificate", "Replace the self-signed administration UI certificate with one signed by a CA your company trusts."},
	{"ciphers", "Cipher Suites", "Enable only secure cipher suites (Configuration > User Interface; the resetCiphers script since Cloud Connector 2.17.0)."},
	{"trust_store", "Backend Trust Store", "Do not trust all backend certificates; add the specific backend certificates to the trust store allowlist."},
	{"authentication_type", "User Administration", "Move from the local single-administrator user store to LDAP, for named and audited administrator users."},
	{"cpic_trace", "CPIC Trace", "Lower the CPIC trace level (level 3 writes sensitive payload) and guard trace activation with the four-eyes principle."},
	{"payload_trace", "Tunnel Traffic Trace", "Switch the payload trace off for the subaccount unless SAP support needs it, and guard it with the four-eyes principle."},
	{"application_whitelist", "Application Allowlist", "Restrict the tunnel to the cloud applications that need on-premise access (application allowlist of the subaccount)."},
}

// LookupCheck describes a security check key; an undocumented key gets a label made from the
// key and a remediation that says to look it up.
func LookupCheck(key string) (Check, bool) {
	for _, c := range checks {
		if c.Key == key {
			return c, true
		}
	}
	return Check{
		Key:         key,
		Label:       strings.ReplaceAll(key, "_", " "),
		Remediation: "This check is not documented yet: open the Cloud Connector's Security Status page to see what it rates and how to fix it.",
	}, false
}

// verifyCheck ends the remediation of every security check.
const verifyCheck = " Verify: the check shows ok in the next assessment."

// fixedRules are the rules whose IDs do not follow an API key.
var fixedRules = [...]Rule{
	{RuleHANoShadow, "Master without a shadow (no failover)",
		"Install a shadow instance on a second host (Cloud Connector > High Availability): without one, an outage of the master cuts the cloud off from every system it exposes. Verify: list_cloud_connectors shows a shadow exposing the same systems."},
	{RuleHADoubleMaster, "Two masters report the same location (double master)",
		"Only one master should hold a location's tunnel. A short double master happens while a shadow takes over; if it lasts, make one instance the other's shadow (High Availability settings) or disconnect it. Verify: the next assessment shows one master and one shadow there."},
	{RuleHAShadowDisconnected, "Shadow not connected while its master is",
		"The shadow reports no connection, so its master has no failover: start the shadow, check its High Availability settings (master host and port) and the network to the master. Verify: list_cloud_connectors shows it connected."},
	{RuleHAUnmatchedShadow, "Shadow that matches no master",
		"No master reports the shadow's location or exposes the same systems: check its High Availability settings (master host and port) and that it synchronises from its master. Verify: the next assessment pairs it."},
	{RuleVersionOutdated, "Cloud Connector version behind the policy",
		"Update to the version in the evidence or newer (updates bring security fixes); in an HA pair one instance at a time. Verify: list_cloud_connectors shows the new agent_version."},
	{RuleVersionJava, "Java runtime below the supported floor",
		"Move to a supported Java at or above the floor in the evidence (e.g. SapMachine 21); older runtimes get no security fixes. Verify: list_cloud_connectors shows the new java_version."},
	{RuleProtocolUnencrypted, "Back end exposed over an unencrypted protocol",
		"Move the mapping to the encrypted variant in the evidence (HTTPS, RFCS with SNC, LDAPS, TCPS): enable TLS or SNC on the back end, trust its certificate in the Cloud Connector, change the protocol, test the destinations. The tunnel to SAP BTP is always TLS; this is the on-premise leg. Plain TCP may already carry TLS: confirm first. Verify: find_exposed_system no longer lists the host with the old protocol."},
	{RuleSubaccountUnreachable, "Subaccount could not be read",
		"None of this subaccount's Cloud Connectors were assessed: fix the cause in the evidence (credentials, certificate expiry, network, SAP service status). Verify: list_subaccounts shows a recent successful read."},
	{RuleDecodeSecurityStatus, "Security status missing or unreadable",
		"No readable security status was sent, so the checks cannot be assessed (or only partly): fix what the connector's Security Status page rates, and update it if it is old. Verify: the next assessment lists its checks."},
}

// securityRule and decodeRule describe the rules derived from API keys.
func securityRule(key string) Rule {
	c, _ := LookupCheck(key)
	return Rule{ID: "security." + idPart(key), Title: c.Label + " rated other than ok", Remediation: c.Remediation + verifyCheck}
}

func decodeRule(attr string) Rule {
	return Rule{ID: "decode." + idPart(attr), Title: attr + " could not be read",
		Remediation: "The attribute arrived in a form this server cannot read (quoted in the evidence), so rules needing it skip the connector: check it in the BTP cockpit or the connector's UI; if it stays malformed, report it to SAP."}
}

// LookupRule describes a rule ID, including every security.<check> and decode.<attribute>.
func LookupRule(id string) (Rule, bool) {
	for _, r := range append(fixedRules[:], deepRules[:]...) {
		if r.ID == id {
			return r, true
		}
	}
	family, key, ok := strings.Cut(id, ".")
	if !ok || !ruleKey.MatchString(key) {
		return Rule{}, false
	}
	switch family {
	case "security":
		return securityRule(key), true
	case "decode":
		return decodeRule(key), true
	}
	return Rule{}, false
}

// Rules returns every rule with a fixed ID and the security rule of each documented check.
func Rules() []Rule {
	out := append(append([]Rule(nil), fixedRules[:]...), deepRules[:]...)
	for _, c := range checks {
		out = append(out, securityRule(c.Key))
	}
	return out
}

var ruleKey = regexp.MustCompile(`^[a-z0-9_]{1,64}$`)

// idPart makes an API key safe for a rule ID: lower-case letters, digits and underscores.
func idPart(key string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(key) {
		if b.Len() >= 64 {
			break
		}
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	if b.Len() == 0 {
		return "unnamed"
	}
	return b.String()
}
