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

// Freshness says when the data of an answer was read from the Connectivity service.
type Freshness struct {
	FetchedAt string `json:"fetched_at" jsonschema:"format=date-time" jsonschema_description:"When the data was read from SAP."`
}
