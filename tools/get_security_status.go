package tools

import (
	"sort"
	"strings"

	"github.com/mark3labs/mcp-go/server"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/connectivity"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/schemas"
)

func getSecurityStatus(cfg Config) server.ServerTool {
	return snapshotTool(cfg, Definition{
		Name:  "get_security_status",
		Title: "Get Cloud Connector security status",
		Description: `Returns the security status of each Cloud Connector: the overall summary and each check of its Security Status page (UI certificate, cipher suites, backend trust store, user administration, CPIC trace, tunnel traffic trace, application allowlist) with its rating, whether it needs action, and what to do.
Also returns findings: every check that is not ok across all connectors, worst first (high_risk, then unknown ratings, then medium_risk, then low_risk), each with its recommendation. A security status the API sent malformed is a finding too.
Use it for a security review of the Cloud Connectors or to learn how to fix a rating; pass min_risk to see only what matters, e.g. min_risk=medium_risk.
Example question: "What are our Cloud Connector security findings, and how do we fix them?"`,
	}, func(in schemas.GetSecurityStatusInput) bool { return in.Refresh }, securityStatus)
}

// securityStatus answers get_security_status from a snapshot.
func securityStatus(snap *connectivity.Snapshot, in schemas.GetSecurityStatusInput) (schemas.GetSecurityStatusOutput, error) {
	if in.ClientID != "" && !hasClientID(snap, in.ClientID) {
		return schemas.GetSecurityStatusOutput{}, unknownClientID(snap, in.ClientID)
	}
	minRank := 0
	if in.MinRisk != "" {
		minRank = connectivity.Risk(in.MinRisk).Rank()
	}
	limit := clampLimit(in.Limit)
	out := schemas.GetSecurityStatusOutput{
		Freshness:  schemas.Freshness{FetchedAt: rfc3339(snap.FetchedAt)},
		Connectors: []schemas.ConnectorSecurity{},
		Findings:   []schemas.SecurityFinding{},
	}
	type ranked struct {
		finding schemas.SecurityFinding
		rank    int
		order   int // connector index, then check position: keeps API order among equals
	}
	var findings []ranked
	for i := range snap.Connectors {
		c := &snap.Connectors[i]
		if !matchesClientID(c, in.ClientID) || worstOf(c).Rank() < minRank {
			continue
		}
		out.Total++
		cs := schemas.ConnectorSecurity{
			ClientID:   c.ClientID,
			Subaccount: snap.Subaccounts[i],
			AgentType:  c.AgentType,
			Summary:    string(summaryOf(c)),
			Checks:     []schemas.SecurityCheckResult{},
			Problems:   problemsOf(c),
		}
		addFinding := func(check schemas.SecurityCheckResult, pos int) {
			rank := connectivity.Risk(check.Status).Rank()
			if !check.NeedsAction || rank < minRank {
				return
			}
			findings = append(findings, ranked{schemas.SecurityFinding{
				ClientID: c.ClientID, Subaccount: snap.Subaccounts[i], AgentType: c.AgentType,
				Check: check.Name, Label: check.Label, Status: check.Status, Recommendation: check.Recommendation,
			}, rank, i<<8 + pos})
		}
		if c.Security == nil {
			addFinding(unreadableStatus(c), 0)
		} else {
			for pos, check := range c.Security.Checks {
				result := checkResult(check)
				cs.Checks = append(cs.Checks, result)
				addFinding(result, pos)
			}
		}
		if len(out.Connectors) < limit {
			out.Connectors = append(out.Connectors, cs)
		}
	}
	sort.SliceStable(findings, func(a, b int) bool {
		if findings[a].rank != findings[b].rank {
			return findings[a].rank > findings[b].rank
		}
		return findings[a].order < findings[b].order
	})
	for _, f := range findings {
		countRisk(&out.FindingsByRisk, connectivity.Risk(f.finding.Status))
		if len(out.Findings) < limit {
			out.Findings = append(out.Findings, f.finding)
		}
	}
	out.FindingsTotal = len(findings)
	out.FindingsTruncated = len(out.Findings) < len(findings)
	out.Returned = len(out.Connectors)
	out.Truncated = out.Returned < out.Total
	return out, nil
}

// checkResult describes one check with its label and, when it needs action, the remedy.
func checkResult(check connectivity.Check) schemas.SecurityCheckResult {
	r := schemas.SecurityCheckResult{Name: check.Key, Status: string(check.Status), NeedsAction: check.Status != connectivity.RiskOK}
	if r.Status == "" {
		r.Status = riskUnknown
	}
	known, ok := connectivity.LookupCheck(check.Key)
	if ok {
		r.Label = known.Label
	} else {
		r.Label = strings.ReplaceAll(check.Key, "_", " ")
	}
	if !r.NeedsAction {
		return r
	}
	switch {
	case !ok:
		r.Recommendation = "This check is not documented yet: open the Cloud Connector's Security Status page to see what it rates and how to fix it."
	case !check.Status.Known():
		r.Recommendation = "The rating " + quote(r.Status) + " is not documented, so it is treated as needing action: open the Cloud Connector's Security Status page to verify. " + known.Recommendation
	default:
		r.Recommendation = known.Recommendation
	}
	return r
}

// unreadableStatus is the finding for a connector whose security status could not be read.
func unreadableStatus(c *connectivity.Connector) schemas.SecurityCheckResult {
	why := "the API did not report it"
	for _, p := range c.Problems {
		if p.Attribute == "security_status" {
			why = p.Message
		}
	}
	return schemas.SecurityCheckResult{
		Name:           "security_status",
		Label:          "Security Status",
		Status:         riskUnknown,
		NeedsAction:    true,
		Recommendation: "The security status of this connector could not be read (" + why + "): check it on the Cloud Connector's Security Status page, and update the Cloud Connector if it is old.",
	}
}

func quote(s string) string { return `"` + s + `"` }
