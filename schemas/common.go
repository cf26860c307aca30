package schemas

// Limits shared by every tool that returns a list: an answer never floods a model's context.
const (
	DefaultLimit = 50
	MaxLimit     = 500
)

// Page says how much of a list an answer holds.
type Page struct {
	Total     int  `json:"total" jsonschema_description:"How many items matched before the limit was applied."`
	Returned  int  `json:"returned" jsonschema_description:"How many items this answer holds."`
	Truncated bool `json:"truncated" jsonschema_description:"True when items were left out because of the limit; raise limit or narrow the filters to see them."`
}

// Problem is an attribute of a connector that could not be decoded.
type Problem struct {
	Attribute string `json:"attribute" jsonschema_description:"The API attribute, e.g. security_status."`
	Message   string `json:"message"`
}

// Freshness says when the data of an answer was read from the Connectivity service.
type Freshness struct {
	FetchedAt string `json:"fetched_at" jsonschema:"format=date-time" jsonschema_description:"When this data was read from the Connectivity service (RFC 3339). Answers within the cache TTL share one read; pass refresh=true for a new one."`
}
