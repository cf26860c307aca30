package schemas

// GetConnectorHealthInput are the arguments of get_connector_health.
type GetConnectorHealthInput struct {
	Connector string `json:"connector,omitempty" jsonschema:"maxLength=256" jsonschema_description:"A configured name (--scc-config) or a Connector ID (client_id)."`
	Scope
}

// GetConnectorHealthOutput is the result of get_connector_health.
type GetConnectorHealthOutput struct {
	Freshness
	Configured int               `json:"configured" jsonschema_description:"Connectors in the scc config."`
	Note       string            `json:"note,omitempty" jsonschema_description:"Why there is nothing to show, and what to do."`
	Connectors []ConnectorHealth `json:"connectors"`
}

// ConnectorHealth is one configured connector's own view of its health.
type ConnectorHealth struct {
	Name        string              `json:"name"`
	Endpoint    string              `json:"endpoint"`
	ReadAt      string              `json:"read_at,omitempty" jsonschema:"format=date-time"`
	Reachable   bool                `json:"reachable"`
	Failure     *HealthFailure      `json:"failure,omitempty" jsonschema_description:"Why it could not be read, and what to check."`
	Version     string              `json:"version,omitempty"`
	Role        string              `json:"role,omitempty" jsonschema:"enum=master,enum=shadow"`
	HA          *HealthHA           `json:"ha,omitempty"`
	Match       *HealthMatch        `json:"match,omitempty" jsonschema_description:"A shadow's join with the cloud's view."`
	Subaccounts []HealthSubaccount  `json:"subaccounts,omitempty"`
	Certs       []HealthCertificate `json:"certificates,omitempty"`
	Backends    []HealthBackend     `json:"backends,omitempty"`
	Resources   *HealthResources    `json:"resources,omitempty"`
	Alerts      []HealthAlert       `json:"alerts,omitempty"`
	Unsupported []string            `json:"unsupported,omitempty" jsonschema_description:"Endpoints this version lacks."`
	Problems    []string            `json:"problems,omitempty"`
}

// HealthFailure says why a connector could not be read.
type HealthFailure struct {
	Kind    string `json:"kind" jsonschema:"enum=unreachable,enum=credentials_refused,enum=bad_answer,enum=config"`
	Status  int    `json:"status,omitempty"`
	Message string `json:"message"`
}

// HealthHA is the high-availability state: a master's view of its shadow, or a shadow's own.
type HealthHA struct {
	MasterState string `json:"master_state,omitempty"`
	ShadowHost  string `json:"shadow_host,omitempty"`
	ShadowState string `json:"shadow_state,omitempty"`
	Message     string `json:"message,omitempty"`
}

// HealthMatch is the join with the Connectivity service's view: the client_id and the evidence.
type HealthMatch struct {
	ClientID   string   `json:"client_id,omitempty"`
	Subaccount string   `json:"subaccount,omitempty" jsonschema_description:"The bound subaccount matched in."`
	Evidence   []string `json:"evidence,omitempty"`
	Conflicts  []string `json:"conflicts,omitempty"`
	Unmatched  string   `json:"unmatched,omitempty" jsonschema_description:"Why nothing matched; never guessed."`
}

// HealthSubaccount is one subaccount the connector serves: its tunnel and certificate.
type HealthSubaccount struct {
	ID             string       `json:"id"`
	Name           string       `json:"name,omitempty"`
	LocationID     string       `json:"location_id,omitempty"`
	Tunnel         string       `json:"tunnel"`
	ConnectedSince string       `json:"connected_since,omitempty" jsonschema:"format=date-time"`
	Connections    int          `json:"connections"`
	CertNotAfter   string       `json:"cert_not_after,omitempty" jsonschema:"format=date-time"`
	CertDaysLeft   *int         `json:"cert_days_left,omitempty"`
	Match          *HealthMatch `json:"match,omitempty"`
}

// HealthCertificate is one of the connector's certificates.
type HealthCertificate struct {
	Type       string `json:"type" jsonschema_description:"UI, System, CA or subaccount."`
	Subaccount string `json:"subaccount,omitempty"`
	NotAfter   string `json:"not_after" jsonschema:"format=date-time"`
	DaysLeft   int    `json:"days_left"`
}

// HealthBackend is one back end: its connections and, when the connector measures it, its calls
// and latency percentiles (estimated from the connector's histogram).
type HealthBackend struct {
	Virtual  string `json:"virtual" jsonschema_description:"Virtual host:port the cloud calls."`
	Internal string `json:"internal,omitempty"`
	Protocol string `json:"protocol,omitempty"`
	Active   int    `json:"active"`
	Idle     int    `json:"idle"`
	Calls    int    `json:"calls,omitempty"`
	P50ms    int64  `json:"p50_ms,omitempty"`
	P90ms    int64  `json:"p90_ms,omitempty"`
	P99ms    int64  `json:"p99_ms,omitempty"`
}

// HealthResources are CPU, heap and disk, each absent when not reported.
type HealthResources struct {
	CPUPercent      *float64 `json:"cpu_percent,omitempty"`
	HeapUsedPercent *float64 `json:"heap_used_percent,omitempty"`
	HeapTotalMB     int64    `json:"heap_total_mb,omitempty"`
	DiskFreePercent *float64 `json:"disk_free_percent,omitempty"`
	DiskFreeMB      int64    `json:"disk_free_mb,omitempty"`
}

// HealthAlert is an alert the connector raises itself (2.19+).
type HealthAlert struct {
	Type    string `json:"type"`
	Status  string `json:"status"`
	Message string `json:"message,omitempty"`
	Entity  string `json:"entity,omitempty"`
	Raised  string `json:"raised,omitempty" jsonschema:"format=date-time"`
}
