package report

import (
	"io"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/dashboard"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/schemas"
)

// HTML writes the dashboard as one self-contained HTML file (the view of the MCP App with d
// embedded): it opens in any browser, offline, for mail, a wiki or a CI artifact.
func HTML(w io.Writer, d schemas.Dashboard) error {
	page, err := dashboard.Report(d)
	if err != nil {
		return err
	}
	_, err = w.Write(page)
	return err
}
