package simulator_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/simulator"
)

func TestTokenEndpoint(t *testing.T) {
	t.Parallel()
	s := start(t, simulator.Options{})
	c := client(s)
	id := simulator.DefaultClientID
	secret := s.Credentials(simulator.SecretCredentials)["clientsecret"].(string)
	grant := url.Values{"grant_type": {"client_credentials"}}

	tests := []struct {
		name       string
		form       url.Values
		user, pass string
		wantStatus int
		wantError  string
	}{
		{"form secret", secretForm(s), "", "", 200, ""},
		{"basic auth raw", grant, id, secret, 200, ""},
		{"basic auth form-encoded", grant, url.QueryEscape(id), url.QueryEscape(secret), 200, ""},
		{"wrong secret in form", url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {"nope"}}, "", "", 401, "invalid_client"},
		{"wrong secret in basic", grant, id, "nope", 401, "invalid_client"},
		{"wrong client id", url.Values{"grant_type": {"client_credentials"}, "client_id": {"sb-other"}, "client_secret": {secret}}, "", "", 401, "invalid_client"},
		{"no credentials", grant, "", "", 401, "invalid_client"},
		{"no secret and no certificate", url.Values{"grant_type": {"client_credentials"}, "client_id": {id}}, "", "", 401, "invalid_client"},
		{"password grant", url.Values{"grant_type": {"password"}, "client_id": {id}, "client_secret": {secret}}, "", "", 400, "unsupported_grant_type"},
		{"missing grant type", url.Values{"client_id": {id}, "client_secret": {secret}}, "", "", 400, "invalid_request"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			resp, tr, body := postToken(t, c, s, tc.form, tc.user, tc.pass)
			if resp.StatusCode != tc.wantStatus {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.wantStatus, body)
			}
			if !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
				t.Errorf("Content-Type %q", resp.Header.Get("Content-Type"))
			}
			if tc.wantError != "" {
				if tr.Error != tc.wantError || tr.AccessToken != "" {
					t.Errorf("body %s, want error %s", body, tc.wantError)
				}
				return
			}
			if tr.AccessToken == "" || tr.TokenType != "bearer" || tr.ExpiresIn != 3600 || tr.Scope == "" || tr.JTI == "" {
				t.Errorf("token response %s", body)
			}
		})
	}

	t.Run("exact 401 body", func(t *testing.T) {
		t.Parallel()
		_, _, body := postToken(t, c, s, grant, id, "nope")
		if want := `{"error":"invalid_client","error_description":"Bad credentials"}`; body != want {
			t.Errorf("body %s, want %s", body, want)
		}
	})
	t.Run("GET is 405", func(t *testing.T) {
		t.Parallel()
		resp, err := c.Get(s.URL() + simulator.TokenPath)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "POST" {
			t.Errorf("status %d Allow %q", resp.StatusCode, resp.Header.Get("Allow"))
		}
	})
}

func TestTokenLooksLikeAnXSUAAJWT(t *testing.T) {
	t.Parallel()
	s := start(t, simulator.Options{TokenLifetime: 90 * time.Second})
	c := client(s)
	resp, tr, body := postToken(t, c, s, secretForm(s), "", "")
	if resp.StatusCode != 200 || tr.ExpiresIn != 90 {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	parts := strings.Split(tr.AccessToken, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d parts, want 3", len(parts))
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims struct {
		JTI      string `json:"jti"`
		ClientID string `json:"client_id"`
		Exp      int64  `json:"exp"`
	}
	if err := json.Unmarshal(raw, &claims); err != nil {
		t.Fatal(err)
	}
	if claims.JTI != tr.JTI || claims.ClientID != simulator.DefaultClientID || claims.Exp < time.Now().Unix()+80 {
		t.Errorf("claims %+v", claims)
	}
	if second := token(t, c, s); second == tr.AccessToken {
		t.Error("two requests got the same token")
	}
	if got := s.IssuedTokens(); len(got) != 2 || got[0] != tr.AccessToken {
		t.Errorf("IssuedTokens = %d tokens, first %v", len(got), got[0] == tr.AccessToken)
	}
}

func TestRotateSecret(t *testing.T) {
	t.Parallel()
	s := start(t, simulator.Options{ClientSecret: "first"})
	c := client(s)
	old := token(t, c, s)
	oldForm := secretForm(s)
	s.RotateSecret("second")
	if resp, _, _ := postToken(t, c, s, oldForm, "", ""); resp.StatusCode != 401 {
		t.Errorf("old secret: %d, want 401", resp.StatusCode)
	}
	if got := s.Credentials(simulator.SecretCredentials)["clientsecret"]; got != "second" {
		t.Errorf("clientsecret after rotation = %v", got)
	}
	token(t, c, s)
	if resp, _, _ := getInfo(t, c, s, old); resp.StatusCode != 200 {
		t.Errorf("token issued before the rotation: %d, want it still valid", resp.StatusCode)
	}
	s.RotateSecret("")
	if got := s.Credentials(simulator.SecretCredentials)["clientsecret"]; got == "second" || got == "" {
		t.Errorf("RotateSecret(\"\") left %v", got)
	}
}

func TestDefaultSecretNeedsEncoding(t *testing.T) {
	t.Parallel()
	a := start(t, simulator.Options{}).Credentials(simulator.SecretCredentials)["clientsecret"].(string)
	b := start(t, simulator.Options{}).Credentials(simulator.SecretCredentials)["clientsecret"].(string)
	if a == b || !strings.Contains(a, "$") || url.QueryEscape(a) == a {
		t.Errorf("secrets %q, %q: want random, with characters that need encoding", a, b)
	}
}

// foreignCert is a client certificate from a CA the simulator does not know.
func foreignCert(t *testing.T) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(7),
		Subject:      pkix.Name{CommonName: "intruder"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func TestX509(t *testing.T) {
	t.Parallel()
	s := start(t, simulator.Options{TLS: true})
	creds := s.Credentials(simulator.X509Credentials)
	for _, k := range []string{"clientid", "certurl", "certificate", "key"} {
		if v, _ := creds[k].(string); v == "" {
			t.Errorf("x509 credentials lack %s", k)
		}
	}
	if _, ok := creds["clientsecret"]; ok || creds["credential-type"] != "x509" {
		t.Errorf("x509 credentials: clientsecret present %v, credential-type %v", ok, creds["credential-type"])
	}
	if !strings.HasPrefix(creds["key"].(string), "-----BEGIN RSA PRIVATE KEY-----") {
		t.Errorf("key is not PKCS #1 PEM")
	}
	pair := x509Pair(t, creds)
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {creds["clientid"].(string)}}

	check := func(name string, c *http.Client, want int) {
		t.Helper()
		resp, tr, body := postToken(t, c, s, form, "", "")
		if resp.StatusCode != want {
			t.Errorf("%s: status %d, want %d: %s", name, resp.StatusCode, want, body)
		}
		if want == 401 && tr.Error != "invalid_client" {
			t.Errorf("%s: body %s", name, body)
		}
	}
	check("current certificate", client(s, pair), 200)
	check("no certificate", client(s), 401)
	check("certificate from another CA", client(s, foreignCert(t)), 401)

	// Forcing the foreign certificate onto the wire fails the handshake instead.
	forced := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{
		RootCAs: s.RootCAs(),
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			c := foreignCert(t)
			return &c, nil
		},
	}}, Timeout: 5 * time.Second}
	if resp, err := forced.PostForm(s.URL()+simulator.TokenPath, form); err == nil {
		resp.Body.Close()
		t.Errorf("forced foreign certificate: status %d, want a TLS error", resp.StatusCode)
	}

	certPEM, keyPEM, err := s.RotateCertificate()
	if err != nil {
		t.Fatal(err)
	}
	check("certificate before rotation", client(s, pair), 401)
	rotated, err := tls.X509KeyPair([]byte(certPEM), []byte(keyPEM))
	if err != nil {
		t.Fatal(err)
	}
	check("rotated certificate", client(s, rotated), 200)
	if now := s.Credentials(simulator.X509Credentials); now["certificate"] != certPEM || now["key"] != keyPEM {
		t.Error("Credentials does not carry the rotated certificate")
	}
	// A secret client of the same server still works over TLS.
	token(t, client(s), s)
}

func TestX509NeedsTLS(t *testing.T) {
	t.Parallel()
	s := start(t, simulator.Options{})
	if s.RootCAs() != nil || s.CACertificatePEM() != nil {
		t.Error("RootCAs or CA PEM without TLS")
	}
	if _, _, err := s.RotateCertificate(); err == nil {
		t.Error("RotateCertificate without TLS: no error")
	}
	if err := s.WriteKymaBinding(t.TempDir(), simulator.X509Credentials); err == nil {
		t.Error("WriteKymaBinding x509 without TLS: no error")
	}
	defer func() {
		if recover() == nil {
			t.Error("Credentials(X509Credentials) without TLS did not panic")
		}
	}()
	s.Credentials(simulator.X509Credentials)
}

func TestTLSServerCertificate(t *testing.T) {
	t.Parallel()
	s := start(t, simulator.Options{TLS: true})
	if !strings.HasPrefix(s.URL(), "https://127.0.0.1:") {
		t.Fatalf("URL %s", s.URL())
	}
	conn, err := tls.Dial("tcp", strings.TrimPrefix(s.URL(), "https://"), &tls.Config{RootCAs: s.RootCAs()})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	leaf := conn.ConnectionState().PeerCertificates[0]
	for _, host := range []string{"127.0.0.1", "::1", "localhost"} {
		if err := leaf.VerifyHostname(host); err != nil {
			t.Errorf("server certificate does not cover %s: %v", host, err)
		}
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(s.CACertificatePEM()) {
		t.Error("CACertificatePEM is not a PEM certificate")
	}
	if !slices.Contains([]string{"h2", "http/1.1", ""}, conn.ConnectionState().NegotiatedProtocol) {
		t.Errorf("ALPN %q", conn.ConnectionState().NegotiatedProtocol)
	}
}
