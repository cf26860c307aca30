package tools

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/schemas"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/simulator"
)

// TestDashboardData reads the demo landscape as it changes: connectivity://dashboard matches its
// schema, counts what assess_connectors counts, has a heat row with the subaccount's numbers,
// every finding with its rule's remediation, the changes of the reads and the day's open findings
// in the trend.
func TestDashboardData(t *testing.T) {
	t.Parallel()
	env := newSimEnvWith(t, simEnvOptions{}, nil)
	env.sim.SetLandscapes(simulator.DemoLandscapes()...)
	for range 3 { // three reads, two changes
		if _, err := Dashboard(t.Context(), env.cfg, schemas.Scope{Refresh: true}, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	text, err := assessRead(t, env.client, "connectivity://dashboard")
	if err != nil {
		t.Fatal(err)
	}
	d := assessDecodeAs[schemas.Dashboard](t, text)
	var a schemas.AssessConnectorsOutput
	if err := json.Unmarshal([]byte(resultText(t, env.callTool(t, "assess_connectors", map[string]any{"limit": schemas.MaxLimit}))), &a); err != nil {
		t.Fatal(err)
	}
	if d.Counts != a.Counts || d.WorstSeverity != a.WorstSeverity || d.ConnectorsAssessed != a.ConnectorsAssessed || len(d.Findings) != a.Total {
		t.Errorf("dashboard counts %+v worst %s, %d connectors, %d findings; assess_connectors %+v worst %s, %d, %d",
			d.Counts, d.WorstSeverity, d.ConnectorsAssessed, len(d.Findings), a.Counts, a.WorstSeverity, a.ConnectorsAssessed, a.Total)
	}
	if len(d.Subaccounts) != 1 || d.Subaccounts[0].Counts != d.Counts || d.Subaccounts[0].Connectors != d.ConnectorsAssessed ||
		d.Subaccounts[0].WorstSeverity != d.WorstSeverity {
		t.Errorf("heat rows %+v, want one with the totals", d.Subaccounts)
	}
	for _, f := range d.Findings {
		if d.Rules[f.ID].Remediation == "" {
			t.Errorf("rule %s of a finding has no remediation", f.ID)
		}
	}
	if d.History != "" || d.ChangesDays != DashboardChangesDays || len(d.Changes) < 2 {
		t.Errorf("history %q, %d changes over %d days; want at least two", d.History, len(d.Changes), d.ChangesDays)
	}
	tr := d.Trend
	if tr == nil || len(tr.Days) != 1 || tr.Days[0] != time.Now().UTC().Format(time.DateOnly) || tr.Since == "" {
		t.Fatalf("trend %+v, want today only (the history starts today)", tr)
	}
	if got := (schemas.SeverityCounts{Critical: tr.Critical[0], High: tr.High[0], Medium: tr.Medium[0], Low: tr.Low[0], Info: tr.Info[0]}); got != d.Counts {
		t.Errorf("today's open findings %+v, the dashboard counts %+v", got, d.Counts)
	}
}

// TestDashboardWithoutHistory: without history the dashboard says why the trend and changes are
// missing, and hides nothing else.
func TestDashboardWithoutHistory(t *testing.T) {
	t.Parallel()
	env := newSimEnvWith(t, simEnvOptions{}, func(cfg *Config) { cfg.History = nil })
	d, err := Dashboard(t.Context(), env.cfg, schemas.Scope{}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if d.Trend != nil || d.Changes != nil || d.NewCounts != nil || d.History == "" || len(d.Findings) == 0 || len(d.Subaccounts) != 1 {
		t.Errorf("dashboard without history: trend %v, changes %v, new %v, history %q, %d findings, %d heat rows",
			d.Trend, d.Changes, d.NewCounts, d.History, len(d.Findings), len(d.Subaccounts))
	}
}
