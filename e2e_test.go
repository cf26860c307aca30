package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/simulator"
)

// The end-to-end test builds the real binary and drives it as an MCP host would: over stdio,
// with the official Go SDK's client (not mcp-go, which the server is built on), configured
// only through the environment Cloud Foundry gives an app. The simulator runs in this test
// process and stands in for SAP.

// e2eExitWithin is how soon the server must exit once its stdin closes: a generous bound for
// "does not hang", not a measure of speed. The SDK sends SIGTERM after this long, so a Close
// that takes longer means the server did not exit on its own.
const e2eExitWithin = time.Minute

func TestE2E(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("runs the binary; skipped with -short")
	}
	bin := stdioBin
	t.Run("serve over stdio", func(t *testing.T) { t.Parallel(); e2eServe(t, bin) })
	t.Run("no binding", func(t *testing.T) { t.Parallel(); e2eNoBinding(t, bin) })
	t.Run("version and help", func(t *testing.T) { t.Parallel(); e2eVersionAndHelp(t, bin) })
}

// e2eTools are the tools the server must offer (it may offer more).
var e2eTools = []string{"list_cloud_connectors", "get_security_status", "find_exposed_system"}

func e2eServe(t *testing.T, bin string) {
	sim, err := simulator.New(simulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	secret := sim.Credentials(simulator.SecretCredentials)["clientsecret"].(string)

	cmd := exec.Command(bin, "--log-level", "debug")
	// Only what Cloud Foundry would give the app's binding; no VCAP_APPLICATION, no HOME.
	cmd.Env = []string{"VCAP_SERVICES=" + sim.VCAPServices(simulator.SecretCredentials), "XDG_STATE_HOME=" + t.TempDir()}
	var stderr bytes.Buffer // written by exec's copier; read only after the process is waited for
	cmd.Stderr = &stderr
	transport := &mcp.CommandTransport{Command: cmd, TerminateDuration: e2eExitWithin}

	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	client := mcp.NewClient(&mcp.Implementation{Name: "e2e-test", Version: "0"}, nil)
	session, err := client.Connect(ctx, transport, nil)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	closed := false
	defer func() {
		if !closed {
			session.Close()
		}
		if t.Failed() {
			t.Logf("server stderr:\n%s", stderr.String())
		}
	}()

	init := session.InitializeResult()
	if init.ServerInfo.Name != "btp-connectivity-mcp" || init.ServerInfo.Version == "" {
		t.Errorf("server info = %+v", init.ServerInfo)
	}
	if init.Capabilities.Tools == nil || !strings.Contains(init.Instructions, "list_cloud_connectors") {
		t.Errorf("capabilities %+v, instructions %q; want tools and instructions", init.Capabilities, init.Instructions)
	}

	// tools/list, every page.
	var tools []*mcp.Tool
	params := &mcp.ListToolsParams{}
	for {
		res, err := session.ListTools(ctx, params)
		if err != nil {
			t.Fatalf("tools/list: %v", err)
		}
		tools = append(tools, res.Tools...)
		if res.NextCursor == "" {
			break
		}
		params = &mcp.ListToolsParams{Cursor: res.NextCursor}
	}
	byName := map[string]*mcp.Tool{}
	for _, tool := range tools {
		byName[tool.Name] = tool
		e2eCheckDefinition(t, tool)
	}
	for _, name := range e2eTools {
		if byName[name] == nil {
			t.Errorf("tool %s is not listed", name)
		}
	}

	// Every listed tool answers without arguments, with a result that matches its output schema.
	for _, tool := range tools {
		e2eCall(ctx, t, session, tool, nil)
	}

	// Some answers the sample landscape fixes.
	if tool := byName["find_exposed_system"]; tool != nil {
		var out struct {
			Total   int `json:"total"`
			Systems []struct {
				ClientID  string `json:"client_id"`
				AgentType string `json:"agent_type"`
				Host      string `json:"host"`
			} `json:"systems"`
		}
		e2eDecode(t, e2eCall(ctx, t, session, tool, map[string]any{"query": "s4h.internal:443"}), &out)
		var got []string
		for _, s := range out.Systems {
			got = append(got, s.ClientID+" "+s.AgentType+" "+s.Host)
		}
		if want := []string{"284610375 master s4h.internal:443", "284610376 shadow s4h.internal:443"}; out.Total != 2 || !slices.Equal(got, want) {
			t.Errorf("find_exposed_system s4h.internal:443 = %d %v, want %v", out.Total, got, want)
		}
	}
	if tool := byName["list_cloud_connectors"]; tool != nil {
		var out struct {
			Totals struct {
				Connectors, Masters, Shadows int
			} `json:"totals"`
		}
		e2eDecode(t, e2eCall(ctx, t, session, tool, map[string]any{"refresh": true}), &out)
		if out.Totals.Connectors != 10 || out.Totals.Masters != 8 || out.Totals.Shadows != 2 {
			t.Errorf("list_cloud_connectors totals = %+v, want 10 connectors, 8 masters, 2 shadows", out.Totals)
		}
	}
	if tool := byName["get_security_status"]; tool != nil {
		var out struct {
			FindingsTotal int `json:"findings_total"`
			Findings      []struct {
				ClientID string `json:"client_id"`
				Check    string `json:"check"`
				Status   string `json:"status"`
			} `json:"findings"`
		}
		e2eDecode(t, e2eCall(ctx, t, session, tool, map[string]any{"min_risk": "high_risk"}), &out)
		if out.FindingsTotal != 2 || len(out.Findings) != 2 || out.Findings[0].Status != "high_risk" || out.Findings[0].ClientID != "517203948" {
			t.Errorf("get_security_status min_risk=high_risk = %+v, want the two high_risk findings of 517203948", out)
		}
	}

	// A bad argument is an isError result, not a JSON-RPC error.
	res, err := session.CallTool(ctx, &mcp.CallToolParams{Name: "find_exposed_system", Arguments: map[string]any{"protocol": "FTP"}})
	if err != nil {
		t.Fatalf("find_exposed_system protocol=FTP: JSON-RPC error %v, want an isError result", err)
	}
	if text := e2eText(t, res); !res.IsError || !strings.Contains(text, `"HTTP", "HTTPS", "RFC", "RFCS", "LDAP", "LDAPS", "TCP", "TCPS"`) {
		t.Errorf("find_exposed_system protocol=FTP = isError %v %q, want an error listing the protocols", res.IsError, text)
	}

	// Closing the session closes the server's stdin: it must exit 0 on its own, promptly.
	start := time.Now()
	err = session.Close()
	closed = true
	elapsed := time.Since(start)
	if err != nil {
		t.Errorf("close: %v", err)
	}
	if cmd.ProcessState == nil || !cmd.ProcessState.Exited() || cmd.ProcessState.ExitCode() != 0 {
		t.Errorf("server process state after close = %v, want exit status 0", cmd.ProcessState)
	}
	if elapsed >= e2eExitWithin {
		t.Errorf("server took %s to exit after its stdin closed, want under %s", elapsed, e2eExitWithin)
	}
	t.Logf("server exited %s after its stdin closed", elapsed.Round(time.Millisecond))

	// Logs went to stderr (stdout carried JSON-RPC only, or the SDK would have failed), and
	// no secret reached them.
	logs := stderr.String()
	for _, want := range []string{"serving MCP on stdio", "using binding", "level=DEBUG"} {
		if !strings.Contains(logs, want) {
			t.Errorf("stderr lacks %q:\n%s", want, logs)
		}
	}
	tokens := sim.IssuedTokens()
	if len(tokens) == 0 {
		t.Errorf("the simulator issued no token")
	}
	for _, s := range append(tokens, secret) {
		if strings.Contains(logs, s) {
			t.Errorf("stderr shows a secret or token")
		}
	}
}

// e2eCheckDefinition checks a listed tool's hints and schemas.
func e2eCheckDefinition(t *testing.T, tool *mcp.Tool) {
	t.Helper()
	a := tool.Annotations
	switch {
	case a == nil:
		t.Errorf("%s: no annotations", tool.Name)
	case !a.ReadOnlyHint || a.DestructiveHint == nil || *a.DestructiveHint || !a.IdempotentHint || a.OpenWorldHint == nil || !*a.OpenWorldHint:
		t.Errorf("%s: annotations %+v, want readOnlyHint true, destructiveHint false, idempotentHint true, openWorldHint true", tool.Name, a)
	}
	if tool.Title == "" || tool.Description == "" {
		t.Errorf("%s: title %q, description %q", tool.Name, tool.Title, tool.Description)
	}
	for kind, schema := range map[string]any{"input": tool.InputSchema, "output": tool.OutputSchema} {
		if _, err := e2eSchema(schema); err != nil {
			t.Errorf("%s: %s schema: %v", tool.Name, kind, err)
		}
	}
}

// e2eSchema compiles a schema as listed by tools/list.
func e2eSchema(schema any) (*jsonschema.Resolved, error) {
	if schema == nil {
		return nil, errors.New("missing")
	}
	data, err := json.Marshal(schema)
	if err != nil {
		return nil, err
	}
	var s jsonschema.Schema
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, err
	}
	if s.Type != "object" {
		return nil, errors.New(`type is not "object"`)
	}
	return s.Resolve(nil)
}

// e2eCall calls tool, requires success, and checks the structured content against the tool's
// output schema and the text content. It returns the structured content as JSON.
func e2eCall(ctx context.Context, t *testing.T, session *mcp.ClientSession, tool *mcp.Tool, args map[string]any) []byte {
	t.Helper()
	res, err := session.CallTool(ctx, &mcp.CallToolParams{Name: tool.Name, Arguments: args})
	if err != nil {
		t.Fatalf("%s(%v): %v", tool.Name, args, err)
	}
	text := e2eText(t, res)
	if res.IsError {
		t.Fatalf("%s(%v): isError %s", tool.Name, args, text)
	}
	structured, err := json.Marshal(res.StructuredContent)
	if err != nil || res.StructuredContent == nil {
		t.Fatalf("%s(%v): structured content %v (%v)", tool.Name, args, res.StructuredContent, err)
	}
	schema, err := e2eSchema(tool.OutputSchema)
	if err != nil {
		t.Fatalf("%s: output schema: %v", tool.Name, err)
	}
	var instance, fromText any
	if err := json.Unmarshal(structured, &instance); err != nil {
		t.Fatal(err)
	}
	if err := schema.Validate(instance); err != nil {
		t.Errorf("%s(%v): structured content does not match the listed output schema: %v", tool.Name, args, err)
	}
	if err := json.Unmarshal([]byte(text), &fromText); err != nil {
		t.Errorf("%s(%v): text content is not JSON: %v", tool.Name, args, err)
	}
	if a, b := e2eCanonical(t, instance), e2eCanonical(t, fromText); a != b {
		t.Errorf("%s(%v): text content differs from structured content", tool.Name, args)
	}
	return structured
}

func e2eCanonical(t *testing.T, v any) string {
	t.Helper()
	data, err := json.Marshal(v) // maps marshal with sorted keys
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// e2eText returns the text of a result's only content block.
func e2eText(t *testing.T, res *mcp.CallToolResult) string {
	t.Helper()
	if len(res.Content) != 1 {
		t.Fatalf("result has %d content blocks, want 1", len(res.Content))
	}
	tc, ok := res.Content[0].(*mcp.TextContent)
	if !ok {
		t.Fatalf("content is %T, want text", res.Content[0])
	}
	return tc.Text
}

func e2eDecode(t *testing.T, data []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("decode %s: %v", data, err)
	}
}

// e2eRun runs the binary with args and an empty environment, and returns its exit code,
// stdout and stderr. It fails the test if the binary does not exit within a minute.
func e2eRun(t *testing.T, bin string, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = []string{}
	cmd.Stdin = strings.NewReader("") // a server would see EOF, not the test's stdin
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("%s %v did not exit: %v", bin, args, ctx.Err())
	}
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		t.Fatalf("%s %v: %v", bin, args, err)
	}
	return cmd.ProcessState.ExitCode(), stdout.String(), stderr.String()
}

func e2eNoBinding(t *testing.T, bin string) {
	code, stdout, stderr := e2eRun(t, bin) // fails the test unless the server gives up within a minute
	if code == 0 {
		t.Errorf("exit code 0 without a binding, want non-zero")
	}
	if stdout != "" {
		t.Errorf("stdout = %q, want nothing (it is the JSON-RPC channel)", stdout)
	}
	for _, want := range []string{"--binding", "VCAP_SERVICES", "SERVICE_BINDING_ROOT"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr does not name %s:\n%s", want, stderr)
		}
	}
}

func e2eVersionAndHelp(t *testing.T, bin string) {
	code, stdout, stderr := e2eRun(t, bin, "--version")
	if code != 0 || !strings.HasPrefix(stdout, "btp-connectivity-mcp ") {
		t.Errorf("--version: exit %d, stdout %q, stderr %q; want 0 and the version", code, stdout, stderr)
	}
	code, stdout, stderr = e2eRun(t, bin, "--help")
	help := stdout + stderr
	if code != 0 || !strings.Contains(help, "Usage") || !strings.Contains(help, "-binding") {
		t.Errorf("--help: exit %d, output %q; want 0 and the usage", code, help)
	}
	for _, name := range e2eTools {
		if !strings.Contains(help, name) {
			t.Errorf("--help does not name tool %s", name)
		}
	}
}
