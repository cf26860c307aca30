package schemas

// FindExposedSystemInput are the arguments of find_exposed_system.
type FindExposedSystemInput struct {
	Query    string `json:"query,omitempty" jsonschema:"maxLength=256" jsonschema_description:"Case-insensitive substring of the virtual host (host:port) or the description, e.g. s4h.internal:443 or ERP."`
	Protocol string `json:"protocol,omitempty" jsonschema:"enum=HTTP,enum=HTTPS,enum=RFC,enum=RFCS,enum=LDAP,enum=LDAPS,enum=TCP,enum=TCPS" jsonschema_description:"Only systems exposed with this protocol (case-insensitive)."`
	Type     string `json:"type,omitempty" jsonschema:"enum=abapSys,enum=netweaverCE,enum=netweaverGW,enum=applServerJava,enum=BC,enum=PI,enum=hana,enum=otherSAPsys,enum=nonSAPsys" jsonschema_description:"Only systems of this back-end type (case-insensitive)."`
	Status   string `json:"status,omitempty" jsonschema:"maxLength=64" jsonschema_description:"Only systems with this status, e.g. exposed (case-insensitive)."`
	ClientID string `json:"client_id,omitempty" jsonschema:"maxLength=256" jsonschema_description:"Only systems exposed by the connector(s) with this Connector ID."`
	Limit    int    `json:"limit,omitempty" jsonschema:"minimum=1,default=50" jsonschema_description:"Most systems to return (1 to 500; larger values are treated as 500)."`
	Scope
}

// FindExposedSystemOutput is the result of find_exposed_system.
type FindExposedSystemOutput struct {
	Freshness
	Page
	Systems []ExposedSystemMatch `json:"systems"`
}

// ExposedSystemMatch is one exposed back-end system and the connector exposing it.
type ExposedSystemMatch struct {
	ClientID    string `json:"client_id"`
	Subaccount  string `json:"subaccount,omitempty"`
	AgentType   string `json:"agent_type"`
	Host        string `json:"host" jsonschema_description:"Virtual host:port."`
	Protocol    string `json:"protocol"`
	Type        string `json:"type"`
	Status      string `json:"status"`
	Description string `json:"description"`
}
