package httpserver_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/internal/syncbuf"

	"github.com/mark3labs/mcp-go/server"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/binding"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/connectivity"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/httpserver"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/observe"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/simulator"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/tools"
)

// The tests serve the real tools, reading the simulator, through a real listener on loopback,
// and call them with the official Go SDK's Streamable HTTP client. The simulator's Identity plays
// the XSUAA the server's own clients get their tokens from.

// staticToken is the static bearer token of the tests.
const staticToken = "static-7f3a9c1e5b2d4f60-a81c93e0d4b7-token"

// testServer is a running server with what the tests look at.
type testServer struct {
	sim     *simulator.Server
	srv     *httpserver.Server
	id      *simulator.Identity
	base    string // http://127.0.0.1:PORT
	logs    *syncbuf.Buffer
	metrics *httpserver.Metrics
	stop    context.CancelFunc
	done    chan error // Serve's result
}

// setup configures a server before it starts.
type setup struct {
	simOpts  simulator.Options
	xsuaa    *httpserver.XSUAAOptions // Binding filled in from the Identity
	noStatic bool
	ready    func(context.Context) error
	config   func(*httpserver.Config)
}

// startServer starts the simulator, an Identity and the server; everything stops at cleanup.
func startServer(t *testing.T, s setup) *testServer {
	t.Helper()
	sim, err := simulator.New(s.simOpts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	id, err := simulator.NewIdentity(simulator.IdentityOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(id.Close)
	ts := &testServer{sim: sim, id: id, logs: &syncbuf.Buffer{}, metrics: httpserver.NewMetrics(), done: make(chan error, 1)}
	logger := slog.New(slog.NewJSONHandler(ts.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))

	found := binding.Parse(sim.ServiceKeyJSON(simulator.SecretCredentials), "test")
	client, err := connectivity.NewClient(found.Usable[0], connectivity.Options{Observe: ts.metrics.Observe, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	hooks := &server.Hooks{}
	observations, err := observe.New([]observe.Bound{{Client: client}}, observe.Options{CacheTTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(observations.Close)
	mcpServer := tools.NewServer(tools.Config{Observations: observations,
		Logger: logger, Hooks: hooks, ServerOptions: []server.ServerOption{httpserver.ToolObserver(logger, ts.metrics, hooks)}})
	cfg := httpserver.Config{Addr: "127.0.0.1:0", MCP: mcpServer, Metrics: ts.metrics, Logger: logger, Ready: s.ready}
	if !s.noStatic {
		if cfg.StaticToken, err = httpserver.NewStaticToken(staticToken); err != nil {
			t.Fatal(err)
		}
	}
	if s.xsuaa != nil {
		var b httpserver.XSUAABinding
		if err := json.Unmarshal(id.ServiceKeyJSON(), &b); err != nil {
			t.Fatal(err)
		}
		opts := *s.xsuaa
		opts.Binding = &b
		cfg.XSUAA = httpserver.NewXSUAA(opts)
	}
	if s.config != nil {
		s.config(&cfg)
	}
	srv, err := httpserver.Listen(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts.srv, ts.base = srv, "http://"+srv.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	ts.stop = cancel
	go func() { ts.done <- srv.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-ts.done:
		case <-time.After(30 * time.Second):
			t.Error("the server did not stop")
		}
	})
	return ts
}

// bearerTransport adds a bearer token to every request.
type bearerTransport struct{ token string }

func (b bearerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	if b.token != "" {
		r.Header.Set("Authorization", "Bearer "+b.token)
	}
	return http.DefaultTransport.RoundTrip(r)
}

// connect opens an MCP session with the SDK's Streamable HTTP client, sending token.
func (ts *testServer) connect(ctx context.Context, token string) (*mcp.ClientSession, error) {
	client := mcp.NewClient(&mcp.Implementation{Name: "httpserver-test", Version: "0"}, nil)
	return client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: ts.base + httpserver.MCPPath,
		HTTPClient: &http.Client{Transport: bearerTransport{token}}, MaxRetries: -1}, nil)
}

// session connects with token for the rest of the test, failing it if that fails.
func (ts *testServer) session(t *testing.T, token string) (context.Context, *mcp.ClientSession) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	t.Cleanup(cancel)
	session, err := ts.connect(ctx, token)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { session.Close() })
	return ctx, session
}

// get requests path with the headers given as name, value pairs.
func (ts *testServer) get(t *testing.T, method, path string, headers ...string) (*http.Response, string) {
	t.Helper()
	body := io.Reader(nil)
	if method == http.MethodPost {
		body = strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"ping"}`)
	}
	req, err := http.NewRequest(method, ts.base+path, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp, string(data)
}

// callTool lists the tools and calls list_cloud_connectors, failing the test on any error.
func callTool(ctx context.Context, t *testing.T, session *mcp.ClientSession) {
	t.Helper()
	list, err := session.ListTools(ctx, nil)
	if err != nil {
		t.Fatalf("tools/list: %v", err)
	}
	if len(list.Tools) != len(tools.Names()) {
		t.Errorf("listed %d tools, want %d", len(list.Tools), len(tools.Names()))
	}
	res, err := session.CallTool(ctx, &mcp.CallToolParams{Name: "list_cloud_connectors", Arguments: map[string]any{}})
	if err != nil {
		t.Fatalf("tools/call: %v", err)
	}
	if res.IsError || res.StructuredContent == nil {
		t.Errorf("list_cloud_connectors: isError %v, structured %v", res.IsError, res.StructuredContent)
	}
}

// emptyMCP is an MCP server without tools.
func emptyMCP() *server.MCPServer { return server.NewMCPServer("empty", "0") }
