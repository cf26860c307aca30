package connectivity

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// referenceSample is the response example of SAP's "Calling the Connectivity Service REST API".
const referenceSample = `[
  {
    "attributes": {
      "connected_by": "admin@example.com",
      "connected_since": "1762174293176",
      "security_status": "{\"summary\":\"low_risk\",\"cpic_trace\":\"ok\",\"trust_store\":\"ok\",\"ciphers\":\"low_risk\",\"ui_certificate\":\"low_risk\",\"payload_trace\":\"ok\",\"authentication_type\":\"low_risk\",\"application_whitelist\":\"ok\"}",
      "agent_version": "2.18.0",
      "agent_type": "master",
      "client_id": "123456789",
      "exposed_systems": "[{\"protocol\":\"HTTP\",\"host\":\"virtualhost:1234\",\"description\":\"\",\"type\":\"nonSAPsys\",\"status\":\"exposed\"}]",
      "jvm_vendor_version": "OpenJDK 64-Bit Server VM (SAP SE, 17.0.14+7-LTS, mixed mode, sharing)",
      "agent_recent_start_ms": "1762167520212",
      "java_version": "17.0.14 (SAP SE)"
    }
  }
]`

func TestDecodeReferenceSample(t *testing.T) {
	got, err := DecodeConnectors([]byte(referenceSample))
	if err != nil {
		t.Fatalf("DecodeConnectors: %v", err)
	}
	if len(got) != 1 {
		t.Fatalf("got %d connectors, want 1", len(got))
	}
	c := got[0]
	if len(c.Problems) != 0 {
		t.Errorf("unexpected problems: %+v", c.Problems)
	}
	checks := []struct{ name, got, want string }{
		{"client_id", c.ClientID, "123456789"},
		{"agent_type", c.AgentType, "master"},
		{"agent_version", c.AgentVersion, "2.18.0"},
		{"java_version", c.JavaVersion, "17.0.14 (SAP SE)"},
		{"jvm_vendor_version", c.JVMVendorVersion, "OpenJDK 64-Bit Server VM (SAP SE, 17.0.14+7-LTS, mixed mode, sharing)"},
		{"connected_by", c.ConnectedBy, "admin@example.com"},
		{"connected_since", c.ConnectedSince.Format(time.RFC3339Nano), "2025-11-03T12:51:33.176Z"},
		{"agent_recent_start_ms", c.RecentStart.Format(time.RFC3339Nano), "2025-11-03T10:58:40.212Z"},
	}
	for _, tc := range checks {
		if tc.got != tc.want {
			t.Errorf("%s = %q, want %q", tc.name, tc.got, tc.want)
		}
	}
	if !c.IsMaster() || c.IsShadow() {
		t.Errorf("role: master=%v shadow=%v", c.IsMaster(), c.IsShadow())
	}
	if c.Security == nil {
		t.Fatal("security status not decoded")
	}
	if c.Security.Summary != RiskLow {
		t.Errorf("summary = %q", c.Security.Summary)
	}
	wantChecks := []Check{
		{"ui_certificate", RiskLow}, {"ciphers", RiskLow}, {"trust_store", RiskOK},
		{"authentication_type", RiskLow}, {"cpic_trace", RiskOK}, {"payload_trace", RiskOK},
		{"application_whitelist", RiskOK},
	}
	if len(c.Security.Checks) != len(wantChecks) {
		t.Fatalf("checks = %+v", c.Security.Checks)
	}
	for i, want := range wantChecks {
		if c.Security.Checks[i] != want {
			t.Errorf("check %d = %+v, want %+v", i, c.Security.Checks[i], want)
		}
	}
	want := ExposedSystem{Protocol: "HTTP", Host: "virtualhost:1234", Type: "nonSAPsys", Status: "exposed"}
	if len(c.ExposedSystems) != 1 || c.ExposedSystems[0].Protocol != want.Protocol || c.ExposedSystems[0].Host != want.Host ||
		c.ExposedSystems[0].Type != want.Type || c.ExposedSystems[0].Status != want.Status || c.ExposedSystems[0].Extra != nil {
		t.Errorf("exposed systems = %+v, want [%+v]", c.ExposedSystems, want)
	}
	if c.Extra != nil {
		t.Errorf("extra = %v, want none", c.Extra)
	}
}

func TestDecodeKeepsMalformedConnectors(t *testing.T) {
	body := `[
	 {"attributes": {"client_id": "broken", "agent_type": "master", "connected_since": "yesterday",
	   "agent_recent_start_ms": "-5", "security_status": "{\"summary\":", "exposed_systems": "[{\"host\":",
	   "location_id": "loc-1", "future_attribute": "x"}},
	 {"attributes": {"client_id": "partial", "security_status": "{\"summary\":\"ok\",\"new_check\":\"critical\",\"ciphers\":7}",
	   "exposed_systems": "[{\"host\":\"a:1\",\"protocol\":\"HTTPS\",\"port_range\":\"1-2\"}, 42]",
	   "connected_since": ""}},
	 {"attributes": {"agent_version": 2.18, "client_id": "numbers", "connected_since": "1762174293176", "security_status": "{\"summary\":\"ok\"}"}},
	 {"no_attributes": true},
	 "not even an object"
	]`
	got, err := DecodeConnectors([]byte(body))
	if err != nil {
		t.Fatalf("DecodeConnectors: %v", err)
	}
	if len(got) != 5 {
		t.Fatalf("got %d connectors, want all 5 kept", len(got))
	}
	problems := func(c Connector) map[string]string {
		m := map[string]string{}
		for _, p := range c.Problems {
			m[p.Attribute] = p.Message
		}
		return m
	}

	broken := got[0]
	p := problems(broken)
	for _, attr := range []string{"connected_since", "agent_recent_start_ms", "security_status", "exposed_systems"} {
		if p[attr] == "" {
			t.Errorf("broken: no problem recorded for %s (problems %v)", attr, p)
		}
	}
	if !strings.Contains(p["connected_since"], `"yesterday"`) {
		t.Errorf("connected_since problem should quote the value: %q", p["connected_since"])
	}
	if broken.Security != nil || !broken.ConnectedSince.IsZero() {
		t.Errorf("broken: malformed values must decode to zero values, got %+v", broken)
	}
	if broken.Extra["future_attribute"] != "x" || broken.LocationID != "loc-1" {
		t.Errorf("unknown attributes not kept: extra=%v location=%q", broken.Extra, broken.LocationID)
	}

	partial := got[1]
	p = problems(partial)
	if partial.Security == nil || len(partial.Security.Checks) != 2 {
		t.Fatalf("partial: security = %+v", partial.Security)
	}
	if partial.Security.Checks[0].Key != "ciphers" || partial.Security.Checks[1] != (Check{"new_check", "critical"}) {
		t.Errorf("partial: checks = %+v (known first, unknown kept)", partial.Security.Checks)
	}
	if !strings.Contains(p["security_status"], "ciphers") {
		t.Errorf("partial: non-string check not reported: %v", p)
	}
	if len(partial.ExposedSystems) != 1 || partial.ExposedSystems[0].Extra["port_range"] != "1-2" {
		t.Errorf("partial: exposed systems = %+v", partial.ExposedSystems)
	}
	if !strings.Contains(p["exposed_systems"], "1 of 2") {
		t.Errorf("partial: skipped element not reported: %v", p)
	}
	if _, ok := p["connected_since"]; ok {
		t.Errorf("partial: an empty connected_since is absent, not malformed: %v", p)
	}

	numbers := got[2]
	if numbers.AgentVersion != "2.18" || !strings.Contains(problems(numbers)["attributes"], "agent_version") {
		t.Errorf("numbers: non-string attribute should be kept as text and reported: %+v", numbers)
	}

	for i, c := range got[3:] {
		if p := problems(c); p["attributes"] == "" || p["client_id"] == "" {
			t.Errorf("element %d: problems = %v", i+3, p)
		}
	}
}

func TestDecodeRejectsDocumentsThatAreNotArrays(t *testing.T) {
	for _, body := range []string{"", "   ", `{"error":"x"}`, "<html><body>Bad Gateway</body></html>", `[{"attributes":`, "null", `"str"`} {
		_, err := DecodeConnectors([]byte(body))
		if !errors.Is(err, ErrMalformedResponse) {
			t.Errorf("DecodeConnectors(%q) error = %v, want ErrMalformedResponse", body, err)
		}
	}
	got, err := DecodeConnectors([]byte("[]"))
	if err != nil || got == nil || len(got) != 0 {
		t.Errorf("empty array: %v, %v", got, err)
	}
}

func TestDecodeEpochMillis(t *testing.T) {
	tests := []struct {
		in      string
		want    string
		wantErr bool
	}{
		{"1762174293176", "2025-11-03T12:51:33.176Z", false},
		{" 1762174293176 ", "2025-11-03T12:51:33.176Z", false},
		{"", "", false},
		{"yesterday", "", true},
		{"0", "", true},
		{"-1", "", true},
		{"1.5e12", "", true},
		{"99999999999999999999", "", true},
		{"253402300800000", "", true},
	}
	for _, tc := range tests {
		got, err := DecodeEpochMillis(tc.in)
		if (err != nil) != tc.wantErr {
			t.Errorf("DecodeEpochMillis(%q) error = %v, wantErr %v", tc.in, err, tc.wantErr)
			continue
		}
		if tc.want == "" {
			if !got.IsZero() {
				t.Errorf("DecodeEpochMillis(%q) = %v, want zero", tc.in, got)
			}
			continue
		}
		if s := got.Format(time.RFC3339Nano); s != tc.want {
			t.Errorf("DecodeEpochMillis(%q) = %s, want %s", tc.in, s, tc.want)
		}
	}
}

func TestRiskRank(t *testing.T) {
	order := []Risk{RiskOK, RiskLow, RiskMedium, "something_new", RiskHigh}
	for i := 1; i < len(order); i++ {
		if order[i-1].Rank() >= order[i].Rank() {
			t.Errorf("%q should rank below %q", order[i-1], order[i])
		}
	}
	if Risk("").Known() || Risk("critical").Known() || !RiskMedium.Known() {
		t.Error("Known() misclassifies")
	}
	s := &SecurityStatus{Summary: RiskLow, Checks: []Check{{"a", RiskOK}, {"b", "weird"}, {"c", RiskMedium}}}
	if s.Worst() != "weird" {
		t.Errorf("Worst() = %q, an unknown value must outrank medium", s.Worst())
	}
}

func TestSecurityChecksHaveLabelsAndRecommendations(t *testing.T) {
	for _, c := range SecurityChecks {
		if c.Label == "" || len(c.Recommendation) < 20 {
			t.Errorf("check %q lacks a label or recommendation", c.Key)
		}
		if got, ok := LookupCheck(c.Key); !ok || got != c {
			t.Errorf("LookupCheck(%q) = %+v, %v", c.Key, got, ok)
		}
	}
	if _, ok := LookupCheck("summary"); ok {
		t.Error("summary is not a check")
	}
}
