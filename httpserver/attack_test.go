package httpserver_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/httpserver"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/simulator"
)

// The attacks of issue 18 over real connections on loopback. A connection the server should
// close is read until the server closes it; the read deadline is only a generous bound that
// keeps a failing test from hanging.

// closedBound is how long a test waits for the server to close a connection before failing.
const closedBound = time.Minute

// dial opens a raw TCP connection to the server.
func (ts *testServer) dial(t *testing.T) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(ts.base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// awaitClosed reads conn until the server closes it; it fails the test if the server keeps it
// open for closedBound.
func awaitClosed(t *testing.T, conn net.Conn, r *bufio.Reader) {
	t.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(closedBound))
	_, err := io.Copy(io.Discard, r)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Errorf("the server kept the connection open for %s", closedBound)
	}
}

// dripBody writes one byte of a body every 2 s until the connection fails or the test ends.
func dripBody(t *testing.T, conn net.Conn) {
	ctx := t.Context()
	go func() {
		for {
			if _, err := conn.Write([]byte("{")); err != nil {
				return
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(2 * time.Second):
			}
		}
	}()
}

func TestIdleConnectionClosed(t *testing.T) {
	t.Parallel()
	ts := startServer(t, setup{config: func(c *httpserver.Config) { c.IdleTimeout = 300 * time.Millisecond }})
	conn := ts.dial(t)
	if _, err := fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\n\r\n", httpserver.HealthPath, strings.TrimPrefix(ts.base, "http://")); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(conn)
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Close {
		t.Fatalf("status %d, close %v: want a kept-alive 200", resp.StatusCode, resp.Close)
	}
	awaitClosed(t, conn, r) // idle from now on
}

func TestSlowBodyRefused(t *testing.T) {
	t.Parallel()
	ts := startServer(t, setup{config: func(c *httpserver.Config) { c.ReadTimeout = time.Second }})
	host := strings.TrimPrefix(ts.base, "http://")
	for _, tc := range []struct {
		name       string
		conns      int
		request    string
		wantStatus int
	}{
		// The body never matters: the 401 goes out at once and the connection is closed.
		{"unauthenticated POST /mcp", 20, "POST /mcp HTTP/1.1\r\nHost: " + host + "\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n", http.StatusUnauthorized},
		{"unauthenticated chunked POST /mcp", 1, "POST /mcp HTTP/1.1\r\nHost: " + host + "\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n1000\r\n", http.StatusUnauthorized},
		// An authenticated body that does not arrive within ReadTimeout.
		{"authenticated POST /mcp", 1, "POST /mcp HTTP/1.1\r\nHost: " + host + "\r\nAuthorization: Bearer " + staticToken +
			"\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nContent-Length: 1000\r\n\r\n", http.StatusRequestTimeout},
		// A probe whose request carries a body it does not read.
		{"GET /healthz with a body", 1, "GET /healthz HTTP/1.1\r\nHost: " + host + "\r\nContent-Length: 1000\r\n\r\n", http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var wg sync.WaitGroup
			for range tc.conns {
				wg.Go(func() {
					conn := ts.dial(t)
					if _, err := io.WriteString(conn, tc.request); err != nil {
						t.Error(err)
						return
					}
					dripBody(t, conn)
					_ = conn.SetReadDeadline(time.Now().Add(closedBound))
					r := bufio.NewReader(conn)
					resp, err := http.ReadResponse(r, nil)
					if err != nil {
						t.Errorf("no answer: %v", err)
						return
					}
					body, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					if resp.StatusCode != tc.wantStatus {
						t.Errorf("status %d, want %d: %s", resp.StatusCode, tc.wantStatus, body)
					}
					awaitClosed(t, conn, r)
				})
			}
			wg.Wait()
		})
	}
	if strings.Contains(ts.logs.String(), staticToken) {
		t.Error("the token reached the log")
	}
}

// postMCP sends body to /mcp with the static token; contentLength -1 sends it chunked.
func (ts *testServer) postMCP(t *testing.T, body []byte, chunked bool) (*http.Response, []byte) {
	t.Helper()
	var reader io.Reader = bytes.NewReader(body)
	if chunked {
		reader = io.MultiReader(reader) // hides the length: the request is chunked
	}
	req, err := http.NewRequest(http.MethodPost, ts.base+httpserver.MCPPath, reader)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+staticToken)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp, data
}

// toolCall is the JSON-RPC request of a tools/call with args.
func toolCall(t *testing.T, tool string, args map[string]any) []byte {
	t.Helper()
	data, err := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": 7, "method": "tools/call",
		"params": map[string]any{"name": tool, "arguments": args}})
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestBodyLimit(t *testing.T) {
	t.Parallel()
	ts := startServer(t, setup{})
	for _, tc := range []struct {
		name       string
		size       int
		chunked    bool
		wantStatus int
	}{
		{"3 MiB", 3 << 20, false, http.StatusOK},
		{"50 MiB", 50 << 20, false, http.StatusRequestEntityTooLarge},
		{"5 MiB chunked", 5 << 20, true, http.StatusRequestEntityTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := toolCall(t, "list_cloud_connectors", map[string]any{"subaccount": strings.Repeat("x", tc.size)})
			resp, data := ts.postMCP(t, body, tc.chunked)
			if resp.StatusCode != tc.wantStatus {
				t.Fatalf("status %d, want %d: %.200s", resp.StatusCode, tc.wantStatus, data)
			}
			if tc.wantStatus != http.StatusRequestEntityTooLarge {
				return
			}
			var rpc struct {
				JSONRPC string `json:"jsonrpc"`
				Error   struct {
					Code    int    `json:"code"`
					Message string `json:"message"`
				} `json:"error"`
			}
			if err := json.Unmarshal(data, &rpc); err != nil || rpc.JSONRPC != "2.0" || rpc.Error.Code != -32600 || !strings.Contains(rpc.Error.Message, "4 MiB") {
				t.Errorf("413 body %s: want a JSON-RPC error naming the limit", data)
			}
		})
	}
	// The accepted 3 MiB argument is cut short in the audit record.
	for _, rec := range auditRecords(ts.logs.String()) {
		if rec["tool"] != "list_cloud_connectors" {
			continue
		}
		if line, _ := json.Marshal(rec); len(line) > 2048 {
			t.Errorf("an audit record of %d bytes: arguments are not cut short", len(line))
		}
	}
}

func TestAuditRedactsAndCuts(t *testing.T) {
	t.Parallel()
	ts := startServer(t, setup{})
	ctx, session := ts.session(t, staticToken)
	const jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlLXRoYXQtaXMtbG9uZw"
	secrets := []string{"p4ss-in-a-list", "s3cret-deep-down", "abc123-bearer-in-an-argument", jwt, "0f3c9a7e5b2d4c6a8e1f0b3d5c7a9e2f4b6d8c0a"}
	args := map[string]any{
		"list":             []any{map[string]any{"password": secrets[0]}, "plain"},
		"nested":           map[string]any{"deep": map[string]any{"clientSecret": secrets[1]}},
		"note":             "Authorization: Bearer " + secrets[2],
		"token_like_value": map[string]any{"a": jwt},
		"hex":              secrets[4],
		"long":             strings.Repeat("long-value-", 1000),
		"subaccount_id":    "8e1c4f3a-2b7d-4e9a-a6c1-5d0f3b2e7a94", // a UUID stays readable
	}
	if _, err := session.CallTool(ctx, &mcp.CallToolParams{Name: "list_cloud_connectors", Arguments: args}); err != nil {
		t.Fatal(err)
	}
	if _, err := session.CallTool(ctx, &mcp.CallToolParams{Name: "no_such_tool", Arguments: map[string]any{"password": "unknown-tool-secret"}}); err == nil {
		t.Error("an unknown tool answered")
	}
	logs := ts.logs.String()
	for _, s := range append(secrets, "unknown-tool-secret") {
		if strings.Contains(logs, s) {
			t.Errorf("%q reached the log", s)
		}
	}
	var known, unknown map[string]any
	for _, rec := range auditRecords(logs) {
		switch rec["tool"] {
		case "list_cloud_connectors":
			known = rec
		case "no_such_tool":
			unknown = rec
		}
	}
	if known == nil || unknown == nil {
		t.Fatalf("audit records of the known and the unknown tool missing:\n%s", logs)
	}
	a, _ := known["arguments"].(map[string]any)
	if long, _ := a["long"].(string); len(long) > 100 || !strings.HasPrefix(long, "long-value-") {
		t.Errorf("a long value is logged as %q, want a short prefix", long)
	}
	if a["subaccount_id"] != args["subaccount_id"] {
		t.Errorf("a UUID is logged as %v", a["subaccount_id"])
	}
	if unknown["outcome"] != "unknown_tool" || unknown["who"] != "static token" {
		t.Errorf("the unknown tool's record: %v", unknown)
	}
}

func TestRefusalsLogged(t *testing.T) {
	t.Parallel()
	ts := startServer(t, setup{xsuaa: &httpserver.XSUAAOptions{}, config: func(c *httpserver.Config) {
		c.AllowedOrigins = []string{"https://app.example.com"}
	}})
	expired := ts.id.DefaultClaims()
	expired.ExpiresAt = time.Now().Add(-time.Hour)
	expiredToken, err := ts.id.Token(expired)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name       string
		headers    []string
		wantStatus int
		wantReason string
		secret     string
	}{
		{"no token", nil, 401, "no bearer token", ""},
		{"wrong static token", []string{"Authorization", "Bearer wrong-static-token-value-8c1d0e2f"}, 401, "does not verify", "wrong-static-token-value-8c1d0e2f"},
		{"expired JWT", []string{"Authorization", "Bearer " + expiredToken}, 401, "it has expired", expiredToken},
		{"foreign origin", []string{"Origin", "https://evil.example", "Authorization", "Bearer " + staticToken}, 403, "foreign origin https://evil.example", staticToken},
		{"foreign host", []string{"Host", "evil.example"}, 403, "does not name this server", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			headers := tc.headers
			if len(headers) >= 2 && headers[0] == "Host" {
				req, _ := http.NewRequest(http.MethodPost, ts.base+httpserver.MCPPath, strings.NewReader("{}"))
				req.Host = headers[1]
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != tc.wantStatus {
					t.Errorf("status %d, want %d", resp.StatusCode, tc.wantStatus)
				}
			} else if resp, body := ts.get(t, http.MethodPost, httpserver.MCPPath, headers...); resp.StatusCode != tc.wantStatus {
				t.Errorf("status %d, want %d: %s", resp.StatusCode, tc.wantStatus, body)
			}
		})
	}
	ts.stop()
	<-ts.done
	ts.done <- nil // for the cleanup
	logs := ts.logs.String()
	var refusals []map[string]any
	for _, rec := range auditRecords(logs) {
		if rec["msg"] == "request refused" {
			refusals = append(refusals, rec)
		}
	}
	if len(refusals) != 5 {
		t.Errorf("%d refusals logged, want 5 (one each):\n%s", len(refusals), logs)
	}
	for _, want := range []string{"no bearer token", "does not verify", "it has expired", "foreign origin https://evil.example", "does not name this server"} {
		if !strings.Contains(logs, want) {
			t.Errorf("no refusal logged with the reason %q", want)
		}
	}
	for _, secret := range []string{"wrong-static-token-value-8c1d0e2f", expiredToken, staticToken} {
		if strings.Contains(logs, secret) {
			t.Error("a credential reached the log")
		}
	}
}

func TestRefusalsRateLimited(t *testing.T) {
	t.Parallel()
	ts := startServer(t, setup{})
	const attempts = 100
	for range attempts {
		resp, err := http.Post(ts.base+httpserver.MCPPath, "application/json", strings.NewReader("{}"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("status %d", resp.StatusCode)
		}
	}
	ts.stop() // reports the refusals left out
	<-ts.done
	ts.done <- nil
	records, left := 0, 0
	for _, rec := range auditRecords(ts.logs.String()) {
		if n, ok := rec["suppressed_before"].(float64); ok {
			left += int(n)
		}
		if rec["msg"] == "request refused" {
			records++
		}
	}
	if records+left != attempts || records >= attempts {
		t.Errorf("%d records and %d left out for %d refusals: want every refusal counted, not every one logged", records, left, attempts)
	}
}

func TestHostChecked(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		separate bool // metrics on a listener of their own
		baseURL  string
		host     string
		want     int
	}{
		{"evil host, /metrics", false, "", "evil.example", http.StatusForbidden},
		{"evil host with the port, /metrics", false, "", "evil.example:%s", http.StatusForbidden},
		{"evil host, separate /metrics", true, "", "evil.example", http.StatusForbidden},
		{"localhost", false, "", "localhost:%s", http.StatusOK},
		{"127.0.0.1", false, "", "127.0.0.1:%s", http.StatusOK},
		{"[::1]", false, "", "[::1]:%s", http.StatusOK},
		{"the host of --base-url", false, "https://mcp.example.com", "mcp.example.com", http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ts := startServer(t, setup{noStatic: true, config: func(c *httpserver.Config) {
				c.BaseURL = tc.baseURL
				if tc.separate {
					c.MetricsAddr = "127.0.0.1:0"
				}
			}})
			base := ts.base
			if tc.separate {
				base = "http://" + metricsAddr(t, ts)
			}
			_, port, _ := net.SplitHostPort(strings.TrimPrefix(base, "http://"))
			host := strings.ReplaceAll(tc.host, "%s", port)
			paths := []string{httpserver.MetricsPath}
			if !tc.separate {
				paths = append(paths, httpserver.HealthPath, httpserver.ReadyPath, httpserver.MCPPath)
			}
			for _, path := range paths {
				method := http.MethodGet
				var body io.Reader
				if path == httpserver.MCPPath {
					method, body = http.MethodPost, strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"ping"}`)
				}
				req, _ := http.NewRequest(method, base+path, body)
				req.Host = host
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Accept", "application/json, text/event-stream")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				data, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != tc.want {
					t.Errorf("%s with Host %s: %d, want %d", path, host, resp.StatusCode, tc.want)
				}
				if tc.want == http.StatusForbidden && strings.Contains(string(data), "subaccount") {
					t.Errorf("%s with Host %s answered metrics", path, host)
				}
			}
		})
	}
}

func TestLongCallsOutliveTheTimeouts(t *testing.T) {
	t.Parallel()
	// Every timeout is shorter than the call: a tool call (and its event stream) still ends well.
	ts := startServer(t, setup{simOpts: simulator.Options{APILatency: 1500 * time.Millisecond}, config: func(c *httpserver.Config) {
		c.ReadTimeout, c.WriteTimeout, c.IdleTimeout = 200*time.Millisecond, 200*time.Millisecond, 200*time.Millisecond
	}})
	ctx, session := ts.session(t, staticToken)
	res, err := session.CallTool(ctx, &mcp.CallToolParams{Name: "list_cloud_connectors", Arguments: map[string]any{},
		Meta: mcp.Meta{"progressToken": "p1"}})
	if err != nil || res.IsError {
		t.Fatalf("a call longer than the timeouts: %v %+v", err, res)
	}
}

func TestListenRefusesPublicMetricsWithoutAuth(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name        string
		metricsAddr string
		static      bool
		wantErr     error
	}{
		{"all interfaces, no auth", "0.0.0.0:0", false, httpserver.ErrMetricsExposed},
		{"all interfaces, static token", "0.0.0.0:0", true, nil},
		{"loopback, no auth", "127.0.0.1:0", false, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := httpserver.Config{Addr: "127.0.0.1:0", MCP: emptyMCP(), Metrics: httpserver.NewMetrics(), MetricsAddr: tc.metricsAddr}
			if tc.static {
				cfg.StaticToken, _ = httpserver.NewStaticToken(staticToken)
			}
			srv, err := httpserver.Listen(cfg)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Listen: %v, want %v", err, tc.wantErr)
			}
			if err == nil {
				ctx, cancel := context.WithCancel(t.Context())
				cancel()
				_ = srv.Serve(ctx)
			}
		})
	}
}
