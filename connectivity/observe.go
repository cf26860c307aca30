package connectivity

// EventKind says what an Event reports.
type EventKind string

// The kinds of Event a Client reports to Options.Observe.
const (
	// EventRequest is one HTTP request to the Connectivity service; Status is its answer's
	// HTTP status, 0 when none came (a connection error or the caller gave up).
	EventRequest EventKind = "request"
	// EventTokenFetch is one token request to XSUAA; Status as for EventRequest.
	EventTokenFetch EventKind = "token_fetch"
	// EventCacheHit is a question answered from a cached read, without a request.
	EventCacheHit EventKind = "cache_hit"
	// EventReadError is a read of the subaccount that failed (after its retries).
	EventReadError EventKind = "read_error"
)

// Event is what a Client tells Options.Observe: for metrics, never with a token or secret.
type Event struct {
	Kind       EventKind
	Service    Service // ServiceConnectivity or ServiceXSUAA (EventRequest, EventTokenFetch)
	Status     int     // HTTP status (EventRequest, EventTokenFetch); 0 when no answer came
	Subaccount string  // the binding's label
}

// observe reports e to Options.Observe, if set.
func (c *Client) observe(e Event) {
	if c.opts.Observe != nil {
		e.Subaccount = c.Binding().Label()
		c.opts.Observe(e)
	}
}

// Report tells Options.Observe of an event of the client's subaccount that happens above the
// client (a cache hit, a failed read).
func (c *Client) Report(kind EventKind) { c.observe(Event{Kind: kind}) }
