package httpserver_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/internal/syncbuf"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/httpserver"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/simulator"
)

// auditRecords are the audit records (JSON lines with "audit": true) in logs.
func auditRecords(logs string) []map[string]any {
	var recs []map[string]any
	for line := range strings.Lines(logs) {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) == nil && rec["audit"] == true {
			recs = append(recs, rec)
		}
	}
	return recs
}

func TestToolsWithValidTokens(t *testing.T) {
	t.Parallel()
	ts := startServer(t, setup{xsuaa: &httpserver.XSUAAOptions{}})
	now := time.Now()
	for _, tc := range []struct {
		name    string
		claims  func(simulator.Claims) simulator.Claims // nil: the static token
		wantWho string
	}{
		{"static token", nil, "static token"},
		{"XSUAA user token", func(c simulator.Claims) simulator.Claims { return c }, "alice@example.com"},
		{"XSUAA client token, audience the client ID", func(c simulator.Claims) simulator.Claims {
			c.UserName, c.Audience = "", []string{"uaa", ts.id.ClientID()}
			return c
		}, ts.id.ClientID()},
		{"expired 30 s ago, within the leeway", func(c simulator.Claims) simulator.Claims {
			c.UserName, c.ExpiresAt = "leeway-exp@example.com", now.Add(-30*time.Second)
			return c
		}, "leeway-exp@example.com"},
		{"valid in 30 s, within the leeway", func(c simulator.Claims) simulator.Claims {
			c.UserName, c.NotBefore = "leeway-nbf@example.com", now.Add(30*time.Second)
			return c
		}, "leeway-nbf@example.com"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			token := staticToken
			if tc.claims != nil {
				var err error
				if token, err = ts.id.Token(tc.claims(ts.id.DefaultClaims())); err != nil {
					t.Fatal(err)
				}
			}
			ctx, session := ts.session(t, token)
			callTool(ctx, t, session)
			found := false
			for _, rec := range auditRecords(ts.logs.String()) {
				if rec["who"] != tc.wantWho || rec["tool"] != "list_cloud_connectors" {
					continue
				}
				found = true
				if tc.claims != nil && (rec["client_id"] != ts.id.ClientID() || rec["zone"] != "sim-zone") {
					t.Errorf("the audit record of a JWT lacks its client_id and zone: %v", rec)
				}
			}
			if !found {
				t.Errorf("no audit record of %q calling list_cloud_connectors in:\n%s", tc.wantWho, ts.logs)
			}
			if strings.Contains(ts.logs.String(), token) {
				t.Error("the token reached the log")
			}
		})
	}
}

// unsignedToken is a token with "alg": "none".
func unsignedToken(claims map[string]any) string {
	enc := base64.RawURLEncoding
	h, _ := json.Marshal(map[string]string{"alg": "none", "typ": "JWT"})
	c, _ := json.Marshal(claims)
	return enc.EncodeToString(h) + "." + enc.EncodeToString(c) + "."
}

func TestRefusedTokens(t *testing.T) {
	t.Parallel()
	ts := startServer(t, setup{xsuaa: &httpserver.XSUAAOptions{}})
	now := time.Now()
	metadata := `resource_metadata="` + ts.base + `/.well-known/oauth-protected-resource"`
	signed := func(edit func(*simulator.Claims)) string {
		t.Helper()
		c := ts.id.DefaultClaims()
		edit(&c)
		token, err := ts.id.Token(c)
		if err != nil {
			t.Fatal(err)
		}
		return token
	}
	forged, err := ts.id.ForgedToken(ts.id.DefaultClaims())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name       string
		header     string // the Authorization header; "" sends none
		wantStatus int
		wantAuth   []string // in WWW-Authenticate
		wantReason string   // in the body's error_description
	}{
		{"no token", "", 401, []string{metadata}, ""},
		{"not a bearer token", "Basic dXNlcjpwYXNz", 401, []string{metadata, `error="invalid_token"`}, ""},
		{"wrong static token", "Bearer not-the-token", 401, []string{metadata, `error="invalid_token"`}, ""},
		{"garbage", "Bearer a.b.c", 401, []string{`error="invalid_token"`}, ""},
		{"expired", "Bearer " + signed(func(c *simulator.Claims) { c.ExpiresAt = now.Add(-2 * time.Minute) }), 401, []string{`error="invalid_token"`}, ""},
		{"not yet valid", "Bearer " + signed(func(c *simulator.Claims) { c.NotBefore = now.Add(2 * time.Minute) }), 401, []string{`error="invalid_token"`}, ""},
		{"no expiry", "Bearer " + signed(func(c *simulator.Claims) { c.ExpiresAt = time.Time{} }), 401, []string{`error="invalid_token"`}, ""},
		{"wrong audience", "Bearer " + signed(func(c *simulator.Claims) { c.Audience = []string{"other-app!t99", "sb-other"} }), 401, []string{`error="invalid_token"`}, ""},
		{"wrong signature", "Bearer " + forged, 401, []string{`error="invalid_token"`}, ""},
		{"unsigned (alg none)", "Bearer " + unsignedToken(map[string]any{"aud": []string{ts.id.XSAppName()}, "scope": []string{ts.id.ReadScope()}, "exp": now.Add(time.Hour).Unix()}), 401, []string{`error="invalid_token"`}, ""},
		{"missing scope", "Bearer " + signed(func(c *simulator.Claims) { c.Scopes = []string{"openid", ts.id.XSAppName() + ".Admin"} }), 403,
			[]string{metadata, `error="insufficient_scope"`, `scope="` + ts.id.ReadScope() + `"`}, "lacks the scope"},
		{"issued in the future", "Bearer " + signed(func(c *simulator.Claims) { c.IssuedAt = now.Add(10 * time.Minute) }), 401, []string{`error="invalid_token"`}, "issued in the future (iat)"},
		{"another identity zone", "Bearer " + signed(func(c *simulator.Claims) { c.Extra = map[string]any{"zid": "other-zone"} }), 401, []string{`error="invalid_token"`}, "identity zone (zid)"},
		{"unknown critical header", "Bearer " + signed(func(c *simulator.Claims) { c.Header = map[string]any{"crit": []string{"x-evil"}, "x-evil": "1"} }), 401, []string{`error="invalid_token"`}, ""},
		{"exp not a number", "Bearer " + signed(func(c *simulator.Claims) { c.Extra = map[string]any{"exp": "2999-01-01T00:00:00Z"} }), 401, []string{`error="invalid_token"`}, ""},
		{"exp a numeric string", "Bearer " + signed(func(c *simulator.Claims) {
			c.Extra = map[string]any{"exp": fmt.Sprint(now.Add(time.Hour).Unix())}
		}), 401, []string{`error="invalid_token"`}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			resp, body := ts.get(t, http.MethodPost, httpserver.MCPPath, "Authorization", tc.header)
			if resp.StatusCode != tc.wantStatus {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.wantStatus, body)
			}
			if !strings.Contains(body, tc.wantReason) {
				t.Errorf("body %s does not give the reason %q", body, tc.wantReason)
			}
			auth := resp.Header.Get("WWW-Authenticate")
			for _, want := range tc.wantAuth {
				if !strings.Contains(auth, want) {
					t.Errorf("WWW-Authenticate %q lacks %s", auth, want)
				}
			}
			if tc.header == "" && strings.Contains(auth, "error=") {
				t.Errorf("WWW-Authenticate %q names an error though no token was sent", auth)
			}
			// The SDK's client cannot get a session either.
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			token, _ := strings.CutPrefix(tc.header, "Bearer ")
			if session, err := ts.connect(ctx, token); err == nil {
				session.Close()
				t.Error("the SDK client connected")
			}
			if _, secret, ok := strings.Cut(tc.header, " "); ok && strings.Contains(ts.logs.String(), secret) {
				t.Error("the refused token reached the log")
			}
		})
	}
}

func TestKeyRotation(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name        string
		interval    time.Duration
		wait        time.Duration // after the first fetch, before the token of the new key
		wantStatus  int
		wantFetches int
	}{
		// An unknown kid fetches the keys again at most once per interval (an attacker's made-up
		// kids cannot hammer XSUAA) ...
		{"within the refresh interval", time.Hour, 0, http.StatusUnauthorized, 1},
		// ... and after it, the rotated key is fetched and the token accepted.
		{"after the refresh interval", 100 * time.Millisecond, 300 * time.Millisecond, http.StatusOK, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ts := startServer(t, setup{xsuaa: &httpserver.XSUAAOptions{RefreshInterval: tc.interval}})
			old, err := ts.id.Token(ts.id.DefaultClaims())
			if err != nil {
				t.Fatal(err)
			}
			if resp, body := ts.get(t, http.MethodPost, httpserver.MCPPath, "Authorization", "Bearer "+old); resp.StatusCode != http.StatusOK {
				t.Fatalf("before rotation: status %d: %s", resp.StatusCode, body)
			}
			if _, err := ts.id.RotateKey(); err != nil {
				t.Fatal(err)
			}
			rotated, err := ts.id.Token(ts.id.DefaultClaims())
			if err != nil {
				t.Fatal(err)
			}
			time.Sleep(tc.wait)
			for range 3 { // repeated unknown kids cost no more fetches
				resp, body := ts.get(t, http.MethodPost, httpserver.MCPPath, "Authorization", "Bearer "+rotated)
				if resp.StatusCode != tc.wantStatus {
					t.Fatalf("new key: status %d, want %d: %s", resp.StatusCode, tc.wantStatus, body)
				}
			}
			if n := ts.id.KeyFetches(); n != tc.wantFetches {
				t.Errorf("token_keys fetched %d times, want %d", n, tc.wantFetches)
			}
			// The old key stays published: its tokens still pass.
			if resp, _ := ts.get(t, http.MethodPost, httpserver.MCPPath, "Authorization", "Bearer "+old); resp.StatusCode != http.StatusOK {
				t.Errorf("old key after rotation: status %d", resp.StatusCode)
			}
		})
	}
}

func TestMetadata(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name         string
		xsuaa        bool
		baseURL      string
		wantResource string // "" = the listener's URL + /mcp
	}{
		{"static token only: no metadata", false, "", ""},
		{"XSUAA behind a router", true, "https://mcp.example.com", "https://mcp.example.com/mcp"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := setup{config: func(c *httpserver.Config) { c.BaseURL = tc.baseURL }}
			if tc.xsuaa {
				s.xsuaa = &httpserver.XSUAAOptions{}
			}
			ts := startServer(t, s)
			for _, path := range []string{httpserver.MetadataPath, httpserver.MetadataPath + httpserver.MCPPath} {
				resp, body := ts.get(t, http.MethodGet, path)
				if !tc.xsuaa { // no authorization server: nothing to discover, no OAuth to start
					if resp.StatusCode != http.StatusNotFound {
						t.Errorf("%s without XSUAA: status %d, want 404", path, resp.StatusCode)
					}
					if resp, _ := ts.get(t, http.MethodPost, httpserver.MCPPath); resp.StatusCode != http.StatusUnauthorized ||
						strings.Contains(resp.Header.Get("WWW-Authenticate"), "resource_metadata") {
						t.Errorf("401 of a static-token server: %d, WWW-Authenticate %q names metadata", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
					}
					continue
				}
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("%s: status %d", path, resp.StatusCode)
				}
				var doc struct {
					Resource             string   `json:"resource"`
					AuthorizationServers []string `json:"authorization_servers"`
					ScopesSupported      []string `json:"scopes_supported"`
					BearerMethods        []string `json:"bearer_methods_supported"`
				}
				if err := json.Unmarshal([]byte(body), &doc); err != nil {
					t.Fatalf("%s: %v: %s", path, err, body)
				}
				want := tc.wantResource
				if want == "" {
					want = ts.base + httpserver.MCPPath
				}
				if doc.Resource != want || len(doc.BearerMethods) != 1 || doc.BearerMethods[0] != "header" {
					t.Errorf("%s: resource %q (want %q), bearer methods %v", path, doc.Resource, want, doc.BearerMethods)
				}
				if tc.xsuaa && (len(doc.AuthorizationServers) != 1 || doc.AuthorizationServers[0] != ts.id.URL() ||
					len(doc.ScopesSupported) != 1 || doc.ScopesSupported[0] != ts.id.ReadScope()) {
					t.Errorf("%s: authorization servers %v (want %s), scopes %v", path, doc.AuthorizationServers, ts.id.URL(), doc.ScopesSupported)
				}
			}
			if tc.baseURL != "" {
				resp, _ := ts.get(t, http.MethodPost, httpserver.MCPPath)
				if got := resp.Header.Get("WWW-Authenticate"); !strings.Contains(got, tc.baseURL+httpserver.MetadataPath) {
					t.Errorf("WWW-Authenticate %q does not point to %s", got, tc.baseURL)
				}
			}
		})
	}
}

func TestProbes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		ready     func(context.Context) error
		wantReady int
		wantLog   string
	}{
		{"ready", func(context.Context) error { return nil }, http.StatusOK, ""},
		// The reason may name hosts or users: it goes to the log, the body stays generic.
		{"not ready", func(context.Context) error { return errors.New("no usable binding at db.internal:5432 user=admin") }, http.StatusServiceUnavailable,
			"no usable binding at db.internal:5432 user=admin"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ts := startServer(t, setup{ready: tc.ready})
			if resp, body := ts.get(t, http.MethodGet, httpserver.HealthPath); resp.StatusCode != http.StatusOK {
				t.Errorf("/healthz: %d %s", resp.StatusCode, body)
			}
			for range 3 {
				resp, body := ts.get(t, http.MethodGet, httpserver.ReadyPath)
				var doc map[string]string
				if err := json.Unmarshal([]byte(body), &doc); err != nil || resp.StatusCode != tc.wantReady || len(doc) != 1 {
					t.Errorf("/readyz: %d %s, want %d with a status only", resp.StatusCode, body, tc.wantReady)
				}
			}
			if tc.wantLog != "" {
				if n := strings.Count(ts.logs.String(), tc.wantLog); n != 1 {
					t.Errorf("the reason is logged %d times for 3 probes, want once:\n%s", n, ts.logs)
				}
			}
		})
	}
}

func TestMetrics(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		separate bool
	}{
		{"behind the authentication", false},
		{"on a listener of its own", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var metricsURL string
			ts := startServer(t, setup{config: func(c *httpserver.Config) {
				if tc.separate {
					c.MetricsAddr = "127.0.0.1:0"
				}
			}})
			ctx, session := ts.session(t, staticToken)
			callTool(ctx, t, session) // reads SAP: a token and an API request
			callTool(ctx, t, session) // from the cache
			if _, err := session.CallTool(ctx, &mcp.CallToolParams{Name: "list_cloud_connectors", Arguments: map[string]any{"subaccount": "nope", "api_token": "s3cr3t-arg"}}); err != nil {
				t.Fatal(err)
			}

			metricsURL = ts.base + httpserver.MetricsPath
			auth := []string{"Authorization", "Bearer " + staticToken}
			if tc.separate {
				resp, _ := ts.get(t, http.MethodGet, httpserver.MetricsPath, auth...)
				if resp.StatusCode != http.StatusNotFound {
					t.Errorf("/metrics on the MCP listener: %d, want 404", resp.StatusCode)
				}
				metricsURL = strings.Replace(metricsURL, strings.TrimPrefix(ts.base, "http://"), metricsAddr(t, ts), 1)
				auth = nil
			} else if resp, _ := ts.get(t, http.MethodGet, httpserver.MetricsPath); resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("/metrics without a token: %d, want 401", resp.StatusCode)
			}
			req, _ := http.NewRequest(http.MethodGet, metricsURL, nil)
			if auth != nil {
				req.Header.Set(auth[0], auth[1])
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			data, _ := io.ReadAll(resp.Body)
			body := string(data)
			for _, want := range []string{
				`btp_connectivity_mcp_tool_calls_total{outcome="ok",tool="list_cloud_connectors"} 2`,
				`btp_connectivity_mcp_tool_calls_total{outcome="tool_error",tool="list_cloud_connectors"} 1`,
				`btp_connectivity_mcp_tool_call_duration_seconds_count{outcome="ok",tool="list_cloud_connectors"} 2`,
				`btp_connectivity_mcp_upstream_requests_total{service="connectivity",status="200"} 1`,
				`btp_connectivity_mcp_upstream_requests_total{service="xsuaa",status="200"} 1`,
				`btp_connectivity_mcp_token_fetches_total{outcome="ok"} 1`,
				`btp_connectivity_mcp_cache_hits_total{subaccount=`,
			} {
				if !strings.Contains(body, want) {
					t.Errorf("metrics lack %s", want)
				}
			}
			if resp.StatusCode != http.StatusOK {
				t.Errorf("/metrics: %d", resp.StatusCode)
			}
			logs := ts.logs.String()
			if strings.Contains(logs, "s3cr3t-arg") || !strings.Contains(logs, `"api_token":"[redacted]"`) {
				t.Errorf("a secret-looking argument was not redacted in the audit log:\n%s", logs)
			}
		})
	}
}

// metricsAddr is the address of the separate metrics listener.
func metricsAddr(t *testing.T, ts *testServer) string {
	t.Helper()
	addr := ts.srv.MetricsAddr()
	if addr == nil {
		t.Fatal("no metrics listener")
	}
	return addr.String()
}

func TestOrigin(t *testing.T) {
	t.Parallel()
	ts := startServer(t, setup{config: func(c *httpserver.Config) { c.AllowedOrigins = []string{"https://app.example.com"} }})
	self := ts.base
	for _, tc := range []struct {
		name, method, origin string
		wantStatus           int
		wantAllowOrigin      string
	}{
		{"no Origin", http.MethodPost, "", http.StatusOK, ""},
		{"same origin", http.MethodPost, self, http.StatusOK, ""},
		{"foreign origin", http.MethodPost, "https://evil.example.net", http.StatusForbidden, ""},
		{"foreign preflight", http.MethodOptions, "https://evil.example.net", http.StatusForbidden, ""},
		{"allowed origin", http.MethodPost, "https://app.example.com", http.StatusOK, "https://app.example.com"},
		{"allowed preflight, no token needed", http.MethodOptions, "https://app.example.com", http.StatusNoContent, "https://app.example.com"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			headers := []string{"Origin", tc.origin}
			if tc.method == http.MethodOptions {
				headers = append(headers, "Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "authorization,content-type")
			} else {
				headers = append(headers, "Authorization", "Bearer "+staticToken)
			}
			resp, body := ts.get(t, tc.method, httpserver.MCPPath, headers...)
			if resp.StatusCode != tc.wantStatus {
				t.Errorf("status %d, want %d: %s", resp.StatusCode, tc.wantStatus, body)
			}
			if got := resp.Header.Get("Access-Control-Allow-Origin"); got != tc.wantAllowOrigin {
				t.Errorf("Access-Control-Allow-Origin %q, want %q", got, tc.wantAllowOrigin)
			}
		})
	}
}

func TestGracefulShutdown(t *testing.T) {
	t.Parallel()
	ts := startServer(t, setup{simOpts: simulator.Options{APILatency: time.Second}})
	ctx, session := ts.session(t, staticToken)
	result := make(chan error, 1)
	go func() {
		res, err := session.CallTool(ctx, &mcp.CallToolParams{Name: "list_cloud_connectors", Arguments: map[string]any{}})
		if err == nil && res.IsError {
			err = errors.New("tool error")
		}
		result <- err
	}()
	for ts.sim.Counts().APIRequests == 0 { // the call is in flight, waiting for the slow API
		select {
		case <-ctx.Done():
			t.Fatal("the call never reached the API")
		case <-time.After(10 * time.Millisecond):
		}
	}
	ts.stop() // as SIGTERM does
	if err := <-result; err != nil {
		t.Errorf("the call in flight failed: %v", err)
	}
	if err := <-ts.done; err != nil {
		t.Errorf("Serve: %v", err)
	}
	ts.done <- nil // for the cleanup
	if _, err := http.Get(ts.base + httpserver.HealthPath); err == nil {
		t.Error("still accepting after shutdown")
	}
}

func TestListenRefusesUnauthenticatedExposure(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		addr    string
		wantErr error
	}{
		{"0.0.0.0:0", httpserver.ErrNoAuth},
		{":0", httpserver.ErrNoAuth},
		{"127.0.0.1:0", nil},
		{"localhost:0", nil},
	} {
		t.Run(tc.addr, func(t *testing.T) {
			t.Parallel()
			srv, err := httpserver.Listen(httpserver.Config{Addr: tc.addr, MCP: emptyMCP()})
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Listen(%s) = %v, want %v", tc.addr, err, tc.wantErr)
			}
			if err == nil {
				ctx, cancel := context.WithCancel(t.Context())
				cancel()
				_ = srv.Serve(ctx)
			} else if !strings.Contains(err.Error(), "MCP_AUTH_TOKEN") || !strings.Contains(err.Error(), "--xsuaa-binding") {
				t.Errorf("the error %q does not say how to enable authentication", err)
			}
		})
	}
}

func TestStaticTokenFileRotates(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "token")
	write := func(s string, mod time.Time) {
		if err := os.WriteFile(path, []byte(s+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(path, mod, mod); err != nil {
			t.Fatal(err)
		}
	}
	const first, second = "first-token-0b9c2e7d41a35f68e7c0d9b2", "second-token-5e1a7c3f9d0b24e68a1c7f3e"
	start := time.Now().Add(-time.Hour)
	write(first, start)
	logs := &syncbuf.Buffer{}
	st, err := httpserver.StaticTokenFile(path, slog.New(slog.NewJSONHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		change   func() // nil leaves the file
		try      string
		wantPass bool
	}{
		{"the token", nil, first, true},
		{"another", nil, first[:len(first)-1] + "9", false},
		{"rotated: the new one", func() { write(second, start.Add(time.Minute)) }, second, true},
		{"rotated: the old one", nil, first, false},
		// An emptied, shortened or deleted file fails closed: no token passes.
		{"emptied", func() { write(" ", start.Add(2*time.Minute)) }, second, false},
		{"emptied, asked again", nil, second, false},
		{"too short", func() { write("short", start.Add(3*time.Minute)) }, "short", false},
		{"deleted", func() { os.Remove(path) }, second, false},
		{"deleted, asked again", nil, second, false},
		{"written again", func() { write(second, start.Add(4*time.Minute)) }, second, true},
	} {
		if tc.change != nil {
			tc.change()
		}
		if got := st.Match(tc.try); got != tc.wantPass {
			t.Errorf("%s: Match = %v, want %v", tc.name, got, tc.wantPass)
		}
	}
	// One record per change of the file's state, not one per request.
	out := logs.String()
	if n := strings.Count(out, "static token file is unusable"); n != 3 {
		t.Errorf("%d records of an unusable file, want 3 (emptied, too short, deleted):\n%s", n, out)
	}
	if !strings.Contains(out, "openssl rand -hex 32") || strings.Contains(out, second) || strings.Contains(out, first) {
		t.Errorf("the log does not say how to make a token, or holds one:\n%s", out)
	}
	for _, bad := range []string{filepath.Join(t.TempDir(), "missing")} {
		if _, err := httpserver.StaticTokenFile(bad, nil); err == nil {
			t.Errorf("StaticTokenFile(%s) accepted a missing file", bad)
		}
	}
}

func TestStaticTokenTooShort(t *testing.T) {
	t.Parallel()
	for _, value := range []string{"", "x", "0123456789abcdef0123456789abcde"} { // 0, 1, 31 characters
		_, err := httpserver.NewStaticToken(value)
		if err == nil || !strings.Contains(err.Error(), "openssl rand -hex 32") {
			t.Errorf("NewStaticToken of %d characters: %v, want a refusal that says how to make a token", len(value), err)
		}
	}
	if _, err := httpserver.NewStaticToken("0123456789abcdef0123456789abcdef"); err != nil {
		t.Errorf("32 characters: %v", err)
	}
}

func TestKeysUnavailable(t *testing.T) {
	t.Parallel()
	ts := startServer(t, setup{xsuaa: &httpserver.XSUAAOptions{}})
	token, err := ts.id.Token(ts.id.DefaultClaims())
	if err != nil {
		t.Fatal(err)
	}
	ts.id.Close() // XSUAA is down before the keys were ever fetched
	resp, body := ts.get(t, http.MethodPost, httpserver.MCPPath, "Authorization", "Bearer "+token)
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Errorf("status %d, Retry-After %q: want 503 with Retry-After (the token may be fine): %s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	// The static token does not depend on XSUAA.
	if resp, body := ts.get(t, http.MethodPost, httpserver.MCPPath, "Authorization", "Bearer "+staticToken); resp.StatusCode != http.StatusOK {
		t.Errorf("static token while XSUAA is down: %d %s", resp.StatusCode, body)
	}
}
