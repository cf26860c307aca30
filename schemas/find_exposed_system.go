package schemas

// FindExposedSystemInput are the arguments of find_exposed_system.
type FindExposedSystemInput struct {
	Query    string `json:"query,omitempty" jsonschema:"maxLength=256" jsonschema_description:"Substring of virtual host:port or description."`
	Protocol string `json:"protocol,omitempty" jsonschema:"enum=HTTP,enum=HTTPS,enum=RFC,enum=RFCS,enum=LDAP,enum=LDAPS,enum=TCP,enum=TCPS" jsonschema_description:"Only this protocol."`
	Type     string `json:"type,omitempty" jsonschema:"enum=abapSys,enum=netweaverCE,enum=netweaverGW,enum=applServerJava,enum=BC,enum=PI,enum=hana,enum=otherSAPsys,enum=nonSAPsys" jsonschema_description:"Only this back-end type."`
	Status   string `json:"status,omitempty" jsonschema:"maxLength=64" jsonschema_description:"Only this status, e.g. exposed."`
	ClientID string `json:"client_id,omitempty" jsonschema:"maxLength=256" jsonschema_description:"Only this Connector ID."`
	Limit    int    `json:"limit,omitempty" jsonschema:"minimum=1,maximum=500,default=50" jsonschema_description:"Most systems to return."`
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
