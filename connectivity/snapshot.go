package connectivity

import "time"

// DefaultCacheTTL is how long a snapshot answers questions before it is read again.
const DefaultCacheTTL = 30 * time.Second

// Snapshot is the Cloud Connector info of one or more subaccounts at one moment. It is immutable
// once built.
type Snapshot struct {
	FetchedAt  time.Time
	Connectors []Connector
	// Subaccounts[i] names the subaccount Connectors[i] was read from (its binding's label).
	Subaccounts []string
}

// NewSnapshot holds connectors fetched at the given time, read through the named subaccounts
// (nil, or a slice of another length, leaves every name empty). Nil connectors are an empty list.
func NewSnapshot(fetchedAt time.Time, connectors []Connector, subaccounts []string) *Snapshot {
	if connectors == nil {
		connectors = []Connector{}
	}
	if len(subaccounts) != len(connectors) {
		subaccounts = make([]string, len(connectors))
	}
	return &Snapshot{FetchedAt: fetchedAt, Connectors: connectors, Subaccounts: subaccounts}
}
