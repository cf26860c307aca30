package simulator

import (
	"bytes"
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"maps"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

const (
	// DefaultClientID is the default tenant's OAuth client ID, shaped like a real Connectivity
	// service binding's (note the "!" and "|" that clients must encode).
	DefaultClientID = "sb-clone-6f1c2a9e-4b7d-4e1a-9c3f-2d8b5e7a1c04!b1234|connectivity!b17"
	// DefaultInfoPath is the bindings' connectivity_service.scc_info_path, the same for every tenant.
	DefaultInfoPath = "/api/v1/cloudconnectors"
	// TokenPath is the path of the XSUAA token endpoint, below token_service_url and certurl.
	TokenPath = "/oauth/token"
)

// Options configure a Server. The zero value is a plain-HTTP server whose default tenant serves
// the sample landscape with a random client secret.
type Options struct {
	// TLS serves HTTPS (HTTP/2 too) with a CA generated at start (see RootCAs); the token
	// endpoint then also accepts X.509 client certificates, which X509Credentials needs.
	TLS bool
	// Landscape and ClientSecret are the default tenant's (see TenantOptions).
	Landscape    []Agent
	ClientSecret string
	// TokenLifetime is how long issued tokens are valid; zero means one hour.
	TokenLifetime time.Duration
	// APILatency and TokenLatency are added to every answer of the API and of the token
	// endpoint, for every tenant. For one slow tenant, inject a Fault with a Delay instead.
	APILatency, TokenLatency time.Duration
}

// Server is a running simulator. The embedded Tenant is the default tenant. All methods are safe
// for concurrent use.
type Server struct {
	*Tenant

	opts Options
	url  string
	host string // host:port of url
	pki  *pki   // nil unless TLS
	srv  *http.Server

	done      chan struct{} // closed by Close; wakes hung and delayed handlers
	serveDone chan struct{}
	closeOnce sync.Once
	inflight  sync.WaitGroup // handlers; Add only under mu while !closed

	mu         sync.Mutex
	closed     bool
	tenants    []*Tenant
	byClientID map[string]*Tenant
	tokens     map[string]*tokenState
}

// New starts a simulator on 127.0.0.1, on a random port. Call Close when done.
func New(opts Options) (*Server, error) {
	if opts.TokenLifetime == 0 {
		opts.TokenLifetime = time.Hour
	}
	if opts.TokenLifetime < 0 || opts.APILatency < 0 || opts.TokenLatency < 0 {
		return nil, fmt.Errorf("simulator: negative duration in %+v", opts)
	}
	s := &Server{
		opts:       opts,
		done:       make(chan struct{}),
		serveDone:  make(chan struct{}),
		byClientID: make(map[string]*Tenant),
		tokens:     make(map[string]*tokenState),
	}
	s.srv = &http.Server{
		Handler:           http.HandlerFunc(s.handle),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0), // handshake failures are expected in tests
	}
	scheme := "http"
	if opts.TLS {
		p, err := newPKI()
		if err != nil {
			return nil, err
		}
		s.pki = p
		s.srv.TLSConfig = &tls.Config{
			Certificates: []tls.Certificate{p.server},
			ClientAuth:   tls.VerifyClientCertIfGiven,
			ClientCAs:    p.pool(),
			MinVersion:   tls.VersionTLS12,
		}
		scheme = "https"
	}
	var err error
	s.Tenant, err = s.AddTenant(TenantOptions{Name: defaultTenantName, Subdomain: defaultSubdomain,
		ClientID: DefaultClientID, ClientSecret: opts.ClientSecret, Landscape: opts.Landscape})
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("simulator: listen: %w", err)
	}
	s.host = ln.Addr().String()
	s.url = scheme + "://" + s.host
	go func() {
		defer close(s.serveDone)
		if opts.TLS {
			_ = s.srv.ServeTLS(ln, "", "")
		} else {
			_ = s.srv.Serve(ln)
		}
	}()
	return s, nil
}

// URL returns the base URL of every endpoint, e.g. "http://127.0.0.1:41234".
func (s *Server) URL() string { return s.url }

// Close stops the server, cuts off requests in progress (hung and delayed ones too) and returns
// once their handlers have ended. Calling it again does nothing.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		_ = s.srv.Close() // first: a handler woken by done must find its connection gone
		close(s.done)
		s.inflight.Wait()
		<-s.serveDone
	})
}

// RootCAs returns a new pool that trusts the server's certificate, or nil without TLS.
func (s *Server) RootCAs() *x509.CertPool {
	if s.pki == nil {
		return nil
	}
	return s.pki.pool()
}

// CACertificatePEM returns the PEM of the CA that signs every certificate, or nil without TLS.
func (s *Server) CACertificatePEM() []byte {
	if s.pki == nil {
		return nil
	}
	return bytes.Clone(s.pki.caPEM)
}

func encodeJSON(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(err) // only maps, slices and strings are encoded
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// reply is a complete response, built before it is written so that faults can alter it.
type reply struct {
	status int
	header http.Header
	body   []byte
}

// errorReply is the OAuth-style error document SAP answers with; headers come in name, value pairs.
func errorReply(status int, code, description string, headers ...string) reply {
	h := http.Header{"Content-Type": {"application/json"}}
	for i := 0; i+1 < len(headers); i += 2 {
		h.Set(headers[i], headers[i+1])
	}
	return reply{status: status, header: h, body: encodeJSON(map[string]string{"error": code, "error_description": description})}
}

// enter registers a handler; it fails once Close has started.
func (s *Server) enter() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.inflight.Add(1)
	return true
}

// wait sleeps for d; it reports false if the request or the server ended first.
func (s *Server) wait(ctx context.Context, d time.Duration) bool {
	select {
	case <-time.After(d):
		return true
	case <-ctx.Done():
	case <-s.done:
	}
	return false
}

// handle serves every request: it finds the tenant, counts the request, applies the tenant's next
// fault, and otherwise answers as XSUAA or the Connectivity API would.
func (s *Server) handle(w http.ResponseWriter, r *http.Request) {
	if !s.enter() {
		abandon()
	}
	defer s.inflight.Done()

	// Read the body first: net/http notices a client that goes away only once the body is
	// consumed, and hung handlers rely on that.
	body, readErr := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	r.Body = io.NopCloser(bytes.NewReader(body))
	ctx := r.Context()

	target, latency, t := TargetAPI, s.opts.APILatency, s.Tenant
	var formErr error
	var tok *tokenState
	if r.URL.Path == TokenPath {
		target, latency = TargetToken, s.opts.TokenLatency
		formErr = r.ParseForm()
		t = s.tenantByClientID(clientIDOf(r))
	} else if tok = s.token(bearerToken(r)); tok != nil {
		t = tok.tenant
	}
	t.requests[target].Add(1)
	issued := false
	defer func() { // also when the handler abandons the request
		if target == TargetToken && !issued {
			t.tokenFailures.Add(1)
		}
	}()
	f := t.takeFault(target) // the zero Fault when none is pending
	if f.Hang {
		f.Delay = math.MaxInt64
	}
	if readErr != nil || !s.wait(ctx, f.Delay) || f.Hang || !s.wait(ctx, latency) {
		abandon()
	}
	var rep reply
	switch {
	case f.OversizeBytes > 0:
		rep = reply{status: cmp.Or(f.Status, http.StatusOK), header: http.Header{"Content-Type": {"application/json"}}}
	case f.Status != 0 || f.Body != "":
		rep = faultReply(f)
	case target == TargetToken:
		rep = s.tokenReply(r, t, formErr)
	default:
		rep = apiReply(r, tok)
	}
	if f.RetryAfter != "" {
		rep.header.Set("Retry-After", f.RetryAfter)
	}
	if f.ContentType != "" {
		rep.header.Set("Content-Type", f.ContentType)
	}
	issued = rep.status == http.StatusOK && !f.Truncate && f.Body == "" && f.OversizeBytes == 0
	if f.OversizeBytes > 0 {
		streamOversize(ctx, w, rep, f)
		return
	}
	write(w, rep, f.Truncate)
}

// abandon ends a request without an answer: net/http drops the connection (HTTP/2: resets the
// stream) and logs nothing.
func abandon() {
	panic(http.ErrAbortHandler)
}

// write sends rep; with truncate it sends the headers (announcing the full length) and the first
// half of the body, then drops the connection.
func write(w http.ResponseWriter, rep reply, truncate bool) {
	maps.Copy(w.Header(), rep.header)
	w.Header().Set("Content-Length", strconv.Itoa(len(rep.body)))
	w.WriteHeader(rep.status)
	if !truncate {
		_, _ = w.Write(rep.body)
		return
	}
	_, _ = w.Write(rep.body[:len(rep.body)/2])
	_ = http.NewResponseController(w).Flush()
	abandon()
}

// apiReply answers a request to anything but the token endpoint; tok is its bearer token's state.
func apiReply(r *http.Request, tok *tokenState) reply {
	if r.URL.Path != DefaultInfoPath {
		return errorReply(http.StatusNotFound, "not_found", "No resource at "+r.URL.Path)
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return errorReply(http.StatusMethodNotAllowed, "method_not_allowed", "Request method '"+r.Method+"' is not supported", "Allow", "GET, HEAD")
	}
	if rep, ok := checkBearer(r, tok); !ok {
		return rep
	}
	if !acceptsJSON(r.Header.Values("Accept")) {
		return errorReply(http.StatusNotAcceptable, "not_acceptable", "This resource produces application/json only")
	}
	t := tok.tenant
	t.mu.Lock()
	body := t.landscape
	if len(t.script) > 0 {
		body = t.script[min(t.reads, len(t.script)-1)]
		t.reads++
	}
	t.mu.Unlock()
	return reply{status: http.StatusOK, body: body,
		header: http.Header{"Content-Type": {"application/json"}, "Cache-Control": {"no-store"}}}
}

// acceptsJSON reports whether the Accept header values (if any) admit application/json.
func acceptsJSON(values []string) bool {
	for part := range strings.SplitSeq(strings.Join(values, ","), ",") {
		mt, _, _ := strings.Cut(part, ";")
		switch strings.ToLower(strings.TrimSpace(mt)) {
		case "", "*/*", "application/*", "application/json":
			return true
		}
	}
	return false
}
