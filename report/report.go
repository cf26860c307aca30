// Package report renders an assessment (the assess_connectors result) for the check command:
// a text table for people, and SARIF 2.1.0 for security dashboards and CI pipelines.
package report

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/schemas"
)

// Text renders an assessment for people: a headline with the counts, then one table row per
// finding, worst first.
func Text(w io.Writer, out schemas.AssessConnectorsOutput) error {
	c := out.Counts
	fmt.Fprintf(w, "Cloud Connector assessment: %d connectors, %d findings (data fetched %s)\n", out.ConnectorsAssessed, out.Total, out.FetchedAt)
	fmt.Fprintf(w, "critical %d, high %d, medium %d, low %d, info %d; accepted %d\n", c.Critical, c.High, c.Medium, c.Low, c.Info, c.Accepted)
	for _, b := range out.Policy.SCCVersions {
		switch b.Source {
		case "configured":
			fmt.Fprintf(w, "Subaccount %s: minimum Cloud Connector version %s (configured)\n", cell(b.Subaccount), b.MinVersion)
		case "derived":
			fmt.Fprintf(w, "Subaccount %s: minimum Cloud Connector version %s (newest patch of its established release %s)\n", cell(b.Subaccount), b.MinVersion, b.Release)
		default:
			fmt.Fprintf(w, "Subaccount %s: no Cloud Connector version could be read\n", cell(b.Subaccount))
		}
	}
	fmt.Fprintf(w, "Minimum Java %d\n", out.Policy.MinJavaMajor)
	if a := out.AcceptedRisks; a != nil {
		for _, e := range a.Unused {
			fmt.Fprintf(w, "Accepted risk at %s line %d (%s) matches no finding: remove it or fix its selectors\n", a.File, e.Line, e.Rule)
		}
	}
	if len(out.Findings) == 0 {
		_, err := fmt.Fprintln(w, "\nNo findings.")
		return err
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SEVERITY\tRULE\tSUBACCOUNT\tCONNECTOR\tTITLE")
	for _, f := range out.Findings {
		severity := f.Severity
		switch {
		case f.Accepted != nil:
			severity += " (accepted)"
		case f.AcceptanceExpired != "":
			severity += " (acceptance expired " + f.AcceptanceExpired + ")"
		case f.New != nil && *f.New:
			severity += " (new)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", severity, f.ID, cell(f.Subaccount), cell(f.ClientID), cell(f.Title))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if out.Truncated {
		fmt.Fprintf(w, "\n%d of %d findings shown.\n", out.Returned, out.Total)
	}
	_, err := fmt.Fprintln(w, "\nEvidence and remediation for each finding: --format json or sarif, or the assess_connectors tool.")
	return err
}

// cell keeps one table cell on one line and never empty.
func cell(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if s == "" {
		return "-"
	}
	return s
}
