package tools

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/mark3labs/mcp-go/server"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/assess"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/history"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/observe"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/schemas"
)

func assessConnectors(cfg Config) server.ServerTool {
	return withDashboard(New(cfg.Logger, Definition{
		Name:  "assess_connectors",
		Title: "Assess Cloud Connector health",
		Description: `Assesses every Cloud Connector: findings worst first (rule id, severity, fingerprint, connector, evidence, new, first_seen), each rule's remediation once under rules; accepted risks marked and counted apart.
Use it first to triage.
Example question: "Which of our Cloud Connectors need attention, and what do we do first?"`,
	}, func(ctx context.Context, in schemas.AssessConnectorsInput) (schemas.AssessConnectorsOutput, error) {
		return RunAssessment(ctx, cfg, in)
	}))
}

// RunAssessment answers assess_connectors from the observations in scope; the check command
// uses it too.
func RunAssessment(ctx context.Context, cfg Config, in schemas.AssessConnectorsInput) (schemas.AssessConnectorsOutput, error) {
	v, fresh, err := read(ctx, cfg, in.Scope)
	if err != nil {
		return schemas.AssessConnectorsOutput{}, err
	}
	out, err := assessView(v, cfg.Observations.Policy(), in, cfg.History)
	out.Freshness = fresh
	return out, err
}

// RunCheck answers the check command from one read of every subaccount: assess_connectors with
// every finding and, with dashboard (--format html), the dashboard's data from the same
// observations, so that a subaccount that fails costs one timeout, not two.
func RunCheck(ctx context.Context, cfg Config, dashboard bool, now time.Time) (schemas.AssessConnectorsOutput, *schemas.Dashboard, error) {
	v, fresh, err := read(ctx, cfg, schemas.Scope{})
	if err != nil {
		return schemas.AssessConnectorsOutput{}, nil, err
	}
	out, err := assessView(v, cfg.Observations.Policy(), schemas.AssessConnectorsInput{Limit: schemas.MaxLimit}, cfg.History)
	out.Freshness = fresh
	if err != nil || !dashboard {
		return out, nil, err
	}
	d := dashboardOf(ctx, cfg, schemas.Scope{}, v, fresh, now)
	return out, &d, nil
}

// assessView answers assess_connectors from the assessment of each observation in v. rec, when
// history is on, tells when each finding was first seen and whether it is new.
func assessView(v *observe.View, policy assess.Policy, in schemas.AssessConnectorsInput, rec *observe.Recorder) (schemas.AssessConnectorsOutput, error) {
	snap := v.Snapshot()
	if err := checkClientID(snap, in.ClientID); err != nil {
		return schemas.AssessConnectorsOutput{}, err
	}
	minSeverity := assess.Severity(in.MinSeverity)
	if in.MinSeverity != "" && minSeverity.Rank() < 0 {
		return schemas.AssessConnectorsOutput{}, fmt.Errorf("min_severity must be one of critical, high, medium, low, info; got %q", in.MinSeverity)
	}
	result := v.Assessment()
	limit := clampLimit(in.Limit)
	out := schemas.AssessConnectorsOutput{
		ConnectorsAssessed: len(snap.Connectors),
		WorstSeverity:      "none",
		Policy:             schemas.AssessmentPolicy{MinJavaMajor: result.MinJavaMajor, SCCVersions: []schemas.VersionBar{}},
		Findings:           []schemas.Finding{},
		Rules:              map[string]schemas.RuleHelp{},
	}
	firstSeen, err := novelty(v, rec)
	if err != nil {
		out.History = err.Error()
		firstSeen, _ = novelty(v, nil)
	} else if rec != nil {
		out.NewCounts = &schemas.SeverityCounts{}
	}
	for _, b := range result.Versions {
		out.Policy.SCCVersions = append(out.Policy.SCCVersions, schemas.VersionBar{Subaccount: b.Subaccount, Source: b.Source, MinVersion: b.Min, Release: b.Release})
	}
	for i := range result.Findings {
		f := &result.Findings[i]
		if in.MinSeverity != "" && !f.Severity.AtLeast(minSeverity) {
			continue
		}
		if in.ClientID != "" && f.ClientID != in.ClientID && !slices.Contains(f.Related, in.ClientID) {
			continue
		}
		out.Total++
		fs, known := firstSeen(f)
		if f.Accepted == nil && fs.New && out.NewCounts != nil {
			out.NewCounts.Add(string(f.Severity))
		}
		if f.Accepted != nil {
			out.Counts.Accepted++
		} else {
			if out.WorstSeverity == "none" || f.Severity.Rank() > assess.Severity(out.WorstSeverity).Rank() {
				out.WorstSeverity = string(f.Severity)
			}
			out.Counts.Add(string(f.Severity))
		}
		if len(out.Findings) < limit {
			sf := finding(f)
			if known {
				sf.New = &fs.New
				if !fs.New { // a new one was first seen in this read: new says it
					sf.FirstSeen = rfc3339(fs.At)
				}
			}
			out.Findings = append(out.Findings, sf)
			if _, ok := out.Rules[f.Rule]; !ok {
				rule, _ := assess.LookupRule(f.Rule)
				out.Rules[f.Rule] = schemas.RuleHelp{Title: rule.Title, Remediation: rule.Remediation}
			}
		}
	}
	out.Returned = len(out.Findings)
	out.Truncated = out.Returned < out.Total
	if policy.Accepted != nil {
		out.AcceptedRisks = &schemas.AcceptedRisks{File: policy.Accepted.File}
		for _, e := range result.Unused {
			out.AcceptedRisks.Unused = append(out.AcceptedRisks.Unused, schemas.AcceptedEntry{
				Line: e.Line, Rule: e.Rule, Expires: e.Expires,
			})
		}
	}
	return out, nil
}

// novelty tells, for a finding of v, when it was first seen and whether it is new: from the
// recorder for the findings of a read, and for a subaccount that cannot be read, since when it
// fails. An error says why history cannot tell; a nil recorder (history off) tells nothing.
func novelty(v *observe.View, rec *observe.Recorder) (func(*assess.Finding) (history.FirstSeen, bool), error) {
	if rec == nil {
		return func(*assess.Finding) (history.FirstSeen, bool) { return history.FirstSeen{}, false }, nil
	}
	bySub := map[string]func(string) (history.FirstSeen, bool){}
	failing := map[string]history.FirstSeen{}
	for _, p := range v.Parts {
		if p.Usable() {
			seen, err := rec.Novelty(p.Obs)
			if err != nil {
				return nil, err
			}
			bySub[p.Sub.Label()] = seen
		}
		if err, _ := p.Failed(); err != nil {
			since, isNew := p.Sub.FailingSince()
			failing[assess.Fingerprint(assess.RuleSubaccountUnreachable, p.Sub.Label(), "", p.Sub.Name())] = history.FirstSeen{At: since, New: isNew}
		}
	}
	return func(f *assess.Finding) (history.FirstSeen, bool) {
		if fs, ok := failing[f.Fingerprint]; ok {
			return fs, true
		}
		if seen := bySub[f.Subaccount]; seen != nil {
			return seen(f.Fingerprint)
		}
		return history.FirstSeen{}, false
	}, nil
}

func finding(f *assess.Finding) schemas.Finding {
	out := schemas.Finding{
		ID: f.Rule, Severity: string(f.Severity), Fingerprint: f.Fingerprint,
		Subaccount: f.Subaccount, ClientID: f.ClientID, LocationID: f.LocationID,
		Subject: f.Subject, RelatedClientIDs: f.Related, Title: f.Title, Evidence: f.Evidence.Map(),
	}
	if a := f.Accepted; a != nil {
		out.Accepted = &schemas.Acceptance{Reason: a.Reason, Owner: a.Owner, Expires: a.Expires}
	}
	if f.Expired != nil {
		out.AcceptanceExpired = f.Expired.Expires
	}
	return out
}

// severityNames lists the severities for messages and completions.
func severityNames() []string {
	var out []string
	for _, s := range assess.Severities() {
		out = append(out, string(s))
	}
	return out
}
