package schemas

// Limits shared by every tool that returns a list: an answer never floods a model's context.
const (
	DefaultLimit = 50
	MaxLimit     = 500
)

// Page says how much of a list an answer holds.
type Page struct {
	Total     int  `json:"total" jsonschema_description:"Matches before the limit."`
	Returned  int  `json:"returned"`
	Truncated bool `json:"truncated" jsonschema_description:"Matches left out by the limit."`
}

// Problem is an attribute of a connector that could not be decoded.
type Problem struct {
	Attribute string `json:"attribute"`
	Message   string `json:"message"`
}

// Freshness says when the data of an answer was read from the Connectivity service, and which
// subaccounts could not be read: an answer covers every subaccount that could be.
type Freshness struct {
	FetchedAt string            `json:"fetched_at,omitempty" jsonschema:"format=date-time"`
	Partial   bool              `json:"partial,omitempty"`
	Errors    []SubaccountError `json:"errors,omitempty"`
}

// SetFreshness replaces the freshness of an answer: every output embeds Freshness, so the tools'
// common skeleton fills it in.
func (f *Freshness) SetFreshness(v Freshness) { *f = v }

// SubaccountError is a subaccount whose latest read failed; when its last good read still
// answers for it (stale), AgeSeconds is that read's age (fetched_at is the oldest read's time).
type SubaccountError struct {
	Subaccount string `json:"subaccount"`
	Binding    string `json:"binding"`
	Error      string `json:"error"`
	AgeSeconds *int   `json:"age_seconds,omitempty"`
}

// Scope is the part of every tool's arguments that says what to read.
type Scope struct {
	Subaccount string `json:"subaccount,omitempty" jsonschema:"maxLength=256" jsonschema_description:"Name or label from list_subaccounts."`
	Refresh    bool   `json:"refresh,omitempty" jsonschema_description:"Read SAP now."`
}

// ReadScope returns the scope of a tool's arguments.
func (s Scope) ReadScope() Scope { return s }
