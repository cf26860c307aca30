package simulator_test

import (
	"encoding/json"
	"io"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/simulator"
)

type exposed struct {
	Protocol, Host, Description, Type, Status string
}

// decode parses an agent's JSON-in-string attributes; ok is false if either is malformed.
func decode(a simulator.Agent) (sec map[string]string, systems []exposed, ok bool) {
	errSec := json.Unmarshal([]byte(a.Attributes["security_status"]), &sec)
	errSys := json.Unmarshal([]byte(a.Attributes["exposed_systems"]), &systems)
	return sec, systems, errSec == nil && errSys == nil
}

// TestDefaultLandscapesHaveNoLocation holds the default landscapes to the documented response,
// which has no location attribute; the WithLocations variants carry one.
func TestDefaultLandscapesHaveNoLocation(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name             string
		plain, withLocID []simulator.Agent
	}{
		{"sample", simulator.SampleLandscape(), simulator.SampleLandscapeWithLocations()},
		{"clean", simulator.CleanLandscape(), simulator.CleanLandscapeWithLocations()},
		{"large", simulator.LargeLandscape(50, 3), simulator.LargeLandscapeWithLocations(50, 3)},
	} {
		located := 0
		for i, a := range tc.plain {
			if _, ok := a.Attributes["location_id"]; ok {
				t.Errorf("%s agent %d has a location attribute", tc.name, i)
			}
			if tc.withLocID[i].Attributes["location_id"] != "" {
				located++
			}
		}
		if located == 0 || len(tc.plain) != len(tc.withLocID) {
			t.Errorf("%s: %d of %d agents of the variant carry a location", tc.name, located, len(tc.withLocID))
		}
	}
}

func TestSampleLandscape(t *testing.T) {
	t.Parallel()
	agents := simulator.SampleLandscape()
	if !reflect.DeepEqual(agents, simulator.SampleLandscape()) {
		t.Fatal("SampleLandscape is not deterministic")
	}
	agents[0].Attributes["client_id"] = "changed"
	if simulator.SampleLandscape()[0].Attributes["client_id"] != "123456789" {
		t.Fatal("SampleLandscape shares maps between calls")
	}
	agents = simulator.SampleLandscape()
	if n := len(agents); n < 8 || n > 12 {
		t.Errorf("%d agents, want about 10", n)
	}

	// 1. SAP's reference sample, verbatim.
	ref := `{"attributes":{"connected_by":"admin@example.com","connected_since":"1762174293176","security_status":"{\"summary\":\"low_risk\",\"cpic_trace\":\"ok\",\"trust_store\":\"ok\",\"ciphers\":\"low_risk\",\"ui_certificate\":\"low_risk\",\"payload_trace\":\"ok\",\"authentication_type\":\"low_risk\",\"application_whitelist\":\"ok\"}","agent_version":"2.18.0","agent_type":"master","client_id":"123456789","exposed_systems":"[{\"protocol\":\"HTTP\",\"host\":\"virtualhost:1234\",\"description\":\"\",\"type\":\"nonSAPsys\",\"status\":\"exposed\"}]","jvm_vendor_version":"OpenJDK 64-Bit Server VM (SAP SE, 17.0.14+7-LTS, mixed mode, sharing)","agent_recent_start_ms":"1762167520212","java_version":"17.0.14 (SAP SE)"}}`
	var want simulator.Agent
	if err := json.Unmarshal([]byte(ref), &want); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(agents[0], want) {
		t.Errorf("first agent is not the reference sample:\n%v", agents[0])
	}

	protocols, types, versions := map[string]bool{}, map[string]bool{}, map[string]bool{}
	masters, shadows := map[string]int{}, map[string]int{}
	var malformed, unknownRating, unknownStatus, notConnectedShadow, highRisk, mediumRisk int
	for i, a := range agents {
		attrs := a.Attributes
		loc := attrs["location_id"]
		switch attrs["agent_type"] {
		case "master":
			masters[loc]++
		case "shadow":
			shadows[loc]++
		default:
			t.Errorf("agent %d: agent_type %q", i, attrs["agent_type"])
		}
		versions[attrs["agent_version"]] = true
		sec, systems, ok := decode(a)
		if !ok {
			malformed++
			if attrs["connected_since"] != "yesterday" || attrs["scc_build_id"] == "" {
				t.Errorf("malformed agent %d lacks the bad timestamp or the unknown attribute", i)
			}
			continue
		}
		if attrs["agent_type"] == "shadow" && attrs["connected_since"] == "" {
			if _, has := attrs["agent_recent_start_ms"]; !has {
				notConnectedShadow++
			}
		} else if ms, err := strconv.ParseInt(attrs["connected_since"], 10, 64); err != nil || time.UnixMilli(ms).Year() < 2025 {
			t.Errorf("agent %d: connected_since %q", i, attrs["connected_since"])
		}
		for _, v := range sec {
			switch v {
			case "ok", "low_risk", "medium_risk", "high_risk":
			default:
				unknownRating++
			}
		}
		switch sec["summary"] {
		case "high_risk":
			highRisk++
		case "medium_risk":
			mediumRisk++
		}
		for _, s := range systems {
			protocols[s.Protocol], types[s.Type] = true, true
			if s.Status != "exposed" {
				unknownStatus++
			}
			if s.Host == "" {
				t.Errorf("agent %d: a system without host", i)
			}
		}
	}
	for _, p := range []string{"HTTP", "HTTPS", "RFC", "RFCS", "LDAP", "LDAPS", "TCP", "TCPS"} {
		if !protocols[p] {
			t.Errorf("no system uses %s", p)
		}
	}
	for _, ty := range []string{"abapSys", "netweaverCE", "netweaverGW", "applServerJava", "BC", "PI", "hana", "otherSAPsys", "nonSAPsys"} {
		if !types[ty] {
			t.Errorf("no system of type %s", ty)
		}
	}
	for _, v := range []string{"2.18.2", "2.17.1", "2.16.0", "2.15.0"} {
		if !versions[v] {
			t.Errorf("no agent of version %s", v)
		}
	}
	checks := []struct {
		what      string
		got, want int
	}{
		{"malformed agents", malformed, 1},
		{"unknown security ratings", unknownRating, 1},
		{"systems with an unknown status", unknownStatus, 1},
		{"shadows that look not connected", notConnectedShadow, 1},
		{"high-risk agents", highRisk, 1},
		{"medium-risk agents", mediumRisk, 1},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: %d, want %d", c.what, c.got, c.want)
		}
	}
	masters, shadows = map[string]int{}, map[string]int{}
	for _, a := range simulator.SampleLandscapeWithLocations() {
		if a.Attributes["agent_type"] == "master" {
			masters[a.Attributes["location_id"]]++
		} else {
			shadows[a.Attributes["location_id"]]++
		}
	}
	var pairs, doubles, lone int
	for loc, m := range masters {
		switch {
		case m == 1 && shadows[loc] == 1:
			pairs++
		case m == 2:
			doubles++
		case m == 1 && shadows[loc] == 0:
			lone++
		}
	}
	if pairs < 2 || doubles != 1 || lone < 1 {
		t.Errorf("locations: %d HA pairs, %d double masters, %d masters without shadow", pairs, doubles, lone)
	}
}

func TestCleanLandscape(t *testing.T) {
	t.Parallel()
	agents := simulator.CleanLandscape()
	if len(agents) != 2 || agents[0].Attributes["agent_type"] != "master" || agents[1].Attributes["agent_type"] != "shadow" ||
		agents[0].Attributes["location_id"] != agents[1].Attributes["location_id"] {
		t.Fatalf("not an HA pair: %v", agents)
	}
	for i, a := range agents {
		sec, systems, ok := decode(a)
		if !ok || len(sec) != 8 || len(systems) == 0 {
			t.Fatalf("agent %d does not decode", i)
		}
		for k, v := range sec {
			if v != "ok" {
				t.Errorf("agent %d: %s = %s", i, k, v)
			}
		}
		if a.Attributes["agent_version"] != "2.18.2" || a.Attributes["java_version"] != "21.0.5 (SAP SE)" {
			t.Errorf("agent %d: version %s, Java %s", i, a.Attributes["agent_version"], a.Attributes["java_version"])
		}
		for _, s := range systems {
			if !slices.Contains([]string{"HTTPS", "RFCS", "LDAPS", "TCPS"}, s.Protocol) || s.Status != "exposed" {
				t.Errorf("agent %d exposes %+v", i, s)
			}
		}
	}
}

func TestLargeLandscape(t *testing.T) {
	t.Parallel()
	agents := simulator.LargeLandscape(1000, 100)
	if len(agents) != 1000 {
		t.Fatalf("%d agents", len(agents))
	}
	roles := map[string]int{}
	ids := map[string]bool{}
	for _, i := range []int{0, 1, 499, 998, 999} {
		_, systems, ok := decode(agents[i])
		if !ok || len(systems) != 100 {
			t.Errorf("agent %d: ok %v, %d systems", i, ok, len(systems))
		}
	}
	for _, a := range agents {
		roles[a.Attributes["agent_type"]]++
		ids[a.Attributes["client_id"]] = true
	}
	if roles["master"] <= roles["shadow"] || roles["shadow"] == 0 || len(ids) != 1000 {
		t.Errorf("roles %v, %d distinct ids", roles, len(ids))
	}
	again := simulator.LargeLandscape(1000, 100)
	if !reflect.DeepEqual(agents[0], again[0]) || !reflect.DeepEqual(agents[999], again[999]) {
		t.Error("LargeLandscape is not deterministic")
	}
	if got := simulator.LargeLandscape(0, 10); got == nil || len(got) != 0 {
		t.Errorf("LargeLandscape(0, 10) = %v", got)
	}

	// The server serves a large landscape.
	s := start(t, simulator.Options{Landscape: simulator.LargeLandscape(200, 20)})
	c := client(s)
	resp, body, err := getInfo(t, c, s, token(t, c, s))
	if err != nil || resp.StatusCode != 200 {
		t.Fatal(err)
	}
	var served []simulator.Agent
	if err := json.Unmarshal(body, &served); err != nil || len(served) != 200 {
		t.Errorf("served %d agents: %v", len(served), err)
	}
}

func BenchmarkLargeLandscape(b *testing.B) {
	for b.Loop() {
		simulator.LargeLandscape(1000, 100)
	}
}

func BenchmarkInfoEndpoint(b *testing.B) {
	s, err := simulator.New(simulator.Options{Landscape: simulator.LargeLandscape(100, 20)})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	c := client(s)
	var tr tokenResponse
	resp, err := c.PostForm(s.URL()+simulator.TokenPath, secretForm(s))
	if err != nil {
		b.Fatal(err)
	}
	_ = json.NewDecoder(resp.Body).Decode(&tr)
	resp.Body.Close()
	b.ResetTimer()
	for b.Loop() {
		req, _ := http.NewRequest(http.MethodGet, s.URL()+simulator.DefaultInfoPath, nil)
		req.Header.Set("Authorization", "Bearer "+tr.AccessToken)
		resp, err := c.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}

// TestDemoLandscapes checks the demo's changes, one per read, and that they stay.
func TestDemoLandscapes(t *testing.T) {
	t.Parallel()
	steps := simulator.DemoLandscapes()
	if len(steps) != 5 || !reflect.DeepEqual(steps[0], simulator.SampleLandscape()) {
		t.Fatalf("%d steps, the first not the sample", len(steps))
	}
	find := func(agents []simulator.Agent, id string) map[string]string {
		for _, a := range agents {
			if a.Attributes["client_id"] == id {
				return a.Attributes
			}
		}
		return nil
	}
	if !strings.Contains(find(steps[1], "284610376")["exposed_systems"], "hr-portal.internal:8080") || strings.Contains(find(steps[0], "284610375")["exposed_systems"], "hr-portal") {
		t.Error("step 1 exposes no system")
	}
	if !strings.Contains(find(steps[2], "630174285")["security_status"], `"payload_trace":"high_risk"`) {
		t.Error("step 2 worsens no check")
	}
	if find(steps[3], "517203948")["agent_version"] != "2.18.2" || find(steps[2], "517203948")["agent_version"] != "2.15.0" {
		t.Error("step 3 upgrades nothing")
	}
	if find(steps[4], "745019363") != nil || len(steps[4]) != len(steps[3])-1 || !strings.Contains(find(steps[4], "630174285")["security_status"], "high_risk") {
		t.Error("step 4 removes no connector, or loses an earlier change")
	}

	s := start(t, simulator.Options{})
	s.SetLandscapes(steps...)
	c := client(s)
	tok := token(t, c, s)
	for i := range 7 {
		_, body, err := getInfo(t, c, s, tok)
		var got []simulator.Agent
		if err != nil || json.Unmarshal(body, &got) != nil {
			t.Fatalf("read %d: %v", i, err)
		}
		if want := steps[min(i, 4)]; len(got) != len(want) {
			t.Errorf("read %d: %d agents, want %d", i, len(got), len(want))
		}
	}
}
