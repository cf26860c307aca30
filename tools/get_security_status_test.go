package tools

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/assess"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/connectivity"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/schemas"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/simulator"
)

type securityOut = schemas.GetSecurityStatusOutput

// The findings of the sample landscape, worst first: high_risk, then unknown ratings (the
// undocumented "not_evaluated" and the unreadable security status), then medium_risk, then
// low_risk; among equals in connector order, then in the order of the Security Status page.
var (
	highFindings = []string{
		"517203948/trust_store=high_risk",
		"517203948/payload_trace=high_risk",
	}
	unknownFindings = []string{
		"630174285/authentication_type=not_evaluated",
		"961847203/security_status=unknown",
	}
	mediumFindings = []string{
		"517203948/cpic_trace=medium_risk",
		"630174285/ciphers=medium_risk",
	}
	lowFindings = []string{
		"123456789/ui_certificate=low_risk",
		"123456789/ciphers=low_risk",
		"123456789/authentication_type=low_risk",
		"517203948/ui_certificate=low_risk",
		"517203948/ciphers=low_risk",
		"517203948/authentication_type=low_risk",
		"517203948/application_whitelist=low_risk",
		"630174285/ui_certificate=low_risk",
		"630174285/application_whitelist=low_risk",
		"745019362/ui_certificate=low_risk",
		"745019363/ui_certificate=low_risk",
		"856302417/ui_certificate=low_risk",
		"856302418/ui_certificate=low_risk",
	}
	allFindings = concat(highFindings, unknownFindings, mediumFindings, lowFindings)
)

func concat(lists ...[]string) []string {
	out := []string{}
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

// findingKeys renders findings as client_id/check=status.
func findingKeys(fs []schemas.SecurityFinding) []string {
	keys := []string{}
	for _, f := range fs {
		keys = append(keys, f.ClientID+"/"+f.Check+"="+f.Status)
	}
	return keys
}

func securityIDs(cs []schemas.ConnectorSecurity) []string {
	ids := []string{}
	for _, c := range cs {
		ids = append(ids, c.ClientID)
	}
	return ids
}

func TestGetSecurityStatus(t *testing.T) {
	t.Parallel()
	env := newSimEnv(t, simEnvOptions{})
	allRisks := schemas.RiskCounts{Low: 13, Medium: 2, High: 2, Unknown: 2}
	notOK := []string{"123456789", "517203948", "630174285", "745019362", "745019363", "856302417", "856302418", "961847203"}
	tests := []struct {
		name         string
		args         any
		wantIDs      []string
		wantPage     schemas.Page
		wantFindings []string
		wantTotal    int // findings_total
		wantByRisk   schemas.RiskCounts
	}{
		{"no arguments", nil, sampleClientIDs, schemas.Page{Total: 10, Returned: 10}, allFindings, 19, allRisks},
		{"min_risk ok", map[string]any{"min_risk": "ok"}, sampleClientIDs, schemas.Page{Total: 10, Returned: 10}, allFindings, 19, allRisks},
		{"min_risk low_risk leaves out connectors without findings", map[string]any{"min_risk": "low_risk"}, notOK,
			schemas.Page{Total: 8, Returned: 8}, allFindings, 19, allRisks},
		{"min_risk medium_risk counts unknown ratings as worse", map[string]any{"min_risk": "medium_risk"},
			[]string{"517203948", "630174285", "961847203"}, schemas.Page{Total: 3, Returned: 3},
			concat(highFindings, unknownFindings, mediumFindings), 6, schemas.RiskCounts{Medium: 2, High: 2, Unknown: 2}},
		{"min_risk high_risk", map[string]any{"min_risk": "high_risk"}, []string{"517203948"}, schemas.Page{Total: 1, Returned: 1},
			highFindings, 2, schemas.RiskCounts{High: 2}},
		{"min_risk in capitals", map[string]any{"min_risk": "HIGH_RISK"}, []string{"517203948"}, schemas.Page{Total: 1, Returned: 1},
			highFindings, 2, schemas.RiskCounts{High: 2}},
		{"client_id", map[string]any{"client_id": "517203948"}, []string{"517203948"}, schemas.Page{Total: 1, Returned: 1},
			[]string{
				"517203948/trust_store=high_risk", "517203948/payload_trace=high_risk", "517203948/cpic_trace=medium_risk",
				"517203948/ui_certificate=low_risk", "517203948/ciphers=low_risk", "517203948/authentication_type=low_risk",
				"517203948/application_whitelist=low_risk",
			}, 7, schemas.RiskCounts{Low: 4, Medium: 1, High: 2}},
		{"client_id of a healthy connector", map[string]any{"client_id": "284610375"}, []string{"284610375"},
			schemas.Page{Total: 1, Returned: 1}, []string{}, 0, schemas.RiskCounts{}},
		{"client_id and min_risk that leaves nothing", map[string]any{"client_id": "284610375", "min_risk": "low_risk"}, []string{},
			schemas.Page{}, []string{}, 0, schemas.RiskCounts{}},
		{"client_id and min_risk", map[string]any{"client_id": "630174285", "min_risk": "medium_risk"}, []string{"630174285"},
			schemas.Page{Total: 1, Returned: 1}, []string{"630174285/authentication_type=not_evaluated", "630174285/ciphers=medium_risk"},
			2, schemas.RiskCounts{Medium: 1, Unknown: 1}},
		{"client_id of the malformed connector", map[string]any{"client_id": "961847203"}, []string{"961847203"},
			schemas.Page{Total: 1, Returned: 1}, []string{"961847203/security_status=unknown"}, 1, schemas.RiskCounts{Unknown: 1}},
		{"limit applies to connectors and findings", map[string]any{"limit": 2}, sampleClientIDs[:2],
			schemas.Page{Total: 10, Returned: 2, Truncated: true}, highFindings, 19, allRisks},
		{"limit with min_risk", map[string]any{"limit": 3, "min_risk": "medium_risk"}, []string{"517203948", "630174285", "961847203"},
			schemas.Page{Total: 3, Returned: 3}, concat(highFindings, unknownFindings[:1]), 6, schemas.RiskCounts{Medium: 2, High: 2, Unknown: 2}},
		{"huge limit is clamped, not refused", map[string]any{"limit": hugeLimit}, sampleClientIDs, schemas.Page{Total: 10, Returned: 10},
			allFindings, 19, allRisks},
		{"refresh", map[string]any{"refresh": true}, sampleClientIDs, schemas.Page{Total: 10, Returned: 10}, allFindings, 19, allRisks},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out := callOK[securityOut](t, env, "get_security_status", tt.args)
			checkFetchedAt(t, out.FetchedAt)
			if got := securityIDs(out.Connectors); !reflect.DeepEqual(got, tt.wantIDs) {
				t.Errorf("connectors = %v\nwant         %v", got, tt.wantIDs)
			}
			if out.Page != tt.wantPage {
				t.Errorf("page = %+v, want %+v", out.Page, tt.wantPage)
			}
			if got := findingKeys(out.Findings); !reflect.DeepEqual(got, tt.wantFindings) {
				t.Errorf("findings =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.wantFindings, "\n"))
			}
			if out.FindingsTotal != tt.wantTotal || out.FindingsByRisk != tt.wantByRisk ||
				out.FindingsTruncated != (len(out.Findings) < tt.wantTotal) {
				t.Errorf("findings_total %d, by_risk %+v, truncated %v; want %d, %+v, %v",
					out.FindingsTotal, out.FindingsByRisk, out.FindingsTruncated, tt.wantTotal, tt.wantByRisk, len(out.Findings) < tt.wantTotal)
			}
			checkFindingsSorted(t, out)
			minRank := connectivity.Risk(strings.ToLower(fmt.Sprint(argOf(tt.args, "min_risk")))).Rank()
			if argOf(tt.args, "min_risk") == nil {
				minRank = 0
			}
			for _, c := range out.Connectors {
				for check, status := range c.Checks {
					if connectivity.Risk(status).Rank() < minRank {
						t.Errorf("%s: check %s=%s is below min_risk", c.ClientID, check, status)
					}
				}
			}
		})
	}
}

// argOf returns one argument of a table case, or nil.
func argOf(args any, name string) any {
	if m, ok := args.(map[string]any); ok {
		return m[name]
	}
	return nil
}

// checkFindingsSorted checks that findings come worst first and that each check's remedy is in
// the answer once.
func checkFindingsSorted(t *testing.T, out securityOut) {
	t.Helper()
	fs := out.Findings
	for i, f := range fs {
		if i > 0 && connectivity.Risk(fs[i-1].Status).Rank() < connectivity.Risk(f.Status).Rank() {
			t.Errorf("finding %d (%s) is worse than finding %d (%s)", i, f.Status, i-1, fs[i-1].Status)
		}
		if help := out.Checks[f.Check]; help.Remediation == "" || help.Label == "" || f.Subaccount == "" {
			t.Errorf("finding %+v lacks a subaccount, or its check a label and remediation", f)
		}
	}
	if len(out.Checks) > len(fs) {
		t.Errorf("%d checks explained for %d findings", len(out.Checks), len(fs))
	}
}

// TestGetSecurityStatusChecks checks the per-connector check results and the remedies.
func TestGetSecurityStatusChecks(t *testing.T) {
	t.Parallel()
	env := newSimEnv(t, simEnvOptions{})
	out := callOK[securityOut](t, env, "get_security_status", map[string]any{"min_risk": "ok"})
	byID := map[string]schemas.ConnectorSecurity{}
	for _, c := range out.Connectors {
		byID[c.ClientID] = c
	}
	// Every readable security status lists the seven documented checks in the order of the
	// Cloud Connector's Security Status page, each labelled as there.
	wantOrder := []string{"ui_certificate", "ciphers", "trust_store", "authentication_type", "cpic_trace", "payload_trace", "application_whitelist"}
	for id, c := range byID {
		if id == "961847203" {
			continue
		}
		if len(c.Checks) != len(wantOrder) {
			t.Errorf("%s: checks %v, want the seven documented ones", id, c.Checks)
		}
		for _, name := range wantOrder {
			if c.Checks[name] == "" {
				t.Errorf("%s: no rating for %s", id, name)
			}
		}
		if c.Problems != nil {
			t.Errorf("%s: problems %v", id, c.Problems)
		}
	}
	if c := byID["284610375"]; c.Summary != "ok" || c.AgentType != "master" {
		t.Errorf("healthy master: %+v", c)
	}
	if high := byID["517203948"]; high.Summary != "high_risk" || high.Checks["trust_store"] != "high_risk" {
		t.Errorf("high-risk connector: %+v", high)
	}
	known, _ := assess.LookupCheck("trust_store")
	if help := out.Checks["trust_store"]; help.Label != "Backend Trust Store" || help.Remediation != known.Remediation {
		t.Errorf("trust_store help = %+v", help)
	}
	if got := byID["630174285"].Checks["authentication_type"]; got != "not_evaluated" {
		t.Errorf("undocumented rating: %q", got)
	}

	// The malformed connector: its unreadable security status is reported and is a finding.
	bad := byID["961847203"]
	if bad.Summary != "unknown" || len(bad.Checks) != 0 {
		t.Errorf("malformed connector: summary %s, checks %v; want unknown and none", bad.Summary, bad.Checks)
	}
	var attrs []string
	for _, p := range bad.Problems {
		attrs = append(attrs, p.Attribute)
	}
	if !strings.Contains(strings.Join(attrs, ","), "security_status") {
		t.Errorf("malformed connector: problems with %v, want security_status among them", attrs)
	}
	if !slices.Contains(findingKeys(out.Findings), "961847203/security_status=unknown") ||
		!strings.Contains(out.Checks["security_status"].Remediation, "No readable security status") {
		t.Errorf("finding of the malformed connector missing: %v, %+v", findingKeys(out.Findings), out.Checks["security_status"])
	}
}

func TestGetSecurityStatusCleanLandscape(t *testing.T) {
	t.Parallel()
	env := newSimEnv(t, simEnvOptions{Landscape: simulator.CleanLandscape()})
	out := callOK[securityOut](t, env, "get_security_status", nil)
	if out.Total != 2 || len(out.Findings) != 0 || out.FindingsTotal != 0 || out.FindingsByRisk != (schemas.RiskCounts{}) {
		t.Errorf("clean landscape: %d connectors, findings %v (total %d, %+v); want 2 and none",
			out.Total, out.Findings, out.FindingsTotal, out.FindingsByRisk)
	}
}

func TestGetSecurityStatusClampsLimit(t *testing.T) {
	t.Parallel()
	env := newSimEnv(t, simEnvOptions{Landscape: largeLandscape()})
	n := schemas.MaxLimit + 100
	out := callOK[securityOut](t, env, "get_security_status", map[string]any{"limit": hugeLimit})
	if want := (schemas.Page{Total: n, Returned: schemas.MaxLimit, Truncated: true}); out.Page != want || len(out.Connectors) != schemas.MaxLimit {
		t.Errorf("page = %+v with %d connectors, want %+v", out.Page, len(out.Connectors), want)
	}
	if want := min(out.FindingsTotal, schemas.MaxLimit); len(out.Findings) != want || out.FindingsTruncated != (out.FindingsTotal > schemas.MaxLimit) {
		t.Errorf("%d findings of %d (truncated %v), want %d", len(out.Findings), out.FindingsTotal, out.FindingsTruncated, want)
	}
	r := out.FindingsByRisk
	if sum := r.OK + r.Low + r.Medium + r.High + r.Unknown; sum != out.FindingsTotal {
		t.Errorf("findings_by_risk %+v adds up to %d, want findings_total %d", r, sum, out.FindingsTotal)
	}
	checkFindingsSorted(t, out)
}

func TestGetSecurityStatusArgumentErrors(t *testing.T) {
	t.Parallel()
	runArgErrors(t, "get_security_status", []argErrorCase{
		{"unknown client_id", map[string]any{"client_id": "999"}, unknownClientIDError},
		{"limit 0", map[string]any{"limit": 0}, `argument "limit" must be at least 1, got 0`},
		{"min_risk not a rating", map[string]any{"min_risk": "severe"},
			`argument "min_risk" must be one of "ok", "low_risk", "medium_risk", "unknown", "high_risk", got string "severe"`},
		{"unknown argument", map[string]any{"minrisk": "high_risk"},
			`unknown argument "minrisk" (did you mean "min_risk"?); valid arguments: client_id, limit, min_risk, refresh, subaccount`},
		{"limit of the wrong type", map[string]any{"limit": true}, `argument "limit" must be an integer, got boolean true`},
		{"min_risk of the wrong type", map[string]any{"min_risk": map[string]any{"level": "high"}}, `argument "min_risk" must be a string, got object`},
		{"refresh of the wrong type", map[string]any{"refresh": 2}, `argument "refresh" must be a boolean (true or false), got number 2`},
	})
}
