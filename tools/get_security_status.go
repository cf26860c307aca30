package tools

import (
	"cmp"
	"slices"

	"github.com/mark3labs/mcp-go/server"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/assess"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/connectivity"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/schemas"
)

func getSecurityStatus(cfg Config) server.ServerTool {
	return snapshotTool(cfg, Definition{
		Name:  "get_security_status",
		Title: "Get Cloud Connector security status",
		Description: `Each Cloud Connector's security summary and check ratings, and findings: every check not ok, worst first, with each check's remediation once under checks.
Use it for a security review; min_risk (ok < low_risk < medium_risk < unknown < high_risk) keeps what matters.
Example question: "What are our Cloud Connector security findings, and how do we fix them?"`,
	}, securityStatus)
}

// securityStatus answers get_security_status from a snapshot.
func securityStatus(snap *connectivity.Snapshot, in schemas.GetSecurityStatusInput) (schemas.GetSecurityStatusOutput, error) {
	if err := checkClientID(snap, in.ClientID); err != nil {
		return schemas.GetSecurityStatusOutput{}, err
	}
	minRank, checkRank := 0, connectivity.RiskLow.Rank() // by default connectors list the checks that are not ok
	if in.MinRisk != "" {
		minRank = connectivity.Risk(in.MinRisk).Rank()
		checkRank = minRank
	}
	limit := clampLimit(in.Limit)
	out := schemas.GetSecurityStatusOutput{
		Connectors: []schemas.ConnectorSecurity{},
		Findings:   []schemas.SecurityFinding{},
		Checks:     map[string]schemas.CheckHelp{},
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
			ClientID: c.ClientID, Subaccount: snap.Subaccounts[i], AgentType: c.AgentType,
			Summary: string(summaryOf(c)), Checks: map[string]string{}, Problems: problemsOf(c),
		}
		checks := []connectivity.Check{{Key: "security_status", Status: riskUnknown}} // unreadable
		if c.Security != nil {
			checks = c.Security.Checks
		}
		for pos, check := range checks {
			status := cmp.Or(check.Status, riskUnknown)
			rank := status.Rank()
			if rank < minRank {
				continue
			}
			if c.Security != nil && rank >= checkRank {
				cs.Checks[check.Key] = string(status)
			}
			if status != connectivity.RiskOK {
				findings = append(findings, ranked{schemas.SecurityFinding{
					ClientID: c.ClientID, Subaccount: snap.Subaccounts[i], Check: check.Key, Status: string(status),
				}, rank, i<<8 + pos})
			}
		}
		if len(out.Connectors) < limit {
			out.Connectors = append(out.Connectors, cs)
		}
	}
	slices.SortStableFunc(findings, func(a, b ranked) int { return cmp.Or(cmp.Compare(b.rank, a.rank), cmp.Compare(a.order, b.order)) })
	for _, f := range findings {
		countRisk(&out.FindingsByRisk, connectivity.Risk(f.finding.Status))
		if len(out.Findings) < limit {
			out.Findings = append(out.Findings, f.finding)
			if _, ok := out.Checks[f.finding.Check]; !ok {
				out.Checks[f.finding.Check] = checkHelp(f.finding.Check)
			}
		}
	}
	out.FindingsTotal = len(findings)
	out.FindingsTruncated = len(out.Findings) < len(findings)
	out.Returned = len(out.Connectors)
	out.Truncated = out.Returned < out.Total
	return out, nil
}

// checkHelp labels a check key and says how to fix it; security_status stands for a security
// status that could not be read.
func checkHelp(key string) schemas.CheckHelp {
	if key == "security_status" {
		rule, _ := assess.LookupRule(assess.RuleDecodeSecurityStatus)
		return schemas.CheckHelp{Label: "Security Status (unreadable)", Remediation: rule.Remediation}
	}
	c, _ := assess.LookupCheck(key)
	return schemas.CheckHelp{Label: c.Label, Remediation: c.Remediation}
}
