package schemas

// The severities of assess_connectors findings, worst first. docs/assessment.md maps every rule
// to one of them.
const (
	SeverityCritical = "critical"
	SeverityHigh     = "high"
	SeverityMedium   = "medium"
	SeverityLow      = "low"
	SeverityInfo     = "info"
)

// Severities returns the severities from worst to mildest, in a new slice.
func Severities() []string {
	return []string{SeverityCritical, SeverityHigh, SeverityMedium, SeverityLow, SeverityInfo}
}

// AssessConnectorsInput are the arguments of assess_connectors.
type AssessConnectorsInput struct {
	MinSeverity string `json:"min_severity,omitempty" jsonschema:"enum=critical,enum=high,enum=medium,enum=low,enum=info" jsonschema_description:"Only findings at least this severe (info < low < medium < high < critical). Default: every finding."`
	ClientID    string `json:"client_id,omitempty" jsonschema:"maxLength=256" jsonschema_description:"Only findings about the connector with this Connector ID, including high-availability findings it is involved in. The whole landscape is still read, since several rules compare connectors."`
	Limit       int    `json:"limit,omitempty" jsonschema:"minimum=1,default=50" jsonschema_description:"Most findings to return, worst first (1 to 500; larger values are treated as 500). Counts always cover every matching finding."`
	Refresh     bool   `json:"refresh,omitempty" jsonschema_description:"Read the Connectivity service now instead of reusing data up to the cache TTL old."`
}

// AssessConnectorsOutput is the result of assess_connectors.
type AssessConnectorsOutput struct {
	Freshness
	Page
	ConnectorsAssessed int              `json:"connectors_assessed" jsonschema_description:"Cloud Connectors in the landscape; all of them are read, whatever the filters."`
	WorstSeverity      string           `json:"worst_severity" jsonschema:"enum=critical,enum=high,enum=medium,enum=low,enum=info,enum=none" jsonschema_description:"Severity of the worst matching finding; none when there is none."`
	Counts             SeverityCounts   `json:"counts" jsonschema_description:"Matching findings per severity, including any left out by the limit."`
	Policy             AssessmentPolicy `json:"policy" jsonschema_description:"The thresholds the version rules applied."`
	Findings           []Finding        `json:"findings" jsonschema_description:"Matching findings, worst first."`
}

// SeverityCounts counts findings per severity.
type SeverityCounts struct {
	Critical int `json:"critical"`
	High     int `json:"high"`
	Medium   int `json:"medium"`
	Low      int `json:"low"`
	Info     int `json:"info"`
}

// AssessmentPolicy says which thresholds the version rules used, so that a reader can tell why an
// agent_version was or was not outdated.
type AssessmentPolicy struct {
	MinSCCVersion       string `json:"min_scc_version,omitempty" jsonschema_description:"Cloud Connector versions below this are outdated. Absent when no version could be read."`
	MinSCCVersionSource string `json:"min_scc_version_source" jsonschema:"enum=configured,enum=derived,enum=none" jsonschema_description:"configured: set with --min-scc-version; derived: the newest version seen in the landscape, minus one minor release; none: no version could be read."`
	NewestSCCVersion    string `json:"newest_scc_version,omitempty" jsonschema_description:"The newest Cloud Connector version seen in the landscape."`
	MinJavaMajor        int    `json:"min_java_major" jsonschema_description:"Java major versions below this are findings."`
}

// Finding is one problem the assessment found, with what triggered it and what to do.
type Finding struct {
	ID               string            `json:"id" jsonschema_description:"Stable rule ID, e.g. security.payload_trace, ha.no_shadow, version.outdated, protocol.unencrypted, decode.security_status."`
	Severity         string            `json:"severity" jsonschema:"enum=critical,enum=high,enum=medium,enum=low,enum=info"`
	ClientID         string            `json:"client_id" jsonschema_description:"The Connector ID the finding is about."`
	Subaccount       string            `json:"subaccount,omitempty"`
	AgentType        string            `json:"agent_type" jsonschema_description:"master or shadow, as reported."`
	LocationID       string            `json:"location_id,omitempty" jsonschema_description:"The connector's location ID; absent for the default location."`
	RelatedClientIDs []string          `json:"related_client_ids,omitempty" jsonschema_description:"Other connectors involved, e.g. the master of a disconnected shadow."`
	Title            string            `json:"title"`
	Evidence         map[string]string `json:"evidence" jsonschema_description:"The attribute values that triggered the finding, keyed by attribute (security_status.<check> for a security check)."`
	Recommendation   string            `json:"recommendation" jsonschema_description:"What to do, and how to verify it is fixed."`
}
