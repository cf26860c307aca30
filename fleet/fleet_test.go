package fleet_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/binding"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/connectivity"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/fleet"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/simulator"
)

// newFleet binds n tenants of one simulator, named t0, t1, …, with subdomains sub-0, sub-1, ….
func newFleet(t *testing.T, n int, opts simulator.Options, fopts fleet.Options) (*fleet.Fleet, []*simulator.Tenant) {
	t.Helper()
	sim, err := simulator.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	var clients []*connectivity.Client
	var tenants []*simulator.Tenant
	for i := range n {
		tenant, err := sim.AddTenant(simulator.TenantOptions{Name: fmt.Sprintf("t%d", i), Subdomain: fmt.Sprintf("sub-%d", i), Landscape: simulator.CleanLandscape()})
		if err != nil {
			t.Fatal(err)
		}
		parsed := binding.Parse(tenant.ServiceKeyJSON(simulator.SecretCredentials), tenant.Name())
		if err := parsed.Err(); err != nil {
			t.Fatal(err)
		}
		parsed.Usable[0].Name = tenant.Name()
		c, err := connectivity.NewClient(parsed.Usable[0], connectivity.Options{})
		if err != nil {
			t.Fatal(err)
		}
		clients, tenants = append(clients, c), append(tenants, tenant)
	}
	return fleet.New(clients, nil, fopts), tenants
}

func TestSelect(t *testing.T) {
	t.Parallel()
	f, _ := newFleet(t, 3, simulator.Options{}, fleet.Options{})
	for _, tc := range []struct {
		asked string
		want  int
	}{{"", 3}, {"t1", 1}, {"SUB-2", 1}, {" t0 ", 1}} {
		subs, err := f.Select(tc.asked)
		if err != nil || len(subs) != tc.want {
			t.Errorf("Select(%q) = %d subaccounts, %v; want %d", tc.asked, len(subs), err, tc.want)
		}
	}
	_, err := f.Select("prod")
	var unknown *fleet.UnknownError
	if !errors.As(err, &unknown) || err.Error() != `no subaccount "prod" is bound; valid values: t0, sub-0, t1, sub-1, t2, sub-2` {
		t.Errorf("unknown subaccount: %v", err)
	}
}

// TestReadIsBoundedAndCached reads six subaccounts two at a time: with 200 ms per API answer
// that takes at least three rounds. A second read is answered from each subaccount's cache, and
// reuses the merged snapshot.
func TestReadIsBoundedAndCached(t *testing.T) {
	t.Parallel()
	f, tenants := newFleet(t, 6, simulator.Options{APILatency: 200 * time.Millisecond}, fleet.Options{CacheTTL: time.Hour, MaxParallel: 2})
	var done []int
	start := time.Now()
	r := f.Read(context.Background(), f.Subaccounts(), false, func(n, total int) {
		if total != 6 {
			t.Errorf("progress total %d", total)
		}
		done = append(done, n)
	})
	if elapsed := time.Since(start); elapsed < 600*time.Millisecond {
		t.Errorf("six reads two at a time took %v, less than three rounds of 200 ms", elapsed)
	}
	if len(r.Failures) != 0 || len(r.Snapshot.Connectors) != 12 || len(done) != 6 || done[5] != 6 {
		t.Fatalf("failures %v, %d connectors, progress %v", r.Failures, len(r.Snapshot.Connectors), done)
	}
	again := f.Read(context.Background(), f.Subaccounts(), false, nil)
	if again.Snapshot != r.Snapshot {
		t.Error("the merged snapshot of unchanged parts was not reused")
	}
	for _, tenant := range tenants {
		if c := tenant.Counts(); c.APIRequests != 1 || c.TokenRequests != 1 {
			t.Errorf("%s: %d API and %d token requests, want 1 each", tenant.Name(), c.APIRequests, c.TokenRequests)
		}
	}
	for _, s := range f.Subaccounts() {
		if st := s.Status(); st.Connectors != 2 || st.LastRead.IsZero() || st.LastError != nil {
			t.Errorf("%s: status %+v", s.Name(), st)
		}
	}
}

func TestReadPartial(t *testing.T) {
	t.Parallel()
	f, tenants := newFleet(t, 3, simulator.Options{}, fleet.Options{})
	tenants[1].InjectFault(simulator.Fault{Status: 403})
	r := f.Read(context.Background(), f.Subaccounts(), true, nil)
	var apiErr *connectivity.APIError
	if len(r.Failures) != 1 || r.Failures[0].Subaccount.Name() != "t1" || !errors.As(r.Failures[0].Err, &apiErr) || apiErr.Status != 403 {
		t.Fatalf("failures %+v", r.Failures)
	}
	if len(r.Snapshot.Connectors) != 4 || r.Snapshot.Subaccounts[0] != "sub-0" || r.Snapshot.Subaccounts[3] != "sub-2" {
		t.Errorf("snapshot of the others: %d connectors, labels %v", len(r.Snapshot.Connectors), r.Snapshot.Subaccounts)
	}
	if st := f.Subaccounts()[1].Status(); st.LastError == nil || !st.LastRead.IsZero() {
		t.Errorf("status of the failed subaccount: %+v", st)
	}
}
