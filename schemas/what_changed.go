package schemas

// WhatChangedInput are the arguments of what_changed.
type WhatChangedInput struct {
	Since    string `json:"since,omitempty" jsonschema:"maxLength=64" jsonschema_description:"RFC 3339 time or duration such as 24h or 7d; default: the previous read."`
	ClientID string `json:"client_id,omitempty" jsonschema:"maxLength=256" jsonschema_description:"Only this Connector ID."`
	Kind     string `json:"kind,omitempty" jsonschema:"enum=connector_appeared,enum=connector_disappeared,enum=reconnected,enum=restarted,enum=version_changed,enum=java_changed,enum=role_changed,enum=security_changed,enum=system_exposed,enum=system_removed,enum=system_changed,enum=finding_new,enum=finding_resolved,enum=finding_changed,enum=tunnel_changed,enum=certificate_renewed,enum=ha_changed,enum=alert_raised,enum=alert_cleared" jsonschema_description:"Only this kind of change."`
	Limit    int    `json:"limit,omitempty" jsonschema:"minimum=1,maximum=500,default=50" jsonschema_description:"Most changes to return."`
	Scope
}

// WhatChangedOutput is the result of what_changed.
type WhatChangedOutput struct {
	Freshness
	From    string `json:"from,omitempty" jsonschema:"format=date-time" jsonschema_description:"Absent without an earlier read."`
	To      string `json:"to" jsonschema:"format=date-time"`
	Covered bool   `json:"covered" jsonschema_description:"False when history starts after from."`
	Oldest  string `json:"oldest_read,omitempty" jsonschema:"format=date-time"`
	Note    string `json:"note,omitempty"`
	Page
	Changes []Change `json:"changes" jsonschema_description:"Worst first, then newest first."`
	Store   string   `json:"store"`
}

// Change is one difference between two consecutive reads of a subaccount.
type Change struct {
	ObservedAt     string `json:"observed_at" jsonschema:"format=date-time"`
	PreviousReadAt string `json:"previous_read_at,omitempty" jsonschema:"format=date-time"`
	Subaccount     string `json:"subaccount"`
	ClientID       string `json:"client_id,omitempty"`
	Kind           string `json:"kind"`
	Severity       string `json:"severity"`
	Field          string `json:"field,omitempty"`
	Old            string `json:"old,omitempty"`
	New            string `json:"new,omitempty"`
	Detail         string `json:"detail,omitempty"`
}
