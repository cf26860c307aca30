package tools

import (
	"reflect"
	"regexp"
	"testing"
	"time"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/schemas"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/simulator"
)

type listOut = schemas.ListCloudConnectorsOutput

// clientIDsOf lists the client IDs of list_cloud_connectors' connectors, in answer order.
func clientIDsOf(cs []schemas.ConnectorSummary) []string {
	ids := []string{}
	for _, c := range cs {
		ids = append(ids, c.ClientID)
	}
	return ids
}

func TestListCloudConnectors(t *testing.T) {
	t.Parallel()
	env := newSimEnv(t, simEnvOptions{})
	subaccount := env.sim.Credentials(simulator.SecretCredentials)["subaccount_subdomain"].(string)
	allTotals := schemas.ConnectorTotals{
		Connectors: 10, Masters: 8, Shadows: 2, WithProblems: 1,
		ByRisk: schemas.RiskCounts{OK: 2, Low: 5, Medium: 1, High: 1, Unknown: 1},
	}
	tests := []struct {
		name      string
		args      any
		wantIDs   []string
		wantTotal schemas.ConnectorTotals
		wantPage  schemas.Page
	}{
		{"no arguments", nil, sampleClientIDs, allTotals, schemas.Page{Total: 10, Returned: 10}},
		{"empty object", map[string]any{}, sampleClientIDs, allTotals, schemas.Page{Total: 10, Returned: 10}},
		{"client_id of a shadow", map[string]any{"client_id": "284610376"}, []string{"284610376"},
			schemas.ConnectorTotals{Connectors: 1, Shadows: 1, ByRisk: schemas.RiskCounts{OK: 1}}, schemas.Page{Total: 1, Returned: 1}},
		{"client_id of the high-risk master", map[string]any{"client_id": "517203948"}, []string{"517203948"},
			schemas.ConnectorTotals{Connectors: 1, Masters: 1, ByRisk: schemas.RiskCounts{High: 1}}, schemas.Page{Total: 1, Returned: 1}},
		{"client_id of the malformed connector", map[string]any{"client_id": "961847203"}, []string{"961847203"},
			schemas.ConnectorTotals{Connectors: 1, Masters: 1, WithProblems: 1, ByRisk: schemas.RiskCounts{Unknown: 1}}, schemas.Page{Total: 1, Returned: 1}},
		{"limit truncates, totals count all", map[string]any{"limit": 3}, sampleClientIDs[:3], allTotals,
			schemas.Page{Total: 10, Returned: 3, Truncated: true}},
		{"limit as a string", map[string]any{"limit": "4"}, sampleClientIDs[:4], allTotals,
			schemas.Page{Total: 10, Returned: 4, Truncated: true}},
		{"limit equal to the count", map[string]any{"limit": 10}, sampleClientIDs, allTotals, schemas.Page{Total: 10, Returned: 10}},
		{"huge limit is clamped, not refused", map[string]any{"limit": hugeLimit}, sampleClientIDs, allTotals, schemas.Page{Total: 10, Returned: 10}},
		{"client_id and limit", map[string]any{"client_id": "123456789", "limit": 1}, []string{"123456789"},
			schemas.ConnectorTotals{Connectors: 1, Masters: 1, ByRisk: schemas.RiskCounts{Low: 1}}, schemas.Page{Total: 1, Returned: 1}},
		{"refresh", map[string]any{"refresh": true}, sampleClientIDs, allTotals, schemas.Page{Total: 10, Returned: 10}},
		{"null arguments count as absent", map[string]any{"client_id": nil, "limit": nil, "refresh": nil}, sampleClientIDs, allTotals,
			schemas.Page{Total: 10, Returned: 10}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out := callOK[listOut](t, env, "list_cloud_connectors", tt.args)
			checkFetchedAt(t, out.FetchedAt)
			if got := clientIDsOf(out.Connectors); !reflect.DeepEqual(got, tt.wantIDs) {
				t.Errorf("connectors = %v\nwant         %v", got, tt.wantIDs)
			}
			if out.Totals != tt.wantTotal {
				t.Errorf("totals = %+v\nwant     %+v", out.Totals, tt.wantTotal)
			}
			if out.Page != tt.wantPage {
				t.Errorf("page = %+v, want %+v", out.Page, tt.wantPage)
			}
			for _, c := range out.Connectors {
				if c.Subaccount != subaccount {
					t.Errorf("connector %s: subaccount = %q, want %q", c.ClientID, c.Subaccount, subaccount)
				}
			}
		})
	}
}

// TestListCloudConnectorsValues checks the attributes of the connectors that exercise the
// decoding: SAP's reference sample, a shadow that is not connected, and the malformed one.
func TestListCloudConnectorsValues(t *testing.T) {
	t.Parallel()
	env := newSimEnv(t, simEnvOptions{})
	out := callOK[listOut](t, env, "list_cloud_connectors", nil)
	fetchedAt := checkFetchedAt(t, out.FetchedAt)
	byID := map[string]schemas.ConnectorSummary{}
	for _, c := range out.Connectors {
		byID[c.ClientID] = c
	}
	subaccount := env.sim.Credentials(simulator.SecretCredentials)["subaccount_subdomain"].(string)

	// The values of SAP's documented sample response (connected_since 1762174293176,
	// agent_recent_start_ms 1762167520212).
	ref := byID["123456789"]
	wantRef := schemas.ConnectorSummary{
		ClientID: "123456789", Subaccount: subaccount, AgentType: "master", AgentVersion: "2.18.0",
		JavaVersion: "17.0.14 (SAP SE)",
		ConnectedBy: "admin@example.com", ConnectedSince: "2025-11-03T12:51:33Z", LastStart: "2025-11-03T10:58:40Z",
		Summary: "low_risk", ExposedSystems: 1, Connected: true,
		Uptime: ref.Uptime, // checked below
	}
	if !reflect.DeepEqual(ref, wantRef) {
		t.Errorf("reference connector =\n%+v\nwant\n%+v", ref, wantRef)
	}

	uptime := regexp.MustCompile(`^(\d+d \d+h \d+m|\d+h \d+m|\d+m)$`)
	for _, c := range out.Connectors {
		if c.LastStart == "" {
			if c.Uptime != "" {
				t.Errorf("connector %s: uptime %q without a last start", c.ClientID, c.Uptime)
			}
			continue
		}
		start, err := time.Parse(time.RFC3339, c.LastStart)
		if err != nil {
			t.Fatalf("connector %s: last_start %q: %v", c.ClientID, c.LastStart, err)
		}
		// fetched_at and last_start are rounded down to the second.
		d := fetchedAt.Sub(start)
		if want := humanDuration(d); c.Uptime != want && c.Uptime != humanDuration(d+time.Second) && c.Uptime != humanDuration(d-time.Second) {
			t.Errorf("connector %s: uptime = %q, want %q", c.ClientID, c.Uptime, want)
		}
		if !uptime.MatchString(c.Uptime) {
			t.Errorf("connector %s: uptime = %q, want e.g. 3d 4h 12m", c.ClientID, c.Uptime)
		}
	}

	wantVersions := map[string]string{
		"123456789": "2.18.0", "284610375": "2.18.2", "284610376": "2.18.2", "517203948": "2.15.0", "630174285": "2.16.0",
		"745019362": "2.18.2", "745019363": "2.18.2", "856302417": "2.17.1", "856302418": "2.17.1", "961847203": "2.17.1",
	}
	wantSystems := map[string]int{
		"123456789": 1, "284610375": 4, "284610376": 4, "517203948": 6, "630174285": 4,
		"745019362": 3, "745019363": 3, "856302417": 3, "856302418": 0, "961847203": 0,
	}
	wantSummary := map[string]string{
		"123456789": "low_risk", "284610375": "ok", "284610376": "ok", "517203948": "high_risk", "630174285": "medium_risk",
		"745019362": "low_risk", "745019363": "low_risk", "856302417": "low_risk", "856302418": "low_risk", "961847203": "unknown",
	}
	for id, c := range byID {
		if c.AgentVersion != wantVersions[id] || c.ExposedSystems != wantSystems[id] || c.Summary != wantSummary[id] {
			t.Errorf("connector %s: version %s, %d systems, summary %s; want %s, %d, %s",
				id, c.AgentVersion, c.ExposedSystems, c.Summary, wantVersions[id], wantSystems[id], wantSummary[id])
		}
		wantType := "master"
		if id == "284610376" || id == "856302418" {
			wantType = "shadow"
		}
		if c.AgentType != wantType {
			t.Errorf("connector %s: agent_type = %s, want %s", id, c.AgentType, wantType)
		}
	}
	if c := byID["517203948"]; c.JavaVersion != "11.0.22 (SAP SE)" || c.LocationID != "" {
		t.Errorf("high-risk connector: java %q, location %q", c.JavaVersion, c.LocationID)
	}

	// The shadow that is not connected: empty connected_since, no agent_recent_start_ms.
	if c := byID["856302418"]; c.Connected || c.ConnectedSince != "" || c.LastStart != "" || c.LocationID != "" || c.Problems != nil {
		t.Errorf("unconnected shadow = %+v, want no times, no location (the documented shape has none) and no problems", c)
	}

	// The malformed connector is listed, with what could be read and a problem per bad attribute.
	bad := byID["961847203"]
	if bad.ConnectedSince != "" || bad.LastStart != "2026-11-23T15:02:11Z" || bad.ConnectedBy != "lab-admin" || bad.LocationID != "" {
		t.Errorf("malformed connector = %+v", bad)
	}
	if want := map[string]string{"scc_build_id": "2.17.1-20260915.2"}; !reflect.DeepEqual(bad.OtherAttributes, want) {
		t.Errorf("malformed connector: other_attributes = %v, want %v", bad.OtherAttributes, want)
	}
	var attrs []string
	for _, p := range bad.Problems {
		attrs = append(attrs, p.Attribute)
		if p.Message == "" {
			t.Errorf("problem with %s has no message", p.Attribute)
		}
	}
	if want := []string{"connected_since", "security_status", "exposed_systems"}; !reflect.DeepEqual(attrs, want) {
		t.Errorf("malformed connector: problems with %v, want %v", attrs, want)
	}
	for id, c := range byID {
		if id != "961847203" && (c.Problems != nil || c.OtherAttributes != nil) {
			t.Errorf("connector %s: problems %v, other attributes %v; want none", id, c.Problems, c.OtherAttributes)
		}
	}
}

func TestListCloudConnectorsClampsLimit(t *testing.T) {
	t.Parallel()
	env := newSimEnv(t, simEnvOptions{Landscape: largeLandscape()})
	n := schemas.MaxLimit + 100
	for _, args := range []map[string]any{{"limit": hugeLimit}, {"limit": schemas.MaxLimit + 1}} {
		out := callOK[listOut](t, env, "list_cloud_connectors", args)
		if want := (schemas.Page{Total: n, Returned: schemas.MaxLimit, Truncated: true}); out.Page != want || len(out.Connectors) != schemas.MaxLimit {
			t.Errorf("%v: page = %+v with %d connectors, want %+v", args, out.Page, len(out.Connectors), want)
		}
		if out.Totals.Connectors != n || out.Totals.Masters+out.Totals.Shadows != n {
			t.Errorf("%v: totals = %+v, want %d connectors", args, out.Totals, n)
		}
	}
	out := callOK[listOut](t, env, "list_cloud_connectors", nil)
	if out.Page.Returned != schemas.DefaultLimit || !out.Page.Truncated {
		t.Errorf("default limit: page = %+v, want %d returned", out.Page, schemas.DefaultLimit)
	}
}

func TestListCloudConnectorsArgumentErrors(t *testing.T) {
	t.Parallel()
	runArgErrors(t, "list_cloud_connectors", []argErrorCase{
		{"unknown client_id", map[string]any{"client_id": "999"}, unknownClientIDError},
		{"limit 0", map[string]any{"limit": 0}, `argument "limit" must be at least 1, got 0`},
		{"negative limit", map[string]any{"limit": -3}, `argument "limit" must be at least 1, got -3`},
		{"unknown argument", map[string]any{"clientid": "123456789"},
			`unknown argument "clientid" (did you mean "client_id"?); valid arguments: client_id, limit, refresh, subaccount`},
		{"argument of another tool", map[string]any{"query": "s4h"},
			`unknown argument "query"; valid arguments: client_id, limit, refresh, subaccount`},
		{"limit of the wrong type", map[string]any{"limit": "ten"}, `argument "limit" must be an integer, got string "ten"`},
		{"fractional limit", map[string]any{"limit": 2.5}, `argument "limit" must be an integer, got number 2.5`},
		{"refresh of the wrong type", map[string]any{"refresh": "yes"}, `argument "refresh" must be a boolean (true or false), got string "yes"`},
		{"client_id of the wrong type", map[string]any{"client_id": []any{"a"}}, `argument "client_id" must be a string, got array`},
		{"arguments not an object", []any{"123456789"}, `the arguments must be a JSON object, got array`},
	})
}
