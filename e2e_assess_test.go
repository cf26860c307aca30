package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/owenrumney/go-sarif/v3/pkg/report/v210/sarif"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/report"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/schemas"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/simulator"
)

// End-to-end tests of the health assessment: the real binary, a simulator binding in
// VCAP_SERVICES, and the official MCP Go SDK as the client; then the check command, in process
// and as the binary (its exit codes are what cron and CI see).

const assessSecret = "assess-e2e-canary-secret$4f_9=z"

// assessSim starts a simulator with a known secret serving landscape (nil: the sample).
func assessSim(t *testing.T, landscape []simulator.Agent) *simulator.Server {
	t.Helper()
	sim, err := simulator.New(simulator.Options{Landscape: landscape, ClientSecret: assessSecret})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	return sim
}

// assessCommand is the binary bin with args, its only binding the simulator's VCAP_SERVICES.
func assessCommand(t *testing.T, bin string, sim *simulator.Server, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(bin, args...)
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch name {
		case "VCAP_SERVICES", "SERVICE_BINDING_ROOT", "CONNECTIVITY_BINDING":
			continue
		}
		cmd.Env = append(cmd.Env, kv)
	}
	cmd.Env = append(cmd.Env, "VCAP_SERVICES="+sim.VCAPServices(simulator.SecretCredentials))
	return cmd
}

func TestAssessEndToEnd(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("runs the binary")
	}
	sim := assessSim(t, nil)
	cmd := assessCommand(t, stdioBin, sim, "--min-scc-version", "2.18.0")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	client := sdk.NewClient(&sdk.Implementation{Name: "assess-e2e", Version: "0"}, nil)
	session, err := client.Connect(ctx, &sdk.CommandTransport{Command: cmd}, nil)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	closed := false
	defer func() {
		if !closed {
			session.Close()
		}
	}()
	caps := session.InitializeResult().Capabilities
	if caps.Tools == nil || caps.Prompts == nil || caps.Resources == nil || caps.Completions == nil {
		t.Fatalf("capabilities %+v lack tools, prompts, resources or completions", caps)
	}

	// The tool.
	res, err := session.CallTool(ctx, &sdk.CallToolParams{Name: "assess_connectors", Arguments: map[string]any{"min_severity": "high"}})
	if err != nil || res.IsError {
		t.Fatalf("assess_connectors: %v %+v", err, res)
	}
	var out schemas.AssessConnectorsOutput
	assessRedecode(t, res.StructuredContent, &out)
	if out.WorstSeverity != "critical" || out.Counts.Critical != 1 || out.Counts.Medium != 0 || out.Total != len(out.Findings) ||
		len(out.Policy.SCCVersions) != 1 || out.Policy.SCCVersions[0].MinVersion != "2.18.0" || out.Policy.SCCVersions[0].Source != "configured" {
		t.Errorf("assess_connectors result: %+v", out)
	}
	if out.Findings[0].ID != "security.payload_trace" || out.Findings[0].ClientID != "517203948" || out.Rules[out.Findings[0].ID].Remediation == "" {
		t.Errorf("worst finding %+v", out.Findings[0])
	}
	if text, ok := res.Content[0].(*sdk.TextContent); !ok || !json.Valid([]byte(text.Text)) {
		t.Errorf("text content %#v is not the JSON result", res.Content[0])
	}

	// A prompt, with client_id completion.
	comp, err := session.Complete(ctx, &sdk.CompleteParams{
		Ref:      &sdk.CompleteReference{Type: "ref/prompt", Name: "triage_security_findings"},
		Argument: sdk.CompleteParamsArgument{Name: "client_id", Value: "7450"},
	})
	if err != nil || !slices.Equal(comp.Completion.Values, []string{"745019362", "745019363"}) {
		t.Errorf("client_id completion: %v %+v", err, comp)
	}
	prompt, err := session.GetPrompt(ctx, &sdk.GetPromptParams{Name: "triage_security_findings", Arguments: map[string]string{"client_id": "745019362"}})
	if err != nil {
		t.Fatalf("prompts/get: %v", err)
	}
	if len(prompt.Messages) != 1 || prompt.Messages[0].Role != "user" {
		t.Fatalf("prompt messages %+v", prompt.Messages)
	}
	if text, ok := prompt.Messages[0].Content.(*sdk.TextContent); !ok || !strings.Contains(text.Text, `Call assess_connectors with {"client_id": "745019362"}`) {
		t.Errorf("prompt text %#v", prompt.Messages[0].Content)
	}
	if _, err := session.GetPrompt(ctx, &sdk.GetPromptParams{Name: "triage_security_findings", Arguments: map[string]string{"min_severity": "severe"}}); err == nil {
		t.Error("a bad min_severity was accepted")
	}

	// A resource and a template, with a proper error for an unknown connector.
	read, err := session.ReadResource(ctx, &sdk.ReadResourceParams{URI: "connectivity://findings"})
	if err != nil || len(read.Contents) != 1 || read.Contents[0].MIMEType != "application/json" {
		t.Fatalf("resources/read findings: %v %+v", err, read)
	}
	var findings schemas.AssessConnectorsOutput
	if err := schemas.Validate(schemas.Reflect[schemas.AssessConnectorsOutput](), json.RawMessage(read.Contents[0].Text)); err != nil {
		t.Errorf("findings resource does not match the tool's schema: %v", err)
	}
	if err := json.Unmarshal([]byte(read.Contents[0].Text), &findings); err != nil || findings.Total <= out.Total || findings.FetchedAt != out.FetchedAt {
		t.Errorf("findings resource: %v total %d (tool with min_severity high: %d)", err, findings.Total, out.Total)
	}
	read, err = session.ReadResource(ctx, &sdk.ReadResourceParams{URI: "connectivity://connectors/856302418"})
	if err != nil || !strings.Contains(read.Contents[0].Text, `"agent_type":"shadow"`) {
		t.Errorf("resources/read one connector: %v %+v", err, read)
	}
	if _, err := session.ReadResource(ctx, &sdk.ReadResourceParams{URI: "connectivity://connectors/999"}); err == nil ||
		!strings.Contains(err.Error(), `no Cloud Connector with client_id "999"`) {
		t.Errorf("unknown connector: %v", err)
	}

	if got := sim.Counts().APIRequests; got != 1 {
		t.Errorf("the session read the Connectivity API %d times, want once (cached)", got)
	}
	closed = true
	if err := session.Close(); err != nil {
		t.Logf("close: %v", err)
	}
	if strings.Contains(stderr.String(), assessSecret) {
		t.Error("the client secret reached stderr")
	}
}

// assessRedecode turns a decoded JSON value back into a typed one.
func assessRedecode(t *testing.T, v any, into any) {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, into); err != nil {
		t.Fatal(err)
	}
}

// assessRun runs the command line in process.
func assessRun(args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = run(args, strings.NewReader(""), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestAssessCheckCommand(t *testing.T) {
	t.Parallel()
	// The demo landscape has a critical finding, so every threshold fails.
	code, stdout, stderr := assessRun("--demo", "--log-level", "error", "check")
	if code != 1 || !strings.Contains(stdout, "critical (new)  security.payload_trace") ||
		!strings.HasSuffix(stdout, "FAIL: 8 finding(s) at or above high (--fail-on high)\n") {
		t.Errorf("check --demo: exit %d\n%s\n%s", code, stdout, stderr)
	}

	code, stdout, stderr = assessRun("--demo", "--log-level", "error", "check", "--format", "json", "--fail-on", "critical")
	var out schemas.AssessConnectorsOutput
	dec := json.NewDecoder(strings.NewReader(stdout))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&out); err != nil || dec.More() {
		t.Errorf("--format json: stdout is not one assess_connectors result: %v\n%s", err, stdout)
	}
	if code != 1 || out.Total != 48 || out.Truncated || !strings.Contains(stderr, "FAIL: 1 finding(s) at or above critical") {
		t.Errorf("check --format json --fail-on critical: exit %d, total %d\n%s", code, out.Total, stderr)
	}

	// A clean landscape passes at every threshold.
	sim := assessSim(t, simulator.CleanLandscape())
	key := filepath.Join(t.TempDir(), "key.json")
	if err := os.WriteFile(key, sim.ServiceKeyJSON(simulator.SecretCredentials), 0o600); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr = assessRun("--binding", key, "--log-level", "error", "check", "--fail-on", "info")
	if code != 0 || !strings.Contains(stdout, "No findings.") || !strings.HasSuffix(stdout, "PASS: no finding at or above info (--fail-on info)\n") {
		t.Errorf("clean landscape: exit %d\n%s\n%s", code, stdout, stderr)
	}

	// The landscape with findings only below the threshold passes.
	low := simulator.CleanLandscape()
	low[0].Attributes["security_status"] = strings.Replace(low[0].Attributes["security_status"], `"ciphers":"ok"`, `"ciphers":"low_risk"`, 1)
	lowSim := assessSim(t, low)
	lowKey := filepath.Join(t.TempDir(), "low.json")
	if err := os.WriteFile(lowKey, lowSim.ServiceKeyJSON(simulator.SecretCredentials), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, stdout, _ := assessRun("--binding", lowKey, "--log-level", "error", "check", "--fail-on", "MEDIUM"); code != 0 || !strings.Contains(stdout, "security.ciphers") {
		t.Errorf("low finding with --fail-on medium: exit %d\n%s", code, stdout)
	}
	if code, _, _ := assessRun("--binding", lowKey, "--log-level", "error", "check", "--fail-on", "low"); code != 1 {
		t.Errorf("low finding with --fail-on low: exit %d", code)
	}

	// Usage errors exit 2 before anything is read; an assessment that cannot run exits 3.
	for _, args := range [][]string{
		{"--demo", "check", "--fail-on", "severe"},
		{"--demo", "check", "--format", "yaml"},
		{"--demo", "check", "now"},
		{"--demo", "check", "--min-scc-version", "latest"},
	} {
		if code, _, stderr := assessRun(args...); code != 2 || stderr == "" {
			t.Errorf("%v: exit %d, want 2 with a message; stderr %q", args, code, stderr)
		}
	}
	lowSim.InjectFault(simulator.Fault{Status: 403})
	if code, stdout, stderr := assessRun("--binding", lowKey, "--log-level", "error", "--timeout", "10s", "check"); code != 3 ||
		stdout != "" || !strings.Contains(stderr, "denied access") {
		t.Errorf("403 from the API: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if code, _, stderr := assessRun("--binding", filepath.Join(t.TempDir(), "missing.json"), "check"); code != 3 || stderr == "" {
		t.Errorf("missing binding: exit %d, stderr %q", code, stderr)
	}
}

func TestAssessCheckBinaryExitCodes(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("runs the binary")
	}
	bin := stdioBin
	for _, tt := range []struct {
		landscape []simulator.Agent
		args      []string
		want      int
	}{
		{nil, []string{"check"}, 1},
		{simulator.CleanLandscape(), []string{"check", "--fail-on", "info", "--format", "json"}, 0},
		{nil, []string{"check", "--format", "xml"}, 2},
	} {
		sim := assessSim(t, tt.landscape)
		cmd := assessCommand(t, bin, sim, append([]string{"--log-level", "error"}, tt.args...)...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		code := 0
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			code = exit.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if code != tt.want {
			t.Errorf("%v: exit %d, want %d\n%s\n%s", tt.args, code, tt.want, stdout.String(), stderr.String())
		}
		if strings.Contains(stdout.String()+stderr.String(), assessSecret) {
			t.Errorf("%v: the client secret reached the output", tt.args)
		}
	}
}

// TestCheckSARIF checks that check --format sarif writes a SARIF 2.1.0 log that validates against
// the SARIF schema, with accepted findings suppressed.
func TestCheckSARIF(t *testing.T) {
	t.Parallel()
	risks := filepath.Join(t.TempDir(), "accepted.yaml")
	expires := time.Now().AddDate(0, 6, 0).Format(time.DateOnly)
	if err := os.WriteFile(risks, []byte(`accepted:
  - rule: security.payload_trace
    client_id: "517203948"
    reason: SAP support ticket 123 needs the trace until the fix
    owner: basis-team@example.com
    expires: `+expires+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := assessRun("--demo", "--log-level", "error", "check", "--format", "sarif", "--fail-on", "critical", "--accepted-risks", risks)
	if code != 0 || !strings.Contains(stderr, "PASS: no finding at or above critical") {
		t.Errorf("the accepted critical finding still fails check: exit %d\n%s", code, stderr)
	}
	log, err := sarif.FromString(stdout)
	if err != nil {
		t.Fatalf("stdout is not SARIF: %v\n%s", err, stdout)
	}
	if err := log.Validate(); err != nil {
		t.Errorf("SARIF does not validate against the 2.1.0 schema: %v", err)
	}
	if log.Version != "2.1.0" || len(log.Runs) != 1 || len(log.Runs[0].Results) != 48 {
		t.Fatalf("SARIF log: version %s, %d runs", log.Version, len(log.Runs))
	}
	run := log.Runs[0]
	rules := map[string]bool{}
	for _, r := range run.Tool.Driver.Rules {
		if r.ShortDescription == nil || r.Help == nil || r.Help.Text == nil || *r.Help.Text == "" {
			t.Errorf("rule %s lacks a short description or help", *r.ID)
		}
		rules[*r.ID] = true
	}
	suppressed := 0
	for _, r := range run.Results {
		if !rules[*r.RuleID] || r.PartialFingerprints[report.FingerprintKey] == "" || len(r.Locations) != 1 ||
			len(r.Locations[0].LogicalLocations) != 1 || !strings.HasPrefix(*r.Locations[0].LogicalLocations[0].FullyQualifiedName, "acme-prod/") {
			t.Errorf("result %s: rule known %v, fingerprints %v, locations %+v", *r.RuleID, rules[*r.RuleID], r.PartialFingerprints, r.Locations)
		}
		want := report.Level(r.Properties.Properties["severity"].(string))
		if r.Level != want {
			t.Errorf("result %s: level %v, want %s", *r.RuleID, r.Level, want)
		}
		if len(r.Suppressions) > 0 {
			suppressed++
			s := r.Suppressions[0]
			if *r.RuleID != "security.payload_trace" || s.Kind == nil || *s.Kind != "external" || s.Status == nil || *s.Status != "accepted" ||
				s.Justification == nil || !strings.Contains(*s.Justification, "SAP support ticket 123") {
				t.Errorf("suppression %+v on %s", s, *r.RuleID)
			}
		}
	}
	if suppressed != 1 {
		t.Errorf("%d suppressed results, want 1", suppressed)
	}
}

// TestAcceptedRisksFileRefused checks that a bad accepted-risks file stops the program with a
// message naming the file, entry and problem: exit 2 for check, 1 for the server.
func TestAcceptedRisksFileRefused(t *testing.T) {
	t.Parallel()
	bad := filepath.Join(t.TempDir(), "risks.yaml")
	if err := os.WriteFile(bad, []byte("accepted:\n  - rule: ha.no_shadow\n    reason: lab\n    owner: me\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		code int
	}{
		{[]string{"--demo", "check", "--accepted-risks", bad}, 2},
		{[]string{"--demo", "call", "list_cloud_connectors", "--accepted-risks", bad}, 1},
		{[]string{"--demo", "--accepted-risks", filepath.Join(t.TempDir(), "missing.yaml")}, 1},
	} {
		code, stdout, stderr := assessRun(append([]string{"--log-level", "error"}, tc.args...)...)
		if code != tc.code || stdout != "" || !strings.Contains(stderr, "accepted risks") || !strings.Contains(stderr, "Fix the file") {
			t.Errorf("%v: exit %d (want %d)\nstdout %q\nstderr %s", tc.args, code, tc.code, stdout, stderr)
		}
	}
	if _, _, stderr := assessRun("--demo", "check", "--accepted-risks", bad); !strings.Contains(stderr, "entry 1 (line 2): missing required expires") {
		t.Errorf("message does not name the entry and problem: %s", stderr)
	}
}

// TestCheckFleet runs check over three subaccounts, named with --binding NAME=PATH: prod reads,
// dev has bad credentials and lab is unreachable. The two failures are high findings, so check
// fails (exit 1) with the data of prod; with only the two failing ones nothing can be assessed
// (exit 3).
func TestCheckFleet(t *testing.T) {
	t.Parallel()
	sim := assessSim(t, nil)
	dir := t.TempDir()
	tenants := map[string]*simulator.Tenant{}
	key := func(name string, mangle func(string) string) string {
		tenant, err := sim.AddTenant(simulator.TenantOptions{Name: name, Subdomain: "acme-" + name, Landscape: simulator.CleanLandscape()})
		if err != nil {
			t.Fatal(err)
		}
		tenants[name] = tenant
		data := mangle(string(tenant.ServiceKeyJSON(simulator.SecretCredentials)))
		path := filepath.Join(dir, name+"-key.json")
		if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		if name == "dev" {
			tenant.RotateSecret("") // the key in the file no longer works
		}
		return name + "=" + path
	}
	same := func(s string) string { return s }
	prod, dev := key("prod", same), key("dev", same)
	lab := key("lab", func(s string) string { return strings.ReplaceAll(s, sim.URL(), "http://127.0.0.1:1") })

	code, stdout, stderr := assessRun("--binding", prod, "--binding", dev, "--binding", lab, "--log-level", "error", "--timeout", "5s", "check")
	if code != 1 || !strings.Contains(stdout, "SUBACCOUNT") || !strings.HasSuffix(stdout, "FAIL: 2 finding(s) at or above high (--fail-on high)\n") {
		t.Errorf("check over prod, dev, lab: exit %d\n%s\n%s", code, stdout, stderr)
	}
	for _, want := range []string{"subaccount.unreachable  acme-dev", "subaccount.unreachable  acme-lab", "Cloud Connector assessment: 2 connectors"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("check output lacks %q:\n%s", want, stdout)
		}
	}
	// A subaccount that was not read never passes, whatever --fail-on says.
	code, stdout, stderr = assessRun("--binding", prod, "--binding", dev, "--log-level", "error", "--timeout", "5s", "check", "--fail-on", "critical")
	if code != 1 || !strings.HasSuffix(stdout, "FAIL: 1 subaccount(s) could not be read: acme-dev\n") {
		t.Errorf("check --fail-on critical over prod and dev: exit %d\n%s\n%s", code, stdout, stderr)
	}
	code, stdout, stderr = assessRun("--binding", dev, "--binding", lab, "--log-level", "error", "--timeout", "5s", "check")
	if code != 3 || !strings.Contains(stderr, "no subaccount could be read: subaccount acme-dev (binding dev): authentication with XSUAA failed") ||
		!strings.Contains(stderr, "subaccount acme-lab (binding lab): ") {
		t.Errorf("check over dev and lab: exit %d\n%s\n%s", code, stdout, stderr)
	}
	// The HTML report is the dashboard of the same read: each subaccount is read once, even
	// without a cache, for every format alike.
	for _, format := range []string{"json", "html"} {
		p, d := tenants["prod"].Counts(), tenants["dev"].Counts()
		code, _, stderr = assessRun("--binding", prod, "--binding", dev, "--log-level", "error", "--timeout", "5s", "--cache-ttl", "0", "--history", "off", "check", "--format", format)
		api, tokens := tenants["prod"].Counts().APIRequests-p.APIRequests, tenants["dev"].Counts().TokenRequests-d.TokenRequests
		if code != 1 || api != 1 || tokens != 1 {
			t.Errorf("check --format %s --cache-ttl 0 over prod and dev: exit %d, %d API requests to prod and %d token requests of dev, want one each\n%s", format, code, api, tokens, stderr)
		}
	}
	// One subaccount asked for by name.
	code, stdout, _ = assessRun("--binding", prod, "--binding", dev, "--log-level", "error", "call", "list_cloud_connectors", "--args", `{"subaccount":"prod"}`)
	if code != 0 || strings.Contains(stdout, `"partial"`) || !strings.Contains(stdout, `"subaccount":"acme-prod"`) {
		t.Errorf("call with subaccount prod: exit %d\n%s", code, stdout)
	}
}
