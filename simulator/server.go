package simulator

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults applied by New to zero Options fields.
const (
	// DefaultClientID is the OAuth client ID of the simulated binding, shaped like a real
	// Connectivity service binding's (note the "!" and "|" that clients must encode).
	DefaultClientID = "sb-clone-6f1c2a9e-4b7d-4e1a-9c3f-2d8b5e7a1c04!b1234|connectivity!b17"
	// DefaultInfoPath is the simulated binding's connectivity_service.scc_info_path.
	DefaultInfoPath = "/api/v1/cloudconnectors"
	// DefaultTokenLifetime is the lifetime of issued access tokens.
	DefaultTokenLifetime = time.Hour
	// TokenPath is the path of the XSUAA token endpoint, below token_service_url and certurl.
	TokenPath = "/oauth/token"
)

// maxRequestBody bounds what the simulator reads of a request body.
const maxRequestBody = 1 << 20

// Options configure a Server. The zero value is a plain-HTTP server with the sample landscape and
// a random client secret.
type Options struct {
	// TLS serves HTTPS with a CA generated at start (see RootCAs). The token endpoint then also
	// accepts X.509 client certificates (mTLS); X509Credentials requires it.
	TLS bool
	// Landscape is what the Cloud Connector info endpoint returns; nil means SampleLandscape().
	// A non-nil empty slice serves an empty array.
	Landscape []Agent
	// ClientID is the binding's clientid; empty means DefaultClientID.
	ClientID string
	// ClientSecret is the binding's clientsecret; empty means a random one shaped like XSUAA's
	// (it contains "$", "-", "_" and "=", which clients must encode).
	ClientSecret string
	// TokenLifetime is how long issued tokens are valid; zero means DefaultTokenLifetime. The
	// token response's expires_in is this in whole seconds (rounded down).
	TokenLifetime time.Duration
	// APILatency is added to every response of the Connectivity API (not the token endpoint).
	// The wait ends early if the client goes away or the server closes.
	APILatency time.Duration
	// InfoPath is the binding's connectivity_service.scc_info_path; empty means DefaultInfoPath.
	InfoPath string
}

// Server is a running simulator: XSUAA's token endpoint and the Connectivity API on one loopback
// listener. All methods are safe for concurrent use.
type Server struct {
	opts Options
	url  string
	host string // host:port of url
	pki  *pki   // nil unless TLS
	srv  *http.Server

	done      chan struct{} // closed by Close; wakes hung and delayed handlers
	serveDone chan struct{}
	closeOnce sync.Once

	lifeMu   sync.Mutex
	closed   bool
	inflight sync.WaitGroup

	tokenRequests, tokenFailures, apiRequests atomic.Int64

	certMu sync.Mutex // serialises client certificate issuance (slow: RSA key generation)

	mu        sync.Mutex
	landscape []byte
	secret    string
	client    *clientCert // current X.509 client credential; nil until first asked for
	tokens    map[string]*tokenState
	issued    []string
	faults    map[Target][]*queuedFault
}

// New starts a simulator listening on 127.0.0.1 on a random port. Call Close when done.
func New(opts Options) (*Server, error) {
	if opts.ClientID == "" {
		opts.ClientID = DefaultClientID
	}
	if opts.ClientSecret == "" {
		opts.ClientSecret = randomSecret()
	}
	switch {
	case opts.TokenLifetime == 0:
		opts.TokenLifetime = DefaultTokenLifetime
	case opts.TokenLifetime < 0:
		return nil, fmt.Errorf("simulator: negative TokenLifetime %v", opts.TokenLifetime)
	}
	if opts.APILatency < 0 {
		return nil, fmt.Errorf("simulator: negative APILatency %v", opts.APILatency)
	}
	if opts.InfoPath == "" {
		opts.InfoPath = DefaultInfoPath
	}
	if !strings.HasPrefix(opts.InfoPath, "/") || strings.ContainsAny(opts.InfoPath, "?#") || opts.InfoPath == TokenPath {
		return nil, fmt.Errorf("simulator: InfoPath %q must be a path starting with / other than %s", opts.InfoPath, TokenPath)
	}
	landscape := opts.Landscape
	if landscape == nil {
		landscape = SampleLandscape()
	}
	opts.Landscape = nil // served from the encoded copy only

	s := &Server{
		opts:      opts,
		done:      make(chan struct{}),
		serveDone: make(chan struct{}),
		landscape: encodeLandscape(landscape),
		secret:    opts.ClientSecret,
		tokens:    make(map[string]*tokenState),
		faults:    make(map[Target][]*queuedFault),
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

// URL returns the server's base URL, e.g. "http://127.0.0.1:41234" (https with TLS). It is the
// binding's token_service_url, url, certurl and connectivity_service.url.
func (s *Server) URL() string { return s.url }

// Close stops the server. Requests in progress, including hung and delayed ones, are cut off;
// Close returns once their handlers have ended (promptly). Calling Close again does nothing.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		s.lifeMu.Lock()
		s.closed = true
		s.lifeMu.Unlock()
		_ = s.srv.Close() // first: a handler woken by done must find its connection gone
		close(s.done)
		finished := make(chan struct{})
		go func() {
			s.inflight.Wait()
			<-s.serveDone
			close(finished)
		}()
		select {
		case <-finished:
		case <-time.After(5 * time.Second): // never expected; do not let a test hang on us
		}
	})
}

// SetLandscape replaces what the Cloud Connector info endpoint returns, from the next request
// on. The slice is copied. nil serves an empty array.
func (s *Server) SetLandscape(a []Agent) {
	if a == nil {
		a = []Agent{}
	}
	body := encodeLandscape(a)
	s.mu.Lock()
	s.landscape = body
	s.mu.Unlock()
}

// RootCAs returns a pool that trusts the server's certificate, or nil without TLS. Every call
// returns a new pool.
func (s *Server) RootCAs() *x509.CertPool {
	if s.pki == nil {
		return nil
	}
	return s.pki.pool()
}

// CACertificatePEM returns the PEM of the CA that signs the server and client certificates (for
// clients configured with a CA file), or nil without TLS.
func (s *Server) CACertificatePEM() []byte {
	if s.pki == nil {
		return nil
	}
	return bytes.Clone(s.pki.caPEM)
}

// Counts are the simulator's request counters.
type Counts struct {
	// TokenRequests counts every request to the token endpoint, whatever its outcome.
	TokenRequests int64
	// TokenFailures counts token requests that did not get a token: refused credentials, bad
	// grant type or method, and any fault other than a pure Delay (an error status, a replaced,
	// truncated or oversized body, a hang, or a client that left during a delay).
	TokenFailures int64
	// APIRequests counts every other request (the info path and any unknown path), whatever
	// its outcome, including those refused for want of a valid token.
	APIRequests int64
}

// Counts returns the counters. Each request is counted when it arrives, before any fault
// delays or hangs it, so the counts are exact under concurrency.
func (s *Server) Counts() Counts {
	return Counts{
		TokenRequests: s.tokenRequests.Load(),
		TokenFailures: s.tokenFailures.Load(),
		APIRequests:   s.apiRequests.Load(),
	}
}

// ResetCounts sets all counters to zero. IssuedTokens is not affected.
func (s *Server) ResetCounts() {
	s.tokenRequests.Store(0)
	s.tokenFailures.Store(0)
	s.apiRequests.Store(0)
}

func encodeLandscape(a []Agent) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(a); err != nil {
		panic(err) // maps of strings always encode
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// reply is a complete response, built before it is written so faults can alter or cut it.
type reply struct {
	status int
	header http.Header
	body   []byte
}

func jsonReply(status int, v any) reply {
	body, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	return reply{status: status, header: h, body: body}
}

// errorReply is the OAuth-style error document UAA and the API gateway answer with.
func errorReply(status int, code, description string) reply {
	return jsonReply(status, struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}{code, description})
}

// enter registers a handler; it fails once Close has started.
func (s *Server) enter() bool {
	s.lifeMu.Lock()
	defer s.lifeMu.Unlock()
	if s.closed {
		return false
	}
	s.inflight.Add(1)
	return true
}

// wait sleeps for d; it reports false if the request or the server ended first.
func (s *Server) wait(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
	case <-s.done:
	}
	return false
}

// handle serves every request: it counts it, applies the target's next fault, and otherwise
// answers as XSUAA or the Connectivity API would.
func (s *Server) handle(w http.ResponseWriter, r *http.Request) {
	if !s.enter() {
		abandon()
	}
	defer s.inflight.Done()

	target := TargetAPI
	if r.URL.Path == TokenPath {
		target = TargetToken
		s.tokenRequests.Add(1)
	} else {
		s.apiRequests.Add(1)
	}
	failToken := func() {
		if target == TargetToken {
			s.tokenFailures.Add(1)
		}
	}

	// Read the body first: net/http notices a client that goes away only once the body is
	// consumed, and hung handlers rely on that.
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBody))
	if err != nil {
		failToken()
		abandon()
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	ctx := r.Context()

	f, faulted := s.takeFault(target)
	if faulted && f.Delay > 0 && !s.wait(ctx, f.Delay) {
		failToken()
		abandon()
	}
	if faulted && f.Hang {
		failToken()
		select {
		case <-ctx.Done():
		case <-s.done:
		}
		abandon()
	}
	if target == TargetAPI && s.opts.APILatency > 0 && !s.wait(ctx, s.opts.APILatency) {
		abandon()
	}
	if faulted && f.OversizeBytes > 0 {
		failToken()
		s.streamOversize(ctx, w, f, target)
		return
	}

	var rep reply
	switch {
	case faulted && (f.Status != 0 || f.Body != ""):
		rep = faultReply(f, target)
	case target == TargetToken:
		rep = s.tokenReply(r)
	default:
		rep = s.apiReply(r)
	}
	if faulted {
		if f.RetryAfter != "" {
			rep.header.Set("Retry-After", f.RetryAfter)
		}
		if f.ContentType != "" {
			rep.header.Set("Content-Type", f.ContentType)
		}
	}
	if rep.status != http.StatusOK || (faulted && (f.Truncate || f.Body != "")) {
		failToken()
	}
	s.write(w, rep, faulted && f.Truncate)
}

// abandon ends a request without an answer: net/http drops the connection (HTTP/2: resets the
// stream) instead of sending an empty 200, and logs nothing.
func abandon() {
	panic(http.ErrAbortHandler)
}

// write sends rep; with truncate it sends the headers (announcing the full length) and the first
// half of the body, then drops the connection.
func (s *Server) write(w http.ResponseWriter, rep reply, truncate bool) {
	h := w.Header()
	for k, v := range rep.header {
		h[k] = v
	}
	h.Set("Content-Length", strconv.Itoa(len(rep.body)))
	w.WriteHeader(rep.status)
	if !truncate {
		_, _ = w.Write(rep.body)
		return
	}
	_, _ = w.Write(rep.body[:len(rep.body)/2])
	_ = http.NewResponseController(w).Flush()
	abandon()
}

// apiReply answers a request to anything but the token endpoint.
func (s *Server) apiReply(r *http.Request) reply {
	if r.URL.Path != s.opts.InfoPath {
		return errorReply(http.StatusNotFound, "not_found", "No resource at "+r.URL.Path)
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		rep := errorReply(http.StatusMethodNotAllowed, "method_not_allowed", "Request method '"+r.Method+"' is not supported")
		rep.header.Set("Allow", "GET, HEAD")
		return rep
	}
	if rep, ok := s.checkBearer(r); !ok {
		return rep
	}
	if !acceptsJSON(r.Header.Values("Accept")) {
		return errorReply(http.StatusNotAcceptable, "not_acceptable", "This resource produces application/json only")
	}
	s.mu.Lock()
	body := s.landscape
	s.mu.Unlock()
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	return reply{status: http.StatusOK, header: h, body: body}
}

// acceptsJSON reports whether the Accept header values (if any) admit application/json.
func acceptsJSON(values []string) bool {
	if len(values) == 0 {
		return true
	}
	for _, v := range values {
		for _, part := range strings.Split(v, ",") {
			mt, _, _ := strings.Cut(part, ";")
			switch strings.ToLower(strings.TrimSpace(mt)) {
			case "", "*/*", "application/*", "application/json":
				return true
			}
		}
	}
	return false
}
