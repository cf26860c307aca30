package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/owenrumney/go-sarif/v3/pkg/report/v210/sarif"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/binding"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/report"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/schemas"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/simulator"
)

// TestSCCConfigRefused checks that a bad --scc-config stops the program with the file, entry,
// line and problem: exit 2 for check, 1 otherwise.
func TestSCCConfigRefused(t *testing.T) {
	t.Parallel()
	bad := filepath.Join(t.TempDir(), "scc.yaml")
	if err := os.WriteFile(bad, []byte("connectors:\n  - name: fra\n    url: https://scc:8443\n    user: monitoring\n    password: inline\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		code int
	}{
		{[]string{"--demo", "check", "--scc-config", bad}, 2},
		{[]string{"--demo", "call", "list_cloud_connectors", "--scc-config", bad}, 1},
		{[]string{"--demo", "--scc-config", filepath.Join(t.TempDir(), "missing.yaml")}, 1},
		{[]string{"--demo", "check", "--cert-warn-days", "0"}, 2},
	} {
		code, stdout, stderr := assessRun(append([]string{"--log-level", "error"}, tc.args...)...)
		if code != tc.code || stdout != "" || !strings.Contains(stderr, "Fix the file or leave out --scc-config") {
			t.Errorf("%v: exit %d (want %d)\nstdout %q\nstderr %s", tc.args, code, tc.code, stdout, stderr)
		}
	}
	if _, _, stderr := assessRun("--demo", "check", "--scc-config", bad); !strings.Contains(stderr, `entry 1 "fra" (line 2): an inline password is refused`) {
		t.Errorf("message does not name the entry and problem: %s", stderr)
	}
}

// TestCheckDeepHealthDemo checks that the demo serves deep health: check fails on the sample
// connectors' critical and high findings, among them the subaccount certificate expiring in 12
// days and the lost shadow.
func TestCheckDeepHealthDemo(t *testing.T) {
	t.Parallel()
	code, stdout, stderr := assessRun("--demo", "--log-level", "error", "check")
	for _, want := range []string{
		"scc.cert_expiring               acme-prod   284610375  The subaccount certificate of ACME production expires in 12 days",
		"scc.shadow_not_ready            acme-prod   856302418  Shadow muc-hr shadow is LOST, not READY",
		"scc.master_alone                acme-prod   856302417  Master muc-hr master lost its shadow (BROKEN)",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("check --demo lacks %q\n%s", want, stdout)
		}
	}
	if code != 1 {
		t.Errorf("exit %d, want 1\n%s", code, stderr)
	}
}

// TestAcceptedRiskOfDeepHealthFinding: an accepted-risk entry covers an scc.* finding like any
// other (rule, client_id): marked accepted with the entry's reason and counted apart.
func TestAcceptedRiskOfDeepHealthFinding(t *testing.T) {
	t.Parallel()
	risks := filepath.Join(t.TempDir(), "accepted.yaml")
	expires := time.Now().AddDate(0, 3, 0).Format(time.DateOnly)
	if err := os.WriteFile(risks, []byte(`accepted:
  - rule: scc.shadow_not_ready
    client_id: "856302418"
    reason: the shadow host is being replaced
    owner: basis-team@example.com
    expires: `+expires+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := assessRun("--demo", "--log-level", "error", "check", "--format", "json", "--accepted-risks", risks)
	var out schemas.AssessConnectorsOutput
	if err := json.Unmarshal([]byte(stdout), &out); err != nil {
		t.Fatalf("exit %d: %v\n%s", code, err, stderr)
	}
	accepted := 0
	for _, f := range out.Findings {
		if f.Accepted != nil {
			accepted++
			if f.ID != "scc.shadow_not_ready" || f.ClientID != "856302418" || f.Accepted.Reason != "the shadow host is being replaced" {
				t.Errorf("accepted %+v", f)
			}
		}
	}
	if accepted != 1 || out.Counts.Accepted != 1 || out.Counts.High != 6 || out.AcceptedRisks == nil || len(out.AcceptedRisks.Unused) != 0 {
		t.Errorf("%d accepted, counts %+v, accepted risks %+v", accepted, out.Counts, out.AcceptedRisks)
	}
}

// TestSARIFOfDeepHealthFinding: the scc.* findings are SARIF results with their rule, help,
// fingerprint and level, located at the subaccount and the matched connector.
func TestSARIFOfDeepHealthFinding(t *testing.T) {
	t.Parallel()
	code, stdout, stderr := assessRun("--demo", "--log-level", "error", "check", "--format", "sarif")
	log, err := sarif.FromString(stdout)
	if err != nil || code != 1 {
		t.Fatalf("exit %d: %v\n%s", code, err, stderr)
	}
	if err := log.Validate(); err != nil {
		t.Errorf("SARIF does not validate: %v", err)
	}
	rules := map[string]bool{}
	for _, r := range log.Runs[0].Tool.Driver.Rules {
		rules[*r.ID] = r.Help != nil && r.Help.Text != nil && strings.Contains(*r.Help.Text, "get_connector_health")
	}
	found := false
	for _, r := range log.Runs[0].Results {
		if *r.RuleID != "scc.cert_expiring" {
			continue
		}
		found = true
		loc := *r.Locations[0].LogicalLocations[0].FullyQualifiedName
		if !rules["scc.cert_expiring"] || r.Level != "error" || r.PartialFingerprints[report.FingerprintKey] == "" || loc != "acme-prod/284610375" {
			t.Errorf("scc.cert_expiring: help %v, level %s, fingerprints %v, location %s", rules["scc.cert_expiring"], r.Level, r.PartialFingerprints, loc)
		}
	}
	if !found {
		t.Error("no scc.cert_expiring result")
	}
}

// TestDeepHealthThroughTheProxy reads two connectors through the simulated Connectivity proxy,
// each by its location ID behind the same virtual host, with the proxy's token fetched from the
// simulator's XSUAA with the lite binding's client credentials (--scc-proxy-binding), and joins
// them with the subaccount's connectors.
func TestDeepHealthThroughTheProxy(t *testing.T) {
	t.Parallel()
	sim := assessSim(t, simulator.SampleLandscapeWithLocations())
	dir := t.TempDir()
	keyJSON := sim.ServiceKeyJSON(simulator.SecretCredentials)
	key := filepath.Join(dir, "key.json")
	if err := os.WriteFile(key, keyJSON, 0o600); err != nil {
		t.Fatal(err)
	}
	subID := binding.Parse(keyJSON, "key").Usable[0].SubaccountID
	sample := simulator.SampleSCCs(time.Now().Add(time.Hour), subID)
	fleet, err := simulator.StartSCCFleet([]simulator.SCCOptions{sample[0], sample[2]}) // fra-prod and muc-hr masters
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fleet.Close)
	proxy, err := simulator.StartConnectivityProxy(func(token string) bool { return strings.Count(token, ".") == 2 }) // a JWT of XSUAA
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(proxy.Close)
	proxy.Route("fra-prod", "scc-admin:8443", fleet.SCCs[0])
	proxy.Route("muc-hr", "scc-admin:8443", fleet.SCCs[1])

	var lite map[string]any
	if err := json.Unmarshal(keyJSON, &lite); err != nil {
		t.Fatal(err)
	}
	lite["onpremise_proxy_host"], lite["onpremise_proxy_http_port"] = proxy.Host(), strconv.Itoa(proxy.Port())
	liteJSON, _ := json.Marshal(lite)
	litePath, cfgPath, pwPath := filepath.Join(dir, "lite.json"), filepath.Join(dir, "scc.yaml"), filepath.Join(dir, "pw")
	for path, data := range map[string]string{litePath: string(liteJSON), pwPath: fleet.SCCs[0].Password(), cfgPath: "connectors:\n" +
		"  - {name: fra, virtual_host: 'scc-admin:8443', location_id: fra-prod, via: connectivity-proxy, user: monitoring, password_file: " + pwPath + "}\n" +
		"  - {name: muc, virtual_host: 'scc-admin:8443', location_id: muc-hr, via: connectivity-proxy, user: monitoring, password_file: " + pwPath + "}\n"} {
		if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	code, stdout, stderr := assessRun("--binding", key, "--log-level", "error", "--history", "off", "--scc-config", cfgPath, "--scc-proxy-binding", litePath,
		"call", "get_connector_health")
	var out schemas.GetConnectorHealthOutput
	if err := json.Unmarshal([]byte(stdout), &out); err != nil || code != 0 {
		t.Fatalf("exit %d: %v\n%s\n%s", code, err, stdout, stderr)
	}
	for i, want := range []struct{ name, clientID string }{{"fra", "284610375"}, {"muc", "856302417"}} {
		c := out.Connectors[i]
		if c.Name != want.name || !c.Reachable || !strings.Contains(c.Endpoint, "via connectivity proxy") || len(c.Subaccounts) != 1 ||
			c.Subaccounts[0].Match == nil || c.Subaccounts[0].Match.ClientID != want.clientID || !slices.Contains(c.Subaccounts[0].Match.Evidence, "location_id") {
			t.Errorf("%s: %+v", want.name, c)
		}
	}
	for i, loc := range []string{"fra-prod", "muc-hr"} {
		reqs := fleet.SCCs[i].Requests()
		if len(reqs) == 0 {
			t.Errorf("connector %s was not asked", loc)
		}
		for _, r := range reqs {
			if r.Method != "GET" || !r.ViaProxy || r.Location != loc {
				t.Errorf("connector %s got %+v", loc, r)
			}
		}
	}
	for _, r := range proxy.Requests() {
		if r.Status != 200 && r.Status != 404 {
			t.Errorf("proxy answered %+v", r)
		}
	}
	if strings.Contains(stdout+stderr, fleet.SCCs[0].Password()) {
		t.Error("the monitoring password reached the output")
	}
}

// TestDemoDeepHealthOverStdio runs the built binary with --demo and asks over MCP (stdio):
// get_connector_health shows the subaccount certificate expiring in 12 days and the lost shadow,
// both joined to their client_id, and no stdout line is anything but JSON-RPC.
func TestDemoDeepHealthOverStdio(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("runs the binary; skipped with -short")
	}
	p := startServer(t, stdioEnv("XDG_STATE_HOME="+t.TempDir()), "--demo", "--log-level", "error")
	res := p.callTool(t, "get_connector_health", map[string]any{})
	var out schemas.GetConnectorHealthOutput
	if res.IsError || json.Unmarshal([]byte(res.Content[0].Text), &out) != nil {
		t.Fatalf("get_connector_health: %+v", res)
	}
	by := map[string]schemas.ConnectorHealth{}
	for _, c := range out.Connectors {
		by[c.Name] = c
	}
	fra := by["fra-prod master"]
	if len(fra.Subaccounts) != 1 || fra.Subaccounts[0].CertDaysLeft == nil || *fra.Subaccounts[0].CertDaysLeft != 12 ||
		fra.Subaccounts[0].Match == nil || fra.Subaccounts[0].Match.ClientID != "284610375" {
		t.Errorf("fra-prod master: %+v", fra.Subaccounts)
	}
	if s := by["muc-hr shadow"]; s.HA == nil || s.HA.ShadowState != "LOST" || s.Match == nil || s.Match.ClientID != "856302418" {
		t.Errorf("muc-hr shadow: %+v %+v", s.HA, s.Match)
	}
	if out.Configured != 5 || len(out.Connectors) != 5 {
		t.Errorf("%d configured, %d answered", out.Configured, len(out.Connectors))
	}
}

// TestCheckFailsOnDeepHealth: on a clean landscape, check passes until a configured connector
// reports an expired subaccount certificate (critical) and exits 1 then.
func TestCheckFailsOnDeepHealth(t *testing.T) {
	t.Parallel()
	sim := assessSim(t, simulator.CleanLandscape())
	dir := t.TempDir()
	key := filepath.Join(dir, "key.json")
	if err := os.WriteFile(key, sim.ServiceKeyJSON(simulator.SecretCredentials), 0o600); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	scc := simulator.SCCOptions{Name: "lab", Version: "2.19.0.2", Role: "master", MasterState: "CONNECTED", HeapKB: [2]int64{1000, 100}, DiskMB: [2]int64{1000, 900},
		Subaccounts: []simulator.SCCSubaccount{{ID: "sub", TunnelState: "Connected", ConnectedSince: now.Add(-time.Hour), User: "lab", CertNotAfter: now.AddDate(0, 6, 0)}}}
	expired := scc
	expired.Name, expired.Subaccounts = "lab expired", []simulator.SCCSubaccount{scc.Subaccounts[0]}
	expired.Subaccounts[0].CertNotAfter = now.Add(-time.Hour)
	for _, tc := range []struct {
		scc  simulator.SCCOptions
		code int
		want string
	}{
		{scc, 0, "PASS: no finding at or above high"},
		{expired, 1, "scc.cert_expired"},
	} {
		fleet, err := simulator.StartSCCFleet([]simulator.SCCOptions{tc.scc})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(fleet.Close)
		cfg, pw := filepath.Join(dir, tc.scc.Name+".yaml"), filepath.Join(dir, "pw")
		if err := os.WriteFile(pw, []byte(fleet.SCCs[0].Password()), 0o600); err != nil {
			t.Fatal(err)
		}
		entry := "connectors:\n  - name: " + tc.scc.Name + "\n    url: " + fleet.SCCs[0].URL() + "\n    user: monitoring\n    password_file: " + pw + "\n"
		if err := os.WriteFile(cfg, []byte(entry), 0o600); err != nil {
			t.Fatal(err)
		}
		code, stdout, stderr := assessRun("--binding", key, "--log-level", "error", "--history", "off", "--scc-config", cfg, "check")
		if code != tc.code || !strings.Contains(stdout+stderr, tc.want) {
			t.Errorf("%s: exit %d (want %d)\n%s\n%s", tc.scc.Name, code, tc.code, stdout, stderr)
		}
	}
}
