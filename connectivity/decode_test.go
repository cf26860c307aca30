package connectivity

import (
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/btp-connectivity-mcp/btp-connectivity-mcp/simulator"
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
	t.Parallel()
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
	t.Parallel()
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

// TestDecodeAgentType: the role is kept as reported; master and shadow in any case are roles, a
// missing or other value is a problem (the high-availability rules then skip the connector).
func TestDecodeAgentType(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		value          string // "-": absent
		master, shadow bool
		problem        bool
	}{
		{"master", true, false, false},
		{"shadow", false, true, false},
		{"MASTER", true, false, false},
		{"Shadow", false, true, false},
		{"backup", false, false, true},
		{"", false, false, true},
		{"-", false, false, true},
	} {
		attr := `,"agent_type":"` + tc.value + `"`
		if tc.value == "-" {
			attr = ""
		}
		got, err := DecodeConnectors([]byte(`[{"attributes":{"client_id":"1"` + attr + `}}]`))
		if err != nil || len(got) != 1 {
			t.Fatalf("%q: %v", tc.value, err)
		}
		c := got[0]
		_, problem := problems(c)["agent_type"]
		if c.IsMaster() != tc.master || c.IsShadow() != tc.shadow || problem != tc.problem || tc.value != "-" && c.AgentType != tc.value {
			t.Errorf("agent_type %q: master %v, shadow %v, kept %q, problems %v", tc.value, c.IsMaster(), c.IsShadow(), c.AgentType, c.Problems)
		}
	}
}

func TestDecodeRejectsDocumentsThatAreNotArrays(t *testing.T) {
	t.Parallel()
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
	t.Parallel()
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
		got, err := decodeEpochMillis(tc.in)
		if (err != nil) != tc.wantErr {
			t.Errorf("decodeEpochMillis(%q) error = %v, wantErr %v", tc.in, err, tc.wantErr)
			continue
		}
		if tc.want == "" {
			if !got.IsZero() {
				t.Errorf("decodeEpochMillis(%q) = %v, want zero", tc.in, got)
			}
			continue
		}
		if s := got.Format(time.RFC3339Nano); s != tc.want {
			t.Errorf("decodeEpochMillis(%q) = %s, want %s", tc.in, s, tc.want)
		}
	}
}

func TestRiskRank(t *testing.T) {
	t.Parallel()
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

// TestDecodeLandscapes decodes every landscape the simulator serves: each attribute arrives where
// it belongs, without problems, and a master and its shadow share their exposed systems.
func TestDecodeLandscapes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		agents []simulator.Agent
	}{
		{"sample", simulator.SampleLandscape()},
		{"sample with locations", simulator.SampleLandscapeWithLocations()},
		{"clean", simulator.CleanLandscape()},
		{"large", simulator.LargeLandscape(60, 25)},
		{"large with locations", simulator.LargeLandscapeWithLocations(60, 25)},
		{"empty", []simulator.Agent{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			body, err := json.Marshal(tc.agents)
			if err != nil {
				t.Fatal(err)
			}
			got, err := DecodeConnectors(body)
			if err != nil || len(got) != len(tc.agents) {
				t.Fatalf("decoded %d connectors of %d (%v)", len(got), len(tc.agents), err)
			}
			for i, a := range tc.agents {
				c := got[i]
				compareConnector(t, c, a.Attributes)
				if !strings.HasPrefix(tc.name, "sample") && len(c.Problems) != 0 { // the sample has a broken connector
					t.Errorf("connector %s: problems %+v", c.ClientID, c.Problems)
				}
				var want []ExposedSystem
				if json.Unmarshal([]byte(a.Attributes["exposed_systems"]), &want) != nil || len(want)+len(c.ExposedSystems) == 0 {
					continue
				}
				if !reflect.DeepEqual(c.ExposedSystems, want) {
					t.Errorf("connector %s: exposed systems %+v, want %+v", c.ClientID, c.ExposedSystems, want)
				}
			}
			if strings.HasPrefix(tc.name, "large") && &got[0].ExposedSystems[0] != &got[1].ExposedSystems[0] {
				t.Error("a master and its shadow with the same exposed systems do not share them")
			}
		})
	}
}

// TestDecodeShapes covers the JSON details of the response: escapes, null, invalid UTF-8,
// repeated keys, and documents that are cut off or followed by text.
func TestDecodeShapes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		doc      string
		clientID string // of the first connector; "-" when the document is rejected
		problem  string // the attribute of a problem the first connector must have
	}{
		{" [ {\"attributes\" : {\"client_id\":\"1\"}} ]\n", "1", "security_status"},
		{`[{"attributes":{"client_id":"1","connected_by":null,"x":"y"}}]`, "1", "connected_since"},
		{`[{"attributes":{"client_id":"caf\u00e9 \ud83d\ude00 \"q\" \/"}}]`, "café 😀 \"q\" /", ""},
		{`[{"attributes":{"client_id":"\ud800 x"}}]`, "\ufffd x", ""},
		{`[{"attributes":{"client_id":"\x"}}]`, `"\x"`, "attributes"},
		{"[{\"attributes\":{\"client_id\":\"\xff\xfe\"}}]", "\ufffd", ""},
		{`[{"attributes":{"client_id":"1","client_id":"2"}}]`, "2", ""},
		{`[{"attributes":{"cl\u0069ent_id":"1"}}]`, "1", ""},
		{`[{"Attributes":{"client_id":"1"}}]`, "", "attributes"},
		{`[{"attributes":{"client_id":1}}]`, "1", "attributes"},
		{`[{"attributes":{"client_id":"1"},"other":true}]`, "1", ""},
		{`[{"attributes":null}]`, "", "attributes"},
		{`[{"attributes":{"client_id":"1" "x":"y"}}]`, "1", "attributes"},
		{`[{"attributes":{"client_id":"1","exposed_systems":"[{\"host\":\"h\\u00e4:1\",\"description\":\"a \\\"b\\\"\"}]"}}]`, "1", ""},
		{`[{"attributes":{"client_id":"1","exposed_systems":"[{\"host\":\"a\"}] []"}}]`, "1", "exposed_systems"},
		{`[{"attributes":{"client_id":"1","exposed_systems":"{\"host\":\"a\"}"}}]`, "1", "exposed_systems"},
		{`[{"attributes":{"client_id":"1","exposed_systems":"[{\"host\":tru}]"}}]`, "1", "exposed_systems"},
		{`[{"attributes":{"client_id":"1","exposed_systems":[{"host":"a"}]}}]`, "1", "attributes"},
		{`[{"attributes":{"client_id":"1","security_status":"{\"summary\":\"ok\"} x"}}]`, "1", "security_status"},
		{`[{"attributes":{"client_id":"1"}}] x`, "-", ""},
		{`[{"attributes":{"client_id":"1"}},]`, "-", ""},
		{`[{"attributes":{"client_id":"1"`, "-", ""},
		{`[1 2]`, "-", ""},
		{`[{"attributes":{"client_id":"1","agent_type":"backup"}}]`, "1", "agent_type"},
		{`[{"attributes":{"client_id":"1"}}]`, "1", "agent_type"},
	} {
		t.Run(tc.doc, func(t *testing.T) {
			t.Parallel()
			got, err := DecodeConnectors([]byte(tc.doc))
			if tc.clientID == "-" {
				if !errors.Is(err, ErrMalformedResponse) {
					t.Fatalf("DecodeConnectors = %+v, %v; want ErrMalformedResponse", got, err)
				}
				return
			}
			if err != nil || len(got) != 1 {
				t.Fatalf("DecodeConnectors = %+v, %v; want one connector", got, err)
			}
			if got[0].ClientID != tc.clientID {
				t.Errorf("client ID = %q, want %q", got[0].ClientID, tc.clientID)
			}
			if tc.problem != "" && !slices.ContainsFunc(got[0].Problems, func(p Problem) bool { return p.Attribute == tc.problem }) {
				t.Errorf("no problem with %s: %+v", tc.problem, got[0].Problems)
			}
		})
	}
}

func TestDecodeExposedSystemsShapes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		doc  string
		want []ExposedSystem // nil: an error
	}{
		{`[]`, []ExposedSystem{}},
		{` [ {} ] `, []ExposedSystem{{}}},
		{`[{"protocol":"HTTPS","host":"s4h:443","description":"ERP","type":"abapSys","status":"exposed"},{"host":"b:1"}]`,
			[]ExposedSystem{{Protocol: "HTTPS", Host: "s4h:443", Description: "ERP", Type: "abapSys", Status: "exposed"}, {Host: "b:1"}}},
		{`[{"protocol":null,"host":"x\"y\u00e4","description":"\ud83d\ude00","status":"Exposed"}]`,
			[]ExposedSystem{{Host: "x\"yä", Description: "😀", Status: "Exposed"}}},
		{"[{\"host\":\"\xc3\x28\"}]", []ExposedSystem{{Host: "\ufffd("}}},
		{`[{"host":"a","host":"b"}]`, []ExposedSystem{{Host: "b"}}},
		{`[{"host":"a","port":1,"tags":["x"],"note":null}]`, []ExposedSystem{{Host: "a", Extra: map[string]any{"port": 1.0, "tags": []any{"x"}, "note": nil}}}},
		{`[{"host":5}]`, []ExposedSystem{{Extra: map[string]any{"host": 5.0}}}},
		{`[{"ho\u0073t":"a"}]`, []ExposedSystem{{Host: "a"}}},
		{`[{"host":"a"}`, nil},
		{`{"host":"a"}`, nil},
		{`[{"host":"a"}] []`, nil},
	} {
		t.Run(tc.doc, func(t *testing.T) {
			t.Parallel()
			got, err := decodeExposedSystems([]byte(tc.doc), map[string]string{})
			if (err != nil) != (tc.want == nil) || !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("decodeExposedSystems = %+v (%v), want %+v", got, err, tc.want)
			}
		})
	}
	got, err := decodeExposedSystems([]byte(`[1, {"host":"a"}, null]`), map[string]string{})
	if len(got) != 1 || err == nil || !strings.Contains(err.Error(), "2 of 3") {
		t.Errorf("elements that are not objects: %+v, %v", got, err)
	}
}

func TestDecodeSecurityStatusShapes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		doc     string
		summary Risk
		checks  []string // keys in order; nil: no status
		bad     string   // in the error
	}{
		{`{"payload_trace":"ok","summary":"ok","zeta":"ok","ciphers":"ok","alpha":"x"}`, RiskOK, []string{"ciphers", "payload_trace", "alpha", "zeta"}, ""},
		{`{"summary":"ok","ciphers":7,"cpic_trace":null}`, RiskOK, []string{"ciphers", "cpic_trace"}, "ciphers, cpic_trace"},
		{`{"ciphers":"ok","ciphers":"high_risk"}`, "", []string{"ciphers"}, "summary"},
		{`{"summary":"ok"`, "", nil, "not a JSON object"},
		{`[]`, "", nil, "not a JSON object"},
		{` `, "", nil, "empty"},
	} {
		t.Run(tc.doc, func(t *testing.T) {
			t.Parallel()
			got, err := decodeSecurityStatus([]byte(tc.doc))
			if (err == nil) != (tc.bad == "") || (err != nil && !strings.Contains(err.Error(), tc.bad)) {
				t.Errorf("error = %v, want one naming %q", err, tc.bad)
			}
			if (got == nil) != (tc.checks == nil) {
				t.Fatalf("status = %+v", got)
			}
			if got == nil {
				return
			}
			var keys []string
			for _, c := range got.Checks {
				keys = append(keys, c.Key)
			}
			if got.Summary != tc.summary || !reflect.DeepEqual(keys, tc.checks) {
				t.Errorf("status = %+v, want summary %q and checks %v", got, tc.summary, tc.checks)
			}
		})
	}
}

// A Reader does not decode again what the previous answer said in the same words: such a
// connector is the previous one, sharing its memory. A changed connector is decoded anew, and one
// without a client ID (whose problem names its place) always is.
func TestReaderSharesUnchangedConnectors(t *testing.T) {
	t.Parallel()
	const (
		same    = `{"attributes":{"client_id":"1","agent_version":"2.18.2","exposed_systems":"[{\"protocol\":\"HTTP\",\"host\":\"a:1\"}]"}}`
		old     = `{"attributes":{"client_id":"2","agent_version":"2.17.0"}}`
		updated = `{"attributes":{"client_id":"2","agent_version":"2.18.2"}}`
		noID    = `{"attributes":{"agent_version":"2.18.2"}}`
	)
	r := NewReader()
	first, err := r.Decode(strings.NewReader("[" + same + "," + old + "," + noID + "]"))
	if err != nil {
		t.Fatal(err)
	}
	second, err := r.Decode(strings.NewReader("[" + noID + "," + same + "," + updated + "]"))
	if err != nil {
		t.Fatal(err)
	}
	if &second[1].ExposedSystems[0] != &first[0].ExposedSystems[0] {
		t.Error("the unchanged connector was decoded again")
	}
	if second[2].AgentVersion != "2.18.2" || first[1].AgentVersion != "2.17.0" {
		t.Errorf("changed connector: %q after %q, want 2.18.2 after 2.17.0", second[2].AgentVersion, first[1].AgentVersion)
	}
	if got := problems(second[0])["client_id"]; !strings.Contains(got, "element 0") {
		t.Errorf("connector without a client ID: problem %q, want it to name element 0", got)
	}
	if got := problems(first[2])["client_id"]; !strings.Contains(got, "element 2") {
		t.Errorf("connector without a client ID: problem %q, want it to name element 2", got)
	}
}

// A document is read as it arrives: a reader that fails in the middle of the array fails the
// decoding with its own error, not as a malformed answer.
func TestReaderReturnsTheBodysError(t *testing.T) {
	t.Parallel()
	cut := errors.New("connection reset")
	body := io.MultiReader(strings.NewReader(`[{"attributes":{"client_id":"1"}},{"attri`), iotest.ErrReader(cut))
	if _, err := NewReader().Decode(body); !errors.Is(err, cut) || errors.Is(err, ErrMalformedResponse) {
		t.Errorf("error = %v, want the body's own error", err)
	}
}

// problems maps the attributes of c's problems to their messages.
func problems(c Connector) map[string]string {
	m := map[string]string{}
	for _, p := range c.Problems {
		m[p.Attribute] = p.Message
	}
	return m
}
