package dashboard

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"io"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/schemas"
)

// TestAppSize: the MCP App's HTML, vendored files included, stays under 300 KB.
func TestAppSize(t *testing.T) {
	t.Parallel()
	html, err := App()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("the MCP App's HTML: %d bytes (uPlot %d, the ext-apps SDK %d uncompressed)", len(html), len(uplotJS), len(sdkModule))
	if len(html) >= 300<<10 {
		t.Errorf("the MCP App's HTML is %d bytes, over 300 KB", len(html))
	}
	for _, mark := range []string{markCSS, markUPlot, markSDK, markMode} {
		if strings.Contains(string(html), mark) {
			t.Errorf("placeholder %s left in the HTML", mark)
		}
	}
}

func TestSDKScript(t *testing.T) {
	t.Parallel()
	tests := []struct {
		module, want, wantErr string
	}{
		{`var a=1;function b(){}export{a as App,b,c as applyDocumentTheme};`, `window.McpApps={"App":a,"b":b,"applyDocumentTheme":c};`, ""},
		{"let x=2;\nexport { x as App }\n", `window.McpApps={"App":x};`, ""},
		{`var a=1;`, "", "does not end with an export statement"},
	}
	for _, tc := range tests {
		got, err := sdkScript(tc.module)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("sdkScript(%q): error %v, want %q", tc.module, err, tc.wantErr)
			}
			continue
		}
		if err != nil || !strings.Contains(got, tc.want) || strings.Contains(got, "export") || !strings.HasPrefix(got, "(function(){") {
			t.Errorf("sdkScript(%q) = %q, %v; want it to contain %q", tc.module, got, err, tc.want)
		}
	}
	// The vendored bundle converts.
	if _, err := sdkScript(sdkModule); err != nil {
		t.Fatal(err)
	}
}

// TestReport: the report carries its data, compressed, intact, whatever the strings hold.
func TestReport(t *testing.T) {
	t.Parallel()
	d := schemas.Dashboard{
		GeneratedAt: "2026-12-07T08:00:00Z", WorstSeverity: "high", Counts: schemas.SeverityCounts{High: 1},
		Findings: []schemas.Finding{{ID: "security.trace", Severity: "high", ClientID: "c1", Title: `</script><script>alert("x")</script> & more`,
			Evidence: map[string]string{"k": "v"}}},
		Rules:        map[string]schemas.RuleHelp{"security.trace": {Title: "Trace", Remediation: "Switch it off."}},
		Certificates: []schemas.CertificateExpiry{{Subaccount: "prod", Kind: "system", NotAfter: "2027-01-01T00:00:00Z"}},
	}
	page, err := Report(d)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(page, []byte("alert(")) {
		t.Error("a finding's text reached the HTML as markup")
	}
	m := regexp.MustCompile(`<script type="application/octet-stream" id="packed">([A-Za-z0-9+/=]*)</script>`).FindSubmatch(page)
	if m == nil {
		t.Fatal("the report holds no packed data")
	}
	raw, err := base64.StdEncoding.DecodeString(string(m[1]))
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	var got schemas.Dashboard
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(d, got); diff != "" {
		t.Errorf("the report's data differs (-put +got):\n%s", diff)
	}
	if !bytes.Contains(page, []byte(`var MODE = "report"`)) {
		t.Error("the report is not in report mode")
	}
}
