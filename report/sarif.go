package report

import (
	"encoding/json"
	"io"
	"slices"

	"github.com/owenrumney/go-sarif/v3/pkg/report/v210/sarif"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/schemas"
)

// FingerprintKey names the finding's fingerprint among a SARIF result's partialFingerprints.
const FingerprintKey = "btpConnectivityFinding/v1"

// Log is a SARIF 2.1.0 log with one run. It stands in for sarif.Report when writing: the
// library's Report carries a Validate method whose JSON-schema validator would otherwise be
// linked into the binary beside the one mcp-go uses (tests validate with it instead).
type Log struct {
	Schema  string       `json:"$schema"`
	Version string       `json:"version"`
	Runs    []*sarif.Run `json:"runs"`
}

// SARIF builds a SARIF 2.1.0 log of an assessment: one rule per rule ID in the findings (short
// description and help), one result per finding with its level, message, fingerprint and a
// logical location naming subaccount and connector. Accepted findings carry an external,
// accepted suppression with the reason as justification.
func SARIF(out schemas.AssessConnectorsOutput, toolVersion string) *Log {
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
	return &Log{Schema: schemaURI, Version: "2.1.0", Runs: []*sarif.Run{run}}
}

// schemaURI is the SARIF 2.1.0 JSON schema's address, as go-sarif writes it.
const schemaURI = "https://raw.githubusercontent.com/oasis-tcs/sarif-spec/main/sarif-2.1/schema/sarif-schema-2.1.0.json"

// WriteSARIF writes the SARIF log of an assessment as indented JSON.
func WriteSARIF(w io.Writer, out schemas.AssessConnectorsOutput, toolVersion string) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(SARIF(out, toolVersion))
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
