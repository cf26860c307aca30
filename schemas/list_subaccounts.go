package schemas

// ListSubaccountsInput are the arguments of list_subaccounts.
type ListSubaccountsInput struct {
	Refresh bool `json:"refresh,omitempty" jsonschema_description:"Read every subaccount now; without it no request is sent."`
}

// ListSubaccountsOutput is the result of list_subaccounts.
type ListSubaccountsOutput struct {
	Subaccounts []SubaccountInfo `json:"subaccounts"`
}

// SubaccountInfo is one bound subaccount.
type SubaccountInfo struct {
	Name               string `json:"name" jsonschema_description:"Binding name; the subaccount argument takes it or the label."`
	Label              string `json:"label"`
	SubaccountID       string `json:"subaccount_id,omitempty"`
	Subdomain          string `json:"subdomain,omitempty"`
	Region             string `json:"region,omitempty"`
	Credential         string `json:"credential" jsonschema:"enum=secret,enum=x509,enum=none"`
	CertificateExpires string `json:"certificate_expires,omitempty" jsonschema:"format=date-time"`
	LastRead           string `json:"last_read,omitempty" jsonschema:"format=date-time" jsonschema_description:"The last successful read."`
	Connectors         *int   `json:"connectors,omitempty" jsonschema_description:"Connectors at last_read."`
	LastError          string `json:"last_error,omitempty"`
}
