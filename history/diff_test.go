package history

import (
	"slices"
	"testing"
	"time"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/connectivity"
)

var t0 = time.Date(2026, time.November, 30, 8, 0, 0, 0, time.UTC)

// connector returns a master with two checks and one exposed system; edit it per case.
func connector(id string) connectivity.Connector {
	return connectivity.Connector{
		ClientID: id, AgentType: connectivity.AgentMaster, AgentVersion: "2.18.0", JavaVersion: "17.0.14 (SAP SE)",
		LocationID: "loc", ConnectedSince: t0.Add(-time.Hour), RecentStart: t0.Add(-2 * time.Hour),
		Security: &connectivity.SecurityStatus{Summary: connectivity.RiskLow, Checks: []connectivity.Check{
			{Key: "ciphers", Status: connectivity.RiskLow}, {Key: "payload_trace", Status: connectivity.RiskOK},
		}},
		ExposedSystems: []connectivity.ExposedSystem{
			{Protocol: "HTTPS", Host: "erp:443", Description: "ERP", Type: "abapSys", Status: "exposed"},
		},
	}
}

func finding(fp, sev string) Finding {
	return Finding{Fingerprint: fp, Rule: "security.payload_trace", Severity: sev, ClientID: "c1", Subject: "c1", Title: "Payload trace on"}
}

// read builds a read of subaccount "sa" at t0+minutes.
func read(minutes int, fs []Finding, cs ...connectivity.Connector) Read {
	return Read{Subaccount: "sa", Label: "dev", At: t0.Add(time.Duration(minutes) * time.Minute), Connectors: cs, Findings: fs}
}

func TestDiff(t *testing.T) {
	t.Parallel()
	edit := func(f func(c *connectivity.Connector)) connectivity.Connector {
		c := connector("c1")
		f(&c)
		return c
	}
	shadow := edit(func(c *connectivity.Connector) { c.AgentType = connectivity.AgentShadow })
	tests := []struct {
		name string
		cur  Read
		want []Change // only Kind, ClientID, Field, Old, New, Severity are compared
	}{
		{"unchanged", read(5, nil, connector("c1")), nil},
		{"connector appeared", read(5, nil, connector("c1"), connector("c2")),
			[]Change{{Kind: KindConnectorAppeared, ClientID: "c2", New: "master", Severity: SeverityLow}}},
		{"master disappeared", read(5, nil),
			[]Change{{Kind: KindConnectorDisappeared, ClientID: "c1", Old: "master", Severity: SeverityHigh}}},
		{"role changed", read(5, nil, shadow),
			[]Change{{Kind: KindRoleChanged, ClientID: "c1", Field: "agent_type", Old: "master", New: "shadow", Severity: SeverityMedium}}},
		{"restarted and reconnected", read(5, nil, edit(func(c *connectivity.Connector) {
			c.RecentStart, c.ConnectedSince = t0.Add(time.Minute), t0.Add(2*time.Minute)
		})), []Change{
			{Kind: KindRestarted, ClientID: "c1", Field: "agent_recent_start", Old: "2026-11-30T06:00:00Z", New: "2026-11-30T08:01:00Z", Severity: SeverityLow},
			{Kind: KindReconnected, ClientID: "c1", Field: "connected_since", Old: "2026-11-30T07:00:00Z", New: "2026-11-30T08:02:00Z", Severity: SeverityLow},
		}},
		{"version and java", read(5, nil, edit(func(c *connectivity.Connector) { c.AgentVersion, c.JavaVersion = "2.18.2", "21.0.5 (SAP SE)" })),
			[]Change{
				{Kind: KindVersionChanged, ClientID: "c1", Field: "agent_version", Old: "2.18.0", New: "2.18.2", Severity: SeverityInfo},
				{Kind: KindJavaChanged, ClientID: "c1", Field: "java_version", Old: "17.0.14 (SAP SE)", New: "21.0.5 (SAP SE)", Severity: SeverityInfo},
			}},
		{"security worse and better", read(5, nil, edit(func(c *connectivity.Connector) {
			c.Security.Checks = []connectivity.Check{{Key: "ciphers", Status: connectivity.RiskOK}, {Key: "payload_trace", Status: connectivity.RiskHigh}}
		})), []Change{
			{Kind: KindSecurityChanged, ClientID: "c1", Field: "ciphers", Old: "low_risk", New: "ok", Severity: SeverityInfo},
			{Kind: KindSecurityChanged, ClientID: "c1", Field: "payload_trace", Old: "ok", New: "high_risk", Severity: SeverityHigh},
		}},
		{"security status lost", read(5, nil, edit(func(c *connectivity.Connector) { c.Security = nil })), []Change{
			{Kind: KindSecurityChanged, ClientID: "c1", Field: "ciphers", Old: "low_risk", Severity: SeverityMedium},
			{Kind: KindSecurityChanged, ClientID: "c1", Field: "payload_trace", Old: "ok", Severity: SeverityMedium},
		}},
		{"system exposed, changed, removed", read(5, nil, edit(func(c *connectivity.Connector) {
			c.ExposedSystems = []connectivity.ExposedSystem{
				{Protocol: "HTTPS", Host: "erp:443", Description: "ERP", Type: "abapSys", Status: "disabled"},
				{Protocol: "RFC", Host: "crm:3300", Type: "abapSys", Status: "exposed"},
			}
		})), []Change{
			{Kind: KindSystemChanged, ClientID: "c1", Field: "HTTPS erp:443 status", Old: "exposed", New: "disabled", Severity: SeverityLow},
			{Kind: KindSystemExposed, ClientID: "c1", Field: "RFC crm:3300", New: "exposed", Severity: SeverityMedium},
		}},
		{"system removed", read(5, nil, edit(func(c *connectivity.Connector) { c.ExposedSystems = nil })),
			[]Change{{Kind: KindSystemRemoved, ClientID: "c1", Field: "HTTPS erp:443", Old: "exposed", Severity: SeverityInfo}}},
		{"findings new, changed, resolved", read(5, []Finding{finding("f1", SeverityHigh), finding("f3", SeverityCritical)}, connector("c1")),
			[]Change{
				{Kind: KindFindingChanged, ClientID: "c1", Field: "severity", Old: "medium", New: "high", Severity: SeverityHigh},
				{Kind: KindFindingResolved, ClientID: "c1", Field: "security.payload_trace", Old: "low", Severity: SeverityInfo},
				{Kind: KindFindingNew, ClientID: "c1", Field: "security.payload_trace", New: "critical", Severity: SeverityCritical},
			}},
		{"deep health (more in TestDiffHealth)", withHealth(read(5, nil, connector("c1")), editHealth(func(s *HealthState) {
			s.MasterState, s.Tunnels[0].State, s.Certificates[0].NotAfter = "ALONE", "ConnectFailure", t0.AddDate(2, 0, 0)
			s.Alerts = []AlertState{{Type: "CPU", Status: "Error"}}
		})), []Change{
			{Kind: KindHAChanged, ClientID: "c1", Field: "scc1: ha master_state", Old: "CONNECTED", New: "ALONE", Severity: SeverityHigh},
			{Kind: KindTunnelChanged, ClientID: "c1", Field: "scc1: tunnel sa-id", Old: "Connected", New: "ConnectFailure", Severity: SeverityHigh},
			{Kind: KindCertificateRenewed, ClientID: "c1", Field: "scc1: UI certificate", Old: "2027-11-30T08:00:00Z", New: "2028-11-30T08:00:00Z", Severity: SeverityInfo},
			{Kind: KindAlertRaised, ClientID: "c1", Field: "scc1: alert CPU", New: "Error", Severity: SeverityHigh},
			{Kind: KindAlertCleared, ClientID: "c1", Field: "scc1: alert Disk", Old: "Warning", Severity: SeverityInfo},
		}},
	}
	prev := read(0, []Finding{finding("f1", SeverityMedium), finding("f2", SeverityLow)}, connector("c1"))
	prev.Health = []HealthState{health()}
	seen := map[Kind]bool{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.cur.Findings == nil { // cases about connectors keep the findings as they were
				tt.cur.Findings = prev.Findings
			}
			got := Diff(prev, tt.cur)
			var short []Change
			for _, c := range got {
				if !c.ObservedAt.Equal(tt.cur.At) || !c.PreviousReadAt.Equal(prev.At) || c.Subaccount != "sa" {
					t.Errorf("%s: times/subaccount = %v %v %q", c.Kind, c.ObservedAt, c.PreviousReadAt, c.Subaccount)
				}
				seen[c.Kind] = true
				short = append(short, Change{Kind: c.Kind, ClientID: c.ClientID, Field: c.Field, Old: c.Old, New: c.New, Severity: c.Severity})
			}
			if !slices.Equal(short, tt.want) {
				t.Errorf("Diff:\n got %+v\nwant %+v", short, tt.want)
			}
		})
	}
	for _, k := range Kinds() {
		if !seen[k] {
			t.Errorf("no case covers kind %s", k)
		}
	}
}

func TestDiffShadowDisappearedIsMedium(t *testing.T) {
	t.Parallel()
	c := connector("c9")
	c.AgentType = connectivity.AgentShadow
	got := Diff(read(0, nil, c), read(5, nil))
	if len(got) != 1 || got[0].Kind != KindConnectorDisappeared || got[0].Severity != SeverityMedium {
		t.Fatalf("Diff = %+v, want one medium connector_disappeared", got)
	}
}

func TestDiffKeepsDuplicateClientIDs(t *testing.T) {
	t.Parallel()
	a, b := connector("dup"), connector("dup")
	b.AgentVersion = "2.17.0"
	got := Diff(read(0, nil, a), read(5, nil, a, b))
	if len(got) != 1 || got[0].Kind != KindConnectorAppeared || got[0].ClientID != "dup" {
		t.Fatalf("Diff = %+v, want the second connector with a repeated ID as appeared", got)
	}
}
