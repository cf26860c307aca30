package tools

import (
	"context"
	"strings"

	"github.com/mark3labs/mcp-go/server"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/connectivity"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/observe"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/schemas"
)

func findExposedSystem(cfg Config) server.ServerTool {
	return New(cfg.Logger, Definition{
		Name:  "find_exposed_system",
		Title: "Find exposed back-end systems",
		Description: `Finds the on-premise back-end systems the Cloud Connectors expose, and which connector exposes each. Filters (AND): query (substring of virtual host:port or description), protocol, type, status, client_id.
Use it to find the connector serving a host, or to review what the cloud can reach.
Example question: "Which Cloud Connector exposes s4h.internal:443?"`,
	}, func(ctx context.Context, in schemas.FindExposedSystemInput) (schemas.FindExposedSystemOutput, error) {
		return fromView(ctx, cfg, in.Scope, func(v *observe.View) (schemas.FindExposedSystemOutput, error) {
			if parts := v.Usable(); len(parts) == 1 {
				return findSystems(parts[0].Obs.Snapshot(), parts[0].Obs.Systems(), in) // indexed once per read
			}
			snap := v.Snapshot()
			return findSystems(snap, observe.NewSystemIndex(snap), in)
		})
	})
}

// findSystems answers find_exposed_system from a snapshot and its system index.
func findSystems(snap *connectivity.Snapshot, index *observe.SystemIndex, in schemas.FindExposedSystemInput) (schemas.FindExposedSystemOutput, error) {
	if err := checkClientID(snap, in.ClientID); err != nil {
		return schemas.FindExposedSystemOutput{}, err
	}
	limit := clampLimit(in.Limit)
	out := schemas.FindExposedSystemOutput{
		Systems: []schemas.ExposedSystemMatch{},
	}
	matches := index.Matcher(strings.ToLower(in.Query)) // each distinct system text searched once
	for i := range snap.Connectors {
		c := &snap.Connectors[i]
		if !matchesClientID(c, in.ClientID) {
			continue
		}
		for j := range c.ExposedSystems {
			sys := &c.ExposedSystems[j]
			if (in.Protocol != "" && !strings.EqualFold(sys.Protocol, in.Protocol)) ||
				(in.Type != "" && !strings.EqualFold(sys.Type, in.Type)) ||
				(in.Status != "" && !strings.EqualFold(sys.Status, in.Status)) ||
				!matches(i, j) {
				continue
			}
			out.Total++
			if len(out.Systems) < limit {
				out.Systems = append(out.Systems, schemas.ExposedSystemMatch{
					ClientID:    c.ClientID,
					Subaccount:  snap.Subaccounts[i],
					AgentType:   c.AgentType,
					Host:        sys.Host,
					Protocol:    sys.Protocol,
					Type:        sys.Type,
					Status:      sys.Status,
					Description: sys.Description,
				})
			}
		}
	}
	out.Returned = len(out.Systems)
	out.Truncated = out.Returned < out.Total
	return out, nil
}
