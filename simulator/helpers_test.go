package simulator_test

import (
	"crypto/tls"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/simulator"
)

// start runs a simulator for the duration of the test.
func start(t *testing.T, opts simulator.Options) *simulator.Server {
	t.Helper()
	s, err := simulator.New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// client returns an HTTP client that trusts the simulator and presents certs, if any.
func client(s *simulator.Server, certs ...tls.Certificate) *http.Client {
	tr := &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: s.RootCAs(), Certificates: certs},
	}
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

// x509Pair parses the certificate and key of an X.509 binding.
func x509Pair(t *testing.T, creds map[string]any) tls.Certificate {
	t.Helper()
	cert, err := tls.X509KeyPair([]byte(creds["certificate"].(string)), []byte(creds["key"].(string)))
	if err != nil {
		t.Fatalf("X509KeyPair: %v", err)
	}
	return cert
}

type tokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
	Scope       string `json:"scope"`
	JTI         string `json:"jti"`
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

// postToken posts form to the token endpoint, with Basic credentials if user is not empty.
func postToken(t *testing.T, c *http.Client, s *simulator.Server, form url.Values, user, pass string) (*http.Response, tokenResponse, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.URL()+simulator.TokenPath, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("token request: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("token body: %v", err)
	}
	var tr tokenResponse
	_ = json.Unmarshal(body, &tr)
	return resp, tr, string(body)
}

// binder is the server (its default tenant) or a tenant.
type binder interface {
	Credentials(simulator.CredentialType) map[string]any
}

// secretForm is the form of a client-secret token request for b.
func secretForm(b binder) url.Values {
	creds := b.Credentials(simulator.SecretCredentials)
	return url.Values{
		"grant_type":    {"client_credentials"},
		"client_id":     {creds["clientid"].(string)},
		"client_secret": {creds["clientsecret"].(string)},
	}
}

// token gets a token for s's default tenant with the client secret or fails the test.
func token(t *testing.T, c *http.Client, s *simulator.Server) string {
	t.Helper()
	return tokenFor(t, c, s, s)
}

// tokenFor gets a token for b, a tenant of s, with the client secret or fails the test.
func tokenFor(t *testing.T, c *http.Client, s *simulator.Server, b binder) string {
	t.Helper()
	resp, tr, body := postToken(t, c, s, secretForm(b), "", "")
	if resp.StatusCode != http.StatusOK || tr.AccessToken == "" {
		t.Fatalf("token: %d %s", resp.StatusCode, body)
	}
	return tr.AccessToken
}

// getInfo calls the Cloud Connector info endpoint with the token (none if empty).
func getInfo(t *testing.T, c *http.Client, s *simulator.Server, tok string) (*http.Response, []byte, error) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.URL()+simulator.DefaultInfoPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "application/json")
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp, body, err
}

// waitFor polls cond until it holds, failing the test after a generous minute (a busy machine
// may take seconds; a cond that never holds is a failure, not a slow pass).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// returns fails the test unless f returns within a minute: a bound for "does not hang", never a
// measure of speed.
func returns(t *testing.T, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); f() }()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatalf("%s did not return within a minute", what)
	}
}
