package tools

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/binding"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/connectivity"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/history"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/observe"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/schemas"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/simulator"
)

// retries is an observe.Options.AfterFunc the test fires itself: the clock of the backoff.
type retries struct {
	mu      sync.Mutex
	waits   []time.Duration
	pending []func()
}

func (r *retries) afterFunc(d time.Duration, f func()) func() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.waits = append(r.waits, d)
	i := len(r.pending)
	r.pending = append(r.pending, f)
	return func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		stopped := r.pending[i] != nil
		r.pending[i] = nil
		return stopped
	}
}

// fire runs the scheduled re-reads, as their timers would.
func (r *retries) fire() int {
	r.mu.Lock()
	var due []func()
	for i, f := range r.pending {
		if f != nil {
			due, r.pending[i] = append(due, f), nil
		}
	}
	r.mu.Unlock()
	for _, f := range due {
		f()
	}
	return len(due)
}

func (r *retries) scheduled() []time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]time.Duration(nil), r.waits...)
}

// twoTenants serves a good tenant and a second one through one simulator, each bound through
// the real client; the pipeline's options are opts.
func twoTenants(t *testing.T, opts observe.Options) (good, flaky *simulator.Tenant, cfg Config, c *client.Client) {
	t.Helper()
	sim, err := simulator.New(simulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	var clients []*connectivity.Client
	var tenants []*simulator.Tenant
	for _, name := range []string{"good", "flaky"} {
		tenant, err := sim.AddTenant(simulator.TenantOptions{Name: name, Subdomain: "acme-" + name})
		if err != nil {
			t.Fatal(err)
		}
		parsed := binding.Parse(tenant.ServiceKeyJSON(simulator.SecretCredentials), name)
		if len(parsed.Usable) != 1 {
			t.Fatal(parsed.Err())
		}
		parsed.Usable[0].Name = name
		client, err := connectivity.NewClient(parsed.Usable[0], connectivity.Options{})
		if err != nil {
			t.Fatal(err)
		}
		clients, tenants = append(clients, client), append(tenants, tenant)
	}
	obs := observations(t, clients, nil, opts)
	cfg = Config{Observations: obs, History: memoryHistory(t, obs), CallTimeout: time.Second, Context: t.Context()}
	c, _ = startInProcess(t, NewServer(cfg))
	return tenants[0], tenants[1], cfg, c
}

// ask calls a tool through the MCP client and decodes its answer.
func ask[Out any](t *testing.T, c *client.Client, name string, args map[string]any) Out {
	t.Helper()
	req := mcp.CallToolRequest{}
	req.Params.Name, req.Params.Arguments = name, args
	res, err := c.CallTool(t.Context(), req)
	if err != nil || res.IsError {
		t.Fatalf("%s: %v %v", name, err, res)
	}
	var out Out
	if err := json.Unmarshal([]byte(res.Content[0].(mcp.TextContent).Text), &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestHangingSubaccountCostsOneTimeout: a subaccount that accepts connections and never answers,
// beside a good one. The question that finds it hanging waits one timeout; the next ten answer at
// once from its last good read, marked stale, without a request to it; when it answers again, a
// background read brings it back without a question waiting.
func TestHangingSubaccountCostsOneTimeout(t *testing.T) {
	t.Parallel()
	clock := &retries{}
	const ttl = time.Minute // the good subaccount answers from memory; the test fires the re-reads
	good, flaky, _, c := twoTenants(t, observe.Options{CacheTTL: ttl, SubaccountTimeout: 2 * time.Second, AfterFunc: clock.afterFunc})

	if out := ask[schemas.ListCloudConnectorsOutput](t, c, "list_cloud_connectors", nil); out.Partial {
		t.Fatalf("both healthy: %+v", out.Errors)
	}
	flaky.InjectFault(simulator.Fault{Hang: true})
	good.ResetCounts()
	flaky.ResetCounts()

	// The first question after the hang waits for it: one timeout (the call's, 1 s).
	out := ask[schemas.ListCloudConnectorsOutput](t, c, "list_cloud_connectors", map[string]any{"refresh": true})
	if len(out.Errors) != 1 || out.Errors[0].Binding != "flaky" || out.Errors[0].AgeSeconds == nil || !strings.Contains(out.Errors[0].Error, "did not answer within 1s") {
		t.Fatalf("after the hang: %+v", out.Errors)
	}
	waitUntil(t, "the failed read", func() bool { return len(clock.scheduled()) == 1 }) // it ends with the call
	if got := clock.scheduled(); got[0] != ttl {
		t.Errorf("backoff %v, want one re-read after the cache TTL %v", got, ttl)
	}
	hung := flaky.Counts().APIRequests

	// Ten more questions, every tool: at once from memory, the hanging one stale.
	start := time.Now()
	for i := range 10 {
		tool := []string{"list_cloud_connectors", "get_security_status", "find_exposed_system", "assess_connectors"}[i%4]
		out := ask[struct{ schemas.Freshness }](t, c, tool, nil)
		if !out.Partial || len(out.Errors) != 1 || out.Errors[0].AgeSeconds == nil {
			t.Errorf("question %d (%s): %+v, want the flaky subaccount stale", i, tool, out.Freshness)
		}
	}
	if d := time.Since(start); d > 30*time.Second { // does not hang (ten timeouts would be 10 s)
		t.Errorf("ten questions took %v", d)
	}
	if n := flaky.Counts().APIRequests; n != hung {
		t.Errorf("%d requests to the hanging subaccount during ten questions, want none", n-hung)
	}
	if n := good.Counts().APIRequests; n != 1 {
		t.Errorf("%d requests to the good subaccount, want the one refresh", n)
	}

	// Still hanging when the backoff ends: the background read fails, the backoff doubles.
	if clock.fire() != 1 {
		t.Fatal("no re-read was scheduled")
	}
	waitUntil(t, "the second backoff", func() bool { return len(clock.scheduled()) == 2 })
	if got := clock.scheduled(); got[1] != 2*ttl {
		t.Errorf("second backoff %v, want %v", got[1], 2*ttl)
	}

	// The hang ends: the next background read brings the subaccount back.
	flaky.ClearFaults()
	clock.fire()
	waitUntil(t, "the background read", func() bool {
		subs := ask[schemas.ListSubaccountsOutput](t, c, "list_subaccounts", nil) // sends no request
		for _, s := range subs.Subaccounts {
			if s.Name == "flaky" {
				return s.LastError == ""
			}
		}
		return false
	})
	before := flaky.Counts().APIRequests
	if out := ask[schemas.ListCloudConnectorsOutput](t, c, "list_cloud_connectors", nil); out.Partial {
		t.Errorf("after the background read: %+v", out.Errors)
	}
	if n := flaky.Counts().APIRequests; n != before {
		t.Errorf("the question read again (%d requests): the background read should answer it", n-before)
	}
}

// TestHistoryNeverDelaysAnAnswer: while the history store opens (its opener blocked until the
// test lets it go), calls answer, and assess_connectors says history is unavailable and why,
// leaving new and first_seen out; once it is open, every finding has new and first_seen, and a
// finding seen in the previous read (even one made while the store opened) is not new.
func TestHistoryNeverDelaysAnAnswer(t *testing.T) {
	t.Parallel()
	env := newSimEnv(t, simEnvOptions{})
	release := make(chan struct{})
	store, err := history.OpenMemory(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	rec := observe.NewRecorder("the test's store", func(context.Context) (history.Store, error) {
		<-release
		return store, nil
	}, nil)
	t.Cleanup(func() { rec.Close(time.Second) })
	env.cfg.Observations.Listen(rec.Observe)
	env.cfg.History = rec
	env.client, _ = startInProcess(t, NewServer(env.cfg))

	out := ask[schemas.AssessConnectorsOutput](t, env.client, "assess_connectors", nil)
	if !strings.Contains(out.History, "the test's store is still opening") || out.NewCounts != nil {
		t.Errorf("while the store opens: history %q, new counts %v", out.History, out.NewCounts)
	}
	for _, f := range out.Findings {
		if f.New != nil || f.FirstSeen != "" {
			t.Fatalf("finding %s: new %v, first_seen %q while history is unavailable", f.ID, f.New, f.FirstSeen)
		}
	}
	close(release)
	if err := rec.Wait(t.Context()); err != nil {
		t.Fatal(err)
	}

	first := ask[schemas.AssessConnectorsOutput](t, env.client, "assess_connectors", map[string]any{"refresh": true})
	second := ask[schemas.AssessConnectorsOutput](t, env.client, "assess_connectors", map[string]any{"refresh": true})
	if first.History != "" || len(first.Findings) == 0 {
		t.Fatalf("history %q, %d findings", first.History, len(first.Findings))
	}
	// The read made while the store opened is the previous read of both: nothing is new.
	for _, f := range append(first.Findings, second.Findings...) {
		if f.New == nil || *f.New || f.FirstSeen == "" {
			t.Errorf("%s: new %v first_seen %q, want new false, first seen", f.Fingerprint, f.New, f.FirstSeen)
		}
	}
	if second.NewCounts == nil || *second.NewCounts != (schemas.SeverityCounts{}) {
		t.Errorf("new counts %+v, want none new", second.NewCounts)
	}
}
