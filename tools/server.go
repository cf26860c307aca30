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

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/assess"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/connectivity"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/fleet"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/schemas"
)

// DefaultCallTimeout bounds one tool call, retries of the Connectivity service included.
const DefaultCallTimeout = 20 * time.Second

// Config is what the tools need from the outside world.
type Config struct {
	Fleet   *fleet.Fleet // every bound subaccount
	History *History     // nil: history is off
	// Hooks, when not nil, are the MCP server's hooks (callers add audit and metrics hooks);
	// NewServer adds the resource-subscription hooks to them.
	Hooks *server.Hooks
	// CacheTTL is --cache-ttl, the floor of WatchInterval.
	CacheTTL time.Duration
	// WatchInterval is how often subscribed resources are re-read; 0 means DefaultWatchInterval.
	WatchInterval time.Duration
	// Stateless says the transport keeps no session between requests (stateless Streamable
	// HTTP): a resources/subscribe then has no stream to be notified on, so only
	// subscriptions/listen streams are watched.
	Stateless   bool
	Version     string
	CallTimeout time.Duration // 0 means DefaultCallTimeout
	Logger      *slog.Logger  // nil discards
	// MinSCCVersion is the lowest Cloud Connector version assess_connectors does not report as
	// outdated (--min-scc-version); empty derives it from the landscape (see docs/assessment.md).
	MinSCCVersion string
	// MinJavaMajor is the Java floor of version.java (--min-java); 0 means assess.DefaultMinJava.
	MinJavaMajor int
	// AcceptedRisks are the findings a team accepted (--accepted-risks); nil accepts none.
	AcceptedRisks *assess.AcceptedRisks
	// ServerOptions are added to the MCP server's own (for example the HTTP server's audit and
	// metrics middleware).
	ServerOptions []server.ServerOption
}

func (c Config) callTimeout() time.Duration { return cmp.Or(max(c.CallTimeout, 0), DefaultCallTimeout) }

// read is the skeleton of every tool and resource: read the subaccounts in scope within the
// call's deadline, reporting progress when the client asked for it. A subaccount that fails
// leaves the others' answer standing (fresh says which failed, with a sentence each); only when
// every subaccount asked about fails is the read an error, naming each with its reason.
func read(ctx context.Context, cfg Config, scope schemas.Scope) (*fleet.Read, schemas.Freshness, error) {
	subs, err := cfg.Fleet.Select(scope.Subaccount)
	if err != nil {
		return nil, schemas.Freshness{}, err
	}
	timeout := cfg.callTimeout()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	r := cfg.Fleet.Read(ctx, subs, scope.Refresh, progressOf(ctx))
	cfg.History.record(ctx, r.Parts, cfg.policy()) // only new reads: an answer from the cache records nothing
	fresh := schemas.Freshness{FetchedAt: rfc3339(r.Snapshot.FetchedAt), Partial: len(r.Failures) > 0}
	var reasons []string
	for _, f := range r.Failures {
		msg := explain(f.Err, timeout).Error()
		fresh.Errors = append(fresh.Errors, schemas.SubaccountError{Subaccount: f.Subaccount.Label(), Binding: f.Subaccount.Name(), Error: msg})
		reasons = append(reasons, fmt.Sprintf("subaccount %s (binding %s): %s", f.Subaccount.Label(), f.Subaccount.Name(), msg))
	}
	switch {
	case len(r.Failures) < r.Asked:
		return r, fresh, nil
	case r.Asked == 1:
		return nil, fresh, errors.New(fresh.Errors[0].Error) // the sentence a single subaccount gives
	}
	return nil, fresh, fmt.Errorf("no subaccount could be read: %s", strings.Join(reasons, "; "))
}

// fromSnapshot answers from the snapshot of the subaccounts in scope, with its freshness.
func fromSnapshot[Out any](ctx context.Context, cfg Config, scope schemas.Scope, answer func(*connectivity.Snapshot) (Out, error)) (Out, error) {
	r, fresh, err := read(ctx, cfg, scope)
	if err != nil {
		var zero Out
		return zero, err
	}
	out, err := answer(r.Snapshot)
	if f, ok := any(&out).(interface{ SetFreshness(schemas.Freshness) }); ok && err == nil {
		f.SetFreshness(fresh)
	}
	return out, err
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
what_changed answers what changed since a time (new findings, exposed systems, security ratings, versions, reconnects) from the history of every read; assess_connectors marks findings new or first seen.
Answers share one read of each subaccount for a short time (fetched_at says when); pass refresh=true only when the user needs data from this moment.`

// NewServer returns the MCP server with every tool registered.
func NewServer(cfg Config) *server.MCPServer {
	hooks := cfg.Hooks
	if hooks == nil {
		hooks = &server.Hooks{}
	}
	w := &watcher{cfg: cfg, subs: map[subscriber]map[string]bool{}}
	w.hook(hooks)
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
func (c Config) logger() *slog.Logger {
	if c.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return c.Logger
}
