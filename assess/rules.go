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
const verifyCheck = " Verify: the check shows ok on the connector's Security Status page and in the next assessment."

// fixedRules are the rules whose IDs do not follow an API key.
var fixedRules = [...]Rule{
	{RuleHANoShadow, "Master without a shadow (no failover)",
		"Install a shadow instance for this master (Cloud Connector > High Availability) on a second host: without one, an outage of the master cuts cloud applications off from every on-premise system it exposes. Verify: list_cloud_connectors shows a shadow that exposes the same systems (or reports the same location)."},
	{RuleHADoubleMaster, "Two masters report the same location (double master)",
		"Only one master should hold the tunnel of a location; cloud requests may reach either connector. A short double-master state can happen while a shadow takes over: if it lasts, decide which instance stays master, make the other its shadow (High Availability settings) or disconnect it, and keep their configurations identical. Verify: the next assessment shows one master and one shadow for the location."},
	{RuleHAShadowDisconnected, "Shadow not connected while its master is",
		"The shadow reports no connection (no connected_since and no last start), so its master has no failover: start the shadow instance, check its High Availability settings (master host and port) and the network between it and the master. Verify: list_cloud_connectors shows the shadow with a connected_since time."},
	{RuleHAUnmatchedShadow, "Shadow that matches no master",
		"No master of this subaccount reports the shadow's location or exposes the same systems, so it is unclear which master it protects: check the shadow's High Availability settings (master host and port) and that its configuration is synchronised from its master. Verify: the next assessment pairs it with a master."},
	{RuleVersionOutdated, "Cloud Connector version behind the policy",
		"Update the Cloud Connector to the version named in the finding or newer; updates bring security fixes. In a high-availability pair update one instance at a time so that the other keeps the tunnel open. Verify: agent_version in list_cloud_connectors shows the new version."},
	{RuleVersionJava, "Java runtime below the supported floor",
		"Move the Cloud Connector to a supported Java runtime at or above the floor named in the finding (for example SapMachine 17 or 21) and update the Cloud Connector with it; older runtimes stop receiving security fixes. Verify: java_version in list_cloud_connectors shows the new major version."},
	{RuleProtocolUnencrypted, "Back end exposed over an unencrypted protocol",
		"Move the system mapping to the encrypted variant named in the evidence (HTTP to HTTPS, RFC to RFCS with SNC, LDAP to LDAPS, TCP to TCPS): enable TLS or SNC on the back end, import its certificate into the Cloud Connector's trust store, change the mapping's protocol, and test the destinations that use the virtual host. The tunnel to SAP BTP itself is always TLS; this is about the on-premise leg. For plain TCP, TLS may already run inside the tunnel (a TLS-speaking back end behind a TCP mapping): confirm before changing. Verify: find_exposed_system with the old protocol no longer lists the host."},
	{RuleSubaccountUnreachable, "Subaccount could not be read",
		"The Connectivity service of this subaccount could not be read, so none of its Cloud Connectors were assessed: fix the cause named in the evidence (binding credentials, certificate expiry, network, SAP service status) and run the assessment again. Verify: list_subaccounts shows a recent successful read."},
	{RuleDecodeSecurityStatus, "Security status missing or unreadable",
		"The Connectivity service sent no readable security status, so the security checks of this connector cannot be assessed (or only partly): open the connector's Security Status page in its administration UI and fix what it rates, and update the Cloud Connector if it is old. Verify: the next assessment shows its individual security checks instead of this finding."},
}

// securityRule and decodeRule describe the rules derived from API keys.
func securityRule(key string) Rule {
	c, _ := LookupCheck(key)
	return Rule{ID: "security." + idPart(key), Title: c.Label + " rated other than ok", Remediation: c.Remediation + verifyCheck}
}

func decodeRule(attr string) Rule {
	return Rule{ID: "decode." + idPart(attr), Title: attr + " could not be read",
		Remediation: "The Connectivity service sent this attribute in a form this server cannot read (the evidence quotes it), so the rules that need it skip the connector. Check the connector in the BTP cockpit (Cloud Connectors) or on its administration UI; if the value stays malformed, report it to SAP with the connector's version."}
}

// LookupRule describes a rule ID, including every security.<check> and decode.<attribute>.
func LookupRule(id string) (Rule, bool) {
	for _, r := range fixedRules {
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
	out := append([]Rule(nil), fixedRules[:]...)
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
