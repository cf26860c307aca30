package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/mark3labs/mcp-go/server"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/connectivity"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/dashboard"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/httpserver"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/observe"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/schemas"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/tools"
)

// httpOptions are the flags of the Streamable HTTP server.
type httpOptions struct {
	addr           string     // --http
	tokenFile      string     // --auth-token-file
	xsuaaBinding   string     // --xsuaa-binding
	scope          string     // --auth-scope
	allowedOrigins stringList // --allowed-origin
	baseURL        string     // --base-url
	metricsAddr    string     // --metrics-addr

	metrics *httpserver.Metrics // created with the flags; fed by the connectivity clients
}

// registerHTTPFlags adds the flags of the HTTP server to fs.
func registerHTTPFlags(fs *flag.FlagSet, h *httpOptions) {
	h.metrics = httpserver.NewMetrics()
	fs.StringVar(&h.addr, "http", "", "serve MCP over Streamable HTTP at `ADDR` (e.g. 127.0.0.1:8080 or :8080) instead of stdio; anything but loopback needs authentication")
	fs.StringVar(&h.tokenFile, "auth-token-file", "", "`file` holding the static bearer token clients must send (read again when it changes); env MCP_AUTH_TOKEN gives it directly")
	fs.StringVar(&h.xsuaaBinding, "xsuaa-binding", "", "xsuaa service key `file`: clients must send a JWT of that XSUAA (default: an xsuaa binding in VCAP_SERVICES)")
	fs.StringVar(&h.scope, "auth-scope", "", "`scope` an XSUAA token must carry (default <xsappname>.Read)")
	fs.Var(&h.allowedOrigins, "allowed-origin", "browser `origin` allowed to call the HTTP server, e.g. https://app.example.com (repeatable)")
	fs.StringVar(&h.baseURL, "base-url", "", "public `URL` of the HTTP server behind a router, for the OAuth metadata (default: from each request)")
	fs.StringVar(&h.metricsAddr, "metrics-addr", "", "serve /metrics unauthenticated on this `ADDR` instead of behind the authentication of --http")
}

// observer is the connectivity clients' Observe hook: the metrics, when serving HTTP.
func (h *httpOptions) observer() func(connectivity.Event) {
	if h.addr == "" {
		return nil
	}
	return h.metrics.Observe
}

// httpAuth reads the authentication the HTTP server needs: the static token (MCP_AUTH_TOKEN or
// --auth-token-file) and the XSUAA binding (--xsuaa-binding, else VCAP_SERVICES).
func httpAuth(h *httpOptions, getenv func(string) string, logger *slog.Logger) (*httpserver.StaticToken, *httpserver.XSUAA, error) {
	var static *httpserver.StaticToken
	var err error
	switch env := getenv("MCP_AUTH_TOKEN"); {
	case h.tokenFile != "" && env != "":
		return nil, nil, errors.New("both MCP_AUTH_TOKEN and --auth-token-file are set: use one")
	case h.tokenFile != "":
		static, err = httpserver.StaticTokenFile(h.tokenFile, logger)
	case env != "":
		static, err = httpserver.NewStaticToken(env)
	}
	if err != nil {
		return nil, nil, err
	}
	var b *httpserver.XSUAABinding
	if h.xsuaaBinding != "" {
		b, err = httpserver.XSUAAFromFile(h.xsuaaBinding)
	} else {
		b, err = httpserver.XSUAAFromVCAP(getenv("VCAP_SERVICES"))
	}
	if err != nil {
		return nil, nil, err
	}
	var x *httpserver.XSUAA
	if b != nil {
		x = httpserver.NewXSUAA(httpserver.XSUAAOptions{Binding: b, Scope: h.scope, Logger: logger})
	} else if h.scope != "" {
		return nil, nil, errors.New("--auth-scope needs an xsuaa binding (VCAP_SERVICES or --xsuaa-binding)")
	}
	return static, x, nil
}

// serveHTTP serves the tools over Streamable HTTP until ctx ends (SIGTERM), then shuts down
// gracefully. Exit code 0 after a clean shutdown, 1 when the server cannot start.
func serveHTTP(ctx context.Context, o *options, cfg tools.Config, hist *openedHistory, stderr io.Writer) int {
	logger := cfg.Logger
	// Audit records are JSON on stderr whatever the log format.
	audit := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	static, x, err := httpAuth(&o.http, os.Getenv, logger)
	if err != nil {
		fmt.Fprintln(stderr, "btp-connectivity-mcp:", err)
		return 1
	}
	if cfg.Hooks == nil {
		cfg.Hooks = &server.Hooks{}
	}
	cfg.ServerOptions = append(cfg.ServerOptions, httpserver.ToolObserver(audit, o.http.metrics, cfg.Hooks))
	cfg.Stateless = true // subscriptions: only subscriptions/listen streams can be notified
	srv, err := httpserver.Listen(httpserver.Config{
		Addr: o.http.addr, MCP: tools.NewServer(cfg), Ready: readiness(cfg.Observations), AuditLogger: audit,
		StaticToken: static, XSUAA: x, BaseURL: o.http.baseURL, AllowedOrigins: o.http.allowedOrigins,
		Metrics: o.http.metrics, MetricsAddr: o.http.metricsAddr, Logger: logger,
		Protected: map[string]http.Handler{"GET " + ReportPath: reportHandler(cfg)},
	})
	if err != nil {
		fmt.Fprintln(stderr, "btp-connectivity-mcp:", err)
		return 1
	}
	if err := srv.Serve(ctx); err != nil {
		logger.Error("HTTP server stopped", "error", err)
		return 1
	}
	logger.Info("stopped")
	return 0
}

// readiness is /readyz: ready while at least one Connectivity binding is usable, which is what
// answering tools needs. The optional history store plays no part (the tools answer without
// it); the check reads memory only, so the probe answers at once.
func readiness(p *observe.Pipeline) func(context.Context) error {
	return func(context.Context) error {
		for _, s := range p.Subaccounts() {
			if s.Broken() == nil {
				return nil
			}
		}
		return errors.New("no usable Connectivity service binding")
	}
}

// ReportPath serves the dashboard as one HTML page, behind the authentication of /mcp;
// ?subaccount=NAME narrows it to one subaccount.
const ReportPath = "/report"

// reportHandler answers GET /report with the dashboard report (what check --format html writes).
func reportHandler(cfg tools.Config) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sub := r.URL.Query().Get("subaccount")
		if _, err := cfg.Observations.Select(sub); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		d, err := tools.Dashboard(r.Context(), cfg, schemas.Scope{Subaccount: sub}, time.Now())
		var page []byte
		if err == nil {
			page, err = dashboard.Report(d)
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", dashboard.ReportCSP)
		w.Header().Set("Cache-Control", "no-store")
		w.Write(page) //nolint:errcheck // the client went away
	})
}
