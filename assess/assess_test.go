package assess_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/assess"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/connectivity"
	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/simulator"
)

var fetched = time.Date(2026, time.November, 30, 12, 0, 0, 0, time.UTC)

// snapshotOf decodes simulator agents as the client would.
func snapshotOf(t testing.TB, agents []simulator.Agent, subaccount string) *connectivity.Snapshot {
	t.Helper()
	body, err := json.Marshal(agents)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := connectivity.DecodeConnectors(body)
	if err != nil {
		t.Fatal(err)
	}
	subs := make([]string, len(cs))
	for i := range subs {
		subs[i] = subaccount
	}
	return connectivity.NewSnapshot(fetched, cs, subs)
}

// run assesses snap and fails the test on an error.
func run(t testing.TB, snap *connectivity.Snapshot, p assess.Policy) *assess.Result {
	t.Helper()
	if p.Now.IsZero() {
		p.Now = fetched
	}
	res, err := assess.Run(assess.Facts{Connectivity: snap}, p)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// keys lists findings as "rule client_id subject severity", in answer order.
func keys(res *assess.Result) []string {
	var out []string
	for _, f := range res.Findings {
		out = append(out, strings.TrimSpace(f.Rule+" "+f.ClientID+" "+f.Subject)+" "+string(f.Severity))
	}
	return out
}

func has(t *testing.T, res *assess.Result, want ...string) {
	t.Helper()
	got := keys(res)
	for _, w := range want {
		if !slices.Contains(got, w) {
			t.Errorf("missing finding %q in\n%s", w, strings.Join(got, "\n"))
		}
	}
}

func hasNot(t *testing.T, res *assess.Result, prefix ...string) {
	t.Helper()
	for _, k := range keys(res) {
		for _, p := range prefix {
			if strings.HasPrefix(k, p) {
				t.Errorf("unexpected finding %q", k)
			}
		}
	}
}

// TestSampleLandscapes runs every rule on the demo landscape with and without location IDs.
func TestSampleLandscapes(t *testing.T) {
	t.Parallel()
	common := []string{
		"security.payload_trace 517203948 payload_trace critical",
		"security.trust_store 517203948 trust_store high",
		"security.authentication_type 630174285 authentication_type high",
		"security.ciphers 630174285 ciphers medium",
		"decode.security_status 961847203 security_status high",
		"decode.connected_since 961847203 connected_since low",
		"version.java 517203948 medium",
		"version.outdated 517203948 medium",
		"version.outdated 630174285 medium",
		"version.outdated 123456789 low", // 2.18.0 while the established 2.18 line is at 2.18.2
		"protocol.unencrypted 517203948 erp-prod:8000 medium",
		"protocol.unencrypted 517203948 mes-gateway:5020 low",
		"protocol.unencrypted 123456789 virtualhost:1234 medium",
		"ha.no_shadow 123456789 medium",
		"ha.no_shadow 517203948 medium",
		"ha.shadow_disconnected 856302418 medium",
	}
	t.Run("documented shape, no location", func(t *testing.T) {
		t.Parallel()
		res := run(t, snapshotOf(t, simulator.SampleLandscape(), "acme"), assess.Policy{})
		has(t, res, common...)
		// Two masters without a location are two locations, each without a shadow.
		has(t, res, "ha.no_shadow 745019362 medium", "ha.no_shadow 745019363 medium")
		hasNot(t, res, "ha.double_master", "ha.no_shadow 284610375", "ha.unmatched_shadow", "protocol.unencrypted 284610376")
		for _, f := range res.Findings {
			if f.LocationID != "" {
				t.Errorf("%s reports location %q", f.Rule, f.LocationID)
			}
		}
	})
	t.Run("with location attribute", func(t *testing.T) {
		t.Parallel()
		res := run(t, snapshotOf(t, simulator.SampleLandscapeWithLocations(), "acme"), assess.Policy{})
		has(t, res, common...)
		has(t, res, "ha.double_master 745019363 us-east high")
		hasNot(t, res, "ha.no_shadow 745019362", "ha.no_shadow 745019363", "ha.unmatched_shadow", "ha.no_shadow 284610375")
	})
	for _, clean := range [][]simulator.Agent{simulator.CleanLandscape(), simulator.CleanLandscapeWithLocations()} {
		if res := run(t, snapshotOf(t, clean, "acme"), assess.Policy{}); len(res.Findings) != 0 {
			t.Errorf("clean landscape: %v", keys(res))
		}
	}
}

// TestLargeLandscapePairs checks that pairing by exposed systems finds the same pairs as location
// IDs do on the large landscape.
func TestLargeLandscapePairs(t *testing.T) {
	t.Parallel()
	count := func(agents []simulator.Agent) map[string]int {
		n := map[string]int{}
		for _, f := range run(t, snapshotOf(t, agents, "big"), assess.Policy{}).Findings {
			if strings.HasPrefix(f.Rule, "ha.") {
				n[f.Rule]++
			}
		}
		return n
	}
	plain, located := count(simulator.LargeLandscape(140, 4)), count(simulator.LargeLandscapeWithLocations(140, 4))
	if plain["ha.no_shadow"] != 10 || plain["ha.unmatched_shadow"] != 0 || plain["ha.double_master"] != 0 {
		t.Errorf("without locations: %v, want 10 masters without shadow (every seventh location)", plain)
	}
	if located["ha.no_shadow"] != plain["ha.no_shadow"] {
		t.Errorf("with locations %v, without %v", located, plain)
	}
}

// connector builds a connector for table tests.
type connector struct {
	id, role, version, by, location string
	systems                         []string // "PROTOCOL host"
	disconnected                    bool
}

func (c connector) build() connectivity.Connector {
	out := connectivity.Connector{
		ClientID: c.id, AgentType: c.role, AgentVersion: c.version, ConnectedBy: c.by, LocationID: c.location,
		JavaVersion: "21.0.5 (SAP SE)", Security: &connectivity.SecurityStatus{Summary: connectivity.RiskOK},
	}
	if out.AgentVersion == "" {
		out.AgentVersion = "2.18.2"
	}
	if !c.disconnected {
		out.ConnectedSince, out.RecentStart = fetched.Add(-time.Hour), fetched.Add(-2*time.Hour)
	}
	for _, s := range c.systems {
		protocol, host, _ := strings.Cut(s, " ")
		out.ExposedSystems = append(out.ExposedSystems, connectivity.ExposedSystem{Protocol: protocol, Host: host, Type: "abapSys", Status: "exposed"})
	}
	return out
}

func snapshot(subaccount string, cs ...connector) *connectivity.Snapshot {
	var out []connectivity.Connector
	var subs []string
	for _, c := range cs {
		out = append(out, c.build())
		subs = append(subs, subaccount)
	}
	return connectivity.NewSnapshot(fetched, out, subs)
}

var (
	sysA = []string{"HTTPS a:443", "RFCS a:4800"}
	sysB = []string{"HTTPS b:443"}
	sysC = []string{"HTTPS c:443", "LDAPS c:636"}
)

func TestHighAvailability(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		connectors []connector
		want       []string // ha.* findings as "rule client_id"
	}{
		{"two masters and one shadow, no location", []connector{
			{id: "m1", role: "master", systems: sysA}, {id: "m2", role: "master", systems: sysB}, {id: "s1", role: "shadow", systems: sysA},
		}, []string{"ha.no_shadow m2"}},
		{"three healthy pairs", []connector{
			{id: "m1", role: "master", systems: sysA}, {id: "m2", role: "master", systems: sysB}, {id: "m3", role: "master", systems: sysC},
			{id: "s3", role: "shadow", systems: sysC}, {id: "s1", role: "shadow", systems: sysA}, {id: "s2", role: "shadow", systems: sysB},
		}, nil},
		{"a lone shadow", []connector{{id: "s1", role: "shadow", systems: sysA}}, []string{"ha.unmatched_shadow s1"}},
		{"a shadow whose systems match no master", []connector{
			{id: "m1", role: "master", systems: sysA}, {id: "s1", role: "shadow", systems: sysB},
		}, []string{"ha.no_shadow m1", "ha.unmatched_shadow s1"}},
		{"one shadow per master", []connector{
			{id: "m1", role: "master", systems: sysA}, {id: "s1", role: "shadow", systems: sysA}, {id: "s2", role: "shadow", systems: sysA},
		}, []string{"ha.unmatched_shadow s2"}},
		{"disconnected shadow without systems, one candidate", []connector{
			{id: "m1", role: "master", by: "hr", version: "2.17.1", systems: sysA}, {id: "m2", role: "master", by: "fi", systems: sysB},
			{id: "s1", role: "shadow", by: "hr", version: "2.17.1", disconnected: true},
		}, []string{"ha.no_shadow m2", "ha.shadow_disconnected s1"}},
		{"shadow without systems, two candidates", []connector{
			{id: "m1", role: "master", by: "hr", systems: sysA}, {id: "m2", role: "master", by: "hr", systems: sysB},
			{id: "s1", role: "shadow", by: "hr", disconnected: true},
		}, []string{"ha.no_shadow m1", "ha.no_shadow m2", "ha.unmatched_shadow s1"}},
		{"two masters in one reported location", []connector{
			{id: "m1", role: "master", location: "x", systems: sysA}, {id: "m2", role: "master", location: "x", systems: sysB},
		}, []string{"ha.double_master m2"}},
		{"pair by location despite different systems", []connector{
			{id: "m1", role: "master", location: "x", systems: sysA}, {id: "s1", role: "shadow", location: "x", systems: sysB},
		}, nil},
		{"different reported locations never pair", []connector{
			{id: "m1", role: "master", location: "x", systems: sysA}, {id: "s1", role: "shadow", location: "y", systems: sysA},
		}, []string{"ha.no_shadow m1", "ha.unmatched_shadow s1"}},
		{"neither master nor shadow is left out", []connector{{id: "x", role: "standalone", systems: sysA}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := run(t, snapshot("sub", tt.connectors...), assess.Policy{})
			var got []string
			for _, f := range res.Findings {
				if strings.HasPrefix(f.Rule, "ha.") {
					got = append(got, f.Rule+" "+f.ClientID)
				}
			}
			slices.Sort(got)
			slices.Sort(tt.want)
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestPairEvidence(t *testing.T) {
	t.Parallel()
	res := run(t, snapshot("sub",
		connector{id: "m1", role: "master", by: "hr", version: "2.17.1", systems: sysA},
		connector{id: "s1", role: "shadow", by: "hr", version: "2.17.1", systems: sysA, disconnected: true}), assess.Policy{})
	for _, f := range res.Findings {
		if f.Rule == assess.RuleHAShadowDisconnected {
			if got := f.Evidence.Value("paired_by"); got != "identical exposed systems (2), same version 2.17.1, same connected_by" {
				t.Errorf("paired_by = %q", got)
			}
			if !slices.Equal(f.Related, []string{"m1"}) {
				t.Errorf("related = %v", f.Related)
			}
			return
		}
	}
	t.Errorf("no ha.shadow_disconnected in %v", keys(res))
}

// TestVersionTitles checks that a title says exactly how far behind a connector is, and that the
// evidence leaves the bar's basis to the policy (said once per answer).
func TestVersionTitles(t *testing.T) {
	t.Parallel()
	tests := []struct{ version, configured, want string }{
		{"2.15.0", "2.18.2", "Cloud Connector 2.15.0 is three releases behind 2.18.2"},
		{"2.17.1", "2.18.2", "Cloud Connector 2.17.1 is a release behind 2.18.2"},
		{"2.18.1", "2.18.2", "Cloud Connector 2.18.1 is a patch behind 2.18.2"},
		{"2.18.0", "2.18.2", "Cloud Connector 2.18.0 is two patches behind 2.18.2"},
		{"2.4.0", "2.18.2", "Cloud Connector 2.4.0 is 14 releases behind 2.18.2"},
		{"1.9.3", "2.18.2", "Cloud Connector 1.9.3 is a major version behind 2.18.2"},
	}
	for _, tt := range tests {
		t.Run(tt.version, func(t *testing.T) {
			t.Parallel()
			snap := snapshot("sub", connector{id: "c", role: "standalone", version: tt.version})
			res := run(t, snap, assess.Policy{MinSCCVersion: tt.configured})
			for _, f := range res.Findings {
				if f.Rule != assess.RuleVersionOutdated {
					continue
				}
				if f.Title != tt.want {
					t.Errorf("title %q, want %q", f.Title, tt.want)
				}
				if _, ok := f.Evidence.Get("basis"); ok || f.Evidence.Value("agent_version") != tt.version || f.Evidence.Value("min_scc_version") != tt.configured {
					t.Errorf("evidence %v, want agent_version and min_scc_version only", f.Evidence)
				}
				return
			}
			t.Errorf("no version.outdated finding in %v", keys(res))
		})
	}
}

func TestVersionPolicy(t *testing.T) {
	t.Parallel()
	versions := func(sub string, vs ...string) []connector {
		var out []connector
		for i, v := range vs {
			out = append(out, connector{id: sub + "-" + string(rune('a'+i)), role: "standalone", version: v})
		}
		return out
	}
	tests := []struct {
		name       string
		connectors []connector
		configured string
		want       []string // "client_id severity"
	}{
		{"one early adopter moves nothing", versions("s", "2.19.0", "2.18.2", "2.18.2", "2.18.2"), "", nil},
		{"patch levels count", versions("s", "2.18.2", "2.18.2", "2.18.0"), "", []string{"s-c low"}},
		{"a release behind", versions("s", "2.18.2", "2.18.2", "2.17.1", "2.16.0"), "", []string{"s-c medium", "s-d medium"}},
		{"configured minimum", versions("s", "2.18.2", "2.17.1"), "2.18.0", []string{"s-b medium"}},
		{"configured minimum, patch", versions("s", "2.18.2", "2.18.0"), "2.18.1", []string{"s-b low"}},
		{"a lone connector is its own bar", versions("s", "2.15.0"), "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := run(t, snapshot("sub", tt.connectors...), assess.Policy{MinSCCVersion: tt.configured})
			var got []string
			for _, f := range res.Findings {
				if f.Rule == assess.RuleVersionOutdated {
					got = append(got, f.ClientID+" "+string(f.Severity))
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v (bars %+v)", got, tt.want, res.Versions)
			}
		})
	}
	t.Run("another subaccount's outlier sets no bar", func(t *testing.T) {
		t.Parallel()
		a, b := snapshot("dev", versions("dev", "2.19.0", "2.19.0")...), snapshot("prod", versions("prod", "2.18.2", "2.18.2", "2.18.2")...)
		merged := connectivity.NewSnapshot(fetched, append(a.Connectors, b.Connectors...), append(a.Subaccounts, b.Subaccounts...))
		res := run(t, merged, assess.Policy{})
		hasNot(t, res, "version.outdated")
		if len(res.Versions) != 2 || res.Versions[0].Min != "2.19.0" || res.Versions[1].Min != "2.18.2" {
			t.Errorf("bars %+v", res.Versions)
		}
	})
	if _, err := assess.Run(assess.Facts{Connectivity: snapshot("s")}, assess.Policy{MinSCCVersion: "latest"}); err == nil {
		t.Error("a bad --min-scc-version is accepted")
	}
}

func TestJavaMajor(t *testing.T) {
	t.Parallel()
	tests := []struct {
		java, jvm string
		want      int
	}{
		{"17.0.14 (SAP SE)", "", 17},
		{"17.0.14", "OpenJDK 64-Bit Server VM", 17}, // no vendor part
		{"21", "", 21},
		{"1.8.0_292", "", 8},
		{"", "OpenJDK 64-Bit Server VM (SAP SE, 17.0.14+7-LTS, mixed mode, sharing)", 17},
		{"", "OpenJDK 64-Bit Server VM (17.0.14+7-LTS, mixed mode)", 17},
		{"", "Java HotSpot(TM) 64-Bit Server VM (21.0.5, mixed mode)", 21},
		{"", "OpenJDK 64-Bit Server VM (SAP SE, 25.292-b10, mixed mode)", 0},
		{"", "OpenJDK 64-Bit Server VM (1.8.0_292-b10)", 8},
		{"", "", 0},
	}
	for _, tt := range tests {
		got, ok := assess.JavaMajor(tt.java, tt.jvm)
		if got != tt.want || ok != (tt.want > 0) {
			t.Errorf("JavaMajor(%q, %q) = %d, %v; want %d", tt.java, tt.jvm, got, ok, tt.want)
		}
	}
	c := connector{id: "j", role: "standalone"}.build()
	c.JavaVersion = "11.0.22"
	snap := connectivity.NewSnapshot(fetched, []connectivity.Connector{c}, []string{"s"})
	has(t, run(t, snap, assess.Policy{}), "version.java j medium")
	hasNot(t, run(t, snap, assess.Policy{MinJavaMajor: 11}), "version.java", "decode.java_version")
}

func TestUnencryptedProtocols(t *testing.T) {
	t.Parallel()
	m := connector{id: "m", role: "master", systems: []string{"HTTP h:80", "TCP t:1", "RFC r:3300", "HTTPS s:443"}}.build()
	s := connector{id: "s", role: "shadow", systems: []string{"HTTP h:80", "TCP t:1", "RFC r:3300", "HTTPS s:443"}}.build()
	m.ExposedSystems[2].Status = "disabled"
	s.ExposedSystems[2].Status = "disabled"
	res := run(t, connectivity.NewSnapshot(fetched, []connectivity.Connector{m, s}, []string{"x", "x"}), assess.Policy{})
	var got []string
	for _, f := range res.Findings {
		if f.Rule == assess.RuleProtocolUnencrypted {
			got = append(got, f.ClientID+" "+f.Subject+" "+string(f.Severity)+" related "+strings.Join(f.Related, ","))
		}
	}
	want := []string{"m h:80 medium related s", "m t:1 low related s"}
	if !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestFingerprintStable(t *testing.T) {
	t.Parallel()
	// The fingerprint is part of the contract: accepted risks and SARIF dashboards refer to it.
	if got := assess.Fingerprint("ha.no_shadow", "acme", "123456789", ""); got != "364352fe56447e47" {
		t.Errorf("fingerprint changed: %s", got)
	}
	a := run(t, snapshotOf(t, simulator.SampleLandscape(), "acme"), assess.Policy{})
	b := run(t, snapshotOf(t, simulator.SampleLandscape(), "acme"), assess.Policy{})
	seen := map[string]bool{}
	for i, f := range a.Findings {
		if f.Fingerprint != b.Findings[i].Fingerprint {
			t.Errorf("fingerprint of %s differs between runs", f.Rule)
		}
		if seen[f.Fingerprint] {
			t.Errorf("two findings share fingerprint %s (%s %s %s)", f.Fingerprint, f.Rule, f.ClientID, f.Subject)
		}
		seen[f.Fingerprint] = true
	}
}
