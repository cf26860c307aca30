package tools

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/dashboard"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/internal/browsertest"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/schemas"
)

// hostCSP is the MCP Apps hosts' default content security policy for a view that declares no
// domains: inline code only, no network.
const hostCSP = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; connect-src 'none'"

// hostPage is a minimal MCP Apps host: the ext-apps SDK's AppBridge, the view in a sandboxed
// iframe (srcdoc, under hostCSP; same origin only so that the test can read the view's DOM, where
// real hosts serve it from an origin of its own), tool calls and resource reads forwarded to the MCP server
// through POST /rpc. Once the view is initialized it calls assess_connectors and passes the
// view the tool's input and result, as a chat host does.
const hostPage = `<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>test host</title></head><body>
<iframe id="view" sandbox="allow-scripts allow-same-origin" style="width:900px;height:1400px;border:0"></iframe>
<script>BRIDGE</script>
<script>
(async () => {
  const rpc = async (method, params) => {
    const r = await fetch("/rpc", {method: "POST", body: JSON.stringify({method, params})});
    if (!r.ok) throw new Error(await r.text());
    return r.json();
  };
  const {AppBridge, PostMessageTransport} = McpAppsHost;
  const iframe = document.getElementById("view");
  const bridge = new AppBridge(null, {name: "test-host", version: "1.0.0"},
    {serverTools: {}, serverResources: {}, logging: {}},
    {hostContext: {theme: "THEME", displayMode: "inline", platform: "web"}});
  bridge.oncalltool = (params) => rpc("tools/call", params);
  bridge.onreadresource = (params) => { window.resourceReads = (window.resourceReads || 0) + 1; return rpc("resources/read", params); };
  bridge.oninitialized = async () => {
    const args = {};
    await bridge.sendToolInput({arguments: args});
    const result = await rpc("tools/call", {name: "assess_connectors", arguments: args});
    window.toolResult = result;
    await bridge.sendToolResult(result);
  };
  await bridge.connect(new PostMessageTransport(iframe.contentWindow, iframe.contentWindow));
  const csp = "<meta http-equiv=\"Content-Security-Policy\" content=\"" + CSP + "\">";
  iframe.srcdoc = APP.replace("<head>", "<head>" + csp);
})().catch(e => console.error("host: " + e));
</script></body></html>`

// rpcProxy forwards the host page's requests to the MCP server through c.
func rpcProxy(t *testing.T, c *client.Client) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Method string          `json:"method"`
			Params json.RawMessage `json:"params"`
		}
		body, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(body, &req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		var out any
		var err error
		switch req.Method {
		case "tools/call":
			var call mcp.CallToolRequest
			if err = json.Unmarshal(req.Params, &call.Params); err == nil {
				out, err = c.CallTool(r.Context(), call)
			}
		case "resources/read":
			var read mcp.ReadResourceRequest
			if err = json.Unmarshal(req.Params, &read.Params); err == nil {
				out, err = c.ReadResource(r.Context(), read)
			}
		default:
			http.Error(w, "unknown method "+req.Method, http.StatusNotFound)
			return
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(out)
	}
}

// TestDashboardAppInBrowser loads the MCP App the server serves at ui://… into a test host page
// built on the ext-apps SDK's AppBridge, in chromium: the view unpacks the SDK under the hosts'
// default content security policy, connects, receives a real assess_connectors result, reads
// connectivity://dashboard through the host, follows the host's theme and shows the tool's
// numbers, without a console error or a request to another origin.
func TestDashboardAppInBrowser(t *testing.T) {
	t.Parallel()
	b := browsertest.New(t)
	_, cfg := assessEnv(t, nil)
	c := assessClient(t, cfg)

	read := mcp.ReadResourceRequest{}
	read.Params.URI = dashboard.URI
	res, err := c.ReadResource(t.Context(), read)
	if err != nil {
		t.Fatal(err)
	}
	text, ok := res.Contents[0].(mcp.TextResourceContents)
	if !ok || text.MIMEType != dashboard.MIMEType || !strings.Contains(text.Text, "<html") {
		t.Fatalf("resource %s: %+v", dashboard.URI, res.Contents[0])
	}
	bridge, err := os.ReadFile(filepath.Join("..", "dashboard", "vendor", "ext-apps-app-bridge.js"))
	if err != nil {
		t.Fatal(err)
	}
	app, _ := json.Marshal(text.Text) // escapes <: the HTML cannot end the host's script element
	csp, _ := json.Marshal(hostCSP)
	page := strings.NewReplacer("BRIDGE", string(bridge), "APP", string(app), "CSP", string(csp), "THEME", "dark").Replace(hostPage)

	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, page)
	})
	mux.HandleFunc("POST /rpc", rpcProxy(t, c))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	if err := chromedp.Do(b.Ctx, chromedp.Navigate(srv.URL)); err != nil {
		t.Fatal(err)
	}
	// The view renders the tool result, then the dashboard resource; wait for the second.
	if !browsertest.Eval[bool](t, b, `new Promise((resolve, reject) => {
		const until = Date.now() + 20000;
		(function poll() {
			const d = document.getElementById("view").contentDocument;
			if (window.resourceReads && d && d.body && d.body.dataset.ready === "1" && d.querySelector("#heat tbody tr")) return resolve(true);
			if (Date.now() > until) return resolve(false);
			setTimeout(poll, 50);
		})(); })`) {
		state := browsertest.Eval[string](t, b, `(() => { const d = document.getElementById("view").contentDocument;
			return JSON.stringify({reads: window.resourceReads, result: !!window.toolResult, ready: d && d.body && d.body.dataset.ready,
				meta: d && d.getElementById("meta") && d.getElementById("meta").textContent}); })()`)
		t.Fatalf("the view did not render the tool result (%s); browser problems: %q", state, b.Problems())
	}
	var want schemas.AssessConnectorsOutput
	if err := json.Unmarshal([]byte(browsertest.Eval[string](t, b, `JSON.stringify(window.toolResult.structuredContent)`)), &want); err != nil {
		t.Fatal(err)
	}
	if want.Total == 0 {
		t.Fatal("the tool result has no findings: nothing to compare")
	}
	got := browsertest.Eval[schemas.SeverityCounts](t, b, `(() => { const d = document.getElementById("view").contentDocument;
		const n = id => +d.getElementById(id).textContent;
		return {critical: n("total-critical"), high: n("total-high"), medium: n("total-medium"), low: n("total-low"),
			info: n("total-info"), accepted: n("total-accepted")}; })()`)
	if got != want.Counts {
		t.Errorf("the view shows %+v, assess_connectors counts %+v", got, want.Counts)
	}
	if theme := browsertest.Eval[string](t, b, `document.getElementById("view").contentDocument.documentElement.dataset.theme`); theme != "dark" {
		t.Errorf("the view's theme is %q, the host's dark", theme)
	}
	if p := b.Problems(); len(p) > 0 {
		t.Errorf("console errors: %q", p)
	}
	if f := b.ForeignRequests(srv.URL); len(f) > 0 {
		t.Errorf("requests to other origins: %q", f)
	}
}
