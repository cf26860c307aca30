package assess_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/assess"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/sccadmin"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/simulator"
)

var deepNow = time.Date(2026, time.December, 7, 4, 0, 0, 0, time.UTC)

// readSCC reads a simulated connector over HTTP with user and password, as configured.
func readSCC(t *testing.T, url, user, password string) *sccadmin.Health {
	t.Helper()
	pw := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pw, []byte(password), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := sccadmin.ParseConfig("scc.yaml", []byte(fmt.Sprintf("connectors:\n  - name: scc\n    url: %s\n    user: %s\n    password_file: %s\n", url, user, pw)), nil)
	if err != nil {
		t.Fatal(err)
	}
	h, err := sccadmin.NewReader(cfg, sccadmin.Options{}).Read(context.Background(), "scc", false)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func startDeep(t *testing.T, o simulator.SCCOptions) *simulator.SCC {
	t.Helper()
	s, err := simulator.StartSCC(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// keysOf renders findings as "rule severity subject".
func keysOf(fs []assess.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, fmt.Sprintf("%s %s %s", f.Rule, f.Severity, f.Subject))
	}
	return out
}

func TestDeepHealthRules(t *testing.T) {
	t.Parallel()
	sample := simulator.SampleSCCs(deepNow, "sub-1")
	custom := simulator.SCCOptions{Version: "2.19.0.2", MasterState: "CONNECTED", HeapKB: [2]int64{1000, 950}, DiskMB: [2]int64{1000, 80},
		Subaccounts: []simulator.SCCSubaccount{{Region: simulator.SampleRegionHost, ID: "sub-9", DisplayName: "dev", TunnelState: "ConnectFailure",
			CertNotAfter: deepNow.AddDate(0, 0, 20)}},
		Certificates: []simulator.SCCCertificate{{Type: "UI", Status: "expired", Subject: "CN=scc", NotAfter: deepNow.AddDate(0, 0, -3)},
			{Type: "System", Subject: "CN=sys", NotAfter: deepNow.AddDate(1, 0, 0)}},
		Alerts: []simulator.SCCAlert{{Type: "CPU", Status: "Error", Message: "CPU load above 90%", Time: deepNow}, {Type: "Disk", Status: "Warning", Message: "low disk"}}}
	policy := assess.DeepPolicy{Now: deepNow}
	for _, tc := range []struct {
		name  string
		o     simulator.SCCOptions
		user  string
		want  []string
		wrong bool // a wrong password
	}{
		{"fra-prod master: subaccount certificate in 12 days, a slow back end", sample[0], "", []string{
			"scc.cert_expiring high subaccount:sub-1", "scc.backend_slow medium backend:gw-prod.internal:44300"}, false},
		{"fra-prod shadow: ready", sample[1], "", nil, false},
		{"muc-hr master: shadow lost, disk nearly full", sample[2], "", []string{
			"scc.master_alone high ha", "scc.disk_nearly_full high disk"}, false},
		{"muc-hr shadow: lost", sample[3], "", []string{"scc.shadow_not_ready high ha"}, false},
		{"sgp-dc: alone", sample[4], "", []string{"scc.master_alone medium ha"}, false},
		{"tunnel, certificates, heap, disk, alerts", custom, "", []string{
			"scc.cert_expired critical certificate:UI", "scc.tunnel_not_connected high tunnel:sub-9", "scc.alert high alert:CPU",
			"scc.cert_expiring medium subaccount:sub-9", "scc.disk_nearly_full medium disk", "scc.heap_nearly_exhausted medium heap",
			"scc.alert medium alert:Disk"}, false},
		{"Administrator", simulator.SCCOptions{User: "Administrator", Version: "2.19.0.2", MasterState: "CONNECTED"}, "Administrator",
			[]string{"scc.administrator_user medium user"}, false},
		{"credentials refused", simulator.SCCOptions{Version: "2.19.0.2"}, "", []string{"scc.credentials_refused high admin_api"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := startDeep(t, tc.o)
			pw := s.Password()
			if tc.wrong {
				pw = "wrong"
			}
			h := readSCC(t, s.URL(), s.User(), pw)
			got := keysOf(assess.AssessDeepHealth(h, nil, policy))
			if !slices.Equal(got, tc.want) {
				t.Errorf("findings\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

func TestDeepHealthUnreachableAndJoin(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	h := readSCC(t, "http://"+addr, "monitoring", "pw")
	fs := assess.AssessDeepHealth(h, nil, assess.DeepPolicy{Now: deepNow})
	if got := keysOf(fs); !slices.Equal(got, []string{"scc.unreachable high admin_api"}) || !strings.Contains(fs[0].Evidence.Value("error"), addr) {
		t.Errorf("unreachable: %v %v", got, fs)
	}

	// With the join, findings name the matched connector; the fingerprint does not depend on it.
	s := startDeep(t, simulator.SampleSCCs(deepNow, "sub-1")[0])
	h = readSCC(t, s.URL(), s.User(), s.Password())
	match := []sccadmin.Match{{Connector: "scc", Subaccount: "sub-1", LocationID: "fra-prod", CloudSubaccount: "acme-prod", ClientID: "284610375", Evidence: []string{"connected_since"}}}
	joined, alone := assess.AssessDeepHealth(h, match, assess.DeepPolicy{Now: deepNow}), assess.AssessDeepHealth(h, nil, assess.DeepPolicy{Now: deepNow})
	if len(joined) != 2 || joined[0].ClientID != "284610375" || joined[0].Subaccount != "acme-prod" || joined[0].LocationID != "fra-prod" ||
		joined[0].Fingerprint != alone[0].Fingerprint || alone[0].ClientID != "" || alone[0].Subaccount != "sub-1" {
		t.Errorf("joined %+v\nalone %+v", joined, alone)
	}
	// Thresholds are configurable: a 10-day window makes the 12-day certificate no finding.
	if fs := assess.AssessDeepHealth(h, nil, assess.DeepPolicy{Now: deepNow, CertWarnDays: 10, SlowP90: time.Minute}); len(fs) != 0 {
		t.Errorf("with narrower thresholds: %v", keysOf(fs))
	}
	for _, f := range joined {
		if r, ok := assess.LookupRule(f.Rule); !ok || r.Remediation == "" {
			t.Errorf("rule %s has no remediation", f.Rule)
		}
	}
}

func TestDeepRulesCanBeAccepted(t *testing.T) {
	t.Parallel()
	file := "accepted:\n  - rule: scc.master_alone\n    reason: lab\n    owner: basis@example.com\n    expires: 2027-01-31\n"
	if _, err := assess.ParseAcceptedRisks("a.yaml", []byte(file), deepNow); err != nil {
		t.Errorf("an accepted deep-health rule: %v", err)
	}
}
