package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/internal/syncbuf"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/simulator"
)

// The built binary serving Streamable HTTP, configured as on Cloud Foundry: VCAP_SERVICES holds
// the Connectivity binding (the simulator) and the xsuaa binding (the simulator's Identity).

func TestHTTPRefusesUnauthenticatedExposure(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		args     []string
		env      []string
		wantCode int
		want     []string // in stderr
	}{
		{"all interfaces, no auth", []string{"--demo", "--http", "0.0.0.0:0"}, nil, 1, []string{"MCP_AUTH_TOKEN", "--auth-token-file", "--xsuaa-binding"}},
		{"empty token file", []string{"--demo", "--http", "0.0.0.0:0", "--auth-token-file", os.DevNull}, nil, 1, []string{"--auth-token-file", "empty"}},
		{"both token sources", []string{"--demo", "--http", "0.0.0.0:0", "--auth-token-file", os.DevNull}, []string{"MCP_AUTH_TOKEN=x"}, 1, []string{"use one"}},
		{"scope without xsuaa", []string{"--demo", "--http", "127.0.0.1:0", "--auth-scope", "x.Read"}, nil, 1, []string{"--auth-scope needs an xsuaa binding"}},
		{"one-character token", []string{"--demo", "--http", "0.0.0.0:0"}, []string{"MCP_AUTH_TOKEN=x"}, 1, []string{"shorter than 32 characters", "openssl rand -hex 32"}},
		{"public metrics, no auth", []string{"--demo", "--http", "127.0.0.1:0", "--metrics-addr", "0.0.0.0:0"}, nil, 1, []string{"--metrics-addr", "127.0.0.1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command(stdioBin, tc.args...)
			cmd.Env = append([]string{"HOME=" + t.TempDir()}, tc.env...)
			out, _ := cmd.CombinedOutput()
			if code := cmd.ProcessState.ExitCode(); code != tc.wantCode {
				t.Errorf("exit %d, want %d:\n%s", code, tc.wantCode, out)
			}
			for _, w := range tc.want {
				if !strings.Contains(string(out), w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

// httpProc is the server binary serving HTTP.
type httpProc struct {
	cmd    *exec.Cmd
	stderr *syncbuf.Buffer
	url    string // http://127.0.0.1:PORT
	exited chan int
}

// startHTTP runs the binary with args and env and waits for it to say where it listens.
func startHTTP(t *testing.T, env []string, args ...string) *httpProc {
	t.Helper()
	cmd := exec.Command(stdioBin, args...)
	cmd.Env = env
	p := &httpProc{cmd: cmd, stderr: &syncbuf.Buffer{}, exited: make(chan int, 1)}
	pipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			line := sc.Text()
			p.stderr.Write([]byte(line + "\n"))
			if _, after, ok := strings.Cut(line, `msg="serving MCP over Streamable HTTP" url=`); ok {
				found <- strings.TrimSuffix(strings.Fields(after)[0], "/mcp")
			}
		}
		_ = cmd.Wait()
		p.exited <- cmd.ProcessState.ExitCode()
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		if t.Failed() {
			t.Logf("server stderr:\n%s", p.stderr)
		}
	})
	select {
	case p.url = <-found:
	case code := <-p.exited:
		t.Fatalf("the server exited with %d:\n%s", code, p.stderr)
	case <-time.After(time.Minute):
		t.Fatalf("the server did not start:\n%s", p.stderr)
	}
	return p
}

// await reports whether a line of stderr holds every string of want within a generous minute (the
// log is read by another goroutine).
func (p *httpProc) await(want ...string) bool {
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		for line := range strings.Lines(p.stderr.String()) {
			if !slices.ContainsFunc(want, func(w string) bool { return !strings.Contains(line, w) }) {
				return true
			}
		}
	}
	return false
}

func TestHTTPWithXSUAA(t *testing.T) {
	t.Parallel()
	sim, err := simulator.New(simulator.Options{APILatency: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	id, err := simulator.NewIdentity(simulator.IdentityOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer id.Close()
	vcap, err := id.WithVCAP(sim.VCAPServices(simulator.SecretCredentials))
	if err != nil {
		t.Fatal(err)
	}
	tokenFile := filepath.Join(t.TempDir(), "token")
	const static = "e2e-static-token-5d1f8a2c-93b0e7c4a1f6"
	if err := os.WriteFile(tokenFile, []byte(static), 0o600); err != nil {
		t.Fatal(err)
	}
	p := startHTTP(t, []string{"VCAP_SERVICES=" + vcap, "XDG_STATE_HOME=" + t.TempDir()},
		"--http", "127.0.0.1:0", "--auth-token-file", tokenFile, "--log-level", "debug")
	jwt, err := id.Token(id.DefaultClaims())
	if err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	for _, tc := range []struct{ name, token, who string }{
		{"XSUAA JWT", jwt, "alice@example.com"},
		{"static token", static, "static token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			client := mcp.NewClient(&mcp.Implementation{Name: "http-e2e", Version: "0"}, nil)
			session, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: p.url + "/mcp",
				HTTPClient: &http.Client{Transport: bearer(tc.token)}, MaxRetries: -1}, nil)
			if err != nil {
				t.Fatalf("connect: %v", err)
			}
			defer session.Close()
			list, err := session.ListTools(ctx, nil)
			if err != nil || len(list.Tools) == 0 {
				t.Fatalf("tools/list: %v, %d tools", err, len(list.Tools))
			}
			res, err := session.CallTool(ctx, &mcp.CallToolParams{Name: "list_subaccounts", Arguments: map[string]any{}})
			if err != nil || res.IsError {
				t.Fatalf("list_subaccounts: %v %+v", err, res)
			}
			if !p.await(`"who":"`+tc.who+`"`, `"tool":"list_subaccounts"`) {
				t.Errorf("no JSON audit record of %s calling list_subaccounts", tc.who)
			}
		})
	}
	for path, want := range map[string]int{"/healthz": 200, "/readyz": 200, "/metrics": 401, "/.well-known/oauth-protected-resource": 200} {
		resp, err := http.Get(p.url + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET %s: %d, want %d", path, resp.StatusCode, want)
		}
	}

	// SIGTERM with a call in flight: the call finishes, the process exits 0.
	client := mcp.NewClient(&mcp.Implementation{Name: "http-e2e", Version: "0"}, nil)
	session, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: p.url + "/mcp",
		HTTPClient: &http.Client{Transport: bearer(jwt)}, MaxRetries: -1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer session.Close()
	before := sim.Counts().APIRequests
	done := make(chan error, 1)
	go func() {
		res, err := session.CallTool(ctx, &mcp.CallToolParams{Name: "list_cloud_connectors", Arguments: map[string]any{"refresh": true}})
		if err == nil && res.IsError {
			err = &json.UnsupportedValueError{Str: "tool error"}
		}
		done <- err
	}()
	for sim.Counts().APIRequests == before {
		select {
		case <-ctx.Done():
			t.Fatal("the call never reached the API")
		case <-time.After(10 * time.Millisecond):
		}
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Errorf("the call in flight at SIGTERM failed: %v", err)
	}
	select {
	case code := <-p.exited:
		if code != 0 {
			t.Errorf("exit %d after SIGTERM, want 0", code)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no exit after SIGTERM")
	}
	out := p.stderr.String()
	for name, secret := range map[string]string{"JWT": jwt, "static token": static, "client secret": sim.Credentials(simulator.SecretCredentials)["clientsecret"].(string)} {
		if strings.Contains(out, secret) {
			t.Errorf("the %s reached stderr", name)
		}
	}
}

// bearer is a transport that sends a bearer token.
type bearer string

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+string(b))
	return http.DefaultTransport.RoundTrip(r)
}

// TestHTTPReadyWithoutHistory: /readyz depends on usable bindings only. A history store that
// cannot be reached leaves the server ready (every tool but what_changed answers), and the probe's
// body names no host, database or user.
func TestHTTPReadyWithoutHistory(t *testing.T) {
	t.Parallel()
	sim, err := simulator.New(simulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	const unreachable = "postgres://history-user:pw@127.0.0.1:1/historydb?sslmode=disable&connect_timeout=1"
	p := startHTTP(t, stdioEnv("VCAP_SERVICES="+sim.VCAPServices(simulator.SecretCredentials)),
		"--http", "127.0.0.1:0", "--history", unreachable)
	if !p.await("history unavailable") {
		t.Fatalf("the history store did not fail:\n%s", p.stderr)
	}
	resp, err := http.Get(p.url + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || strings.Contains(string(body), "127.0.0.1") || strings.Contains(string(body), "history") {
		t.Errorf("/readyz with an unreachable history: %d %s, want a generic 200", resp.StatusCode, body)
	}
}
