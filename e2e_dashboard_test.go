package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/assess"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/dashboard"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/internal/browsertest"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/schemas"
)

// checkDemo runs check --demo with --format format in process and returns what it wrote.
func checkDemo(t *testing.T, format string) []byte {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if code := run([]string{"check", "--demo", "--format", format, "--log-level", "warn"}, strings.NewReader(""), &stdout, &stderr); code > 1 {
		t.Fatalf("check --format %s: exit %d: %s", format, code, stderr.String())
	}
	return stdout.Bytes()
}

// serveHTML serves page at / of a loopback server with the report's content security policy.
func serveHTML(t *testing.T, page []byte) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", dashboard.ReportCSP)
		w.Write(page)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// shownCounts reads the headline numbers the page shows.
const shownCounts = `(() => { const n = id => +document.getElementById(id).textContent;
	return {critical: n("total-critical"), high: n("total-high"), medium: n("total-medium"), low: n("total-low"),
		info: n("total-info"), accepted: n("total-accepted")}; })()`

// TestDashboardReportInBrowser opens the report of the demo landscape (check --format html) in
// chromium: it loads under the report's content security policy with no console error and no
// request to another origin, shows the numbers of assess_connectors, its filters narrow the
// findings, it fits 400 px and follows a dark colour scheme. (The README's screenshot is
// TestDashboardHistoryInBrowser's, with a history.)
func TestDashboardReportInBrowser(t *testing.T) {
	t.Parallel()
	b := browsertest.New(t)
	page := checkDemo(t, "html")
	var want schemas.AssessConnectorsOutput
	if err := json.Unmarshal(checkDemo(t, "json"), &want); err != nil {
		t.Fatal(err)
	}
	url := serveHTML(t, page)
	if err := chromedp.Do(b.Ctx, chromedp.Navigate(url), chromedp.WaitVisible(chromedp.CSS(`body[data-ready="1"]`))); err != nil {
		t.Fatalf("loading the report: %v", err)
	}
	got := browsertest.Eval[schemas.SeverityCounts](t, b, shownCounts)
	if got != want.Counts {
		t.Errorf("the report shows %+v, assess_connectors counts %+v", got, want.Counts)
	}
	if n := browsertest.Eval[int](t, b, `+document.getElementById("total-connectors").textContent`); n != want.ConnectorsAssessed {
		t.Errorf("the report shows %d connectors, assess_connectors assessed %d", n, want.ConnectorsAssessed)
	}
	if n := browsertest.Eval[int](t, b, `document.querySelectorAll("#heat tbody tr").length`); n == 0 {
		t.Error("no heat row")
	}

	// Filters: each narrows the list to what the findings of assess_connectors say.
	count := func(keep func(f schemas.Finding) bool) int {
		n := 0
		for _, f := range want.Findings {
			if keep(f) {
				n++
			}
		}
		return n
	}
	first := want.Findings[len(want.Findings)-1]
	for _, tc := range []struct {
		name, set string
		want      int
	}{
		{"all", ``, len(want.Findings)},
		{"high and worse", `sel("f-severity", "high")`, count(func(f schemas.Finding) bool { return assess.Severity(f.Severity).AtLeast(assess.High) })},
		{"one rule", fmt.Sprintf(`sel("f-rule", %q)`, first.ID), count(func(f schemas.Finding) bool { return f.ID == first.ID })},
		{"one subaccount and medium", fmt.Sprintf(`sel("f-subaccount", %q); sel("f-severity", "medium")`, first.Subaccount),
			count(func(f schemas.Finding) bool {
				return f.Subaccount == first.Subaccount && assess.Severity(f.Severity).AtLeast(assess.Medium)
			})},
		{"new only", `document.getElementById("f-new").checked = true; sel("f-new")`, count(func(f schemas.Finding) bool { return f.New != nil && *f.New })},
		{"accepted only", `sel("f-accepted", "only")`, count(func(f schemas.Finding) bool { return f.Accepted != nil })},
	} {
		shown := browsertest.Eval[int](t, b, `(() => {
			const sel = (id, v) => { const e = document.getElementById(id); if (v !== undefined) e.value = v; e.dispatchEvent(new Event("change")); };
			["f-severity", "f-subaccount", "f-rule", "f-accepted"].forEach(id => document.getElementById(id).value = "");
			document.getElementById("f-new").checked = false; sel("f-severity");
			`+tc.set+`;
			return +document.getElementById("findings-count").dataset.shown; })()`)
		if shown != tc.want {
			t.Errorf("filter %s: %d findings shown, want %d", tc.name, shown, tc.want)
		}
	}
	browsertest.Eval[bool](t, b, `(() => { ["f-severity", "f-subaccount", "f-rule", "f-accepted"].forEach(id => document.getElementById(id).value = "");
		document.getElementById("f-new").checked = false; document.getElementById("f-severity").dispatchEvent(new Event("change")); return true; })()`)

	shot, err := chromedp.Run(b.Ctx, chromedp.FullScreenshot(90))
	if err != nil || len(shot) < 1000 {
		t.Fatalf("screenshot: %d bytes, %v", len(shot), err)
	}

	// 400 px wide: nothing wider than the viewport.
	if _, err := chromedp.Call(b.Ctx, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{Width: 400, Height: 800, DeviceScaleFactor: 1}); err != nil {
		t.Fatal(err)
	}
	if w := browsertest.Eval[int](t, b, `new Promise(r => setTimeout(() => r(document.documentElement.scrollWidth), 300))`); w > 400 {
		t.Errorf("at 400 px the page is %d px wide", w)
	}
	// The colour scheme of the system: dark.
	light := browsertest.Eval[string](t, b, `getComputedStyle(document.body).backgroundColor`)
	if _, err := chromedp.Call(b.Ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
		Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}}}); err != nil {
		t.Fatal(err)
	}
	if dark := browsertest.Eval[string](t, b, `getComputedStyle(document.body).backgroundColor`); dark == light {
		t.Errorf("the background stays %s in a dark colour scheme", dark)
	}

	// Printed: no filters, every finding's details open.
	if _, err := chromedp.Call(b.Ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"}); err != nil {
		t.Fatal(err)
	}
	if shown := browsertest.Eval[bool](t, b, `getComputedStyle(document.querySelector(".filters")).display !== "none"`); shown {
		t.Error("the filters are printed")
	}

	if p := b.Problems(); len(p) > 0 {
		t.Errorf("console errors: %q", p)
	}
	if f := b.ForeignRequests(url); len(f) > 0 {
		t.Errorf("requests to other origins: %q", f)
	}
}

// TestHTTPReport: GET /report answers the dashboard page with its content security policy, only
// with the token /mcp asks for.
func TestHTTPReport(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("runs the binary")
	}
	const token = "report-e2e-token-7c41d0-0123456789abcdef"
	p := startHTTP(t, []string{"HOME=" + t.TempDir(), "MCP_AUTH_TOKEN=" + token}, "--demo", "--http", "127.0.0.1:0", "--log-level", "info")
	get := func(auth string) *http.Response {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, p.url+ReportPath, nil)
		if err != nil {
			t.Fatal(err)
		}
		if auth != "" {
			req.Header.Set("Authorization", "Bearer "+auth)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { res.Body.Close() })
		return res
	}
	for _, auth := range []string{"", "wrong-token"} {
		if res := get(auth); res.StatusCode != http.StatusUnauthorized {
			t.Errorf("GET /report with token %q: %s, want 401", auth, res.Status)
		}
	}
	res := get(token)
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "text/html; charset=utf-8" ||
		res.Header.Get("Content-Security-Policy") != dashboard.ReportCSP || !bytes.Contains(body, []byte(`var MODE = "report"`)) {
		t.Errorf("GET /report: %s %v, %d bytes", res.Status, res.Header, len(body))
	}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, p.url+ReportPath+"?subaccount=nope", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	bad, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer bad.Body.Close()
	msg, _ := io.ReadAll(bad.Body)
	if bad.StatusCode != http.StatusBadRequest || !strings.Contains(string(msg), "nope") {
		t.Errorf("GET /report?subaccount=nope: %s %s, want 400 naming it", bad.Status, msg)
	}
}
