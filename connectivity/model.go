package connectivity

import (
	"strings"
	"time"
)

// Connector is one Cloud Connector as the Cloud Connector info endpoint reports it, with every
// attribute decoded. Decoding never drops a connector: an attribute that is missing or malformed
// leaves its field at the zero value and adds a Problem.
type Connector struct {
	ClientID         string // the Connector ID shown in the cockpit
	AgentType        string // "master" or "shadow" (high-availability role), as reported
	AgentVersion     string // Cloud Connector version, e.g. "2.18.0"
	JavaVersion      string // e.g. "17.0.14 (SAP SE)"
	JVMVendorVersion string // the JVM's vendor string
	ConnectedBy      string // the user who established the connection
	LocationID       string // the location ID, when the API reports one (inferred attribute)

	ConnectedSince time.Time // zero when missing or malformed
	RecentStart    time.Time // agent_recent_start_ms; zero when missing or malformed

	Security       *SecurityStatus // nil when missing or malformed
	ExposedSystems []ExposedSystem

	// Extra holds attributes this version does not know, verbatim, so nothing the API adds is lost.
	Extra map[string]string
	// Problems lists every attribute that could not be decoded, in attribute order.
	Problems []Problem
}

// IsMaster reports whether the connector holds the high-availability master role.
func (c *Connector) IsMaster() bool { return strings.EqualFold(c.AgentType, AgentMaster) }

// IsShadow reports whether the connector is a high-availability shadow instance.
func (c *Connector) IsShadow() bool { return strings.EqualFold(c.AgentType, AgentShadow) }

// The high-availability roles the API reports in agent_type.
const (
	AgentMaster = "master"
	AgentShadow = "shadow"
)

// Problem records an attribute that could not be decoded.
type Problem struct {
	Attribute string // the attribute name, e.g. "security_status"
	Message   string // what is wrong, for people
}

// SecurityStatus is the decoded security_status attribute: an overall summary and the individual
// checks of the Cloud Connector's Security Status page.
type SecurityStatus struct {
	Summary Risk
	// Checks holds the known checks in the documented order, then any unknown checks sorted by key.
	Checks []Check
}

// Check is one security check and its rating.
type Check struct {
	Key    string // e.g. "payload_trace"
	Status Risk
}

// Worst returns the highest-ranked risk among the summary and all checks.
func (s *SecurityStatus) Worst() Risk {
	worst := s.Summary
	for _, c := range s.Checks {
		if c.Status.Rank() > worst.Rank() {
			worst = c.Status
		}
	}
	return worst
}

// Risk is a security rating as the API reports it. Values other than the four known ones are kept
// verbatim and rank as unknown, never as ok.
type Risk string

// The ratings the Cloud Connector uses. Only ok and low_risk have been seen in the API; the
// Cloud Connector UI also rates medium and high risk.
const (
	RiskOK     Risk = "ok"
	RiskLow    Risk = "low_risk"
	RiskMedium Risk = "medium_risk"
	RiskHigh   Risk = "high_risk"
)

// Rank orders ratings from harmless to worst: ok 0, low 1, medium 2, unknown 3, high 4.
// An unknown rating ranks above medium so that unattended triage never treats it as benign.
func (r Risk) Rank() int {
	switch r {
	case RiskOK:
		return 0
	case RiskLow:
		return 1
	case RiskMedium:
		return 2
	case RiskHigh:
		return 4
	default:
		return 3
	}
}

// Known reports whether r is one of the four documented ratings.
func (r Risk) Known() bool { return r.Rank() != 3 }

// ExposedSystem is one back-end system the connector exposes to the cloud.
type ExposedSystem struct {
	Protocol    string // HTTP, HTTPS, RFC, RFCS, LDAP, LDAPS, TCP or TCPS
	Host        string // the virtual host and port cloud applications use
	Description string
	Type        string // backend type, e.g. abapSys or nonSAPsys
	Status      string // "exposed", or another value as reported
	// Extra holds members this version does not know, and known ones that are not strings, as
	// encoding/json decodes them.
	Extra map[string]any
}
