package httpserver

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/connectivity"
)

// Metrics are the server's Prometheus metrics, in a registry of their own (no global state).
type Metrics struct {
	registry     *prometheus.Registry
	toolCalls    *prometheus.CounterVec
	toolDuration *prometheus.HistogramVec
	upstream     *prometheus.CounterVec
	tokenFetches *prometheus.CounterVec
	cacheHits    *prometheus.CounterVec
	readErrors   *prometheus.CounterVec
}

// NewMetrics registers the server's metrics, with the Go runtime and process collectors.
func NewMetrics() *Metrics {
	const ns = "btp_connectivity_mcp"
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		toolCalls: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "tool_calls_total",
			Help: "MCP tool calls by tool and outcome (ok, tool_error, error)."}, []string{"tool", "outcome"}),
		toolDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: ns, Name: "tool_call_duration_seconds",
			Help:    "Duration of MCP tool calls by tool and outcome.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 20}}, []string{"tool", "outcome"}),
		upstream: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "upstream_requests_total",
			Help: "Requests to SAP by service (connectivity, xsuaa) and HTTP status (0: no answer)."}, []string{"service", "status"}),
		tokenFetches: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "token_fetches_total",
			Help: "XSUAA token requests of the Connectivity clients, by outcome (ok, error)."}, []string{"outcome"}),
		cacheHits: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "cache_hits_total",
			Help: "Snapshots answered from the cache, by subaccount."}, []string{"subaccount"}),
		readErrors: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "subaccount_read_errors_total",
			Help: "Failed reads of a subaccount's Cloud Connectors, by subaccount."}, []string{"subaccount"}),
	}
	m.registry.MustRegister(m.toolCalls, m.toolDuration, m.upstream, m.tokenFetches, m.cacheHits, m.readErrors,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}

// ToolCall records one tool call.
func (m *Metrics) ToolCall(tool, outcome string, d time.Duration) {
	m.toolCalls.WithLabelValues(tool, outcome).Inc()
	m.toolDuration.WithLabelValues(tool, outcome).Observe(d.Seconds())
}

// Observe records a connectivity.Event; pass it as connectivity.Options.Observe.
func (m *Metrics) Observe(e connectivity.Event) {
	switch e.Kind {
	case connectivity.EventRequest:
		m.upstream.WithLabelValues("connectivity", strconv.Itoa(e.Status)).Inc()
	case connectivity.EventTokenFetch:
		m.upstream.WithLabelValues("xsuaa", strconv.Itoa(e.Status)).Inc()
		outcome := "ok"
		if e.Status != http.StatusOK {
			outcome = "error"
		}
		m.tokenFetches.WithLabelValues(outcome).Inc()
	case connectivity.EventCacheHit:
		m.cacheHits.WithLabelValues(e.Subaccount).Inc()
	case connectivity.EventReadError:
		m.readErrors.WithLabelValues(e.Subaccount).Inc()
	}
}
