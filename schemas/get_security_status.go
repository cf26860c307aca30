package schemas

// GetSecurityStatusInput are the arguments of get_security_status.
type GetSecurityStatusInput struct {
	ClientID string `json:"client_id,omitempty" jsonschema:"maxLength=256" jsonschema_description:"Only this Connector ID."`
	MinRisk  string `json:"min_risk,omitempty" jsonschema:"enum=ok,enum=low_risk,enum=medium_risk,enum=unknown,enum=high_risk" jsonschema_description:"Only connectors, checks and findings rated at least this."`
	Limit    int    `json:"limit,omitempty" jsonschema:"minimum=1,maximum=500,default=50" jsonschema_description:"Most connectors and findings to return."`
	Scope
}

// GetSecurityStatusOutput is the result of get_security_status.
type GetSecurityStatusOutput struct {
	Freshness
	Page
	Connectors        []ConnectorSecurity  `json:"connectors"`
	Findings          []SecurityFinding    `json:"findings" jsonschema_description:"Checks not ok, worst first."`
	FindingsTotal     int                  `json:"findings_total"`
	FindingsByRisk    RiskCounts           `json:"findings_by_risk"`
	FindingsTruncated bool                 `json:"findings_truncated"`
	Checks            map[string]CheckHelp `json:"checks"`
}

// ConnectorSecurity is the security status of one connector.
type ConnectorSecurity struct {
	ClientID   string            `json:"client_id"`
	Subaccount string            `json:"subaccount,omitempty"`
	AgentType  string            `json:"agent_type"`
	Summary    string            `json:"summary"`
	Checks     map[string]string `json:"checks" jsonschema_description:"Ratings at or above min_risk (default: not ok)."`
	Problems   []Problem         `json:"problems,omitempty"`
}

// SecurityFinding is a check that is not ok.
type SecurityFinding struct {
	ClientID   string `json:"client_id"`
	Subaccount string `json:"subaccount,omitempty"`
	Check      string `json:"check"`
	Status     string `json:"status"`
}

// CheckHelp names a security check and says how to fix it.
type CheckHelp struct {
	Label       string `json:"label"`
	Remediation string `json:"remediation"`
}
