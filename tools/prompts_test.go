package tools

import (
	"slices"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/simulator"
)

// assessClient serves NewServer(cfg) to an initialised in-process client.
func assessClient(t *testing.T, cfg Config) *client.Client {
	t.Helper()
	c, err := client.NewInProcessClient(NewServer(cfg))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	init := mcp.InitializeRequest{}
	init.Params.ProtocolVersion = mcp.LATEST_PROTOCOL_VERSION
	init.Params.ClientInfo = mcp.Implementation{Name: "assess-test", Version: "0"}
	res, err := c.Initialize(t.Context(), init)
	if err != nil {
		t.Fatal(err)
	}
	caps := res.Capabilities
	if caps.Prompts == nil || caps.Resources == nil || caps.Completions == nil {
		t.Fatalf("capabilities lack prompts, resources or completions: %+v", caps)
	}
	return c
}

func assessGetPrompt(t *testing.T, c *client.Client, name string, args map[string]string) (*mcp.GetPromptResult, error) {
	t.Helper()
	req := mcp.GetPromptRequest{}
	req.Params.Name = name
	req.Params.Arguments = args
	return c.GetPrompt(t.Context(), req)
}

func assessPromptText(t *testing.T, res *mcp.GetPromptResult) string {
	t.Helper()
	if len(res.Messages) != 1 || res.Messages[0].Role != mcp.RoleUser {
		t.Fatalf("messages %+v, want one user message", res.Messages)
	}
	tc, ok := res.Messages[0].Content.(mcp.TextContent)
	if !ok {
		t.Fatalf("content %T, want text", res.Messages[0].Content)
	}
	return tc.Text
}

func TestPromptsList(t *testing.T) {
	t.Parallel()
	_, cfg := assessEnv(t, nil)
	c := assessClient(t, cfg)
	res, err := c.ListPrompts(t.Context(), mcp.ListPromptsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	args := map[string][]string{}
	for _, p := range res.Prompts {
		if p.Title == "" || p.Description == "" {
			t.Errorf("prompt %s lacks a title or description", p.Name)
		}
		for _, a := range p.Arguments {
			if a.Required || a.Description == "" {
				t.Errorf("prompt %s argument %s: required %v, description %q", p.Name, a.Name, a.Required, a.Description)
			}
			args[p.Name] = append(args[p.Name], a.Name)
		}
	}
	want := map[string][]string{promptTriage: {"client_id", "min_severity"}, promptReport: {"client_id"}}
	if len(args) != len(want) || !slices.Equal(args[promptTriage], want[promptTriage]) || !slices.Equal(args[promptReport], want[promptReport]) {
		t.Errorf("prompts and arguments %v, want %v", args, want)
	}
}

func TestPromptTriage(t *testing.T) {
	t.Parallel()
	_, cfg := assessEnv(t, nil)
	c := assessClient(t, cfg)

	res, err := assessGetPrompt(t, c, promptTriage, nil)
	if err != nil {
		t.Fatal(err)
	}
	all := assessPromptText(t, res)
	for _, want := range []string{
		"all Cloud Connectors", "Call assess_connectors with {}.", "Group by root cause", "Order the remediation",
		"suggested owner", "how to verify", "read-only",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("triage prompt lacks %q:\n%s", want, all)
		}
	}

	res, err = assessGetPrompt(t, c, promptTriage, map[string]string{"client_id": "517203948", "min_severity": "High"})
	if err != nil {
		t.Fatal(err)
	}
	if got := assessPromptText(t, res); !strings.Contains(got, `Call assess_connectors with {"client_id": "517203948", "min_severity": "high"}.`) ||
		!strings.Contains(got, `the Cloud Connector "517203948"`) {
		t.Errorf("triage prompt with arguments:\n%s", got)
	}
	// Empty values are absent, as some clients send every declared argument.
	res, err = assessGetPrompt(t, c, promptTriage, map[string]string{"client_id": "", "min_severity": " "})
	if err != nil || assessPromptText(t, res) != all {
		t.Errorf("empty arguments changed the prompt: %v", err)
	}

	for _, tt := range []struct {
		args map[string]string
		want string
	}{
		{map[string]string{"min_severity": "severe"}, `min_severity must be one of critical, high, medium, low, info, got "severe"`},
		{map[string]string{"clientid": "1"}, `unknown argument "clientid"; valid arguments: client_id, min_severity`},
		{map[string]string{"client_id": "a\nb"}, "client_id must be a Connector ID"},
	} {
		if _, err := assessGetPrompt(t, c, promptTriage, tt.args); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: %v, want an error with %q", tt.args, err, tt.want)
		}
	}
}

func TestPromptHealthReport(t *testing.T) {
	t.Parallel()
	_, cfg := assessEnv(t, nil)
	c := assessClient(t, cfg)
	res, err := assessGetPrompt(t, c, promptReport, map[string]string{"client_id": "856302417"})
	if err != nil {
		t.Fatal(err)
	}
	got := assessPromptText(t, res)
	for _, want := range []string{
		`list_cloud_connectors with {"client_id": "856302417"}`, `assess_connectors with {"client_id": "856302417"}`,
		"Data as of", "worst_severity", "High availability", "Next steps", "Never include credentials",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("report prompt lacks %q:\n%s", want, got)
		}
	}
	if _, err := assessGetPrompt(t, c, promptReport, map[string]string{"min_severity": "high"}); err == nil {
		t.Error("the report prompt accepted min_severity, which it does not declare")
	}
}

func assessComplete(t *testing.T, c *client.Client, ref any, arg, value string) *mcp.CompleteResult {
	t.Helper()
	req := mcp.CompleteRequest{}
	req.Params.Ref = ref
	req.Params.Argument = mcp.CompleteArgument{Name: arg, Value: value}
	res, err := c.Complete(t.Context(), req)
	if err != nil {
		t.Fatalf("complete %s=%q: %v", arg, value, err)
	}
	return res
}

func TestPromptCompletion(t *testing.T) {
	t.Parallel()
	_, cfg := assessEnv(t, nil)
	c := assessClient(t, cfg)
	triage := mcp.PromptReference{Type: "ref/prompt", Name: promptTriage}
	report := mcp.PromptReference{Type: "ref/prompt", Name: promptReport}
	template := mcp.ResourceReference{Type: "ref/resource", URI: connectorTemplateURI}

	tests := []struct {
		ref   any
		arg   string
		value string
		want  []string
	}{
		{triage, "client_id", "745", []string{"745019362", "745019363"}},
		{report, "client_id", "8563024", []string{"856302417", "856302418"}},
		{template, "client_id", "12", []string{"123456789"}},
		{triage, "client_id", "000", []string{}},
		{triage, "min_severity", "", []string{"critical", "high", "medium", "low", "info"}},
		{triage, "min_severity", "H", []string{"high"}},
		{report, "min_severity", "h", []string{}},
		{triage, "other", "", []string{}},
		{mcp.PromptReference{Type: "ref/prompt", Name: "nope"}, "client_id", "", []string{}},
		{mcp.ResourceReference{Type: "ref/resource", URI: connectorsURI}, "client_id", "", []string{}},
	}
	for _, tt := range tests {
		res := assessComplete(t, c, tt.ref, tt.arg, tt.value)
		if !slices.Equal(res.Completion.Values, tt.want) || res.Completion.Total != len(tt.want) || res.Completion.HasMore {
			t.Errorf("%v %s=%q: %+v, want %v", tt.ref, tt.arg, tt.value, res.Completion, tt.want)
		}
	}
	all := assessComplete(t, c, triage, "client_id", "")
	if len(all.Completion.Values) != 10 || !slices.IsSorted(all.Completion.Values) {
		t.Errorf("all client IDs: %v", all.Completion.Values)
	}

	// When the landscape cannot be read, completion offers nothing rather than failing.
	broken, brokenCfg := assessEnv(t, nil)
	broken.InjectFault(simulator.Fault{Status: 403})
	failing := assessClient(t, brokenCfg)
	if res := assessComplete(t, failing, triage, "client_id", ""); len(res.Completion.Values) != 0 {
		t.Errorf("completion without a landscape: %+v", res.Completion)
	}
}

func TestCompleteBound(t *testing.T) {
	t.Parallel()
	var many []string
	for i := range 150 {
		many = append(many, strings.Repeat("x", i%3+1)+string(rune('a'+i%26)))
	}
	got := complete(many, "")
	if len(got.Values) != maxCompletions || got.Total != 150 || !got.HasMore {
		t.Errorf("150 candidates: %d values, total %d, hasMore %v", len(got.Values), got.Total, got.HasMore)
	}
}
