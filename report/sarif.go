package report

import (
	"io"
	"slices"

	"github.com/owenrumney/go-sarif/v3/pkg/report/v210/sarif"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/schemas"
)

// FingerprintKey names the finding's fingerprint among a SARIF result's partialFingerprints.
const FingerprintKey = "btpConnectivityFinding/v1"

// SARIF builds a SARIF 2.1.0 log of an assessment: one rule per rule ID in the findings (short
// description and help), one result per finding with its level, message, fingerprint and a
// logical location naming subaccount and connector. Accepted findings carry an external,
// accepted suppression with the reason as justification.
func SARIF(out schemas.AssessConnectorsOutput, toolVersion string) *sarif.Report {
	run := sarif.NewRunWithInformationURI("btp-connectivity-mcp", "https://github.com/btp-connectivity-mcp/btp-connectivity-mcp")
	run.Tool.Driver.WithVersion(toolVersion)
	ids := make([]string, 0, len(out.Rules))
	for id := range out.Rules {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		help := out.Rules[id]
		run.AddRule(id).WithName(id).WithDescription(help.Title).
			WithHelp(sarif.NewMultiformatMessageString().WithText(help.Remediation))
	}
	for _, f := range out.Findings {
		name := f.ClientID
		if name == "" {
			name = "(no client_id)"
		}
		qualified := name
		if f.Subaccount != "" {
			qualified = f.Subaccount + "/" + name
		}
		result := run.CreateResultForRule(f.ID).
			WithLevel(Level(f.Severity)).
			WithMessage(sarif.NewTextMessage(f.Title)).
			WithPartialFingerprints(map[string]string{FingerprintKey: f.Fingerprint}).
			AddLocation(sarif.NewLocation().AddLogicalLocation(
				sarif.NewLogicalLocation().WithName(name).WithFullyQualifiedName(qualified).WithKind("resource")))
		props := sarif.NewPropertyBag()
		props.Add("severity", f.Severity)
		for k, v := range f.Evidence {
			props.Add("evidence."+k, v)
		}
		result.WithProperties(props)
		if f.Accepted != nil {
			result.AddSuppression(sarif.NewSuppression().WithKind("external").WithStatus("accepted").
				WithJustification(f.Accepted.Reason + " (owner " + f.Accepted.Owner + ", until " + f.Accepted.Expires + ")"))
		}
	}
	return sarif.NewReport().AddRun(run)
}

// WriteSARIF writes the SARIF log of an assessment as indented JSON.
func WriteSARIF(w io.Writer, out schemas.AssessConnectorsOutput, toolVersion string) error {
	return SARIF(out, toolVersion).PrettyWrite(w)
}

// Level maps a severity to a SARIF level: critical and high are errors, medium a warning, low
// and info notes.
func Level(severity string) string {
	switch severity {
	case "critical", "high":
		return "error"
	case "medium":
		return "warning"
	}
	return "note"
}
