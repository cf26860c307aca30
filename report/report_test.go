package report_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/report"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/schemas"
)

func TestText(t *testing.T) {
	t.Parallel()
	out := schemas.AssessConnectorsOutput{
		Freshness:          schemas.Freshness{FetchedAt: "2026-11-30T12:00:00Z"},
		Page:               schemas.Page{Total: 3, Returned: 3},
		ConnectorsAssessed: 2,
		Counts:             schemas.SeverityCounts{High: 1, Low: 1, Accepted: 1},
		Policy:             schemas.AssessmentPolicy{MinJavaMajor: 17, SCCVersions: []schemas.VersionBar{{Subaccount: "dev", Source: "derived", MinVersion: "2.18.2", Release: "2.18"}}},
		Findings: []schemas.Finding{
			{ID: "ha.no_shadow", Severity: "high", Subaccount: "dev", ClientID: "1", Title: "Master without a shadow"},
			{ID: "ha.no_shadow", Severity: "medium", Subaccount: "prod", ClientID: "1", Title: "Master\nwithout a shadow",
				Accepted: &schemas.Acceptance{Reason: "lab", Owner: "me", Expires: "2027-01-01"}},
			{ID: "version.outdated", Severity: "low", Subaccount: "prod", ClientID: "2", Title: "old",
				AcceptanceExpired: "2026-01-01"},
		},
		AcceptedRisks: &schemas.AcceptedRisks{File: "risks.yaml", Unused: []schemas.AcceptedEntry{{Line: 7, Rule: "version.java"}}},
	}
	var b bytes.Buffer
	if err := report.Text(&b, out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"2 connectors, 3 findings",
		"high 1, medium 0, low 1, info 0; accepted 1",
		"Subaccount dev: minimum Cloud Connector version 2.18.2 (newest patch of its established release 2.18)",
		"risks.yaml line 7 (version.java) matches no finding",
		"SEVERITY RULE SUBACCOUNT CONNECTOR TITLE",
		"high ha.no_shadow dev 1 Master without a shadow",
		"medium (accepted) ha.no_shadow prod 1 Master without a shadow", // two connectors "1", told apart; one line
		"low (acceptance expired 2026-01-01) version.outdated prod 2 old",
	} {
		if !strings.Contains(squeeze(b.String()), want) {
			t.Errorf("text lacks %q:\n%s", want, b.String())
		}
	}
}

func TestLevel(t *testing.T) {
	t.Parallel()
	for severity, want := range map[string]string{"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"} {
		if got := report.Level(severity); got != want {
			t.Errorf("Level(%s) = %s, want %s", severity, got, want)
		}
	}
}

// squeeze folds runs of spaces, as the table pads its columns.
func squeeze(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.Join(strings.Fields(l), " ")
	}
	return strings.Join(lines, "\n")
}
