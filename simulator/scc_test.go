package simulator_test

import (
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/simulator"
)

func startSCC(t *testing.T, o simulator.SCCOptions) *simulator.SCC {
	t.Helper()
	s, err := simulator.StartSCC(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func sccGet(t *testing.T, c *http.Client, method, u, user, pw string, header ...string) (int, string, string) {
	t.Helper()
	req, _ := http.NewRequest(method, u, nil)
	if user != "" {
		req.SetBasicAuth(user, pw)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Content-Type"), string(body)
}

func TestSCCAnswers(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	master := startSCC(t, simulator.SampleSCCs(now, "sub-1")[4]) // sgp-dc 2.16, older date format
	shadow := startSCC(t, simulator.SampleSCCs(now, "sub-1")[1])
	c := &http.Client{Timeout: 10 * time.Second}
	u, pw := master.User(), master.Password()
	for _, tc := range []struct {
		name        string
		s           *simulator.SCC
		method      string
		path, user  string
		wantStatus  int
		wantContain string
	}{
		{"role needs no credentials", master, "GET", "/exposed?action=hasMasterRole", "", 200, "true"},
		{"shadow role", shadow, "GET", "/exposed?action=hasMasterRole", "", 200, "false"},
		{"wrong credentials", master, "GET", "/api/monitoring/subaccounts", "someone", 401, "UNAUTHORIZED"},
		{"not GET", master, "POST", "/api/monitoring/subaccounts", u, 405, "method not allowed"},
		{"older date format", master, "GET", "/api/monitoring/subaccounts", u, 200, `"connectedSince":"2026-11-17T03:45:09.871 +0100"`},
		{"2.16 has no cpu", master, "GET", "/api/monitoring/cpu", u, 404, "NOT_FOUND"},
		{"2.16 has no alerts", master, "GET", "/api/monitoring/alerts", u, 404, "NOT_FOUND"},
		{"monitoring on a shadow", shadow, "GET", "/api/monitoring/subaccounts", u, 400, "master instance only"},
		{"shadow state on a master", master, "GET", "/api/v1/configuration/connector/ha/shadow/state", u, 403, "FORBIDDEN_REQUEST"},
		{"shadow state", shadow, "GET", "/api/v1/configuration/connector/ha/shadow/state", u, 200, `"READY"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, _, body := sccGet(t, c, tc.method, tc.s.URL()+tc.path, tc.user, pw)
			if status != tc.wantStatus || !strings.Contains(body, tc.wantContain) {
				t.Errorf("%s %s: %d %s; want %d with %q", tc.method, tc.path, status, body, tc.wantStatus, tc.wantContain)
			}
		})
	}
	if master.Unauthorized() != 1 {
		t.Errorf("401 counter %d, want 1", master.Unauthorized())
	}
	if log := master.Requests(); log[len(log)-1].Method != "GET" || !containsMethod(log, "POST") {
		t.Errorf("request log %+v does not record methods", log)
	}
	master.SetSessionExpired(true)
	if status, ctype, body := sccGet(t, c, "GET", master.URL()+"/api/monitoring/subaccounts", u, pw); status != 200 || !strings.HasPrefix(ctype, "text/html") || !strings.Contains(body, "j_security_check") {
		t.Errorf("expired session: %d %s", status, ctype)
	}
}

func containsMethod(log []simulator.SCCRequest, m string) bool {
	for _, r := range log {
		if r.Method == m {
			return true
		}
	}
	return false
}

func TestConnectivityProxyRefusesALocationSwitchOnOneConnection(t *testing.T) {
	t.Parallel()
	a := startSCC(t, simulator.SCCOptions{})
	b := startSCC(t, simulator.SCCOptions{})
	p, err := simulator.StartConnectivityProxy(func(tok string) bool { return tok == "tok" })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	p.Route("loc-a", "scc:8443", a)
	p.Route("loc-b", "scc:8443", b)
	proxyURL, _ := url.Parse("http://" + p.Host() + ":" + strconv.Itoa(p.Port()))
	shared := &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(proxyURL), MaxIdleConnsPerHost: 1, MaxConnsPerHost: 1}}
	get := func(loc, tok string) int {
		status, _, _ := sccGet(t, shared, "GET", "http://scc:8443/exposed?action=hasMasterRole", "", "",
			"Proxy-Authorization", "Bearer "+tok, "SAP-Connectivity-SCC-Location_ID", loc)
		return status
	}
	if s := get("loc-a", "wrong"); s != http.StatusProxyAuthRequired {
		t.Errorf("wrong token: %d", s)
	}
	if s := get("loc-a", "tok"); s != 200 {
		t.Errorf("loc-a: %d", s)
	}
	if s := get("loc-b", "tok"); s != http.StatusBadRequest {
		t.Errorf("loc-b on loc-a's connection: %d, want 400", s)
	}
	if len(a.Requests()) != 1 || len(b.Requests()) != 0 || a.Requests()[0].Location != "loc-a" {
		t.Errorf("routed: a %+v, b %+v", a.Requests(), b.Requests())
	}
}
