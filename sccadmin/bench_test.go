package sccadmin_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/sccadmin"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/simulator"
)

// fleetOf starts n simulated 2.19 masters answering after latency each and returns their config.
func fleetOf(tb testing.TB, n int, latency time.Duration) (*sccadmin.Config, []*simulator.SCC) {
	tb.Helper()
	entries, sccs := make([]string, n), make([]*simulator.SCC, n)
	for i := range n {
		o := simulator.SampleSCCs(now, "sub-1")[0]
		o.Version, o.Latency = "2.19.0.2", latency
		sccs[i] = startSCC(tb, o)
		entries[i] = direct(tb, fmt.Sprintf("scc-%03d", i), sccs[i], sccs[i].Password())
	}
	return configOf(tb, entries...), sccs
}

func requests(sccs []*simulator.SCC) int {
	n := 0
	for _, s := range sccs {
		n += len(s.Requests())
	}
	return n
}

// BenchmarkReadAllCold reads 100 connectors, each answering every request after 50 ms, with a
// new Reader (empty cache) per iteration.
func BenchmarkReadAllCold(b *testing.B) {
	cfg, sccs := fleetOf(b, 100, 50*time.Millisecond)
	b.ResetTimer()
	for b.Loop() {
		for _, h := range sccadmin.NewReader(cfg, sccadmin.Options{}).ReadAll(context.Background(), false) {
			if !h.Reachable() || len(h.Subaccounts) != 1 {
				b.Fatalf("%s: %v", h.Name, h.Failure)
			}
		}
	}
	b.ReportMetric(float64(requests(sccs))/float64(b.N), "requests/op")
}

func TestWarmReadAllSendsNothing(t *testing.T) {
	t.Parallel()
	cfg, sccs := fleetOf(t, 10, 0)
	r := sccadmin.NewReader(cfg, sccadmin.Options{})
	r.ReadAll(context.Background(), false)
	cold := requests(sccs)
	if cold != 10*11 {
		t.Errorf("cold read: %d requests, want 110 (role, version, 9 endpoints each)", cold)
	}
	for _, h := range r.ReadAll(context.Background(), false) {
		if !h.Reachable() {
			t.Fatal(h.Failure)
		}
	}
	if warm := requests(sccs) - cold; warm != 0 {
		t.Errorf("warm read sent %d requests", warm)
	}
}
