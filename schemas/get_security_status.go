package schemas

// GetSecurityStatusInput are the arguments of get_security_status.
type GetSecurityStatusInput struct {
	ClientID string `json:"client_id,omitempty" jsonschema:"maxLength=256" jsonschema_description:"Only the connector(s) with this Connector ID (exact match)."`
	MinRisk  string `json:"min_risk,omitempty" jsonschema:"enum=ok,enum=low_risk,enum=medium_risk,enum=high_risk" jsonschema_description:"Only connectors and findings rated at least this (ok < low_risk < medium_risk < unknown < high_risk). Default: every connector and every finding."`
	Limit    int    `json:"limit,omitempty" jsonschema:"minimum=1,default=50" jsonschema_description:"Most connectors and most findings to return (1 to 500; larger values are treated as 500)."`
	Refresh  bool   `json:"refresh,omitempty" jsonschema_description:"Read the Connectivity service now instead of reusing data up to the cache TTL old."`
}

// GetSecurityStatusOutput is the result of get_security_status.
type GetSecurityStatusOutput struct {
	Freshness
	Page
	Connectors []ConnectorSecurity `json:"connectors"`
	// Findings lists every check that is not ok, worst first.
	Findings          []SecurityFinding `json:"findings" jsonschema_description:"Every check that is not ok, worst first."`
	FindingsTotal     int               `json:"findings_total"`
	FindingsByRisk    RiskCounts        `json:"findings_by_risk"`
	FindingsTruncated bool              `json:"findings_truncated"`
}

// ConnectorSecurity is the security status of one connector.
type ConnectorSecurity struct {
	ClientID   string                `json:"client_id"`
	Subaccount string                `json:"subaccount,omitempty"`
	AgentType  string                `json:"agent_type"`
	Summary    string                `json:"summary" jsonschema_description:"Overall rating as reported; unknown when the security status is missing or malformed."`
	Checks     []SecurityCheckResult `json:"checks"`
	Problems   []Problem             `json:"problems,omitempty"`
}

// SecurityCheckResult is one check of a connector's Security Status page.
type SecurityCheckResult struct {
	Name           string `json:"name" jsonschema_description:"The check's key in the API, e.g. payload_trace."`
	Label          string `json:"label" jsonschema_description:"The check's name in the Cloud Connector UI, e.g. Backend Trust Store."`
	Status         string `json:"status" jsonschema_description:"ok, low_risk, medium_risk, high_risk, or another value as reported."`
	NeedsAction    bool   `json:"needs_action" jsonschema_description:"True for every status other than ok, unknown ones included."`
	Recommendation string `json:"recommendation,omitempty" jsonschema_description:"What to do; present when the check needs action."`
}

// SecurityFinding is a check that is not ok.
type SecurityFinding struct {
	ClientID       string `json:"client_id"`
	Subaccount     string `json:"subaccount,omitempty"`
	AgentType      string `json:"agent_type"`
	Check          string `json:"check"`
	Label          string `json:"label"`
	Status         string `json:"status"`
	Recommendation string `json:"recommendation"`
}
