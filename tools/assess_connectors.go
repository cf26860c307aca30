package tools

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/mark3labs/mcp-go/server"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/connectivity"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/schemas"
)

func assessConnectors(cfg Config) server.ServerTool {
	return New(cfg.Logger, Definition{
		Name:  "assess_connectors",
		Title: "Assess Cloud Connector health",
		Description: `Assesses every Cloud Connector at once and returns ranked findings, worst first, each with a stable rule ID, severity (critical, high, medium, low, info), the connector, the evidence that triggered it and a concrete recommendation with how to verify the fix.
Rules: every security check that is not ok (security.<check>, undocumented ratings included), high availability (ha.no_shadow, ha.double_master, ha.shadow_disconnected), outdated Cloud Connector versions (version.outdated) and Java below 17 (version.java), unencrypted HTTP, RFC, LDAP or TCP exposed (protocol.unencrypted), and attributes the API sent malformed (decode.<attribute>).
Use it first to triage ("what should we fix, in which order?"); counts per severity cover every matching finding. Narrow with min_severity or client_id.
Example question: "Which of our Cloud Connectors need attention, and what do we do first?"`,
	}, func(ctx context.Context, in schemas.AssessConnectorsInput) (schemas.AssessConnectorsOutput, error) {
		return RunAssessment(ctx, cfg, in)
	})
}

// RunAssessment reads the landscape and assesses it, as assess_connectors does; the check command
// uses it too.
func RunAssessment(ctx context.Context, cfg Config, in schemas.AssessConnectorsInput) (schemas.AssessConnectorsOutput, error) {
	return fromSnapshot(ctx, cfg, in.Refresh, func(snap *connectivity.Snapshot) (schemas.AssessConnectorsOutput, error) {
		return assessSnapshot(snap, cfg.assessPolicy(), in)
	})
}

func (c Config) assessPolicy() AssessPolicy {
	return AssessPolicy{MinSCCVersion: c.MinSCCVersion}
}

// assessSnapshot answers assess_connectors from a snapshot.
func assessSnapshot(snap *connectivity.Snapshot, policy AssessPolicy, in schemas.AssessConnectorsInput) (schemas.AssessConnectorsOutput, error) {
	if in.ClientID != "" && !hasClientID(snap, in.ClientID) {
		return schemas.AssessConnectorsOutput{}, unknownClientID(snap, in.ClientID)
	}
	if in.MinSeverity != "" && severityRank(in.MinSeverity) < 0 {
		return schemas.AssessConnectorsOutput{}, fmt.Errorf("min_severity must be one of %s, got %q", strings.Join(schemas.Severities(), ", "), in.MinSeverity)
	}
	result, err := assess(snap, policy)
	if err != nil {
		return schemas.AssessConnectorsOutput{}, err
	}
	limit := clampLimit(in.Limit)
	out := schemas.AssessConnectorsOutput{
		Freshness:          schemas.Freshness{FetchedAt: rfc3339(snap.FetchedAt)},
		ConnectorsAssessed: len(snap.Connectors),
		WorstSeverity:      "none",
		Policy:             result.policy,
		Findings:           []schemas.Finding{},
	}
	for _, f := range result.findings {
		if in.MinSeverity != "" && !SeverityAtLeast(f.Severity, in.MinSeverity) {
			continue
		}
		if in.ClientID != "" && f.ClientID != in.ClientID && !containsString(f.RelatedClientIDs, in.ClientID) {
			continue
		}
		if out.Total == 0 {
			out.WorstSeverity = f.Severity // findings come worst first
		}
		out.Total++
		countSeverity(&out.Counts, f.Severity)
		if len(out.Findings) < limit {
			out.Findings = append(out.Findings, f)
		}
	}
	out.Returned = len(out.Findings)
	out.Truncated = out.Returned < out.Total
	return out, nil
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func countSeverity(c *schemas.SeverityCounts, severity string) {
	switch severity {
	case schemas.SeverityCritical:
		c.Critical++
	case schemas.SeverityHigh:
		c.High++
	case schemas.SeverityMedium:
		c.Medium++
	case schemas.SeverityLow:
		c.Low++
	case schemas.SeverityInfo:
		c.Info++
	}
}

// CountAtLeast returns how many findings counted in c are at least as severe as threshold.
func CountAtLeast(c schemas.SeverityCounts, threshold string) int {
	n := 0
	for _, s := range []struct {
		severity string
		count    int
	}{
		{schemas.SeverityCritical, c.Critical}, {schemas.SeverityHigh, c.High}, {schemas.SeverityMedium, c.Medium},
		{schemas.SeverityLow, c.Low}, {schemas.SeverityInfo, c.Info},
	} {
		if SeverityAtLeast(s.severity, threshold) {
			n += s.count
		}
	}
	return n
}

// WriteAssessmentText renders an assessment for people: a headline with the counts, then one
// table row per finding, worst first.
func WriteAssessmentText(w io.Writer, out schemas.AssessConnectorsOutput) error {
	c := out.Counts
	fmt.Fprintf(w, "Cloud Connector assessment: %d connectors, %d findings (data fetched %s)\n",
		out.ConnectorsAssessed, out.Total, out.FetchedAt)
	fmt.Fprintf(w, "critical %d, high %d, medium %d, low %d, info %d\n", c.Critical, c.High, c.Medium, c.Low, c.Info)
	p := out.Policy
	switch p.MinSCCVersionSource {
	case "configured":
		fmt.Fprintf(w, "Minimum Cloud Connector version %s (configured); minimum Java %d\n", p.MinSCCVersion, p.MinJavaMajor)
	case "derived":
		fmt.Fprintf(w, "Minimum Cloud Connector version %s (newest seen %s, one minor release back); minimum Java %d\n", p.MinSCCVersion, p.NewestSCCVersion, p.MinJavaMajor)
	default:
		fmt.Fprintf(w, "No Cloud Connector version could be read; minimum Java %d\n", p.MinJavaMajor)
	}
	if len(out.Findings) == 0 {
		_, err := fmt.Fprintln(w, "\nNo findings.")
		return err
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SEVERITY\tFINDING\tCONNECTOR\tROLE\tLOCATION\tTITLE")
	for _, f := range out.Findings {
		loc := f.LocationID
		if loc == "" {
			loc = "(default)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", f.Severity, f.ID, textCell(f.ClientID), textCell(f.AgentType), textCell(loc), textCell(f.Title))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if out.Truncated {
		fmt.Fprintf(w, "\n%d of %d findings shown.\n", out.Returned, out.Total)
	}
	_, err := fmt.Fprintln(w, "\nEvidence and remediation for each finding: --format json, or the assess_connectors tool.")
	return err
}

// textCell keeps one table cell on one line and never empty.
func textCell(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if s == "" {
		return "-"
	}
	return s
}
