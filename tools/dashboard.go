package tools

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/assess"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/dashboard"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/history"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/observe"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/schemas"
)

// The dashboard (package dashboard) is an MCP App: the ui:// resource holds its HTML, and the
// tools whose answers it renders link it with _meta.ui.resourceUri. A host without the MCP Apps
// extension ignores both; the tools' answers are the same either way, so the model's context does
// not grow. The view reads what only it needs (every subaccount's heat row, the trend, the
// changes) from the connectivity://dashboard resource.

// Spans of the dashboard's history sections.
const (
	DashboardTrendDays   = 90
	DashboardChangesDays = 7
)

// withDashboard links the dashboard to a tool: hosts that render MCP Apps show the tool's answer
// in it. Both the current key and the earlier flat one ("ui/resourceUri") are set, as the
// ext-apps SDK's registerAppTool does.
func withDashboard(t server.ServerTool) server.ServerTool {
	t.Tool.Meta = mcp.NewMetaFromMap(map[string]any{
		"ui":             map[string]any{"resourceUri": dashboard.URI},
		"ui/resourceUri": dashboard.URI,
	})
	return t
}

// DashboardResources returns the dashboard's resources: the MCP App's HTML and its data.
func DashboardResources(cfg Config) []server.ServerResource {
	return []server.ServerResource{
		{
			Resource: mcp.Resource{
				URI: dashboard.URI, Name: "dashboard", Title: "Cloud Connector dashboard",
				Description: "The fleet dashboard, an MCP App: heat rows per subaccount, findings with filters, the 90-day trend and the changes of the last 7 days.",
				MIMEType:    dashboard.MIMEType,
				Meta:        mcp.NewMetaFromMap(map[string]any{"ui": map[string]any{"prefersBorder": true}}),
			},
			Handler: func(ctx context.Context, req mcp.ReadResourceRequest) ([]mcp.ResourceContents, error) {
				html, err := dashboard.App()
				if err != nil {
					return nil, err
				}
				return []mcp.ResourceContents{mcp.TextResourceContents{
					URI: dashboard.URI, MIMEType: dashboard.MIMEType, Text: string(html),
					// No other origin is needed: no connect, resource or frame domains.
					Meta: map[string]any{"ui": map[string]any{"csp": map[string]any{}, "prefersBorder": true}},
				}}, nil
			},
		},
		{
			Resource: mcp.NewResource(dashboard.DataURI, "dashboard-data",
				mcp.WithResourceTitle("Cloud Connector dashboard data"),
				mcp.WithResourceDescription("The data of the dashboard: per subaccount the worst severity and counts, every finding worst first with each rule's remediation, open findings per day and severity over 90 days, and what changed in the last 7 days."),
				mcp.WithMIMEType(jsonMIME)),
			Handler: jsonResource(func(ctx context.Context, _ mcp.ReadResourceRequest) (schemas.Dashboard, error) {
				return Dashboard(ctx, cfg, schemas.Scope{}, time.Now())
			}),
		},
	}
}

// Dashboard reads the subaccounts in scope and returns the dashboard's data: its counts are those
// of assess_connectors with the same scope; it lists every finding, not a page.
func Dashboard(ctx context.Context, cfg Config, scope schemas.Scope, now time.Time) (schemas.Dashboard, error) {
	v, fresh, err := read(ctx, cfg, scope)
	if err != nil {
		return schemas.Dashboard{}, err
	}
	return dashboardOf(ctx, cfg, scope, v, fresh, now), nil
}

// dashboardOf is the dashboard of the observations in v, read for scope.
func dashboardOf(ctx context.Context, cfg Config, scope schemas.Scope, v *observe.View, fresh schemas.Freshness, now time.Time) schemas.Dashboard {
	result, snap := v.Assessment(), v.Snapshot()
	d := schemas.Dashboard{
		Freshness: fresh, GeneratedAt: rfc3339(now), ConnectorsAssessed: len(snap.Connectors), WorstSeverity: "none",
		Findings: []schemas.Finding{}, Rules: map[string]schemas.RuleHelp{}, Subaccounts: []schemas.DashboardSubaccount{},
	}
	rows := map[string]*schemas.DashboardSubaccount{}
	row := func(name string) *schemas.DashboardSubaccount {
		if rows[name] == nil {
			rows[name] = &schemas.DashboardSubaccount{Subaccount: name, WorstSeverity: "none"}
		}
		return rows[name]
	}
	for _, p := range v.Usable() {
		row(p.Sub.Label()).Connectors = len(p.Obs.Snapshot().Connectors)
	}
	for _, e := range fresh.Errors {
		row(e.Subaccount).Error = e.Error
	}
	firstSeen, histErr := novelty(v, cfg.History)
	if histErr != nil {
		firstSeen, _ = novelty(v, nil)
	} else if cfg.History != nil {
		d.NewCounts = &schemas.SeverityCounts{}
	}
	for i := range result.Findings {
		f := &result.Findings[i]
		sf := finding(f)
		fs, known := firstSeen(f)
		if known {
			sf.New = &fs.New
			if !fs.New {
				sf.FirstSeen = rfc3339(fs.At)
			}
		}
		d.Findings = append(d.Findings, sf)
		if _, ok := d.Rules[f.Rule]; !ok {
			rule, _ := assess.LookupRule(f.Rule)
			d.Rules[f.Rule] = schemas.RuleHelp{Title: rule.Title, Remediation: rule.Remediation}
		}
		sub := row(f.Subaccount)
		if f.Accepted != nil {
			d.Counts.Accepted++
			sub.Counts.Accepted++
			continue
		}
		d.Counts.Add(string(f.Severity))
		sub.Counts.Add(string(f.Severity))
		d.WorstSeverity = worse(d.WorstSeverity, f.Severity)
		sub.WorstSeverity = worse(sub.WorstSeverity, f.Severity)
		if fs.New && d.NewCounts != nil {
			d.NewCounts.Add(string(f.Severity))
			sub.New++
		}
	}
	for _, s := range rows {
		if s.Subaccount != "" {
			d.Subaccounts = append(d.Subaccounts, *s)
		}
	}
	slices.SortFunc(d.Subaccounts, func(a, b schemas.DashboardSubaccount) int {
		return cmp.Or(cmp.Compare(rank(b.WorstSeverity), rank(a.WorstSeverity)), cmp.Compare(b.Counts.Critical+b.Counts.High, a.Counts.Critical+a.Counts.High), cmp.Compare(a.Subaccount, b.Subaccount))
	})
	d.Certificates = certificateTimeline(v, cfg.Observations.Policy().Deep, now)
	if err := dashboardHistory(ctx, cfg, scope, now, &d); err != nil {
		histErr = cmp.Or(histErr, err)
	}
	if histErr != nil {
		d.History = histErr.Error()
	}
	return d
}

// dashboardHistory adds the trend and the recent changes from the history store.
func dashboardHistory(ctx context.Context, cfg Config, scope schemas.Scope, now time.Time, d *schemas.Dashboard) error {
	if cfg.History == nil {
		return errors.New("history is off (--history off or CONNECTIVITY_HISTORY=off): no trend and no changes")
	}
	if err := cfg.History.Unavailable(); err != nil {
		return err
	}
	cfg.History.Flush(ctx) // the trend and the changes answer from the store: the reads just made first, as what_changed does
	store := cfg.History.Store()
	var identity string
	label := map[string]string{}
	for _, s := range cfg.Observations.Subaccounts() {
		label[s.Identity()] = s.Label()
	}
	if scope.Subaccount != "" {
		subs, err := cfg.Observations.Select(scope.Subaccount)
		if err != nil {
			return err
		}
		identity = subs[0].Identity()
	}
	var errs []error
	if trends, ok := store.(history.Trends); ok {
		t, err := trends.OpenByDay(ctx, history.TrendQuery{From: now.AddDate(0, 0, 1-DashboardTrendDays), To: now, Subaccount: identity})
		if err != nil {
			errs = append(errs, fmt.Errorf("the trend is missing: %w", err))
		} else {
			tr := &schemas.Trend{Since: rfc3339(t.OldestRead)}
			for _, day := range t.Days {
				if day.Day.AddDate(0, 0, 1).Before(t.OldestRead) || t.OldestRead.IsZero() {
					continue // before the history starts nothing is known: left out, not zero
				}
				tr.Days = append(tr.Days, day.Day.Format(time.DateOnly))
				tr.Critical, tr.High = append(tr.Critical, day.Critical), append(tr.High, day.High)
				tr.Medium, tr.Low, tr.Info = append(tr.Medium, day.Medium), append(tr.Low, day.Low), append(tr.Info, day.Info)
			}
			d.Trend = tr
		}
	}
	set, err := store.Changes(ctx, history.Query{Since: now.AddDate(0, 0, -DashboardChangesDays), Subaccount: identity, Limit: schemas.MaxLimit})
	if err != nil {
		errs = append(errs, fmt.Errorf("the changes are missing: %w", err))
	} else {
		d.Changes, d.ChangesDays = []schemas.Change{}, DashboardChangesDays
		for _, c := range set.Changes {
			d.Changes = append(d.Changes, schemas.Change{
				ObservedAt: rfc3339(c.ObservedAt), PreviousReadAt: rfc3339(c.PreviousReadAt), Subaccount: cmp.Or(label[c.Subaccount], c.Subaccount),
				ClientID: c.ClientID, Kind: string(c.Kind), Severity: c.Severity, Field: c.Field, Old: c.Old, New: c.New, Detail: c.Detail,
			})
		}
	}
	return errors.Join(errs...)
}

// rank orders a severity or "none" (below info).
func rank(s string) int {
	if s == "none" || s == "" {
		return -1
	}
	return assess.Severity(s).Rank()
}

// worse returns the worse of a severity (or "none") and s.
func worse(cur string, s assess.Severity) string {
	if rank(cur) < s.Rank() {
		return string(s)
	}
	return cur
}
