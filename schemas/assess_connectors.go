package schemas

// AssessConnectorsInput are the arguments of assess_connectors.
type AssessConnectorsInput struct {
	MinSeverity string `json:"min_severity,omitempty" jsonschema:"enum=critical,enum=high,enum=medium,enum=low,enum=info" jsonschema_description:"Only findings at least this severe."`
	ClientID    string `json:"client_id,omitempty" jsonschema:"maxLength=256" jsonschema_description:"Only findings about this Connector ID."`
	Limit       int    `json:"limit,omitempty" jsonschema:"minimum=1,maximum=500,default=50" jsonschema_description:"Most findings to return."`
	Scope
}

// AssessConnectorsOutput is the result of assess_connectors.
type AssessConnectorsOutput struct {
	Freshness
	Page
	ConnectorsAssessed int                 `json:"connectors_assessed"`
	WorstSeverity      string              `json:"worst_severity" jsonschema:"enum=critical,enum=high,enum=medium,enum=low,enum=info,enum=none"`
	NewCounts          *SeverityCounts     `json:"new_counts,omitempty" jsonschema_description:"Of counts, those new since the previous read."`
	Counts             SeverityCounts      `json:"counts" jsonschema_description:"Over all matches; accepted ones apart."`
	Policy             AssessmentPolicy    `json:"policy"`
	Findings           []Finding           `json:"findings"`
	Rules              map[string]RuleHelp `json:"rules"`
	AcceptedRisks      *AcceptedRisks      `json:"accepted_risks,omitempty"`
	History            string              `json:"history,omitempty" jsonschema_description:"Why first_seen and new are missing."`
}

// SeverityCounts counts findings per severity; accepted findings are counted only in Accepted.
type SeverityCounts struct {
	Critical int `json:"critical"`
	High     int `json:"high"`
	Medium   int `json:"medium"`
	Low      int `json:"low"`
	Info     int `json:"info"`
	Accepted int `json:"accepted"`
}

// Add counts one finding of severity (critical, high, medium, low or info; anything else is
// not counted).
func (c *SeverityCounts) Add(severity string) {
	switch severity {
	case "critical":
		c.Critical++
	case "high":
		c.High++
	case "medium":
		c.Medium++
	case "low":
		c.Low++
	case "info":
		c.Info++
	}
}

// AssessmentPolicy says what the version rules measured against.
type AssessmentPolicy struct {
	MinJavaMajor int          `json:"min_java_major"`
	SCCVersions  []VersionBar `json:"scc_versions"`
}

// VersionBar is the version below which a subaccount's connectors are outdated.
type VersionBar struct {
	Subaccount string `json:"subaccount,omitempty"`
	Source     string `json:"source" jsonschema:"enum=configured,enum=derived,enum=none"`
	MinVersion string `json:"min_version,omitempty"`
	Release    string `json:"release,omitempty"`
}

// Finding is one problem the assessment found. What to do about it is in the answer's rules,
// under its id.
type Finding struct {
	ID                string            `json:"id" jsonschema_description:"Rule ID; see rules."`
	Severity          string            `json:"severity" jsonschema:"enum=critical,enum=high,enum=medium,enum=low,enum=info"`
	Fingerprint       string            `json:"fingerprint"`
	Subaccount        string            `json:"subaccount,omitempty"`
	ClientID          string            `json:"client_id"`
	LocationID        string            `json:"location_id,omitempty"`
	Subject           string            `json:"subject,omitempty"`
	RelatedClientIDs  []string          `json:"related_client_ids,omitempty"`
	Title             string            `json:"title"`
	Evidence          map[string]string `json:"evidence"`
	Accepted          *Acceptance       `json:"accepted,omitempty"`
	AcceptanceExpired string            `json:"acceptance_expired,omitempty" jsonschema_description:"Expiry of an accepted-risk entry that no longer applies."`
	FirstSeen         string            `json:"first_seen,omitempty" jsonschema:"format=date-time" jsonschema_description:"When first recorded; absent when first seen in this read."`
	New               *bool             `json:"new,omitempty" jsonschema_description:"Not in the previous read of its subaccount."`
}

// RuleHelp explains a rule once per answer.
type RuleHelp struct {
	Title       string `json:"title"`
	Remediation string `json:"remediation"`
}

// Acceptance is the accepted-risk entry of a finding.
type Acceptance struct {
	Reason  string `json:"reason"`
	Owner   string `json:"owner"`
	Expires string `json:"expires" jsonschema:"format=date"`
}

// AcceptedRisks reports how the accepted-risks file applied.
type AcceptedRisks struct {
	File   string          `json:"file"`
	Unused []AcceptedEntry `json:"unused,omitempty" jsonschema_description:"Entries matching no finding."`
}

// AcceptedEntry is an entry of the accepted-risks file.
type AcceptedEntry struct {
	Line    int    `json:"line"`
	Rule    string `json:"rule"`
	Expires string `json:"expires"`
}
