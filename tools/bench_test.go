package tools

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/binding"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/connectivity"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/observe"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/schemas"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/simulator"
)

// perfLandscape serves agents from a simulator on loopback through a real client and
// landscape with the given cache TTL.
func perfLandscape(tb testing.TB, opts simulator.Options, ttl time.Duration) (*simulator.Server, *observe.Pipeline) {
	tb.Helper()
	sim, err := simulator.New(opts)
	if err != nil {
		tb.Fatalf("simulator: %v", err)
	}
	tb.Cleanup(sim.Close)
	parsed := binding.Parse(sim.ServiceKeyJSON(simulator.SecretCredentials), "perf test")
	bindings, err := parsed.Usable, parsed.Err()
	if err != nil || len(bindings) != 1 {
		tb.Fatalf("binding.Parse: %v (%d bindings)", err, len(bindings))
	}
	c, err := connectivity.NewClient(bindings[0], connectivity.Options{})
	if err != nil {
		tb.Fatalf("NewClient: %v", err)
	}
	return sim, observations(tb, []*connectivity.Client{c}, nil, observe.Options{CacheTTL: ttl})
}

// perfCall is the JSON-RPC text of a tools/call request, as a client sends it.
func perfCall(id int, tool, args string) []byte {
	return fmt.Appendf(nil, `{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":%q,"arguments":%s}}`, id, tool, args)
}

// benchQuestion is one question a benchmark asks, with its arguments per landscape.
type benchQuestion struct {
	name, tool          string
	sampleArgs, bigArgs string
}

var benchQuestions = []benchQuestion{
	{"list_cloud_connectors", "list_cloud_connectors", `{}`, `{}`},
	{"get_security_status", "get_security_status", `{}`, `{}`},
	// Filters only: every system is checked against protocol and type.
	{"find_exposed_system/filter", "find_exposed_system", `{"protocol":"HTTPS","type":"abapSys"}`, `{"protocol":"HTTPS","type":"abapSys"}`},
	// A substring query that few systems match: every system's host and description is searched.
	{"find_exposed_system/query", "find_exposed_system", `{"query":"s4h.internal"}`, `{"query":"sys42.loc7.internal"}`},
	// A query every system matches, with the largest page: the result encoding dominates.
	{"find_exposed_system/query_limit500", "find_exposed_system", `{"query":"internal","limit":500}`, `{"query":"internal","limit":500}`},
}

// answer calls the tool's answering function directly on a snapshot (and its system index, built
// once per snapshot), without the adapter.
func (q benchQuestion) answer(snap *connectivity.Snapshot, index *observe.SystemIndex, args string) (any, error) {
	switch q.tool {
	case "list_cloud_connectors":
		var in schemas.ListCloudConnectorsInput
		_ = json.Unmarshal([]byte(args), &in)
		return listConnectors(snap, in)
	case "get_security_status":
		var in schemas.GetSecurityStatusInput
		_ = json.Unmarshal([]byte(args), &in)
		return securityStatus(snap, in)
	case "find_exposed_system":
		var in schemas.FindExposedSystemInput
		_ = json.Unmarshal([]byte(args), &in)
		return findSystems(snap, index, in)
	}
	panic("unknown tool " + q.tool)
}

// benchLandscapes are the landscapes every tool benchmark runs on.
var benchLandscapes = []struct {
	name   string
	agents func() []simulator.Agent
}{
	{"sample", simulator.SampleLandscape},
	{"large", func() []simulator.Agent { return simulator.LargeLandscape(1000, 100) }},
}

// BenchmarkTools measures each tool on a warm snapshot at three depths:
//
//   - answer: the tool's function over the snapshot (filtering, sorting, shaping);
//   - handler: the mcp-go handler (argument decoding and checks, snapshot lookup, answer, JSON
//     text);
//   - rpc: the JSON-RPC request line in, the response line out, as the stdio server does it,
//     without the pipe.
func BenchmarkTools(b *testing.B) {
	ctx := context.Background()
	for _, l := range benchLandscapes {
		b.Run(l.name, func(b *testing.B) {
			sim, land := perfLandscape(b, simulator.Options{Landscape: l.agents()}, time.Hour)
			o := land.Observe(ctx, land.Subaccounts(), false, nil).Parts[0].Obs
			if o.Err != nil {
				b.Fatal(o.Err)
			}
			snap, index := o.Snapshot(), o.Systems()
			cfg := Config{Observations: land}
			srv := NewServer(cfg)
			for _, q := range benchQuestions {
				args := q.sampleArgs
				if l.name == "large" {
					args = q.bigArgs
				}
				b.Run(q.name+"/answer", func(b *testing.B) {
					b.ReportAllocs()
					for b.Loop() {
						if _, err := q.answer(snap, index, args); err != nil {
							b.Fatal(err)
						}
					}
				})
				b.Run(q.name+"/handler", func(b *testing.B) {
					tool, _ := Lookup(cfg, q.tool)
					var req mcp.CallToolRequest
					req.Params.Name = q.tool
					req.Params.RawArguments = json.RawMessage(args)
					b.ReportAllocs()
					for b.Loop() {
						res, _ := tool.Handler(ctx, req)
						if res.IsError {
							b.Fatalf("%s: %v", q.name, res.Content)
						}
					}
				})
				b.Run(q.name+"/rpc", func(b *testing.B) {
					line := perfCall(1, q.tool, args)
					b.ReportAllocs()
					var out []byte
					for b.Loop() {
						out = perfHandle(b, srv, line)
					}
					b.ReportMetric(float64(len(out)), "resp-bytes")
				})
			}
			if n := sim.Counts(); n.APIRequests != 1 || n.TokenRequests != 1 {
				b.Fatalf("counts = %+v, want the one API and token request of the first snapshot", n)
			}
		})
	}
}

// perfHandle answers one JSON-RPC line as the stdio server does and returns the response line.
func perfHandle(tb testing.TB, srv *server.MCPServer, line []byte) []byte {
	resp := srv.HandleMessage(context.Background(), json.RawMessage(line))
	out, err := json.Marshal(resp)
	if err != nil {
		tb.Fatal(err)
	}
	return out
}
