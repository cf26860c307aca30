package simulator

import (
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ConnectivityProxy plays the Connectivity proxy an application on SAP BTP calls to reach an
// on-premise host through a connector's tunnel: plain http only (a CONNECT, i.e. https, gets
// 405), a bearer token in Proxy-Authorization (407 without a valid one), the connector chosen by
// SAP-Connectivity-SCC-Location_ID (none: the connector without a location ID), the virtual host
// of the request line routed to a simulated connector. Like SAP's, it refuses (400) a keep-alive
// connection whose location header changes.
type ConnectivityProxy struct {
	accept    func(token string) bool
	srv       *http.Server
	addr      string
	connState func(r *http.Request) *connState

	mu     sync.Mutex
	routes map[string]*SCC // location + "|" + virtual host
	log    []SCCRequest
}

// StartConnectivityProxy starts a proxy on 127.0.0.1 that accepts the bearer tokens accept
// approves (for example a token issued by the simulator's XSUAA).
func StartConnectivityProxy(accept func(token string) bool) (*ConnectivityProxy, error) {
	p := &ConnectivityProxy{accept: accept, routes: map[string]*SCC{}}
	type connKey struct{}
	p.srv = &http.Server{Handler: http.HandlerFunc(p.serve), ReadHeaderTimeout: 10 * time.Second, ErrorLog: log.New(io.Discard, "", 0),
		ConnContext: func(ctx context.Context, _ net.Conn) context.Context {
			return context.WithValue(ctx, connKey{}, &connState{})
		}}
	p.connState = func(r *http.Request) *connState { return r.Context().Value(connKey{}).(*connState) }
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("simulator: listen: %w", err)
	}
	p.addr = ln.Addr().String()
	go func() { _ = p.srv.Serve(ln) }()
	return p, nil
}

// connState is what the proxy remembers of one client connection: the location it serves.
type connState struct {
	mu       sync.Mutex
	location *string
}

// Host returns the proxy's host, as onpremise_proxy_host gives it.
func (p *ConnectivityProxy) Host() string { h, _, _ := net.SplitHostPort(p.addr); return h }

// Port returns the proxy's http port, as onpremise_proxy_http_port gives it.
func (p *ConnectivityProxy) Port() int {
	_, port, _ := net.SplitHostPort(p.addr)
	n, _ := strconv.Atoi(port)
	return n
}

// Route makes requests for virtualHost (host:port) with location header location ("" none)
// reach scc, as a cloud-to-on-premise mapping of that connector would.
func (p *ConnectivityProxy) Route(location, virtualHost string, scc *SCC) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.routes[location+"|"+strings.ToLower(virtualHost)] = scc
}

// Requests returns the proxy's request log, oldest first (Path is the full target URL).
func (p *ConnectivityProxy) Requests() []SCCRequest {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.log)
}

// Close stops the proxy.
func (p *ConnectivityProxy) Close() { _ = p.srv.Close() }

func (p *ConnectivityProxy) record(r *http.Request, status int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.log = append(p.log, SCCRequest{Method: r.Method, Path: r.URL.String(), Location: r.Header.Get("SAP-Connectivity-SCC-Location_ID"), Status: status, ViaProxy: true})
}

func (p *ConnectivityProxy) serve(w http.ResponseWriter, r *http.Request) {
	fail := func(status int, msg string) {
		p.record(r, status)
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, msg)
	}
	if r.Method == http.MethodConnect {
		fail(http.StatusMethodNotAllowed, "CONNECT is not supported: call the virtual host with http://; the tunnel is encrypted")
		return
	}
	if !r.URL.IsAbs() || r.URL.Scheme != "http" {
		fail(http.StatusBadRequest, "expected an absolute http:// request line")
		return
	}
	token, ok := strings.CutPrefix(r.Header.Get("Proxy-Authorization"), "Bearer ")
	if !ok || p.accept == nil || !p.accept(token) {
		fail(http.StatusProxyAuthRequired, "Proxy-Authorization: a valid bearer token is required")
		return
	}
	location := r.Header.Get("SAP-Connectivity-SCC-Location_ID")
	cs := p.connState(r)
	cs.mu.Lock()
	if cs.location == nil {
		cs.location = &location
	}
	same := *cs.location == location
	cs.mu.Unlock()
	if !same {
		fail(http.StatusBadRequest, "One of the headers [SAP-Connectivity-ConsumerAccount, SAP-Connectivity-SCC-Location_ID] was set with a different value on this connection")
		return
	}
	p.mu.Lock()
	scc := p.routes[location+"|"+strings.ToLower(r.URL.Host)]
	p.mu.Unlock()
	if scc == nil {
		fail(http.StatusBadGateway, fmt.Sprintf("no connector with location %q exposes %s", location, r.URL.Host))
		return
	}
	p.record(r, http.StatusOK)
	inner := r.Clone(r.Context())
	inner.URL.Scheme, inner.URL.Host, inner.RequestURI = "", "", ""
	inner.Header.Del("Proxy-Authorization")
	scc.serve(w, inner, true)
}
