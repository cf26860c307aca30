package tools

import (
	"bytes"
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/assess"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/binding"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/connectivity"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/history"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/observe"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/sccadmin"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/schemas"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/simulator"
)

// Shared setup of the tool tests: the real server (NewServer) behind mcp-go's in-process
// client, reading a simulator on loopback through the real connectivity client and landscape.

// Timeouts of the tests' tool calls. Failure cases use a short one so retries end soon; the
// others a generous one, since up to five engineers run tests on two cores at once.
const (
	shortCallTimeout = 2 * time.Second
	longCallTimeout  = 30 * time.Second
)

// simEnvOptions configure newSimEnv.
type simEnvOptions struct {
	Landscape   []simulator.Agent // nil: the sample landscape
	CacheTTL    time.Duration     // 0: one hour, so that only refresh reads again
	CallTimeout time.Duration     // 0: longCallTimeout
	Policy      assess.Policy
	// SCC, when not nil, gives the deep-health reader of the subaccount with that ID (its
	// connectors are registered as the pipeline's second source).
	SCC func(t *testing.T, subaccountID string) *sccadmin.Reader
}

// simEnv is a running server with a connected, initialised in-process client.
type simEnv struct {
	sim    *simulator.Server
	cfg    Config
	client *client.Client
	tools  map[string]server.ServerTool // as registered, for their output schemas
}

func newSimEnv(t *testing.T, opts simEnvOptions) *simEnv {
	t.Helper()
	return newSimEnvWith(t, opts, nil)
}

// newSimEnvWith is newSimEnv with a change to the tools' Config before the server starts.
func newSimEnvWith(t *testing.T, opts simEnvOptions, change func(*Config)) *simEnv {
	t.Helper()
	sim, err := simulator.New(simulator.Options{Landscape: opts.Landscape})
	if err != nil {
		t.Fatalf("simulator: %v", err)
	}
	t.Cleanup(sim.Close)
	parsed := binding.Parse(sim.ServiceKeyJSON(simulator.SecretCredentials), "tools test")
	bindings, err := parsed.Usable, parsed.Err()
	if err != nil || len(bindings) != 1 {
		t.Fatalf("binding.Parse: %v (%d bindings)", err, len(bindings))
	}
	c, err := connectivity.NewClient(bindings[0], connectivity.Options{})
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	ttl := opts.CacheTTL
	if ttl == 0 {
		ttl = time.Hour
	}
	timeout := opts.CallTimeout
	if timeout == 0 {
		timeout = longCallTimeout
	}
	env := &simEnv{
		sim:   sim,
		cfg:   Config{Version: "1.2.3-test", CallTimeout: timeout, Context: t.Context()},
		tools: map[string]server.ServerTool{},
	}
	if opts.SCC != nil {
		env.cfg.SCC = opts.SCC(t, bindings[0].SubaccountID)
		bound := observe.Bound{Client: c}
		if src := observe.NewDeepHealthSource(env.cfg.SCC, bindings[0]); src != nil {
			bound.Sources = []observe.Source{src}
		}
		p, err := observe.New([]observe.Bound{bound}, observe.Options{CacheTTL: ttl, Policy: opts.Policy})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(p.Close)
		env.cfg.Observations = p
	} else {
		env.cfg.Observations = observations(t, []*connectivity.Client{c}, nil, observe.Options{CacheTTL: ttl, Policy: opts.Policy})
	}
	env.cfg.History = memoryHistory(t, env.cfg.Observations)
	if change != nil {
		change(&env.cfg)
	}
	for _, tool := range All(env.cfg) {
		env.tools[tool.Tool.Name] = tool
	}
	env.client, _ = startInProcess(t, NewServer(env.cfg))
	return env
}

// startInProcess connects an mcp-go client to srv and initialises the session.
func startInProcess(t *testing.T, srv *server.MCPServer) (*client.Client, *mcp.InitializeResult) {
	t.Helper()
	return startInProcessAt(t, srv, mcp.LATEST_PROTOCOL_VERSION)
}

// startInProcessAt is startInProcess speaking the given protocol version.
func startInProcessAt(t *testing.T, srv *server.MCPServer, version string) (*client.Client, *mcp.InitializeResult) {
	t.Helper()
	c, err := client.NewInProcessClient(srv)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	ctx := t.Context()
	if err := c.Start(ctx); err != nil {
		t.Fatalf("Start: %v", err)
	}
	init := mcp.InitializeRequest{}
	init.Params.ProtocolVersion = version
	init.Params.ClientInfo = mcp.Implementation{Name: "tools-test", Version: "0"}
	res, err := c.Initialize(ctx, init)
	if err != nil {
		t.Fatalf("Initialize: %v", err)
	}
	return c, res
}

// callTool calls the tool through the client. Every answer must be a result, never a JSON-RPC
// error, with exactly one text block; a successful one must also carry structured content
// that matches the tool's output schema and is the same JSON as the text.
func (e *simEnv) callTool(t *testing.T, name string, args any) *mcp.CallToolResult {
	t.Helper()
	res, err := e.send(t.Context(), name, args)
	return e.checkAnswer(t, name, args, res, err)
}

// send calls the tool through the client; safe to use from any goroutine.
func (e *simEnv) send(ctx context.Context, name string, args any) (*mcp.CallToolResult, error) {
	req := mcp.CallToolRequest{}
	req.Params.Name = name
	req.Params.Arguments = args
	return e.client.CallTool(ctx, req)
}

// checkAnswer checks an answer of send as callTool does.
func (e *simEnv) checkAnswer(t *testing.T, name string, args any, res *mcp.CallToolResult, err error) *mcp.CallToolResult {
	t.Helper()
	if err != nil {
		t.Fatalf("%s(%v) returned a JSON-RPC error %v; want every failure inside the result", name, args, err)
	}
	if res == nil || len(res.Content) != 1 {
		t.Fatalf("%s(%v) = %#v, want one content block", name, args, res)
	}
	if res.IsError {
		if res.StructuredContent != nil {
			t.Errorf("%s(%v): error result has structured content %v", name, args, res.StructuredContent)
		}
		return res
	}
	checkStructured(t, e.tools[name], res)
	return res
}

// checkStructured checks a successful result against its tool's output schema and its text.
func checkStructured(t *testing.T, tool server.ServerTool, res *mcp.CallToolResult) {
	t.Helper()
	if res.StructuredContent == nil {
		t.Fatalf("%s: successful result without structured content", tool.Tool.Name)
	}
	structured, err := json.Marshal(res.StructuredContent)
	if err != nil {
		t.Fatal(err)
	}
	if err := schemas.Validate(tool.Tool.RawOutputSchema, json.RawMessage(structured)); err != nil {
		t.Errorf("%s: structured content does not match the output schema: %v\n%s", tool.Tool.Name, err, structured)
	}
	var fromText, fromStructured any
	if err := json.Unmarshal([]byte(resultText(t, res)), &fromText); err != nil {
		t.Fatalf("%s: text content is not JSON: %v", tool.Tool.Name, err)
	}
	if err := json.Unmarshal(structured, &fromStructured); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(fromText, fromStructured) {
		t.Errorf("%s: text content %s differs from structured content %s", tool.Tool.Name, resultText(t, res), structured)
	}
}

// resultText returns the text of a result's only content block.
func resultText(t *testing.T, res *mcp.CallToolResult) string {
	t.Helper()
	tc, ok := mcp.AsTextContent(res.Content[0])
	if !ok {
		t.Fatalf("content = %#v, want text", res.Content[0])
	}
	return tc.Text
}

// callOK calls the tool, requires success and decodes the structured content into Out,
// refusing fields Out does not declare.
func callOK[Out any](t *testing.T, e *simEnv, name string, args any) Out {
	t.Helper()
	res := e.callTool(t, name, args)
	if res.IsError {
		t.Fatalf("%s(%v) failed: %s", name, args, resultText(t, res))
	}
	data, err := json.Marshal(res.StructuredContent)
	if err != nil {
		t.Fatal(err)
	}
	var out Out
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&out); err != nil {
		t.Fatalf("%s: structured content does not decode into %T: %v", name, out, err)
	}
	return out
}

// callErr calls the tool, requires an isError result and returns its text.
func callErr(t *testing.T, e *simEnv, name string, args any) string {
	t.Helper()
	res := e.callTool(t, name, args)
	if !res.IsError {
		t.Fatalf("%s(%v) succeeded with %s; want an isError result", name, args, resultText(t, res))
	}
	return resultText(t, res)
}

// checkFetchedAt checks that fetched_at is an RFC 3339 time close to now.
func checkFetchedAt(t *testing.T, fetchedAt string) time.Time {
	t.Helper()
	at, err := time.Parse(time.RFC3339, fetchedAt)
	if err != nil {
		t.Fatalf("fetched_at %q: %v", fetchedAt, err)
	}
	if d := time.Since(at); d < -time.Minute || d > 10*time.Minute {
		t.Errorf("fetched_at %s is not the time of the read (now %s)", fetchedAt, time.Now().UTC().Format(time.RFC3339))
	}
	return at
}

// sampleClientIDs are the connectors of the sample landscape, in the order the API lists them.
var sampleClientIDs = []string{
	"123456789", "284610375", "284610376", "517203948", "630174285",
	"745019362", "745019363", "856302417", "856302418", "961847203",
}

// unknownClientIDError is the answer every tool gives for client_id 999 on the sample landscape.
const unknownClientIDError = `no Cloud Connector with client_id "999" is connected; connected: ` +
	`123456789, 284610375, 284610376, 517203948, 630174285, 745019362, 745019363, 856302417, 856302418, 961847203 ` +
	`(call list_cloud_connectors to see them)`

// hugeLimit is a limit far above schemas.MaxLimit, which every tool must clamp, not refuse.
const hugeLimit = 1_000_000_000

// largeLandscape has more connectors and exposed systems than schemas.MaxLimit.
func largeLandscape() []simulator.Agent { return simulator.LargeLandscape(schemas.MaxLimit+100, 1) }

// argErrorCase is a call with bad arguments and the whole isError text it must get.
type argErrorCase struct {
	name string
	args any
	want string
}

// runArgErrors checks argument errors of one tool against the sample landscape.
func runArgErrors(t *testing.T, tool string, cases []argErrorCase) {
	t.Helper()
	env := newSimEnv(t, simEnvOptions{})
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := callErr(t, env, tool, tt.args); got != tt.want {
				t.Errorf("error = %q\nwant    %q", got, tt.want)
			}
		})
	}
}

// missingFrom returns the first of wants that s does not contain, or "".
func missingFrom(s string, wants ...string) string {
	for _, w := range wants {
		if !strings.Contains(s, w) {
			return w
		}
	}
	return ""
}

// observations is the pipeline over clients and broken bindings, closed with the test.
func observations(t testing.TB, clients []*connectivity.Client, broken []*binding.Error, opts observe.Options) *observe.Pipeline {
	t.Helper()
	var bound []observe.Bound
	for _, c := range clients {
		bound = append(bound, observe.Bound{Client: c})
	}
	for _, b := range broken {
		bound = append(bound, observe.Bound{Broken: b})
	}
	p, err := observe.New(bound, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

// memoryHistory records p's observations in an in-memory SQLite store, open when it returns and
// closed with the test.
func memoryHistory(t testing.TB, p *observe.Pipeline) *observe.Recorder {
	t.Helper()
	store, err := history.OpenMemory(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	r := observe.NewRecorder("the in-memory store", func(context.Context) (history.Store, error) { return store, nil }, nil)
	p.Listen(r.Observe)
	if err := r.Wait(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		r.Close(5 * time.Second)
		store.Close()
	})
	return r
}

// containsAll reports whether s contains every one of parts.
func containsAll(s string, parts ...string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}
