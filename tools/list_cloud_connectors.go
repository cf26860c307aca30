package tools

import (
	"github.com/mark3labs/mcp-go/server"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/connectivity"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/schemas"
)

func listCloudConnectors(cfg Config) server.ServerTool {
	return snapshotTool(cfg, Definition{
		Name:  "list_cloud_connectors",
		Title: "List Cloud Connectors",
		Description: `Lists the SAP Cloud Connectors of the subaccounts with totals: version, Java, HA role (master/shadow), who connected it and since when, whether it shows a connection, uptime, security summary, exposed-system count, malformed attributes.
Use it for an overview or health check.
Example question: "Are my Cloud Connectors healthy, and which versions do they run?"`,
	}, listConnectors)
}

// listConnectors answers list_cloud_connectors from a snapshot.
func listConnectors(snap *connectivity.Snapshot, in schemas.ListCloudConnectorsInput) (schemas.ListCloudConnectorsOutput, error) {
	if err := checkClientID(snap, in.ClientID); err != nil {
		return schemas.ListCloudConnectorsOutput{}, err
	}
	limit := clampLimit(in.Limit)
	out := schemas.ListCloudConnectorsOutput{
		Connectors: []schemas.ConnectorSummary{},
	}
	for i := range snap.Connectors {
		c := &snap.Connectors[i]
		if !matchesClientID(c, in.ClientID) {
			continue
		}
		out.Totals.Connectors++
		switch {
		case c.IsMaster():
			out.Totals.Masters++
		case c.IsShadow():
			out.Totals.Shadows++
		}
		countRisk(&out.Totals.ByRisk, summaryOf(c))
		if len(c.Problems) > 0 {
			out.Totals.WithProblems++
		}
		if len(out.Connectors) < limit {
			out.Connectors = append(out.Connectors, connectorSummary(snap, i))
		}
	}
	out.Page = schemas.Page{Total: out.Totals.Connectors, Returned: len(out.Connectors), Truncated: len(out.Connectors) < out.Totals.Connectors}
	return out, nil
}

func connectorSummary(snap *connectivity.Snapshot, i int) schemas.ConnectorSummary {
	c := &snap.Connectors[i]
	s := schemas.ConnectorSummary{
		ClientID:        c.ClientID,
		Subaccount:      snap.Subaccounts[i],
		AgentType:       c.AgentType,
		AgentVersion:    c.AgentVersion,
		JavaVersion:     c.JavaVersion,
		ConnectedBy:     c.ConnectedBy,
		LocationID:      c.LocationID,
		Connected:       !c.ConnectedSince.IsZero(),
		ConnectedSince:  rfc3339(c.ConnectedSince),
		LastStart:       rfc3339(c.RecentStart),
		Summary:         string(summaryOf(c)),
		ExposedSystems:  len(c.ExposedSystems),
		OtherAttributes: c.Extra,
		Problems:        problemsOf(c),
	}
	if c.JavaVersion == "" {
		s.JVMVendorVersion = c.JVMVendorVersion // the only Java information there is
	}
	if !c.RecentStart.IsZero() && snap.FetchedAt.After(c.RecentStart) {
		s.Uptime = humanDuration(snap.FetchedAt.Sub(c.RecentStart))
	}
	return s
}
