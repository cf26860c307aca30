package httpserver_test

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/httpserver"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/simulator"
)

func TestXSUAABindingSources(t *testing.T) {
	t.Parallel()
	id, err := simulator.NewIdentity(simulator.IdentityOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(id.Close)
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	key := string(id.ServiceKeyJSON())
	folder := filepath.Join(dir, "kyma")
	for name, v := range map[string]string{"url": id.URL() + "\n", "clientid": id.ClientID(), "xsappname": id.XSAppName(), "clientsecret": "x"} {
		write(filepath.Join("kyma", name), v)
	}
	vcap, err := id.WithVCAP(`{"connectivity":[]}`)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		load    func() (*httpserver.XSUAABinding, error)
		wantNil bool
		wantErr string
	}{
		{"service key file", func() (*httpserver.XSUAABinding, error) { return httpserver.XSUAAFromFile(write("key.json", key)) }, false, ""},
		{"wrapped in credentials", func() (*httpserver.XSUAABinding, error) {
			return httpserver.XSUAAFromFile(write("wrapped.json", `{"credentials":`+key+`}`))
		}, false, ""},
		{"Kyma binding folder", func() (*httpserver.XSUAABinding, error) { return httpserver.XSUAAFromFile(folder) }, false, ""},
		{"VCAP_SERVICES", func() (*httpserver.XSUAABinding, error) { return httpserver.XSUAAFromVCAP(vcap) }, false, ""},
		{"VCAP_SERVICES without xsuaa", func() (*httpserver.XSUAABinding, error) { return httpserver.XSUAAFromVCAP(`{"connectivity":[]}`) }, true, ""},
		{"no VCAP_SERVICES", func() (*httpserver.XSUAABinding, error) { return httpserver.XSUAAFromVCAP("") }, true, ""},
		{"key without xsappname", func() (*httpserver.XSUAABinding, error) {
			return httpserver.XSUAAFromFile(write("partial.json", `{"url":"https://x","clientid":"c"}`))
		}, false, "lack xsappname"},
		{"not JSON", func() (*httpserver.XSUAABinding, error) { return httpserver.XSUAAFromFile(write("bad.json", "url: x")) }, false, "not a JSON service key"},
		{"missing file", func() (*httpserver.XSUAABinding, error) { return httpserver.XSUAAFromFile(filepath.Join(dir, "none")) }, false, "no such file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b, err := tc.load()
			switch {
			case tc.wantErr != "":
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("error %v, want one containing %q", err, tc.wantErr)
				}
			case err != nil:
				t.Fatal(err)
			case tc.wantNil:
				if b != nil {
					t.Errorf("found %+v, want none", b)
				}
			case b == nil || b.URL != id.URL() || b.ClientID != id.ClientID() || b.XSAppName != id.XSAppName():
				t.Errorf("binding %+v, want url %s, clientid %s, xsappname %s", b, id.URL(), id.ClientID(), id.XSAppName())
			}
		})
	}
}

// gatedTransport holds every request for the token keys after the first `free` ones until
// release is closed, telling held when one is waiting.
type gatedTransport struct {
	mu      sync.Mutex
	free    int
	held    chan struct{}
	release chan struct{}
}

func (g *gatedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	g.mu.Lock()
	hold := g.free <= 0
	g.free--
	g.mu.Unlock()
	if hold {
		g.held <- struct{}{}
		<-g.release
	}
	return http.DefaultTransport.RoundTrip(r)
}

func TestKeysExpire(t *testing.T) {
	t.Parallel()
	ts := startServer(t, setup{xsuaa: &httpserver.XSUAAOptions{KeysTTL: 100 * time.Millisecond}})
	old, err := ts.id.Token(ts.id.DefaultClaims())
	if err != nil {
		t.Fatal(err)
	}
	oldKid := ts.id.KeyIDs()[0]
	if resp, body := ts.get(t, http.MethodPost, httpserver.MCPPath, "Authorization", "Bearer "+old); resp.StatusCode != http.StatusOK {
		t.Fatalf("before rotation: %d %s", resp.StatusCode, body)
	}
	if _, err := ts.id.RotateKey(); err != nil {
		t.Fatal(err)
	}
	if !ts.id.RemoveKey(oldKid) {
		t.Fatal("the old key was not published")
	}
	time.Sleep(300 * time.Millisecond) // past KeysTTL: the cached keys are stale
	if resp, body := ts.get(t, http.MethodPost, httpserver.MCPPath, "Authorization", "Bearer "+old); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("a token of a key no longer published: %d, want 401: %s", resp.StatusCode, body)
	}
	rotated, err := ts.id.Token(ts.id.DefaultClaims())
	if err != nil {
		t.Fatal(err)
	}
	if resp, body := ts.get(t, http.MethodPost, httpserver.MCPPath, "Authorization", "Bearer "+rotated); resp.StatusCode != http.StatusOK {
		t.Errorf("a token of the new key: %d %s", resp.StatusCode, body)
	}
	if n := ts.id.KeyFetches(); n != 2 {
		t.Errorf("token_keys fetched %d times, want 2", n)
	}
}

func TestKeysFailureRemembered(t *testing.T) {
	t.Parallel()
	ts := startServer(t, setup{xsuaa: &httpserver.XSUAAOptions{FailureTTL: time.Hour}})
	ts.id.FailKeys(http.StatusServiceUnavailable)
	randomKid := func(i int) string {
		c := ts.id.DefaultClaims()
		c.Header = map[string]any{"kid": fmt.Sprintf("made-up-%d", i)}
		token, err := ts.id.Token(c)
		if err != nil {
			t.Fatal(err)
		}
		return token
	}
	var wg sync.WaitGroup
	for i := range 20 { // concurrent callers share one fetch, later ones find its failure
		wg.Go(func() {
			req, _ := http.NewRequest(http.MethodPost, ts.base+httpserver.MCPPath, strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"ping"}`))
			req.Header.Set("Authorization", "Bearer "+randomKid(i))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Accept", "application/json, text/event-stream")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
				t.Errorf("status %d, Retry-After %q: want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
			}
		})
	}
	wg.Wait()
	if n := ts.id.KeyFetches(); n != 1 {
		t.Errorf("token_keys fetched %d times for 20 tokens, want 1 (the failure is remembered)", n)
	}
}

func TestKeysFetchDoesNotHoldUpKnownKeys(t *testing.T) {
	t.Parallel()
	gate := &gatedTransport{free: 1, held: make(chan struct{}, 1), release: make(chan struct{})}
	ts := startServer(t, setup{xsuaa: &httpserver.XSUAAOptions{RefreshInterval: time.Millisecond,
		HTTPClient: &http.Client{Transport: gate}}})
	legit, err := ts.id.Token(ts.id.DefaultClaims())
	if err != nil {
		t.Fatal(err)
	}
	if resp, body := ts.get(t, http.MethodPost, httpserver.MCPPath, "Authorization", "Bearer "+legit); resp.StatusCode != http.StatusOK {
		t.Fatalf("first token: %d %s", resp.StatusCode, body)
	}
	c := ts.id.DefaultClaims()
	c.Header = map[string]any{"kid": "made-up"}
	unknown, err := ts.id.Token(c)
	if err != nil {
		t.Fatal(err)
	}
	refused := make(chan int, 1)
	go func() {
		resp, _ := ts.get(t, http.MethodPost, httpserver.MCPPath, "Authorization", "Bearer "+unknown)
		refused <- resp.StatusCode
	}()
	<-gate.held // the unknown kid's fetch is in progress, and held
	// The known key answers while that fetch hangs.
	if resp, body := ts.get(t, http.MethodPost, httpserver.MCPPath, "Authorization", "Bearer "+legit); resp.StatusCode != http.StatusOK {
		t.Errorf("known key during a fetch: %d %s", resp.StatusCode, body)
	}
	close(gate.release)
	if got := <-refused; got != http.StatusUnauthorized {
		t.Errorf("unknown kid: %d, want 401", got)
	}
}

func TestKeysStayInUseWhileXSUAAIsDown(t *testing.T) {
	t.Parallel()
	ts := startServer(t, setup{xsuaa: &httpserver.XSUAAOptions{KeysTTL: 100 * time.Millisecond}})
	token, err := ts.id.Token(ts.id.DefaultClaims())
	if err != nil {
		t.Fatal(err)
	}
	if resp, body := ts.get(t, http.MethodPost, httpserver.MCPPath, "Authorization", "Bearer "+token); resp.StatusCode != http.StatusOK {
		t.Fatalf("first token: %d %s", resp.StatusCode, body)
	}
	ts.id.FailKeys(http.StatusBadGateway)
	time.Sleep(300 * time.Millisecond) // past KeysTTL
	for range 3 {
		if resp, body := ts.get(t, http.MethodPost, httpserver.MCPPath, "Authorization", "Bearer "+token); resp.StatusCode != http.StatusOK {
			t.Errorf("stale keys while token_keys fails: %d %s", resp.StatusCode, body)
		}
	}
	if n := ts.id.KeyFetches(); n != 2 {
		t.Errorf("token_keys fetched %d times, want 2 (the failure is remembered)", n)
	}
}
