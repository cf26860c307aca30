package tools

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/assess"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/binding"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/connectivity"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/internal/toolsnaps"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/observe"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/schemas"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/simulator"
)

// assessEnv starts a simulator serving landscape (nil: the sample) and returns the tools' Config
// reading it through the real client and cache.
func assessEnv(t *testing.T, landscape []simulator.Agent, policy ...assess.Policy) (*simulator.Server, Config) {
	t.Helper()
	sim, err := simulator.New(simulator.Options{Landscape: landscape})
	if err != nil {
		t.Fatalf("simulator: %v", err)
	}
	t.Cleanup(sim.Close)
	parsed := binding.Parse(sim.ServiceKeyJSON(simulator.SecretCredentials), "assess test")
	bindings, err := parsed.Usable, parsed.Err()
	if err != nil || len(bindings) != 1 {
		t.Fatalf("binding.Parse: %v", err)
	}
	c, err := connectivity.NewClient(bindings[0], connectivity.Options{})
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	opts := observe.Options{CacheTTL: time.Hour}
	if len(policy) > 0 {
		opts.Policy = policy[0]
	}
	return sim, Config{Observations: observations(t, []*connectivity.Client{c}, nil, opts), CallTimeout: 30 * time.Second}
}

// assessCall calls assess_connectors through the adapter and returns its output, failing the
// test on an error result or a result that does not match the output schema.
func assessCall(t *testing.T, cfg Config, args map[string]any) schemas.AssessConnectorsOutput {
	t.Helper()
	tool := assessConnectors(cfg)
	res := call(t, tool, args)
	if res.IsError {
		t.Fatalf("assess_connectors %v: %s", args, text(t, res))
	}
	assertResultMatches(t, tool, res)
	out, ok := res.StructuredContent.(schemas.AssessConnectorsOutput)
	if !ok {
		t.Fatalf("structured content is %T", res.StructuredContent)
	}
	return out
}

// assessCallError calls assess_connectors and returns the text of its error result.
func assessCallError(t *testing.T, cfg Config, args map[string]any) string {
	t.Helper()
	res := call(t, assessConnectors(cfg), args)
	if !res.IsError {
		t.Fatalf("assess_connectors %v succeeded: %s", args, text(t, res))
	}
	return text(t, res)
}

// assessKeys renders findings as "id severity client_id", in order.
func assessKeys(findings []schemas.Finding) []string {
	out := make([]string, len(findings))
	for i, f := range findings {
		out[i] = f.ID + " " + f.Severity + " " + f.ClientID
	}
	return out
}

func TestAssessConnectorsDefinition(t *testing.T) {
	t.Parallel()
	tool := assessConnectors(Config{})
	if err := toolsnaps.Test(tool.Tool); err != nil {
		t.Error(err)
	}
	if err := toolsnaps.CheckAnnotations(tool.Tool); err != nil {
		t.Error(err)
	}
	if _, ok := Lookup(Config{}, "assess_connectors"); !ok {
		t.Error("assess_connectors is not registered in All")
	}
}

// assessSampleWant are findings the sample landscape must produce (simulator/doc.go says what
// each agent is for), as "id severity client_id".
var assessSampleWant = []string{
	"security.payload_trace critical 517203948",
	"security.trust_store high 517203948",
	"security.authentication_type high 630174285", // "not_evaluated", an undocumented rating
	"decode.security_status high 961847203",       // cut-off JSON
	"security.cpic_trace medium 517203948",
	"security.ciphers medium 630174285",
	"ha.no_shadow medium 123456789", // no location attribute: pairing by evidence
	"ha.no_shadow medium 745019362", // two masters without a location: two locations
	"ha.no_shadow medium 745019363",
	"ha.no_shadow medium 517203948",
	"ha.no_shadow medium 630174285",
	"ha.no_shadow medium 961847203",
	"ha.shadow_disconnected medium 856302418",
	"version.outdated medium 517203948", // 2.15.0 behind the established 2.18 line
	"version.outdated low 123456789",    // 2.18.0, a patch behind 2.18.2
	"version.outdated medium 630174285", // 2.16.0
	"version.java medium 517203948",     // Java 11
	"protocol.unencrypted medium 123456789",
	"protocol.unencrypted medium 517203948",
	"security.ui_certificate low 123456789",
	"security.ciphers low 123456789",
	"security.authentication_type low 123456789",
	"decode.connected_since low 961847203",  // "yesterday"
	"decode.exposed_systems low 961847203",  // cut-off JSON
	"security.ui_certificate low 745019362", // and the other low_risk checks
}

// assessRuleFamilies are the rules of docs/assessment.md; the sample must trigger each.
var assessRuleFamilies = []string{
	"security.", "decode.security_status", "ha.no_shadow", "ha.shadow_disconnected",
	"version.outdated", "version.java", "protocol.unencrypted", "decode.connected_since", "decode.exposed_systems",
}

func TestAssessSampleLandscape(t *testing.T) {
	t.Parallel()
	_, cfg := assessEnv(t, nil)
	out := assessCall(t, cfg, map[string]any{"limit": 500})
	keys := assessKeys(out.Findings)
	for _, want := range assessSampleWant {
		if !slices.Contains(keys, want) {
			t.Errorf("sample lacks finding %q", want)
		}
	}
	for _, family := range assessRuleFamilies {
		if !slices.ContainsFunc(keys, func(k string) bool { return strings.HasPrefix(k, family) }) {
			t.Errorf("sample triggers no %s finding", family)
		}
	}
	// The healthy pair and the double master's systems raise nothing of their own.
	for _, f := range out.Findings {
		if f.ClientID == "284610375" || f.ClientID == "284610376" {
			t.Errorf("healthy pair has finding %s", f.ID)
		}
		if f.Fingerprint == "" || out.Rules[f.ID].Remediation == "" {
			t.Errorf("finding %s lacks a fingerprint or its rule's remediation", f.ID)
		}
	}
	if out.ConnectorsAssessed != 10 || out.WorstSeverity != "critical" || out.Truncated || out.Returned != out.Total || out.Total != len(out.Findings) {
		t.Errorf("connectors %d worst %s total %d returned %d truncated %v", out.ConnectorsAssessed, out.WorstSeverity, out.Total, out.Returned, out.Truncated)
	}
	c := out.Counts
	if c.Critical+c.High+c.Medium+c.Low+c.Info != out.Total || c.Critical != 1 {
		t.Errorf("counts %+v, total %d", c, out.Total)
	}
	if p := out.Policy; p.MinJavaMajor != 17 || len(p.SCCVersions) != 1 || p.SCCVersions[0] != (schemas.VersionBar{Subaccount: "acme-prod", Source: "derived", MinVersion: "2.18.2", Release: "2.18"}) {
		t.Errorf("policy %+v", out.Policy)
	}
	if _, err := time.Parse(time.RFC3339, out.FetchedAt); err != nil {
		t.Errorf("fetched_at %q: %v", out.FetchedAt, err)
	}
}

func TestAssessCleanLandscape(t *testing.T) {
	t.Parallel()
	_, cfg := assessEnv(t, simulator.CleanLandscape())
	out := assessCall(t, cfg, nil)
	if out.Total != 0 || len(out.Findings) != 0 || out.WorstSeverity != "none" || out.Counts != (schemas.SeverityCounts{}) || out.ConnectorsAssessed != 2 {
		t.Errorf("clean landscape: %+v", out)
	}
}

func TestAssessConnectorsArguments(t *testing.T) {
	t.Parallel()
	sim, cfg := assessEnv(t, nil)
	all := assessCall(t, cfg, map[string]any{"limit": 500})

	high := assessCall(t, cfg, map[string]any{"min_severity": "HIGH"})
	if high.Total != all.Counts.Critical+all.Counts.High || high.Counts.Medium+high.Counts.Low+high.Counts.Info != 0 || high.WorstSeverity != "critical" {
		t.Errorf("min_severity high: total %d counts %+v", high.Total, high.Counts)
	}

	// client_id: the connector's own findings and those naming it (its shadow's).
	one := assessCall(t, cfg, map[string]any{"client_id": "856302417"})
	if got := assessKeys(one.Findings); !slices.Equal(got, []string{"version.outdated medium 856302417",
		"ha.shadow_disconnected medium 856302418", "security.ui_certificate low 856302417"}) {
		t.Errorf("client_id 856302417: %v", got)
	}
	if one.ConnectorsAssessed != 10 {
		t.Errorf("connectors_assessed with a filter = %d, want the whole landscape", one.ConnectorsAssessed)
	}
	none := assessCall(t, cfg, map[string]any{"client_id": "284610375", "min_severity": "info"})
	if none.Total != 0 || none.WorstSeverity != "none" {
		t.Errorf("healthy connector: %+v", none)
	}

	limited := assessCall(t, cfg, map[string]any{"limit": 3})
	if limited.Returned != 3 || !limited.Truncated || limited.Total != all.Total || limited.Counts != all.Counts ||
		!slices.Equal(assessKeys(limited.Findings), assessKeys(all.Findings[:3])) {
		t.Errorf("limit 3: returned %d truncated %v total %d", limited.Returned, limited.Truncated, limited.Total)
	}
	if def := assessCall(t, cfg, nil); def.Returned != min(all.Total, schemas.DefaultLimit) {
		t.Errorf("default limit: returned %d", def.Returned)
	}

	requests := sim.Counts().APIRequests
	assessCall(t, cfg, map[string]any{"refresh": true})
	if got := sim.Counts().APIRequests; got != requests+1 {
		t.Errorf("refresh read the API %d times, want once", got-requests)
	}

	for _, tt := range []struct {
		args map[string]any
		want string
	}{
		{map[string]any{"client_id": "999"}, `no Cloud Connector with client_id "999" is connected`},
		{map[string]any{"min_severity": "severe"}, `argument "min_severity" must be one of "critical", "high", "medium", "low", "info"`},
		{map[string]any{"min_risk": "high"}, `unknown argument "min_risk"`},
		{map[string]any{"limit": 0}, `argument "limit" must be at least 1`},
	} {
		if got := assessCallError(t, cfg, tt.args); !strings.Contains(got, tt.want) {
			t.Errorf("%v: %q, want %q", tt.args, got, tt.want)
		}
	}

	if _, err := observe.New(nil, observe.Options{Policy: assess.Policy{MinSCCVersion: "latest"}}); err == nil || !strings.Contains(err.Error(), "--min-scc-version") {
		t.Errorf("bad configured minimum: %v", err)
	}
	_, configured := assessEnv(t, nil, assess.Policy{MinSCCVersion: "2.18.2"})
	out := assessCall(t, configured, map[string]any{"limit": 500})
	var outdated []string
	for _, f := range out.Findings {
		if f.ID == "version.outdated" {
			outdated = append(outdated, f.ClientID)
		}
	}
	slices.Sort(outdated)
	if want := []string{"123456789", "517203948", "630174285", "856302417", "856302418", "961847203"}; !slices.Equal(outdated, want) ||
		out.Policy.SCCVersions[0].Source != "configured" {
		t.Errorf("min 2.18.2: outdated %v, policy %+v", outdated, out.Policy)
	}
}

func TestAssessConnectorsSourceError(t *testing.T) {
	t.Parallel()
	sim, cfg := assessEnv(t, nil)
	cfg.CallTimeout = 5 * time.Second
	sim.InjectFault(simulator.Fault{Target: simulator.TargetAPI, Status: 403})
	if got := assessCallError(t, cfg, nil); !strings.Contains(got, "denied access") {
		t.Errorf("403: %q", got)
	}
}

// TestAssessOutputRoundTrip checks the JSON of an assessment decodes into the same type, as the
// check command and resources rely on.
func TestAssessOutputRoundTrip(t *testing.T) {
	t.Parallel()
	_, cfg := assessEnv(t, nil)
	res := call(t, assessConnectors(cfg), map[string]any{"min_severity": "medium"})
	var out schemas.AssessConnectorsOutput
	dec := json.NewDecoder(strings.NewReader(res.Content[0].(mcp.TextContent).Text))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&out); err != nil {
		t.Fatal(err)
	}
	if out.Total == 0 || out.Findings[0].Severity != "critical" {
		t.Errorf("decoded %+v", out)
	}
}
