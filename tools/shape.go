package tools

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/connectivity"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/schemas"
)

// riskUnknown is reported for a missing, malformed or unrecognised rating.
const riskUnknown = "unknown"

// rfc3339 formats t, or returns "" for the zero time (so omitempty drops it).
func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// summaryOf returns a connector's overall rating as reported, or "unknown".
func summaryOf(c *connectivity.Connector) connectivity.Risk {
	if c.Security == nil || c.Security.Summary == "" {
		return riskUnknown
	}
	return c.Security.Summary
}

// worstOf returns the connector's worst rating over its summary and checks ("unknown" when its
// security status could not be read).
func worstOf(c *connectivity.Connector) connectivity.Risk {
	if c.Security == nil {
		return riskUnknown
	}
	return c.Security.Worst()
}

// countRisk adds r to counts, unknown values under Unknown.
func countRisk(counts *schemas.RiskCounts, r connectivity.Risk) {
	switch r {
	case connectivity.RiskOK:
		counts.OK++
	case connectivity.RiskLow:
		counts.Low++
	case connectivity.RiskMedium:
		counts.Medium++
	case connectivity.RiskHigh:
		counts.High++
	default:
		counts.Unknown++
	}
}

// problemsOf converts decoding problems for output (nil when there are none).
func problemsOf(c *connectivity.Connector) []schemas.Problem {
	if len(c.Problems) == 0 {
		return nil
	}
	out := make([]schemas.Problem, len(c.Problems))
	for i, p := range c.Problems {
		out[i] = schemas.Problem{Attribute: p.Attribute, Message: p.Message}
	}
	return out
}

// humanDuration renders d as "3d 4h 12m" (minutes precision).
func humanDuration(d time.Duration) string {
	m := int(d.Round(time.Minute) / time.Minute)
	switch days, hours, mins := m/(24*60), m/60%24, m%60; {
	case days > 0:
		return fmt.Sprintf("%dd %dh %dm", days, hours, mins)
	case hours > 0:
		return fmt.Sprintf("%dh %dm", hours, mins)
	default:
		return fmt.Sprintf("%dm", mins)
	}
}

// matchesClientID reports whether a connector passes an optional client_id filter.
func matchesClientID(c *connectivity.Connector, filter string) bool {
	return filter == "" || c.ClientID == filter
}

// checkClientID returns the error for a client_id filter that matches no connector, naming the
// connected ones; nil when id is empty or matches.
func checkClientID(snap *connectivity.Snapshot, id string) error {
	known := clientIDs(snap)
	if id == "" || slices.Contains(known, id) {
		return nil
	}
	const show = 20
	list := strings.Join(known[:min(show, len(known))], ", ")
	if len(known) > show {
		list += fmt.Sprintf(" and %d more", len(known)-show)
	}
	if list == "" {
		return fmt.Errorf("no Cloud Connector with client_id %q: no Cloud Connector is connected to the subaccount", id)
	}
	return fmt.Errorf("no Cloud Connector with client_id %q is connected; connected: %s (call list_cloud_connectors to see them)", id, list)
}

// clientIDs returns the distinct Connector IDs of a snapshot, in their order there.
func clientIDs(snap *connectivity.Snapshot) []string {
	var ids []string
	seen := map[string]bool{}
	for i := range snap.Connectors {
		if id := snap.Connectors[i].ClientID; id != "" && !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	return ids
}

// clampLimit applies the documented upper bound of every limit argument.
func clampLimit(limit int) int {
	if limit <= 0 {
		return schemas.DefaultLimit
	}
	return min(limit, schemas.MaxLimit)
}
