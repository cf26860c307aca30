// Package httpserver serves an MCP server over the Streamable HTTP transport, for remote clients:
// the MCP endpoint at /mcp (mcp-go's Streamable HTTP server, stateless, so any instance behind a
// router answers any request), bearer-token authentication (a static token or XSUAA JWTs) with
// the RFC 9728 protected-resource metadata, Origin validation, liveness and readiness probes,
// Prometheus metrics and the audit log of tool calls. It knows nothing of the tools themselves.
package httpserver

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/mark3labs/mcp-go/server"
)

// Paths the server answers.
const (
	MCPPath      = "/mcp"
	HealthPath   = "/healthz"
	ReadyPath    = "/readyz"
	MetricsPath  = "/metrics"
	MetadataPath = server.WellKnownProtectedResourcePath
)

// Defaults of Config.
const (
	// DefaultShutdownTimeout is how long calls in flight may take to finish after SIGTERM.
	DefaultShutdownTimeout = 10 * time.Second
	// DefaultMaxBodyBytes is the largest request body /mcp reads (a tool call is a few KiB).
	DefaultMaxBodyBytes = 4 << 20
	// DefaultReadTimeout bounds the arrival of a request's headers and body.
	DefaultReadTimeout = 30 * time.Second
	// DefaultWriteTimeout bounds the writing of every answer but the MCP endpoint's (whose
	// answers to an authenticated client may be event streams that last).
	DefaultWriteTimeout = 30 * time.Second
	// DefaultIdleTimeout is how long a keep-alive connection may wait for its next request.
	DefaultIdleTimeout = 2 * time.Minute
)

// Config is what a Server serves and how.
type Config struct {
	// Addr is the listen address, e.g. "127.0.0.1:8080" or ":8080".
	Addr string
	// MCP is the MCP server to serve.
	MCP *server.MCPServer
	// Ready reports why the server cannot answer yet (for /readyz); nil error means ready. Nil
	// Ready: always ready.
	Ready func(context.Context) error
	// StaticToken and XSUAA authenticate requests; with neither, only a loopback Addr is allowed.
	StaticToken *StaticToken
	XSUAA       *XSUAA
	// BaseURL is the public URL of the server behind a router (e.g. https://mcp.example.com);
	// default: derived from each request's Host.
	BaseURL string
	// AllowedOrigins are the browser origins (scheme://host[:port]) allowed besides the server's
	// own; requests with any other Origin are refused.
	AllowedOrigins []string
	// Metrics, when set, is served at /metrics: behind the authentication, or, with MetricsAddr,
	// unauthenticated on a listener of its own.
	Metrics     *Metrics
	MetricsAddr string
	// Protected are more handlers served behind the same authentication as /mcp, by ServeMux
	// pattern, e.g. "GET /report".
	Protected map[string]http.Handler
	// ShutdownTimeout bounds the wait for calls in flight at shutdown; default DefaultShutdownTimeout.
	ShutdownTimeout time.Duration
	// MaxBodyBytes is the largest request body of /mcp; larger ones are answered 413. Default
	// DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// ReadTimeout, WriteTimeout and IdleTimeout bound slow and idle connections; defaults
	// DefaultReadTimeout, DefaultWriteTimeout, DefaultIdleTimeout. WriteTimeout does not apply to
	// authenticated /mcp requests, whose answers may be long event streams.
	ReadTimeout, WriteTimeout, IdleTimeout time.Duration
	Logger                                 *slog.Logger
	// AuditLogger receives one record per refused request (rate-limited); default Logger.
	AuditLogger *slog.Logger
}

// ErrNoAuth is returned by Listen for a listen address other than loopback without authentication.
var ErrNoAuth = errors.New("refusing to serve MCP on a non-loopback address without authentication: " +
	"set MCP_AUTH_TOKEN or --auth-token-file PATH (a static bearer token), or bind an xsuaa service instance " +
	"(VCAP_SERVICES) or pass --xsuaa-binding PATH (its service key); or listen on 127.0.0.1")

// ErrMetricsExposed is returned by Listen for --metrics-addr on an address other than loopback
// while the MCP endpoint has no authentication.
var ErrMetricsExposed = errors.New("refusing to serve /metrics on a non-loopback --metrics-addr while the MCP endpoint has no authentication: " +
	"listen on 127.0.0.1 (e.g. --metrics-addr 127.0.0.1:9090), or enable authentication (MCP_AUTH_TOKEN, --auth-token-file or an xsuaa binding)")

// Server is a listening Streamable HTTP server.
type Server struct {
	cfg      Config
	logger   *slog.Logger
	refusals *refusalLog
	ln       net.Listener
	mln      net.Listener // nil without MetricsAddr
	http     *http.Server
	metrics  *http.Server
	base     *url.URL // nil: derived per request

	readyMu  sync.Mutex
	notReady string // the reason last logged for /readyz, "" when ready
}

// Listen validates cfg and listens on its addresses. A non-loopback address without
// authentication is ErrNoAuth.
func Listen(cfg Config) (*Server, error) {
	if cfg.MCP == nil {
		return nil, errors.New("httpserver: no MCP server")
	}
	noAuth := cfg.StaticToken == nil && cfg.XSUAA == nil
	if noAuth && !loopback(cfg.Addr) {
		return nil, ErrNoAuth
	}
	if noAuth && cfg.MetricsAddr != "" && cfg.Metrics != nil && !loopback(cfg.MetricsAddr) {
		return nil, ErrMetricsExposed
	}
	s := &Server{cfg: cfg, logger: cmp.Or(cfg.Logger, slog.New(slog.DiscardHandler))}
	s.refusals = &refusalLog{logger: cmp.Or(cfg.AuditLogger, s.logger)}
	s.cfg.ShutdownTimeout = cmp.Or(cfg.ShutdownTimeout, DefaultShutdownTimeout)
	s.cfg.MaxBodyBytes = cmp.Or(cfg.MaxBodyBytes, DefaultMaxBodyBytes)
	s.cfg.ReadTimeout = cmp.Or(cfg.ReadTimeout, DefaultReadTimeout)
	s.cfg.WriteTimeout = cmp.Or(cfg.WriteTimeout, DefaultWriteTimeout)
	s.cfg.IdleTimeout = cmp.Or(cfg.IdleTimeout, DefaultIdleTimeout)
	if cfg.BaseURL != "" {
		u, err := url.Parse(strings.TrimRight(cfg.BaseURL, "/"))
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("--base-url must be an absolute http(s) URL such as https://mcp.example.com, got %q", cfg.BaseURL)
		}
		s.base = u
	}
	for _, o := range cfg.AllowedOrigins {
		if u, err := url.Parse(o); err != nil || u.Scheme == "" || u.Host == "" || (u.Path != "" && u.Path != "/") {
			return nil, fmt.Errorf("--allowed-origin must be an origin such as https://app.example.com, got %q", o)
		}
	}
	var err error
	if s.ln, err = net.Listen("tcp", cfg.Addr); err != nil {
		return nil, fmt.Errorf("listening on %s: %w", cfg.Addr, err)
	}
	s.http = s.httpServer(s.handler(), cfg.Addr)
	if cfg.MetricsAddr != "" && cfg.Metrics != nil {
		if s.mln, err = net.Listen("tcp", cfg.MetricsAddr); err != nil {
			s.ln.Close()
			return nil, fmt.Errorf("listening on --metrics-addr %s: %w", cfg.MetricsAddr, err)
		}
		mux := http.NewServeMux()
		mux.Handle(MetricsPath, cfg.Metrics.Handler())
		s.metrics = s.httpServer(mux, cfg.MetricsAddr)
	}
	return s, nil
}

// httpServer serves h on a listener at addr with the server's timeouts: headers must arrive
// within ReadTimeout (at most 10 s), a connection idle for IdleTimeout is closed, and guard
// bounds each request's body and answer (Go's ReadTimeout and WriteTimeout would also cut the
// event streams of /mcp).
func (s *Server) httpServer(h http.Handler, addr string) *http.Server {
	return &http.Server{Handler: s.guard(h, loopback(addr)), ReadHeaderTimeout: min(s.cfg.ReadTimeout, 10*time.Second),
		IdleTimeout: s.cfg.IdleTimeout, ErrorLog: slog.NewLogLogger(s.logger.Handler(), slog.LevelWarn)}
}

// guard runs before any handler, on every path: it refuses a Host header that does not name a
// loopback server (DNS rebinding) on a loopback listener, and sets the deadlines of the request:
// its body must arrive within ReadTimeout, its answer be written within WriteTimeout (readBody
// lifts both for authenticated /mcp requests once their body is in).
func (s *Server) guard(h http.Handler, onLoopback bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		now := time.Now()
		if r.ContentLength != 0 {
			_ = rc.SetReadDeadline(now.Add(s.cfg.ReadTimeout))
		}
		_ = rc.SetWriteDeadline(now.Add(s.cfg.WriteTimeout))
		if onLoopback && !s.allowedHost(r.Host) {
			s.refused(r, http.StatusForbidden, "a Host header that does not name this server (DNS rebinding): "+r.Host)
			w.Header().Set("Connection", "close")
			writeJSON(w, http.StatusForbidden, map[string]string{"error": "forbidden_host",
				"error_description": "the Host header must name this server (localhost, 127.0.0.1 or [::1]); behind a proxy that keeps the public host name, start the server with --base-url"})
			return
		}
		h.ServeHTTP(w, r)
	})
}

// allowedHost reports whether host (the Host header) names a loopback server, or the host of
// --base-url.
func (s *Server) allowedHost(host string) bool {
	if s.base != nil && strings.EqualFold(host, s.base.Host) {
		return true
	}
	name := host
	if h, _, err := net.SplitHostPort(host); err == nil {
		name = h
	}
	name = strings.Trim(name, "[]")
	if strings.EqualFold(name, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(name)
	return err == nil && ip.IsLoopback()
}

// readBody reads the body of an authenticated /mcp request, up to MaxBodyBytes (413 with a
// JSON-RPC error beyond), within ReadTimeout (408 if it does not arrive), then lifts the
// connection's deadlines: the answer may be an event stream that lasts.
func (s *Server) readBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > s.cfg.MaxBodyBytes {
			s.tooLarge(w, r)
			return
		}
		data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes))
		var tooLarge *http.MaxBytesError
		switch {
		case errors.As(err, &tooLarge):
			s.tooLarge(w, r)
			return
		case err != nil:
			s.refused(r, http.StatusRequestTimeout, fmt.Sprintf("the request body did not arrive within %s: %v", s.cfg.ReadTimeout, err))
			w.Header().Set("Connection", "close")
			writeJSON(w, http.StatusRequestTimeout, jsonRPCError(fmt.Sprintf("the request body did not arrive within %s", s.cfg.ReadTimeout)))
			return
		}
		rc := http.NewResponseController(w)
		_ = rc.SetReadDeadline(time.Time{})
		_ = rc.SetWriteDeadline(time.Time{})
		r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(data)), int64(len(data))
		next.ServeHTTP(w, r)
	})
}

// tooLarge answers 413 with a JSON-RPC error and closes the connection.
func (s *Server) tooLarge(w http.ResponseWriter, r *http.Request) {
	limit := fmt.Sprintf("%d MiB", s.cfg.MaxBodyBytes>>20)
	if s.cfg.MaxBodyBytes < 1<<20 {
		limit = fmt.Sprintf("%d bytes", s.cfg.MaxBodyBytes)
	}
	s.refused(r, http.StatusRequestEntityTooLarge, "request body larger than "+limit)
	w.Header().Set("Connection", "close")
	writeJSON(w, http.StatusRequestEntityTooLarge, jsonRPCError("the request body is larger than "+limit+", the most this server reads; send smaller arguments"))
}

// jsonRPCError is a JSON-RPC error answer to a request whose ID is unknown.
func jsonRPCError(message string) map[string]any {
	return map[string]any{"jsonrpc": "2.0", "id": nil, "error": map[string]any{"code": -32600, "message": message}}
}

// refused logs a refused request (rate-limited, see refusalLog).
func (s *Server) refused(r *http.Request, status int, reason string, who ...slog.Attr) {
	s.refusals.log(r, status, reason, who...)
}

// Addr is the address the MCP endpoint listens on.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// MetricsAddr is the address of the separate metrics listener, or nil.
func (s *Server) MetricsAddr() net.Addr {
	if s.mln == nil {
		return nil
	}
	return s.mln.Addr()
}

// Serve answers requests until ctx ends, then stops accepting, lets requests in flight finish
// for up to ShutdownTimeout, and returns nil (or the error that stopped serving).
func (s *Server) Serve(ctx context.Context) error {
	errc := make(chan error, 2)
	go func() { errc <- s.http.Serve(s.ln) }()
	if s.metrics != nil {
		go func() { errc <- s.metrics.Serve(s.mln) }()
	}
	metrics := "behind the authentication at " + MetricsPath
	switch {
	case s.cfg.Metrics == nil:
		metrics = "off"
	case s.mln != nil:
		metrics = s.mln.Addr().String()
	}
	s.logger.Info("serving MCP over Streamable HTTP", "url", s.publicURL(nil)+MCPPath, "auth", s.authKind(), "metrics", metrics)
	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.ShutdownTimeout)
	defer cancel()
	if e := s.http.Shutdown(shutdownCtx); e != nil {
		s.logger.Warn("calls still running at the end of the shutdown timeout were cut off", "timeout", s.cfg.ShutdownTimeout, "error", e)
		s.http.Close()
	}
	if s.metrics != nil {
		s.metrics.Close()
	}
	s.refusals.flush(shutdownCtx)
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// authKind names the authentication in force, for the start-up log.
func (s *Server) authKind() string {
	var kinds []string
	if s.cfg.StaticToken != nil {
		kinds = append(kinds, "static token")
	}
	if s.cfg.XSUAA != nil {
		kinds = append(kinds, "XSUAA "+s.cfg.XSUAA.Issuer())
	}
	return cmp.Or(strings.Join(kinds, " + "), "none (loopback only)")
}

// handler is the server's HTTP handler behind guard: the probes and metadata open, the rest
// behind Origin validation and authentication.
func (s *Server) handler() http.Handler {
	mcpOpts := []server.StreamableHTTPOption{
		server.WithStateLess(true),        // no session only one instance knows
		server.WithDisableStreaming(true), // no GET stream: notifications ride on each POST's answer
		server.WithStreamableHTTPLogger(s.logger),
		// DNS rebinding is refused by guard on every path of a loopback listener (allowing the
		// host of --base-url, for a proxy that forwards over loopback with the public Host) and
		// by the Origin check below.
		server.WithDisableLocalhostProtection(true),
	}
	if len(s.cfg.AllowedOrigins) > 0 {
		mcpOpts = append(mcpOpts, server.WithStreamableHTTPCORS(
			server.WithCORSAllowedOrigins(s.cfg.AllowedOrigins...),
			server.WithCORSAllowedHeaders("Authorization", "Content-Type", "Accept", "Mcp-Session-Id", "Mcp-Protocol-Version", "Last-Event-ID"),
			server.WithCORSExposedHeaders("Mcp-Session-Id", "WWW-Authenticate"),
		))
	}
	mcpHandler := server.NewStreamableHTTPServer(s.cfg.MCP, mcpOpts...)

	protected := http.NewServeMux()
	protected.Handle(MCPPath, s.readBody(mcpHandler))
	if s.cfg.Metrics != nil && s.cfg.MetricsAddr == "" {
		protected.Handle(MetricsPath, s.cfg.Metrics.Handler())
	}
	for pattern, h := range s.cfg.Protected {
		protected.Handle(pattern, h)
	}
	var guarded http.Handler = protected
	if s.cfg.StaticToken != nil || s.cfg.XSUAA != nil {
		guarded = s.authenticate(protected)
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET "+HealthPath, func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET "+ReadyPath, s.ready)
	mux.HandleFunc(MetadataPath, s.metadata)
	mux.HandleFunc(MetadataPath+"/", s.metadata) // RFC 9728 §3.1: path-qualified resources
	mux.Handle("/", s.checkOrigin(guarded, mcpHandler))
	return mux
}

// ready answers /readyz: 200, or 503. The body is the same for every reason (anyone may ask);
// the reason goes to the log, once each time it changes.
func (s *Server) ready(w http.ResponseWriter, r *http.Request) {
	reason := ""
	if s.cfg.Ready != nil {
		if err := s.cfg.Ready(r.Context()); err != nil {
			reason = err.Error()
		}
	}
	s.readyMu.Lock()
	changed := reason != s.notReady
	s.notReady = reason
	s.readyMu.Unlock()
	switch {
	case changed && reason != "":
		s.logger.Warn("not ready: /readyz answers 503", "reason", reason)
	case changed:
		s.logger.Info("ready: /readyz answers 200")
	}
	if reason != "" {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "not ready"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

// metadata serves the RFC 9728 protected-resource metadata with mcp-go's handler; 404 without an
// authorization server (a static token only, or none), so that no client starts OAuth.
func (s *Server) metadata(w http.ResponseWriter, r *http.Request) {
	if s.cfg.XSUAA == nil {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "not_found",
			"error_description": "this server has no OAuth authorization server: send the static bearer token (Authorization: Bearer <token>)"})
		return
	}
	base := s.publicURL(r)
	cfg := server.ProtectedResourceMetadataConfig{
		Resource:               base + MCPPath,
		BearerMethodsSupported: []string{"header"},
		ResourceName:           "btp-connectivity-mcp",
	}
	if x := s.cfg.XSUAA; x != nil {
		cfg.AuthorizationServers = []string{x.Issuer()}
		cfg.ScopesSupported = []string{x.Scope()}
	}
	server.NewProtectedResourceMetadataHandler(cfg).ServeHTTP(w, r)
}

// metadataURL is the URL of the metadata document, for WWW-Authenticate.
func (s *Server) metadataURL(r *http.Request) string {
	return s.publicURL(r) + MetadataPath
}

// publicURL is --base-url, else the URL the request was sent to (scheme from X-Forwarded-Proto
// behind a router).
func (s *Server) publicURL(r *http.Request) string {
	if s.base != nil {
		return s.base.String()
	}
	if r == nil {
		return "http://" + s.ln.Addr().String()
	}
	scheme := "http"
	if r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// checkOrigin refuses requests whose Origin header names neither this server nor an allowed
// origin (DNS-rebinding protection, MCP transport spec), before authentication. A CORS preflight
// from an allowed origin carries no token and is answered by mcp-go's CORS handler.
func (s *Server) checkOrigin(guarded, cors http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if origin == "" || s.sameOrigin(r, origin) {
			guarded.ServeHTTP(w, r)
			return
		}
		for _, allowed := range s.cfg.AllowedOrigins {
			if strings.EqualFold(strings.TrimRight(allowed, "/"), origin) {
				if r.Method == http.MethodOptions {
					cors.ServeHTTP(w, r)
					return
				}
				guarded.ServeHTTP(w, r)
				return
			}
		}
		s.refused(r, http.StatusForbidden, "foreign origin "+origin)
		w.Header().Set("Connection", "close")
		writeJSON(w, http.StatusForbidden, map[string]string{"error": "forbidden_origin",
			"error_description": fmt.Sprintf("origin %s is not allowed; start the server with --allowed-origin %s to allow it", origin, origin)})
	})
}

// sameOrigin reports whether origin is the server's own: its --base-url, or the Host the request
// was sent to.
func (s *Server) sameOrigin(r *http.Request, origin string) bool {
	u, err := url.Parse(origin)
	if err != nil {
		return false
	}
	if s.base != nil {
		return strings.EqualFold(u.Scheme, s.base.Scheme) && strings.EqualFold(u.Host, s.base.Host)
	}
	return strings.EqualFold(u.Host, r.Host)
}

// loopback reports whether addr (host:port) listens on loopback only.
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// writeJSON writes v with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
