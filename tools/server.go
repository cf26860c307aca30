package tools

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/mark3labs/mcp-go/server"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/connectivity"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/observe"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/sccadmin"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/schemas"
)

// DefaultCallTimeout bounds one tool call, retries of the Connectivity service included.
const DefaultCallTimeout = 20 * time.Second

// Config is what the tools need from the outside world.
type Config struct {
	Observations *observe.Pipeline // every bound subaccount's latest observation
	History      *observe.Recorder // nil: history is off

	// SCC reads the configured Cloud Connectors' administration API (deep health); nil when none
	// is configured. Tools list its connectors and refresh them; answers come from observations.
	SCC *sccadmin.Reader
	// Hooks, when not nil, are the MCP server's hooks (callers add audit and metrics hooks);
	// NewServer adds the resource-subscription hooks to them.
	Hooks *server.Hooks
	// Context ends the subscription watcher (the server's life); nil: it ends with its last
	// subscriber only.
	Context context.Context
	// WatchInterval is how often subscribed resources are re-read; 0 means DefaultWatchInterval.
	WatchInterval time.Duration
	// Stateless says the transport keeps no session between requests (stateless Streamable
	// HTTP): a resources/subscribe then has no stream to be notified on, so only
	// subscriptions/listen streams are watched.
	Stateless   bool
	Version     string
	CallTimeout time.Duration // 0 means DefaultCallTimeout
	Logger      *slog.Logger  // nil discards
	// watchEvents, in tests, is told "start" when the subscription poller starts and "stop" when
	// it has stopped.
	watchEvents chan<- string
	// ServerOptions are added to the MCP server's own (for example the HTTP server's audit and
	// metrics middleware).
	ServerOptions []server.ServerOption
}

func (c Config) callTimeout() time.Duration { return cmp.Or(max(c.CallTimeout, 0), DefaultCallTimeout) }

// read is the skeleton of every tool and resource: the observations of the subaccounts in scope
// within the call's deadline, reporting progress when the client asked for it. A subaccount that
// fails leaves the others' answer standing, and one whose last good read still answers is used,
// marked stale (fresh says which failed, with a sentence each); only when no subaccount asked
// about has anything to answer with is the read an error, naming each with its reason.
func read(ctx context.Context, cfg Config, scope schemas.Scope) (*observe.View, schemas.Freshness, error) {
	subs, err := cfg.Observations.Select(scope.Subaccount)
	if err != nil {
		return nil, schemas.Freshness{}, err
	}
	ctx, cancel := observe.WithTimeout(ctx, cfg.callTimeout())
	defer cancel()
	v := cfg.Observations.Observe(ctx, subs, scope.Refresh, progressOf(ctx))
	fresh := freshness(v, time.Now())
	if len(v.Usable()) > 0 {
		return v, fresh, nil
	}
	if len(fresh.Errors) == 1 {
		return nil, fresh, errors.New(fresh.Errors[0].Error) // the sentence a single subaccount gives
	}
	var reasons []string
	for _, e := range fresh.Errors {
		reasons = append(reasons, fmt.Sprintf("subaccount %s (binding %s): %s", e.Subaccount, e.Binding, e.Error))
	}
	return nil, fresh, fmt.Errorf("no subaccount could be read: %s", strings.Join(reasons, "; "))
}

// freshness says when the facts of v were read (the oldest part), and which subaccounts failed;
// a failed one that answers from an older read is stale, with that read's age.
func freshness(v *observe.View, now time.Time) schemas.Freshness {
	var fresh schemas.Freshness
	var oldest time.Time
	for _, p := range v.Parts {
		if p.Usable() && (oldest.IsZero() || p.Obs.ReadAt.Before(oldest)) {
			oldest = p.Obs.ReadAt
		}
		err, why := p.Failed()
		if err == nil {
			continue
		}
		e := schemas.SubaccountError{Subaccount: p.Sub.Label(), Binding: p.Sub.Name(), Error: why}
		if p.Usable() {
			e.AgeSeconds = new(int(now.Sub(p.Obs.ReadAt).Seconds()))
		}
		fresh.Partial = true
		fresh.Errors = append(fresh.Errors, e)
	}
	fresh.FetchedAt = rfc3339(oldest)
	return fresh
}

// fromView answers from the observations of the subaccounts in scope, with their freshness.
func fromView[Out any](ctx context.Context, cfg Config, scope schemas.Scope, answer func(*observe.View) (Out, error)) (Out, error) {
	v, fresh, err := read(ctx, cfg, scope)
	if err != nil {
		var zero Out
		return zero, err
	}
	out, err := answer(v)
	if f, ok := any(&out).(interface{ SetFreshness(schemas.Freshness) }); ok && err == nil {
		f.SetFreshness(fresh)
	}
	return out, err
}

// fromSnapshot answers from the facts of the subaccounts in scope, joined, with their freshness.
func fromSnapshot[Out any](ctx context.Context, cfg Config, scope schemas.Scope, answer func(*connectivity.Snapshot) (Out, error)) (Out, error) {
	return fromView(ctx, cfg, scope, func(v *observe.View) (Out, error) { return answer(v.Snapshot()) })
}

// snapshotTool is a tool that answers from the snapshot of the subaccounts its arguments name.
func snapshotTool[In interface{ ReadScope() schemas.Scope }, Out any](cfg Config, def Definition, answer func(*connectivity.Snapshot, In) (Out, error)) server.ServerTool {
	return New(cfg.Logger, def, func(ctx context.Context, in In) (Out, error) {
		return fromSnapshot(ctx, cfg, in.ReadScope(), func(snap *connectivity.Snapshot) (Out, error) { return answer(snap, in) })
	})
}

// All returns every tool, in the order they are listed to clients.
func All(cfg Config) []server.ServerTool {
	return []server.ServerTool{
		listCloudConnectors(cfg),
		getSecurityStatus(cfg),
		findExposedSystem(cfg),
		assessConnectors(cfg),
		listSubaccounts(cfg),
		whatChanged(cfg),
		getConnectorHealth(cfg),
	}
}

// Names returns the names of all tools, sorted.
func Names() []string {
	var names []string
	for _, t := range All(Config{}) {
		names = append(names, t.Tool.Name)
	}
	return slices.Sorted(slices.Values(names))
}

// Lookup returns the tool called name.
func Lookup(cfg Config, name string) (server.ServerTool, bool) {
	for _, t := range All(cfg) {
		if t.Tool.Name == name {
			return t, true
		}
	}
	return server.ServerTool{}, false
}

// instructions tell a model what this server is for and how to use its tools together.
const instructions = `Read-only access to the SAP BTP Cloud Connectors of the bound subaccounts, from the SAP Connectivity service (plan api_access).
list_subaccounts names the subaccounts; every other tool takes an optional subaccount (default: all) and answers with what could be read, listing failed subaccounts under errors (partial=true).
Start with list_cloud_connectors for an overview, get_security_status for security checks, find_exposed_system to find which connector exposes a back-end host, and assess_connectors to triage every finding worst first; the prompts triage_security_findings and connector_health_report guide the workflow, and the resources connectivity://connectors, connectivity://connectors/{client_id} and connectivity://findings hold the same data as documents.
get_connector_health reads each Cloud Connector configured with --scc-config through its own administration API (deep health: certificates and their expiry, tunnels, HA state, back-end latency, resources, alerts), joined to the connectors above.
what_changed answers what changed since a time (new findings, exposed systems, security ratings, versions, reconnects) from the history of every read; assess_connectors marks findings new or first seen.
Answers share one read of each subaccount for a short time (fetched_at says when); pass refresh=true only when the user needs data from this moment.`

// NewServer returns the MCP server with every tool registered.
func NewServer(cfg Config) *server.MCPServer {
	hooks := cmp.Or(cfg.Hooks, &server.Hooks{})
	w := &watcher{cfg: cfg, wake: make(chan struct{}, 1), subs: map[subscriber]*subscription{}}
	w.hook(hooks)
	if cfg.Observations != nil {
		cfg.Observations.Listen(func(*observe.Observation) { offer(w.wake, struct{}{}) })
	}
	opts := []server.ServerOption{
		server.WithHooks(hooks),
		server.WithToolCapabilities(false),
		server.WithPromptCapabilities(false),
		server.WithResourceCapabilities(true, false),
		server.WithCompletions(),
		server.WithPromptCompletionProvider(completer{cfg}),
		server.WithResourceCompletionProvider(completer{cfg}),
		server.WithInstructions(instructions),
	}
	s := server.NewMCPServer("btp-connectivity-mcp", cmp.Or(cfg.Version, "dev"), append(opts, cfg.ServerOptions...)...)
	s.AddTools(All(cfg)...)
	s.AddPrompts(Prompts(cfg)...)
	s.AddResources(Resources(cfg)...)
	s.AddResources(DashboardResources(cfg)...) // the MCP App and its data
	s.AddResourceTemplates(ResourceTemplates(cfg)...)
	return s
}

// logger returns the configured logger, or one that discards.
func (c Config) logger() *slog.Logger { return cmp.Or(c.Logger, slog.New(slog.DiscardHandler)) }
