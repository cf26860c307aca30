package observe_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/assess"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/binding"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/connectivity"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/observe"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/sccadmin"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/simulator"
)

// deepPipeline observes one simulator tenant and the sample connectors' admin APIs.
func deepPipeline(t *testing.T, sccs func(subID string) []simulator.SCCOptions, opts observe.Options) (*simulator.Server, *simulator.SCCFleet, *observe.Pipeline) {
	t.Helper()
	sim, err := simulator.New(simulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	b := binding.Parse(sim.ServiceKeyJSON(simulator.SecretCredentials), "observe test").Usable[0]
	fleet, cfg := startSCCs(t, sccs(b.SubaccountID))
	c, err := connectivity.NewClient(b, connectivity.Options{})
	if err != nil {
		t.Fatal(err)
	}
	src := observe.NewDeepHealthSource(sccadmin.NewReader(cfg, sccadmin.Options{}), b)
	p, err := observe.New([]observe.Bound{{Client: c, Sources: []observe.Source{src}}}, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return sim, fleet, p
}

func TestDeepHealthJoinsInTheObservation(t *testing.T) {
	t.Parallel()
	now := time.Now()
	_, _, p := deepPipeline(t, func(id string) []simulator.SCCOptions { return simulator.SampleSCCs(now, id) }, observe.Options{CacheTTL: time.Hour})
	v := p.Observe(context.Background(), p.Subaccounts(), false, nil)
	o := v.Parts[0].Obs
	if o == nil || o.Err != nil || o.Facts.Deep == nil || len(o.Facts.Deep.Reads) != 5 {
		t.Fatalf("observation %+v", o)
	}
	matched := map[string]string{}
	for _, m := range o.Result.Matches {
		matched[m.Connector] = m.ClientID
	}
	want := map[string]string{"fra-prod master": "284610375", "fra-prod shadow": "284610376", "muc-hr master": "856302417",
		"muc-hr shadow": "856302418", "sgp-dc": "630174285"}
	for name, id := range want {
		if matched[name] != id {
			t.Errorf("%s matched %q, want %s (matches %+v)", name, matched[name], id, o.Result.Matches)
		}
	}
	rules := map[string]assess.Finding{}
	for _, f := range o.Result.Findings {
		rules[f.Rule+" "+f.Evidence.Value("scc")] = f
	}
	for _, r := range []string{"scc.cert_expiring fra-prod master", "scc.shadow_not_ready muc-hr shadow", "scc.master_alone muc-hr master",
		"scc.backend_slow fra-prod master", "scc.disk_nearly_full muc-hr master"} {
		if _, ok := rules[r]; !ok {
			t.Errorf("no %s; findings %v", r, slices.Collect(func(yield func(string) bool) {
				for k := range rules {
					if !yield(k) {
						return
					}
				}
			}))
		}
	}
	if f := rules["scc.cert_expiring fra-prod master"]; f.Severity != assess.High || f.ClientID != "284610375" || f.Subaccount != o.Subaccount.Label() {
		t.Errorf("certificate finding %+v", f)
	}
}

func TestDeepHealthFailureKeepsTheConnectivityFacts(t *testing.T) {
	t.Parallel()
	_, fleet, p := deepPipeline(t, func(id string) []simulator.SCCOptions {
		o := simulator.SampleSCCs(time.Now(), id)[4]
		o.Password = "another-password" // the config gives the first connector's password: refused
		return []simulator.SCCOptions{simulator.SampleSCCs(time.Now(), id)[0], o}
	}, observe.Options{CacheTTL: time.Hour})
	o := p.Observe(context.Background(), p.Subaccounts(), false, nil).Parts[0].Obs
	if o.Err != nil || !o.Fresh() || len(o.Snapshot().Connectors) == 0 {
		t.Fatalf("a refused connector failed the observation: %v", o.Err)
	}
	var refused *assess.Finding
	for i, f := range o.Result.Findings {
		if f.Rule == assess.RuleSCCCredentials {
			refused = &o.Result.Findings[i]
		}
	}
	if refused == nil || refused.Severity != assess.High || refused.Evidence.Value("scc") != "sgp-dc" {
		t.Fatalf("credentials finding %+v", refused)
	}
	// Read again (refresh): the refused password is not sent again.
	p.Observe(context.Background(), p.Subaccounts(), true, nil)
	if n := fleet.SCCs[1].Unauthorized(); n != 1 {
		t.Errorf("%d refused requests, want exactly 1", n)
	}
}

// TestDeepHealthReadsPastItsCacheOnRefresh: a read of the subaccount within the connectors' TTL
// (the Connectivity service's observation expired, as with --cache-ttl below the connectors' 60 s)
// answers deep health from the Reader's cache: no request reaches a connector. A refresh, a
// question asking for new facts, reads the connectors again.
func TestDeepHealthReadsPastItsCacheOnRefresh(t *testing.T) {
	t.Parallel()
	_, fleet, p := deepPipeline(t, func(id string) []simulator.SCCOptions { return simulator.SampleSCCs(time.Now(), id) }, observe.Options{})
	sent := func() int {
		n := 0
		for _, s := range fleet.SCCs {
			n += len(s.Requests())
		}
		return n
	}
	first := p.Observe(context.Background(), p.Subaccounts(), false, nil).Parts[0].Obs
	cold := sent()
	second := p.Observe(context.Background(), p.Subaccounts(), false, nil).Parts[0].Obs
	if second == first || !second.Fresh() || second.Facts.Deep == nil {
		t.Fatal("the second read made no new observation")
	}
	if warm := sent() - cold; cold == 0 || warm != 0 {
		t.Errorf("cold read sent %d requests, the warm one %d; want none", cold, warm)
	}
	p.Observe(context.Background(), p.Subaccounts(), true, nil)
	if refreshed := sent() - cold; refreshed != cold {
		t.Errorf("the refresh sent %d requests to the connectors, want %d as the cold read", refreshed, cold)
	}
}

// BenchmarkObserveDeepHealthCold observes one subaccount with 100 configured connectors, each
// answering every request after 50 ms, with an empty cache per iteration: the time deep health
// adds to a cold observation.
func BenchmarkObserveDeepHealthCold(b *testing.B) {
	sim, err := simulator.New(simulator.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(sim.Close)
	bnd := binding.Parse(sim.ServiceKeyJSON(simulator.SecretCredentials), "bench").Usable[0]
	var opts []simulator.SCCOptions
	for i := range 100 {
		o := simulator.SampleSCCs(time.Now(), bnd.SubaccountID)[0]
		o.Name, o.Latency = fmt.Sprintf("scc %03d", i), 50*time.Millisecond
		opts = append(opts, o)
	}
	_, cfg := startSCCs(b, opts)
	c, err := connectivity.NewClient(bnd, connectivity.Options{})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		src := observe.NewDeepHealthSource(sccadmin.NewReader(cfg, sccadmin.Options{}), bnd)
		p, err := observe.New([]observe.Bound{{Client: c, Sources: []observe.Source{src}}}, observe.Options{CacheTTL: time.Hour})
		if err != nil {
			b.Fatal(err)
		}
		o := p.Observe(context.Background(), p.Subaccounts(), true, nil).Parts[0].Obs
		if o == nil || o.Err != nil || len(o.Facts.Deep.Reads) != 100 || !o.Facts.Deep.Reads[99].Reachable() {
			b.Fatalf("observation %+v", o)
		}
		p.Close()
	}
}

// TestHangingAdminAPIKeepsTheObservation: a connector whose admin API never answers is reported
// unread, and the subaccount's observation (the Connectivity service's facts) still reaches the
// caller within its deadline, read after read; the connector never makes the subaccount fail.
func TestHangingAdminAPIKeepsTheObservation(t *testing.T) {
	t.Parallel()
	sim, err := simulator.New(simulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	b := binding.Parse(sim.ServiceKeyJSON(simulator.SecretCredentials), "observe test").Usable[0]
	fleet, err := simulator.StartSCCFleet([]simulator.SCCOptions{{Name: "hanging", Latency: time.Hour}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fleet.Close)
	cfg, err := sccadmin.ParseConfig("scc.yaml", fleet.Config(), fleet.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	c, err := connectivity.NewClient(b, connectivity.Options{})
	if err != nil {
		t.Fatal(err)
	}
	src := observe.NewDeepHealthSource(sccadmin.NewReader(cfg, sccadmin.Options{Timeout: time.Hour}), b)
	p, err := observe.New([]observe.Bound{{Client: c, Sources: []observe.Source{src}}}, observe.Options{CacheTTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	for i := range 5 { // each a forced read that meets the connector's read under way
		ctx, cancel := observe.WithTimeout(t.Context(), time.Second)
		v := p.Observe(ctx, p.Subaccounts(), true, nil)
		cancel()
		part := v.Parts[0]
		if part.Err != nil || part.Obs == nil || part.Obs.Err != nil {
			t.Fatalf("read %d: the subaccount failed because of its connector: %v, %+v", i, part.Err, part.Obs)
		}
		if d := part.Obs.Facts.Deep; d == nil || len(d.Reads) != 1 || d.Reads[0].Reachable() {
			t.Fatalf("read %d: the hanging connector is not reported unread: %+v", i, d)
		}
	}
}

// startSCCs starts the simulated connectors of opts and returns them with the config listing them all.
func startSCCs(tb testing.TB, opts []simulator.SCCOptions) (*simulator.SCCFleet, *sccadmin.Config) {
	tb.Helper()
	fleet, err := simulator.StartSCCFleet(opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(fleet.Close)
	cfg, err := sccadmin.ParseConfig("scc.yaml", fleet.Config(), fleet.Getenv)
	if err != nil {
		tb.Fatal(err)
	}
	return fleet, cfg
}
