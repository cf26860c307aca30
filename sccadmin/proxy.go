package sccadmin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/binding"
)

// Reaching a connector through its own tunnel (the Cloud ALM pattern): plain http to the
// Connectivity proxy, the mapping's virtual host in the request line, a bearer token in
// Proxy-Authorization and the connector's location ID in SAP-Connectivity-SCC-Location_ID. The
// proxy refuses keep-alive connections that switch location, so each location ID gets a
// transport of its own.

// LocationHeader picks the connector (by location ID) the Connectivity proxy routes to.
const LocationHeader = "SAP-Connectivity-SCC-Location_ID"

// The Kyma in-cluster Connectivity proxy's default address; it needs no Proxy-Authorization.
const (
	KymaProxyHost = "connectivity-proxy.kyma-system.svc.cluster.local"
	KymaProxyPort = 20003
)

// Proxy is the Connectivity proxy the entries with via: connectivity-proxy are read through.
// It is safe for concurrent use.
type Proxy struct {
	addr   *url.URL
	tokens oauth2.TokenSource // nil: no Proxy-Authorization (the Kyma in-cluster proxy)

	mu         sync.Mutex
	transports map[string]*http.Transport // one per location ID
}

// NewProxy returns the proxy at host:port; tokens gives the bearer token for Proxy-Authorization
// (nil sends none, as for the Kyma in-cluster proxy).
func NewProxy(host string, port int, tokens oauth2.TokenSource) (*Proxy, error) {
	if host == "" || port < 1 || port > 65535 {
		return nil, fmt.Errorf("connectivity proxy %q port %d: give the proxy's host and its http port (onpremise_proxy_http_port)", host, port)
	}
	return &Proxy{addr: &url.URL{Scheme: "http", Host: net.JoinHostPort(host, strconv.Itoa(port))}, tokens: tokens,
		transports: map[string]*http.Transport{}}, nil
}

// KymaProxy returns the Kyma in-cluster Connectivity proxy at its default address, which needs
// no Proxy-Authorization.
func KymaProxy() *Proxy {
	p, _ := NewProxy(KymaProxyHost, KymaProxyPort, nil) // a valid constant address
	return p
}

// Address returns the proxy's host:port.
func (p *Proxy) Address() string { return p.addr.Host }

// transport returns the round tripper for location: its own connections to the proxy, the
// location header and a fresh token on every request.
func (p *Proxy) transport(location string, maxConns int) http.RoundTripper {
	p.mu.Lock()
	defer p.mu.Unlock()
	t := p.transports[location]
	if t == nil {
		t = http.DefaultTransport.(*http.Transport).Clone()
		t.Proxy = http.ProxyURL(p.addr)
		t.MaxIdleConnsPerHost = maxConns
		p.transports[location] = t
	}
	return &proxyTransport{base: t, proxy: p, location: location}
}

// CloseIdleConnections closes the idle connections of every location's transport.
func (p *Proxy) CloseIdleConnections() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, t := range p.transports {
		t.CloseIdleConnections()
	}
}

// ProxyError is a failure of the Connectivity proxy itself: no token, or the proxy refused.
type ProxyError struct {
	Op  string
	Err error
}

func (e *ProxyError) Error() string { return "connectivity proxy: " + e.Op + ": " + e.Err.Error() }
func (e *ProxyError) Unwrap() error { return e.Err }

type proxyTransport struct {
	base     *http.Transport
	proxy    *Proxy
	location string
}

func (t *proxyTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(req.Context())
	if t.proxy.tokens != nil {
		tok, err := t.proxy.tokens.Token()
		if err != nil {
			var re *oauth2.RetrieveError
			if errors.As(err, &re) { // name XSUAA's verdict, never the response body
				err = fmt.Errorf("XSUAA refused the proxy binding's credentials (%s, HTTP %d): check or renew the binding of plan lite", re.ErrorCode, statusOf(re))
			}
			return nil, &ProxyError{Op: "getting a token", Err: err}
		}
		r.Header.Set("Proxy-Authorization", "Bearer "+tok.AccessToken)
	}
	if t.location != "" {
		r.Header.Set(LocationHeader, t.location)
	}
	return t.base.RoundTrip(r)
}

func statusOf(re *oauth2.RetrieveError) int {
	if re.Response != nil {
		return re.Response.StatusCode
	}
	return 0
}

// ProxyBinding is what a Connectivity binding of plan lite (or connectivity_proxy) gives for the
// proxy: its host and http port and the XSUAA client credentials for its token.
type ProxyBinding struct {
	Host         string         // onpremise_proxy_host
	Port         int            // onpremise_proxy_http_port (else onpremise_proxy_port)
	ClientID     string         // clientid
	ClientSecret binding.Secret // clientsecret
	TokenURL     string         // token_service_url (else url) + /oauth/token
}

// ParseProxyBinding reads a service key of plan lite: the credentials object, or the same under
// "credentials".
func ParseProxyBinding(data []byte) (*ProxyBinding, error) {
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("connectivity proxy binding: not JSON: %w", err)
	}
	if c, ok := doc["credentials"].(map[string]any); ok {
		doc = c
	}
	get := func(k string) string {
		switch v := doc[k].(type) {
		case string:
			return strings.TrimSpace(v)
		case float64:
			return strconv.FormatFloat(v, 'f', -1, 64)
		}
		return ""
	}
	return proxyBinding(get)
}

// LoadProxyBinding reads a lite binding from a service key file or a Kyma binding folder (one
// file per credential key).
func LoadProxyBinding(path string) (*ProxyBinding, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("connectivity proxy binding: %w", err)
	}
	if !info.IsDir() {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("connectivity proxy binding: %w", err)
		}
		return ParseProxyBinding(data)
	}
	return proxyBinding(func(k string) string {
		data, err := os.ReadFile(filepath.Join(path, k))
		if err != nil {
			return ""
		}
		return strings.TrimSpace(string(data))
	})
}

func proxyBinding(get func(string) string) (*ProxyBinding, error) {
	b := &ProxyBinding{Host: get("onpremise_proxy_host"), ClientID: get("clientid"), ClientSecret: binding.Secret(get("clientsecret"))}
	port := get("onpremise_proxy_http_port")
	if port == "" {
		port = get("onpremise_proxy_port")
	}
	b.Port, _ = strconv.Atoi(port)
	base := strings.TrimRight(get("token_service_url"), "/")
	if base == "" {
		base = strings.TrimRight(get("url"), "/")
	}
	if base != "" && !strings.HasSuffix(base, "/oauth/token") {
		base += "/oauth/token"
	}
	b.TokenURL = base
	var missing []string
	for _, f := range []struct{ name, v string }{{"onpremise_proxy_host", b.Host}, {"onpremise_proxy_http_port", port},
		{"clientid", b.ClientID}, {"clientsecret", b.ClientSecret.Reveal()}, {"token_service_url or url", b.TokenURL}} {
		if f.v == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("connectivity proxy binding: missing %s: give a binding of plan lite (or connectivity_proxy)", strings.Join(missing, ", "))
	}
	if b.Port < 1 || b.Port > 65535 {
		return nil, fmt.Errorf("connectivity proxy binding: onpremise_proxy_http_port %q is not a port", port)
	}
	return b, nil
}

// Proxy returns the proxy of the binding, fetching its tokens with client credentials (cached,
// replaced two minutes before they expire). client makes the token requests (nil: a client
// with a 15 s timeout).
func (b *ProxyBinding) Proxy(client *http.Client) (*Proxy, error) {
	if client == nil {
		client = &http.Client{Timeout: 15 * time.Second}
	}
	cfg := &clientcredentials.Config{ClientID: b.ClientID, ClientSecret: b.ClientSecret.Reveal(), TokenURL: b.TokenURL, AuthStyle: oauth2.AuthStyleInParams}
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, client)
	return NewProxy(b.Host, b.Port, oauth2.ReuseTokenSourceWithExpiry(nil, cfg.TokenSource(ctx), 2*time.Minute))
}
