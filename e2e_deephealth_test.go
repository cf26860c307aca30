package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/owenrumney/go-sarif/v3/pkg/report/v210/sarif"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/report"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/schemas"
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
