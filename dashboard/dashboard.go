// Package dashboard is the fleet dashboard: one self-contained HTML application (inline CSS and
// JavaScript, no request to any other origin) delivered two ways from the same file, view.html:
//
//   - [App] is the MCP App (the MCP Apps extension, io.modelcontextprotocol/ui): the host renders
//     it in a sandboxed iframe and passes it the results of the tools that link it; the view
//     talks to the host with the official @modelcontextprotocol/ext-apps SDK.
//   - [Report] is the same view with a [schemas.Dashboard] embedded, for check --format html and
//     the HTTP server's /report: a file for mail, a wiki or a CI artifact.
//
// The browser files are vendored under vendor/ (see vendor/update.sh and vendor/VERSIONS) and
// embedded: building the program never needs Node. The SDK's browser bundle is larger than the
// rest of the view together, so the App carries it gzip-compressed and the view unpacks it with
// the browser's DecompressionStream before it connects to the host.
package dashboard

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"sync"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/schemas"
)

// URI is the MCP App's resource, linked from tools by _meta.ui.resourceUri.
const URI = "ui://btp-connectivity/dashboard.html"

// MIMEType is the MIME type of an MCP App's HTML.
const MIMEType = "text/html;profile=mcp-app"

// ReportCSP is the content security policy the report is served with: inline code only, no
// request to any origin (the hosts' default policy for MCP Apps is no wider).
const ReportCSP = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// DataURI is the resource the App reads the whole dashboard from (connectivity://dashboard).
const DataURI = "connectivity://dashboard"

var (
	//go:embed view.html
	view string
	//go:embed vendor/uPlot.iife.min.js
	uplotJS string
	//go:embed vendor/uPlot.min.css
	uplotCSS string
	//go:embed vendor/ext-apps-app-with-deps.js
	sdkModule string
)

// The placeholders of view.html, each replaced once.
const (
	markCSS    = "/*UPLOT_CSS*/"
	markUPlot  = "/*UPLOT_JS*/"
	markSDK    = "PACKED_GZIP_BASE64"
	markMode   = "DASHBOARD_MODE"
	markScript = "</script"
)

// exportStatement is the ES module's final export list, e.g. export{qB as App,cO as applyDocumentTheme};
var exportStatement = regexp.MustCompile(`export\s*\{([^}]*)\}\s*;?\s*$`)

// sdkScript turns the SDK's ES module bundle into a classic script that sets window.McpApps, so
// that it can run inline: the bundle has no imports, only the final export statement.
func sdkScript(module string) (string, error) {
	m := exportStatement.FindStringSubmatchIndex(module)
	if m == nil {
		return "", fmt.Errorf("dashboard: the ext-apps bundle does not end with an export statement; rerun vendor/update.sh")
	}
	var fields []string
	for _, spec := range strings.Split(module[m[2]:m[3]], ",") {
		local, exported, ok := strings.Cut(strings.TrimSpace(spec), " as ")
		if !ok {
			exported = local
		}
		fields = append(fields, fmt.Sprintf("%q:%s", strings.TrimSpace(exported), strings.TrimSpace(local)))
	}
	return "(function(){\"use strict\";" + module[:m[0]] + "\nwindow.McpApps={" + strings.Join(fields, ",") + "};})();", nil
}

// gzipBase64 compresses s at the best level, deterministically (no name, no time).
func gzipBase64(s string) string {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression) // the level is valid
	zw.Write([]byte(s))                                      //nolint:errcheck // a bytes.Buffer does not fail
	zw.Close()                                               //nolint:errcheck
	return base64.StdEncoding.EncodeToString(buf.Bytes())
}

// page fills view.html: mode is "app" or "report"; packed is, compressed, the SDK (app) or the
// JSON of a schemas.Dashboard (report).
func page(mode, packed string) string {
	return strings.NewReplacer(
		markCSS, uplotCSS,
		markUPlot, strings.ReplaceAll(uplotJS, markScript, `<\/script`),
		markSDK, packed,
		markMode, mode,
	).Replace(view)
}

var app = sync.OnceValues(func() ([]byte, error) {
	script, err := sdkScript(sdkModule)
	if err != nil {
		return nil, err
	}
	return []byte(page("app", gzipBase64(script))), nil
})

// App returns the MCP App's HTML: the view, uPlot and the ext-apps SDK; its data comes from the
// host (the tool result it is shown with, and the connectivity://dashboard resource).
func App() ([]byte, error) { return app() }

// Report returns the view with d embedded: a self-contained HTML file that needs no server. The
// data is embedded gzip-compressed (JSON of a large fleet repeats itself: 500 subaccounts of 10
// connectors take 7 MB as JSON, a tenth of it compressed); the view unpacks it as the App does
// the SDK.
func Report(d schemas.Dashboard) ([]byte, error) {
	data, err := json.Marshal(d)
	if err != nil {
		return nil, fmt.Errorf("dashboard: encoding the report's data: %w", err)
	}
	return []byte(page("report", gzipBase64(string(data)))), nil
}
