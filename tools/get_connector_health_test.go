package tools

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/assess"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/sccadmin"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/schemas"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/simulator"
)

// fleetReader starts the connectors of opts and returns the reader of a config listing them all.
func fleetReader(t *testing.T, opts []simulator.SCCOptions, ready func(*simulator.SCCFleet)) *sccadmin.Reader {
	t.Helper()
	fleet, err := simulator.StartSCCFleet(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fleet.Close)
	cfg, err := sccadmin.ParseConfig("scc.yaml", fleet.Config(), fleet.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	if ready != nil {
		ready(fleet)
	}
	return sccadmin.NewReader(cfg, sccadmin.Options{})
}

// deepFleet is the sample connectors and four more, so that every deep-health rule and join case
// shows: "lab" (2.19: a tunnel that failed, an expired subaccount certificate, a full heap, an
// alert, the Administrator user, a second tunnel whose connected-since matches nothing),
// "wrong password" (refused), "gone" (unreachable).
func deepFleet(now time.Time, refused **simulator.SCC) func(t *testing.T, subID string) *sccadmin.Reader {
	return func(t *testing.T, subID string) *sccadmin.Reader {
		opts := simulator.SampleSCCs(now, subID)
		opts = append(opts,
			simulator.SCCOptions{Name: "lab", Version: "2.19.0.2", Role: "master", MasterState: "ALONE", User: "Administrator",
				Subaccounts: []simulator.SCCSubaccount{
					{Region: simulator.SampleRegionHost, ID: subID, DisplayName: "ACME lab", LocationID: "lab", TunnelState: "ConnectFailure", CertNotAfter: now.Add(-48 * time.Hour)},
					{Region: simulator.SampleRegionHost, ID: subID, DisplayName: "ACME lab", LocationID: "lab-2", TunnelState: "Connected",
						ConnectedSince: now.Add(-time.Hour), Connections: 1, User: "lab", CertNotAfter: now.AddDate(1, 0, 0)}},
				HeapKB: [2]int64{1000000, 990000}, DiskMB: [2]int64{1000, 500}, CPU: [2]float64{5, 1},
				Alerts: []simulator.SCCAlert{{Type: "Disk", Status: "Error", Message: "disk almost full", Time: now.Add(-time.Hour)}}},
			simulator.SCCOptions{Name: "wrong password", Password: "not-the-configured-one"},
			simulator.SCCOptions{Name: "gone"},
		)
		return fleetReader(t, opts, func(f *simulator.SCCFleet) {
			*refused = f.SCCs[len(f.SCCs)-2]
			f.SCCs[len(f.SCCs)-1].Close() // configured, then gone
		})
	}
}

func TestGetConnectorHealthWithoutConfig(t *testing.T) {
	t.Parallel()
	env := newSimEnv(t, simEnvOptions{})
	out := callOK[schemas.GetConnectorHealthOutput](t, env, "get_connector_health", nil)
	if out.Note != noSCCConfig || len(out.Connectors) != 0 || out.Configured != 0 {
		t.Errorf("without --scc-config: %+v", out)
	}
}

func TestGetConnectorHealth(t *testing.T) {
	t.Parallel()
	now := time.Now().Add(time.Hour)
	var refused *simulator.SCC
	env := newSimEnv(t, simEnvOptions{Landscape: simulator.SampleLandscape(), SCC: deepFleet(now, &refused)})
	out := callOK[schemas.GetConnectorHealthOutput](t, env, "get_connector_health", nil)
	if out.Configured != 8 || len(out.Connectors) != 8 {
		t.Fatalf("%d configured, %d answered, want 8", out.Configured, len(out.Connectors))
	}
	by := map[string]schemas.ConnectorHealth{}
	for _, c := range out.Connectors {
		by[c.Name] = c
	}

	t.Run("matched by connected-since, two connectors in one subaccount", func(t *testing.T) {
		for name, id := range map[string]string{"fra-prod master": "284610375", "muc-hr master": "856302417"} {
			c := by[name]
			if len(c.Subaccounts) != 1 || c.Subaccounts[0].Match == nil || c.Subaccounts[0].Match.ClientID != id ||
				c.Subaccounts[0].Match.Evidence[0] != sccadmin.EvidenceConnectedSince || c.Subaccounts[0].Tunnel != "Connected" {
				t.Errorf("%s: %+v", name, c.Subaccounts)
			}
		}
		fra := by["fra-prod master"]
		if d := fra.Subaccounts[0].CertDaysLeft; d == nil || *d != 12 || fra.Version != "2.18.2.1" || fra.HA.MasterState != "CONNECTED" {
			t.Errorf("fra-prod master: days left %v, version %s, ha %+v", d, fra.Version, fra.HA)
		}
		if len(fra.Backends) != 2 || fra.Backends[1].Calls == 0 || fra.Backends[1].P90ms <= 2000 || fra.Resources == nil || *fra.Resources.DiskFreePercent != 60 {
			t.Errorf("fra-prod master: backends %+v, resources %+v", fra.Backends, fra.Resources)
		}
		if len(fra.Certs) != 3 {
			t.Errorf("fra-prod master: certificates %+v", fra.Certs)
		}
	})
	t.Run("shadow", func(t *testing.T) {
		for name, id := range map[string]string{"fra-prod shadow": "284610376", "muc-hr shadow": "856302418"} {
			if m := by[name].Match; m == nil || m.ClientID != id || m.Evidence[0] != sccadmin.EvidenceMaster {
				t.Errorf("%s: match %+v", name, m)
			}
		}
		if by["muc-hr shadow"].HA.ShadowState != "LOST" {
			t.Errorf("muc-hr shadow: %+v", by["muc-hr shadow"].HA)
		}
	})
	t.Run("unmatched", func(t *testing.T) {
		lab := by["lab"]
		if len(lab.Subaccounts) != 2 {
			t.Fatalf("lab: %+v", lab.Subaccounts)
		}
		for _, s := range lab.Subaccounts {
			if s.Match == nil || s.Match.ClientID != "" || s.Match.Unmatched == "" {
				t.Errorf("lab %s: %+v, want unmatched with why", s.LocationID, s.Match)
			}
		}
		if len(lab.Alerts) != 1 || lab.Alerts[0].Status != "Error" {
			t.Errorf("lab alerts %+v", lab.Alerts)
		}
	})
	t.Run("not readable", func(t *testing.T) {
		if c := by["wrong password"]; c.Reachable || c.Failure == nil || c.Failure.Kind != "credentials_refused" || c.Failure.Status != 401 {
			t.Errorf("wrong password: %+v", c.Failure)
		}
		if c := by["gone"]; c.Reachable || c.Failure == nil || c.Failure.Kind != "unreachable" {
			t.Errorf("gone: %+v", c.Failure)
		}
		if c := by["sgp-dc"]; !slices.Equal(c.Unsupported, []string{"alerts", "cpu", "disk"}) {
			t.Errorf("sgp-dc 2.16: unsupported %v", c.Unsupported)
		}
	})
	t.Run("arguments", func(t *testing.T) {
		for _, arg := range []string{"FRA-PROD MASTER", "284610375"} {
			got := callOK[schemas.GetConnectorHealthOutput](t, env, "get_connector_health", map[string]any{"connector": arg})
			if len(got.Connectors) != 1 || got.Connectors[0].Name != "fra-prod master" {
				t.Errorf("connector %q: %d connectors", arg, len(got.Connectors))
			}
		}
		if msg := callErr(t, env, "get_connector_health", map[string]any{"connector": "nosuch"}); !strings.Contains(msg, "configured: fra-prod master") {
			t.Errorf("unknown connector: %s", msg)
		}
		callOK[schemas.GetConnectorHealthOutput](t, env, "get_connector_health", map[string]any{"refresh": true})
	})
	t.Run("every rule in assess_connectors", func(t *testing.T) {
		a := callOK[schemas.AssessConnectorsOutput](t, env, "assess_connectors", map[string]any{"limit": 500})
		got := map[string]schemas.Finding{}
		for _, f := range a.Findings {
			if strings.HasPrefix(f.ID, "scc.") {
				got[f.ID+" "+f.Evidence["scc"]] = f
			}
		}
		for key, severity := range map[string]assess.Severity{
			"scc.cert_expired lab":                   assess.Critical,
			"scc.cert_expiring fra-prod master":      assess.High,
			"scc.tunnel_not_connected lab":           assess.High,
			"scc.shadow_not_ready muc-hr shadow":     assess.High,
			"scc.master_alone muc-hr master":         assess.High,
			"scc.master_alone lab":                   assess.Medium,
			"scc.backend_slow fra-prod master":       assess.Medium,
			"scc.disk_nearly_full muc-hr master":     assess.High,
			"scc.heap_nearly_exhausted lab":          assess.High,
			"scc.alert lab":                          assess.High,
			"scc.unreachable gone":                   assess.High,
			"scc.credentials_refused wrong password": assess.High,
			"scc.administrator_user lab":             assess.Medium,
		} {
			if f, ok := got[key]; !ok || f.Severity != string(severity) || a.Rules[f.ID].Remediation == "" {
				t.Errorf("%s: %+v (ok %v), want %s with a remediation", key, f, ok, severity)
			}
		}
		if f := got["scc.shadow_not_ready muc-hr shadow"]; f.ClientID != "856302418" {
			t.Errorf("the lost shadow's finding names client_id %q", f.ClientID)
		}
	})
	// Every read above (several tools, a refresh) sent the refused password once.
	if n := refused.Unauthorized(); n != 1 {
		t.Errorf("the connector refusing the password got %d refused requests, want exactly 1", n)
	}
	for _, r := range refused.Requests() {
		if r.Method != "GET" {
			t.Errorf("request %+v is not a GET", r)
		}
	}
}

// TestDashboardCertificates: the dashboard's certificate section lists what the configured
// connectors report, soonest first, the subaccount certificate expiring in 12 days first and high.
func TestDashboardCertificates(t *testing.T) {
	t.Parallel()
	now := time.Now().Add(time.Hour)
	env := newSimEnv(t, simEnvOptions{Landscape: simulator.SampleLandscape(), SCC: func(t *testing.T, id string) *sccadmin.Reader {
		return fleetReader(t, simulator.SampleSCCs(now, id), nil)
	}})
	d, err := Dashboard(t.Context(), env.cfg, schemas.Scope{}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	// fra-prod master, muc-hr master and sgp-dc: a subaccount, UI, system and CA certificate each.
	if len(d.Certificates) != 12 {
		t.Fatalf("%d certificates: %+v", len(d.Certificates), d.Certificates)
	}
	first := d.Certificates[0]
	if first.Kind != "subaccount" || first.ClientID != "284610375" || first.Severity != "high" || first.Subject != "fra-prod master" {
		t.Errorf("soonest certificate %+v, want fra-prod master's subaccount certificate, high", first)
	}
	for i := 1; i < len(d.Certificates); i++ {
		if d.Certificates[i].NotAfter < d.Certificates[i-1].NotAfter {
			t.Errorf("certificates not soonest first: %+v", d.Certificates)
		}
		if d.Certificates[i].Severity != "" {
			t.Errorf("certificate %+v: a year or more left is no finding", d.Certificates[i])
		}
	}
	// Without configured connectors there is no section.
	plain := newSimEnv(t, simEnvOptions{})
	if d, err := Dashboard(t.Context(), plain.cfg, schemas.Scope{}, time.Now()); err != nil || d.Certificates != nil {
		t.Errorf("without --scc-config: %v, %+v", err, d.Certificates)
	}
}

// TestDeepHealthChanges: a shadow that loses its master between two reads is an ha_changed
// change in what_changed, on the shadow's matched client_id.
func TestDeepHealthChanges(t *testing.T) {
	t.Parallel()
	var fleet *simulator.SCCFleet
	env := newSimEnv(t, simEnvOptions{Landscape: simulator.SampleLandscape(), SCC: func(t *testing.T, id string) *sccadmin.Reader {
		return fleetReader(t, simulator.SampleSCCs(time.Now(), id), func(f *simulator.SCCFleet) { fleet = f })
	}})
	callOK[schemas.GetConnectorHealthOutput](t, env, "get_connector_health", nil)
	fleet.SCCs[1].SetHAState("LOST") // fra-prod shadow
	got := callOK[schemas.GetConnectorHealthOutput](t, env, "get_connector_health", map[string]any{"connector": "fra-prod shadow", "refresh": true})
	if got.Connectors[0].HA.ShadowState != "LOST" {
		t.Fatalf("after refresh: %+v", got.Connectors[0].HA)
	}
	env.cfg.History.Flush(t.Context())
	changes := callOK[schemas.WhatChangedOutput](t, env, "what_changed", map[string]any{"since": "1h", "kind": "ha_changed"})
	if len(changes.Changes) != 1 || changes.Changes[0].ClientID != "284610376" || !strings.HasPrefix(changes.Changes[0].Field, "fra-prod shadow:") ||
		changes.Changes[0].Old != "READY" || changes.Changes[0].New != "LOST" {
		t.Errorf("ha_changed: %+v", changes.Changes)
	}
}

// TestGetConnectorHealthRefreshKeepsCallDeadline: refresh=true reads the connectors within the
// call's deadline (--timeout), not within each connector's own read timeout: a connector that
// never answers costs the call its deadline, never the reader's timeout (an hour here).
func TestGetConnectorHealthRefreshKeepsCallDeadline(t *testing.T) {
	t.Parallel()
	env := newSimEnv(t, simEnvOptions{CallTimeout: 2 * time.Second, SCC: func(t *testing.T, _ string) *sccadmin.Reader {
		fleet, err := simulator.StartSCCFleet([]simulator.SCCOptions{{Name: "hanging", Latency: time.Hour}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(fleet.Close)
		cfg, err := sccadmin.ParseConfig("scc.yaml", fleet.Config(), fleet.Getenv)
		if err != nil {
			t.Fatal(err)
		}
		return sccadmin.NewReader(cfg, sccadmin.Options{Timeout: time.Hour})
	}})
	// A generous "does not hang" bound: without the call's deadline the read waits an hour.
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	args := map[string]any{"refresh": true}
	res, err := env.send(ctx, "get_connector_health", args)
	if ctx.Err() != nil {
		t.Fatalf("get_connector_health refresh=true did not answer within its deadline (2s) nor within 2 minutes: %v", err)
	}
	env.checkAnswer(t, "get_connector_health", args, res, err)
}
