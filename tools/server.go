package tools

import (
	"context"
	"log/slog"
	"sort"
	"time"

	"github.com/mark3labs/mcp-go/server"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/assess"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/connectivity"
)

// DefaultCallTimeout bounds one tool call, retries of the Connectivity service included.
const DefaultCallTimeout = 20 * time.Second

// Source provides snapshots of the Cloud Connector landscape; *connectivity.Landscape is one.
type Source interface {
	Snapshot(ctx context.Context, refresh bool) (*connectivity.Snapshot, error)
}

// Config is what the tools need from the outside world.
type Config struct {
	Source      Source
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
}

func (c Config) callTimeout() time.Duration {
	if c.CallTimeout > 0 {
		return c.CallTimeout
	}
	return DefaultCallTimeout
}

// fromSnapshot is the skeleton of every tool and resource: read the landscape within the call's
// deadline, turning a failure into a sentence a person (or model) can act on, then answer from
// the snapshot.
func fromSnapshot[Out any](ctx context.Context, cfg Config, refresh bool, answer func(*connectivity.Snapshot) (Out, error)) (Out, error) {
	timeout := cfg.callTimeout()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	snap, err := cfg.Source.Snapshot(ctx, refresh)
	if err != nil {
		var zero Out
		return zero, explain(err, timeout)
	}
	return answer(snap)
}

// snapshotTool is a tool that answers from a snapshot, read anew when refresh(in) is true.
func snapshotTool[In, Out any](cfg Config, def Definition, refresh func(In) bool, answer func(*connectivity.Snapshot, In) (Out, error)) server.ServerTool {
	return New(cfg.Logger, def, func(ctx context.Context, in In) (Out, error) {
		return fromSnapshot(ctx, cfg, refresh(in), func(snap *connectivity.Snapshot) (Out, error) { return answer(snap, in) })
	})
}

// All returns every tool, in the order they are listed to clients.
func All(cfg Config) []server.ServerTool {
	return []server.ServerTool{
		listCloudConnectors(cfg),
		getSecurityStatus(cfg),
		findExposedSystem(cfg),
		assessConnectors(cfg),
	}
}

// Names returns the names of all tools, sorted.
func Names() []string {
	var names []string
	for _, t := range All(Config{}) {
		names = append(names, t.Tool.Name)
	}
	sort.Strings(names)
	return names
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
const instructions = `Read-only access to the SAP BTP Cloud Connectors of the bound subaccount(s), from the SAP Connectivity service (plan api_access).
Start with list_cloud_connectors for an overview (versions, high-availability roles, uptime, security summary), get_security_status for the security checks and remediation, and find_exposed_system to find which connector exposes a back-end host.
For triage, assess_connectors returns every finding (security, high availability, versions, unencrypted protocols) ranked worst first with remediation; the prompts triage_security_findings and connector_health_report guide the workflow, and the resources connectivity://connectors, connectivity://connectors/{client_id} and connectivity://findings hold the same data as documents.
Answers share one read of the Connectivity service for a short time (fetched_at says when); pass refresh=true only when the user needs data from this moment.`

// NewServer returns the MCP server with every tool registered.
func NewServer(cfg Config) *server.MCPServer {
	version := cfg.Version
	if version == "" {
		version = "dev"
	}
	s := server.NewMCPServer("btp-connectivity-mcp", version,
		server.WithToolCapabilities(false),
		server.WithPromptCapabilities(false),
		server.WithResourceCapabilities(false, false),
		server.WithCompletions(),
		server.WithPromptCompletionProvider(completer{cfg}),
		server.WithResourceCompletionProvider(completer{cfg}),
		server.WithInstructions(instructions),
	)
	s.AddTools(All(cfg)...)
	s.AddPrompts(Prompts(cfg)...)
	s.AddResources(Resources(cfg)...)
	s.AddResourceTemplates(ResourceTemplates(cfg)...)
	return s
}
