package tools

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/dashboard"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/history"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/internal/browsertest"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/observe"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/schemas"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/simulator"
)

// TestDashboardHistoryInBrowser records the demo landscape's changes as reads spread over the
// last 60 days (each step read for real, recorded at its day), then renders the report in
// chromium: the trend spans the history with the day's open findings per severity, the changes
// of the last 7 days are listed. UPDATE_SCREENSHOT=true writes the screenshot to
// docs/dashboard.png (the README's).
func TestDashboardHistoryInBrowser(t *testing.T) {
	t.Parallel()
	b := browsertest.New(t)
	env := newSimEnvWith(t, simEnvOptions{}, nil)
	steps := simulator.DemoLandscapes()
	env.sim.SetLandscapes(steps...)
	now := time.Now()
	subs := env.cfg.Observations.Subaccounts()
	// A store of its own, written here: each read recorded at its day, the last one (today)
	// through a recorder, which then tells what is new.
	store, err := history.OpenMemory(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	var last *observe.View
	for i, day := range []int{60, 45, 30, 5, 2} {
		if i >= len(steps) {
			break
		}
		last = env.cfg.Observations.Observe(t.Context(), subs, true, nil)
		for _, p := range last.Usable() {
			// Recorded at its day: the store keeps the read as if made then.
			read := history.Read{Subaccount: p.Sub.Identity(), Label: p.Sub.Label(), At: now.AddDate(0, 0, -day), Connectors: p.Obs.Snapshot().Connectors}
			for _, f := range p.Obs.Result.Findings {
				read.Findings = append(read.Findings, history.Finding{Fingerprint: f.Fingerprint, Rule: f.Rule,
					Severity: string(f.Severity), ClientID: f.ClientID, Subject: f.Subject, Title: f.Title})
			}
			if _, err := store.Record(t.Context(), read); err != nil {
				t.Fatal(err)
			}
		}
	}
	// The recorder opens on the history so far (its baseline), then records today's read.
	rec := observe.NewRecorder("the test's store", func(context.Context) (history.Store, error) { return store, nil }, nil)
	t.Cleanup(func() { rec.Close(5 * time.Second) })
	if err := rec.Wait(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, p := range last.Usable() {
		rec.Observe(p.Obs)
	}
	rec.Flush(t.Context())
	cfg := env.cfg
	cfg.History = rec
	d, err := Dashboard(t.Context(), cfg, schemas.Scope{}, now)
	if err != nil {
		t.Fatal(err)
	}
	if d.Trend == nil || len(d.Trend.Days) != 61 || len(d.Changes) == 0 {
		t.Fatalf("trend %+v, %d changes; want 61 days and the changes of the last week", d.Trend, len(d.Changes))
	}
	page, err := dashboard.Report(d)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", dashboard.ReportCSP)
		w.Write(page)
	}))
	t.Cleanup(srv.Close)
	if err := chromedp.Do(b.Ctx, chromedp.Navigate(srv.URL), chromedp.WaitVisible(chromedp.CSS(`body[data-ready="1"]`))); err != nil {
		t.Fatal(err)
	}
	if n := browsertest.Eval[int](t, b, `document.querySelectorAll("#trend canvas").length`); n != 1 {
		t.Errorf("%d trend charts drawn, want 1", n)
	}
	if n := browsertest.Eval[int](t, b, `document.querySelectorAll("#changes .change").length`); n != len(d.Changes) {
		t.Errorf("%d changes shown, want %d", n, len(d.Changes))
	}
	if browsertest.Eval[bool](t, b, `!document.getElementById("sec-certificates").classList.contains("hidden")`) {
		t.Error("the certificate section shows without certificates")
	}
	shot, err := chromedp.Run(b.Ctx, chromedp.CaptureScreenshot())
	if err != nil || len(shot) < 1000 {
		t.Fatalf("screenshot: %d bytes, %v", len(shot), err)
	}
	if os.Getenv("UPDATE_SCREENSHOT") == "true" {
		if err := os.WriteFile(filepath.Join("..", "docs", "dashboard.png"), shot, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if p := b.Problems(); len(p) > 0 {
		t.Errorf("console errors: %q", p)
	}
}

// TestDashboardCertificatesInBrowser: once a source reads certificates, the view shows them on
// the timeline, soonest first as given, with the days left as a label.
func TestDashboardCertificatesInBrowser(t *testing.T) {
	t.Parallel()
	b := browsertest.New(t)
	now := time.Now().UTC()
	d := schemas.Dashboard{
		GeneratedAt: now.Format(time.RFC3339), WorstSeverity: "none", Findings: []schemas.Finding{}, Rules: map[string]schemas.RuleHelp{},
		Certificates: []schemas.CertificateExpiry{
			{Subaccount: "prod", ClientID: "517203948", Kind: "system", NotAfter: now.AddDate(0, 0, -1).Format(time.RFC3339)},
			{Subaccount: "prod", ClientID: "517203948", Kind: "ui", NotAfter: now.AddDate(0, 0, 20).Add(time.Hour).Format(time.RFC3339)},
			{Subaccount: "dev", Kind: "ca", NotAfter: now.AddDate(1, 0, 0).Format(time.RFC3339), Severity: "info"},
		},
	}
	page, err := dashboard.Report(d)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", dashboard.ReportCSP)
		w.Write(page)
	}))
	t.Cleanup(srv.Close)
	if err := chromedp.Do(b.Ctx, chromedp.Navigate(srv.URL), chromedp.WaitVisible(chromedp.CSS(`body[data-ready="1"]`))); err != nil {
		t.Fatal(err)
	}
	labels := browsertest.Eval[[]string](t, b, `[...document.querySelectorAll("#certificates .cert .sev")].map(e => e.className + ":" + e.textContent)`)
	want := []string{"sev sev-critical:expired", "sev sev-high:20 days", "sev sev-info:365 days"}
	if len(labels) != len(want) {
		t.Fatalf("certificate labels %q, want %q", labels, want)
	}
	for i := range want {
		if labels[i] != want[i] && !(i == 2 && labels[i] == "sev sev-info:366 days") {
			t.Errorf("certificate %d: %q, want %q", i, labels[i], want[i])
		}
	}
	if p := b.Problems(); len(p) > 0 {
		t.Errorf("console errors: %q", p)
	}
}
