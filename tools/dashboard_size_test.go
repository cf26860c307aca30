package tools

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/binding"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/connectivity"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/dashboard"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/internal/browsertest"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/observe"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/schemas"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/simulator"
)

// bigFleetReport is the dashboard report of subs subaccounts of perSub connectors each (the
// simulator's large landscape, three systems per connector), with history in memory.
func bigFleetReport(tb testing.TB, subs, perSub int) []byte {
	tb.Helper()
	sim, err := simulator.New(simulator.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(sim.Close)
	var clients []*connectivity.Client
	for i := range subs {
		name := fmt.Sprintf("sa-%03d", i)
		tenant, err := sim.AddTenant(simulator.TenantOptions{Name: name, Subdomain: name, Landscape: simulator.LargeLandscape(perSub, 3)})
		if err != nil {
			tb.Fatal(err)
		}
		parsed := binding.Parse(tenant.ServiceKeyJSON(simulator.SecretCredentials), name)
		if len(parsed.Usable) != 1 {
			tb.Fatalf("%s: %v", name, parsed.Err())
		}
		parsed.Usable[0].Name = name
		c, err := connectivity.NewClient(parsed.Usable[0], connectivity.Options{})
		if err != nil {
			tb.Fatal(err)
		}
		clients = append(clients, c)
	}
	cfg := Config{Observations: observations(tb, clients, nil, observe.Options{CacheTTL: time.Hour}), CallTimeout: 2 * time.Minute}
	cfg.History = memoryHistory(tb, cfg.Observations)
	d, err := Dashboard(tb.Context(), cfg, schemas.Scope{}, time.Now())
	if err != nil {
		tb.Fatal(err)
	}
	if len(d.Subaccounts) != subs || d.ConnectorsAssessed != subs*perSub || d.Partial {
		tb.Fatalf("dashboard of %d subaccounts, %d connectors, partial %v; want %d, %d", len(d.Subaccounts), d.ConnectorsAssessed, d.Partial, subs, subs*perSub)
	}
	page, err := dashboard.Report(d)
	if err != nil {
		tb.Fatal(err)
	}
	return page
}

// TestDashboardReportSize: the report of 500 subaccounts × 10 connectors stays under 3 MB.
func TestDashboardReportSize(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("reads 500 subaccounts")
	}
	page := bigFleetReport(t, 500, 10)
	t.Logf("report of 500 subaccounts × 10 connectors: %d bytes", len(page))
	if len(page) >= 3<<20 {
		t.Errorf("the report of 500 subaccounts × 10 connectors is %d bytes, over 3 MB", len(page))
	}
}

// BenchmarkDashboardReportRender loads the report of 500 subaccounts × 10 connectors in
// chromium until the view has rendered it (body[data-ready]), per iteration a fresh load.
//
//	go test -run '^$' -bench DashboardReportRender -benchtime 5x ./tools/
func BenchmarkDashboardReportRender(b *testing.B) {
	page := bigFleetReport(b, 500, 10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", dashboard.ReportCSP)
		w.Write(page)
	}))
	defer srv.Close()
	br := browsertest.New(b)
	for b.Loop() {
		if err := chromedp.Do(br.Ctx, chromedp.Navigate(srv.URL), chromedp.WaitVisible(chromedp.CSS(`body[data-ready="1"]`))); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(page)), "bytes")
	if p := br.Problems(); len(p) > 0 {
		b.Errorf("console errors: %q", p)
	}
}
