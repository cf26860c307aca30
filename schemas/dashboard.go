package schemas

// Dashboard is the data of the dashboard view (the MCP App ui://btp-connectivity/dashboard.html and
// the HTML report of check --format html): the contract between the server and the view's
// JavaScript. The view renders every section it finds and hides the ones that are absent, so a
// newer server can add sections an older view ignores and an older server leaves out sections a
// newer view hides (Certificates until deep health reads them).
type Dashboard struct {
	Freshness
	GeneratedAt        string          `json:"generated_at" jsonschema:"format=date-time"`
	ConnectorsAssessed int             `json:"connectors_assessed"`
	WorstSeverity      string          `json:"worst_severity" jsonschema:"enum=critical,enum=high,enum=medium,enum=low,enum=info,enum=none"`
	Counts             SeverityCounts  `json:"counts" jsonschema_description:"Open findings per severity; accepted ones apart."`
	NewCounts          *SeverityCounts `json:"new_counts,omitempty" jsonschema_description:"Of counts, those new since the previous read; absent without history."`
	// Subaccounts is one heat row per subaccount, worst first, then by name.
	Subaccounts []DashboardSubaccount `json:"subaccounts"`
	// Findings are every finding (accepted ones marked), worst first; each rule's remediation is
	// in Rules under the finding's id.
	Findings []Finding           `json:"findings"`
	Rules    map[string]RuleHelp `json:"rules"`
	// Trend is the open findings per day and severity; absent without history.
	Trend *Trend `json:"trend,omitempty"`
	// Changes is what changed in the last ChangesDays days, worst first; absent without history.
	Changes     []Change `json:"changes,omitempty"`
	ChangesDays int      `json:"changes_days,omitempty"`
	// History says why Trend, Changes and new markers are missing, when they are.
	History string `json:"history,omitempty"`
	// Certificates are the certificates whose expiry is known, soonest first; absent until a
	// source reads them (deep health). The view hides the section when it is absent.
	Certificates []CertificateExpiry `json:"certificates,omitempty"`
}

// DashboardSubaccount is one subaccount's heat row.
type DashboardSubaccount struct {
	Subaccount    string         `json:"subaccount"`
	Connectors    int            `json:"connectors"`
	WorstSeverity string         `json:"worst_severity" jsonschema:"enum=critical,enum=high,enum=medium,enum=low,enum=info,enum=none"`
	Counts        SeverityCounts `json:"counts"`
	New           int            `json:"new,omitempty" jsonschema_description:"Open findings new since the previous read."`
	Error         string         `json:"error,omitempty" jsonschema_description:"Why the subaccount could not be read."`
}

// Trend counts open findings per day (UTC) and severity; each severity's slice has one value per
// day of Days. Days before the history starts (Since) are left out.
type Trend struct {
	Days     []string `json:"days" jsonschema_description:"Dates (YYYY-MM-DD, UTC), oldest first."`
	Critical []int    `json:"critical"`
	High     []int    `json:"high"`
	Medium   []int    `json:"medium"`
	Low      []int    `json:"low"`
	Info     []int    `json:"info"`
	Since    string   `json:"since,omitempty" jsonschema:"format=date-time" jsonschema_description:"The oldest read in the history."`
}

// CertificateExpiry is one certificate on the dashboard's timeline.
type CertificateExpiry struct {
	Subaccount string `json:"subaccount"`
	ClientID   string `json:"client_id,omitempty"`
	Kind       string `json:"kind" jsonschema_description:"Which certificate, e.g. system, ui, ca."`
	Subject    string `json:"subject,omitempty"`
	NotAfter   string `json:"not_after" jsonschema:"format=date-time"`
	Severity   string `json:"severity,omitempty" jsonschema:"enum=critical,enum=high,enum=medium,enum=low,enum=info"`
}
