package simulator_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/simulator"
)

// addTenants adds n tenants named sub-000, … whose landscape is one agent with that client_id.
func addTenants(t *testing.T, s *simulator.Server, n int) []*simulator.Tenant {
	t.Helper()
	tenants := make([]*simulator.Tenant, n)
	for i := range tenants {
		name := fmt.Sprintf("sub-%03d", i)
		land := simulator.CleanLandscape()[:1]
		land[0].Attributes["client_id"] = name
		tn, err := s.AddTenant(simulator.TenantOptions{Name: name, Landscape: land})
		if err != nil {
			t.Fatal(err)
		}
		tenants[i] = tn
	}
	return tenants
}

// servedClientID reads the landscape with tok and returns the client_id of its only agent, or
// the status if the read is refused.
func servedClientID(t *testing.T, c *http.Client, s *simulator.Server, tok string) string {
	t.Helper()
	resp, body, err := getInfo(t, c, s, tok)
	if err != nil {
		t.Fatal(err)
	}
	var agents []simulator.Agent
	if resp.StatusCode != 200 || json.Unmarshal(body, &agents) != nil || len(agents) != 1 {
		return fmt.Sprintf("status %d", resp.StatusCode)
	}
	return agents[0].Attributes["client_id"]
}

// TestFiveHundredTenants serves 500 subaccounts from one server: each gets its own token with its
// own credentials and reads its own landscape, and each request is counted for its tenant only.
func TestFiveHundredTenants(t *testing.T) {
	t.Parallel()
	s := start(t, simulator.Options{})
	c := client(s)
	tenants := addTenants(t, s, 500)
	seen := map[string]bool{}
	for i, tn := range tenants {
		creds := tn.Credentials(simulator.SecretCredentials)
		key := fmt.Sprint(creds["clientid"], creds["subaccount_id"], creds["subaccount_subdomain"])
		if seen[key] || creds["subaccount_subdomain"] != tn.Name() {
			t.Fatalf("tenant %d: binding not its own: %v", i, key)
		}
		seen[key] = true
		resp, tr, body := postToken(t, c, s, secretForm(tn), "", "")
		if resp.StatusCode != 200 {
			t.Fatalf("tenant %d token: %d %s", i, resp.StatusCode, body)
		}
		if got := servedClientID(t, c, s, tr.AccessToken); got != tn.Name() {
			t.Fatalf("tenant %s read %s", tn.Name(), got)
		}
		if got := tn.Counts(); got != (simulator.Counts{TokenRequests: 1, APIRequests: 1}) {
			t.Fatalf("tenant %d counts %+v", i, got)
		}
	}
	if got := s.Counts(); got != (simulator.Counts{}) {
		t.Errorf("the default tenant counted %+v of the others' requests", got)
	}
}

func TestTenantIsolation(t *testing.T) {
	t.Parallel()
	s := start(t, simulator.Options{TLS: true})
	c := client(s)
	tenants := addTenants(t, s, 2)
	a, b := tenants[0], tenants[1]
	credsA, credsB := a.Credentials(simulator.SecretCredentials), b.Credentials(simulator.SecretCredentials)
	tokA, tokB := tokenFor(t, c, s, a), tokenFor(t, c, s, b)

	crossed := secretForm(a)
	crossed.Set("client_secret", credsB["clientsecret"].(string))
	if resp, _, _ := postToken(t, c, s, crossed, "", ""); resp.StatusCode != 401 || a.Counts().TokenFailures != 1 {
		t.Errorf("A's client ID with B's secret: %d, A's counts %+v", resp.StatusCode, a.Counts())
	}

	certA := x509Pair(t, a.Credentials(simulator.X509Credentials))
	for _, tc := range []struct {
		name     string
		clientID any
		want     int
	}{{"own certificate", credsA["clientid"], 200}, {"another tenant's certificate", credsB["clientid"], 401}} {
		form := url.Values{"grant_type": {"client_credentials"}, "client_id": {tc.clientID.(string)}}
		if resp, _, body := postToken(t, client(s, certA), s, form, "", ""); resp.StatusCode != tc.want {
			t.Errorf("%s: %d %s", tc.name, resp.StatusCode, body)
		}
	}

	a.InjectFault(simulator.Fault{Status: 503, Times: 1})
	if got := servedClientID(t, c, s, tokB); got != b.Name() {
		t.Errorf("B during A's fault: %s", got)
	}
	if got := servedClientID(t, c, s, tokA); got != "status 503" {
		t.Errorf("A's fault reached: %s", got)
	}
	a.RevokeTokens()
	if got := servedClientID(t, c, s, tokA); got != "status 401" {
		t.Errorf("A's revoked token: %s", got)
	}
	if got := servedClientID(t, c, s, tokB); got != b.Name() {
		t.Errorf("B after A's revocation: %s", got)
	}

	for _, o := range []simulator.TenantOptions{{Name: a.Name()}, {ClientID: credsB["clientid"].(string)}} {
		if _, err := s.AddTenant(o); err == nil {
			t.Errorf("AddTenant(%+v) accepted a duplicate", o)
		}
	}
}

func TestVCAPServicesOfSeveralTenants(t *testing.T) {
	t.Parallel()
	s := start(t, simulator.Options{})
	tenants := addTenants(t, s, 3)
	var vcap struct {
		Connectivity []struct {
			Name, Plan  string
			Credentials map[string]any
		}
	}
	if err := json.Unmarshal([]byte(s.VCAPServices(simulator.SecretCredentials, tenants...)), &vcap); err != nil {
		t.Fatal(err)
	}
	if len(vcap.Connectivity) != 4 || vcap.Connectivity[0].Plan != "lite" {
		t.Fatalf("%d entries, first %+v; want lite then 3", len(vcap.Connectivity), vcap.Connectivity[0])
	}
	for i, e := range vcap.Connectivity[1:] {
		if e.Name != tenants[i].Name() || e.Plan != "api_access" || e.Credentials["clientid"] != tenants[i].Credentials(simulator.SecretCredentials)["clientid"] {
			t.Errorf("entry %d: %s %s %v", i, e.Name, e.Plan, e.Credentials["clientid"])
		}
	}
}
