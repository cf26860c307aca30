package sccadmin_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/sccadmin"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/simulator"
)

// startProxy runs a simulated Connectivity proxy accepting the tokens accept approves.
func startProxy(t *testing.T, accept func(string) bool) *simulator.ConnectivityProxy {
	t.Helper()
	p, err := simulator.StartConnectivityProxy(accept)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

// tunnelEntry is a config entry read through the proxy.
func tunnelEntry(t *testing.T, name, location string, s *simulator.SCC) string {
	t.Helper()
	pw := writeFile(t, t.TempDir(), "pw", s.Password())
	return fmt.Sprintf("  - name: %s\n    virtual_host: scc-admin:8443\n    location_id: %q\n    via: connectivity-proxy\n    user: %s\n    password_file: %s\n",
		name, location, s.User(), pw)
}

func TestThroughTheProxyWithTwoLocations(t *testing.T) {
	t.Parallel()
	sample := simulator.SampleSCCs(now, "sub-1")
	fra, muc := startSCC(t, sample[0]), startSCC(t, sample[2])
	p := startProxy(t, func(tok string) bool { return tok == "proxy-token" })
	p.Route("fra-prod", "scc-admin:8443", fra) // the same virtual host in both connectors
	p.Route("muc-hr", "scc-admin:8443", muc)
	proxy, err := sccadmin.NewProxy(p.Host(), p.Port(), oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "proxy-token"}))
	if err != nil {
		t.Fatal(err)
	}
	cfg := configOf(t, tunnelEntry(t, "fra", "fra-prod", fra), tunnelEntry(t, "muc", "muc-hr", muc))
	r := sccadmin.NewReader(cfg, sccadmin.Options{Proxy: proxy, Parallel: 4})
	for round := range 2 { // the second round reuses the keep-alive connections of each location
		hs := r.ReadAll(context.Background(), true)
		for i, want := range []struct{ sub, loc string }{{"fra-prod", "fra-prod"}, {"muc-hr", "muc-hr"}} {
			h := hs[i]
			if !h.Reachable() || h.Role != sccadmin.RoleMaster || len(h.Subaccounts) != 1 || h.Subaccounts[0].LocationID != want.sub {
				t.Fatalf("round %d, %s: failure %v, subaccounts %+v", round, h.Name, h.Failure, h.Subaccounts)
			}
			if !contains(h.Unsupported, "version") || !contains(h.Unsupported, "ha_master_state") || h.Memory == nil {
				t.Errorf("%s: unsupported %v (the tunnel mapping exposes only /api/monitoring, haRole, /exposed)", h.Name, h.Unsupported)
			}
			if !strings.Contains(h.Endpoint, "via connectivity proxy") {
				t.Errorf("endpoint %q", h.Endpoint)
			}
		}
	}
	for _, tc := range []struct {
		s   *simulator.SCC
		loc string
	}{{fra, "fra-prod"}, {muc, "muc-hr"}} {
		for _, req := range tc.s.Requests() {
			if req.Method != http.MethodGet || !req.ViaProxy || req.Location != tc.loc || req.Status != http.StatusOK && req.Status != http.StatusNotFound {
				t.Errorf("connector of %s got %+v", tc.loc, req)
			}
		}
	}
	for _, req := range p.Requests() {
		if req.Status != http.StatusOK {
			t.Errorf("proxy answered %+v (a connection shared across locations gets 400)", req)
		}
	}
}

func TestProxyRefusals(t *testing.T) {
	t.Parallel()
	s := startSCC(t, simulator.SCCOptions{Version: "2.19.0.2", MasterState: "ALONE"})
	p := startProxy(t, func(tok string) bool { return tok == "right" })
	p.Route("loc", "scc-admin:8443", s)
	cfg := configOf(t, tunnelEntry(t, "x", "loc", s))

	// No proxy configured: a sentence, no request.
	if h := readOne(t, cfg, sccadmin.Options{}, "x"); h.Failure == nil || h.Failure.Kind != sccadmin.FailureConfig || !strings.Contains(h.Failure.Message, "plan lite") {
		t.Errorf("without a proxy: %+v", h.Failure)
	}
	// A token the proxy refuses: 407, unreachable, and the connector never asked.
	wrong, _ := sccadmin.NewProxy(p.Host(), p.Port(), oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "wrong"}))
	if h := readOne(t, cfg, sccadmin.Options{Proxy: wrong}, "x"); h.Failure == nil || h.Failure.Kind != sccadmin.FailureUnreachable || h.Failure.Status != 407 {
		t.Errorf("wrong token: %+v", h.Failure)
	}
	if n := len(s.Requests()); n != 0 {
		t.Errorf("the connector got %d requests", n)
	}
	// A location no connector serves: the proxy's 502.
	other := configOf(t, tunnelEntry(t, "y", "elsewhere", s))
	right, _ := sccadmin.NewProxy(p.Host(), p.Port(), oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "right"}))
	if h := readOne(t, other, sccadmin.Options{Proxy: right}, "y"); h.Failure == nil {
		t.Errorf("unknown location: no failure")
	}
}

func TestProxyBindingTokenFromXSUAA(t *testing.T) {
	t.Parallel()
	sim, err := simulator.New(simulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	s := startSCC(t, simulator.SCCOptions{Version: "2.19.0.2", MasterState: "ALONE"})
	p := startProxy(t, func(tok string) bool { return slices.Contains(sim.IssuedTokens(), tok) })
	p.Route("", "scc-admin:8443", s) // the connector without a location ID
	creds := sim.Credentials(simulator.SecretCredentials)
	lite, _ := json.Marshal(map[string]any{"credentials": map[string]any{
		"clientid": creds["clientid"], "clientsecret": creds["clientsecret"], "token_service_url": sim.URL(),
		"onpremise_proxy_host": p.Host(), "onpremise_proxy_http_port": fmt.Sprint(p.Port()),
	}})
	b, err := sccadmin.ParseProxyBinding(lite)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(fmt.Sprintf("%+v", b), creds["clientsecret"].(string)) {
		t.Error("a printed proxy binding shows the secret")
	}
	proxy, err := b.Proxy(nil)
	if err != nil {
		t.Fatal(err)
	}
	r := sccadmin.NewReader(configOf(t, tunnelEntry(t, "x", "", s)), sccadmin.Options{Proxy: proxy})
	for range 2 {
		if h, _ := r.Read(context.Background(), "x", true); !h.Reachable() {
			t.Fatalf("failure %v", h.Failure)
		}
	}
	if n := sim.Counts().TokenRequests; n != 1 {
		t.Errorf("%d token requests for two reads, want 1 (cached)", n)
	}
	for _, req := range s.Requests() {
		if req.Location != "" {
			t.Errorf("location header %q sent for the default location", req.Location)
		}
	}
	if _, err := sccadmin.ParseProxyBinding([]byte(`{"clientid":"x"}`)); err == nil || !strings.Contains(err.Error(), "onpremise_proxy_host") {
		t.Errorf("incomplete binding: %v", err)
	}
}
