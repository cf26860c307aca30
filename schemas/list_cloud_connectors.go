package schemas

// ListCloudConnectorsInput are the arguments of list_cloud_connectors.
type ListCloudConnectorsInput struct {
	ClientID string `json:"client_id,omitempty" jsonschema:"maxLength=256" jsonschema_description:"Only this Connector ID."`
	Limit    int    `json:"limit,omitempty" jsonschema:"minimum=1,maximum=500,default=50" jsonschema_description:"Most connectors to return."`
	Scope
}

// ListCloudConnectorsOutput is the result of list_cloud_connectors.
type ListCloudConnectorsOutput struct {
	Freshness
	Totals ConnectorTotals `json:"totals" jsonschema_description:"Over all matches."`
	Page
	Connectors []ConnectorSummary `json:"connectors"`
}

// ConnectorTotals counts connectors by role and by security summary.
type ConnectorTotals struct {
	Connectors int `json:"connectors"`
	Masters    int `json:"masters"`
	Shadows    int `json:"shadows"`
	// ByRisk counts connectors per security summary: ok, low_risk, medium_risk, high_risk, unknown.
	ByRisk RiskCounts `json:"by_risk"`
	// WithProblems counts connectors with attributes that could not be decoded.
	WithProblems int `json:"with_problems"`
}

// RiskCounts counts items per risk level. Unknown covers missing and unrecognised ratings.
type RiskCounts struct {
	OK      int `json:"ok"`
	Low     int `json:"low_risk"`
	Medium  int `json:"medium_risk"`
	High    int `json:"high_risk"`
	Unknown int `json:"unknown"`
}

// ConnectorSummary is one Cloud Connector in list_cloud_connectors.
type ConnectorSummary struct {
	ClientID         string `json:"client_id"`
	Subaccount       string `json:"subaccount,omitempty"`
	AgentType        string `json:"agent_type"`
	AgentVersion     string `json:"agent_version"`
	JavaVersion      string `json:"java_version"`
	JVMVendorVersion string `json:"jvm_vendor_version,omitempty" jsonschema_description:"Only when java_version is missing."`
	ConnectedBy      string `json:"connected_by"`
	LocationID       string `json:"location_id,omitempty"`
	Connected        bool   `json:"connected" jsonschema_description:"False when connected_since is missing or invalid."`
	ConnectedSince   string `json:"connected_since,omitempty" jsonschema:"format=date-time"`
	LastStart        string `json:"last_start,omitempty" jsonschema:"format=date-time"`
	Uptime           string `json:"uptime,omitempty" jsonschema_description:"Since last_start, e.g. 3d 4h 12m."`
	Summary          string `json:"summary"`
	ExposedSystems   int    `json:"exposed_systems"`
	// OtherAttributes holds attributes the API sent that this version does not know.
	OtherAttributes map[string]string `json:"other_attributes,omitempty"`
	Problems        []Problem         `json:"problems,omitempty"`
}
