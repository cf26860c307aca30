package history

import (
	"slices"
	"testing"
	"time"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/sccadmin"
)

// healthKinds are the kinds of the deep health; TestDiffHealth covers each.
var healthKinds = []Kind{KindTunnelChanged, KindCertificateRenewed, KindHAChanged, KindAlertRaised, KindAlertCleared}

// health returns the state of a master "scc1" (client c1) with one connected tunnel, a UI
// certificate and a disk warning; edit a copy per case with editHealth.
func health() HealthState {
	return HealthState{
		Connector: "scc1", ClientID: "c1", Role: sccadmin.RoleMaster, HAKnown: true, MasterState: "CONNECTED",
		TunnelsKnown: true, Tunnels: []TunnelState{{Subaccount: "sa-id", ClientID: "c1", State: "Connected", CertExpiry: t0.AddDate(0, 0, 30)}},
		CertificatesKnown: true, Certificates: []CertificateState{{Key: "UI", NotAfter: t0.AddDate(1, 0, 0)}},
		AlertsKnown: true, Alerts: []AlertState{{Type: "Disk", Status: "Warning", Message: "disk 91 % full"}},
	}
}

// withHealth returns r with the deep-health states hs.
func withHealth(r Read, hs ...HealthState) Read {
	r.Health = hs
	return r
}

func editHealth(f func(s *HealthState)) HealthState {
	s := health()
	f(&s)
	return s
}

func TestDiffHealth(t *testing.T) {
	t.Parallel()
	renewed := t0.AddDate(1, 0, 30)
	shadow := HealthState{Connector: "scc1", ClientID: "c2", Role: sccadmin.RoleShadow, HAKnown: true, ShadowState: "READY"}
	tests := []struct {
		name       string
		prev, cur  []HealthState
		want       []Change // Kind, ClientID, Field, Old, New, Severity
		wantDetail string   // of the first change, when set
	}{
		{"unchanged", []HealthState{health()}, []HealthState{health()}, nil, ""},
		{"tunnel lost", []HealthState{health()}, []HealthState{editHealth(func(s *HealthState) { s.Tunnels[0].State = "ConnectFailure" })},
			[]Change{{Kind: KindTunnelChanged, ClientID: "c1", Field: "scc1: tunnel sa-id", Old: "Connected", New: "ConnectFailure", Severity: SeverityHigh}}, ""},
		{"tunnel back, its client_id from the previous read", []HealthState{editHealth(func(s *HealthState) { s.Tunnels[0].State = "ConnectFailure" })},
			[]HealthState{editHealth(func(s *HealthState) { s.ClientID, s.Tunnels[0].ClientID = "", "" })},
			[]Change{{Kind: KindTunnelChanged, ClientID: "c1", Field: "scc1: tunnel sa-id", Old: "ConnectFailure", New: "Connected", Severity: SeverityInfo}}, ""},
		{"tunnel between two broken states", []HealthState{editHealth(func(s *HealthState) { s.Tunnels[0].State = "ConnectFailure" })},
			[]HealthState{editHealth(func(s *HealthState) { s.Tunnels[0].State = "Disconnected" })},
			[]Change{{Kind: KindTunnelChanged, ClientID: "c1", Field: "scc1: tunnel sa-id", Old: "ConnectFailure", New: "Disconnected", Severity: SeverityMedium}}, ""},
		{"tunnels served and no longer served", []HealthState{health()}, []HealthState{editHealth(func(s *HealthState) {
			s.Tunnels = []TunnelState{{Subaccount: "other", LocationID: "loc2", State: "ConnectFailure"}, {Subaccount: "zeta", State: "Connected"}}
		})}, []Change{
			{Kind: KindTunnelChanged, Field: "scc1: tunnel other location loc2", New: "ConnectFailure", Severity: SeverityHigh},
			{Kind: KindTunnelChanged, ClientID: "c1", Field: "scc1: tunnel sa-id", Old: "Connected", Severity: SeverityMedium},
			{Kind: KindTunnelChanged, Field: "scc1: tunnel zeta", New: "Connected", Severity: SeverityLow},
		}, "subaccount newly served"},
		{"subaccount certificate renewed", []HealthState{health()}, []HealthState{editHealth(func(s *HealthState) { s.Tunnels[0].CertExpiry = renewed })},
			[]Change{{Kind: KindCertificateRenewed, ClientID: "c1", Field: "scc1: subaccount certificate sa-id", Old: "2026-12-30T08:00:00Z", New: "2027-12-30T08:00:00Z", Severity: SeverityInfo}},
			"renewed: expires later"},
		{"UI certificate replaced by an earlier one", []HealthState{health()}, []HealthState{editHealth(func(s *HealthState) { s.Certificates[0].NotAfter = t0.AddDate(0, 1, 0) })},
			[]Change{{Kind: KindCertificateRenewed, ClientID: "c1", Field: "scc1: UI certificate", Old: "2027-11-30T08:00:00Z", New: "2026-12-30T08:00:00Z", Severity: SeverityLow}}, ""},
		{"a certificate one read lacks is not a renewal", []HealthState{health()}, []HealthState{editHealth(func(s *HealthState) {
			s.Tunnels[0].CertExpiry = time.Time{}
			s.Certificates = []CertificateState{{Key: "System", NotAfter: t0}}
		})}, nil, ""},
		{"master alone", []HealthState{health()}, []HealthState{editHealth(func(s *HealthState) { s.MasterState = "ALONE" })},
			[]Change{{Kind: KindHAChanged, ClientID: "c1", Field: "scc1: ha master_state", Old: "CONNECTED", New: "ALONE", Severity: SeverityHigh}}, ""},
		{"master binding, then connected", []HealthState{editHealth(func(s *HealthState) { s.MasterState = "ALONE" })},
			[]HealthState{editHealth(func(s *HealthState) { s.MasterState = "BINDING" })},
			[]Change{{Kind: KindHAChanged, ClientID: "c1", Field: "scc1: ha master_state", Old: "ALONE", New: "BINDING", Severity: SeverityLow}}, ""},
		{"shadow lost", []HealthState{shadow}, []HealthState{{Connector: "scc1", ClientID: "c2", Role: sccadmin.RoleShadow, HAKnown: true, ShadowState: "LOST"}},
			[]Change{{Kind: KindHAChanged, ClientID: "c2", Field: "scc1: ha shadow_state", Old: "READY", New: "LOST", Severity: SeverityHigh}}, ""},
		{"shadow ready again", []HealthState{{Connector: "scc1", Role: sccadmin.RoleShadow, HAKnown: true, ShadowState: "LOST"}}, []HealthState{shadow},
			[]Change{{Kind: KindHAChanged, ClientID: "c2", Field: "scc1: ha shadow_state", Old: "LOST", New: "READY", Severity: SeverityInfo}}, ""},
		{"shadow in an unknown state", []HealthState{shadow}, []HealthState{{Connector: "scc1", ClientID: "c2", Role: sccadmin.RoleShadow, HAKnown: true, ShadowState: "ODD"}},
			[]Change{{Kind: KindHAChanged, ClientID: "c2", Field: "scc1: ha shadow_state", Old: "READY", New: "ODD", Severity: SeverityMedium}}, ""},
		{"failover: the role, not the states", []HealthState{health()}, []HealthState{shadow},
			[]Change{{Kind: KindHAChanged, ClientID: "c2", Field: "scc1: role", Old: "master", New: "shadow", Severity: SeverityMedium}}, ""},
		{"alert raised and cleared", []HealthState{health()}, []HealthState{editHealth(func(s *HealthState) {
			s.Alerts = []AlertState{{Type: "SubaccountCertificate", Entity: "sa-id", Status: "Error", Message: "expires in 3 days"}, {Type: "CPU", Status: "Info"}}
		})}, []Change{
			{Kind: KindAlertRaised, ClientID: "c1", Field: "scc1: alert CPU", New: "Info", Severity: SeverityLow},
			{Kind: KindAlertCleared, ClientID: "c1", Field: "scc1: alert Disk", Old: "Warning", Severity: SeverityInfo},
			{Kind: KindAlertRaised, ClientID: "c1", Field: "scc1: alert SubaccountCertificate sa-id", New: "Error", Severity: SeverityHigh},
		}, ""},
		{"a warning that becomes an error", []HealthState{health()}, []HealthState{editHealth(func(s *HealthState) { s.Alerts[0].Status = "Error" })},
			[]Change{
				{Kind: KindAlertRaised, ClientID: "c1", Field: "scc1: alert Disk", New: "Error", Severity: SeverityHigh},
				{Kind: KindAlertCleared, ClientID: "c1", Field: "scc1: alert Disk", Old: "Warning", Severity: SeverityInfo},
			}, ""},
		{"a new alert with the warning still there", []HealthState{health()}, []HealthState{editHealth(func(s *HealthState) {
			s.Alerts = append(s.Alerts, AlertState{Type: "CPU", Status: "Warning"})
		})}, []Change{{Kind: KindAlertRaised, ClientID: "c1", Field: "scc1: alert CPU", New: "Warning", Severity: SeverityMedium}}, ""},
		{"unknown parts are not compared", []HealthState{health()}, []HealthState{{Connector: "scc1"}}, nil, ""},
		{"parts the previous read did not know are not compared", []HealthState{{Connector: "scc1"}}, []HealthState{health()}, nil, ""},
		{"a newly configured connector is a baseline", nil, []HealthState{health()}, nil, ""},
		{"a connector the read lacks is not gone", []HealthState{health()}, nil, nil, ""},
	}
	seen := map[Kind]bool{}
	for _, tt := range tests {
		prev, cur := read(0, nil), read(5, nil)
		prev.Health, cur.Health = tt.prev, tt.cur
		got := Diff(prev, cur)
		var short []Change
		for _, c := range got {
			if !c.ObservedAt.Equal(cur.At) || !c.PreviousReadAt.Equal(prev.At) || c.Subaccount != "sa" {
				t.Errorf("%s: %s: times/subaccount = %v %v %q", tt.name, c.Kind, c.ObservedAt, c.PreviousReadAt, c.Subaccount)
			}
			seen[c.Kind] = true
			short = append(short, Change{Kind: c.Kind, ClientID: c.ClientID, Field: c.Field, Old: c.Old, New: c.New, Severity: c.Severity})
		}
		if !slices.Equal(short, tt.want) {
			t.Errorf("%s: Diff:\n got %+v\nwant %+v", tt.name, short, tt.want)
		}
		if tt.wantDetail != "" && (len(got) == 0 || got[0].Detail != tt.wantDetail) {
			t.Errorf("%s: detail of %+v, want %q", tt.name, got, tt.wantDetail)
		}
	}
	for _, k := range healthKinds {
		if !seen[k] {
			t.Errorf("no case covers kind %s", k)
		}
		if !slices.Contains(Kinds(), k) {
			t.Errorf("Kinds lacks %s", k)
		}
	}
}

// TestDiffHealthIsPure checks that Diff leaves its arguments as they were.
func TestDiffHealthIsPure(t *testing.T) {
	t.Parallel()
	prev, cur := read(0, nil), read(5, nil)
	prev.Health = []HealthState{health()}
	cur.Health = []HealthState{editHealth(func(s *HealthState) {
		s.ClientID, s.Tunnels[0].ClientID, s.Tunnels[0].State = "", "", "ConnectFailure"
	})}
	before := editHealth(func(s *HealthState) { s.ClientID, s.Tunnels[0].ClientID, s.Tunnels[0].State = "", "", "ConnectFailure" })
	first := Diff(prev, cur)
	second := Diff(prev, cur)
	if !slices.Equal(first, second) || len(first) != 1 {
		t.Errorf("Diff twice: %+v then %+v, want the same one change", first, second)
	}
	if !equalHealth(cur.Health[0], before) || !equalHealth(prev.Health[0], health()) {
		t.Errorf("Diff changed its arguments: %+v, %+v", prev.Health, cur.Health)
	}
}

func equalHealth(a, b HealthState) bool {
	ea, _ := encodeHealth(a)
	eb, _ := encodeHealth(b)
	return string(ea) == string(eb)
}

func TestHealthStates(t *testing.T) {
	t.Parallel()
	since := t0.Add(-time.Hour)
	master := &sccadmin.Health{
		Name: "scc1", Role: sccadmin.RoleMaster, Version: "2.19.0.2",
		HA: &sccadmin.HAState{MasterState: "CONNECTED", ShadowHost: "shadow1"},
		Subaccounts: []sccadmin.Subaccount{
			{ID: "sa-b", Region: "cf.eu10.hana.ondemand.com", Tunnel: sccadmin.Tunnel{State: "ConnectFailure"}},
			{ID: "sa-a", Region: "cf.eu10.hana.ondemand.com", DisplayName: "Dev", Tunnel: sccadmin.Tunnel{State: "Connected", ConnectedSince: since},
				Certificate: sccadmin.CertValidity{NotAfter: t0.AddDate(0, 0, 12)}},
		},
		Certificates: []sccadmin.Certificate{
			{Type: "UI", NotAfter: t0.AddDate(1, 0, 0)},
			{Type: "CA", Subject: "CN=b", NotAfter: t0.AddDate(2, 0, 0)},
			{Type: "CA", Subject: "CN=a", NotAfter: t0.AddDate(3, 0, 0)},
			{Type: "subaccount", SubaccountName: "sa-b", NotAfter: t0.AddDate(0, 0, 5)},
		},
		Alerts: []sccadmin.Alert{{Type: "Disk", Status: "Warning", Message: "m"}, {Type: "CPU", Status: "Error"}},
	}
	matches := []sccadmin.Match{
		{Connector: "scc1", Subaccount: "sa-a", ClientID: "c1"},
		{Connector: "scc1", Subaccount: "sa-b", Unmatched: "no connected-since"},
		{Connector: "other", Subaccount: "sa-a", ClientID: "x9"},
	}
	got := HealthStates("", matches, master, nil)
	want := HealthState{
		Connector: "scc1", ClientID: "c1", Role: "master", HAKnown: true, MasterState: "CONNECTED",
		TunnelsKnown: true, Tunnels: []TunnelState{
			{Subaccount: "sa-a", ClientID: "c1", State: "Connected", CertExpiry: t0.AddDate(0, 0, 12)},
			{Subaccount: "sa-b", State: "ConnectFailure", CertExpiry: t0.AddDate(0, 0, 5)}, // from the certificates list
		},
		CertificatesKnown: true, Certificates: []CertificateState{
			{Key: "CA CN=a", NotAfter: t0.AddDate(3, 0, 0)}, {Key: "CA CN=b", NotAfter: t0.AddDate(2, 0, 0)}, {Key: "UI", NotAfter: t0.AddDate(1, 0, 0)},
		},
		AlertsKnown: true, Alerts: []AlertState{{Type: "CPU", Status: "Error"}, {Type: "Disk", Status: "Warning", Message: "m"}},
	}
	if len(got) != 1 || !equalHealth(got[0], want) {
		t.Errorf("HealthStates:\n got %+v\nwant %+v", got, want)
	}

	// one subaccount's read keeps its tunnels only
	one := HealthStates("SA-B", matches, master)
	if len(one) != 1 || len(one[0].Tunnels) != 1 || one[0].Tunnels[0].Subaccount != "sa-b" || one[0].ClientID != "" {
		t.Errorf("HealthStates for sa-b = %+v, want its tunnel only and no client_id (none matched there)", one)
	}

	for _, tc := range []struct {
		name  string
		h     *sccadmin.Health
		check func(s HealthState) bool
	}{
		{"unreachable: nothing known", &sccadmin.Health{Name: "scc1", Failure: &sccadmin.Failure{Kind: sccadmin.FailureUnreachable}},
			func(s HealthState) bool { return equalHealth(s, HealthState{Connector: "scc1"}) }},
		{"a 2.16 master: no alerts endpoint, alerts unknown; an empty list of a supported endpoint is known",
			&sccadmin.Health{Name: "scc1", Role: sccadmin.RoleMaster, Version: "2.16.0", Unsupported: []string{"alerts"}},
			func(s HealthState) bool { return !s.AlertsKnown && s.TunnelsKnown && s.CertificatesKnown && !s.HAKnown }},
		{"a failed endpoint is unknown", &sccadmin.Health{Name: "scc1", Role: sccadmin.RoleMaster,
			Problems: []sccadmin.Problem{{Endpoint: "subaccounts", Status: 500, Message: "m"}}},
			func(s HealthState) bool { return !s.TunnelsKnown && s.AlertsKnown }},
		{"a shadow knows its HA state only, its client_id from JoinShadow", &sccadmin.Health{Name: "scc2", Role: sccadmin.RoleShadow,
			HA: &sccadmin.HAState{ShadowState: "READY"}},
			func(s HealthState) bool {
				return s.HAKnown && s.ShadowState == "READY" && !s.TunnelsKnown && !s.CertificatesKnown && !s.AlertsKnown && s.ClientID == "c2"
			}},
		{"two client_ids: none", &sccadmin.Health{Name: "two", Role: sccadmin.RoleMaster},
			func(s HealthState) bool { return s.ClientID == "" }},
	} {
		got := HealthStates("", []sccadmin.Match{{Connector: "scc2", ClientID: "c2"}, {Connector: "two", Subaccount: "a", ClientID: "x"},
			{Connector: "two", Subaccount: "b", ClientID: "y"}}, tc.h)
		if len(got) != 1 || !tc.check(got[0]) {
			t.Errorf("%s: %+v", tc.name, got)
		}
	}
}

func TestHealthCarry(t *testing.T) {
	t.Parallel()
	prev := health()
	got := HealthState{Connector: "scc1", TunnelsKnown: true, Tunnels: []TunnelState{{Subaccount: "sa-id", State: "ConnectFailure"}}}.carry(prev)
	want := editHealth(func(s *HealthState) {
		s.Tunnels = []TunnelState{{Subaccount: "sa-id", ClientID: "c1", State: "ConnectFailure"}}
	})
	if !equalHealth(got, want) {
		t.Errorf("carry:\n got %+v\nwant %+v", got, want)
	}
	if !equalHealth(HealthState{Connector: "scc1"}.carry(prev), prev) {
		t.Error("an unknown state does not carry the previous one whole")
	}
}
