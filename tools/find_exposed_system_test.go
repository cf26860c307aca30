package tools

import (
	"reflect"
	"strings"
	"testing"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/schemas"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/simulator"
)

type findOut = schemas.FindExposedSystemOutput

// systemKeys renders matches as client_id host, in answer order.
func systemKeys(ms []schemas.ExposedSystemMatch) []string {
	keys := []string{}
	for _, m := range ms {
		keys = append(keys, m.ClientID+" "+m.Host)
	}
	return keys
}

// sampleSystems are the 28 exposed systems of the sample landscape, in API order.
var sampleSystems = []string{
	"123456789 virtualhost:1234",
	"284610375 s4h.internal:443", "284610375 s4h.internal:4800", "284610375 gw-prod.internal:44300", "284610375 hana-prd.internal:30015",
	"284610376 s4h.internal:443", "284610376 s4h.internal:4800", "284610376 gw-prod.internal:44300", "284610376 hana-prd.internal:30015",
	"517203948 erp-prod:8000", "517203948 erp-prod:3300", "517203948 ad-dc01.corp.local:389", "517203948 mes-gateway:5020",
	"517203948 pi-legacy:50000", "517203948 bc-legacy:5555",
	"630174285 portal.sgp.internal:50001", "630174285 nwce.sgp.internal:50101", "630174285 ldap.sgp.internal:636", "630174285 bobj.sgp.internal:443",
	"745019362 s4h-us.internal:443", "745019362 s4h-us.internal:4800", "745019362 hana-us.internal:30041",
	"745019363 s4h-us.internal:443", "745019363 s4h-us.internal:4800", "745019363 hana-us.internal:30041",
	"856302417 hcm.muc.internal:44300", "856302417 hcm.muc.internal:4800", "856302417 gw.muc.internal:44301",
}

func TestFindExposedSystem(t *testing.T) {
	t.Parallel()
	env := newSimEnv(t, simEnvOptions{})
	subaccount := env.sim.Credentials(simulator.SecretCredentials)["subaccount_subdomain"].(string)
	page := func(n int) schemas.Page { return schemas.Page{Total: n, Returned: n} }
	s4h := []string{"284610375 s4h.internal:443", "284610376 s4h.internal:443"}
	tests := []struct {
		name     string
		args     any
		want     []string
		wantPage schemas.Page
	}{
		{"no arguments lists every system", nil, sampleSystems, page(28)},
		{"query by virtual host", map[string]any{"query": "s4h.internal:443"}, s4h, page(2)},
		{"query ignores case", map[string]any{"query": "S4H.Internal:443"}, s4h, page(2)},
		{"query by description", map[string]any{"query": "fiori"}, []string{
			"284610375 s4h.internal:443", "284610376 s4h.internal:443", "745019362 s4h-us.internal:443",
			"745019363 s4h-us.internal:443", "856302417 gw.muc.internal:44301",
		}, page(5)},
		{"query by port", map[string]any{"query": ":4800"}, []string{
			"284610375 s4h.internal:4800", "284610376 s4h.internal:4800", "745019362 s4h-us.internal:4800",
			"745019363 s4h-us.internal:4800", "856302417 hcm.muc.internal:4800",
		}, page(5)},
		{"query without match", map[string]any{"query": "no-such-host:1"}, []string{}, page(0)},
		{"protocol", map[string]any{"protocol": "HTTP"}, []string{
			"123456789 virtualhost:1234", "517203948 erp-prod:8000", "517203948 pi-legacy:50000", "517203948 bc-legacy:5555",
		}, page(4)},
		{"protocol in lower case", map[string]any{"protocol": "ldaps"}, []string{"630174285 ldap.sgp.internal:636"}, page(1)},
		{"type", map[string]any{"type": "hana"}, []string{
			"284610375 hana-prd.internal:30015", "284610376 hana-prd.internal:30015",
			"745019362 hana-us.internal:30041", "745019363 hana-us.internal:30041",
		}, page(4)},
		{"type in another case", map[string]any{"type": "NONSAPSYS"}, []string{
			"123456789 virtualhost:1234", "517203948 ad-dc01.corp.local:389", "517203948 mes-gateway:5020", "630174285 ldap.sgp.internal:636",
		}, page(4)},
		{"status", map[string]any{"status": "disabled"}, []string{"745019363 hana-us.internal:30041"}, page(1)},
		{"status ignores case", map[string]any{"status": "DISABLED"}, []string{"745019363 hana-us.internal:30041"}, page(1)},
		{"status nobody has", map[string]any{"status": "retired"}, []string{}, page(0)},
		{"client_id", map[string]any{"client_id": "517203948"}, sampleSystems[9:15], page(6)},
		{"client_id of a connector without systems", map[string]any{"client_id": "856302418"}, []string{}, page(0)},
		{"client_id of the connector with malformed systems", map[string]any{"client_id": "961847203"}, []string{}, page(0)},
		{"protocol and type", map[string]any{"protocol": "RFCS", "type": "abapSys"}, []string{
			"284610375 s4h.internal:4800", "284610376 s4h.internal:4800", "745019362 s4h-us.internal:4800",
			"745019363 s4h-us.internal:4800", "856302417 hcm.muc.internal:4800",
		}, page(5)},
		{"client_id and protocol", map[string]any{"client_id": "517203948", "protocol": "HTTP"}, []string{
			"517203948 erp-prod:8000", "517203948 pi-legacy:50000", "517203948 bc-legacy:5555",
		}, page(3)},
		{"every filter at once", map[string]any{"query": "hana-us", "protocol": "TCPS", "type": "hana", "status": "exposed", "client_id": "745019362"},
			[]string{"745019362 hana-us.internal:30041"}, page(1)},
		{"filters that exclude each other", map[string]any{"protocol": "LDAP", "type": "abapSys"}, []string{}, page(0)},
		{"limit", map[string]any{"limit": 3}, sampleSystems[:3], schemas.Page{Total: 28, Returned: 3, Truncated: true}},
		{"limit with a filter", map[string]any{"query": "fiori", "limit": 2}, s4h, schemas.Page{Total: 5, Returned: 2, Truncated: true}},
		{"huge limit is clamped, not refused", map[string]any{"limit": hugeLimit}, sampleSystems, page(28)},
		{"refresh", map[string]any{"query": "s4h.internal:443", "refresh": true}, s4h, page(2)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out := callOK[findOut](t, env, "find_exposed_system", tt.args)
			checkFetchedAt(t, out.FetchedAt)
			if got := systemKeys(out.Systems); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("systems =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			if out.Page != tt.wantPage {
				t.Errorf("page = %+v, want %+v", out.Page, tt.wantPage)
			}
			for _, m := range out.Systems {
				if m.Subaccount != subaccount || m.AgentType == "" || m.Protocol == "" || m.Type == "" || m.Status == "" {
					t.Errorf("match %+v lacks subaccount %s or an attribute", m, subaccount)
				}
			}
		})
	}
}

// TestFindExposedSystemMaster is the question of the tool's description: which connector
// exposes s4h.internal:443? The high-availability pair of Frankfurt, master and shadow.
func TestFindExposedSystemMaster(t *testing.T) {
	t.Parallel()
	env := newSimEnv(t, simEnvOptions{})
	subaccount := env.sim.Credentials(simulator.SecretCredentials)["subaccount_subdomain"].(string)
	out := callOK[findOut](t, env, "find_exposed_system", map[string]any{"query": "s4h.internal:443"})
	want := []schemas.ExposedSystemMatch{
		{ClientID: "284610375", Subaccount: subaccount, AgentType: "master", Host: "s4h.internal:443", Protocol: "HTTPS",
			Type: "abapSys", Status: "exposed", Description: "S/4HANA 2023 production, Fiori launchpad"},
		{ClientID: "284610376", Subaccount: subaccount, AgentType: "shadow", Host: "s4h.internal:443", Protocol: "HTTPS",
			Type: "abapSys", Status: "exposed", Description: "S/4HANA 2023 production, Fiori launchpad"},
	}
	if !reflect.DeepEqual(out.Systems, want) {
		t.Errorf("systems =\n%+v\nwant\n%+v", out.Systems, want)
	}
}

// TestFindExposedSystemEveryProtocolAndType counts the systems per protocol and per back-end
// type: the sample landscape exposes every one of them.
func TestFindExposedSystemEveryProtocolAndType(t *testing.T) {
	t.Parallel()
	env := newSimEnv(t, simEnvOptions{})
	for arg, counts := range map[string]map[string]int{
		"protocol": {"HTTP": 4, "HTTPS": 11, "RFC": 1, "RFCS": 5, "LDAP": 1, "LDAPS": 1, "TCP": 1, "TCPS": 4},
		"type": {"abapSys": 12, "netweaverCE": 1, "netweaverGW": 3, "applServerJava": 1, "BC": 1, "PI": 1, "hana": 4,
			"otherSAPsys": 1, "nonSAPsys": 4},
	} {
		sum := 0
		for value, want := range counts {
			out := callOK[findOut](t, env, "find_exposed_system", map[string]any{arg: value})
			if out.Total != want || len(out.Systems) != want {
				t.Errorf("%s %s: %d systems (total %d), want %d", arg, value, len(out.Systems), out.Total, want)
			}
			for _, m := range out.Systems {
				if (arg == "protocol" && m.Protocol != value) || (arg == "type" && m.Type != value) {
					t.Errorf("%s %s matched %+v", arg, value, m)
				}
			}
			sum += want
		}
		if sum != len(sampleSystems) {
			t.Errorf("%s counts add up to %d, want %d", arg, sum, len(sampleSystems))
		}
	}
}

func TestFindExposedSystemClampsLimit(t *testing.T) {
	t.Parallel()
	env := newSimEnv(t, simEnvOptions{Landscape: largeLandscape()})
	n := schemas.MaxLimit + 100
	out := callOK[findOut](t, env, "find_exposed_system", map[string]any{"limit": hugeLimit})
	if want := (schemas.Page{Total: n, Returned: schemas.MaxLimit, Truncated: true}); out.Page != want || len(out.Systems) != schemas.MaxLimit {
		t.Errorf("page = %+v with %d systems, want %+v", out.Page, len(out.Systems), want)
	}
}

func TestFindExposedSystemArgumentErrors(t *testing.T) {
	t.Parallel()
	runArgErrors(t, "find_exposed_system", []argErrorCase{
		{"unknown client_id", map[string]any{"client_id": "999"}, unknownClientIDError},
		{"unknown client_id with other filters", map[string]any{"client_id": "999", "protocol": "HTTPS"}, unknownClientIDError},
		{"bad protocol lists the valid ones", map[string]any{"protocol": "FTP"},
			`argument "protocol" must be one of "HTTP", "HTTPS", "RFC", "RFCS", "LDAP", "LDAPS", "TCP", "TCPS", got string "FTP"`},
		{"bad type lists the valid ones", map[string]any{"type": "erp"},
			`argument "type" must be one of "abapSys", "netweaverCE", "netweaverGW", "applServerJava", "BC", "PI", "hana", "otherSAPsys", "nonSAPsys", got string "erp"`},
		{"limit 0", map[string]any{"query": "s4h", "limit": 0}, `argument "limit" must be at least 1, got 0`},
		{"misspelt argument", map[string]any{"protcol": "HTTPS"},
			`unknown argument "protcol" (did you mean "protocol"?); valid arguments: client_id, limit, protocol, query, refresh, status, subaccount, type`},
		{"unknown argument", map[string]any{"hostname": "s4h.internal"},
			`unknown argument "hostname"; valid arguments: client_id, limit, protocol, query, refresh, status, subaccount, type`},
		{"query of the wrong type", map[string]any{"query": []any{"a", "b"}}, `argument "query" must be a string, got array`},
		{"limit of the wrong type", map[string]any{"limit": "all"}, `argument "limit" must be an integer, got string "all"`},
		{"several problems at once", map[string]any{"protocol": "FTP", "limit": 0},
			`argument "limit" must be at least 1, got 0; argument "protocol" must be one of "HTTP", "HTTPS", "RFC", "RFCS", "LDAP", "LDAPS", "TCP", "TCPS", got string "FTP"`},
	})
}
