package sccadmin_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/sccadmin"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/simulator"
)

var now = time.Date(2026, time.December, 7, 4, 0, 0, 0, time.UTC)

func TestReadMaster(t *testing.T) {
	t.Parallel()
	o := simulator.SampleSCCs(now, "sub-1")[0] // fra-prod master, 2.18.2
	o.Version = "2.19.0.2"
	o.Alerts = []simulator.SCCAlert{{Type: "SubaccountCertificate", Status: "Warning", Message: "expires in 12 days", Entity: "sub-1", Time: now}}
	s := startSCC(t, o)
	h := readOne(t, configOf(t, direct(t, "fra", s, s.Password())), sccadmin.Options{}, "fra")
	if !h.Reachable() {
		t.Fatalf("failure: %v", h.Failure)
	}
	if h.Version != "2.19.0.2" || h.Role != sccadmin.RoleMaster || h.HA == nil || h.HA.MasterState != "CONNECTED" || h.HA.ShadowHost != o.ShadowHost {
		t.Errorf("version %q role %q HA %+v", h.Version, h.Role, h.HA)
	}
	if len(h.Unsupported) != 0 || len(h.Problems) != 0 {
		t.Errorf("unsupported %v, problems %v", h.Unsupported, h.Problems)
	}
	if len(h.Subaccounts) != 1 {
		t.Fatalf("subaccounts: %+v", h.Subaccounts)
	}
	sa := h.Subaccounts[0]
	if sa.ID != "sub-1" || sa.LocationID != "fra-prod" || !sa.Tunnel.Connected() || sa.Tunnel.User != "basis-team@acme-corp.example" ||
		!sa.Tunnel.ConnectedSince.Equal(o.Subaccounts[0].ConnectedSince) || sa.Tunnel.Connections != 3 ||
		!sa.Certificate.NotAfter.Equal(now.Add(12*24*time.Hour)) || sa.Extra["customAttribute"] != "kept" {
		t.Errorf("subaccount %+v", sa)
	}
	if len(h.Certificates) != 4 || h.Certificates[0].Status != "expiring" || h.Certificates[0].Type != "subaccount" {
		t.Errorf("certificates %+v", h.Certificates)
	}
	if len(h.Backends) != 2 || h.Backends[1].VirtualBackend != "gw-prod.internal:44300" || h.Backends[1].Active != 6 {
		t.Errorf("backends %+v", h.Backends)
	}
	if len(h.Performance) != 2 {
		t.Fatalf("performance %+v", h.Performance)
	}
	fast, slow := h.Performance[0], h.Performance[1]
	if fast.Calls != 1279 || fast.P50 < 30*time.Millisecond || fast.P50 > 50*time.Millisecond || slow.P90 < 2*time.Second || slow.P99 < slow.P90 {
		t.Errorf("fast %d calls p50 %v; slow p90 %v p99 %v", fast.Calls, fast.P50, slow.P90, slow.P99)
	}
	if h.CPU == nil || h.CPU.Total != 23.5 || h.Memory == nil || h.Memory.HeapUsedKB != 812000 || h.Disk == nil || h.Disk.FreeMB != 61440 {
		t.Errorf("cpu %+v memory %+v disk %+v", h.CPU, h.Memory, h.Disk)
	}
	if len(h.Alerts) != 1 || h.Alerts[0].Type != "SubaccountCertificate" || !h.Alerts[0].Time.Equal(now) {
		t.Errorf("alerts %+v", h.Alerts)
	}
	got := paths(t, s)
	if got[0] != sccadmin.PathHasMasterRole || got[1] != sccadmin.PathVersion || len(got) != 11 {
		t.Errorf("requests %v: want the role, the version, then 9 endpoints", got)
	}
}

func TestReadShadowAsksOnlyItsState(t *testing.T) {
	t.Parallel()
	s := startSCC(t, simulator.SampleSCCs(now, "sub-1")[3]) // muc-hr shadow, LOST
	h := readOne(t, configOf(t, direct(t, "muc shadow", s, s.Password())), sccadmin.Options{}, "muc shadow")
	if !h.Reachable() || h.Role != sccadmin.RoleShadow || h.HA == nil || h.HA.ShadowState != "LOST" || h.HA.OwnHosts[0] != "scc-muc-2.acme-corp.example" {
		t.Fatalf("health %+v HA %+v", h, h.HA)
	}
	want := []string{sccadmin.PathHasMasterRole, sccadmin.PathVersion, sccadmin.PathShadowState}
	if got := paths(t, s); !slices.Equal(got, want) {
		t.Errorf("requests %v, want %v (no monitoring endpoint on a shadow)", got, want)
	}
}

func TestVersionGaps(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, version   string
		wantUnsupported []string
		wantNotAsked    []string // paths never requested
		wantVersion     string
	}{
		{"2.16 lacks cpu, disk and alerts: not asked", "2.16.0.0", []string{"alerts", "cpu", "disk"},
			[]string{sccadmin.PathCPU, sccadmin.PathDisk, sccadmin.PathAlerts}, "2.16.0.0"},
		{"2.13 has no version endpoint nor hasMasterRole: asked, 400/404 tolerated", "2.13.2.0", []string{"alerts", "cpu", "disk", "version"},
			nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			o := simulator.SampleSCCs(now, "sub-1")[4] // sgp-dc, older date format
			o.Version = tc.version
			s := startSCC(t, o)
			h := readOne(t, configOf(t, direct(t, "sgp", s, s.Password())), sccadmin.Options{}, "sgp")
			if !h.Reachable() || h.Version != tc.wantVersion || h.Role != sccadmin.RoleMaster {
				t.Fatalf("failure %v version %q role %q", h.Failure, h.Version, h.Role)
			}
			if !slices.Equal(h.Unsupported, tc.wantUnsupported) || len(h.Problems) != 0 {
				t.Errorf("unsupported %v (want %v), problems %v", h.Unsupported, tc.wantUnsupported, h.Problems)
			}
			if h.CPU != nil || h.Disk != nil || h.Alerts != nil || h.Memory == nil {
				t.Errorf("cpu %v disk %v alerts %v memory %v", h.CPU, h.Disk, h.Alerts, h.Memory)
			}
			// The older string date "2026-11-17T03:45:09.871 +0100" keeps the milliseconds.
			if got := h.Subaccounts[0].Tunnel.ConnectedSince; !got.Equal(o.Subaccounts[0].ConnectedSince) {
				t.Errorf("connectedSince %v, want %v", got, o.Subaccounts[0].ConnectedSince)
			}
			got := paths(t, s)
			for _, p := range tc.wantNotAsked {
				if contains(got, p) {
					t.Errorf("%s was asked of a %s connector", p, tc.version)
				}
			}
			if tc.wantVersion == "" && !contains(got, sccadmin.PathHARole) {
				t.Errorf("requests %v: without hasMasterRole the role comes from haRole", got)
			}
		})
	}
}

func TestAlertsBareOrWrapped(t *testing.T) {
	t.Parallel()
	for _, bare := range []bool{false, true} {
		t.Run(fmt.Sprint("bare=", bare), func(t *testing.T) {
			t.Parallel()
			s := startSCC(t, simulator.SCCOptions{Version: "2.19.1.0", MasterState: "ALONE", AlertsBare: bare,
				Alerts: []simulator.SCCAlert{{Type: "Disk", Status: "Warning", Message: "low disk"}, {Type: "CPU", Status: "Error", Message: "high load"}}})
			h := readOne(t, configOf(t, direct(t, "x", s, s.Password())), sccadmin.Options{}, "x")
			if len(h.Alerts) != 2 || h.Alerts[1].Type != "CPU" || h.Alerts[1].Status != "Error" {
				t.Errorf("alerts %+v", h.Alerts)
			}
		})
	}
}

func TestCredentialsRefusedAreNeverRetried(t *testing.T) {
	t.Parallel()
	s := startSCC(t, simulator.SCCOptions{Version: "2.19.0.2", MasterState: "ALONE"})
	dir := t.TempDir()
	pwFile := writeFile(t, dir, "password", "wrong-password")
	cfg := configOf(t, fmt.Sprintf("  - name: x\n    url: %s\n    user: %s\n    password_file: %s\n", s.URL(), s.User(), pwFile))
	r := sccadmin.NewReader(cfg, sccadmin.Options{})
	h, err := r.Read(context.Background(), "x", false)
	if err != nil {
		t.Fatal(err)
	}
	if h.Failure == nil || h.Failure.Kind != sccadmin.FailureCredentials || h.Failure.Status != 401 ||
		!strings.Contains(h.Failure.Message, "sccmonitoring") || strings.Contains(h.Failure.Message, "wrong-password") {
		t.Fatalf("failure %+v", h.Failure)
	}
	if dump := fmt.Sprintf("%+v %+v %#v", h, *h.Failure, cfg.Connectors[0]); strings.Contains(dump, "wrong-password") {
		t.Errorf("the password reached printed output: %s", dump)
	}
	log := s.Requests()
	if s.Unauthorized() != 1 || log[len(log)-1].Status != 401 {
		t.Fatalf("log %+v: want exactly one 401, and nothing sent after it", log)
	}
	// Asked again (refresh, the cache bypassed), the same password is not sent again.
	h2, _ := r.Read(context.Background(), "x", true)
	if len(s.Requests()) != len(log) || h2.Failure == nil || !strings.Contains(h2.Failure.Message, "Not asked again") {
		t.Fatalf("second read sent %d requests (failure %v), want none", len(s.Requests())-len(log), h2.Failure)
	}
	// A new password in the file is tried.
	writeFile(t, dir, "password", s.Password()+"\n")
	future := time.Now().Add(2 * time.Second)
	_ = os.Chtimes(pwFile, future, future)
	h3, _ := r.Read(context.Background(), "x", true)
	if !h3.Reachable() || s.Unauthorized() != 1 {
		t.Fatalf("after the password file changed: failure %v, 401s %d", h3.Failure, s.Unauthorized())
	}
	paths(t, s)
}

func TestSessionPageIsNotData(t *testing.T) {
	t.Parallel()
	s := startSCC(t, simulator.SCCOptions{Version: "2.19.0.2", MasterState: "ALONE"})
	s.SetSessionExpired(true)
	h := readOne(t, configOf(t, direct(t, "x", s, s.Password())), sccadmin.Options{}, "x")
	if h.Failure == nil || h.Failure.Kind != sccadmin.FailureCredentials || !strings.Contains(h.Failure.Message, "HTML") {
		t.Fatalf("failure %+v", h.Failure)
	}
	if got := paths(t, s); len(got) != 2 {
		t.Errorf("requests %v: want the role and one credentialed request", got)
	}
}

func TestUnreachable(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	pw := writeFile(t, t.TempDir(), "pw", "x")
	cfg := configOf(t, fmt.Sprintf("  - name: gone\n    url: http://%s\n    user: u\n    password_file: %s\n", addr, pw))
	h := readOne(t, cfg, sccadmin.Options{}, "gone")
	if h.Failure == nil || h.Failure.Kind != sccadmin.FailureUnreachable || !strings.Contains(h.Failure.Message, addr) {
		t.Fatalf("failure %+v", h.Failure)
	}
	if _, err := sccadmin.NewReader(cfg, sccadmin.Options{}).Read(context.Background(), "nope", false); !errors.Is(err, sccadmin.ErrUnknownConnector) {
		t.Errorf("unknown name: %v", err)
	}
}

func TestCacheTTL(t *testing.T) {
	t.Parallel()
	s := startSCC(t, simulator.SCCOptions{Version: "2.19.0.2", MasterState: "ALONE"})
	var clock atomic.Int64
	clock.Store(now.UnixNano())
	r := sccadmin.NewReader(configOf(t, direct(t, "x", s, s.Password())), sccadmin.Options{CacheTTL: 90 * time.Second,
		Now: func() time.Time { return time.Unix(0, clock.Load()) }})
	if r.TTL() != 90*time.Second {
		t.Errorf("TTL %v: never below --cache-ttl", r.TTL())
	}
	first, _ := r.Read(context.Background(), "x", false)
	n := len(s.Requests())
	warm, _ := r.Read(context.Background(), "x", false)
	if warm != first || len(s.Requests()) != n {
		t.Fatalf("a warm read sent %d requests", len(s.Requests())-n)
	}
	clock.Add(int64(91 * time.Second))
	if cold, _ := r.Read(context.Background(), "x", false); cold == first || len(s.Requests()) != 2*n {
		t.Fatalf("after the TTL: %d requests, want %d", len(s.Requests()), 2*n)
	}
	for _, tc := range []struct{ ttl, cache, want time.Duration }{{0, 0, 60 * time.Second}, {10 * time.Second, time.Minute, time.Minute}, {5 * time.Minute, time.Minute, 5 * time.Minute}} {
		if got := sccadmin.EffectiveTTL(tc.ttl, tc.cache); got != tc.want {
			t.Errorf("EffectiveTTL(%v, %v) = %v, want %v", tc.ttl, tc.cache, got, tc.want)
		}
	}
}

func TestHTTPSWithCAFile(t *testing.T) {
	t.Parallel()
	s := startSCC(t, simulator.SCCOptions{Version: "2.19.0.2", MasterState: "ALONE", TLS: true})
	dir := t.TempDir()
	ca := writeFile(t, dir, "ca.pem", string(s.CACertificatePEM()))
	pw := writeFile(t, dir, "pw", s.Password())
	entry := func(caLine string) string {
		return fmt.Sprintf("  - name: tls\n    url: %s\n    user: %s\n    password_file: %s\n%s", s.URL(), s.User(), pw, caLine)
	}
	if h := readOne(t, configOf(t, entry("    ca_file: "+ca+"\n")), sccadmin.Options{}, "tls"); !h.Reachable() {
		t.Errorf("with ca_file: %v", h.Failure)
	}
	if h := readOne(t, configOf(t, entry("")), sccadmin.Options{}, "tls"); h.Failure == nil || h.Failure.Kind != sccadmin.FailureUnreachable {
		t.Errorf("without ca_file the simulator's CA is not trusted: %+v", h.Failure)
	}
}

func TestBoundsOfOneRead(t *testing.T) {
	t.Parallel()
	t.Run("parallelism", func(t *testing.T) {
		t.Parallel()
		s := startSCC(t, simulator.SCCOptions{Version: "2.19.0.2", MasterState: "ALONE", Latency: 20 * time.Millisecond})
		h := readOne(t, configOf(t, direct(t, "x", s, s.Password())), sccadmin.Options{Parallel: 2}, "x")
		if !h.Reachable() || s.MaxInFlight() > 2 || s.MaxInFlight() < 1 {
			t.Errorf("failure %v, at most %d requests at once, want ≤ 2", h.Failure, s.MaxInFlight())
		}
	})
	t.Run("deadline", func(t *testing.T) {
		t.Parallel()
		s := startSCC(t, simulator.SCCOptions{Version: "2.19.0.2", Latency: time.Minute})
		h := readOne(t, configOf(t, direct(t, "x", s, s.Password())), sccadmin.Options{Timeout: 50 * time.Millisecond}, "x")
		if h.Failure == nil || h.Failure.Kind != sccadmin.FailureUnreachable || !strings.Contains(h.Failure.Message, "did not answer within 50ms") {
			t.Errorf("failure %+v", h.Failure)
		}
	})
	t.Run("body cap", func(t *testing.T) {
		t.Parallel()
		s := startSCC(t, simulator.SampleSCCs(now, "sub-1")[0])
		h := readOne(t, configOf(t, direct(t, "x", s, s.Password())), sccadmin.Options{MaxBodyBytes: 200}, "x")
		if !h.Reachable() || h.Subaccounts != nil || len(h.Problems) == 0 || !strings.Contains(fmt.Sprint(h.Problems), "larger than 200 bytes") {
			t.Errorf("failure %v, problems %v", h.Failure, h.Problems)
		}
	})
}

func TestClientCertificateLogon(t *testing.T) {
	t.Parallel()
	s := startSCC(t, simulator.SCCOptions{Version: "2.19.0.2", MasterState: "ALONE", TLS: true, RequireClientCert: true})
	certPEM, keyPEM, err := s.IssueClientCert()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ca, cert, key := writeFile(t, dir, "ca.pem", string(s.CACertificatePEM())), writeFile(t, dir, "c.pem", certPEM), writeFile(t, dir, "k.pem", keyPEM)
	pw := writeFile(t, dir, "pw", s.Password())
	base := fmt.Sprintf("  - name: x\n    url: %s\n    user: %s\n    password_file: %s\n    ca_file: %s\n", s.URL(), s.User(), pw, ca)
	if h := readOne(t, configOf(t, base+fmt.Sprintf("    client_cert_file: %s\n    client_key_file: %s\n", cert, key)), sccadmin.Options{}, "x"); !h.Reachable() {
		t.Errorf("with the client certificate: %v", h.Failure)
	}
	if h := readOne(t, configOf(t, base), sccadmin.Options{}, "x"); h.Failure == nil || h.Failure.Kind != sccadmin.FailureUnreachable {
		t.Errorf("without it: %+v", h.Failure)
	}
	if _, err := sccadmin.ParseConfig("x.yaml", []byte("connectors:\n"+base+fmt.Sprintf("    client_cert_file: %s\n    client_key_file: %s\n", cert, ca)), nil); err == nil ||
		!strings.Contains(err.Error(), "do not form a TLS key pair") || strings.Contains(err.Error(), "PRIVATE KEY") {
		t.Errorf("mismatched key: %v", err)
	}
}
